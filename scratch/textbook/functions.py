"""The textbook's ``common/functions.py``: activations and losses as plain functions.

Same names, signatures and results as the book's functions (float64: bit for bit, except
``sigmoid`` for negative inputs, see there). The arithmetic is the core components':
``scratch.layers`` (``Sigmoid``, ``Softmax``) and ``scratch.losses`` (``SumSquaredError``,
``textbook_cross_entropy``). Arrays keep their float dtype (float32 stays float32); other input
(lists, integers, Python scalars) is taken as float64, as NumPy does in the book's expressions.
"""

from __future__ import annotations

import numpy as np

from scratch.layers import activations as A
from scratch.losses import SumSquaredError, textbook_cross_entropy

__all__ = ["cross_entropy_error", "identity_function", "relu", "relu_grad", "sigmoid", "sigmoid_grad", "softmax",
           "softmax_loss", "step_function", "sum_squared_error"]


def _float(x, name: str = "x") -> np.ndarray:
    """``x`` as a float32/float64 array (other numbers become float64); ValueError if not numeric."""
    arr = np.asarray(x)
    if arr.dtype.kind == "f" and arr.dtype in (np.float32, np.float64):
        return arr
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected numbers (an array, list or scalar), got {arr.dtype.name} data")
    return arr.astype(np.float64)


def _elementwise(layer_cls, x) -> np.ndarray:
    """Apply a core element-wise layer's forward arithmetic to an array of any shape (0-d included)."""
    arr = _float(x)
    layer = layer_cls(dtype=arr.dtype)
    return layer._f(arr.reshape(1, -1))[0].reshape(arr.shape)  # (...) -> (1, size) -> (...)


def identity_function(x):
    """Return ``x`` unchanged (the output activation of a regression network)."""
    return x


def step_function(x) -> np.ndarray:
    """1 where x > 0, else 0, as an integer array (``np.array(x > 0, dtype=int)``)."""
    return np.array(np.asarray(x) > 0, dtype=int)


def sigmoid(x) -> np.ndarray:
    """1 / (1 + exp(-x)), element-wise (``scratch.layers.Sigmoid``).

    Equal to the book's expression bit for bit for x >= 0; for x < 0 the core computes
    e^x / (1 + e^x), which never overflows (the book's ``np.exp(-x)`` warns for x < -709) and can
    differ from the book's value in the last bit.
    """
    return _elementwise(A.Sigmoid, x)


def sigmoid_grad(x) -> np.ndarray:
    """(1 - sigmoid(x)) * sigmoid(x): the derivative of ``sigmoid`` at x."""
    y = sigmoid(x)
    return (1.0 - y) * y


def relu(x) -> np.ndarray:
    """max(0, x), element-wise (``scratch.layers.ReLU``)."""
    return _elementwise(A.ReLU, x)


def relu_grad(x) -> np.ndarray:
    """1 where x >= 0, else 0, in x's dtype.

    The book's function counts x = 0 as positive (gradient 1); its ``Relu`` layer, like
    ``scratch.layers.ReLU``, Keras and PyTorch, gives 0 there.
    """
    arr = _float(x)
    grad = np.zeros_like(arr)
    grad[arr >= 0] = 1
    return grad


def softmax(x) -> np.ndarray:
    """Softmax over the last axis, the row maximum subtracted first (``scratch.layers.Softmax``).

    Shapes: (K,) -> (K,), (N, K) -> (N, K), any (..., K) -> (..., K).
    """
    arr = _float(x)
    if arr.ndim == 0:
        raise ValueError("x: expected an array with a last axis of classes, got a scalar")
    layer = A.Softmax(dtype=arr.dtype)
    return layer._f(arr)


def sum_squared_error(y, t):
    """0.5 * sum((y - t)^2) over every element (a sum over the batch, not a mean).

    ``scratch.losses.SumSquaredError`` on the flattened arrays; y and t must have the same number
    of elements.
    """
    y2, t2 = _float(y, "y"), _float(t, "t")
    if y2.size != t2.size:
        raise ValueError(f"t: expected as many elements as y ({y2.shape}), got shape {t2.shape}")
    t2 = t2.astype(y2.dtype, copy=False)
    return SumSquaredError().forward(y2.reshape(1, -1), t2.reshape(1, -1))[()]  # (...) -> (1, size)


def cross_entropy_error(y, t):
    """The textbook's cross-entropy on probabilities y::

        L = -(1/N) * sum_n log(y[n, c_n] + 1e-7)

    c is t for integer labels (N,); for t with as many elements as y (one-hot or probability rows)
    it is ``t.argmax(axis=1)``, so soft labels enter as their argmax. A 1-D y is one sample
    (N = 1). ``scratch.losses.textbook_cross_entropy``.

    Args:
        y: (N, K) or (K,) probabilities.
        t: (N,) integer labels, or an array with y's number of elements.
    """
    y2 = _float(y, "y")
    t2 = np.asarray(t)
    if y2.ndim == 1:  # one sample: (K,) -> (1, K)
        t2 = t2.reshape(1, t2.size)
        y2 = y2.reshape(1, y2.size)
    if y2.ndim != 2:
        raise ValueError(f"y: expected probabilities of shape (N, K) or (K,), got shape {y2.shape}")
    n, k = y2.shape
    if t2.size == y2.size:
        if t2.shape != y2.shape:
            t2 = t2.reshape(n, k)
        t2 = t2.argmax(axis=1)
    elif t2.shape != (n,) or t2.dtype.kind not in "iu":
        raise ValueError(f"t: expected {n} integer labels or an array of {y2.size} elements (one-hot rows of "
                         f"y's shape {y2.shape}), got {t2.dtype.name} array of shape {t2.shape}")
    elif t2.size and (t2.min() < 0 or t2.max() >= k):
        raise ValueError(f"t: class labels must lie in [0, {k - 1}] for {k} classes, got {t2.min()}..{t2.max()}")
    return textbook_cross_entropy(y2, t2)


def softmax_loss(X, t):
    """``cross_entropy_error(softmax(X), t)``."""
    return cross_entropy_error(softmax(X), t)
