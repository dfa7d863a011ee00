"""The textbook's ``common/layers.py``: the book's layer classes on scratch's core layers.

Each class has the book's constructor, attributes and methods (``forward(x)`` or
``forward(x, train_flg=True)``, ``backward(dout)``) and does its arithmetic in the core layer it
holds as ``core`` (``scratch.layers.Dense``, ``ReLU``, ``Sigmoid``, ``Dropout``, ``BatchNorm``,
``Conv2D``, ``MaxPool2D``; ``scratch.losses.SoftmaxCrossEntropy``), so every parity proof of that
core layer covers the book's class.

Shared arrays: the book's networks hold the same weight arrays in ``network.params`` and in their
layers, and the optimizers update them in place (``params[key] -= lr * grads[key]``); loading
weights reassigns ``layer.W = ...``. Here ``W``, ``b``, ``gamma``, ``beta``, ``running_mean`` and
``running_var`` are plain attributes, and every forward hands the core layer those very arrays (no
copy), so both ways of changing them take effect at the next forward.

Dtype: a layer with parameters computes in its parameters' dtype (the book's float64, or float32);
an input of the other float dtype is converted to it, as NumPy's promotion does when the book's
float32 MNIST images meet float64 weights. Parameter-free layers follow the input's dtype. Unlike
the book, no layer writes into the arrays it is given (the book's ``Relu.backward`` zeroes entries
of ``dout`` in place).
"""

from __future__ import annotations

import numpy as np

from scratch import layers as L
from scratch import losses as S
from scratch.textbook._common import Stateless, as_float_array, core_dtype
from scratch.textbook._spatial import BatchNormalization, Convolution, Pooling

for _cls in (BatchNormalization, Convolution, Pooling):  # defined in _spatial, the book's layers.py names them
    _cls.__module__ = __name__

__all__ = ["Affine", "BatchNormalization", "Convolution", "Dropout", "Pooling", "Relu", "Sigmoid", "SoftmaxWithLoss"]

class Relu(Stateless):
    """The book's ReLU layer (``scratch.layers.ReLU``).

    Forward:  y = max(x, 0)
    Backward: dx = dout * (x > 0)    (0 at x = 0)

    Attributes:
        mask: boolean array, True where x <= 0 (where the gradient is stopped).
        core: the ``scratch.layers.ReLU`` doing the arithmetic.
    """

    def __init__(self) -> None:
        self.core: L.ReLU | None = None

    def _make_core(self, dtype):
        return L.ReLU(dtype=dtype)

    @property
    def mask(self) -> np.ndarray | None:
        return None if self.core is None or not hasattr(self.core, "_mask") else ~self.core._mask

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(any shape) -> same shape."""
        x = as_float_array(x, "x")
        return self.core_for(x.dtype).forward(x, training=True)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx = dout where x > 0, else 0 (a new array; ``dout`` is left alone)."""
        return self._core_backward(dout)


