"""The book's ``ch08/deep_convnet.py``: six 3x3 convolutions, three poolings, two Affine layers, dropout."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from scratch.textbook._net import LayerNet, accuracy_batched, check_labels
from scratch.textbook.layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss
from scratch.textbook.simple_convnet import check_conv_param


def _conv(filter_num: int, pad: int) -> MappingProxyType:
    return MappingProxyType({"filter_num": filter_num, "filter_size": 3, "pad": pad, "stride": 1})


#: indices in ``layers`` of the layers holding W1 .. W8 (the book's tuple).
PARAM_LAYERS = (0, 2, 5, 7, 10, 12, 15, 18)


class DeepConvNet(LayerNet):
    """The chapter 8 network (over 99% on MNIST)::

        conv - relu - conv - relu - pool - conv - relu - conv - relu - pool -
        conv - relu - conv - relu - pool - affine - relu - dropout - affine - dropout - softmax

    Weights: He scales ``sqrt(2 / n)`` for the book's fixed fan-ins n = (9, 144, 144, 288, 288, 576,
    1024, hidden_size) (written for 1-channel 28 x 28 inputs and the default filters, as in the book)
    times ``np.random.randn``, W1 .. W8 in order from NumPy's global generator; zero biases. The two
    Dropout(0.5) layers draw their masks with ``np.random.rand`` at every ``loss`` (the book's loss
    always runs in training mode) and pass test-mode scores (times 0.5) in ``predict`` and ``accuracy``.

    Args:
        input_dim: (C, H, W) of one input (default (1, 28, 28)).
        conv_param_1 .. conv_param_6: {'filter_num', 'filter_size', 'pad', 'stride'} of each
            convolution (defaults: 16, 16, 32, 32, 64, 64 filters of 3 x 3, stride 1, pad 1 except
            pad 2 in the fourth).
        hidden_size: units of the hidden Affine layer (default 50).
        output_size: classes (default 10).

    Attributes:
        params: W1 .. W8 and b1 .. b8; layers: a list of the 20 layers; last_layer: the SoftmaxWithLoss.
    """

    def __init__(self, input_dim: tuple[int, int, int] = (1, 28, 28),
                 conv_param_1: Mapping[str, int] = _conv(16, 1), conv_param_2: Mapping[str, int] = _conv(16, 1),
                 conv_param_3: Mapping[str, int] = _conv(32, 1), conv_param_4: Mapping[str, int] = _conv(32, 2),
                 conv_param_5: Mapping[str, int] = _conv(64, 1), conv_param_6: Mapping[str, int] = _conv(64, 1),
                 hidden_size: int = 50, output_size: int = 10) -> None:
        convs = [check_conv_param(c, f"conv_param_{i}") for i, c in enumerate(
            (conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5, conv_param_6), start=1)]
        pre_node_nums = np.array([1 * 3 * 3, 16 * 3 * 3, 16 * 3 * 3, 32 * 3 * 3, 32 * 3 * 3, 64 * 3 * 3, 64 * 4 * 4,
                                  hidden_size])
        weight_init_scales = np.sqrt(2.0 / pre_node_nums)

        self.params = {}
        pre_channel_num = input_dim[0]
        for idx, conv_param in enumerate(convs):
            self.params["W" + str(idx + 1)] = weight_init_scales[idx] * np.random.randn(  # noqa: NPY002 (the book's)
                conv_param["filter_num"], pre_channel_num, conv_param["filter_size"], conv_param["filter_size"])
            self.params["b" + str(idx + 1)] = np.zeros(conv_param["filter_num"])
            pre_channel_num = conv_param["filter_num"]
        self.params["W7"] = weight_init_scales[6] * np.random.randn(64 * 4 * 4, hidden_size)  # noqa: NPY002
        self.params["b7"] = np.zeros(hidden_size)
        self.params["W8"] = weight_init_scales[7] * np.random.randn(hidden_size, output_size)  # noqa: NPY002
        self.params["b8"] = np.zeros(output_size)

        self.layers = []
        for i, conv_param in enumerate(convs, start=1):
            self.layers.append(Convolution(self.params["W" + str(i)], self.params["b" + str(i)],
                                           conv_param["stride"], conv_param["pad"]))
            self.layers.append(Relu())
            if i % 2 == 0:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers.append(Affine(self.params["W7"], self.params["b7"]))
        self.layers.append(Relu())
        self.layers.append(Dropout(0.5))
        self.layers.append(Affine(self.params["W8"], self.params["b8"]))
        self.layers.append(Dropout(0.5))
        self.last_layer = SoftmaxWithLoss()
        self._slots = {}
        for i, layer_idx in enumerate(PARAM_LAYERS, start=1):
            self._slots["W" + str(i)] = (self.layers[layer_idx], "W")
            self._slots["b" + str(i)] = (self.layers[layer_idx], "b")

    def predict(self, x: np.ndarray, train_flg: bool = False) -> np.ndarray:
        """(N, C, H, W) -> scores (N, output_size); train_flg: the Dropout layers in training mode."""
        for layer in self.layers:
            if isinstance(layer, Dropout):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray):
        """SoftmaxWithLoss of the training-mode scores (new dropout masks at every call, as the book)."""
        check_labels(x, t)
        return self.last_layer.forward(self.predict(x, train_flg=True), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 100) -> float:
        """The book's batched test-mode accuracy (samples after the last whole batch count as misses)."""
        check_labels(x, t)
        return accuracy_batched(lambda tx: self.predict(tx, train_flg=False), x, t, batch_size)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagation through one training-mode loss: W1 .. W8, b1 .. b8."""
        self.loss(x, t)
        self._backward()
        grads = {}
        for i, layer_idx in enumerate(PARAM_LAYERS, start=1):
            grads["W" + str(i)] = self.layers[layer_idx].dW
            grads["b" + str(i)] = self.layers[layer_idx].db
        return grads
