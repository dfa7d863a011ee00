"""Sliding windows, padding arithmetic, im2col and col2im for NCHW images.

``windows`` is a zero-copy strided view; ``im2col`` copies it once into the matrix BLAS wants;
``col2im`` scatters back with one vectorised add per kernel offset (KH*KW adds), never a Python
loop over the batch or over output pixels.

Two layouts of the same matrix:

* ``im2col``: (N*OH*OW, C*KH*KW), one row per output pixel (the textbook's layout);
* ``im2col_batched``: (N, C*KH*KW, OH*OW), one matrix per image. ``W2 @ cols`` (W2 the
  (F, C*KH*KW) kernel matrix) is then a stack of N matrix products whose result (N, F, OH*OW) is
  already NCHW, so the forward pass needs no transpose copy, and dy (N, F, OH*OW) is a free view
  of an NCHW gradient. The copy that builds it runs along OW (contiguous in the input) instead of
  gathering KW-element runs, which is several times faster.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from scratch._checks import check_choice, check_pair

Pads = tuple[int, int, int, int]  # (top, bottom, left, right)


def resolve_padding(
    padding: int | tuple[int, int] | str,
    in_hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
) -> Pads:
    """Translate a padding argument into explicit (top, bottom, left, right) amounts.

    * int p or (ph, pw): symmetric, as PyTorch and the textbook.
    * ``"valid"``: no padding.
    * ``"same"``: TensorFlow/Keras rule, out = ceil(H / s), P = max((out - 1)*s + k - H, 0),
      top = P // 2, bottom = P - top: the odd extra row/column goes to the bottom/right, which a
      symmetric integer padding cannot express (k even, or s = 2 on an even H).
    """
    if isinstance(padding, str):
        check_choice(padding, "padding", ("valid", "same"))
        if padding == "valid":
            return (0, 0, 0, 0)
        pads = []
        for size, k, s in zip(in_hw, kernel, stride, strict=True):
            out = -(-size // s)  # ceil(size / s)
            total = max((out - 1) * s + k - size, 0)
            pads.extend([total // 2, total - total // 2])
        return (pads[0], pads[1], pads[2], pads[3])
    ph, pw = check_pair(padding, "padding", minimum=0)
    return (ph, ph, pw, pw)


def output_size(
    in_hw: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int], pads: Pads, *, truncate: bool,
    kernel_name: str = "kernel_size",
) -> tuple[int, int]:
    """(OH, OW) = (H + top + bottom - KH) / SH + 1, and likewise for W.

    Raises ValueError if the kernel is larger than the padded input, or if the division is not
    exact and ``truncate`` is False. With ``truncate=True`` the size is floored and the trailing
    rows/columns that do not fill a window are dropped, as Keras ``"valid"``, PyTorch and the
    textbook's ``Convolution``, ``Pooling`` and ``im2col`` do silently. ``kernel_name`` is the
    argument the message names (``pool_size`` for pools).
    """
    out = []
    what = "pool" if kernel_name == "pool_size" else "kernel"
    for axis, size, k, s, (p0, p1) in zip(
        ("height", "width"), in_hw, kernel, stride, (pads[:2], pads[2:]), strict=True
    ):
        padded = size + p0 + p1
        if k > padded:
            raise ValueError(
                f"{kernel_name}: the {what} {axis} {k} is larger than the padded input {axis} {padded} "
                f"(input {size}, padding {p0}+{p1}); use a smaller {kernel_name} or more padding"
            )
        if (padded - k) % s and not truncate:
            raise ValueError(
                f"stride: the output {axis} ({padded} - {k}) / {s} + 1 is not an integer "
                f"(input {size}, padding {p0}+{p1}); change padding or stride, or pass truncate=True "
                "to drop the trailing rows/columns as Keras 'valid' and PyTorch do"
            )
        out.append((padded - k) // s + 1)
    return out[0], out[1]


def pad(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    """Pad the two spatial axes of an NCHW array (returns ``x`` itself when there is no padding)."""
    if not any(pads):
        return x
    top, bottom, left, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def effective_kernel(kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """The span (d * (k - 1) + 1) of a dilated kernel along each axis."""
    return (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)


def windows(
    xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> np.ndarray:
    """Read-only strided view (N, C, OH, OW, KH, KW) of a padded NCHW array; no copy. Kernel cell
    (i, j) of window (oh, ow) is xp[..., oh * SH + i * DH, ow * SW + j * DW] (DH, DW: dilation)."""
    n, c = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    shape = (n, c, out_hw[0], out_hw[1], kernel[0], kernel[1])
    strides = (sn, sc, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1])
    return as_strided(xp, shape=shape, strides=strides, writeable=False)


def im2col(
    xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int]
) -> np.ndarray:
    """Padded (N, C, Hp, Wp) -> (N*OH*OW, C*KH*KW), rows in (n, oh, ow) order, columns (c, kh, kw)."""
    win = windows(xp, kernel, stride, out_hw)
    n, c, oh, ow, kh, kw = win.shape
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)  # one copy


def im2col_batched(
    xp: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    out_hw: tuple[int, int],
    *,
    ones_row: bool = False,
    dilation: tuple[int, int] = (1, 1),
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Padded (N, C, Hp, Wp) -> (N, C*KH*KW, OH*OW): rows (c, kh, kw), columns (oh, ow), per image.

    With ``ones_row=True`` a last row of ones is appended, (N, C*KH*KW + 1, OH*OW), so that a bias
    rides along in the matrix product as one more kernel column ([W2 | b] @ [col; 1]). ``out``: a
    contiguous array of that shape and xp's dtype to fill (a slice of a larger batch), else a new one.
    """
    win = windows(xp, kernel, stride, out_hw, dilation)
    n, c, oh, ow, kh, kw = win.shape
    k = c * kh * kw
    if out is None:
        out = np.empty((n, k + int(ones_row), oh * ow), dtype=xp.dtype)
    # (N, C, OH, OW, KH, KW) -> (N, C, KH, KW, OH, OW), copied once into the first k rows
    out[:, :k].reshape(n, c, kh, kw, oh, ow)[...] = win.transpose(0, 1, 4, 5, 2, 3)
    if ones_row:
        out[:, k] = 1
    return out


