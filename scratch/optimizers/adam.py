"""Adam (epsilon-hat or bias-corrected epsilon), AMSGrad, and AdamW."""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np

from scratch._checks import check_choice, check_positive_int
from scratch.optimizers.base import Optimizer, check_flag, check_lr, check_nonnegative, check_unit

ADAM_EPS_PLACEMENTS = ("hat", "corrected")


def adam_update(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, *, lr: float,
                beta_1: float, beta_2: float, eps: float, eps_placement: str = "hat", amsgrad: bool = False,
                v_max: np.ndarray | None = None,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """One Adam step on one array; returns ``(new_p, new_m, new_v, new_v_max)``.

    Algorithm (Kingma & Ba 2015, Algorithm 1; AMSGrad: Reddi, Kale & Kumar 2018; t = 1, 2, ...)::

        m <- m + (1 - beta_1) * (g - m)            (= beta_1 * m + (1 - beta_1) * g; m, v start at 0)
        v <- v + (1 - beta_2) * (g * g - v)
        amsgrad: v_max <- max(v_max, v) and v_max replaces v below (v_max starts at 0)
        "hat" (Keras Adam; the textbook's Adam; the paper's "epsilon hat" form, end of section 2):
            alpha_t = eta * sqrt(1 - beta_2**t) / (1 - beta_1**t)
            p <- p - alpha_t * m / (sqrt(v) + eps)
        "corrected" (PyTorch Adam):
            p <- p - (eta / (1 - beta_1**t)) * m / (sqrt(v) / sqrt(1 - beta_2**t) + eps)

    The forms are equal when eps_hat = eps * sqrt(1 - beta_2**t), which depends on t: no constant
    setting makes them agree (except eps = 0). Bias corrections are computed in double precision
    from the Python floats beta_1, beta_2 (as PyTorch does), whatever the dtype of ``p``.

    Framework notes: Keras ``Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
    amsgrad=False)`` computes the bias corrections in the variable's dtype (so from float32 betas in
    float32) and uses the shared ``iterations + 1`` as t; PyTorch ``Adam(lr=1e-3, betas=(0.9,
    0.999), eps=1e-8, weight_decay=0, amsgrad=False)`` keeps t per parameter. The textbook's
    ``Adam(lr=0.001, beta1=0.9, beta2=0.999)`` is the "hat" form with eps = 1e-7.

    Args:
        p: parameter.
        g: gradient, same shape and dtype.
        m, v: first and second moments from the previous step.
        t: this step's number, 1-based.
        lr: learning rate of this step (>= 0).
        beta_1, beta_2: decay rates in [0, 1).
        eps: epsilon >= 0.
        eps_placement: ``"hat"`` or ``"corrected"``.
        amsgrad: use the running maximum of v.
        v_max: running maximum from the previous step (amsgrad only; ``None`` on the first step).
    """
    lr = check_lr(lr)
    t = check_positive_int(t, "t")
    beta_1, beta_2, eps, amsgrad = _check_adam(beta_1, beta_2, eps, eps_placement, amsgrad)
    return _adam_update(p, g, m, v, t, lr, beta_1, beta_2, eps, eps_placement, amsgrad, v_max)


def _adam_update(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float, beta_1: float,
                 beta_2: float, eps: float, eps_placement: str, amsgrad: bool, v_max: np.ndarray | None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`adam_update` on arguments already checked (the optimizer class checks them once)."""
    ty = p.dtype.type
    m = m + (g - m) * ty(1.0 - beta_1)
    v = v + (g * g - v) * ty(1.0 - beta_2)
    if amsgrad:
        v_max = np.maximum(np.zeros_like(p) if v_max is None else v_max, v)
        second = v_max
    else:
        v_max, second = None, v
    bc1, bc2 = 1.0 - beta_1**t, 1.0 - beta_2**t
    if eps_placement == "hat":
        alpha = lr * math.sqrt(bc2) / bc1
        return p - m * ty(alpha) / (np.sqrt(second) + ty(eps)), m, v, v_max
    den = np.sqrt(second) / ty(math.sqrt(bc2)) + ty(eps)
    return p - m / den * ty(lr / bc1), m, v, v_max


def _check_adam(beta_1, beta_2, eps, eps_placement, amsgrad) -> tuple[float, float, float, bool]:
    beta_1 = check_unit(beta_1, "beta_1", closed_right=False)
    beta_2 = check_unit(beta_2, "beta_2", closed_right=False)
    eps = check_nonnegative(eps, "eps")
    check_choice(eps_placement, "eps_placement", ADAM_EPS_PLACEMENTS)
    return beta_1, beta_2, eps, check_flag(amsgrad, "amsgrad")


class Adam(Optimizer):
    """Adam / AMSGrad with the epsilon placement of Keras ("hat") or PyTorch ("corrected").

    The update is :func:`adam_update` (algorithm and framework notes there), applied per parameter
    after weight decay (:class:`scratch.optimizers.base.Optimizer`). Coupled weight decay is
    PyTorch ``Adam(weight_decay=...)``; decoupled is Keras ``Adam(weight_decay=...)`` and PyTorch
    ``Adam(decoupled_weight_decay=True)``, i.e. AdamW (see :class:`AdamW`).

    Args:
        beta_1, beta_2: decay rates in [0, 1) (defaults 0.9, 0.999).
        eps: epsilon >= 0 (default 1e-7).
        eps_placement: ``"hat"`` (Keras, textbook) or ``"corrected"`` (PyTorch); default "hat".
        amsgrad: default False.
        weight_decay, weight_decay_mode, exclude_from_weight_decay: see ``Optimizer``.
    """

    def __init__(self, *, beta_1: float = 0.9, beta_2: float = 0.999, eps: float = 1e-7,
                 eps_placement: str = "hat", amsgrad: bool = False, weight_decay: float = 0.0,
                 weight_decay_mode: str = "coupled", exclude_from_weight_decay: Collection[str] = ()) -> None:
        super().__init__(weight_decay=weight_decay, weight_decay_mode=weight_decay_mode,
                         exclude_from_weight_decay=exclude_from_weight_decay)
        self.beta_1, self.beta_2, self.eps, self.amsgrad = _check_adam(beta_1, beta_2, eps, eps_placement, amsgrad)
        self.eps_placement = eps_placement

    def _init_state(self, p: np.ndarray) -> dict:
        return {"m": np.zeros_like(p), "v": np.zeros_like(p), "v_max": None}

    def _update(self, state: dict, p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        new, state["m"], state["v"], state["v_max"] = _adam_update(
            p, g, state["m"], state["v"], state["t"], lr, self.beta_1, self.beta_2, self.eps, self.eps_placement,
            self.amsgrad, state["v_max"])
        return new

    def config(self) -> dict:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "eps": self.eps, "eps_placement": self.eps_placement,
                "amsgrad": self.amsgrad, **super().config()}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): ``Adam(weight_decay_mode="decoupled")``.

    Algorithm, per parameter not excluded from decay::

        p <- p - p * weight_decay * eta          (the gradient g was taken before this decay)
        then the Adam step of :func:`adam_update` with g

    Framework notes: Keras ``AdamW(weight_decay=0.004, epsilon=1e-7)`` (epsilon "hat") computes
    ``p - p * wd * lr``; PyTorch ``AdamW(weight_decay=0.01, eps=1e-8)`` (epsilon "corrected")
    computes ``p * (1 - lr * wd)``: the same number up to rounding. Both decay every parameter
    unless told otherwise (Keras ``exclude_from_weight_decay``, PyTorch parameter groups).

    Args:
        weight_decay: lambda >= 0 (default 0.01, PyTorch's; Keras's is 0.004).
        beta_1, beta_2, eps, eps_placement, amsgrad: see :class:`Adam`.
        exclude_from_weight_decay: see ``Optimizer``.
    """

    def __init__(self, *, weight_decay: float = 0.01, beta_1: float = 0.9, beta_2: float = 0.999,
                 eps: float = 1e-7, eps_placement: str = "hat", amsgrad: bool = False,
                 exclude_from_weight_decay: Collection[str] = ()) -> None:
        super().__init__(beta_1=beta_1, beta_2=beta_2, eps=eps, eps_placement=eps_placement, amsgrad=amsgrad,
                         weight_decay=weight_decay, weight_decay_mode="decoupled",
                         exclude_from_weight_decay=exclude_from_weight_decay)

    def config(self) -> dict:
        config = super().config()
        del config["weight_decay_mode"]
        return config
