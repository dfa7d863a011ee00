"""Conv2D by im2col and one matrix product."""

from __future__ import annotations

import numpy as np

from scratch import initializers, parallel
from scratch._checks import check_pair, check_positive_int
from scratch.layers import im2col as ic
from scratch.layers.base import Layer

#: Bytes of im2col matrix an evaluation forward builds at a time (per thread): small enough to stay
#: in a core's cache between the copy that builds it and the product that reads it.
EVAL_COL_BYTES = 1 << 20


class Conv2D(Layer):
    """2-D cross-correlation on NCHW images, kernel W of shape (F, C, KH, KW) (OIHW), bias (F,).

    Forward:  col = [im2col_batched(pad(x)); 1]         # (N, C*KH*KW + 1, OH*OW), a row of ones
              y   = [W2 | b] @ col                      # W2 = W.reshape(F, -1): (N, F, OH*OW), NCHW
    Backward: dy3 = dy.reshape(N, F, OH*OW)             # a view
              [dW2 | db] = sum_n dy3[n] @ col[n].T
              dx  = unpad(col2im_batched(W2.T @ dy3))

    The bias rides in the products as one more kernel column against a row of ones (the
    augmented-matrix form): no separate pass over the (N, F, OH, OW) output to add it, nor over dy
    to sum it. The products are stacks of N BLAS calls (``np.matmul`` on 3-D operands), one
    (F, OH*OW) matrix per image, already in NCHW order; the textbook's single tall product
    (N*OH*OW, C*KH*KW) @ (C*KH*KW, F) needs a transposing copy of its result (and of dy) instead,
    and its im2col copy gathers runs of KW elements, several times slower than the runs of OW here.
    A training forward keeps ``col`` for the backward pass; an evaluation forward keeps only the
    padded input and rebuilds ``col`` if a backward follows, and builds ``col`` 1 MiB at a time
    (``EVAL_COL_BYTES``), so evaluation holds no im2col matrix of the whole batch. The images are
    split over ``scratch.parallel``'s threads (each thread its own im2col rows and products; the
    batch sum of [dW2 | db] in the calling thread), with the same bits for any thread count.

    Dilation D and groups G (Yu & Koltun 2016; Krizhevsky et al. 2012)::

        y[n, f, oh, ow] = b[f] + sum_(c in group g, i, j) W[f, c - g*C/G, i, j] * xp[n, c, oh*SH + i*DH, ow*SW + j*DW]

    with W of shape (F, C/G, KH, KW), g = f // (F/G): output channels g*F/G .. (g+1)*F/G - 1 see
    input channels g*C/G .. (g+1)*C/G - 1 only. A dilated kernel spans D*(K - 1) + 1 cells (the
    span "same" padding and the output size use). With G > 1 the products are one stack of
    N*G matrix products (C/G*KH*KW columns each) and the bias is added after them; G = 1 runs the
    augmented-matrix form above unchanged.

    Framework notes: PyTorch ``nn.Conv2d`` uses the same OIHW kernel on NCHW data. Keras
    ``Conv2D`` works on NHWC with an HWIO kernel (``W.transpose(2, 3, 1, 0)``). Keras ``"same"``
    puts the odd extra padding row/column at the bottom/right; PyTorch ``padding=1`` with stride 2
    gives the same output shape but different numbers, and PyTorch ``padding="same"`` refuses
    stride > 1 (explicit ``F.pad`` with the TF amounts reproduces Keras). Keras ``groups`` and
    ``dilation_rate`` and PyTorch ``groups`` and ``dilation`` mean the same (kernel (KH, KW, C/G, F)
    in Keras); Keras refuses strides > 1 together with a dilation > 1.

    Args:
        in_channels: C.
        filters: F.
        kernel_size: k or (KH, KW).
        stride: s or (SH, SW) (default 1).
        padding: int, (ph, pw), ``"valid"`` or ``"same"`` (Keras rule; default 0).
        dilation: d or (DH, DW) (default 1).
        groups: G, dividing both in_channels and filters (default 1).
        An empty batch (N = 0) gives an empty output, an empty dx and zero gradients (PyTorch too).
        truncate: allow an output size that does not divide exactly (drop trailing rows/columns);
            default False raises ValueError.
        W, b: explicit initial values; otherwise drawn with ``weight_init`` / ``bias_init``.
        weight_init, bias_init: initializer names or callables (defaults ``"glorot_uniform"``,
            ``"zeros"``); fans are fan_in = C/G*KH*KW, fan_out = F*KH*KW as both frameworks compute.
        rng: generator for random initializers.
        dtype: ``"float32"`` or ``"float64"``.
    """

    per_sample = True

    def __init__(
        self,
        in_channels: int,
        filters: int,
        kernel_size: int | tuple[int, int],
        *,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
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
        self.dilation = check_pair(dilation, "dilation")
        self.groups = check_groups(groups, self.in_channels, self.filters)
        ic.resolve_padding(padding, (1, 1), (1, 1), (1, 1))  # validate the argument now
        self.padding = padding
        self.truncate = bool(truncate)
        kh, kw = self.kernel_size
        shape = (self.filters, self.in_channels // self.groups, kh, kw)
        fans = {
            "fan_in": self.in_channels // self.groups * kh * kw,
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

    _keeps = ("input",)  # an evaluation forward keeps x (or its padded copy) to rebuild col

    def pads_for(self, in_hw: tuple[int, int]) -> ic.Pads:
        """(top, bottom, left, right) padding used for an input of spatial size ``in_hw``."""
        return ic.resolve_padding(self.padding, in_hw, ic.effective_kernel(self.kernel_size, self.dilation),
                                  self.stride)

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x, ndim=4)
        n, c, h, w = x.shape
        if c != self.in_channels:
            raise ValueError(f"x: expected {self.in_channels} channels (N, C, H, W), got shape {x.shape}")
        pads = self.pads_for((h, w))
        span = ic.effective_kernel(self.kernel_size, self.dilation)
        out_hw = ic.output_size((h, w), span, self.stride, pads, truncate=self.truncate)
        xp = ic.pad(x, pads)
        if self.groups > 1:
            return self._grouped_forward(xp, pads, out_hw, training)
        p = out_hw[0] * out_hw[1]
        k = c * self.kernel_size[0] * self.kernel_size[1] + 1
        y = np.empty((n, self.filters, p), dtype=self.dtype)
        w2b = self._w2b()
        # training keeps every image's col for the backward pass; evaluation builds it a few images
        # at a time into one small buffer per thread, which stays in cache between copy and product
        col = np.empty((n, k, p), dtype=self.dtype) if training else None
        step = n if training else max(1, EVAL_COL_BYTES // (k * p * self.dtype.itemsize))

        def work(s: slice) -> None:  # the images of s: their im2col matrices and products
            buf = col[s] if training else np.empty((min(step, s.stop - s.start), k, p), dtype=self.dtype)
            for a in range(s.start, s.stop, step):
                b = min(a + step, s.stop)
                part = buf[: b - a] if not training else buf
                ic.im2col_batched(xp[a:b], self.kernel_size, self.stride, out_hw, ones_row=True,
                                  dilation=self.dilation, out=part)  # (n_s, CKK+1, OH*OW)
                np.matmul(w2b, part, out=y[a:b])  # (F, CKK+1) @ (n_s, CKK+1, OH*OW) -> (n_s, F, OH*OW): NCHW

        parallel.for_batch(n, y.size * (k + self.filters) // self.filters, work)
        self._cache = (col, xp, pads, out_hw)
        y = y.reshape(n, self.filters, *out_hw)  # (N, F, OH*OW) -> (N, F, OH, OW), a view
        self._out_shape = y.shape
        return y

    def _w2b(self) -> np.ndarray:
        """[W2 | b]: the kernel as a (F, C*KH*KW) matrix with the bias as one more column."""
        return np.concatenate([self.params["W"].reshape(self.filters, -1), self.params["b"][:, None]], axis=1)

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        """Overwrite ``grads['W']``, ``grads['b']``; return dx (N, C, H, W) (None if not ``need_dx``)."""
        col, xp, pads, out_hw = self._cache
        if self.groups > 1:
            return self._grouped_backward(dy, need_dx)
        if col is None:  # after an evaluation forward
            col = ic.im2col_batched(xp, self.kernel_size, self.stride, out_hw, ones_row=True, dilation=self.dilation)
        n = dy.shape[0]
        dy3 = dy.reshape(n, self.filters, out_hw[0] * out_hw[1])  # (N, F, OH, OW) -> (N, F, OH*OW), a view
        # (N, F, P) @ (N, P, CKK+1) -> (N, F, CKK+1) per image, summed over the batch below: [dW2 | db]
        per_image = np.empty((n, self.filters, col.shape[1]), dtype=self.dtype)
        w2 = self.params["W"].reshape(self.filters, -1)
        if need_dx:
            dxp = np.zeros(xp.shape, dtype=self.dtype)

        def work(s: slice) -> None:  # the images of s: their products, and their share of dx
            np.matmul(dy3[s], col[s].transpose(0, 2, 1), out=per_image[s])
            if need_dx:
                dcol = np.matmul(w2.T, dy3[s])  # (C*KH*KW, F) @ (n_s, F, OH*OW) -> (n_s, C*KH*KW, OH*OW)
                ic.col2im_batched(dcol, dxp[s].shape, self.kernel_size, self.stride, out_hw, self.dilation,
                                  out=dxp[s])

        parallel.for_batch(n, dy3.size + col.size, work)
        dw2b = per_image.sum(axis=0)
        self.grads["W"] = np.ascontiguousarray(dw2b[:, :-1]).reshape(self.params["W"].shape)
        self.grads["b"] = dw2b[:, -1].copy()
        if not need_dx:
            return None
        return dxp if not any(pads) else np.ascontiguousarray(ic.unpad(dxp, pads))

    # -- groups > 1 ----------------------------------------------------------------------------
    def _grouped_col(self, xp: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
        """(N, G, C/G*KH*KW, OH*OW): the im2col rows (c, kh, kw) of each group are contiguous."""
        col = ic.im2col_batched(xp, self.kernel_size, self.stride, out_hw, dilation=self.dilation)
        return col.reshape(col.shape[0], self.groups, -1, col.shape[2])  # (N, CKK, P) -> (N, G, CKK/G, P)

    def _w3(self) -> np.ndarray:
        """The kernel as G matrices (G, F/G, C/G*KH*KW)."""
        return self.params["W"].reshape(self.groups, self.filters // self.groups, -1)

    def _grouped_forward(self, xp, pads, out_hw, training: bool) -> np.ndarray:
        n = xp.shape[0]
        col = self._grouped_col(xp, out_hw)
        y = np.matmul(self._w3(), col)  # (G, F/G, CKK/G) @ (N, G, CKK/G, P) -> (N, G, F/G, P)
        y = y.reshape(n, self.filters, -1)  # (N, G, F/G, P) -> (N, F, P): f = g*F/G + f', NCHW
        y += self.params["b"][:, None]
        self._cache = (col if training else None, xp, pads, out_hw)
        y = y.reshape(n, self.filters, *out_hw)  # (N, F, P) -> (N, F, OH, OW), a view
        self._out_shape = y.shape
        return y

    def _grouped_backward(self, dy: np.ndarray, need_dx: bool) -> np.ndarray | None:
        col, xp, pads, out_hw = self._cache
        if col is None:  # after an evaluation forward
            col = self._grouped_col(xp, out_hw)
        n = dy.shape[0]
        dy4 = dy.reshape(n, self.groups, self.filters // self.groups, -1)  # (N, F, OH, OW) -> (N, G, F/G, P)
        # (N, G, F/G, P) @ (N, G, P, CKK/G) -> (N, G, F/G, CKK/G), summed over the batch
        self.grads["W"] = np.matmul(dy4, col.transpose(0, 1, 3, 2)).sum(axis=0).reshape(self.params["W"].shape)
        self.grads["b"] = dy.sum(axis=(0, 2, 3))
        if not need_dx:
            return None
        dcol = np.matmul(self._w3().transpose(0, 2, 1), dy4)  # (G, CKK/G, F/G) @ (N, G, F/G, P) -> (N, G, CKK/G, P)
        dcol = dcol.reshape(n, -1, dcol.shape[3])  # (N, G, CKK/G, P) -> (N, C*KH*KW, P)
        dxp = ic.col2im_batched(dcol, xp.shape, self.kernel_size, self.stride, out_hw, self.dilation)
        return dxp if not any(pads) else np.ascontiguousarray(ic.unpad(dxp, pads))


def check_groups(groups: object, in_channels: int, out_channels: int, *, out_name: str = "filters") -> int:
    """``groups`` if it is a positive int dividing both channel counts.

    Raises:
        ValueError: naming ``groups``, the value given and what it must divide.
    """
    groups = check_positive_int(groups, "groups")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups: expected a divisor of both in_channels ({in_channels}) and {out_name} "
                         f"({out_channels}), got {groups}")
    return groups
