"""The implementations the benchmark times, behind one interface.

``train(iterations) -> seconds`` runs that many SGD steps on consecutive training batches (going
on where the previous call stopped, wrapping at the end of the set); ``evaluate() -> (seconds,
accuracy)`` classifies the 10,000 test images in batches of ``EVAL_BATCH`` (scratch and PyTorch,
through the trainer's ``evaluate``, also compute the loss of each batch: a softmax over 10 columns,
a small share of the forward pass).

Every implementation trains the same model (the frameworks get the scratch model's initial
weights through ``reference.model_twin``) with plain SGD at the same learning rate, softmax
cross-entropy on logits (the Keras and PyTorch losses from the reference builders, as in the
parity run), and the recipe's batch size:

* ``scratch`` and ``torch``: the lock-step trainer's own step (``studies.trainer.impls``), as the
  MNIST runs train: ``Sequential.forward`` / ``backward(need_dx=False)`` / ``optimizers.SGD.step``,
  and PyTorch's usual ``zero_grad`` / ``loss.backward()`` / ``torch.optim.SGD.step`` loop;
* ``keras_fit``: ``model.fit`` on the batches of one call (its per-call set-up included);
* ``keras_loop``: a ``tf.function`` train step (``GradientTape``, ``optimizer.apply``), the
  custom loop of the Keras guides. The trainer's Keras step applies the update in a second
  compiled call and reads the parameters back each step (the lock-step comparison needs them):
  the benchmark times what a Keras user runs instead.

Dropout: the twins are built with each framework's own ``Dropout`` (``dropout="own"``), which draws
its own masks, as scratch's ``Dropout`` does: every implementation pays for its own random numbers.
"""

from __future__ import annotations

import time

from comparisons.studies import models
from comparisons.studies.trainer import impls as trainer
from reference import keras_losses
from scratch import optimizers as O
from scratch.losses import SoftmaxCrossEntropy

EVAL_BATCH = 1000  # test images per forward pass when evaluating (bounded memory)
IMPLS = ("scratch", "torch", "keras_fit", "keras_loop")
FRAMEWORK = {"scratch": None, "torch": "torch", "keras_fit": "keras", "keras_loop": "keras"}


def learning_rate(name: str) -> float:
    """The recipe's SGD learning rate; 0.01 for recipes that use another optimizer."""
    recipe = models.get(name).recipe
    return float(recipe.optimizer_args.get("learning_rate", 0.01)) if recipe.optimizer == "sgd" else 0.01


class _Batches:
    """Consecutive (start, stop) batch bounds over ``n`` examples, wrapping at the end."""

    def __init__(self, n: int, batch: int) -> None:
        self.n, self.batch, self.pos = n, batch, 0

    def take(self, iterations: int) -> list[tuple[int, int]]:
        out = []
        for _ in range(iterations):
            if self.pos + self.batch > self.n:
                self.pos = 0
            out.append((self.pos, self.pos + self.batch))
            self.pos += self.batch
        return out


def _sgd() -> O.SGD:
    """Plain SGD, every hyperparameter explicit; the learning rate is passed at each step."""
    return O.SGD(momentum=0.0, nesterov=False, momentum_form="keras", dampening=0.0, weight_decay=0.0)


class _TrainerTimer:
    """Times a lock-step trainer implementation (``studies.trainer.impls``) on consecutive batches."""

    def __init__(self, impl, data, batch: int, lr: float) -> None:
        (self.x, self.t), (self.xt, self.tt) = data
        self.impl, self.lr = impl, lr
        self.batches = _Batches(len(self.x), batch)

    def train(self, iterations: int) -> float:
        bounds = self.batches.take(iterations)
        start = time.perf_counter()
        for a, b in bounds:
            self.impl.step(self.x[a:b], self.t[a:b], self.lr, None)
        return time.perf_counter() - start

    def evaluate(self) -> tuple[float, float]:
        start = time.perf_counter()
        _, accuracy = self.impl.evaluate(self.xt, self.tt)
        return time.perf_counter() - start, accuracy


class ScratchImpl(_TrainerTimer):
    def __init__(self, model, data, batch: int, lr: float) -> None:
        super().__init__(trainer.ScratchImpl(model, _sgd()), data, batch, lr)
        self.model = model


