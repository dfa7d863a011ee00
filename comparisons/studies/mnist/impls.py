"""The three implementations behind one small interface for lock-step training.

``step(x, t, lr, masks) -> loss`` runs one training update and returns the loss computed before
it (as Keras's ``train_on_batch`` reports); ``evaluate(x, t)`` returns (mean loss, accuracy) in
evaluation mode; ``params()`` returns the parameters in scratch names and layouts.
"""

from __future__ import annotations

import numpy as np

from reference import frameworks
from reference.model_twin import ModelTwin
from scratch.losses import SoftmaxCrossEntropy
from scratch.model import Sequential

EVAL_BATCH = 1000  # evaluation in batches: bounded memory (a convnet's im2col on 10,000 images is large)


def _accuracy(logits: np.ndarray, t: np.ndarray) -> float:
    return float((logits.argmax(axis=1) == t).mean())


class ScratchImpl:
    name = "scratch"

    def __init__(self, model: Sequential, optimizer) -> None:
        self.model, self.optimizer, self.loss = model, optimizer, SoftmaxCrossEntropy()

    def step(self, x, t, lr, masks) -> float:
        logits = self.model.forward(x, training=True, masks=masks)
        value = float(self.loss.forward(logits, t))
        self.model.backward(self.loss.backward(), need_dx=False)  # no input gradient needed
        self.optimizer.step(self.model.params, self.model.grads, lr)
        return value

    def evaluate(self, x, t) -> tuple[float, float]:
        total, correct = 0.0, 0
        for i in range(0, len(x), EVAL_BATCH):
            logits = self.model.forward(x[i:i + EVAL_BATCH], training=False)
            total += float(self.loss.forward(logits, t[i:i + EVAL_BATCH])) * len(logits)
            correct += int((logits.argmax(1) == t[i:i + EVAL_BATCH]).sum())
        return total / len(x), correct / len(x)

    def params(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.model.params.items()}


class KerasImpl:
    """A Keras model trained by a ``GradientTape`` loop with a real Keras optimizer."""

    name = "keras"

    def __init__(self, twin: ModelTwin, driver, dtype: str) -> None:
        keras = frameworks.keras()
        self.twin, self.driver = twin, driver
        self.names = list(twin.params)
        self.vars = [twin.params[k][0] for k in self.names]
        self.loss = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=None, reduction="sum_over_batch_size", axis=-1, dtype=dtype)

        # The forward/backward is compiled once, as model.fit compiles its train step.
        self._grads = frameworks.tf().function(self._grads_eager, reduce_retracing=True)

    def _grads_eager(self, x, t):
        tf = frameworks.tf()
        with tf.GradientTape() as tape:
            logits = self.twin.model(x, training=True)
            value = self.loss(t, logits)
        return value, tape.gradient(value, self.vars)

    def step(self, x, t, lr, masks) -> float:
        self.twin.set_masks(masks)
        value, grads = self._grads(self.twin.to_fw(x), t)
        self.driver.apply(grads, lr)
        return float(value.numpy())

    def evaluate(self, x, t) -> tuple[float, float]:
        total, correct = 0.0, 0
        for i in range(0, len(x), EVAL_BATCH):
            logits = self.twin.model(self.twin.to_fw(x[i:i + EVAL_BATCH]), training=False)
            total += float(self.loss(t[i:i + EVAL_BATCH], logits).numpy()) * len(logits)
            correct += int((np.asarray(logits).argmax(1) == t[i:i + EVAL_BATCH]).sum())
        return total / len(x), correct / len(x)

    def params(self) -> dict[str, np.ndarray]:
        return self.twin.read("params")


class TorchImpl:
    """A PyTorch module trained by the usual zero_grad / backward / step loop."""

    name = "torch"

    def __init__(self, twin: ModelTwin, driver) -> None:
        torch = frameworks.torch()
        self.twin, self.driver = twin, driver
        self.loss = torch.nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0)

    def step(self, x, t, lr, masks) -> float:
        torch = frameworks.torch()
        self.twin.set_masks(masks)
        self.twin.model.train(True)
        self.driver.zero_grad()
        value = self.loss(self.twin.model(torch.from_numpy(x)), torch.from_numpy(t.astype(np.int64)))
        value.backward()
        self.driver.apply(None, lr)
        return float(value.item())

    def evaluate(self, x, t) -> tuple[float, float]:
        torch = frameworks.torch()
        self.twin.model.train(False)
        total, correct = 0.0, 0
        with torch.no_grad():
            for i in range(0, len(x), EVAL_BATCH):
                logits = self.twin.model(torch.from_numpy(x[i:i + EVAL_BATCH]))
                tb = torch.from_numpy(t[i:i + EVAL_BATCH].astype(np.int64))
                total += float(self.loss(logits, tb).item()) * len(tb)
                correct += int((logits.argmax(1) == tb).sum().item())
        return total / len(x), correct / len(x)

    def params(self) -> dict[str, np.ndarray]:
        return self.twin.read("params")
