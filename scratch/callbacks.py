"""Training callbacks with Keras (and, for ReduceLROnPlateau, PyTorch) semantics. NumPy only.

Protocol (the training loop calls, in order)::

    on_train_begin(state)
    for epoch in 0, 1, ...:                      # 0-based, like Keras's callbacks
        on_epoch_begin(epoch, state) -> Decision | None
        ... train the epoch with state.lr ...
        on_epoch_end(epoch, logs, state) -> Decision | None   # logs: {"loss": ..., "val_loss": ...}
        if state.stop: break
    on_train_end(state)

``state`` is a ``TrainState``: the current learning rate ``lr``, the model's ``params`` (a dict of
arrays the callbacks may snapshot and restore) and the ``stop`` flag. A callback never changes
``lr`` or ``stop`` itself: it returns a ``Decision`` (new lr, stop) and ``CallbackList`` applies
each decision before calling the next callback, so later callbacks see it, as Keras callbacks see
an optimizer lr changed by an earlier one. Only ``EarlyStopping.on_train_end`` writes into
``state.params`` (restoring the best weights in place). Each callback keeps its own counters in
an explicit state dataclass (``self.s``), reset by ``on_train_begin``.
"""

from __future__ import annotations

import inspect
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from scratch._checks import check_choice

__all__ = ["Callback", "CallbackList", "Decision", "EarlyStopping", "LearningRateScheduler", "ModelCheckpoint",
           "ReduceLROnPlateau", "TrainState"]


def _nonneg(value: object, name: str) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    v = float(value) if ok else float("nan")  # type: ignore[arg-type]
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return v


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name}: expected an integer >= 0, got {value!r}")
    return int(value)


@dataclass
class TrainState:
    """What callbacks see of training: the lr in use, the parameters, the stop flag."""

    lr: float
    params: dict[str, np.ndarray] = field(default_factory=dict)
    stop: bool = False

    def __post_init__(self) -> None:
        self.lr = _nonneg(self.lr, "lr")


@dataclass(frozen=True)
class Decision:
    """A callback's decision: the learning rate from now on (None = unchanged), and whether to stop."""

    lr: float | None = None
    stop: bool = False


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, state: TrainState) -> None:
        pass

    def on_epoch_begin(self, epoch: int, state: TrainState) -> Decision | None:
        return None

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float], state: TrainState) -> Decision | None:
        return None

    def on_train_end(self, state: TrainState) -> None:
        pass


def apply(decision: Decision | None, state: TrainState) -> None:
    """Apply a decision to ``state`` (the only place lr and stop change)."""
    if decision is None:
        return
    if decision.lr is not None:
        state.lr = _nonneg(decision.lr, "decision.lr")
    state.stop = state.stop or decision.stop


class CallbackList(Callback):
    """Calls callbacks in order and applies each decision before the next callback runs."""

    def __init__(self, callbacks: Sequence[Callback]):
        self.callbacks = list(callbacks)

    def on_train_begin(self, state: TrainState) -> None:
        for cb in self.callbacks:
            cb.on_train_begin(state)

    def on_epoch_begin(self, epoch: int, state: TrainState) -> None:
        for cb in self.callbacks:
            apply(cb.on_epoch_begin(epoch, state), state)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float], state: TrainState) -> None:
        for cb in self.callbacks:
            apply(cb.on_epoch_end(epoch, logs, state), state)

    def on_train_end(self, state: TrainState) -> None:
        for cb in self.callbacks:
            cb.on_train_end(state)


class _Monitor(Callback):
    """A monitored value in ``logs`` and the mode in which smaller ("min") or larger ("max") is better."""

    def __init__(self, monitor: str, mode: str):
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor: expected the name of a logged value, got {monitor!r}")
        self.monitor = monitor
        self.mode = check_choice(mode, "mode", ("min", "max"))

    def _current(self, logs: Mapping[str, float]) -> float:
        if self.monitor not in logs:
            raise ValueError(f"logs: monitored value {self.monitor!r} missing; logged: {sorted(logs)}")
        return float(logs[self.monitor])

    def _beats(self, current: float, best: float | None, delta: float) -> bool:
        """Keras's test ``monitor_op(current -/+ min_delta, best)``: strict, first value always wins."""
        if best is None:
            return True
        return current + delta < best if self.mode == "min" else current - delta > best


@dataclass
class PlateauState:
    best: float | None = None
    wait: int = 0  # Keras's ``wait`` / PyTorch's ``num_bad_epochs``
    cooldown_counter: int = 0


