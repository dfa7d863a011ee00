"""Train one model spec in scratch, Keras and PyTorch in lock-step.

One NumPy generator orders the batches, another draws the dropout masks; every implementation
gets the same batch, the same masks and the same learning rate at every step, from the same
initial weights (drawn by scratch, transferred to the others). Per step the pre-update loss of
each implementation is recorded; per epoch the train/test loss and accuracy, the wall time and the
largest parameter difference from scratch.

Recipes given in epochs shuffle the training set each epoch (disjoint batches). Recipes given in
iterations sample each batch with replacement, as the textbook's ``np.random.choice(train_size,
batch_size)`` does; an "epoch" is then ``train_size / batch_size`` iterations.

A run stops early on a non-finite loss, on a loss above ``DIVERGED_FACTOR`` times the
implementation's first loss (finite but exploding: nothing useful follows), or on Ctrl-C; the
record then says how and where (``stop``: reason, epoch, step) and the files written are complete
for the epochs that finished.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from comparisons.progress import Progress
from comparisons.studies.models import ModelSpec
from scratch._checks import NonFiniteError
from scratch.layers import Dropout

IMPLS = ("scratch", "keras", "torch")


#: A loss above this multiple of the implementation's first (pre-update) loss stops the run as
#: diverged: a trained classifier's loss falls below its first one, and a millionfold rise means the
#: weights are exploding (only float range, not the loss, would stop them later).
DIVERGED_FACTOR = 1e6


class NonFiniteLoss(RuntimeError):
    """Training produced a NaN or infinite loss."""

    reason = "non-finite loss"


class DivergedLoss(NonFiniteLoss):
    """Training produced a loss above ``DIVERGED_FACTOR`` times the first loss."""

    reason = "diverged"


@dataclass
class RunConfig:
    """What to run. ``epochs`` / ``iterations`` default to the recipe's (shortened by the caller)."""

    model: str
    impls: tuple[str, ...] = IMPLS
    dtype: str = "float64"
    epochs: float | None = None
    train_limit: int | None = None
    test_limit: int | None = None
    seed: int = 0
    progress: bool = True

    def digest(self) -> str:
        """A hash of what the run computes (every field but ``progress``): equal digests, equal results."""
        fields = {k: v for k, v in dataclasses.asdict(self).items() if k != "progress"}
        fields["impls"] = list(fields["impls"])
        fields["epochs"] = None if fields["epochs"] is None else float(fields["epochs"])
        text = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class RunRecord:
    """Everything a run measured; complete up to the last finished epoch."""

    config: RunConfig
    impls: list[str] = field(default_factory=list)  # as run, e.g. scratch, scratch@keras, keras, torch
    steps: list[dict] = field(default_factory=list)  # step, epoch, lr, loss_<impl>
    epochs: list[dict] = field(default_factory=list)  # epoch, impl, losses, accuracies, seconds, max_param_diff
    param_diffs: list[dict] = field(default_factory=list)  # epoch, impl, param, max |param - scratch param|
    stopped: str = ""  # why the run ended early, if it did
    stop: dict = field(default_factory=dict)  # reason ("non-finite loss", "diverged", "interrupted"), epoch, step
    n_train: int = 0  # images the run trained and evaluated on
    n_test: int = 0
    finished: bool = False  # run() returned: the whole budget ran, or a non-finite/diverged loss stopped it

    def baseline(self, impl: str) -> str:
        """The scratch run a framework is compared with: its own-form scratch run if there is one."""
        return f"scratch@{impl}" if f"scratch@{impl}" in self.impls else "scratch"


def dropout_shapes(spec: ModelSpec, model) -> dict[str, tuple[int, ...]]:
    """Per-sample input shape of every Dropout layer (masks are drawn per batch with these)."""
    x = np.zeros((1, *spec.input_shape), dtype=model.dtype)
    shapes = {}
    for name, layer in zip(model.names, model.layers, strict=True):
        if isinstance(layer, Dropout):
            shapes[name] = x.shape[1:]
        x = layer.forward(x, training=False)
    return shapes


def batches(n_train: int, batch_size: int, steps: int, rng: np.random.Generator, *, with_replacement: bool):
    """Index arrays for ``steps`` batches: epoch permutations, or independent draws with replacement."""
    if with_replacement:
        for _ in range(steps):
            yield rng.choice(n_train, batch_size)
        return
    done = 0
    while done < steps:
        order = rng.permutation(n_train)
        for i in range(0, n_train, batch_size):
            if done == steps:
                return
            yield order[i:i + batch_size]
            done += 1


