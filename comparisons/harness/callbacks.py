"""Run a callback case: the scratch callbacks and the real framework ones driven through the same loss
sequences, their decisions compared as arrays (the quantities are described in
``comparisons.table.callbacks``). Everything a run needs (initial lr, epochs, the grid of
settings) is in the case's ``params``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator

import numpy as np

from comparisons.harness.runner import pair
from comparisons.table.spec import Case, Compared, Context
from scratch import callbacks as C


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


def scratch_early_stopping(callbacks, losses: np.ndarray, lr0: float = 0.1) -> dict[str, np.ndarray]:
    stop, final = np.full(len(losses), -1.0), np.empty(len(losses))
    for i, (cb, row) in enumerate(zip(callbacks, losses, strict=True)):
        state, cbs = C.TrainState(lr=lr0, params={"marker": np.array([-1.0])}), C.CallbackList([cb])
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


def scratch_checkpoint(callbacks, losses: np.ndarray, lr0: float = 0.1) -> dict[str, np.ndarray]:
    n_seq, n_epochs = losses.shape
    saved, name_epoch, content = np.zeros((n_seq, n_epochs)), np.full(n_seq, -1.0), np.full(n_seq, -1.0)
    for i, (cb, row) in enumerate(zip(callbacks, losses, strict=True)):
        state, cbs = C.TrainState(lr=lr0, params={"marker": np.array([-1.0])}), C.CallbackList([cb])
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
    cbs, lr0 = _callbacks(case, len(losses)), float(case.params["lr0"])  # type: ignore[arg-type]
    ours = scratch_plateau_lrs(cbs, losses, lr0)
    if framework == "keras":
        from reference import keras_callbacks

        theirs = keras_callbacks.plateau_lrs(cbs, losses, lr0, dtype)
    else:
        from reference import torch_callbacks

        theirs = torch_callbacks.plateau_lrs(cbs, losses, lr0, port=str(case.params.get("torch_port", "exact")))
    if dtype == "float32":
        ours, theirs = ours.astype(np.float32), theirs.astype(np.float32)
    ctx = Context(dtype, (), {"losses": losses, "callbacks": cbs, "lr0": lr0})
    yield pair(case, framework, "lr_per_epoch", 0, ours, theirs, ctx)


def run_early_stopping(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    from reference import keras_callbacks

    losses = case.inputs(np.random.default_rng(case.seed), dtype)["losses"]
    cbs = _callbacks(case, len(losses))
    ours = scratch_early_stopping(cbs, losses, float(case.params["lr0"]))  # type: ignore[arg-type]
    theirs = keras_callbacks.early_stopping_run(cbs, losses)
    ctx = Context(dtype, (), {"losses": losses})
    for q in ("stop_epoch", "final_params_epoch"):
        yield pair(case, framework, q, 0, ours[q], theirs[q], ctx)


def run_checkpoint(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """Saved epochs, the last file name's {epoch} and the marker read back from that file."""
    from reference import keras_callbacks

    losses = case.inputs(np.random.default_rng(case.seed), dtype)["losses"]
    grid, factory = case.params["grid"], case.params["factory"]
    with tempfile.TemporaryDirectory() as tmp:
        cbs = [factory(filepath=os.path.join(tmp, f"run{i:03d}-ckpt-{{epoch:03d}}.npz"), **grid[i % len(grid)])
               for i in range(len(losses))]  # type: ignore[operator, index]
        ours = scratch_checkpoint(cbs, losses, float(case.params["lr0"]))  # type: ignore[arg-type]
    theirs = keras_callbacks.checkpoint_run(cbs, losses)
    ctx = Context(dtype, (), {"losses": losses})
    for q in ("saved_epochs", "checkpoint_name_epoch", "checkpoint_content"):
        yield pair(case, framework, q, 0, ours[q], theirs[q], ctx)


def run_lr_scheduler(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """The lr of each epoch under LearningRateScheduler(schedule); PyTorch: MultiplicativeLR(torch_factor)."""
    p = case.params
    schedule, epochs, lr0 = p["schedule"], int(p["epochs"]), float(p["lr0"])  # type: ignore[call-overload, arg-type]
    cbs, state, ours = C.CallbackList([C.LearningRateScheduler(schedule)]), C.TrainState(lr=lr0), []
    cbs.on_train_begin(state)
    for epoch in range(epochs):
        cbs.on_epoch_begin(epoch, state)
        ours.append(state.lr)
        cbs.on_epoch_end(epoch, {}, state)
    if framework == "keras":
        from reference.keras_schedules import epoch_lrs

        theirs = epoch_lrs(schedule, epochs, lr0, dtype)
    else:
        from reference.torch_callbacks import multiplicative_lrs

        theirs = multiplicative_lrs(case.params["torch_factor"], epochs, lr0)
    s, f = np.array(ours), theirs
    if dtype == "float32":
        s, f = s.astype(np.float32), f.astype(np.float32)
    yield pair(case, framework, "lr_per_epoch", 0, s, f, Context(dtype))
