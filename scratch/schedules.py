"""Learning-rate schedules: pure functions of the step, ``lr_at(step) -> float``.

Step convention: ``step`` = optimizer updates already applied, 0-based, so ``lr_at(t)`` is the
learning rate of update ``t + 1``. Keras counts the same way (the optimizer evaluates
``schedule(iterations)`` before incrementing ``iterations``). A PyTorch scheduler counts
``scheduler.step()`` calls instead: stepped once after every ``optimizer.step()``, the group lr
after ``k`` calls is ``lr_at(k)``. Epoch-based schedules take ``steps_per_epoch`` and hold the lr of
epoch ``step // steps_per_epoch`` (0-based), like Keras's ``LearningRateScheduler`` and a PyTorch
scheduler stepped once per epoch. Everything is computed in float64 (Python floats).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from scratch._checks import check_choice, check_positive_int

__all__ = ["CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay", "OneCycle",
           "PiecewiseConstant", "PolynomialDecay", "WarmupCosineEpochs"]


def _number(value: object, name: str, *, positive: bool = False) -> float:
    """Return ``value`` as a float >= 0 (> 0 with ``positive``), else raise ValueError naming it."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    v = float(value) if ok else float("nan")  # type: ignore[arg-type]
    if not (math.isfinite(v) and (v > 0 if positive else v >= 0)):
        raise ValueError(f"{name}: expected a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return v


def _step(step: object) -> int:
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
        raise ValueError(f"step: expected an integer >= 0 (updates already applied), got {step!r}")
    return int(step)


class Schedule:
    """Base class: ``lr_at(step)`` and ``sequence(n) = [lr_at(0), ..., lr_at(n - 1)]``."""

    def lr_at(self, step: int) -> float:
        raise NotImplementedError

    def sequence(self, n: int) -> np.ndarray:
        """The learning rates of the first ``n`` updates, float64 array of shape (n,)."""
        return np.array([self.lr_at(s) for s in range(check_positive_int(n, "n"))], dtype=np.float64)


@dataclass(frozen=True)
class ExponentialDecay(Schedule):
    """``lr = initial_lr * decay_rate ** p``, ``p = step / decay_steps`` (``floor`` if staircase).

    The staircase form is the classic step decay: multiply by ``decay_rate`` every ``decay_steps``.

    Framework notes: Keras ``ExponentialDecay`` computes exactly this. PyTorch: staircase is
    ``StepLR(step_size=decay_steps, gamma=decay_rate)``; the smooth form is
    ``ExponentialLR(gamma=decay_rate ** (1 / decay_steps))`` stepped per batch. Both are recursive
    (``lr <- lr * gamma``), so they drift from the closed form by ~1 rounding per step (measured
    6.2e-16 normwise over 1,200 steps).
    """

    initial_lr: float
    decay_steps: int
    decay_rate: float
    staircase: bool = False

    def __post_init__(self) -> None:
        _number(self.initial_lr, "initial_lr")
        check_positive_int(self.decay_steps, "decay_steps")
        _number(self.decay_rate, "decay_rate", positive=True)

    def lr_at(self, step: int) -> float:
        s = _step(step)
        p = s // self.decay_steps if self.staircase else s / self.decay_steps
        return self.initial_lr * self.decay_rate ** p


@dataclass(frozen=True)
class PiecewiseConstant(Schedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary.

    Framework notes: Keras ``PiecewiseConstantDecay`` uses these inclusive boundaries, so the
    value changes at step ``b + 1``. PyTorch ``MultiStepLR(milestones, gamma)`` changes the lr
    when the ``scheduler.step()`` count reaches a milestone: Keras boundary ``b`` is milestone
    ``b + 1``, and MultiStepLR only expresses geometric values (``values[i] = values[0] * gamma**i``).
    """

    boundaries: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        b, v = tuple(self.boundaries), tuple(self.values)
        if not b or any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 0 for x in b) \
                or any(x >= y for x, y in zip(b, b[1:], strict=False)):
            raise ValueError(f"boundaries: expected strictly increasing integers >= 0, got {self.boundaries!r}")
        if len(v) != len(b) + 1:
            raise ValueError(f"values: expected {len(b) + 1} values (one more than boundaries), got {len(v)}")
        for i, x in enumerate(v):
            _number(x, f"values[{i}]")
        object.__setattr__(self, "boundaries", b)
        object.__setattr__(self, "values", v)

    def lr_at(self, step: int) -> float:
        return float(self.values[bisect.bisect_left(self.boundaries, _step(step))])


@dataclass(frozen=True)
class PolynomialDecay(Schedule):
    """``lr = (initial_lr - end_lr) * (1 - s / D) ** power + end_lr``.

    Without ``cycle``: ``s = min(step, D)``, ``D = decay_steps`` (holds ``end_lr`` afterwards).
    With ``cycle``: ``s = step`` and ``D = decay_steps * ceil(step / decay_steps)`` (1 at step 0).

    Framework notes: Keras ``PolynomialDecay`` (default ``end_learning_rate=1e-4``). PyTorch
    ``PolynomialLR(total_iters=D, power)`` always decays to 0 (``end_lr=0``), has no ``cycle``, and
    is recursive (ratio of consecutive factors).
    """

    initial_lr: float
    decay_steps: int
    end_lr: float = 1e-4
    power: float = 1.0
    cycle: bool = False

    def __post_init__(self) -> None:
        _number(self.initial_lr, "initial_lr")
        check_positive_int(self.decay_steps, "decay_steps")
        _number(self.end_lr, "end_lr")
        _number(self.power, "power", positive=True)

    def lr_at(self, step: int) -> float:
        s = _step(step)
        if self.cycle:
            d = self.decay_steps * max(1, math.ceil(s / self.decay_steps))
        else:
            s, d = min(s, self.decay_steps), self.decay_steps
        return (self.initial_lr - self.end_lr) * (1 - s / d) ** self.power + self.end_lr


@dataclass(frozen=True)
class InverseTimeDecay(Schedule):
    """``lr = initial_lr / (1 + decay_rate * p)``, ``p = step / decay_steps`` (``floor`` if staircase).

    Framework notes: Keras ``InverseTimeDecay``; PyTorch has no class for it: users write
    ``LambdaLR(lambda k: 1 / (1 + decay_rate * k / decay_steps))`` (closed form, no drift).
    """

    initial_lr: float
    decay_steps: int
    decay_rate: float
    staircase: bool = False

    def __post_init__(self) -> None:
        _number(self.initial_lr, "initial_lr")
        check_positive_int(self.decay_steps, "decay_steps")
        _number(self.decay_rate, "decay_rate")

    def lr_at(self, step: int) -> float:
        s = _step(step)
        p = s // self.decay_steps if self.staircase else s / self.decay_steps
        return self.initial_lr / (1 + self.decay_rate * p)


def _cosine(fraction: float) -> float:
    """``(1 + cos(pi * fraction)) / 2``: 1 at 0, 0 at 1."""
    return 0.5 * (1.0 + math.cos(math.pi * fraction))


@dataclass(frozen=True)
class CosineDecay(Schedule):
    """Cosine decay (Loshchilov & Hutter 2017) with an optional linear warm-up (Goyal et al. 2017).

    Algorithm (``D = decay_steps``, ``W = warmup_steps``, ``peak = warmup_target or initial_lr``)::

        step < W:  lr = initial_lr + (warmup_target - initial_lr) * step / W
        else:      s  = step - W;  s = min(s, D) if after_decay == "hold"
                   lr = peak * ((1 - alpha) * (1 + cos(pi * s / D)) / 2 + alpha)

    ``after_decay="periodic"`` keeps following the cosine after ``D`` (rises again, period 2D).

    Framework notes: Keras ``CosineDecay`` holds ``alpha * peak`` after D ("hold"). PyTorch
    ``CosineAnnealingLR(T_max=D, eta_min=alpha * peak)`` does not clamp ("periodic") and is
    recursive: lr_k = eta_min + (lr_{k-1} - eta_min) * (1 + cos(pi k/D)) / (1 + cos(pi (k-1)/D));
    measured drift from the closed form 2e-13 (normwise) over six periods. Keras's warm-up
    equals PyTorch ``SequentialLR([LinearLR(start_factor=initial_lr / warmup_target, end_factor=1,
    total_iters=W), CosineAnnealingLR(T_max=D, eta_min=alpha * warmup_target)], milestones=[W])``
    with the optimizer lr set to ``warmup_target`` (LinearLR needs ``initial_lr > 0``).
    """

    initial_lr: float
    decay_steps: int
    alpha: float = 0.0
    warmup_target: float | None = None
    warmup_steps: int = 0
    after_decay: str = "hold"

    def __post_init__(self) -> None:
        _number(self.initial_lr, "initial_lr")
        check_positive_int(self.decay_steps, "decay_steps")
        a = _number(self.alpha, "alpha")
        if a > 1:
            raise ValueError(f"alpha: expected a fraction in [0, 1], got {self.alpha!r}")
        if self.warmup_target is not None:
            _number(self.warmup_target, "warmup_target")
        if isinstance(self.warmup_steps, bool) or not isinstance(self.warmup_steps, (int, np.integer)) \
                or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps: expected an integer >= 0, got {self.warmup_steps!r}")
        check_choice(self.after_decay, "after_decay", ("hold", "periodic"))

    def lr_at(self, step: int) -> float:
        s = _step(step)
        peak = self.initial_lr if self.warmup_target is None else self.warmup_target
        w = self.warmup_steps if self.warmup_target is not None else 0
        if s < w:
            return self.initial_lr + (peak - self.initial_lr) * s / w
        s -= w
        if self.after_decay == "hold":
            s = min(s, self.decay_steps)
        return peak * ((1 - self.alpha) * _cosine(s / self.decay_steps) + self.alpha)


@dataclass(frozen=True)
class CosineDecayRestarts(Schedule):
    """SGDR: cosine decay with warm restarts (Loshchilov & Hutter 2017).

    Algorithm (``D = first_decay_steps``): period ``i`` (0-based) lasts ``D * t_mul**i`` steps
    and starts at ``D * (1 + t_mul + ... + t_mul**(i-1))``; with ``f`` the fraction of period
    ``i`` completed::

        lr = initial_lr * ((1 - alpha) * m_mul**i * (1 + cos(pi * f)) / 2 + alpha)

    The period is found by summing period lengths (exact for integer ``D * t_mul**i``), not with
    logarithms.

    Framework notes: Keras ``CosineDecayRestarts`` finds ``i = floor(log(1 - f (1 - t_mul)) /
    log(t_mul))``; in a ``tf.function`` (how ``fit`` runs the optimizer) float64 evaluation
    rounds ``log(8) / log(2)`` to 2.9999999999999996 and misses the restart at the start of
    period 3 (step 700 for D=100, t_mul=2: lr alpha * initial_lr instead of initial_lr). PyTorch
    ``CosineAnnealingWarmRestarts(T_0=D, T_mult=int(t_mul), eta_min=alpha * initial_lr)`` counts
    integer steps (exact) but supports neither ``m_mul != 1`` nor a non-integer ``t_mul``.
    """

    initial_lr: float
    first_decay_steps: int
    t_mul: float = 2.0
    m_mul: float = 1.0
    alpha: float = 0.0

    def __post_init__(self) -> None:
        _number(self.initial_lr, "initial_lr")
        check_positive_int(self.first_decay_steps, "first_decay_steps")
        if _number(self.t_mul, "t_mul", positive=True) < 1:
            raise ValueError(f"t_mul: expected a number >= 1 (periods never shrink), got {self.t_mul!r}")
        _number(self.m_mul, "m_mul")
        _number(self.alpha, "alpha")

    def period(self, step: int) -> tuple[int, float]:
        """``(i, f)``: the 0-based period of ``step`` and the fraction of it completed."""
        fraction = _step(step) / self.first_decay_steps  # in units of the first period
        i, start, length = 0, 0.0, 1.0
        while fraction >= start + length:
            start, length, i = start + length, length * self.t_mul, i + 1
        return i, (fraction - start) / length

    def lr_at(self, step: int) -> float:
        i, f = self.period(step)
        return self.initial_lr * ((1 - self.alpha) * self.m_mul**i * _cosine(f) + self.alpha)


@dataclass(frozen=True)
class OneCycle(Schedule):
    """The 1cycle policy (Smith & Topin 2019) as PyTorch's ``OneCycleLR`` defines it.

    Algorithm (``T = total_steps``, ``initial = max_lr / div_factor``,
    ``min = initial / final_div_factor``); phases end at steps ``e_1 = pct_start * T - 1`` and
    ``e_2 = T - 1`` (three-phase: ``e_1``, ``e_2 = 2 pct_start T - 2``, ``e_3 = T - 1``)::

        phase j from step e_(j-1) (0 for j = 1) to e_j: pct = (step - e_(j-1)) / (e_j - e_(j-1))
        cos:    value = end + (start - end) / 2 * (cos(pi * pct) + 1)
        linear: value = (end - start) * pct + start
        two phases:   lr initial -> max_lr -> min;  momentum max_momentum -> base_momentum -> max_momentum
        three phases: lr initial -> max_lr -> initial -> min; momentum max -> base -> max -> max

    Defined for steps 0..T-1. ``momentum_at(step)`` gives the cycled momentum (or Adam beta_1).

    Framework notes: PyTorch ``OneCycleLR`` (closed form, no drift); stepping it past
    ``total_steps`` raises. Keras has no one-cycle schedule.
    """

    max_lr: float
    total_steps: int
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False
    base_momentum: float = 0.85
    max_momentum: float = 0.95

    def __post_init__(self) -> None:
        _number(self.max_lr, "max_lr")
        check_positive_int(self.total_steps, "total_steps")
        if not 0 < _number(self.pct_start, "pct_start", positive=True) < 1:
            raise ValueError(f"pct_start: expected a number in (0, 1), got {self.pct_start!r}")
        check_choice(self.anneal_strategy, "anneal_strategy", ("cos", "linear"))
        _number(self.div_factor, "div_factor", positive=True)
        _number(self.final_div_factor, "final_div_factor", positive=True)
        _number(self.base_momentum, "base_momentum")
        _number(self.max_momentum, "max_momentum")

    def _phases(self) -> list[tuple[float, tuple[float, float], tuple[float, float]]]:
        initial = self.max_lr / self.div_factor
        low, t, hi_m, lo_m = initial / self.final_div_factor, self.total_steps, self.max_momentum, self.base_momentum
        if self.three_phase:
            return [(self.pct_start * t - 1, (initial, self.max_lr), (hi_m, lo_m)),
                    (2 * self.pct_start * t - 2, (self.max_lr, initial), (lo_m, hi_m)),
                    (t - 1, (initial, low), (hi_m, hi_m))]
        return [(self.pct_start * t - 1, (initial, self.max_lr), (hi_m, lo_m)),
                (t - 1, (self.max_lr, low), (lo_m, hi_m))]

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _at(self, step: int, which: int) -> float:
        s = _step(step)
        if s >= self.total_steps:
            raise ValueError(f"step: OneCycle is defined for steps 0..{self.total_steps - 1}, got {step}")
        phases, begin = self._phases(), 0.0
        for j, (end, lr, momentum) in enumerate(phases):
            if s <= end or j == len(phases) - 1:
                start_end = lr if which == 0 else momentum
                return self._anneal(*start_end, (s - begin) / (end - begin))
            begin = end
        raise AssertionError("unreachable")

    def lr_at(self, step: int) -> float:
        return self._at(step, 0)

    def momentum_at(self, step: int) -> float:
        """The momentum (SGD) or beta_1 (Adam) that PyTorch's OneCycleLR sets for this step."""
        return self._at(step, 1)


@dataclass(frozen=True)
class WarmupCosineEpochs(Schedule):
    """Epoch-based linear warm-up then cosine decay, the function Keras users pass to
    ``LearningRateScheduler``.

    Algorithm (0-based ``epoch``, ``W = warmup_epochs``, ``E = total_epochs``)::

        epoch < W:  lr = max_lr * (epoch + 1) / W
        W <= epoch: lr = min_lr + (max_lr - min_lr) * (1 + cos(pi * min(epoch - W, E - W) / (E - W))) / 2

    ``lr_at(step)`` holds the lr of epoch ``step // steps_per_epoch`` for the whole epoch.
    ``lr_at_epoch(epoch, lr)`` has Keras's ``schedule(epoch, lr)`` signature (``lr`` is ignored),
    so it can be given to ``scratch.callbacks.LearningRateScheduler`` directly.

    Framework notes: Keras applies it with ``LearningRateScheduler`` at each epoch start (0-based
    epoch); PyTorch users write ``LambdaLR(lr_lambda=factor)`` on an optimizer with lr = max_lr and
    call ``scheduler.step()`` once per epoch; the group lr after ``e`` calls is the lr of epoch e.
    """

    max_lr: float
    warmup_epochs: int
    total_epochs: int
    steps_per_epoch: int = 1
    min_lr: float = 0.0

    def __post_init__(self) -> None:
        _number(self.max_lr, "max_lr")
        check_positive_int(self.warmup_epochs, "warmup_epochs")
        if check_positive_int(self.total_epochs, "total_epochs") <= self.warmup_epochs:
            raise ValueError(f"total_epochs: expected more than warmup_epochs={self.warmup_epochs}, "
                             f"got {self.total_epochs}")
        check_positive_int(self.steps_per_epoch, "steps_per_epoch")
        _number(self.min_lr, "min_lr")

    def lr_at_epoch(self, epoch: int, lr: float | None = None) -> float:
        e = _step(epoch)
        if e < self.warmup_epochs:
            return self.max_lr * (e + 1) / self.warmup_epochs
        span = self.total_epochs - self.warmup_epochs
        return self.min_lr + (self.max_lr - self.min_lr) * _cosine(min(e - self.warmup_epochs, span) / span)

    def lr_at(self, step: int) -> float:
        return self.lr_at_epoch(_step(step) // self.steps_per_epoch)