def run(config: RunConfig, spec: ModelSpec, data, impls: dict, lr_at: Callable[[int, int], float],
        on_epoch: Callable[[RunRecord], None] | None = None) -> RunRecord:
    """Train ``impls`` (name -> implementation) in lock-step on ``data``.

    Args:
        data: ((x_train, t_train), (x_test, t_test)), already limited and typed.
        lr_at: ``lr_at(step, epoch)`` learning rate for a step (0-based).
        on_epoch: called after each finished epoch (writes the CSVs, so an interruption leaves
            complete files up to the last epoch).
    """
    (x_train, t_train), (x_test, t_test) = data
    recipe = spec.recipe
    n = len(x_train)
    steps_per_epoch = math.ceil(n / recipe.batch_size)
    epochs = config.epochs
    total_steps = max(1, round(epochs * steps_per_epoch))
    with_replacement = recipe.iterations is not None
    record = RunRecord(config, impls=list(impls), n_train=n, n_test=len(x_test))
    scratch = impls.get("scratch")
    masks_rng = np.random.default_rng([config.seed, 2])
    shapes = dropout_shapes(spec, scratch.model) if scratch is not None else {}
    rate = {name: scratch.model.layer(name).rate for name in shapes}
    seconds = dict.fromkeys(impls, 0.0)
    first_loss: dict[str, float] = {}
    step = epoch = 0
    bar = Progress(total=total_steps, desc=f"{config.model} {config.dtype}", unit="steps",
                   enabled=None if config.progress else False)
    try:
        for step, idx in enumerate(batches(n, recipe.batch_size, total_steps, np.random.default_rng([config.seed, 1]),
                                           with_replacement=with_replacement)):
            epoch = step // steps_per_epoch
            lr = float(lr_at(step, epoch))
            masks = {name: masks_rng.random((len(idx), *shape)) >= rate[name] for name, shape in shapes.items()}
            row = {"step": step, "epoch": epoch, "lr": lr}
            for name, impl in impls.items():
                start = time.perf_counter()
                try:
                    loss = impl.step(x_train[idx], t_train[idx], lr, masks)
                except NonFiniteError as err:  # scratch refuses non-finite activations before the loss
                    loss, row[f"error_{name}"] = float("nan"), str(err)
                seconds[name] += time.perf_counter() - start
                row[f"loss_{name}"] = loss
                if not math.isfinite(loss):
                    record.steps.append(row)
                    raise NonFiniteLoss(f"{name} produced a non-finite loss ({loss}) at step {step} (epoch {epoch}); "
                                        "the run stopped there and kept what was recorded so far")
                first = first_loss.setdefault(name, loss)
                if abs(loss) > DIVERGED_FACTOR * abs(first) and first != 0:
                    record.steps.append(row)
                    raise DivergedLoss(f"{name}'s loss {loss:.3e} at step {step} (epoch {epoch}) exceeds "
                                       f"{DIVERGED_FACTOR:g} times its first loss {first:.3e}: the run diverged and "
                                       "stopped there, keeping what was recorded so far")
            record.steps.append(row)
            bar.update(1)
            last_of_epoch = (step + 1) % steps_per_epoch == 0 or step + 1 == total_steps
            if last_of_epoch:
                _evaluate(record, impls, epoch, seconds, (x_train, t_train), (x_test, t_test), lr)
                seconds = dict.fromkeys(impls, 0.0)
                if on_epoch is not None:
                    on_epoch(record)
    except NonFiniteLoss as err:
        record.stopped = str(err)
        record.stop = {"reason": err.reason, "epoch": epoch, "step": step}
        if on_epoch is not None:
            on_epoch(record)
    except KeyboardInterrupt as err:
        record.stopped = (f"interrupted at step {step} (epoch {epoch}); the per-epoch files are complete up to the "
                          "last finished epoch")
        record.stop = {"reason": "interrupted", "epoch": epoch, "step": step}
        bar.close()
        if on_epoch is not None:
            on_epoch(record)  # run.json says interrupted
        err.record = record  # the caller writes the pages of what was done
        raise
    finally:
        bar.close()
    record.finished = True
    return record


def _evaluate(record: RunRecord, impls: dict, epoch: int, seconds: dict, train, test, lr: float) -> None:
    params = {name: impl.params() for name, impl in impls.items()}
    for name, impl in impls.items():
        train_loss, train_acc = impl.evaluate(*train)
        test_loss, test_acc = impl.evaluate(*test)
        reference = params.get(record.baseline(name))
        diff = float("nan")
        if reference is not None and not name.startswith("scratch"):
            per_param = {k: float(np.abs(params[name][k].astype(np.float64) - reference[k]).max()) for k in reference}
            record.param_diffs += [{"epoch": epoch + 1, "impl": name, "compared with": record.baseline(name),
                                    "param": k, "max_abs_diff": v} for k, v in per_param.items()]
            diff = max(per_param.values())
        record.epochs.append({"epoch": epoch + 1, "impl": name, "lr": lr, "train_loss": train_loss,
                              "train_acc": train_acc, "test_loss": test_loss, "test_acc": test_acc,
                              "seconds": seconds[name], "max_param_diff": diff})
