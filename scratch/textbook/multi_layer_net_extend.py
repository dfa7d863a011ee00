"""The book's ``common/multi_layer_net_extend.py``: MultiLayerNet with dropout and batch normalization."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from scratch.optimizers import coupled_decay, l2_penalty
from scratch.optimizers.base import check_flag
from scratch.textbook._net import LayerNet, accuracy_whole, check_labels
from scratch.textbook.layers import Affine, BatchNormalization, Dropout, SoftmaxWithLoss
from scratch.textbook.multi_layer_net import check_activation, check_sizes, init_weights


class MultiLayerNetExtend(LayerNet):
    """Affine - [BatchNorm] - activation - [Dropout] - ... - Affine - SoftmaxWithLoss, with the book's
    L2 weight decay on the weights only (see :class:`scratch.textbook.multi_layer_net.MultiLayerNet`).

    ``predict(x, train_flg)`` runs Dropout and BatchNormalization in training mode when ``train_flg``
    is True; ``loss`` defaults to ``train_flg=False`` and ``gradient`` uses ``train_flg=True``, as
    the book. Dropout masks are drawn with ``np.random.rand`` at each training forward, in layer order,
    as the book draws them.

    Args:
        input_size, hidden_size_list, output_size, activation, weight_init_std, weight_decay_lambda:
            as MultiLayerNet.
        use_dropout: a Dropout after each hidden activation (default False).
        dropout_ration: its ratio (the book's spelling; default 0.5).
        use_batchnorm: a BatchNormalization before each hidden activation, with params
            ``gamma<i>`` = ones and ``beta<i>`` = zeros (default False).

    Attributes:
        params: W1, b1, ..., then gamma1, beta1, ... (the book's order); the arrays the layers hold.
        layers: OrderedDict 'Affine1', 'BatchNorm1', 'Activation_function1', 'Dropout1', ...
        last_layer: the SoftmaxWithLoss.
    """

    def __init__(self, input_size: int, hidden_size_list: list[int], output_size: int, activation: str = "relu",
                 weight_init_std: float | str = "relu", weight_decay_lambda: float = 0, use_dropout: bool = False,
                 dropout_ration: float = 0.5, use_batchnorm: bool = False) -> None:
        sizes = check_sizes(input_size, hidden_size_list, output_size)
        act = check_activation(activation)
        l2_penalty({}, weight_decay_lambda, [])  # checks lambda
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = hidden_size_list
        self.hidden_layer_num = len(hidden_size_list)
        self.use_dropout = check_flag(use_dropout, "use_dropout")
        self.weight_decay_lambda = weight_decay_lambda
        self.use_batchnorm = check_flag(use_batchnorm, "use_batchnorm")
        self.params = init_weights(sizes, weight_init_std)
        self.layers = OrderedDict()
        self._slots = {}
        for idx in range(1, self.hidden_layer_num + 2):
            i = str(idx)
            affine = Affine(self.params["W" + i], self.params["b" + i])
            self.layers["Affine" + i] = affine
            self._slots["W" + i], self._slots["b" + i] = (affine, "W"), (affine, "b")
            if idx > self.hidden_layer_num:
                break
            if self.use_batchnorm:
                self.params["gamma" + i] = np.ones(hidden_size_list[idx - 1])
                self.params["beta" + i] = np.zeros(hidden_size_list[idx - 1])
                bn = BatchNormalization(self.params["gamma" + i], self.params["beta" + i])
                self.layers["BatchNorm" + i] = bn
                self._slots["gamma" + i], self._slots["beta" + i] = (bn, "gamma"), (bn, "beta")
            self.layers["Activation_function" + i] = act()
            if self.use_dropout:
                self.layers["Dropout" + i] = Dropout(dropout_ration)
        self.last_layer = SoftmaxWithLoss()

    def _weight_keys(self) -> list[str]:
        return ["W" + str(idx) for idx in range(1, self.hidden_layer_num + 2)]

    def _decay(self) -> tuple[float, list[str]]:
        return self.weight_decay_lambda, self._weight_keys()

    def _loss_train_flg(self) -> bool:
        return True

    def _numgrad_keys(self) -> list[str]:
        keys = []
        for idx in range(1, self.hidden_layer_num + 2):
            keys += ["W" + str(idx), "b" + str(idx)]
            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                keys += ["gamma" + str(idx), "beta" + str(idx)]
        return keys

    def predict(self, x: np.ndarray, train_flg: bool = False) -> np.ndarray:
        """(N, input_size) -> scores (N, output_size); train_flg: Dropout / BatchNorm in training mode."""
        for key, layer in self.layers.items():
            if "Dropout" in key or "BatchNorm" in key:
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray, train_flg: bool = False):
        """SoftmaxWithLoss of the scores plus 0.5 * lambda * sum of squared weights."""
        check_labels(x, t)
        y = self.predict(x, train_flg)
        return self.last_layer.forward(y, t) + l2_penalty(self.params, self.weight_decay_lambda,
                                                          self._weight_keys())

    def accuracy(self, X: np.ndarray, T: np.ndarray) -> float:
        """Fraction of samples whose largest score (test mode) is the label (T: labels or one-hot rows)."""
        check_labels(X, T, "T")
        return accuracy_whole(self.predict(X, train_flg=False), T, X.shape[0])

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagation of a training-mode loss: W (+ lambda * W), b, gamma, beta per layer."""
        self.loss(x, t, train_flg=True)
        self._backward()
        grads = {}
        for idx in range(1, self.hidden_layer_num + 2):
            i = str(idx)
            affine = self.layers["Affine" + i]
            grads["W" + i] = coupled_decay(affine.dW, self.params["W" + i], self.weight_decay_lambda)
            grads["b" + i] = affine.db
            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                grads["gamma" + i] = self.layers["BatchNorm" + i].dgamma
                grads["beta" + i] = self.layers["BatchNorm" + i].dbeta
        return grads
