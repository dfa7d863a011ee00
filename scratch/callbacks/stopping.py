"""EarlyStopping, ModelCheckpoint and LearningRateScheduler (Keras semantics)."""

from __future__ import annotations

import inspect
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from scratch.callbacks.base import Callback, Decision, TrainState, _count, _Monitor, _nonneg


@dataclass
class EarlyStoppingState:
    best: float | None = None
    best_epoch: int = 0
    wait: int = 0
    stopped_epoch: int = 0
    best_params: dict[str, np.ndarray] | None = None


class EarlyStopping(_Monitor):
    """Stop training when the monitored value stops improving (``keras.callbacks.EarlyStopping``).

    Algorithm, per epoch end (epochs before ``start_from_epoch`` are ignored)::

        if restore_best_weights and no snapshot yet: snapshot params; best_epoch = epoch
        wait += 1
        if current + min_delta < best (min mode; first epoch always):
            best = current; best_epoch = epoch; snapshot params if restore_best_weights
            if baseline is None or current + min_delta < baseline: wait = 0
        elif wait >= patience and epoch > 0: stop
        on_train_end: if restore_best_weights and a snapshot exists: params <- snapshot (in place)

    An epoch that improves never stops training, even when it misses the baseline; the epochs
    that miss the baseline still count towards ``patience``. Weights are restored at the end of
    training whether or not it stopped early.

    Framework notes: Keras only (PyTorch has no early stopping). Keras compares in float32 (see
    ``ReduceLROnPlateau``) and only warns if the monitored value is missing; this raises.
    """

    def __init__(self, *, monitor: str = "val_loss", mode: str = "min", min_delta: float = 0.0, patience: int = 0,
                 baseline: float | None = None, restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__(monitor, mode)
        self.min_delta, self.patience = _nonneg(min_delta, "min_delta"), _count(patience, "patience")
        if baseline is not None and not math.isfinite(float(baseline)):
            raise ValueError(f"baseline: expected a finite number or None, got {baseline!r}")
        self.baseline, self.restore_best_weights = baseline, bool(restore_best_weights)
        self.start_from_epoch = _count(start_from_epoch, "start_from_epoch")
        self.s = EarlyStoppingState()

    def on_train_begin(self, state: TrainState) -> None:
        self.s = EarlyStoppingState()

    def _snapshot(self, state: TrainState) -> None:
        self.s.best_params = {k: np.array(v, copy=True) for k, v in state.params.items()}

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float], state: TrainState) -> Decision | None:
        current, s = self._current(logs), self.s
        if epoch < self.start_from_epoch:
            return None
        if self.restore_best_weights and s.best_params is None:
            self._snapshot(state)
            s.best_epoch = epoch
        s.wait += 1
        if self._beats(current, s.best, self.min_delta):
            s.best, s.best_epoch = current, epoch
            if self.restore_best_weights:
                self._snapshot(state)
            if self.baseline is None or self._beats(current, float(self.baseline), self.min_delta):
                s.wait = 0
            return None
        if s.wait >= self.patience and epoch > 0:
            s.stopped_epoch = epoch
            return Decision(stop=True)
        return None

    def on_train_end(self, state: TrainState) -> None:
        if self.restore_best_weights and self.s.best_params is not None:
            for k, v in self.s.best_params.items():
                np.copyto(state.params[k], v)


class ModelCheckpoint(_Monitor):
    """Save ``state.params`` to ``.npz`` at epoch ends (``keras.callbacks.ModelCheckpoint``).

    Algorithm: path = ``filepath.format(epoch=epoch + 1, **logs)`` (``{epoch}`` is 1-based, like
    Keras); with ``save_best_only`` save only if ``current < best`` (min mode; strict, no
    min_delta; ``best`` starts at ``initial_value_threshold``, None = first epoch saves), else
    save every epoch. The file is written to a temporary file in the same directory and moved
    into place with ``os.replace``, so a reader never sees a half-written checkpoint.
    ``saved`` lists ``(epoch, path)`` of every save.

    Framework notes: Keras only (PyTorch users call ``torch.save`` themselves). Keras saves
    ``.keras`` / ``.weights.h5`` files, compares in float32 and, if the monitored value is
    missing, warns and saves; this raises. ``best`` persists across ``fit`` calls in both.
    """

    def __init__(self, filepath: str, *, monitor: str = "val_loss", mode: str = "min", save_best_only: bool = False,
                 initial_value_threshold: float | None = None):
        super().__init__(monitor, mode)
        if not isinstance(filepath, str) or not filepath.endswith(".npz"):
            raise ValueError(f"filepath: expected a path ending in '.npz', got {filepath!r}")
        self.filepath, self.save_best_only = filepath, bool(save_best_only)
        self.initial_value_threshold = initial_value_threshold
        self.best = initial_value_threshold
        self.saved: list[tuple[int, str]] = []

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float], state: TrainState) -> Decision | None:
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = self._current(logs)
            if not self._beats(current, self.best, 0.0):
                return None
            self.best = current
        directory = os.path.dirname(path) or "."
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **state.params)
            os.chmod(tmp, 0o644)  # mkstemp creates 0600; np.save would create 0644 under the usual umask
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        self.saved.append((epoch, path))
        return None


class LearningRateScheduler(Callback):
    """Set the lr at each epoch start from ``schedule(epoch, lr)`` (``keras.callbacks.LearningRateScheduler``).

    Algorithm: ``on_epoch_begin(epoch)``: ``lr = schedule(epoch, state.lr)`` (0-based epoch), or
    ``schedule(epoch)`` if the function takes one positional argument; the lr holds for the
    whole epoch.

    Framework notes: Keras tries ``schedule(epoch, lr)`` and falls back to ``schedule(epoch)`` on
    any TypeError (which can hide a TypeError raised inside the schedule); here the signature
    decides. Keras rejects a non-float result (an int raises); any real number >= 0 is accepted
    here. PyTorch equivalents: ``LambdaLR(lambda e: f(e) / base_lr)`` for ``schedule(epoch)``, and
    ``MultiplicativeLR`` for ``lr * m(epoch)`` (which never calls ``m(0)``), stepped per epoch.
    """

    def __init__(self, schedule: Callable[..., float]):
        if not callable(schedule):
            raise ValueError(f"schedule: expected a function schedule(epoch, lr) -> float, got {schedule!r}")
        self.schedule = schedule
        try:
            positional = [p for p in inspect.signature(schedule).parameters.values()
                          if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
            self._takes_lr = len(positional) != 1
        except (TypeError, ValueError):  # builtins without a signature
            self._takes_lr = True

    def on_epoch_begin(self, epoch: int, state: TrainState) -> Decision:
        lr = self.schedule(epoch, state.lr) if self._takes_lr else self.schedule(epoch)
        ok = isinstance(lr, (int, float, np.integer, np.floating)) and not isinstance(lr, bool)
        if not ok or not math.isfinite(float(lr)) or float(lr) < 0:
            raise ValueError(f"schedule: returned {lr!r} for epoch {epoch}; expected a finite number >= 0")
        return Decision(lr=float(lr))

