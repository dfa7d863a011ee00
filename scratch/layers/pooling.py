"""Max and average pooling over strided windows (no im2col copy for the forward pass)."""

from __future__ import annotations

import numpy as np

from scratch._checks import check_pair
from scratch.layers import im2col as ic
from scratch.layers.base import Layer


class _Pool2D(Layer):
    """Shared window arithmetic for NCHW pooling.

    Args:
        pool_size: k or (KH, KW).
        stride: s or (SH, SW); ``None`` means ``pool_size`` (Keras and PyTorch; the textbook's
            ``Pooling`` defaults to stride 1, its networks pass 2).
        padding: int, (ph, pw), ``"valid"`` or ``"same"`` (Keras rule).
        truncate: allow an output size that does not divide exactly (default False raises).
        dtype: ``"float32"`` or ``"float64"``.
    """

    _pad_value = 0.0

    def __init__(self, pool_size, *, stride=None, padding=0, truncate=False, dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.pool_size = check_pair(pool_size, "pool_size")
        self.stride = self.pool_size if stride is None else check_pair(stride, "stride")
        ic.resolve_padding(padding, (1, 1), (1, 1), (1, 1))  # validate the argument now
        self.padding = padding
        self.truncate = bool(truncate)

    def pads_for(self, in_hw: tuple[int, int]) -> ic.Pads:
        """(top, bottom, left, right) padding used for an input of spatial size ``in_hw``."""
        return ic.resolve_padding(self.padding, in_hw, self.pool_size, self.stride)

    def _windows(self, x: np.ndarray) -> np.ndarray:
        self._check_input(x, ndim=4)
        h, w = x.shape[2:]
        pads = self.pads_for((h, w))
        out_hw = ic.output_size((h, w), self.pool_size, self.stride, pads, truncate=self.truncate)
        xp = ic.pad(x, pads, value=self._pad_value)
        self._geom = (xp.shape, pads, out_hw)
        return ic.windows(xp, self.pool_size, self.stride, out_hw)  # (N, C, OH, OW, KH, KW) view

    def _scatter(self, per_offset) -> np.ndarray:
        """dx = unpad(sum over kernel offsets (i, j) of per_offset(i, j) placed at that offset)."""
        padded_shape, pads, (oh, ow) = self._geom
        (kh, kw), (sh, sw) = self.pool_size, self.stride
        dxp = np.zeros(padded_shape, dtype=self.dtype)
        for i in range(kh):
            for j in range(kw):
                dxp[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += per_offset(i, j)
        return np.ascontiguousarray(ic.unpad(dxp, pads))


class MaxPool2D(_Pool2D):
    """y = max over each window; the gradient goes to the first maximum in row-major window order
    (ties broken like ``np.argmax``, Keras/TF and PyTorch on CPU). Padding cells are -inf, so they
    never win: Keras ``"same"`` and PyTorch's implicit padding behave the same way."""

    _pad_value = -np.inf

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        win = self._windows(x)
        n, c, oh, ow, kh, kw = win.shape
        flat = win.reshape(n, c, oh, ow, kh * kw)  # copy: overlapping windows cannot be a view
        self._argmax = flat.argmax(axis=-1)  # first occurrence of the maximum
        y = np.take_along_axis(flat, self._argmax[..., None], axis=-1)[..., 0]
        self._out_shape = y.shape
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self._check_upstream(dy)
        kw = self.pool_size[1]
        zero = np.zeros((), dtype=dy.dtype)
        return self._scatter(lambda i, j: np.where(self._argmax == i * kw + j, dy, zero))


class AvgPool2D(_Pool2D):
    """y = mean over each window.

    Args:
        count_include_pad: divide by the full window size even where it overlaps padding
            (PyTorch ``AvgPool2d`` default True); False divides by the number of real cells
            (Keras ``"same"``). Default False. Other arguments as ``_Pool2D``.
    """

    def __init__(self, pool_size, *, stride=None, padding=0, truncate=False, count_include_pad=False,
                 dtype="float64") -> None:
        super().__init__(pool_size, stride=stride, padding=padding, truncate=truncate, dtype=dtype)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        win = self._windows(x)
        kh, kw = self.pool_size
        padded_shape, pads, out_hw = self._geom
        if self.count_include_pad or not any(pads):
            count = np.asarray(kh * kw, dtype=self.dtype)
        else:  # number of real (unpadded) cells in each window: (OH, OW)
            ones = ic.pad(np.ones((1, 1) + x.shape[2:], dtype=self.dtype), pads)
            count = ic.windows(ones, self.pool_size, self.stride, out_hw).sum(axis=(-2, -1))[0, 0]
        self._count = count
        y = win.sum(axis=(-2, -1)) / count
        self._out_shape = y.shape
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self._check_upstream(dy)
        share = dy / self._count
        return self._scatter(lambda i, j: share)
