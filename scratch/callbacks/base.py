"""The callback protocol, the decisions callbacks return, and shared argument checks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from scratch._checks import check_choice


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


