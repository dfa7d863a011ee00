"""The textbook's ``common/util.py``: im2col / col2im, output sizes, smoothing and shuffling.

``im2col`` and ``col2im`` have the book's signatures and matrix layout and are built on
``scratch.layers.im2col`` (the copies and sums are the same, so float64 results are bit for bit the
book's). Unlike the book, they keep float32 input in float32 (the book always returns float64).
"""

from __future__ import annotations

import math

import numpy as np

from scratch._checks import check_array
from scratch.layers import im2col as ic

__all__ = ["col2im", "conv_output_size", "im2col", "shuffle_dataset", "smooth_curve"]


def smooth_curve(x) -> np.ndarray:
    """Smooth a loss curve for plotting: a normalised Kaiser window (length 11, beta 2) slid over x.

    The ends are mirrored (10 values each side) before the convolution; the result has x's length.
    Needs at least 11 values.
    """
    window_len = 11
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1 or arr.size < window_len:
        raise ValueError(f"x: expected a 1-D sequence of at least {window_len} values, got shape {arr.shape}")
    padded = np.r_[arr[window_len - 1:0:-1], arr, arr[-1:-window_len:-1]]  # mirror 10 values at each end
    w = np.kaiser(window_len, 2)
    y = np.convolve(w / w.sum(), padded, mode="valid")
    return y[5:len(y) - 5]


def shuffle_dataset(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, t) reordered by one ``np.random.permutation`` of the samples (NumPy's global generator).

    Args:
        x: (N, ...) data.
        t: (N, ...) labels.
    """
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim == 0 or t.ndim == 0 or len(x) != len(t):
        raise ValueError(f"t: expected as many labels as samples in x ({x.shape}), got shape {t.shape}")
    permutation = np.random.permutation(x.shape[0])  # noqa: NPY002 (the book's global generator)
    return x[permutation], t[permutation]


def conv_output_size(input_size, filter_size, stride=1, pad=0) -> float:
    """(input_size + 2*pad - filter_size) / stride + 1, a float as in the book (true division).

    ``Convolution`` and ``Pooling`` floor it (the trailing rows and columns that do not fill a
    window are dropped); a non-integer value here means that happens.
    """
    return (input_size + 2 * pad - filter_size) / stride + 1


def _geometry(shape: tuple[int, ...], filter_h: int, filter_w: int, stride: int, pad: int):
    """(padding (top, bottom, left, right), (OH, OW)): the book's floor division, checked."""
    pads = ic.resolve_padding(pad, shape[2:], (filter_h, filter_w), (stride, stride))
    kernel, strides = (int(filter_h), int(filter_w)), (int(stride), int(stride))
    return pads, kernel, strides, ic.output_size(shape[2:], kernel, strides, pads, truncate=True)


def im2col(input_data: np.ndarray, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """(N, C, H, W) images -> (N*OH*OW, C*FH*FW) matrix: one row per output pixel.

    Rows in (n, oh, ow) order, columns in (c, fh, fw) order; the input is zero-padded by ``pad``
    on every side. OH = (H + 2*pad - FH) // stride + 1 (floored: rows and columns that do not fill
    a window are dropped, as the book does). ``scratch.layers.im2col.im2col``.

    Raises:
        ValueError: not a 4-D float array, or a filter larger than the padded input.
    """
    check_array(input_data, "input_data", ndim=4)
    if input_data.dtype.kind != "f":
        raise ValueError(f"input_data: expected float images, got {input_data.dtype.name}")
    pads, kernel, strides, out_hw = _geometry(input_data.shape, filter_h, filter_w, stride, pad)
    return ic.im2col(ic.pad(input_data, pads), kernel, strides, out_hw)


def col2im(col: np.ndarray, input_shape, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Adjoint of ``im2col``: (N*OH*OW, C*FH*FW) -> (N, C, H, W), overlapping windows summed.

    Contributions are added offset by offset (fh outer, fw inner) as the book adds them, then the
    padding is cropped. ``scratch.layers.im2col.col2im``.

    Args:
        col: the matrix, C*FH*FW columns in (c, fh, fw) order.
        input_shape: (N, C, H, W) of the images ``im2col`` was given.
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 4:
        raise ValueError(f"input_shape: expected (N, C, H, W), got {input_shape!r}")
    pads, kernel, strides, out_hw = _geometry(shape, filter_h, filter_w, stride, pad)
    n, c = shape[:2]
    expected = (n * out_hw[0] * out_hw[1], c * kernel[0] * kernel[1])
    col = np.asarray(col)
    if col.size != math.prod(expected) or col.dtype.kind != "f":
        raise ValueError(f"col: expected a float matrix of shape {expected} for input_shape {shape}, got "
                         f"{col.dtype.name} array of shape {col.shape}")
    padded = (n, c, shape[2] + pads[0] + pads[1], shape[3] + pads[2] + pads[3])
    img = ic.col2im(col.reshape(expected), padded, kernel, strides, out_hw)
    return ic.unpad(img, pads)