class ReduceLROnPlateau(_Monitor):
    """Multiply the lr by ``factor`` when the monitored value stops improving.

    Algorithm, ``semantics="keras"`` (``keras.callbacks.ReduceLROnPlateau``), per epoch end::

        if cooldown_counter > 0: cooldown_counter -= 1; wait = 0
        if current + threshold < best (min mode; first epoch always): best = current; wait = 0
        elif cooldown_counter == 0:
            wait += 1
            if wait >= patience and lr > min_lr:
                lr = max(lr * factor, min_lr); cooldown_counter = cooldown; wait = 0

    ``semantics="torch"`` (``torch.optim.lr_scheduler.ReduceLROnPlateau.step``)::

        improved = current < best * (1 - threshold)  (rel)  |  current < best - threshold  (abs)
        if improved: best = current; wait = 0  else: wait += 1
        if cooldown_counter > 0: cooldown_counter -= 1; wait = 0
        if wait > patience:
            new = max(lr * factor, min_lr); if lr - new > eps: lr = new
            cooldown_counter = cooldown; wait = 0

    (max mode mirrors the tests.) So Keras reduces after ``patience`` bad epochs counting from
    ``wait >= patience`` and ignores ``cooldown - 1`` epochs after a reduction; PyTorch reduces when
    the bad epochs exceed ``patience`` and ignores ``cooldown`` epochs. Verified equivalence on
    random loss sequences: Keras(patience=p, cooldown=c, min_delta=d) == PyTorch(patience=max(p-1, 0),
    cooldown=max(c-1, 0), threshold=d, threshold_mode="abs"); Keras patience 0 behaves as 1 and
    cooldown 1 as 0.

    Framework notes: Keras's ``min_delta`` is absolute; PyTorch's default ``threshold_mode="rel"``
    scales the threshold with the best value (at loss 0.01, threshold 1e-4 is 1e-6). Keras converts
    Python-float logs (what ``fit`` passes) to float32 tensors to compare them, so an improvement
    below float32 resolution (~6e-8 relative) does not count there; scratch and PyTorch compare in
    float64. Keras reduces only if ``lr > float32(min_lr)``, PyTorch only if the decrease exceeds
    ``eps`` (default 1e-8); both stop at ``min_lr``. Use the ``keras`` and ``torch`` constructors
    for each framework's defaults.

    Args:
        monitor: the logged value to watch. mode: ``"min"`` or ``"max"``.
        factor: in (0, 1). patience, cooldown: integers >= 0. min_lr: floor, >= 0.
        threshold: Keras ``min_delta`` or PyTorch ``threshold``, >= 0.
        threshold_mode: ``"abs"`` or ``"rel"`` (``"rel"`` needs ``semantics="torch"``).
        semantics: ``"keras"`` or ``"torch"`` counting. eps: PyTorch's minimal decrease (0 for Keras).
    """

    def __init__(self, *, monitor: str, mode: str, factor: float, patience: int, cooldown: int, min_lr: float,
                 threshold: float, threshold_mode: str, semantics: str, eps: float):
        super().__init__(monitor, mode)
        self.factor = _nonneg(factor, "factor")
        if not 0 < self.factor < 1:
            raise ValueError(f"factor: expected a number in (0, 1), got {factor!r}")
        self.patience, self.cooldown = _count(patience, "patience"), _count(cooldown, "cooldown")
        self.min_lr, self.threshold, self.eps = _nonneg(min_lr, "min_lr"), _nonneg(threshold, "threshold"), \
            _nonneg(eps, "eps")
        self.threshold_mode = check_choice(threshold_mode, "threshold_mode", ("abs", "rel"))
        self.semantics = check_choice(semantics, "semantics", ("keras", "torch"))
        if semantics == "keras" and (threshold_mode != "abs" or self.eps != 0):
            raise ValueError(f"threshold_mode: Keras semantics has an absolute min_delta and no eps, got "
                             f"threshold_mode={threshold_mode!r}, eps={eps!r}; use semantics='torch'")
        self.s = PlateauState()

    @classmethod
    def keras(cls, *, monitor: str = "val_loss", mode: str = "min", factor: float = 0.1, patience: int = 10,
              min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0) -> ReduceLROnPlateau:
        """``keras.callbacks.ReduceLROnPlateau`` with its defaults."""
        return cls(monitor=monitor, mode=mode, factor=factor, patience=patience, cooldown=cooldown, min_lr=min_lr,
                   threshold=min_delta, threshold_mode="abs", semantics="keras", eps=0.0)

    @classmethod
    def torch(cls, *, monitor: str = "val_loss", mode: str = "min", factor: float = 0.1, patience: int = 10,
              threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr: float = 0.0,
              eps: float = 1e-8) -> ReduceLROnPlateau:
        """``torch.optim.lr_scheduler.ReduceLROnPlateau`` with its defaults."""
        return cls(monitor=monitor, mode=mode, factor=factor, patience=patience, cooldown=cooldown, min_lr=min_lr,
                   threshold=threshold, threshold_mode=threshold_mode, semantics="torch", eps=eps)

    def on_train_begin(self, state: TrainState) -> None:
        self.s = PlateauState()

    def _improved(self, current: float, best: float | None) -> bool:
        if self.semantics == "keras":
            return self._beats(current, best, self.threshold)
        if best is None:
            return True
        t = self.threshold
        if self.threshold_mode == "rel":
            return current < best * (1 - t) if self.mode == "min" else current > best * (1 + t)
        return current < best - t if self.mode == "min" else current > best + t

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float], state: TrainState) -> Decision | None:
        current, s, lr = self._current(logs), self.s, state.lr
        if self.semantics == "keras":
            if s.cooldown_counter > 0:
                s.cooldown_counter -= 1
                s.wait = 0
            if self._improved(current, s.best):
                s.best, s.wait = current, 0
            elif s.cooldown_counter == 0:
                s.wait += 1
                if s.wait >= self.patience and lr > self.min_lr:
                    lr = max(lr * self.factor, self.min_lr)
                    s.cooldown_counter, s.wait = self.cooldown, 0
        else:
            if self._improved(current, s.best):
                s.best, s.wait = current, 0
            else:
                s.wait += 1
            if s.cooldown_counter > 0:
                s.cooldown_counter -= 1
                s.wait = 0
            if s.wait > self.patience:
                new = max(lr * self.factor, self.min_lr)
                lr = new if lr - new > self.eps else lr
                s.cooldown_counter, s.wait = self.cooldown, 0
        return Decision(lr=lr) if lr != state.lr else None


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
