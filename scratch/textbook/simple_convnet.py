"""The book's ``ch07/simple_convnet.py``: conv - relu - pool - affine - relu - affine - softmax."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from scratch.textbook._net import LayerNet, accuracy_batched, check_labels
from scratch.textbook.layers import Affine, Convolution, Pooling, Relu, SoftmaxWithLoss

CONV_PARAM = MappingProxyType({"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1})
CONV_KEYS = ("filter_num", "filter_size", "pad", "stride")


def check_conv_param(conv_param: object, name: str = "conv_param") -> Mapping:
    if not isinstance(conv_param, Mapping) or any(k not in conv_param for k in CONV_KEYS):
        raise ValueError(f"{name}: expected a dict with keys {list(CONV_KEYS)}, got {conv_param!r}")
    return conv_param


class SimpleConvNet(LayerNet):
    """The chapter 7 ConvNet: Conv1 - Relu1 - Pool1 (2x2, stride 2) - Affine1 - Relu2 - Affine2.

    Weights ``weight_init_std * np.random.randn(...)`` in the order W1 (FN, C, FH, FW), W2, W3, from
    NumPy's global generator; zero biases. W2 has ``int(filter_num * (conv_output_size / 2) ** 2)``
    rows with ``conv_output_size = (input_size - filter_size + 2 * pad) / stride + 1``, the book's
    formula; when that is not the number of pooled values (an odd or fractional convolution output,
    where the book fails at the first forward) a ValueError says so at construction.

    Args:
        input_dim: (C, H, W) of one input (default (1, 28, 28)); H is used for the sizes.
        conv_param: {'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1} (the default).
        hidden_size: units of the hidden Affine layer (default 100).
        output_size: classes (default 10).
        weight_init_std: the weights' standard deviation (default 0.01).

    Attributes:
        params: W1, b1 (conv), W2, b2, W3, b3 (affine).
        layers: OrderedDict 'Conv1', 'Relu1', 'Pool1', 'Affine1', 'Relu2', 'Affine2'.
        last_layer: the SoftmaxWithLoss.
    """

    def __init__(self, input_dim: tuple[int, int, int] = (1, 28, 28), conv_param: Mapping[str, int] = CONV_PARAM,
                 hidden_size: int = 100, output_size: int = 10, weight_init_std: float = 0.01) -> None:
        conv_param = check_conv_param(conv_param)
        filter_num = conv_param["filter_num"]
        filter_size = conv_param["filter_size"]
        filter_pad = conv_param["pad"]
        filter_stride = conv_param["stride"]
        input_size = input_dim[1]
        conv_output_size = (input_size - filter_size + 2 * filter_pad) / filter_stride + 1
        pool_output_size = int(filter_num * (conv_output_size / 2) * (conv_output_size / 2))
        pooled = filter_num * (int(conv_output_size) // 2) ** 2
        if conv_output_size != int(conv_output_size) or pool_output_size != pooled:
            raise ValueError(f"conv_param: the convolution gives {conv_output_size} x {conv_output_size} outputs "
                             f"for input_dim {tuple(input_dim)}, so the 2 x 2 pooling gives {pooled} values but "
                             f"the book's formula sizes W2 for {pool_output_size}; expected an even whole output size")

        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(  # noqa: NPY002 (the book's generator)
            filter_num, input_dim[0], filter_size, filter_size)
        self.params["b1"] = np.zeros(filter_num)
        self.params["W2"] = weight_init_std * np.random.randn(pool_output_size, hidden_size)  # noqa: NPY002
        self.params["b2"] = np.zeros(hidden_size)
        self.params["W3"] = weight_init_std * np.random.randn(hidden_size, output_size)  # noqa: NPY002
        self.params["b3"] = np.zeros(output_size)

        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(self.params["W1"], self.params["b1"], filter_stride, filter_pad)
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W3"], self.params["b3"])
        self.last_layer = SoftmaxWithLoss()
        self._slots = {}
        for i, key in enumerate(("Conv1", "Affine1", "Affine2"), start=1):
            self._slots["W" + str(i)] = (self.layers[key], "W")
            self._slots["b" + str(i)] = (self.layers[key], "b")

    def loss(self, x: np.ndarray, t: np.ndarray):
        """SoftmaxWithLoss of the scores (t: labels (N,) or one-hot rows)."""
        check_labels(x, t)
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 100) -> float:
        """The book's batched accuracy (samples after the last whole batch count as misses)."""
        check_labels(x, t)
        return accuracy_batched(self.predict, x, t, batch_size)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagation: W1, b1, W2, b2, W3, b3."""
        self.loss(x, t)
        self._backward()
        grads = {}
        for i, key in enumerate(("Conv1", "Affine1", "Affine2"), start=1):
            grads["W" + str(i)], grads["b" + str(i)] = self.layers[key].dW, self.layers[key].db
        return grads
