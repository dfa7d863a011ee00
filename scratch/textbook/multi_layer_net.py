"""The book's ``common/multi_layer_net.py``: a fully connected network with L2 weight decay."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from scratch.optimizers import coupled_decay, l2_penalty
from scratch.textbook._net import LayerNet, accuracy_whole, check_labels
from scratch.textbook.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss

ACTIVATIONS = {"sigmoid": Sigmoid, "relu": Relu}


def check_sizes(input_size: object, hidden_size_list: object, output_size: object) -> list[int]:
    """[input, *hidden, output] as ints, each >= 1; else ValueError naming the argument."""
    def positive(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
    if not positive(input_size):
        raise ValueError(f"input_size: expected a positive integer, got {input_size!r}")
    if not isinstance(hidden_size_list, (list, tuple)) or not all(positive(v) for v in hidden_size_list):
        raise ValueError(f"hidden_size_list: expected a list of positive integers, got {hidden_size_list!r}")
    if not positive(output_size):
        raise ValueError(f"output_size: expected a positive integer, got {output_size!r}")
    return [int(input_size), *(int(v) for v in hidden_size_list), int(output_size)]


def weight_scale(weight_init_std: object, fan_in: int) -> float:
    """The book's scale of layer weights: 'relu' / 'he' -> sqrt(2 / fan_in) (He), 'sigmoid' /
    'xavier' -> sqrt(1 / fan_in) (the book's "Xavier"), a number -> itself."""
    name = str(weight_init_std).lower()
    if name in ("relu", "he"):
        return np.sqrt(2.0 / fan_in)
    if name in ("sigmoid", "xavier"):
        return np.sqrt(1.0 / fan_in)
    if isinstance(weight_init_std, str) or isinstance(weight_init_std, bool) or not isinstance(
            weight_init_std, (int, float, np.integer, np.floating)):
        raise ValueError(f"weight_init_std: expected 'relu', 'he', 'sigmoid', 'xavier' or a number, got "
                         f"{weight_init_std!r}")
    return weight_init_std


def init_weights(sizes: list[int], weight_init_std: object) -> dict[str, np.ndarray]:
    """W1, b1, W2, b2, ...: ``scale * np.random.randn(fan_in, fan_out)`` and zero biases, drawn from
    NumPy's global generator in the book's order."""
    params: dict[str, np.ndarray] = {}
    for idx in range(1, len(sizes)):
        scale = weight_scale(weight_init_std, sizes[idx - 1])
        params["W" + str(idx)] = scale * np.random.randn(sizes[idx - 1], sizes[idx])  # noqa: NPY002 (the book's)
        params["b" + str(idx)] = np.zeros(sizes[idx])
    return params


def check_activation(activation: object) -> type:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected 'relu' or 'sigmoid', got {activation!r}")
    return ACTIVATIONS[activation]


class MultiLayerNet(LayerNet):
    """Affine - activation - ... - Affine - SoftmaxWithLoss, with the book's L2 weight decay::

        loss = SoftmaxWithLoss(predict(x), t) + sum_i 0.5 * weight_decay_lambda * sum(W_i**2)
        grads['W_i'] = dW_i + weight_decay_lambda * W_i;   grads['b_i'] = db_i

    Weights only (not biases). The L2 term is ``scratch.optimizers.l2_penalty`` and its gradient
    ``coupled_decay``: PyTorch ``SGD(weight_decay=lambda)`` on a parameter group of the weights,
    Keras ``kernel_regularizer=L2(lambda / 2)``.

    Args:
        input_size: inputs per sample (784 for MNIST).
        hidden_size_list: units of each hidden layer, e.g. [100, 100, 100].
        output_size: classes (10 for MNIST).
        activation: 'relu' or 'sigmoid'.
        weight_init_std: 'relu' / 'he' (sqrt(2 / fan_in)), 'sigmoid' / 'xavier' (sqrt(1 / fan_in)) or
            a number; weights are ``scale * np.random.randn(fan_in, fan_out)`` in layer order.
        weight_decay_lambda: lambda >= 0.

    Attributes:
        params: {'W1': (input, h1), 'b1': (h1,), ...}, the arrays the layers hold.
        layers: OrderedDict 'Affine1', 'Activation_function1', ..., 'Affine<n>'.
        last_layer: the SoftmaxWithLoss.
    """

    def __init__(self, input_size: int, hidden_size_list: list[int], output_size: int, activation: str = "relu",
                 weight_init_std: float | str = "relu", weight_decay_lambda: float = 0) -> None:
        sizes = check_sizes(input_size, hidden_size_list, output_size)
        act = check_activation(activation)
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = hidden_size_list
        self.hidden_layer_num = len(hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        l2_penalty({}, weight_decay_lambda, [])  # checks lambda
        self.params = init_weights(sizes, weight_init_std)
        self.layers = OrderedDict()
        self._slots = {}
        for idx in range(1, self.hidden_layer_num + 2):
            affine = Affine(self.params["W" + str(idx)], self.params["b" + str(idx)])
            self.layers["Affine" + str(idx)] = affine
            self._slots["W" + str(idx)], self._slots["b" + str(idx)] = (affine, "W"), (affine, "b")
            if idx <= self.hidden_layer_num:
                self.layers["Activation_function" + str(idx)] = act()
        self.last_layer = SoftmaxWithLoss()

    def _weight_keys(self) -> list[str]:
        return ["W" + str(idx) for idx in range(1, self.hidden_layer_num + 2)]

    def _decay(self) -> tuple[float, list[str]]:
        return self.weight_decay_lambda, self._weight_keys()

    def loss(self, x: np.ndarray, t: np.ndarray):
        """SoftmaxWithLoss of the scores plus 0.5 * lambda * sum of squared weights."""
        check_labels(x, t)
        y = self.predict(x)
        return self.last_layer.forward(y, t) + l2_penalty(self.params, self.weight_decay_lambda,
                                                          self._weight_keys())

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Fraction of samples whose largest score is the label (t: labels or one-hot rows)."""
        check_labels(x, t)
        return accuracy_whole(self.predict(x), t, x.shape[0])

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagation: {'W1': dL/dW1 + lambda * W1, 'b1': dL/db1, ...}."""
        self.loss(x, t)
        self._backward()
        grads = {}
        for idx in range(1, self.hidden_layer_num + 2):
            affine = self.layers["Affine" + str(idx)]
            grads["W" + str(idx)] = coupled_decay(affine.dW, affine.W, self.weight_decay_lambda)
            grads["b" + str(idx)] = affine.db
        return grads
