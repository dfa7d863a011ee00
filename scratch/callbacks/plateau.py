"""ReduceLROnPlateau with Keras or PyTorch semantics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scratch._checks import check_choice
from scratch.callbacks.base import Decision, TrainState, _count, _Monitor, _nonneg


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