class Sigmoid(Stateless):
    """The book's sigmoid layer (``scratch.layers.Sigmoid``).

    Forward:  y = 1 / (1 + exp(-x))
    Backward: dx = dout * (1 - y) * y

    The core never overflows: for x < 0 it computes e^x / (1 + e^x), possibly one rounding away
    from the book's value.

    Attributes:
        out: the last output y.
        core: the ``scratch.layers.Sigmoid`` doing the arithmetic.
    """

    def __init__(self) -> None:
        self.out: np.ndarray | None = None
        self.core: L.Sigmoid | None = None

    def _make_core(self, dtype):
        return L.Sigmoid(dtype=dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(any shape) -> same shape."""
        x = as_float_array(x, "x")
        self.out = self.core_for(x.dtype).forward(x, training=True)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self._core_backward(dout)


class Affine:
    """The book's fully connected layer (``scratch.layers.Dense``).

    Forward:  y = x2 @ W + b,    x2 = x.reshape(N, -1)
    Backward: dW = x2.T @ dout, db = dout.sum(0), dx = (dout @ W.T).reshape(original_x_shape)

    Args:
        W: (D, M) weights, held (not copied): the network's params entry is this very array.
        b: (M,) bias, held likewise.

    Attributes:
        W, b: the parameters (reassign them freely: the next forward uses what they hold).
        dW, db: gradients of the last backward.
        x: the last input flattened to (N, D); original_x_shape: its shape before flattening.
        core: the ``scratch.layers.Dense`` doing the arithmetic.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = W
        self.b = b
        self.x: np.ndarray | None = None
        self.original_x_shape: tuple[int, ...] | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None
        self.core: L.Dense | None = None
        self.core_for()

    def core_for(self, dtype=None) -> L.Dense:
        """Hand the current W and b (the same objects) to the core layer, rebuilt if their shape or
        dtype changed; ``dtype`` must be W's when given."""
        W = as_float_array(self.W, "W", ndim=2)
        dt = core_dtype(W.dtype, "W")
        if dtype is not None and np.dtype(dtype) != dt:
            raise ValueError(f"dtype: the layer computes in W's dtype {dt.name}, got {np.dtype(dtype).name}")
        b = as_float_array(self.b, "b", dtype=dt)
        if b.shape != (W.shape[1],):
            raise ValueError(f"b: expected shape ({W.shape[1]},) to match W of shape {W.shape}, got {b.shape}")
        core = self.core
        if core is None or core.dtype != dt or (core.in_features, core.units) != W.shape:
            core = self.core = L.Dense(W.shape[0], W.shape[1], W=W, b=b, dtype=dt)
        core.params["W"], core.params["b"] = W, b  # the very arrays: in-place updates reach the layer
        return core

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(N, D) or (N, d1, d2, ...) with d1*d2*... = D -> (N, M)."""
        core = self.core_for()
        x = as_float_array(x, "x", dtype=core.dtype)
        out = core.forward(x, training=True)
        self.original_x_shape = x.shape
        self.x = core._x2
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Set dW and db; return dx of the input's shape."""
        if self.x is None:
            raise RuntimeError("Affine.backward called before forward")
        core = self.core
        dx = core.backward(as_float_array(dout, "dout", dtype=core.dtype))
        self.dW, self.db = core.grads["W"], core.grads["b"]
        return dx


class SoftmaxWithLoss:
    """Softmax and the textbook's cross-entropy (``scratch.losses.SoftmaxCrossEntropy("textbook")``)::

        y    = softmax(x)
        loss = -(1/N) * sum_n log(y[n, c_n] + 1e-7)     c = t, or argmax(t, axis=1) for t of y's shape
        dx   = (y - t) / N * dout                       t of y's shape (one-hot or soft rows)
        dx   = (y - onehot(t)) / N * dout               integer labels

    The book's backward ignores ``dout`` (its networks always pass 1); here dx is scaled by it.

    Attributes:
        loss: the last loss (a NumPy scalar); y: the last softmax output (N, K); t: the last labels.
        core: the ``scratch.losses.SoftmaxCrossEntropy`` doing the arithmetic.
    """

    def __init__(self) -> None:
        self.loss = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None
        self.core = S.SoftmaxCrossEntropy(semantics="textbook")

    def forward(self, x: np.ndarray, t: np.ndarray):
        """x: (N, K) logits; t: (N,) integer labels or (N, K) one-hot / probability rows."""
        x = as_float_array(x, "x")
        self.t = t
        self.loss = self.core.forward(x, t)
        self.y = self.core.y
        return self.loss

    def backward(self, dout=1) -> np.ndarray:
        """dL/dx (N, K), times the upstream scalar ``dout``."""
        return self.core.backward(dout)


class Dropout(Stateless):
    """The textbook's non-inverted dropout (``scratch.layers.Dropout(rate, inverted=False)``)::

        train: mask = np.random.rand(*x.shape) > dropout_ratio,   y = x * mask,   dx = dout * mask
        test:  y = x * (1 - dropout_ratio),                       dx = dout * (1 - dropout_ratio)

    The mask is drawn from NumPy's global generator exactly as the book draws it, so after the same
    ``np.random.seed(s)`` the masks are the book's. (After a test-mode forward the book's backward
    still multiplies by the last training mask; here it uses the test-mode factor, the derivative
    of that forward.)

    Args:
        dropout_ratio: probability of dropping an entry, in [0, 1] (default 0.5).

    Attributes:
        mask: boolean array of the last training forward (True = kept).
        core: the ``scratch.layers.Dropout`` doing the arithmetic.
    """

    def __init__(self, dropout_ratio: float = 0.5) -> None:
        self.dropout_ratio = dropout_ratio
        self.mask: np.ndarray | None = None
        self.core: L.Dropout | None = None
        self.core_for(np.float64)  # checks dropout_ratio now

    def _make_core(self, dtype):
        return L.Dropout(self.dropout_ratio, inverted=False, rng=None, dtype=dtype)

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        """(any shape) -> same shape."""
        x = as_float_array(x, "x")
        # the book draws from NumPy's global generator: the same call, so a seed reproduces its masks
        mask = np.random.rand(*x.shape) > self.dropout_ratio if train_flg else None  # noqa: NPY002
        return self.forward_with_mask(x, mask)

    def forward_with_mask(self, x: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Training forward with a given boolean mask (None: test mode); what a test uses to inject
        the mask another library drew."""
        x = as_float_array(x, "x")
        core = self.core_for(x.dtype)
        if core.rate != self.dropout_ratio:  # dropout_ratio reassigned since the core was built
            core = self.core = self._make_core(core.dtype)
        if mask is None:
            return core.forward(x, training=False)
        self.mask = mask
        return core.forward(x, training=True, mask=mask)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self._core_backward(dout)

