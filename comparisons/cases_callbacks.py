"""Cases of the table for callbacks (kind "callback").

Each case drives the scratch callbacks and the real framework ones through the same random loss
sequences (one setting of a grid per sequence, cycling) and compares the decisions as arrays over
all sequences: ``lr_per_epoch`` (S, E) = the lr after each epoch end, ``stop_epoch`` (-1 = never),
``final_params_epoch`` (whose weights the model holds after training), ``saved_epochs`` (S, E) 0/1,
``checkpoint_name_epoch`` (the 1-based ``{epoch}`` of the last file) and ``checkpoint_content``.
Keras callbacks run on a stub model (``reference.keras_callbacks``) and get Python-float logs, as
``fit`` gives them. float32 runs round the losses to float32 and keep Keras's lr in a float32
variable. EarlyStopping and ModelCheckpoint exist only in Keras; LearningRateScheduler's
PyTorch counterpart is MultiplicativeLR.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from comparisons.run import _pair
from comparisons.spec import Case, Compared, Context, Known, Tolerance
from reference.keras_callbacks import keras_from_torch
from reference.torch_callbacks import torch_from_keras
from scratch import callbacks as C

LR0 = 0.1
SEQUENCES = 300
EPOCHS = 20
KERAS_SRC = "https://github.com/keras-team/keras/blob/master/keras/src"
TORCH_DOCS = "https://pytorch.org/docs/stable/generated"

TOLERANCE = {
    "float64": Tolerance(1e-12, "float64: decisions are integers and every side computes lr0 * factor**k in the "
                                "same order, so the sequences are equal; 1e-12 is the table's schedule tolerance"),
    "float32": Tolerance(4e-6, "float32: Keras keeps the lr in a float32 variable and rounds it after each of up "
                               "to ~20 changes (<= 6e-8 each); decisions themselves are exact"),
}

#: The Keras <-> PyTorch ReduceLROnPlateau mapping, as data: verified (not assumed) by the cases
#: ``reduce-lr-on-plateau/keras`` (Keras -> PyTorch) and ``.../torch-abs``, ``.../torch-rel`` (PyTorch -> Keras).
PLATEAU_MAPPING = {
    "keras": "ReduceLROnPlateau(patience=p, cooldown=c, min_delta=d)",
    "torch": "ReduceLROnPlateau(patience=max(p-1, 0), cooldown=max(c-1, 0), threshold=d, threshold_mode='abs', "
             "eps=0)",
    "to_torch": torch_from_keras,
    "to_keras": keras_from_torch,
    "limits": "p = 0 needs the max (Keras patience 0 acts as 1; PyTorch patience -1 would also reduce on improving "
              "epochs); Keras cooldown 0 and 1 are the same; PyTorch threshold_mode='rel' maps to Keras monitoring "
              "log(loss) with min_delta = -log(1 - threshold); eps only matters for lr changes below it; Keras "
              "compares Python-float logs in float32",
    "verified_by": ("callback/reduce-lr-on-plateau/keras", "callback/reduce-lr-on-plateau/torch-abs",
                    "callback/reduce-lr-on-plateau/torch-rel"),
}
MAPPING_TEXT = f"Keras {PLATEAU_MAPPING['keras']} == PyTorch {PLATEAU_MAPPING['torch']}"


# -- loss sequences ------------------------------------------------------------------------------
def curves(n_seq: int = SEQUENCES, n_epochs: int = EPOCHS, scales=(1.0,)):
    """Noisy decaying curves: scale * (floor + (1 - floor) exp(-e / tau)) * exp(sigma * noise).

    tau, floor and sigma are drawn per sequence (sigma log-uniform in [1e-3, 5e-2]), so some
    sequences improve steadily, some plateau early and some are dominated by noise.
    """
    def make(rng: np.random.Generator, dtype: str) -> dict:
        e = np.arange(n_epochs)
        tau = rng.uniform(1, 8, (n_seq, 1))
        floor = rng.uniform(0.2, 0.8, (n_seq, 1))
        sigma = np.exp(rng.uniform(np.log(1e-3), np.log(5e-2), (n_seq, 1)))
        scale = np.resize(np.asarray(scales, dtype=np.float64), n_seq)[:, None]
        noise = np.exp(sigma * rng.standard_normal((n_seq, n_epochs)))
        losses = scale * (floor + (1 - floor) * np.exp(-e / tau)) * noise
        return {"losses": losses.astype(dtype).astype(np.float64)}
    return make


def small_steps(n_seq: int, scale: float, step_range: tuple[float, float]):
    """Slowly falling sequences with occasional rises: relative steps in ``step_range``, at ``scale``."""
    def make(rng: np.random.Generator, dtype: str) -> dict:
        steps = rng.uniform(*step_range, (n_seq, EPOCHS)) * rng.choice([-1.0, 1.0], (n_seq, EPOCHS), p=[0.8, 0.2])
        losses = scale * np.exp(-np.cumsum(steps, axis=1))
        return {"losses": losses.astype(dtype).astype(np.float64)}
    return make


# -- scratch drivers -----------------------------------------------------------------------------
def scratch_plateau_lrs(callbacks, losses: np.ndarray, lr0: float) -> np.ndarray:
    out = np.empty(losses.shape)
    for i, (cb, row) in enumerate(zip(callbacks, losses, strict=True)):
        state, cbs = C.TrainState(lr=lr0), C.CallbackList([cb])
        cbs.on_train_begin(state)
        for epoch, loss in enumerate(row):
            cbs.on_epoch_begin(epoch, state)
            cbs.on_epoch_end(epoch, {"loss": float(loss)}, state)
            out[i, epoch] = state.lr
        cbs.on_train_end(state)
    return out


def scratch_early_stopping(callbacks, losses: np.ndarray) -> dict[str, np.ndarray]:
    stop, final = np.full(len(losses), -1.0), np.empty(len(losses))
    for i, (cb, row) in enumerate(zip(callbacks, losses, strict=True)):
        state, cbs = C.TrainState(lr=LR0, params={"marker": np.array([-1.0])}), C.CallbackList([cb])
        cbs.on_train_begin(state)
        for epoch, loss in enumerate(row):
            cbs.on_epoch_begin(epoch, state)
            np.copyto(state.params["marker"], float(epoch))  # the weights after this epoch
            cbs.on_epoch_end(epoch, {"loss": float(loss)}, state)
            if state.stop:
                stop[i] = epoch
                break
        cbs.on_train_end(state)
        final[i] = state.params["marker"][0]
    return {"stop_epoch": stop, "final_params_epoch": final}


def scratch_checkpoint(callbacks, losses: np.ndarray) -> dict[str, np.ndarray]:
    n_seq, n_epochs = losses.shape
    saved, name_epoch, content = np.zeros((n_seq, n_epochs)), np.full(n_seq, -1.0), np.full(n_seq, -1.0)
    for i, (cb, row) in enumerate(zip(callbacks, losses, strict=True)):
        state, cbs = C.TrainState(lr=LR0, params={"marker": np.array([-1.0])}), C.CallbackList([cb])
        cbs.on_train_begin(state)
        for epoch, loss in enumerate(row):
            cbs.on_epoch_begin(epoch, state)
            np.copyto(state.params["marker"], float(epoch))
            cbs.on_epoch_end(epoch, {"loss": float(loss)}, state)
        cbs.on_train_end(state)
        for epoch, _ in cb.saved:
            saved[i, epoch] = 1
        if cb.saved:
            last_epoch, path = cb.saved[-1]
            name_epoch[i] = int(re.search(r"ckpt-(\d+)\.npz$", path).group(1))  # type: ignore[union-attr]
            with np.load(path) as f:
                content[i] = f["marker"][0]
    return {"saved_epochs": saved, "checkpoint_name_epoch": name_epoch, "checkpoint_content": content}


def _callbacks(case: Case, n: int) -> list:
    grid, factory = case.params["grid"], case.params["factory"]
    return [factory(**grid[i % len(grid)]) for i in range(n)]  # type: ignore[index, operator]


# -- runners -------------------------------------------------------------------------------------
def run_plateau(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """lr after every epoch end, all sequences at once (quantity ``lr_per_epoch``, shape (S, E))."""
    losses = case.inputs(np.random.default_rng(case.seed), dtype)["losses"]
    cbs = _callbacks(case, len(losses))
    ours = scratch_plateau_lrs(cbs, losses, LR0)
    if framework == "keras":
        from reference import keras_callbacks

        theirs = keras_callbacks.plateau_lrs(cbs, losses, LR0, dtype)
    else:
        from reference import torch_callbacks

        theirs = torch_callbacks.plateau_lrs(cbs, losses, LR0, port=str(case.params.get("torch_port", "exact")))
    if dtype == "float32":
        ours, theirs = ours.astype(np.float32), theirs.astype(np.float32)
    ctx = Context(dtype, (), {"losses": losses, "callbacks": cbs})
    yield _pair(case, framework, "lr_per_epoch", 0, ours, theirs, ctx)


def run_early_stopping(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    from reference import keras_callbacks

    losses = case.inputs(np.random.default_rng(case.seed), dtype)["losses"]
    cbs = _callbacks(case, len(losses))
    ours, theirs = scratch_early_stopping(cbs, losses), keras_callbacks.early_stopping_run(cbs, losses)
    ctx = Context(dtype, (), {"losses": losses})
    for q in ("stop_epoch", "final_params_epoch"):
        yield _pair(case, framework, q, 0, ours[q], theirs[q], ctx)


def run_checkpoint(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """Saved epochs, the last file name's {epoch} and the marker read back from that file."""
    from reference import keras_callbacks

    losses = case.inputs(np.random.default_rng(case.seed), dtype)["losses"]
    grid, factory = case.params["grid"], case.params["factory"]
    with tempfile.TemporaryDirectory() as tmp:
        cbs = [factory(filepath=os.path.join(tmp, f"run{i:03d}-ckpt-{{epoch:03d}}.npz"), **grid[i % len(grid)])
               for i in range(len(losses))]  # type: ignore[operator, index]
        ours = scratch_checkpoint(cbs, losses)
    theirs = keras_callbacks.checkpoint_run(cbs, losses)
    ctx = Context(dtype, (), {"losses": losses})
    for q in ("saved_epochs", "checkpoint_name_epoch", "checkpoint_content"):
        yield _pair(case, framework, q, 0, ours[q], theirs[q], ctx)