class TorchImpl(_TrainerTimer):
    def __init__(self, model, data, batch: int, lr: float) -> None:
        from reference.model_twin import build_torch

        twin = build_torch(model, data[0][0].shape[1:], dropout="own")
        driver = trainer.TorchDriver(_sgd(), twin, model.dtype.name)
        super().__init__(trainer.TorchImpl(twin, driver), data, batch, lr)
        self.model = twin.model


def _keras_model(model, x_shape):
    """The Keras twin with the framework's own Dropout layers; (keras model, NCHW->fw converter)."""
    from reference.model_twin import build_keras

    twin = build_keras(model, x_shape, dropout="own")
    return twin.model, twin.to_fw


def _keras_parts(lr: float, dtype: str):
    import keras

    optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=0.0, nesterov=False, weight_decay=None,
                                     clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False)
    loss = keras_losses.loss_fn(SoftmaxCrossEntropy(), 1, dtype)[0]  # the parity run's twin
    return optimizer, loss


class KerasFitImpl:
    def __init__(self, model, data, batch: int, lr: float) -> None:
        (x, t), (xt, tt) = data
        dtype = model.dtype.name
        self.model, to_fw = _keras_model(model, x.shape[1:])
        self.x, self.t, self.xt, self.tt = to_fw(x), t, to_fw(xt), tt
        optimizer, loss = _keras_parts(lr, dtype)
        self.model.compile(optimizer=optimizer, loss=loss, metrics=None, jit_compile=False, steps_per_execution=1,
                           run_eagerly=False)
        self.batch = batch
        self.batches = _Batches(len(x), batch)

    def train(self, iterations: int) -> float:
        bounds = self.batches.take(iterations)
        a, b = bounds[0][0], bounds[-1][1]
        if b - a != iterations * self.batch:  # wrapped around: start this call at the beginning
            a, b = 0, iterations * self.batch
            self.batches.pos = b
        start = time.perf_counter()
        self.model.fit(self.x[a:b], self.t[a:b], batch_size=self.batch, epochs=1, shuffle=False, verbose=0)
        return time.perf_counter() - start

    def evaluate(self) -> tuple[float, float]:
        start = time.perf_counter()
        logits = self.model.predict(self.xt, batch_size=EVAL_BATCH, verbose=0)
        seconds = time.perf_counter() - start
        return seconds, float((logits.argmax(axis=1) == self.tt).mean())


class KerasLoopImpl:
    def __init__(self, model, data, batch: int, lr: float) -> None:
        import tensorflow as tf

        (x, t), (xt, tt) = data
        dtype = model.dtype.name
        self.model, to_fw = _keras_model(model, x.shape[1:])
        self.x, self.t, self.xt, self.tt = to_fw(x), t, to_fw(xt), tt
        self.optimizer, self.loss = _keras_parts(lr, dtype)
        self.optimizer.build(self.model.trainable_variables)
        self.batches = _Batches(len(x), batch)
        self._step = tf.function(self._step_eager, jit_compile=False, reduce_retracing=True)
        self._predict = tf.function(lambda v: self.model(v, training=False), jit_compile=False)

    def _step_eager(self, x, t):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = self.loss(t, self.model(x, training=True))
        grads = tape.gradient(value, self.model.trainable_variables)
        self.optimizer.apply(grads, self.model.trainable_variables)
        return value

    def train(self, iterations: int) -> float:
        bounds = self.batches.take(iterations)
        start = time.perf_counter()
        for a, b in bounds:
            self._step(self.x[a:b], self.t[a:b])
        return time.perf_counter() - start

    def evaluate(self) -> tuple[float, float]:
        start = time.perf_counter()
        correct = 0
        for a in range(0, len(self.xt), EVAL_BATCH):
            logits = self._predict(self.xt[a:a + EVAL_BATCH]).numpy()
            correct += int((logits.argmax(axis=1) == self.tt[a:a + EVAL_BATCH]).sum())
        return time.perf_counter() - start, correct / len(self.xt)


CLASSES = {"scratch": ScratchImpl, "torch": TorchImpl, "keras_fit": KerasFitImpl, "keras_loop": KerasLoopImpl}
