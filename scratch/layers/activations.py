"""Element-wise activations and softmax."""

from __future__ import annotations

import numpy as np

from scratch import parallel
from scratch.layers.base import Layer


def sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + exp(-a)) without overflow: exp is taken of -|a| only; ``out`` may be ``a`` itself.

    With e = exp(-|a|): 1 / (1 + e) where a >= 0, e / (1 + e) elsewhere, as one quotient whose
    numerator is max(e, [a >= 0]) (e <= 1, so the maximum picks 1 where a >= 0 and e elsewhere).
    Seven passes over the array, in place where possible: a select by mask (``np.where``) costs more
    than the exponential, and ``np.copysign(a, -1)`` (one pass for -|a|) has no vector loop.
    """
    e = np.abs(a, out=np.empty(a.shape, dtype=a.dtype))  # an array even for 0-d a
    np.negative(e, out=e)
    np.exp(e, out=e)
    d = np.add(e, 1, out=np.empty_like(e))
    np.maximum(e, a >= 0, out=e)
    return np.divide(e, d, out=e if out is None else out)


class _Elementwise(Layer):
    """Shared plumbing: cache what backward needs; dx is skipped when not needed."""

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x)
        y = self._f(x)
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        return self._df(dy) if need_dx else None

    def _f(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _df(self, dy: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class ReLU(_Elementwise):
    """y = max(x, 0); dx = dy * (x > 0). The gradient at exactly 0 is 0, as in Keras, PyTorch and
    the textbook's ``Relu`` layer (its ``relu_grad`` function returns 1 there).

    Computed as ``np.maximum`` against a block of zeros of one sample's shape and a product with
    the boolean mask: ``np.where`` with a data dependent mask is about ten times slower on large
    arrays (branch mispredictions), and ``np.maximum(x, 0)`` with a scalar takes NumPy's slower
    broadcast loop (about twice the time of two contiguous operands).
    """

    per_sample = True
    elementwise = True
    per_channel = True

    def _f(self, x):
        zeros = getattr(self, "_zeros", None)
        if zeros is None or zeros.shape != x.shape[1:]:
            zeros = self._zeros = np.zeros(x.shape[1:], dtype=self.dtype)  # (d1, d2, ...), broadcast over N
        if x.ndim == 0 or x.size < 2 * parallel.MIN_ELEMENTS:
            self._mask = x > 0
            return np.maximum(x, zeros)
        mask, y = np.empty(x.shape, dtype=bool), np.empty(x.shape, dtype=self.dtype)

        def work(s: slice) -> None:  # a large batch: each thread its own samples (scratch.parallel)
            np.greater(x[s], 0, out=mask[s])
            np.maximum(x[s], zeros, out=y[s])

        parallel.for_batch(x.shape[0], x.size, work)
        self._mask = mask
        return y

    def _df(self, dy):
        mask = self._mask
        if dy.ndim == 0 or dy.size < 2 * parallel.MIN_ELEMENTS:
            return np.multiply(dy, mask, dtype=self.dtype)
        dx = np.empty(dy.shape, dtype=self.dtype)
        parallel.for_batch(dy.shape[0], dy.size, lambda s: np.multiply(dy[s], mask[s], out=dx[s], dtype=self.dtype))
        return dx


class Sigmoid(_Elementwise):
    """y = 1 / (1 + exp(-x)); dx = dy * y * (1 - y).

    backward reads the returned y: editing it in place before backward raises RuntimeError.

    Computed without overflow for large |x|: exp is only taken of -|x|
    (x >= 0: 1 / (1 + e^-x); x < 0: e^x / (1 + e^x)), so ``Sigmoid()(-1000)`` is 0 with no warning,
    unlike the textbook's ``1 / (1 + np.exp(-x))``.
    """

    per_sample = True
    elementwise = True
    per_channel = True

    _keeps = ("output",)

    def _f(self, x):
        y = self._y = sigmoid(x)
        return y

    def _df(self, dy):
        return dy * self._y * (1 - self._y)


class Tanh(_Elementwise):
    """y = tanh(x); dx = dy * (1 - y^2). backward reads the returned y (editing it raises)."""

    _keeps = ("output",)

    per_sample = True
    elementwise = True
    per_channel = True

    def _f(self, x):
        self._y = np.tanh(x)
        return self._y

    def _df(self, dy):
        return dy * (1 - self._y * self._y)


class Softmax(_Elementwise):
    """Softmax over the last axis, stabilised by subtracting the row maximum.

    y_i = exp(x_i - max x) / sum_j exp(x_j - max x);  dx = y * (dy - sum(dy * y, axis=-1)).

    The input gradient is checked under a random upstream gradient: with dy = ones it is exactly
    zero and proves nothing. backward reads the returned y (editing it in place raises). A last
    axis of size 0 (zero classes) is refused: there is no distribution over no classes.
    """

    per_sample = True

    _keeps = ("output",)

    def _f(self, x):
        if x.ndim == 0 or x.shape[-1] == 0:
            raise ValueError(f"x: softmax needs at least one class on the last axis, got shape {x.shape}")
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        self._y = e / e.sum(axis=-1, keepdims=True)
        return self._y

    def _df(self, dy):
        y = self._y
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))