def col2im_batched(
    cols: np.ndarray,
    padded_shape: tuple[int, int, int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    out_hw: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Adjoint of ``im2col_batched``: (N, C*KH*KW, OH*OW) -> padded (N, C, Hp, Wp), overlaps summed.

    One strided add per kernel offset (KH*KW of them), each over the whole batch; with a stride
    of at least the kernel size (and no dilation) the windows do not overlap and each offset is a
    plain copy. ``out``: a zero-filled array of ``padded_shape`` to write into, else a new one.
    """
    n, c = padded_shape[:2]
    (kh, kw), (sh, sw), (oh, ow), (dh, dw) = kernel, stride, out_hw, dilation
    slabs = cols.reshape(n, c, kh, kw, oh, ow)  # (N, C*KH*KW, OH*OW) -> (N, C, KH, KW, OH, OW)
    overlap = sh < kh or sw < kw or (dh, dw) != (1, 1)
    if out is None:
        out = np.zeros(padded_shape, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            # (N, C, OH, OW) view
            dst = out[:, :, i * dh : i * dh + sh * oh : sh, j * dw : j * dw + sw * ow : sw]
            if overlap:
                dst += slabs[:, :, i, j]
            else:
                dst[...] = slabs[:, :, i, j]
    return out


def col2im(
    cols: np.ndarray,
    padded_shape: tuple[int, int, int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    out_hw: tuple[int, int],
) -> np.ndarray:
    """Adjoint of ``im2col``: (N*OH*OW, C*KH*KW) -> padded (N, C, Hp, Wp), overlaps summed."""
    n = padded_shape[0]
    p = out_hw[0] * out_hw[1]
    batched = cols.reshape(n, p, -1).transpose(0, 2, 1)  # (N*OH*OW, CKK) -> (N, CKK, OH*OW), a view
    return col2im_batched(batched, padded_shape, kernel, stride, out_hw)


def unpad(xp: np.ndarray, pads: Pads) -> np.ndarray:
    """Inverse of ``pad``: crop the spatial padding (a view)."""
    top, bottom, left, right = pads
    return xp[:, :, top : xp.shape[2] - bottom, left : xp.shape[3] - right]
