"""Keras twins of the scratch schedules, and their learning rates read the way training reads them.

dtype: Keras schedules compute in the dtype of ``initial_learning_rate`` after
``ops.convert_to_tensor``: a Python float gives float32, ``np.float64`` gives float64. Every other
float hyperparameter goes through ``ops.cast(value, dtype)``, which converts a Python float to a
float32 tensor first (``ops.cast(0.96, "float64")`` = 0.9599999785423279), so for float64 every
float hyperparameter is passed as ``np.float64``. ``python_floats=True`` builds the float64 schedule
with Python floats for the other hyperparameters, as users usually write it (the pitfall).

Reading: the optimizer evaluates ``schedule(iterations)`` (int64 variable, updates already
applied) inside the ``tf.function`` that ``fit`` compiles (no XLA on CPU-only machines, see
``Trainer._resolve_auto_jit_compile``). ``lr_sequence`` does the same: it sets ``iterations`` and
reads ``optimizer.learning_rate`` in a ``tf.function`` (``mode="optimizer"``), or, bit-identical and
faster, maps the schedule over int64 steps in one ``tf.function`` (``mode="graph"``). Graph and
eager evaluation differ (by an ulp at some steps, and in ``CosineDecayRestarts`` by a whole
restart); ``mode="eager"`` is there to show it.
"""

from __future__ import annotations

import math

import numpy as np

from reference import frameworks
from scratch import schedules as S


def _floats(dtype: str, python_floats: bool):
    """The converter for float hyperparameters: np.float64 for float64, Python float for float32."""
    if dtype == "float64" and not python_floats:
        return np.float64
    return float


def build(schedule: S.Schedule, dtype: str, *, python_floats: bool = False):
    """The Keras ``LearningRateSchedule`` equal to ``schedule`` (every hyperparameter explicit).

    The initial learning rate is always converted for ``dtype`` (it sets the computation dtype);
    ``python_floats`` only affects the other float hyperparameters.
    """
    ks = frameworks.keras().optimizers.schedules
    lr0 = np.float64 if dtype == "float64" else float
    f = _floats(dtype, python_floats)
    if isinstance(schedule, S.ExponentialDecay):
        return ks.ExponentialDecay(lr0(schedule.initial_lr), schedule.decay_steps, f(schedule.decay_rate),
                                   staircase=schedule.staircase)
    if isinstance(schedule, S.PiecewiseConstant):
        return ks.PiecewiseConstantDecay(list(schedule.boundaries), [lr0(v) for v in schedule.values])
    if isinstance(schedule, S.PolynomialDecay):
        return ks.PolynomialDecay(lr0(schedule.initial_lr), schedule.decay_steps, end_learning_rate=f(schedule.end_lr),
                                  power=f(schedule.power), cycle=schedule.cycle)
    if isinstance(schedule, S.InverseTimeDecay):
        return ks.InverseTimeDecay(lr0(schedule.initial_lr), schedule.decay_steps, f(schedule.decay_rate),
                                   staircase=schedule.staircase)
    if isinstance(schedule, S.CosineDecay):
        target = None if schedule.warmup_target is None else f(schedule.warmup_target)
        return ks.CosineDecay(lr0(schedule.initial_lr), schedule.decay_steps, alpha=f(schedule.alpha),
                              warmup_target=target, warmup_steps=schedule.warmup_steps)
    if isinstance(schedule, S.CosineDecayRestarts):
        return ks.CosineDecayRestarts(lr0(schedule.initial_lr), schedule.first_decay_steps, t_mul=f(schedule.t_mul),
                                      m_mul=f(schedule.m_mul), alpha=f(schedule.alpha))
    raise ValueError(f"schedule: Keras has no schedule equal to {type(schedule).__name__}")