def _keep_until_10(epoch: int, lr: float) -> float:
    """The Keras documentation's schedule, with math.exp (its ops.exp version returns a tensor and raises)."""
    return lr if epoch < 10 else lr * math.exp(-0.1)


def run_lr_scheduler(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """The lr of each epoch under LearningRateScheduler(_keep_until_10); PyTorch: MultiplicativeLR."""
    cbs, state, ours = C.CallbackList([C.LearningRateScheduler(_keep_until_10)]), C.TrainState(lr=LR0), []
    cbs.on_train_begin(state)
    for epoch in range(EPOCHS):
        cbs.on_epoch_begin(epoch, state)
        ours.append(state.lr)
        cbs.on_epoch_end(epoch, {}, state)
    if framework == "keras":
        from reference.keras_schedules import epoch_lrs

        theirs = epoch_lrs(_keep_until_10, EPOCHS, LR0, dtype)
    else:
        from reference.torch_callbacks import multiplicative_lrs

        theirs = multiplicative_lrs(lambda e: 1.0 if e < 10 else math.exp(-0.1), EPOCHS, LR0)
    s, f = np.array(ours), theirs
    if dtype == "float32":
        s, f = s.astype(np.float32), f.astype(np.float32)
    yield _pair(case, framework, "lr_per_epoch", 0, s, f, Context(dtype))


# -- known differences ---------------------------------------------------------------------------
def _torch_exact(f: np.ndarray, ctx: Context) -> np.ndarray:
    from reference import torch_callbacks

    return torch_callbacks.plateau_lrs(ctx.inputs["callbacks"], ctx.inputs["losses"], LR0, port="exact")


def _keras_float64_logs(f: np.ndarray, ctx: Context) -> np.ndarray:
    from reference import keras_callbacks

    return keras_callbacks.plateau_lrs(ctx.inputs["callbacks"], ctx.inputs["losses"], LR0, ctx.dtype, feed="numpy")


RELATIVE_THRESHOLD = Known(
    framework="torch", quantities=("lr_per_epoch",),
    what="PyTorch's default threshold_mode='rel' scales the improvement threshold with the best loss: at loss "
         "0.01, threshold 1e-4 means 1e-6, so PyTorch counts improvements that Keras's absolute min_delta=1e-4 "
         "ignores and reduces later or never.",
    why="torch ReduceLROnPlateau: rel tests a < best * (1 - threshold); Keras tests current + min_delta < best.",
    link=f"{TORCH_DOCS}/torch.optim.lr_scheduler.ReduceLROnPlateau.html",
    holds=f"with threshold_mode='abs' the decisions are equal: {MAPPING_TEXT} (the relation re-runs PyTorch "
          "with threshold_mode='abs')",
    relation=_torch_exact,
)

FLOAT32_COMPARISON = Known(
    framework="keras", quantities=("lr_per_epoch",),
    what="Keras compares the monitored value in float32 when the logs hold Python floats (as fit passes them): "
         "an improvement below float32 resolution (~6e-8 relative) does not count, so Keras reduces the lr "
         "where scratch and PyTorch (float64) see improvements.",
    why="MonitorCallback._is_improvement calls ops.less(current + min_delta, best); ops.less converts Python "
        "floats with convert_to_tensor, which gives float32 tensors whatever floatx is.",
    link=f"{KERAS_SRC}/callbacks/monitor_callback.py",
    holds="fed np.float64 logs, Keras compares in float64 and decides like scratch (the relation re-runs Keras "
          "with np.float64 logs)",
    relation=_keras_float64_logs,
)
FLOAT32_COMPARISON = replace(FLOAT32_COMPARISON, dtypes=("float64",))  # float32 runs round the losses themselves


# -- cases ---------------------------------------------------------------------------------------
def _grid(**axes) -> list[dict]:
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*axes.values())]


