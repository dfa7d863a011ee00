"""Global average and max pooling over the spatial axes of NCHW images."""

from __future__ import annotations

import numpy as np

from scratch._checks import check_choice
from scratch.layers.base import Layer

#: "first": the gradient goes to the first maximum in row-major order (PyTorch AdaptiveMaxPool2d);
#: "split": shared equally by all maxima (Keras GlobalMaxPooling2D: the gradient of tf.reduce_max).
TIE_RULES = ("first", "split")


class _GlobalPool2D(Layer):
    per_sample = True

    def __init__(self, *, keepdims: bool = False, dtype="float64") -> None:
        super().__init__(dtype=dtype)
        if not isinstance(keepdims, (bool, np.bool_)):
            raise ValueError(f"keepdims: expected True or False, got {keepdims!r}")
        self.keepdims = bool(keepdims)

    def _shape(self, y: np.ndarray) -> np.ndarray:
        """(N, C) -> (N, C, 1, 1) when keepdims (a view)."""
        return y[:, :, None, None] if self.keepdims else y

    def _flat_dy(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(dy.shape[0], dy.shape[1])  # (N, C[, 1, 1]) -> (N, C), a view


class GlobalAvgPool2D(_GlobalPool2D):
    """y[n, c] = mean over (h, w) of x[n, c, h, w]; dx = dy[n, c] / (H*W) everywhere.

    Forward:  y = x.mean(axis=(2, 3))              (N, C), or (N, C, 1, 1) with keepdims
    Backward: dx = broadcast(dy / (H*W))           (N, C, H, W)

    Framework notes: Keras ``GlobalAveragePooling2D(data_format='channels_last', keepdims=False)``
    gives (N, C); PyTorch ``nn.AdaptiveAvgPool2d(1)`` gives (N, C, 1, 1) (``keepdims=True`` here;
    ``x.mean((2, 3))`` in PyTorch code is the (N, C) form).

    Args:
        keepdims: keep the two spatial axes as size 1 (default False, Keras's).
        dtype: ``"float32"`` or ``"float64"``.
    """

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x, ndim=4)
        self._hw = x.shape[2:]
        y = self._shape(x.mean(axis=(2, 3)))
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        if not need_dx:
            return None
        h, w = self._hw
        share = self._flat_dy(dy) / self.dtype.type(h * w)
        return np.broadcast_to(share[:, :, None, None], (*share.shape, h, w)).copy()


class GlobalMaxPool2D(_GlobalPool2D):
    """y[n, c] = max over (h, w) of x[n, c, h, w].

    Forward:  y = x.max(axis=(2, 3))               (N, C), or (N, C, 1, 1) with keepdims
    Backward: "first": dx = dy at the first maximum (row-major), 0 elsewhere
              "split": dx = dy * [x == y] / (number of maxima)

    Without ties both rules give the same gradient. Framework notes: PyTorch
    ``nn.AdaptiveMaxPool2d(1)`` sends the gradient to the index it returns, the first maximum
    ("first"); Keras ``GlobalMaxPooling2D`` is ``ops.max(x, axis=[1, 2])``, whose TensorFlow gradient
    (``_MinOrMaxGrad``) divides dy among all maxima ("split"), unlike Keras ``MaxPooling2D``
    (``tf.nn.max_pool``), which picks one.

    Args:
        keepdims: keep the spatial axes as size 1 (default False, Keras's; PyTorch: True).
        ties: ``"first"`` or ``"split"`` (default "first").
        dtype: ``"float32"`` or ``"float64"``.
    """

    _keeps = ("input",)

    def __init__(self, *, keepdims: bool = False, ties: str = "first", dtype="float64") -> None:
        super().__init__(keepdims=keepdims, dtype=dtype)
        self.ties = check_choice(ties, "ties", TIE_RULES)

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x, ndim=4)
        self._x = x
        y = x.max(axis=(2, 3))
        self._y = y
        y = self._shape(y)
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        if not need_dx:
            return None
        x, d = self._x, self._flat_dy(dy)
        n, c, h, w = x.shape
        if self.ties == "split":
            hit = x == self._y[:, :, None, None]  # (N, C, H, W)
            return np.where(hit, (d / hit.sum(axis=(2, 3)).astype(self.dtype))[:, :, None, None], self.dtype.type(0))
        dx = np.zeros((n * c, h * w), dtype=self.dtype)
        dx[np.arange(n * c), x.reshape(n * c, h * w).argmax(axis=1)] = d.reshape(-1)  # first maximum
        return dx.reshape(x.shape)
