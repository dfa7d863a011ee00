"""Nadam: Adam with Nesterov momentum and a warming-up momentum schedule."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from scratch._checks import check_positive_int
from scratch.optimizers.base import Optimizer, check_lr, check_nonnegative, check_unit

#: Keras's momentum schedule beta_1 * (1 - 0.5 * 0.96**t) is this one with momentum_decay = 1.
KERAS_MOMENTUM_DECAY = 1.0
#: PyTorch's default (Dozat 2016: 0.96**(t / 250)).
TORCH_MOMENTUM_DECAY = 4e-3


def momentum_schedule(t: int, *, beta_1: float, momentum_decay: float) -> float:
    """mu_t = beta_1 * (1 - 0.5 * 0.96**(t * momentum_decay)), in double precision."""
    return beta_1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))


def nadam_update(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, mu_product: float, *,
                 lr: float, beta_1: float, beta_2: float, eps: float, momentum_decay: float,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One Nadam step on one array; returns ``(new_p, new_m, new_v, new_mu_product)``.

    Algorithm (Dozat 2016, "Incorporating Nesterov Momentum into Adam", Algorithm 2; t = 1, 2, ...;
    m, v start at 0, the product P_0 = 1)::

        mu_t = beta_1 * (1 - 0.5 * 0.96**(t * momentum_decay))      (momentum schedule)
        P_t  = P_(t-1) * mu_t
        m <- m + (1 - beta_1) * (g - m)
        v <- v + (1 - beta_2) * (g * g - v)
        d  = sqrt(v / (1 - beta_2**t)) + eps                     (eps on the bias-corrected root)
        p <- p - eta * (1 - mu_t) / (1 - P_t) * g / d - eta * mu_(t+1) / (1 - P_t * mu_(t+1)) * m / d

    mu_t, P_t and the bias corrections are computed in double precision from the Python floats
    (as PyTorch does with its float64 scalars), whatever the dtype of ``p``.

    Framework notes: Keras ``Nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)``
    (keras/src/optimizers/nadam.py) uses u_t = beta_1 * (1 - 0.5 * 0.96**t): this schedule with
    momentum_decay = 1 exactly (``KERAS_MOMENTUM_DECAY``); its m_hat = u_(t+1) * m / (1 - P_(t+1))
    + (1 - u_t) * g / (1 - P_t) and p -= eta * m_hat / (sqrt(v / (1 - beta_2**t)) + eps) is the
    update above rearranged, with the product kept in one variable of the first variable's dtype
    and computed in the variable's dtype (float32 betas in float32). PyTorch ``NAdam(lr=2e-3,
    betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False)`` (torch/optim/nadam.py) follows the paper's 0.96**(t / 250);
    its per-parameter ``mu_product`` is a tensor of ``torch.get_default_dtype()`` (float32 unless
    the default is float64), so in a float64 model whose default dtype stayed float32 P_t is
    rounded to float32 every step (1e-8 relative). Keras's schedule reaches beta_1 within ~100
    steps; PyTorch's default moves from 0.45 to 0.9 over thousands of steps.

    Args:
        p: parameter.
        g: gradient, same shape and dtype.
        m, v: first and second moments from the previous step.
        t: this step's number, 1-based.
        mu_product: P_(t-1), the product of mu_1 .. mu_(t-1) (1.0 before the first step).
        lr: learning rate of this step (>= 0).
        beta_1, beta_2: decay rates in [0, 1).
        eps: epsilon >= 0.
        momentum_decay: psi >= 0 in 0.96**(t * psi); 1.0 for Keras, 4e-3 for PyTorch.
    """
    lr = check_lr(lr)
    t = check_positive_int(t, "t")
    beta_1, beta_2, eps, momentum_decay = _check_nadam(beta_1, beta_2, eps, momentum_decay)
    ty = p.dtype.type
    mu = momentum_schedule(t, beta_1=beta_1, momentum_decay=momentum_decay)
    mu_next = momentum_schedule(t + 1, beta_1=beta_1, momentum_decay=momentum_decay)
    product = float(mu_product) * mu
    m = m + (g - m) * ty(1.0 - beta_1)
    v = v + (g * g - v) * ty(1.0 - beta_2)
    den = np.sqrt(v / ty(1.0 - beta_2**t)) + ty(eps)
    step_g = g / den * ty(lr * (1.0 - mu) / (1.0 - product))
    step_m = m / den * ty(lr * mu_next / (1.0 - product * mu_next))
    return p - step_g - step_m, m, v, product


def _check_nadam(beta_1, beta_2, eps, momentum_decay) -> tuple[float, float, float, float]:
    return (check_unit(beta_1, "beta_1", closed_right=False), check_unit(beta_2, "beta_2", closed_right=False),
            check_nonnegative(eps, "eps"), check_nonnegative(momentum_decay, "momentum_decay"))


class Nadam(Optimizer):
    """Nadam with the momentum schedule of Keras (``momentum_decay=1.0``) or PyTorch (``4e-3``).

    The update is :func:`nadam_update` (algorithm and framework notes there), applied per
    parameter after weight decay and gradient clipping (:class:`scratch.optimizers.base.Optimizer`).
    The two frameworks' forms differ only in the number momentum_decay (and their defaults: eps
    1e-7 vs 1e-8, lr 1e-3 vs 2e-3), so the form is that number, not a named option.

    Args:
        beta_1, beta_2: decay rates in [0, 1) (defaults 0.9, 0.999).
        eps: epsilon >= 0 on the bias-corrected root (default 1e-7, Keras's; PyTorch's is 1e-8).
        momentum_decay: psi >= 0 of the schedule (default 1.0, Keras's; PyTorch's is 4e-3).
        weight_decay, weight_decay_mode, exclude_from_weight_decay: see ``Optimizer``.
    """

    def __init__(self, *, beta_1: float = 0.9, beta_2: float = 0.999, eps: float = 1e-7,
                 momentum_decay: float = KERAS_MOMENTUM_DECAY, weight_decay: float = 0.0,
                 weight_decay_mode: str = "coupled", exclude_from_weight_decay: Collection[str] = ()) -> None:
        super().__init__(weight_decay=weight_decay, weight_decay_mode=weight_decay_mode,
                         exclude_from_weight_decay=exclude_from_weight_decay)
        self.beta_1, self.beta_2, self.eps, self.momentum_decay = _check_nadam(beta_1, beta_2, eps, momentum_decay)

    def _init_state(self, p: np.ndarray) -> dict:
        return {"m": np.zeros_like(p), "v": np.zeros_like(p), "mu_product": 1.0}

    def _update(self, state: dict, p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        new, state["m"], state["v"], state["mu_product"] = nadam_update(
            p, g, state["m"], state["v"], state["t"], state["mu_product"], lr=lr, beta_1=self.beta_1,
            beta_2=self.beta_2, eps=self.eps, momentum_decay=self.momentum_decay)
        return new

    def config(self) -> dict:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "eps": self.eps,
                "momentum_decay": self.momentum_decay, **super().config()}
