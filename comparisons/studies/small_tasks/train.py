"""Train a small task in scratch, Keras and PyTorch in lock-step.

Same initial weights (drawn by scratch, transferred by ``reference.model_twin``), the same batches
in the same order, the same learning rate at every step, the same optimizer (one scratch object
from which ``comparisons.studies.mnist.optim`` builds the Keras and PyTorch optimizers). Per step the loss
before the update of each implementation is recorded; at the end, the train/test loss and
accuracy of each and the largest parameter difference from scratch.

PyTorch runs these networks on one intra-op thread (restored afterwards): on arrays of a few
dozen numbers a second thread does no work, and when the CPU is shared its synchronisation can
cost tens of milliseconds per step. The numbers are the same with one or two threads (such small
ops are never split between threads).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from comparisons.progress import Progress
from comparisons.studies.small_tasks import tasks as T
from comparisons.studies.small_tasks.data import Data
from comparisons.studies.small_tasks.impls import KerasTaskImpl, ScratchTaskImpl, TorchTaskImpl
from comparisons.studies.trainer.impls import KerasDriver, TorchDriver
from comparisons.studies.trainer.lockstep import batches
from reference import frameworks

IMPLS = ("scratch", "keras", "torch")
FRAMEWORKS = ("keras", "torch")


@dataclass
class TaskRun:
    """What one lock-step run of a task measured.

    Attributes:
        task: the task.
        dtype: ``"float64"`` or ``"float32"``.
        data: the data as trained on (in ``dtype``).
        impls: name -> trained implementation (``outputs(x)`` draws decision boundaries).
        steps: one row per step: step, lr, loss_<impl>, rel_diff_<framework> (|loss - scratch loss| /
            |scratch loss|).
        final: one row per implementation: train/test loss and accuracy, the worst step-loss
            relative difference and the largest |parameter - scratch parameter| at the end.
    """

    task: T.Task
    dtype: str
    data: Data
    impls: dict
    steps: pd.DataFrame = field(default_factory=pd.DataFrame)
    final: pd.DataFrame = field(default_factory=pd.DataFrame)

    def worst(self, framework: str) -> float:
        """The largest per-step relative loss difference of ``framework`` from scratch."""
        if framework not in FRAMEWORKS:
            raise ValueError(f"framework: expected one of {', '.join(FRAMEWORKS)}, got {framework!r}")
        return float(self.steps[f"rel_diff_{framework}"].max())


def build_impls(task: T.Task, dtype: str) -> dict:
    """scratch, Keras and PyTorch implementations of ``task`` with identical weights and optimizers."""
    from reference.model_twin import build_keras, build_torch

    model = task.build(dtype)
    opt = task.optimizer()  # one scratch object: Keras and PyTorch optimizers are built from it
    input_shape = (task.sizes[0],)
    impls = {"scratch": ScratchTaskImpl(model, opt, task.loss())}
    keras_twin, torch_twin = build_keras(model, input_shape), build_torch(model, input_shape)
    impls["keras"] = KerasTaskImpl(keras_twin, KerasDriver(opt, keras_twin, dtype), dtype, task.loss())
    impls["torch"] = TorchTaskImpl(torch_twin, TorchDriver(opt, torch_twin, dtype), task.loss())
    return impls


def run(name: str, dtype: str = "float64", *, progress: bool = False) -> TaskRun:
    """Train task ``name`` in lock-step in ``dtype`` and return what was measured."""
    task = T.get(name)
    dtype = T.check_dtype(dtype)
    with frameworks.interleaved():  # PyTorch on one thread: tiny steps interleaved with TensorFlow
        return _run(task, dtype, progress)


def _run(task: T.Task, dtype: str, progress: bool) -> TaskRun:
    name = task.name
    data = task.data().astype(dtype)
    impls = build_impls(task, dtype)
    n = len(data.x_train)
    if task.batch_size is None:
        order = itertools.repeat(np.arange(n), task.steps)
    else:
        order = batches(n, task.batch_size, task.steps, np.random.default_rng([task.seed, 1]), with_replacement=False)
    rows = []
    with Progress(task.steps, f"{name} {dtype}", unit="steps", enabled=None if progress else False) as bar:
        for step, idx in enumerate(order):
            x, t = data.x_train[idx], data.t_train[idx]
            row = {"step": step, "lr": task.lr}
            for impl_name, impl in impls.items():
                row[f"loss_{impl_name}"] = impl.step(x, t, task.lr, {})
            rows.append(row)
            bar.update(1)
    steps = pd.DataFrame(rows)
    base = steps["loss_scratch"]
    for fw in FRAMEWORKS:
        steps[f"rel_diff_{fw}"] = (steps[f"loss_{fw}"] - base).abs() / base.abs()
    record = TaskRun(task, dtype, data, impls, steps)
    record.final = _final(record)
    return record


def _final(record: TaskRun) -> pd.DataFrame:
    params = {k: impl.params() for k, impl in record.impls.items()}
    d = record.data
    rows = []
    for name, impl in record.impls.items():
        train_loss, train_acc = impl.evaluate(d.x_train, d.t_train)
        test_loss, test_acc = impl.evaluate(d.x_test, d.t_test)
        fw = name != "scratch"
        rows.append({
            "task": record.task.name, "dtype": record.dtype, "implementation": name,
            "final_step_loss": float(record.steps[f"loss_{name}"].iloc[-1]),
            "train_loss": train_loss, "train_acc": train_acc, "test_loss": test_loss, "test_acc": test_acc,
            "max_step_loss_rel_diff": record.worst(name) if fw else np.nan,
            "max_param_diff": max(float(np.abs(params[name][k].astype(np.float64) - v).max())
                                  for k, v in params["scratch"].items()) if fw else np.nan,
        })
    return pd.DataFrame(rows)


def run_all(names=None, dtypes=T.DTYPES, *, progress: bool = False) -> list[TaskRun]:
    """Run every task of ``names`` (default all) in every dtype of ``dtypes``."""
    names = list(T.TASKS) if names is None else list(names)
    for name in names:
        T.get(name)
    for dtype in dtypes:
        T.check_dtype(dtype)
    return [run(name, dtype, progress=progress) for dtype in dtypes for name in names]
