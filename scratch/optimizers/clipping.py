"""Gradient clipping by value, by each gradient's norm and by the global norm, around any optimizer."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from scratch.optimizers.base import Optimizer, check_nonnegative

#: PyTorch ``clip_grad_norm_`` divides by total_norm + 1e-6; Keras divides by the norm itself.
TORCH_CLIP_NORM_EPS = 1e-6


def _norm(arrays) -> float:
    """Euclidean norm of all entries of ``arrays``, accumulated in float64."""
    return math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays))


def clip_by_value(g: np.ndarray, clipvalue: float) -> np.ndarray:
    """Each entry clamped to [-clipvalue, clipvalue] (Keras ``clipvalue``, PyTorch ``clip_grad_value_``)."""
    v = g.dtype.type(check_nonnegative(clipvalue, "clipvalue"))
    return np.clip(g, -v, v)


def clip_by_norm(g: np.ndarray, clipnorm: float, *, norm_eps: float = 0.0) -> np.ndarray:
    """One gradient scaled to norm at most ``clipnorm``: g * min(clipnorm / (||g|| + norm_eps), 1).

    With norm_eps = 0 this is Keras ``clipnorm`` (``tf.clip_by_norm``: g * c / max(||g||, c), per
    variable); with norm_eps = 1e-6 it is PyTorch ``clip_grad_norm_`` called on that parameter alone.
    """
    return clip_by_global_norm([g], clipnorm, norm_eps=norm_eps)[0]


def clip_by_global_norm(grads, clipnorm: float, *, norm_eps: float = 0.0) -> list[np.ndarray]:
    """Every gradient scaled by one factor: min(clipnorm / (N + norm_eps), 1), N = the norm of all
    entries of all gradients together (Keras ``global_clipnorm`` with norm_eps = 0, PyTorch
    ``clip_grad_norm_`` over all parameters with norm_eps = 1e-6). N and the factor are computed in
    float64; the factor is rounded to each gradient's dtype."""
    c = check_nonnegative(clipnorm, "clipnorm")
    eps = check_nonnegative(norm_eps, "norm_eps")
    grads = list(grads)
    total = _norm(grads) + eps
    scale = 1.0 if total == 0.0 else min(c / total, 1.0)
    return [g * g.dtype.type(scale) for g in grads]


class ClipGradients:
    """An optimizer whose gradients are clipped before each step.

    Algorithm (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent neural
    networks", Algorithm 1 for the norm; one of the three, then the wrapped optimizer's step)::

        clipvalue:        g <- clamp(g, -clipvalue, clipvalue)                  per entry
        clipnorm:         g <- g * min(clipnorm / (||g|| + norm_eps), 1)        per parameter
        global_clipnorm:  g <- g * min(clipnorm / (N + norm_eps), 1),  N = sqrt(sum over all p of ||g_p||^2)
        then optimizer.step(params, g, lr)  (weight decay, if any, after the clipping)

    Framework notes: Keras takes ``clipnorm`` / ``global_clipnorm`` / ``clipvalue`` as optimizer
    arguments (at most one; keras/src/optimizers/base_optimizer.py ``_clip_gradients``) and clips
    before the decoupled weight decay and the update; ``clipnorm`` is per variable
    (``tf.clip_by_norm``: g * c / max(||g||, c)), ``global_clipnorm`` scales by c * min(1 / N, 1 / c).
    PyTorch clips ``.grad`` with ``torch.nn.utils.clip_grad_norm_(params, max_norm,
    norm_type=2.0)`` (factor min(max_norm / (N + 1e-6), 1): ``norm_eps = 1e-6``) or
    ``clip_grad_value_`` between ``backward()`` and ``step()``, so its coupled weight decay is
    added to the clipped gradient; PyTorch has no per-parameter norm clipping (call
    ``clip_grad_norm_`` once per parameter). The 1e-6 makes a clipped PyTorch step smaller than
    Keras's by the factor N / (N + 1e-6).

    Args:
        optimizer: the wrapped scratch optimizer.
        clipnorm: per-parameter norm bound > 0, or None.
        global_clipnorm: global norm bound > 0, or None.
        clipvalue: entry bound > 0, or None.
        norm_eps: added to the norm in the norm modes (0.0 Keras, ``TORCH_CLIP_NORM_EPS`` PyTorch).

    Raises:
        ValueError: not exactly one of clipnorm, global_clipnorm, clipvalue given, or one <= 0.
    """

    def __init__(self, optimizer: Optimizer, *, clipnorm: float | None = None, global_clipnorm: float | None = None,
                 clipvalue: float | None = None, norm_eps: float = 0.0) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer: expected a scratch Optimizer, got {type(optimizer).__name__}")
        given = {k: v for k, v in {"clipnorm": clipnorm, "global_clipnorm": global_clipnorm,
                                   "clipvalue": clipvalue}.items() if v is not None}
        if len(given) != 1:
            raise ValueError(f"clipnorm, global_clipnorm, clipvalue: expected exactly one (as Keras), got {given}")
        (self.mode, value), = given.items()
        if check_nonnegative(value, self.mode) == 0:
            raise ValueError(f"{self.mode}: expected a bound > 0, got {value!r}")
        self.optimizer, self.threshold = optimizer, float(value)
        self.norm_eps = check_nonnegative(norm_eps, "norm_eps")

    def clip(self, grads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The clipped gradients (new arrays), same keys."""
        if self.mode == "clipvalue":
            return {k: clip_by_value(g, self.threshold) for k, g in grads.items()}
        if self.mode == "clipnorm":
            return {k: clip_by_norm(g, self.threshold, norm_eps=self.norm_eps) for k, g in grads.items()}
        clipped = clip_by_global_norm(grads.values(), self.threshold, norm_eps=self.norm_eps)
        return dict(zip(grads, clipped, strict=True))

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], lr: float) -> None:
        """Clip ``grads``, then the wrapped optimizer's ``step`` (which checks every argument)."""
        checked = {k: np.asarray(g) for k, g in grads.items()}
        self.optimizer.step(params, self.clip(checked) if all(np.isfinite(g).all() for g in checked.values())
                            else checked, lr)

    @property
    def state(self) -> dict:
        return self.optimizer.state

    @property
    def iterations(self) -> int:
        return self.optimizer.iterations

    def config(self) -> dict:
        return {self.mode: self.threshold, "norm_eps": self.norm_eps, "optimizer": self.optimizer}

    def __repr__(self) -> str:
        return f"ClipGradients({self.optimizer!r}, {self.mode}={self.threshold!r}, norm_eps={self.norm_eps!r})"
