"""RMSprop: plain or centered, with optional momentum in the Keras or PyTorch form."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from scratch._checks import check_choice
from scratch.optimizers.adagrad import EPS_PLACEMENTS
from scratch.optimizers.base import Optimizer, check_flag, check_lr, check_nonnegative, check_unit

RMSPROP_MOMENTUM_FORMS = ("keras", "torch")


def rmsprop_update(p: np.ndarray, g: np.ndarray, v: np.ndarray, mean_grad: np.ndarray | None,
                   buf: np.ndarray | None, *, lr: float, rho: float, eps: float, eps_placement: str = "inside",
                   centered: bool = False, momentum: float = 0.0, momentum_form: str = "keras",
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """One RMSprop step on one array; returns ``(new_p, new_v, new_mean_grad, new_buf)``.

    Algorithm (Hinton, Coursera lecture 6e; centered: Graves 2013; eta = lr of this step)::

        v <- rho * v + (1 - rho) * g * g                     (v, mean_grad, buf start at 0)
        centered:  mean_grad <- rho * mean_grad + (1 - rho) * g;  s = v - mean_grad**2
        else:      s = v
        "inside":  d = sqrt(s + eps)          (Keras RMSprop)
        "outside": d = sqrt(s) + eps          (PyTorch RMSprop; the textbook, eps = 1e-7)
        momentum == 0:                 p <- p - eta * g / d
        "keras" form:  buf <- momentum * buf + eta * g / d;   p <- p - buf
        "torch" form:  buf <- momentum * buf + g / d;         p <- p - eta * buf

    No bias correction. The momentum forms agree at a constant eta and differ when it changes
    (eta inside or outside the buffer, as for SGD). ``mean_grad`` and ``buf`` are ``None`` when
    not centered / momentum is 0.

    Framework notes: Keras ``RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
    centered=False)``; PyTorch ``RMSprop(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0,
    momentum=0, centered=False)`` (alpha is rho); the textbook's ``RMSprop(lr=0.01,
    decay_rate=0.99)`` is PyTorch's form with eps = 1e-7 and no momentum.

    Args:
        p: parameter.
        g: gradient, same shape and dtype.
        v: mean square from the previous step.
        mean_grad: mean gradient (centered only, else ``None``).
        buf: momentum buffer (momentum > 0 only, else ``None``).
        lr: learning rate of this step (>= 0).
        rho: decay of the averages, in [0, 1).
        eps: epsilon >= 0.
        eps_placement: ``"inside"`` or ``"outside"`` the square root.
        centered: divide by the root of the variance estimate instead of the mean square.
        momentum: in [0, 1].
        momentum_form: ``"keras"`` or ``"torch"``.
    """
    lr = check_lr(lr)
    rho, eps, momentum, centered = _check_rmsprop(rho, eps, eps_placement, centered, momentum, momentum_form)
    t = p.dtype.type
    r, one_r, e = t(rho), t(1.0 - rho), t(eps)
    v = v * r + g * g * one_r
    if centered:
        mean_grad = (np.zeros_like(p) if mean_grad is None else mean_grad) * r + g * one_r
        s = v - mean_grad * mean_grad
    else:
        mean_grad, s = None, v
    d = np.sqrt(s + e) if eps_placement == "inside" else np.sqrt(s) + e
    if momentum == 0.0:
        return p - g * t(lr) / d, v, mean_grad, None
    buf = np.zeros_like(p) if buf is None else buf
    if momentum_form == "keras":
        buf = buf * t(momentum) + g * t(lr) / d
        return p - buf, v, mean_grad, buf
    buf = buf * t(momentum) + g / d
    return p - buf * t(lr), v, mean_grad, buf


def _check_rmsprop(rho, eps, eps_placement, centered, momentum, momentum_form) -> tuple[float, float, float, bool]:
    rho = check_unit(rho, "rho", closed_right=False)
    eps = check_nonnegative(eps, "eps")
    check_choice(eps_placement, "eps_placement", EPS_PLACEMENTS)
    centered = check_flag(centered, "centered")
    momentum = check_unit(momentum, "momentum", closed_right=True)
    check_choice(momentum_form, "momentum_form", RMSPROP_MOMENTUM_FORMS)
    return rho, eps, momentum, centered


class RMSprop(Optimizer):
    """RMSprop; epsilon inside or outside the root; centered; momentum in two forms.

    The update is :func:`rmsprop_update` (algorithm and framework notes there), applied per
    parameter after weight decay (:class:`scratch.optimizers.base.Optimizer`).

    Args:
        rho: decay of the averages in [0, 1) (default 0.9, as Keras; PyTorch's alpha is 0.99).
        eps: epsilon >= 0 (default 1e-7).
        eps_placement: ``"inside"`` (Keras) or ``"outside"`` (PyTorch, textbook); default "inside".
        centered: default False.
        momentum: in [0, 1] (default 0).
        momentum_form: ``"keras"`` (eta inside the buffer) or ``"torch"`` (eta outside); default "keras".
        weight_decay, weight_decay_mode, exclude_from_weight_decay: see ``Optimizer``.
    """

    def __init__(self, *, rho: float = 0.9, eps: float = 1e-7, eps_placement: str = "inside",
                 centered: bool = False, momentum: float = 0.0, momentum_form: str = "keras",
                 weight_decay: float = 0.0, weight_decay_mode: str = "coupled",
                 exclude_from_weight_decay: Collection[str] = ()) -> None:
        super().__init__(weight_decay=weight_decay, weight_decay_mode=weight_decay_mode,
                         exclude_from_weight_decay=exclude_from_weight_decay)
        self.rho, self.eps, self.momentum, self.centered = _check_rmsprop(rho, eps, eps_placement, centered,
                                                                          momentum, momentum_form)
        self.eps_placement = eps_placement
        self.momentum_form = momentum_form

    def _init_state(self, p: np.ndarray) -> dict:
        return {"v": np.zeros_like(p), "mean_grad": None, "buf": None}

    def _update(self, state: dict, p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        new, state["v"], state["mean_grad"], state["buf"] = rmsprop_update(
            p, g, state["v"], state["mean_grad"], state["buf"], lr=lr, rho=self.rho, eps=self.eps,
            eps_placement=self.eps_placement, centered=self.centered, momentum=self.momentum,
            momentum_form=self.momentum_form)
        return new

    def config(self) -> dict:
        return {"rho": self.rho, "eps": self.eps, "eps_placement": self.eps_placement, "centered": self.centered,
                "momentum": self.momentum, "momentum_form": self.momentum_form, **super().config()}
