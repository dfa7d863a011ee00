"""Adamax: Adam with the infinity norm of past gradients in place of the root mean square."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from scratch._checks import check_choice, check_positive_int
from scratch.optimizers.base import Optimizer, check_lr, check_nonnegative, check_unit

#: "outside": eps added to the infinity norm in the denominator (Keras); "inside": eps inside the
#: max, so it accumulates in u (PyTorch).
ADAMAX_EPS_PLACEMENTS = ("outside", "inside")


def adamax_update(p: np.ndarray, g: np.ndarray, m: np.ndarray, u: np.ndarray, t: int, *, lr: float,
                  beta_1: float, beta_2: float, eps: float, eps_placement: str = "outside",
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adamax step on one array; returns ``(new_p, new_m, new_u)``.

    Algorithm (Kingma & Ba 2015, section 7.1, Algorithm 2; t = 1, 2, ...; m, u start at 0)::

        m <- m + (1 - beta_1) * (g - m)
        "outside" (Keras Adamax):
            u <- max(beta_2 * u, |g|)
            p <- p - (eta / (1 - beta_1**t)) * m / (u + eps)
        "inside" (PyTorch Adamax):
            u <- max(beta_2 * u, |g| + eps)
            p <- p - (eta / (1 - beta_1**t)) * m / u

    The paper has no epsilon. The two placements are not related by any constant: "inside" adds
    eps to the newest |g| before the max, so after a step where beta_2 * u wins the denominator
    holds beta_2 * (|g_k| + eps) rather than beta_2 * |g_k| + eps. With eps = 0 they coincide.
    The bias correction 1 - beta_1**t is computed in double precision from the Python float
    beta_1, whatever the dtype of ``p``.

    Framework notes: Keras ``Adamax(learning_rate=0.001, beta_1=0.9, beta_2=0.999,
    epsilon=1e-7)`` (keras/src/optimizers/adamax.py) computes beta_1**t in the variable's dtype
    and divides lr * m by (1 - beta_1**t) * (u + eps); PyTorch ``Adamax(lr=2e-3, betas=(0.9,
    0.999), eps=1e-8, weight_decay=0)`` (torch/optim/adamax.py, ``torch.maximum(exp_inf * beta2,
    |g| + eps)``) keeps eps inside the max and has coupled weight decay only.

    Args:
        p: parameter.
        g: gradient, same shape and dtype.
        m: first moment from the previous step.
        u: exponentially weighted infinity norm from the previous step.
        t: this step's number, 1-based.
        lr: learning rate of this step (>= 0).
        beta_1, beta_2: decay rates in [0, 1).
        eps: epsilon >= 0.
        eps_placement: ``"outside"`` (Keras) or ``"inside"`` (PyTorch).
    """
    lr = check_lr(lr)
    t = check_positive_int(t, "t")
    beta_1, beta_2, eps = _check_adamax(beta_1, beta_2, eps, eps_placement)
    ty = p.dtype.type
    m = m + (g - m) * ty(1.0 - beta_1)
    if eps_placement == "outside":
        u = np.maximum(u * ty(beta_2), np.abs(g))
        den = u + ty(eps)
    else:
        u = np.maximum(u * ty(beta_2), np.abs(g) + ty(eps))
        den = u
    return p - m / den * ty(lr / (1.0 - beta_1**t)), m, u


def _check_adamax(beta_1, beta_2, eps, eps_placement) -> tuple[float, float, float]:
    beta_1 = check_unit(beta_1, "beta_1", closed_right=False)
    beta_2 = check_unit(beta_2, "beta_2", closed_right=False)
    eps = check_nonnegative(eps, "eps")
    check_choice(eps_placement, "eps_placement", ADAMAX_EPS_PLACEMENTS)
    return beta_1, beta_2, eps


class Adamax(Optimizer):
    """Adamax with the epsilon placement of Keras ("outside") or PyTorch ("inside").

    The update is :func:`adamax_update` (algorithm and framework notes there), applied per
    parameter after weight decay and gradient clipping (:class:`scratch.optimizers.base.Optimizer`).

    Args:
        beta_1, beta_2: decay rates in [0, 1) (defaults 0.9, 0.999).
        eps: epsilon >= 0 (default 1e-7, Keras's; PyTorch's is 1e-8).
        eps_placement: ``"outside"`` (Keras) or ``"inside"`` (PyTorch); default "outside".
        weight_decay, weight_decay_mode, exclude_from_weight_decay: see ``Optimizer``.
    """

    def __init__(self, *, beta_1: float = 0.9, beta_2: float = 0.999, eps: float = 1e-7,
                 eps_placement: str = "outside", weight_decay: float = 0.0, weight_decay_mode: str = "coupled",
                 exclude_from_weight_decay: Collection[str] = ()) -> None:
        super().__init__(weight_decay=weight_decay, weight_decay_mode=weight_decay_mode,
                         exclude_from_weight_decay=exclude_from_weight_decay)
        self.beta_1, self.beta_2, self.eps = _check_adamax(beta_1, beta_2, eps, eps_placement)
        self.eps_placement = eps_placement

    def _init_state(self, p: np.ndarray) -> dict:
        return {"m": np.zeros_like(p), "u": np.zeros_like(p)}

    def _update(self, state: dict, p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        new, state["m"], state["u"] = adamax_update(
            p, g, state["m"], state["u"], state["t"], lr=lr, beta_1=self.beta_1, beta_2=self.beta_2, eps=self.eps,
            eps_placement=self.eps_placement)
        return new

    def config(self) -> dict:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "eps": self.eps, "eps_placement": self.eps_placement,
                **super().config()}
