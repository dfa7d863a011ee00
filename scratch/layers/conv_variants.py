"""Conv1D and DepthwiseConv2D: Conv2D with a unit height, and Conv2D with one group per input channel."""

from __future__ import annotations

import numpy as np

from scratch import initializers
from scratch._checks import check_choice, check_pair, check_positive_int
from scratch.layers import im2col as ic
from scratch.layers.conv import Conv2D


class Conv1D(Conv2D):
    """1-D cross-correlation on (N, C, L) sequences, kernel W (F, C/G, K), bias (F,).

    Forward:  y[n, f, o] = b[f] + sum_(c in group of f, k) W[f, c - g*C/G, k] * xp[n, c, o*S + k*D]
              computed as the Conv2D of the (N, C, 1, L) view with a (1, K) kernel (same products)
    Backward: the Conv2D backward of that view; dx (N, C, L), grads W (F, C/G, K) and b (F,)

    Framework notes: PyTorch ``nn.Conv1d`` has the same (F, C/G, K) weight on (N, C, L) data. Keras
    ``Conv1D`` runs on (N, L, C) with a kernel (K, C/G, F) (``W.transpose(2, 1, 0)``); its
    ``"causal"`` padding pads D*(K - 1) zeros on the left only (PyTorch: ``F.pad`` first). Keras
    ``"same"`` puts the odd extra zero on the right, as in 2-D.

    Args:
        in_channels: C.
        filters: F.
        kernel_size: K.
        stride: S (default 1).
        padding: int p (p zeros on each side), ``"valid"``, ``"same"`` (Keras rule) or ``"causal"``
            (default 0).
        dilation: D (default 1).
        groups: G, dividing in_channels and filters (default 1).
        truncate, W, b, weight_init, bias_init, rng, dtype: as ``Conv2D`` (fans C/G*K and F*K).
    """

    per_sample = True

    def __init__(self, in_channels: int, filters: int, kernel_size: int, *, stride: int = 1,
                 padding: int | str = 0, dilation: int = 1, groups: int = 1, truncate: bool = False,
                 W: np.ndarray | None = None, b: np.ndarray | None = None, weight_init="glorot_uniform",
                 bias_init="zeros", rng: np.random.Generator | None = None, dtype="float64") -> None:
        k = check_positive_int(kernel_size, "kernel_size")
        if isinstance(padding, str):
            check_choice(padding, "padding", ("valid", "same", "causal"))
            pad2d: int | tuple[int, int] | str = "valid" if padding == "causal" else padding
        elif isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
            raise ValueError(f"padding: expected an int >= 0, 'valid', 'same' or 'causal', got {padding!r}")
        else:
            pad2d = (0, int(padding))
        w4 = None if W is None else np.asarray(W)[:, :, None, :]  # (F, C/G, K) -> (F, C/G, 1, K)
        super().__init__(in_channels, filters, (1, k), stride=(1, check_positive_int(stride, "stride")),
                         padding=pad2d, dilation=(1, check_positive_int(dilation, "dilation")), groups=groups,
                         truncate=truncate, W=w4, b=b, weight_init=weight_init, bias_init=bias_init, rng=rng,
                         dtype=dtype)
        self.params["W"] = self.params["W"].reshape(self.filters, -1, k)  # (F, C/G, 1, K) -> (F, C/G, K)
        self.grads["W"] = np.zeros_like(self.params["W"])
        self.padding = padding

    def pads_for(self, in_hw: tuple[int, int] | int) -> ic.Pads:
        """(top, bottom, left, right) padding of the (N, C, 1, L) view (top = bottom = 0)."""
        length = in_hw if isinstance(in_hw, int) else in_hw[-1]
        if self.padding == "causal":
            return (0, 0, self.dilation[1] * (self.kernel_size[1] - 1), 0)
        pad2d = self.padding if isinstance(self.padding, str) else (0, self.padding)
        return ic.resolve_padding(pad2d, (1, length), ic.effective_kernel(self.kernel_size, self.dilation),
                                  self.stride)

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x, ndim=3)
        y = super()._forward(x[:, :, None, :], training=training)  # (N, C, L) -> (N, C, 1, L), a view
        y = y.reshape(y.shape[0], y.shape[1], y.shape[3])  # (N, F, 1, OL) -> (N, F, OL)
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        dx = super()._backward(dy[:, :, None, :], need_dx=need_dx)  # (N, F, OL) -> (N, F, 1, OL)
        return None if dx is None else dx.reshape(dx.shape[0], dx.shape[1], dx.shape[3])  # -> (N, C, L)


class DepthwiseConv2D(Conv2D):
    """Depthwise 2-D convolution: each input channel c convolved with its own M kernels
    (M = depth_multiplier), kernel W (C*M, 1, KH, KW), bias (C*M,).

    Forward:  y[n, c*M + m] = b[c*M + m] + W[c*M + m, 0] (*) x[n, c]     ((*): cross-correlation)
              = Conv2D with groups = C and C*M filters (Howard et al. 2017, MobileNets)

    Framework notes: PyTorch ``nn.Conv2d(C, C*M, k, groups=C)`` is this layer with the same weight.
    Keras ``DepthwiseConv2D(kernel_size, depth_multiplier=M)`` holds a kernel (KH, KW, C, M) and orders
    the outputs c*M + m as well (``W.reshape(C, M, KH, KW).transpose(2, 3, 0, 1)``). Default
    initialisation differs: Keras's glorot_uniform sees the (KH, KW, C, M) kernel, fan_in =
    C*KH*KW and fan_out = M*KH*KW; PyTorch's (C*M, 1, KH, KW) weight has fan_in = KH*KW and fan_out
    = C*M*KH*KW. The fans here are Keras's (glorot: the same sum when M = 1; He: C times apart).

    Args:
        in_channels: C.
        kernel_size: k or (KH, KW).
        depth_multiplier: M (default 1).
        stride, padding, dilation, truncate, W, b, weight_init, bias_init, rng, dtype: as ``Conv2D``.
    """

    per_sample = True

    def __init__(self, in_channels: int, kernel_size: int | tuple[int, int], *, depth_multiplier: int = 1,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                 dilation: int | tuple[int, int] = 1, truncate: bool = False, W: np.ndarray | None = None,
                 b: np.ndarray | None = None, weight_init="glorot_uniform", bias_init="zeros",
                 rng: np.random.Generator | None = None, dtype="float64") -> None:
        c = check_positive_int(in_channels, "in_channels")
        self.depth_multiplier = check_positive_int(depth_multiplier, "depth_multiplier")
        m = self.depth_multiplier
        if W is None:  # draw with Keras's fans for its (KH, KW, C, M) kernel
            kh, kw = check_pair(kernel_size, "kernel_size")
            W = initializers.get(weight_init)((c * m, 1, kh, kw), fan_in=c * kh * kw, fan_out=m * kh * kw, rng=rng,
                                              dtype=dtype)
        super().__init__(c, c * m, kernel_size, stride=stride, padding=padding, dilation=dilation, groups=c,
                         truncate=truncate, W=W, b=b, weight_init=weight_init, bias_init=bias_init, rng=rng,
                         dtype=dtype)
