"""Stochastic gradient descent: plain, with momentum (three forms) and Nesterov momentum."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from scratch._checks import check_choice
from scratch.optimizers.base import Optimizer, check_flag, check_lr, check_unit

MOMENTUM_FORMS = ("keras", "torch", "textbook", "textbook-erratum")


def sgd_update(p: np.ndarray, g: np.ndarray, velocity: np.ndarray | None, *, lr: float, momentum: float = 0.0,
               nesterov: bool = False, momentum_form: str = "keras",
               dampening: float = 0.0) -> tuple[np.ndarray, np.ndarray | None]:
    """One SGD step on one array; returns ``(new_p, new_velocity)`` (new arrays, inputs untouched).

    Algorithm (mu = momentum, eta = lr of this step, d = dampening)::

        momentum == 0:        p <- p - eta * g

        "keras" form (Keras SGD; the textbook's Momentum; Sutskever et al. 2013):
            v <- mu * v - eta * g                      (v starts at 0: it stores eta-scaled steps)
            p <- p + v                                 plain momentum
            p <- p + (mu * v - eta * g)                Nesterov (v already updated)

        "torch" form (torch.optim.SGD):
            b <- g on the first step, else b <- mu * b + (1 - d) * g   (raw gradients, no eta)
            p <- p - eta * b                           plain momentum
            p <- p - eta * (g + mu * b)                Nesterov (needs d = 0)

        "textbook" form (the book's common/optimizer.py): plain momentum as "keras"; Nesterov moves
        p with the velocity of the previous step, then updates it:
            p <- p + mu * mu * v - (1 + mu) * eta * g     (v of the previous step)
            v <- mu * v - eta * g

        "textbook-erratum" form (an early version of the book's repository): the same two lines
        in the other order, v updated first:
            v <- mu * v - eta * g
            p <- p + mu * mu * v - (1 + mu) * eta * g     (v of this step)

    With a constant eta the "keras" and "torch" forms give the same trajectory (v = -eta * b);
    when eta changes they differ: "keras" keeps old gradients at the eta they were taken with,
    "torch" rescales the whole buffer by the current eta. The textbook's Nesterov is the Keras
    Nesterov rearranged: mu * v_new - eta * g = mu^2 * v - (1 + mu) * eta * g, so the two agree to
    rounding for any eta sequence. The erratum form multiplies the updated velocity by mu**2 and
    equals no framework: each of its steps is mu times the Keras Nesterov step minus eta_k * g_k,
    so for one gradient sequence x_t - p_0 = mu * (p_t - p_0) - sum_k eta_k * g_k.

    Framework notes: Keras ``SGD(learning_rate, momentum, nesterov)`` has no dampening and checks
    momentum is a float in [0, 1]; PyTorch ``SGD(lr, momentum, dampening, nesterov)`` raises for
    Nesterov with momentum 0 or dampening != 0.

    Args:
        p: parameter.
        g: gradient, same shape and dtype.
        velocity: ``v`` ("keras", "textbook", "textbook-erratum") or ``b`` ("torch") from the previous step; ``None`` on
            the first step (and ignored when momentum is 0).
        lr: learning rate of this step (>= 0).
        momentum: mu in [0, 1].
        nesterov: Nesterov momentum (needs momentum > 0).
        momentum_form: ``"keras"``, ``"torch"``, ``"textbook"`` or ``"textbook-erratum"``.
        dampening: d in [0, 1], "torch" form only.

    Returns:
        The new parameter and the new velocity (``None`` when momentum is 0).
    """
    lr = check_lr(lr)
    momentum, dampening = _check_sgd(momentum, nesterov, momentum_form, dampening)
    return _sgd_update(p, g, velocity, lr, momentum, nesterov, momentum_form, dampening)


def _sgd_update(p: np.ndarray, g: np.ndarray, velocity: np.ndarray | None, lr: float, momentum: float,
                nesterov: bool, momentum_form: str, dampening: float) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`sgd_update` on arguments already checked (the optimizer class checks them once)."""
    if momentum == 0.0:
        return p - g * p.dtype.type(lr), None
    mu, eta = p.dtype.type(momentum), p.dtype.type(lr)
    if momentum_form == "torch":
        b = g.copy() if velocity is None else velocity * mu + g * p.dtype.type(1.0 - dampening)
        return p - (g + b * mu if nesterov else b) * eta, b
    old = np.zeros_like(p) if velocity is None else velocity
    v = old * mu - g * eta
    if not nesterov:
        return p + v, v
    if momentum_form == "keras":
        return p + (v * mu - g * eta), v
    mu2, step = p.dtype.type(momentum * momentum), p.dtype.type((1.0 + momentum) * lr)
    if momentum_form == "textbook":
        return p + old * mu2 - g * step, v
    return p + v * mu2 - g * step, v


def _check_sgd(momentum: object, nesterov: object, momentum_form: object, dampening: object) -> tuple[float, float]:
    momentum = check_unit(momentum, "momentum", closed_right=True)
    dampening = check_unit(dampening, "dampening", closed_right=True)
    nesterov = check_flag(nesterov, "nesterov")
    check_choice(momentum_form, "momentum_form", MOMENTUM_FORMS)
    if nesterov and momentum == 0.0:
        raise ValueError("nesterov: Nesterov momentum needs momentum > 0, got momentum=0.0")
    if dampening != 0.0 and momentum_form != "torch":
        raise ValueError(f"dampening: only the 'torch' momentum form has dampening, got dampening={dampening} "
                         f"with momentum_form={momentum_form!r}")
    if dampening != 0.0 and nesterov:
        raise ValueError(f"dampening: Nesterov momentum needs dampening 0, got {dampening}")
    return momentum, dampening


class SGD(Optimizer):
    """SGD with optional (Nesterov) momentum, in the Keras, PyTorch or textbook form.

    The update is :func:`sgd_update` (algorithm and framework notes there), applied per parameter
    after weight decay (:class:`scratch.optimizers.base.Optimizer`).

    Args:
        momentum: mu in [0, 1] (default 0).
        nesterov: Nesterov momentum (default False).
        momentum_form: ``"keras"`` (velocity of eta-scaled steps), ``"torch"`` (buffer of raw
            gradients), ``"textbook"`` (the book's Nesterov, the Keras Nesterov rearranged) or
            ``"textbook-erratum"`` (the early repository's Nesterov, equal to no framework); default
            ``"keras"``. They differ only under a changing learning rate, except the erratum Nesterov.
        dampening: PyTorch's dampening, "torch" form only (default 0).
        weight_decay, weight_decay_mode, exclude_from_weight_decay: see ``Optimizer``.
    """

    def __init__(self, *, momentum: float = 0.0, nesterov: bool = False, momentum_form: str = "keras",
                 dampening: float = 0.0, weight_decay: float = 0.0, weight_decay_mode: str = "coupled",
                 exclude_from_weight_decay: Collection[str] = ()) -> None:
        super().__init__(weight_decay=weight_decay, weight_decay_mode=weight_decay_mode,
                         exclude_from_weight_decay=exclude_from_weight_decay)
        self.momentum, self.dampening = _check_sgd(momentum, nesterov, momentum_form, dampening)
        self.nesterov = bool(nesterov)
        self.momentum_form = momentum_form

    def _init_state(self, p: np.ndarray) -> dict:
        return {"velocity": None}

    def _update(self, state: dict, p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        new, state["velocity"] = _sgd_update(p, g, state["velocity"], lr, self.momentum, self.nesterov,
                                             self.momentum_form, self.dampening)
        return new

    def config(self) -> dict:
        return {"momentum": self.momentum, "nesterov": self.nesterov, "momentum_form": self.momentum_form,
                "dampening": self.dampening, **super().config()}
