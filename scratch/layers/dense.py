"""Dense (the textbook's Affine): y = x.reshape(N, -1) @ W + b."""

from __future__ import annotations

import math

import numpy as np

from scratch import initializers
from scratch._checks import check_positive_int
from scratch.layers.base import Layer


class Dense(Layer):
    """Fully connected layer, W of shape (in_features, units) as in Keras and the textbook.

    Accepts any input of shape (N, d1, d2, ...) with d1*d2*... == in_features and flattens it in
    row-major order (like the textbook's ``Affine``); ``backward`` restores the input shape.

    Forward:  y = x2 @ W + b,            x2 = x.reshape(N, in_features)
    Backward: dW = x2.T @ dy, db = dy.sum(0), dx = (dy @ W.T).reshape(x.shape)

    Framework notes: Keras ``Dense`` kernel is (in, out) like W; PyTorch ``nn.Linear.weight`` is
    (out, in) = W.T. Both apply to the last axis of an N-D input instead of flattening it, so an N-D
    Dense equals ``Flatten`` then ``Dense`` there.

    backward reads the input of the last forward (no copy is kept): editing that array in place
    before backward raises RuntimeError. An empty batch (N = 0) gives an empty output and zero
    gradients, as in PyTorch.

    Args:
        in_features: size of the flattened input.
        units: number of outputs.
        W, b: explicit initial values; otherwise drawn with ``weight_init`` / ``bias_init``.
        weight_init: initializer name or callable (default ``"glorot_uniform"``, Keras's default).
        bias_init: initializer name or callable (default ``"zeros"``).
        rng: generator for random initializers (required when one is used).
        dtype: ``"float32"`` or ``"float64"`` (default ``"float64"``).
    """

    per_sample = True

    def __init__(
        self,
        in_features: int,
        units: int,
        *,
        W: np.ndarray | None = None,
        b: np.ndarray | None = None,
        weight_init="glorot_uniform",
        bias_init="zeros",
        rng: np.random.Generator | None = None,
        dtype="float64",
    ) -> None:
        super().__init__(dtype=dtype)
        self.in_features = check_positive_int(in_features, "in_features")
        self.units = check_positive_int(units, "units")
        fans = {"fan_in": self.in_features, "fan_out": self.units, "rng": rng, "dtype": self.dtype}
        if W is None:
            W = initializers.get(weight_init)((self.in_features, self.units), **fans)
        if b is None:
            b = initializers.get(bias_init)((self.units,), **fans)
        self._param("W", W, (self.in_features, self.units))
        self._param("b", b, (self.units,))
        self._x2: np.ndarray | None = None
        self._in_shape: tuple[int, ...] | None = None

    _keeps = ("input",)

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x)
        if x.ndim < 2 or math.prod(x.shape[1:]) != self.in_features:
            raise ValueError(
                f"x: expected shape (N, {self.in_features}) or (N, ...) with {self.in_features} features "
                f"per sample, got {x.shape}"
            )
        self._in_shape = x.shape
        self._x2 = x.reshape(x.shape[0], self.in_features)  # (N, d1, ...) -> (N, in) (a view)
        y = self._x2 @ self.params["W"]
        y += self.params["b"]  # in place: no second (N, units) temporary
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        """Overwrite ``grads['W']``, ``grads['b']`` and return dx of the input's shape."""
        self.grads["W"] = self._x2.T @ dy
        self.grads["b"] = dy.sum(axis=0)
        if not need_dx:
            return None
        return (dy @ self.params["W"].T).reshape(self._in_shape)  # (N, in) -> input shape
