"""The small tasks on the shared lock-step trainer (``comparisons.studies.trainer``): the scratch
loss is a parameter there, and the Keras and PyTorch losses come from the reference builders:

=========================  ==============================================  =========================================
scratch                    Keras                                           PyTorch
=========================  ==============================================  =========================================
``SoftmaxCrossEntropy()``  ``SparseCategoricalCrossentropy(from_logits=``  ``CrossEntropyLoss(weight=None,
                           ``True, ignore_class=None, reduction="sum_``    ignore_index=-100, reduction="mean",
                           ``over_batch_size", axis=-1)``                  label_smoothing=0.0)`` (int64 labels)
``MeanSquaredError()``     ``MeanSquaredError(reduction="sum_over_``       ``MSELoss(reduction="mean")``
                           ``batch_size")``                                (float targets of the output's shape)
=========================  ==============================================  =========================================

The classes here check that the loss is one of those two and evaluate on the whole (small) set at
once, with an accuracy that reads a single sigmoid output as class 1 above 0.5.
"""

from __future__ import annotations

import numpy as np

from comparisons.studies.small_tasks.data import class_labels
from comparisons.studies.trainer.impls import KerasImpl, ScratchImpl, TorchImpl
from reference import frameworks, torch_losses
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


class ScratchTaskImpl(ScratchImpl):
    """``ScratchImpl`` training ``loss`` (a scratch loss) instead of softmax cross-entropy."""

    def __init__(self, model: Sequential, optimizer, loss: object) -> None:
        super().__init__(model, optimizer, _check_loss(loss))

    def evaluate(self, x, t) -> tuple[float, float]:
        y = self.outputs(x)
        return float(self.loss.forward(y, t)), accuracy(y, t)


class KerasTaskImpl(KerasImpl):
    """``KerasImpl`` training the Keras twin of a scratch loss."""

    def __init__(self, twin: ModelTwin, driver, dtype: str, loss: object) -> None:
        target_ndim = 1 if isinstance(_check_loss(loss), S.SoftmaxCrossEntropy) else 2
        super().__init__(twin, driver, dtype, loss, target_ndim)

    def evaluate(self, x, t) -> tuple[float, float]:
        y = self.outputs(x)
        return float(np.asarray(self.loss(t, y))), accuracy(y, t)


class TorchTaskImpl(TorchImpl):
    """``TorchImpl`` training the PyTorch twin of a scratch loss."""

    def __init__(self, twin: ModelTwin, driver, loss: object) -> None:
        target_ndim = 1 if isinstance(_check_loss(loss), S.SoftmaxCrossEntropy) else 2
        super().__init__(twin, driver, loss, target_ndim)

    def evaluate(self, x, t) -> tuple[float, float]:
        torch = frameworks.torch()
        y = self.outputs(x)
        with torch.no_grad():
            value = self.loss(torch.from_numpy(y), torch_losses.target(t))
        return float(value.item()), accuracy(y, t)
