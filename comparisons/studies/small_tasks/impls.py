"""The lock-step implementations of ``comparisons.studies.mnist.impls`` with the loss as a parameter.

The MNIST implementations train softmax cross-entropy on integer labels; the small tasks also
train a sigmoid output with the mean squared error. Each class here takes the scratch loss and
builds the framework loss with every argument explicit:

=========================  ==============================================  =========================================
scratch                    Keras                                           PyTorch
=========================  ==============================================  =========================================
``SoftmaxCrossEntropy()``  ``SparseCategoricalCrossentropy(from_logits=``  ``CrossEntropyLoss(weight=None,
                           ``True, ignore_class=None, reduction="sum_``    ignore_index=-100, reduction="mean",
                           ``over_batch_size", axis=-1)``                  label_smoothing=0.0)`` (int64 labels)
``MeanSquaredError()``     ``MeanSquaredError(reduction="sum_over_``       ``MSELoss(reduction="mean")``
                           ``batch_size")``                                (float targets of the output's shape)
=========================  ==============================================  =========================================

Besides ``step`` / ``params`` (unchanged), each has ``outputs(x)`` (evaluation-mode network output,
NumPy) and an ``evaluate(x, t)`` whose accuracy reads a single sigmoid output as class 1 above 0.5.
"""

from __future__ import annotations

import numpy as np

from comparisons.studies.mnist.impls import KerasImpl, ScratchImpl, TorchImpl
from comparisons.studies.small_tasks.data import class_labels
from reference import frameworks
from reference.model_twin import ModelTwin
from scratch import losses as S
from scratch.model import Sequential

LOSSES = (S.SoftmaxCrossEntropy, S.MeanSquaredError)


def _check_loss(loss: object) -> object:
    if type(loss) not in LOSSES:  # exact type: SumSquaredError is a MeanSquaredError with another reduction
        raise ValueError(f"loss: expected one of {', '.join(c.__name__ for c in LOSSES)}, got {type(loss).__name__}")
    return loss


def predicted_class(y: np.ndarray) -> np.ndarray:
    """Class per row of outputs ``y`` (N, K): argmax, or ``y > 0.5`` for one sigmoid output."""
    return (y[:, 0] > 0.5).astype(np.int64) if y.shape[1] == 1 else y.argmax(axis=1)


def accuracy(y: np.ndarray, t: np.ndarray) -> float:
    """Share of rows whose predicted class matches labels (N,) or 0/1 targets (N, 1)."""
    return float((predicted_class(y) == class_labels(t)).mean())


def keras_loss(loss: object, dtype: str):
    """The Keras loss computing what the scratch ``loss`` computes."""
    losses = frameworks.keras().losses
    if isinstance(_check_loss(loss), S.SoftmaxCrossEntropy):
        return losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=None,
                                                    reduction="sum_over_batch_size", axis=-1, dtype=dtype)
    return losses.MeanSquaredError(reduction="sum_over_batch_size", dtype=dtype)


def torch_loss(loss: object):
    """The PyTorch loss computing what the scratch ``loss`` computes."""
    nn = frameworks.torch().nn
    if isinstance(_check_loss(loss), S.SoftmaxCrossEntropy):
        return nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0)
    return nn.MSELoss(reduction="mean")


class ScratchTaskImpl(ScratchImpl):
    """``ScratchImpl`` training ``loss`` (a scratch loss) instead of softmax cross-entropy."""

    def __init__(self, model: Sequential, optimizer, loss: object) -> None:
        super().__init__(model, optimizer)
        self.loss = _check_loss(loss)

    def outputs(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(x)

    def evaluate(self, x, t) -> tuple[float, float]:
        y = self.outputs(x)
        return float(self.loss.forward(y, t)), accuracy(y, t)


class KerasTaskImpl(KerasImpl):
    """``KerasImpl`` training the Keras twin of a scratch loss."""

    def __init__(self, twin: ModelTwin, driver, dtype: str, loss: object) -> None:
        super().__init__(twin, driver, dtype)
        # Replaced before the first step: the compiled gradient function reads self.loss when it traces.
        self.loss = keras_loss(loss, dtype)

    def outputs(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.twin.model(self.twin.to_fw(x), training=False))

    def evaluate(self, x, t) -> tuple[float, float]:
        y = self.outputs(x)
        return float(np.asarray(self.loss(t, y))), accuracy(y, t)


class TorchTaskImpl(TorchImpl):
    """``TorchImpl`` training the PyTorch twin of a scratch loss."""

    def __init__(self, twin: ModelTwin, driver, loss: object) -> None:
        super().__init__(twin, driver)
        self.loss = torch_loss(loss)
        self._labels = isinstance(loss, S.SoftmaxCrossEntropy)  # class indices (int64) vs float targets

    def _target(self, t: np.ndarray):
        return frameworks.torch().from_numpy(t.astype(np.int64) if self._labels else np.ascontiguousarray(t))

    def step(self, x, t, lr, masks) -> float:
        torch = frameworks.torch()
        self.twin.set_masks(masks)
        self.twin.model.train(True)
        self.driver.zero_grad()
        value = self.loss(self.twin.model(torch.from_numpy(np.ascontiguousarray(x))), self._target(t))
        value.backward()
        self.driver.apply(None, lr)
        return float(value.item())

    def outputs(self, x: np.ndarray) -> np.ndarray:
        torch = frameworks.torch()
        self.twin.model.train(False)
        with torch.no_grad():
            return self.twin.model(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    def evaluate(self, x, t) -> tuple[float, float]:
        torch = frameworks.torch()
        y = self.outputs(x)
        with torch.no_grad():
            value = self.loss(torch.from_numpy(y), self._target(t))
        return float(value.item()), accuracy(y, t)
