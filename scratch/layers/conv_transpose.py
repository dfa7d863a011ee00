"""Conv2DTranspose: the adjoint of Conv2D's input map, by one matrix product and col2im."""

from __future__ import annotations

import numpy as np

from scratch import initializers
from scratch._checks import check_choice, check_pair, check_positive_int
from scratch.layers import im2col as ic
from scratch.layers.base import Layer
from scratch.layers.conv import check_groups

Crops = tuple[int, int, int, int]  # (top, bottom, left, right); a negative amount extends the output


class Conv2DTranspose(Layer):
    """Transposed 2-D convolution on NCHW images, kernel W (C, F/G, KH, KW), bias (F,).

    Forward (Dumoulin & Visin 2016, "A guide to convolution arithmetic", section 4)::

        cols = W_g^T @ x_g                         # per group: (F/G*KH*KW, C/G) @ (C/G, H*W), every image
        full = col2im(cols)                        # (N, F, (H-1)*S + D*(KH-1) + 1, ...), overlaps summed
        y    = full[top : end - bottom, left : end - right] + b     (a negative crop extends with zeros)

    Backward: dfull = dy placed into a zero canvas; dcols = im2col(dfull); dx = W_g @ dcols;
    dW_g = sum_n x_g @ dcols^T; db = sum of dy over (N, OH, OW). y is the gradient of a Conv2D
    (same kernel, stride, dilation) with respect to its input.

    The crops per axis (H input size, E = D*(K-1) + 1 the kernel span, full = (H-1)*S + E, op the
    output padding):

    * int p (PyTorch ``padding``): top = p, bottom = p - op (op default 0); out = full - 2p + op.
    * ``"valid"`` (Keras): top = 0, bottom = -op with op default max(E, S) - E; out = full + op.
    * ``"same"`` (Keras on TensorFlow): out O = H*S (op None) or (H-1)*S + E % 2 + op; the
      crop is that of a Conv2D "same" with input O: P = max(full - O, 0), top = P // 2, bottom =
      full - top - O. The odd extra row goes to the bottom (as Conv2D's padding does).

    Framework notes: PyTorch ``nn.ConvTranspose2d(C, F, k, stride, padding, output_padding, groups,
    bias, dilation)`` has the same (C, F/G, KH, KW) weight and crops p on both sides, then adds
    ``output_padding`` < max(stride, dilation) at the bottom/right: it equals Keras "same" only when P is
    even (padding = P/2, output_padding = 0) or 0 (output_padding = S - E). For P odd (k = 3, s = 2)
    no setting does: padding = ceil(P/2), output_padding = 1 (the mapping of Keras's own
    ``_convert_conv_transpose_padding_args_from_keras_to_torch``) gives the same shape shifted by one
    row and column; padding = 0 and an explicit crop reproduces it. Keras ``Conv2DTranspose``
    holds a kernel (KH, KW, F, C) (``W.transpose(2, 3, 1, 0)``), has no groups and refuses
    output_padding >= strides.

    Args:
        in_channels: C.
        filters: F.
        kernel_size: k or (KH, KW).
        stride: s or (SH, SW) (default 1).
        padding: int, (ph, pw), ``"valid"`` or ``"same"`` (default 0).
        output_padding: None or int / pair, each < max(stride, dilation) (default None: 0 for an int
            padding, Keras's rule for "valid" / "same").
        dilation: d or (DH, DW) (default 1).
        groups: G dividing in_channels and filters (default 1).
        W, b: explicit initial values; otherwise drawn with ``weight_init`` / ``bias_init`` (fans as both
            frameworks compute them: fan_in = F/G*KH*KW, fan_out = C*KH*KW).
        rng, dtype: as ``Conv2D``.

    Raises:
        ValueError: groups not dividing the channels, output_padding not smaller than stride or
            dilation, or an output size below 1.
    """

    per_sample = True
    _keeps = ("input",)

    def __init__(self, in_channels: int, filters: int, kernel_size: int | tuple[int, int], *,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                 output_padding: int | tuple[int, int] | None = None, dilation: int | tuple[int, int] = 1,
                 groups: int = 1, W: np.ndarray | None = None, b: np.ndarray | None = None,
                 weight_init="glorot_uniform", bias_init="zeros", rng: np.random.Generator | None = None,
                 dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = check_pair(kernel_size, "kernel_size")
        self.stride = check_pair(stride, "stride")
        self.dilation = check_pair(dilation, "dilation")
        self.groups = check_groups(groups, self.in_channels, self.filters)
        if isinstance(padding, str):
            check_choice(padding, "padding", ("valid", "same"))
        else:
            check_pair(padding, "padding", minimum=0)
        self.padding = padding
        self.output_padding = None if output_padding is None else check_pair(output_padding, "output_padding",
                                                                             minimum=0)
        if self.output_padding is not None:
            for axis, op, s, d in zip(("height", "width"), self.output_padding, self.stride, self.dilation,
                                      strict=True):
                if op >= max(s, d):
                    raise ValueError(f"output_padding: expected each value smaller than the stride or the dilation "
                                     f"(the {axis}: < max({s}, {d}) = {max(s, d)}), got {output_padding!r}")
        kh, kw = self.kernel_size
        shape = (self.in_channels, self.filters // self.groups, kh, kw)
        fans = {"fan_in": self.filters // self.groups * kh * kw, "fan_out": self.in_channels * kh * kw, "rng": rng,
                "dtype": self.dtype}
        if W is None:
            W = initializers.get(weight_init)(shape, **fans)
        if b is None:
            b = initializers.get(bias_init)((self.filters,), **fans)
        self._param("W", W, shape)
        self._param("b", b, (self.filters,))

    def crops_for(self, in_hw: tuple[int, int]) -> Crops:
        """(top, bottom, left, right) crop of the full output for an input of spatial size ``in_hw``."""
        span = ic.effective_kernel(self.kernel_size, self.dilation)
        pads = (0, 0) if isinstance(self.padding, str) else check_pair(self.padding, "padding", minimum=0)
        out = []
        for i, (size, e, s) in enumerate(zip(in_hw, span, self.stride, strict=True)):
            op = None if self.output_padding is None else self.output_padding[i]
            full = (size - 1) * s + e
            if self.padding == "valid":
                out += [0, -(max(e, s) - e if op is None else op)]
            elif self.padding == "same":
                target = size * s if op is None else (size - 1) * s + e % 2 + op
                top = max(full - target, 0) // 2
                out += [top, full - top - target]
            else:
                out += [pads[i], pads[i] - (op or 0)]
        return (out[0], out[1], out[2], out[3])

    def output_shape_for(self, in_hw: tuple[int, int]) -> tuple[int, int]:
        """(OH, OW) for an input of spatial size ``in_hw``."""
        span = ic.effective_kernel(self.kernel_size, self.dilation)
        ct, cb, cl, cr = self.crops_for(in_hw)
        oh = (in_hw[0] - 1) * self.stride[0] + span[0] - ct - cb
        ow = (in_hw[1] - 1) * self.stride[1] + span[1] - cl - cr
        if oh < 1 or ow < 1:
            raise ValueError(f"padding: the output of a {in_hw} input would be {(oh, ow)}; expected at least 1 x 1 "
                             f"(padding {self.padding!r} crops more than the full output)")
        return oh, ow

    def _canvas(self, in_hw: tuple[int, int], n: int) -> tuple[tuple[int, int, int, int], tuple[slice, slice]]:
        """Shape of the zero canvas col2im writes into, and the slices of the output in it."""
        span = ic.effective_kernel(self.kernel_size, self.dilation)
        ct, cb, cl, cr = self.crops_for(in_hw)
        hc = (in_hw[0] - 1) * self.stride[0] + span[0] + max(-cb, 0)
        wc = (in_hw[1] - 1) * self.stride[1] + span[1] + max(-cr, 0)
        return (n, self.filters, hc, wc), (slice(ct, hc - max(cb, 0)), slice(cl, wc - max(cr, 0)))

    def _wg(self) -> np.ndarray:
        """W as G matrices (G, C/G, F/G*KH*KW)."""
        return self.params["W"].reshape(self.groups, self.in_channels // self.groups, -1)

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x, ndim=4)
        n, c, h, w = x.shape
        if c != self.in_channels:
            raise ValueError(f"x: expected {self.in_channels} channels (N, C, H, W), got shape {x.shape}")
        self.output_shape_for((h, w))
        x4 = x.reshape(n, self.groups, c // self.groups, h * w)  # (N, C, H, W) -> (N, G, C/G, H*W), a view
        cols = np.matmul(self._wg().transpose(0, 2, 1), x4)  # (G, FKK/G, C/G) @ (N, G, C/G, HW) -> (N, G, FKK/G, HW)
        shape, (rows, columns) = self._canvas((h, w), n)
        full = ic.col2im_batched(cols.reshape(n, -1, h * w), shape, self.kernel_size, self.stride, (h, w),
                                 self.dilation)  # (N, F*KK, HW) -> (N, F, HC, WC)
        y = full[:, :, rows, columns] + self.params["b"][:, None, None]  # a new (N, F, OH, OW) array
        self._cache = (x4, (h, w))
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        """Overwrite ``grads['W']``, ``grads['b']``; return dx (N, C, H, W) (None if not ``need_dx``)."""
        x4, (h, w) = self._cache
        n = dy.shape[0]
        shape, (rows, columns) = self._canvas((h, w), n)
        if shape[2:] == dy.shape[2:]:
            canvas = dy
        else:
            canvas = np.zeros(shape, dtype=self.dtype)
            canvas[:, :, rows, columns] = dy
        dcols = ic.im2col_batched(canvas, self.kernel_size, self.stride, (h, w), dilation=self.dilation)
        dcols = dcols.reshape(n, self.groups, -1, h * w)  # (N, F*KK, HW) -> (N, G, FKK/G, HW)
        # (N, G, C/G, HW) @ (N, G, HW, FKK/G) -> (N, G, C/G, FKK/G), summed over the batch
        self.grads["W"] = np.matmul(x4, dcols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(self.params["W"].shape)
        self.grads["b"] = dy.sum(axis=(0, 2, 3))
        if not need_dx:
            return None
        dx = np.matmul(self._wg(), dcols)  # (G, C/G, FKK/G) @ (N, G, FKK/G, HW) -> (N, G, C/G, HW)
        return dx.reshape(n, self.in_channels, h, w)  # (N, G, C/G, HW) -> (N, C, H, W)