def _keras_plateau(*, patience, cooldown, min_delta, factor_min_lr):
    factor, min_lr = factor_min_lr
    return C.ReduceLROnPlateau.keras(monitor="loss", mode="min", factor=factor, patience=patience,
                                     min_delta=min_delta, cooldown=cooldown, min_lr=min_lr)


def _torch_plateau(*, patience, cooldown, threshold, threshold_mode, factor_min_lr):
    factor, min_lr = factor_min_lr
    return C.ReduceLROnPlateau.torch(monitor="loss", mode="min", factor=factor, patience=patience,
                                     threshold=threshold, threshold_mode=threshold_mode, cooldown=cooldown,
                                     min_lr=min_lr, eps=1e-8)


FACTORS = [(0.5, 0.0), (0.2, 1e-3)]


def callback(id, covers, summary, run, inputs, *, frameworks=("keras", "torch"), known=(), **params) -> Case:
    return Case(id=f"callback/{id}", kind="callback", covers=covers, summary=summary, run=run,
                make=lambda dtype: None, inputs=inputs, tolerance=TOLERANCE, known=tuple(known),
                frameworks=tuple(frameworks), params=params)


CALLBACKS: list[Case] = [
    callback("reduce-lr-on-plateau/keras", ("ReduceLROnPlateau", "Callback", "CallbackList", "Decision", "TrainState"),
             "Keras semantics (absolute min_delta, wait >= patience) on 300 sequences x patience 0-3 x cooldown 0-3 "
             f"x min_delta 0/1e-3/1e-2 x factor; PyTorch configured by the mapping: {MAPPING_TEXT}",
             run_plateau, curves(), factory=_keras_plateau,
             grid=_grid(patience=[0, 1, 2, 3], cooldown=[0, 1, 2, 3], min_delta=[0.0, 1e-3, 1e-2],
                        factor_min_lr=FACTORS)),
    callback("reduce-lr-on-plateau/torch-abs", ("ReduceLROnPlateau",),
             "PyTorch semantics, threshold_mode='abs' (bad epochs > patience), patience 0-3, cooldown 0-3; Keras "
             "configured with patience + 1, cooldown + 1 (0 stays 0), min_delta = threshold",
             run_plateau, curves(), factory=_torch_plateau,
             grid=_grid(patience=[0, 1, 2, 3], cooldown=[0, 1, 2, 3], threshold=[0.0, 1e-3, 1e-2],
                        threshold_mode=["abs"], factor_min_lr=FACTORS)),
    callback("reduce-lr-on-plateau/torch-rel", ("ReduceLROnPlateau",),
             "PyTorch semantics, threshold_mode='rel' (PyTorch's default), losses at scales 0.01 / 1 / 100; Keras "
             "has no relative threshold: it monitors log(loss) with min_delta = -log(1 - threshold)",
             run_plateau, curves(scales=(0.01, 1.0, 100.0)), factory=_torch_plateau,
             grid=_grid(patience=[0, 1, 2, 3], cooldown=[0, 1, 2, 3], threshold=[1e-4, 1e-2],
                        threshold_mode=["rel"], factor_min_lr=FACTORS)),
    callback("reduce-lr-on-plateau/scale-effect", ("ReduceLROnPlateau",),
             "Keras semantics, min_delta=1e-4, on losses near 0.01 falling by 1e-4 to 2e-3 relative per epoch; "
             "PyTorch ported with threshold=1e-4 but its default threshold_mode='rel'",
             run_plateau, small_steps(100, 0.01, (1e-4, 2e-3)), factory=_keras_plateau, torch_port="naive",
             known=[RELATIVE_THRESHOLD],
             grid=_grid(patience=[1, 2, 3], cooldown=[0, 2], min_delta=[1e-4], factor_min_lr=FACTORS)),
    callback("reduce-lr-on-plateau/sub-float32-improvements", ("ReduceLROnPlateau",),
             "Keras semantics, min_delta=0, losses 1 +- a few 1e-9 (improvements below float32 resolution)",
             run_plateau, small_steps(100, 1.0, (1e-9, 5e-9)), factory=_keras_plateau, known=[FLOAT32_COMPARISON],
             grid=_grid(patience=[1, 2, 3], cooldown=[0, 2], min_delta=[0.0], factor_min_lr=FACTORS)),
    callback("early-stopping", ("EarlyStopping",),
             "300 sequences x patience 0/1/2/4 x min_delta 0/5e-3 x baseline none/0.45 x restore_best_weights x "
             "start_from_epoch 0/3 (Keras only: PyTorch has no early stopping)",
             run_early_stopping, curves(), frameworks=("keras",),
             factory=lambda **kw: C.EarlyStopping(monitor="loss", mode="min", **kw),
             grid=_grid(patience=[0, 1, 2, 4], min_delta=[0.0, 5e-3], baseline=[None, 0.45],
                        restore_best_weights=[False, True], start_from_epoch=[0, 3])),
    callback("model-checkpoint", ("ModelCheckpoint",),
             "150 sequences x save_best_only with initial_value_threshold none/0.9/0.6/0.45, or every epoch; "
             "files 'run<i>-ckpt-{epoch:03d}.npz' (Keras only: PyTorch has no checkpoint callback)",
             run_checkpoint, curves(n_seq=150), frameworks=("keras",),
             factory=lambda **kw: C.ModelCheckpoint(monitor="loss", mode="min", **kw),
             grid=[{"save_best_only": True, "initial_value_threshold": None},
                   {"save_best_only": True, "initial_value_threshold": 0.9},
                   {"save_best_only": True, "initial_value_threshold": 0.6},
                   {"save_best_only": True, "initial_value_threshold": 0.45},
                   {"save_best_only": False, "initial_value_threshold": None}]),
    callback("lr-scheduler/multiplicative", ("LearningRateScheduler",),
             "schedule(epoch, lr) = lr before epoch 10, lr * exp(-0.1) after (the Keras documentation's example), "
             "20 epochs; PyTorch MultiplicativeLR stepped per epoch",
             run_lr_scheduler, lambda rng, dtype: {}),
]
