"""The book's chapter 4 ``TwoLayerNet`` (``ch04/two_layer_net.py``): sigmoid hidden layer, softmax output,
written with the functions of ``common/functions.py``."""

from __future__ import annotations

import numpy as np

from scratch import layers as L
from scratch import losses as S
from scratch.model import Sequential
from scratch.textbook._net import LayerNet, check_labels, fast_gradient_of
from scratch.textbook.functions import cross_entropy_error, sigmoid, sigmoid_grad, softmax
from scratch.textbook.gradient import numerical_gradient as book_numerical_gradient
from scratch.textbook.multi_layer_net import check_sizes


class TwoLayerNet(LayerNet):
    """The chapter 4 two-layer network::

        a1 = x @ W1 + b1;  z1 = sigmoid(a1);  a2 = z1 @ W2 + b2;  y = softmax(a2)
        loss = cross_entropy_error(y, t)      (the book's: -(1/N) sum log(y[n, label] + 1e-7))

    ``gradient`` is the book's hand-derived backward (dy = (y - t) / N for one-hot t; integer labels
    are taken as their one-hot rows), ``numerical_gradient`` the central difference of ``loss``.
    ``save_params`` / ``load_params`` (not in the book's chapter 4 class) write and read the book's
    pickle format, a dict {'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}.

    Args:
        input_size, hidden_size, output_size: layer widths.
        weight_init_std: the weights' standard deviation (default 0.01); W1 then W2 are drawn with
            ``np.random.randn`` from NumPy's global generator, biases are zeros.

    Attributes:
        params: {'W1': (input, hidden), 'b1': (hidden,), 'W2': (hidden, output), 'b2': (output,)}.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, weight_init_std: float = 0.01) -> None:
        check_sizes(input_size, [hidden_size], output_size)
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)  # noqa: NPY002 (the book's)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)  # noqa: NPY002
        self.params["b2"] = np.zeros(output_size)
        self._slots = {}  # no layers: predict reads params directly

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(N, input_size) -> probabilities (N, output_size)."""
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        return softmax(a2)

    def loss(self, x: np.ndarray, t: np.ndarray):
        """The book's cross-entropy of the prediction (t: labels (N,) or one-hot rows (N, K))."""
        check_labels(x, t)
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Fraction of samples whose most probable class is the label (t: one-hot rows, or labels)."""
        check_labels(x, t)
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray, *, book_loop: bool = False) -> dict[str, np.ndarray]:
        """Central differences of ``loss`` (h = 1e-4) for W1, b1, W2, b2.

        Default: ``scratch.fastgrad`` on Dense - Sigmoid - Dense with the textbook softmax
        cross-entropy (the same loss), equal to the book's loop to the rounding of the loss.
        ``book_loop=True`` runs the book's loop (each entry moved in place, the loss evaluated twice).
        """
        check_labels(x, t)
        if book_loop:
            def loss_w(_):
                return self.loss(x, t)
            return {k: book_numerical_gradient(loss_w, self.params[k]) for k in ("W1", "b1", "W2", "b2")}
        p = self.params
        dt = p["W1"].dtype
        d1 = L.Dense(*p["W1"].shape, W=p["W1"], b=p["b1"], dtype=dt)
        d2 = L.Dense(*p["W2"].shape, W=p["W2"], b=p["b2"], dtype=dt)
        d1.params["W"], d1.params["b"], d2.params["W"], d2.params["b"] = p["W1"], p["b1"], p["W2"], p["b2"]
        model = Sequential([d1, L.Sigmoid(dtype=dt), d2], names=["affine1", "sigmoid", "affine2"])
        keys = {"W1": "affine1.W", "b1": "affine1.b", "W2": "affine2.W", "b2": "affine2.b"}
        return fast_gradient_of(model, np.asarray(x, dtype=dt), t, S.SoftmaxCrossEntropy(semantics="textbook"), keys)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """The book's backward: {'W1', 'b1', 'W2', 'b2'} gradients of the loss."""
        check_labels(x, t)
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        grads = {}
        batch_num = x.shape[0]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)
        if t.ndim == 1:  # labels -> one-hot rows (the book needs one-hot t here)
            t = np.eye(y.shape[1], dtype=y.dtype)[t]
        dy = (y - t) / batch_num
        grads["W2"] = np.dot(z1.T, dy)
        grads["b2"] = np.sum(dy, axis=0)
        da1 = np.dot(dy, W2.T)
        dz1 = sigmoid_grad(a1) * da1
        grads["W1"] = np.dot(x.T, dz1)
        grads["b1"] = np.sum(dz1, axis=0)
        return grads
