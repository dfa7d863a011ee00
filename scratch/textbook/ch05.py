"""The book's chapter 5 ``TwoLayerNet`` (``ch05/two_layer_net.py``): Affine - ReLU - Affine - SoftmaxWithLoss."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from scratch.textbook._net import LayerNet, accuracy_whole, check_labels
from scratch.textbook.layers import Affine, Relu, SoftmaxWithLoss
from scratch.textbook.multi_layer_net import check_sizes


class TwoLayerNet(LayerNet):
    """The chapter 5 two-layer network, built from layers and trained by backpropagation.

    Weights ``weight_init_std * np.random.randn(...)`` (W1 then W2, from NumPy's global generator),
    zero biases.

    Args:
        input_size, hidden_size, output_size: layer widths.
        weight_init_std: the weights' standard deviation (default 0.01).

    Attributes:
        params: {'W1': (input, hidden), 'b1': (hidden,), 'W2': (hidden, output), 'b2': (output,)}.
        layers: OrderedDict 'Affine1', 'Relu1', 'Affine2'.
        lastLayer: the SoftmaxWithLoss (the book's attribute name).
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, weight_init_std: float = 0.01) -> None:
        check_sizes(input_size, [hidden_size], output_size)
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)  # noqa: NPY002 (the book's)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)  # noqa: NPY002
        self.params["b2"] = np.zeros(output_size)
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss()
        a1, a2 = self.layers["Affine1"], self.layers["Affine2"]
        self._slots = {"W1": (a1, "W"), "b1": (a1, "b"), "W2": (a2, "W"), "b2": (a2, "b")}

    def _last(self):
        return self.lastLayer

    def loss(self, x: np.ndarray, t: np.ndarray):
        """SoftmaxWithLoss of the scores (t: labels (N,) or one-hot rows (N, K))."""
        check_labels(x, t)
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Fraction of samples whose largest score is the label."""
        check_labels(x, t)
        return accuracy_whole(self.predict(x), t, x.shape[0])

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagation: {'W1', 'b1', 'W2', 'b2'} gradients of the loss."""
        self.loss(x, t)
        self._backward()
        a1, a2 = self.layers["Affine1"], self.layers["Affine2"]
        return {"W1": a1.dW, "b1": a1.db, "W2": a2.dW, "b2": a2.db}
