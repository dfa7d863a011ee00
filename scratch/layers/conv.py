"""Conv2D by im2col and one matrix product."""

from __future__ import annotations

import numpy as np

from scratch import initializers
from scratch._checks import check_pair, check_positive_int
from scratch.layers import im2col as ic
from scratch.layers.base import Layer


class Conv2D(Layer):
    """2-D cross-correlation on NCHW images, kernel W of shape (F, C, KH, KW) (OIHW), bias (F,).

    Forward:  col = im2col(pad(x))                      # (N*OH*OW, C*KH*KW)
              y   = col @ W.reshape(F, -1).T + b        # (N*OH*OW, F) -> (N, F, OH, OW)
    Backward: dW = dy2.T @ col, db = dy2.sum(0), dx = unpad(col2im(dy2 @ W2))

    Framework notes: PyTorch ``nn.Conv2d`` uses the same OIHW kernel on NCHW data. Keras
    ``Conv2D`` works on NHWC with an HWIO kernel (``W.transpose(2, 3, 1, 0)``). Keras ``"same"``
    puts the odd extra padding row/column at the bottom/right; PyTorch ``padding=1`` with stride 2
    gives the same output shape but different numbers, and PyTorch ``padding="same"`` refuses
    stride > 1 (explicit ``F.pad`` with the TF amounts reproduces Keras).

    Args:
        in_channels: C.
        filters: F.
        kernel_size: k or (KH, KW).
        stride: s or (SH, SW) (default 1).
        padding: int, (ph, pw), ``"valid"`` or ``"same"`` (Keras rule; default 0).
        truncate: allow an output size that does not divide exactly (drop trailing rows/columns);
            default False raises ValueError.
        W, b: explicit initial values; otherwise drawn with ``weight_init`` / ``bias_init``.
        weight_init, bias_init: initializer names or callables (defaults ``"glorot_uniform"``,
            ``"zeros"``); fans are fan_in = C*KH*KW, fan_out = F*KH*KW as both frameworks compute.
        rng: generator for random initializers.
        dtype: ``"float32"`` or ``"float64"``.
    """

    def __init__(
        self,
        in_channels: int,
        filters: int,
        kernel_size: int | tuple[int, int],
        *,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        truncate: bool = False,
        W: np.ndarray | None = None,
        b: np.ndarray | None = None,
        weight_init="glorot_uniform",
        bias_init="zeros",
        rng: np.random.Generator | None = None,
        dtype="float64",
    ) -> None:
        super().__init__(dtype=dtype)
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = check_pair(kernel_size, "kernel_size")
        self.stride = check_pair(stride, "stride")
        ic.resolve_padding(padding, (1, 1), (1, 1), (1, 1))  # validate the argument now
        self.padding = padding
        self.truncate = bool(truncate)
        kh, kw = self.kernel_size
        shape = (self.filters, self.in_channels, kh, kw)
        fans = {
            "fan_in": self.in_channels * kh * kw,
            "fan_out": self.filters * kh * kw,
            "rng": rng,
            "dtype": self.dtype,
        }
        if W is None:
            W = initializers.get(weight_init)(shape, **fans)
        if b is None:
            b = initializers.get(bias_init)((self.filters,), **fans)
        self._param("W", W, shape)
        self._param("b", b, (self.filters,))

    def pads_for(self, in_hw: tuple[int, int]) -> ic.Pads:
        """(top, bottom, left, right) padding used for an input of spatial size ``in_hw``."""
        return ic.resolve_padding(self.padding, in_hw, self.kernel_size, self.stride)

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x, ndim=4)
        n, c, h, w = x.shape
        if c != self.in_channels:
            raise ValueError(f"x: expected {self.in_channels} channels (N, C, H, W), got shape {x.shape}")
        pads = self.pads_for((h, w))
        out_hw = ic.output_size((h, w), self.kernel_size, self.stride, pads, truncate=self.truncate)
        xp = ic.pad(x, pads)
        col = ic.im2col(xp, self.kernel_size, self.stride, out_hw)  # (N*OH*OW, C*KH*KW)
        w2 = self.params["W"].reshape(self.filters, -1)  # (F, C, KH, KW) -> (F, C*KH*KW)
        y2 = col @ w2.T + self.params["b"]  # (N*OH*OW, F)
        self._cache = (col, xp.shape, pads, out_hw)
        y = np.ascontiguousarray(y2.reshape(n, *out_hw, self.filters).transpose(0, 3, 1, 2))  # -> NCHW
        self._out_shape = y.shape
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Overwrite ``grads['W']``, ``grads['b']``; return dx (N, C, H, W)."""
        self._check_upstream(dy)
        col, padded_shape, pads, out_hw = self._cache
        dy2 = dy.transpose(0, 2, 3, 1).reshape(-1, self.filters)  # (N, F, OH, OW) -> (N*OH*OW, F)
        w2 = self.params["W"].reshape(self.filters, -1)
        self.grads["W"] = (dy2.T @ col).reshape(self.params["W"].shape)
        self.grads["b"] = dy2.sum(axis=0)
        dcol = dy2 @ w2  # (N*OH*OW, C*KH*KW)
        dxp = ic.col2im(dcol, padded_shape, self.kernel_size, self.stride, out_hw)
        return np.ascontiguousarray(ic.unpad(dxp, pads))