def lr_sequence(schedule: S.Schedule, n: int, dtype: str, *, python_floats: bool = False,
                mode: str = "graph") -> np.ndarray:
    """The learning rate an optimizer built with ``schedule`` uses for its first ``n`` updates.

    Modes: ``"graph"`` evaluates ``schedule(step)`` for int64 scalar steps inside one
    ``tf.function`` (``tf.map_fn``), bit-identical to ``"optimizer"``, which sets the optimizer's
    ``iterations`` and reads ``optimizer.learning_rate`` in a ``tf.function`` step by step (what a
    compiled train step does; 5-10x slower). ``"eager"`` calls the optimizer eagerly.
    ``WarmupCosineEpochs`` goes through ``LearningRateScheduler`` (``epoch_lrs``), each epoch's lr
    held for ``steps_per_epoch`` steps. Returned as float64 (exact copies of Keras's values).
    """
    if isinstance(schedule, S.WarmupCosineEpochs):
        epochs = -(-n // schedule.steps_per_epoch)
        per_epoch = epoch_lrs(warmup_cosine_function(schedule), epochs, schedule.max_lr, dtype)
        return np.repeat(per_epoch, schedule.steps_per_epoch)[:n]
    k, tf = frameworks.keras(), frameworks.tf()
    keras_schedule = build(schedule, dtype, python_floats=python_floats)
    if mode == "graph":
        out = tf.float64 if dtype == "float64" else tf.float32

        def all_steps(steps):
            return tf.map_fn(keras_schedule, steps, fn_output_signature=out)

        graph = tf.function(all_steps, autograph=False).get_concrete_function(tf.TensorSpec([n], tf.int64))
        return graph(tf.constant(np.arange(n), dtype=tf.int64)).numpy().astype(np.float64)
    opt = k.optimizers.SGD(learning_rate=keras_schedule)
    if mode == "eager":
        return np.array([_read(opt, s) for s in range(n)], dtype=np.float64)
    if mode != "optimizer":
        raise ValueError(f"mode: expected 'graph', 'optimizer' or 'eager', got {mode!r}")

    def at(step):
        opt.iterations.assign(step)
        return opt.learning_rate

    graph = tf.function(at, autograph=False).get_concrete_function(tf.TensorSpec([], tf.int64))
    return np.array([float(graph(tf.constant(s, dtype=tf.int64))) for s in range(n)], dtype=np.float64)


def _read(opt, step: int) -> float:
    opt.iterations.assign(step)
    return float(opt.learning_rate)


def warmup_cosine_function(schedule: S.WarmupCosineEpochs):
    """The ``schedule(epoch, lr)`` function Keras users write for a warm-up + cosine run."""
    max_lr, warmup, total, min_lr = schedule.max_lr, schedule.warmup_epochs, schedule.total_epochs, schedule.min_lr

    def warmup_cosine(epoch, lr):
        if epoch < warmup:
            return max_lr * (epoch + 1) / warmup
        progress = min(epoch - warmup, total - warmup) / (total - warmup)
        return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))

    return warmup_cosine


class _StubModel:
    """What ``LearningRateScheduler`` needs of a model: an ``optimizer`` with ``learning_rate``."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.stop_training = False


def sgd_with_lr_variable(lr: float, dtype: str):
    """A Keras SGD whose ``learning_rate`` variable has ``dtype`` (floatx is set only while building)."""
    k = frameworks.keras()
    previous = k.config.floatx()
    k.config.set_floatx(dtype)
    try:
        return k.optimizers.SGD(learning_rate=float(lr))
    finally:
        k.config.set_floatx(previous)


def epoch_lrs(fn, epochs: int, lr0: float, dtype: str) -> np.ndarray:
    """Drive ``keras.callbacks.LearningRateScheduler(fn)`` by hand: the lr of each 0-based epoch."""
    k = frameworks.keras()
    opt = sgd_with_lr_variable(lr0, dtype)
    cb = k.callbacks.LearningRateScheduler(fn, verbose=0)
    cb.set_model(_StubModel(opt))
    out = []
    for epoch in range(epochs):
        cb.on_epoch_begin(epoch)
        out.append(float(opt.learning_rate))
    return np.array(out, dtype=np.float64)
