"""Scratch, Keras and PyTorch behind one small interface, shared by the MNIST runs
(``studies.mnist``), the small tasks (``studies.small_tasks``), the naive port and the benchmark.

``step(x, t, lr, masks) -> loss`` runs one training update and returns the loss computed before
it (as Keras's ``train_on_batch`` reports); ``evaluate(x, t)`` returns (mean loss, accuracy) in
evaluation mode, in batches of ``EVAL_BATCH``; ``outputs(x)`` the evaluation-mode network output;
``params()`` the parameters in scratch names and layouts. Each takes the scratch loss it trains
(softmax cross-entropy on class indices by default) and the Keras and PyTorch sides build theirs
through the reference builders (``reference.keras_losses.loss_fn``, ``reference.torch_losses.loss_fn``),
every argument explicit.
"""

from __future__ import annotations

import numpy as np

from reference import frameworks, keras_losses, keras_optimizers, torch_losses, torch_optimizers
from reference.model_twin import ModelTwin
from scratch import optimizers as O
from scratch.losses import SoftmaxCrossEntropy
from scratch.model import Sequential

EVAL_BATCH = 1000  # evaluation in batches: bounded memory (a convnet's im2col on 10,000 images is large)


def _accuracy(logits: np.ndarray, t: np.ndarray) -> float:
    return float((logits.argmax(axis=1) == t).mean())


class ScratchImpl:
    name = "scratch"

    def __init__(self, model: Sequential, optimizer, loss: object | None = None) -> None:
        self.model, self.optimizer = model, optimizer
        self.loss = SoftmaxCrossEntropy() if loss is None else loss

    def step(self, x, t, lr, masks) -> float:
        logits = self.model.forward(x, training=True, masks=masks)
        value = float(self.loss.forward(logits, t))
        self.model.backward(self.loss.backward(), need_dx=False)  # no input gradient needed
        self.optimizer.step(self.model.params, self.model.grads, lr)
        return value

    def evaluate(self, x, t) -> tuple[float, float]:
        total, correct = 0.0, 0
        for i in range(0, len(x), EVAL_BATCH):
            logits = self.model.infer(x[i:i + EVAL_BATCH])  # no backward follows: no guard to record
            total += float(self.loss.forward(logits, t[i:i + EVAL_BATCH])) * len(logits)
            correct += int((logits.argmax(1) == t[i:i + EVAL_BATCH]).sum())
        return total / len(x), correct / len(x)

    def outputs(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(x)

    def params(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.model.params.items()}


class KerasImpl:
    """A Keras model trained by a ``GradientTape`` loop with a real Keras optimizer."""

    name = "keras"

    def __init__(self, twin: ModelTwin, driver, dtype: str, loss: object | None = None, target_ndim: int = 1) -> None:
        self.twin, self.driver = twin, driver
        self.names = list(twin.params)
        self.vars = [twin.params[k][0] for k in self.names]
        scratch_loss = SoftmaxCrossEntropy() if loss is None else loss
        self.loss = keras_losses.loss_fn(scratch_loss, target_ndim, dtype)[0]  # read when the step is traced

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

    def outputs(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.twin.model(self.twin.to_fw(x), training=False))

    def params(self) -> dict[str, np.ndarray]:
        return self.twin.read("params")


class TorchImpl:
    """A PyTorch module trained by the usual zero_grad / backward / step loop."""

    name = "torch"

    def __init__(self, twin: ModelTwin, driver, loss: object | None = None, target_ndim: int = 1) -> None:
        self.twin, self.driver = twin, driver
        scratch_loss = SoftmaxCrossEntropy() if loss is None else loss
        self.loss = torch_losses.loss_fn(scratch_loss, target_ndim, "float64")[0]

    def step(self, x, t, lr, masks) -> float:
        torch = frameworks.torch()
        self.twin.set_masks(masks)
        self.twin.model.train(True)
        self.driver.zero_grad()
        value = self.loss(self.twin.model(torch.from_numpy(np.ascontiguousarray(x))), torch_losses.target(t))
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
                tb = torch_losses.target(t[i:i + EVAL_BATCH])
                total += float(self.loss(logits, tb).item()) * len(tb)
                correct += int((logits.argmax(1) == tb).sum().item())
        return total / len(x), correct / len(x)

    def outputs(self, x: np.ndarray) -> np.ndarray:
        torch = frameworks.torch()
        self.twin.model.train(False)
        with torch.no_grad():
            return self.twin.model(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    def params(self) -> dict[str, np.ndarray]:
        return self.twin.read("params")


class KerasDriver:
    """Applies gradients from a GradientTape to the model's variables with the Keras optimizer."""

    def __init__(self, opt: O.Optimizer, twin: ModelTwin, dtype: str) -> None:
        self.names = list(twin.params)
        variables = {n: twin.params[n][0] for n in self.names}
        self.twin = keras_optimizers.build(opt, None, dtype, variables=variables)

    def apply(self, grads, lr: float) -> None:
        self.twin.step(dict(zip(self.names, grads, strict=True)), lr)


class TorchDriver:
    """Steps a ``torch.optim`` optimizer on the module's parameters after ``backward()``."""

    def __init__(self, opt: O.Optimizer, twin: ModelTwin, dtype: str) -> None:
        tensors = {}
        for n, (p, _) in twin.params.items():  # a handle over several parameters (a GRU's two biases): each
            tensors.update({f"{n}#{i}": part for i, part in enumerate(p.parts)} if hasattr(p, "parts") else {n: p})
        self.twin = torch_optimizers.build(opt, None, dtype, tensors=tensors)

    def zero_grad(self) -> None:
        self.twin.zero_grad()

    def apply(self, grads, lr: float) -> None:
        self.twin.step(None, lr)

