"""AdaGrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from scratch._checks import check_choice
from scratch.optimizers.base import Optimizer, check_lr, check_nonnegative

EPS_PLACEMENTS = ("inside", "outside")


def adagrad_update(p: np.ndarray, g: np.ndarray, accumulator: np.ndarray, *, lr: float, eps: float,
                   eps_placement: str = "inside") -> tuple[np.ndarray, np.ndarray]:
    """One AdaGrad step on one array; returns ``(new_p, new_accumulator)``.

    Algorithm (Duchi, Hazan & Singer 2011; eta = lr of this step)::

        h <- h + g * g                          (h starts at initial_accumulator_value)
        "inside":   p <- p - eta * g / sqrt(h + eps)        (Keras Adagrad)
        "outside":  p <- p - eta * g / (sqrt(h) + eps)      (PyTorch Adagrad; the textbook, eps = 1e-7)

    No constant makes the two placements equal: sqrt(h + eps) - sqrt(h) depends on h. With
    eps = 0 they coincide.

    Framework notes: Keras ``Adagrad(learning_rate=0.001, initial_accumulator_value=0.1,
    epsilon=1e-7)``; PyTorch ``Adagrad(lr=0.01, lr_decay=0, weight_decay=0,
    initial_accumulator_value=0, eps=1e-10)``, whose ``lr_decay`` divides eta by
    1 + (t - 1) * lr_decay (use a schedule here instead; twins set it to 0); the textbook's
    ``AdaGrad(lr=0.01)`` starts h at 0 and uses eps = 1e-7 outside the root.

    Args:
        p: parameter.
        g: gradient, same shape and dtype.
        accumulator: h from the previous step.
        lr: learning rate of this step (>= 0).
        eps: epsilon >= 0.
        eps_placement: ``"inside"`` or ``"outside"`` the square root.
    """
    lr = check_lr(lr)
    eps = check_nonnegative(eps, "eps")
    check_choice(eps_placement, "eps_placement", EPS_PLACEMENTS)
    return _adagrad_update(p, g, accumulator, lr, eps, eps_placement)


def _adagrad_update(p: np.ndarray, g: np.ndarray, accumulator: np.ndarray, lr: float, eps: float,
                    eps_placement: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`adagrad_update` on arguments already checked (the optimizer class checks them once)."""
    e = p.dtype.type(eps)
    h = accumulator + g * g
    den = np.sqrt(h + e) if eps_placement == "inside" else np.sqrt(h) + e
    return p - g * p.dtype.type(lr) / den, h


class Adagrad(Optimizer):
    """AdaGrad with epsilon inside or outside the square root.

    The update is :func:`adagrad_update` (algorithm and framework notes there), applied per
    parameter after weight decay (:class:`scratch.optimizers.base.Optimizer`).

    Args:
        initial_accumulator_value: starting h >= 0 (default 0.0, as PyTorch and the textbook;
            Keras defaults to 0.1).
        eps: epsilon >= 0 (default 1e-7).
        eps_placement: ``"inside"`` (Keras) or ``"outside"`` (PyTorch, textbook); default "inside".
        weight_decay, weight_decay_mode, exclude_from_weight_decay: see ``Optimizer``.
    """

    def __init__(self, *, initial_accumulator_value: float = 0.0, eps: float = 1e-7,
                 eps_placement: str = "inside", weight_decay: float = 0.0, weight_decay_mode: str = "coupled",
                 exclude_from_weight_decay: Collection[str] = ()) -> None:
        super().__init__(weight_decay=weight_decay, weight_decay_mode=weight_decay_mode,
                         exclude_from_weight_decay=exclude_from_weight_decay)
        self.initial_accumulator_value = check_nonnegative(initial_accumulator_value, "initial_accumulator_value")
        self.eps = check_nonnegative(eps, "eps")
        self.eps_placement = check_choice(eps_placement, "eps_placement", EPS_PLACEMENTS)

    def _init_state(self, p: np.ndarray) -> dict:
        return {"accumulator": np.full_like(p, self.initial_accumulator_value)}

    def _update(self, state: dict, p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        new, state["accumulator"] = _adagrad_update(p, g, state["accumulator"], lr, self.eps, self.eps_placement)
        return new

    def config(self) -> dict:
        return {"initial_accumulator_value": self.initial_accumulator_value, "eps": self.eps,
                "eps_placement": self.eps_placement, **super().config()}
