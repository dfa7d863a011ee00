"""Element-wise activations and softmax."""

from __future__ import annotations

import numpy as np

from scratch.layers.base import Layer


class _Elementwise(Layer):
    """Shared plumbing: cache what backward needs, check dy against the output."""

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x)
        y = self._f(x)
        self._out_shape = y.shape
        return y

    def _f(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class ReLU(_Elementwise):
    """y = max(x, 0); dx = dy * (x > 0). The gradient at exactly 0 is 0, as in Keras, PyTorch and
    the textbook's ``Relu`` layer (its ``relu_grad`` function returns 1 there)."""

    def _f(self, x):
        self._mask = x > 0
        return np.where(self._mask, x, np.zeros((), dtype=x.dtype))

    def backward(self, dy):
        self._check_upstream(dy)
        return np.where(self._mask, dy, np.zeros((), dtype=dy.dtype))


class Sigmoid(_Elementwise):
    """y = 1 / (1 + exp(-x)); dx = dy * y * (1 - y).

    Computed without overflow for large |x|: exp is only taken of -|x|
    (x >= 0: 1 / (1 + e^-x); x < 0: e^x / (1 + e^x)), so ``Sigmoid()(-1000)`` is 0 with no warning,
    unlike the textbook's ``1 / (1 + np.exp(-x))``.
    """

    def _f(self, x):
        z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
        y = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
        self._y = y
        return y

    def backward(self, dy):
        self._check_upstream(dy)
        return dy * self._y * (1 - self._y)


class Tanh(_Elementwise):
    """y = tanh(x); dx = dy * (1 - y^2)."""

    def _f(self, x):
        self._y = np.tanh(x)
        return self._y

    def backward(self, dy):
        self._check_upstream(dy)
        return dy * (1 - self._y * self._y)


class Softmax(_Elementwise):
    """Softmax over the last axis, stabilised by subtracting the row maximum.

    y_i = exp(x_i - max x) / sum_j exp(x_j - max x);  dx = y * (dy - sum(dy * y, axis=-1)).

    The input gradient is checked under a random upstream gradient: with dy = ones it is exactly
    zero and proves nothing.
    """

    def _f(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        self._y = e / e.sum(axis=-1, keepdims=True)
        return self._y

    def backward(self, dy):
        self._check_upstream(dy)
        y = self._y
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))
