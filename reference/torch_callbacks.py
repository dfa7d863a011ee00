"""PyTorch's ``ReduceLROnPlateau`` (the only callback-like piece PyTorch has), stepped with the losses.

One scheduler per loss sequence on an SGD optimizer with a single parameter;
``scheduler.step(loss)`` once per epoch, the group lr read after each step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reference import frameworks
from scratch import callbacks as C


def torch_from_keras(patience: int, cooldown: int, min_delta: float) -> dict:
    """PyTorch settings that reproduce Keras's ReduceLROnPlateau (verified on random sequences).

    Keras reduces when ``wait >= patience`` (after incrementing wait on a bad epoch), PyTorch when
    ``num_bad_epochs > patience``: patience p - 1; Keras patience 0 acts as 1 (a bad epoch makes
    wait 1 >= 0, an improving one returns first), so max(p - 1, 0); PyTorch patience -1 would also
    reduce on improving epochs. Keras ignores cooldown - 1 epochs after a reduction (its counter
    is decremented at the start of the next epoch), PyTorch cooldown: max(c - 1, 0). Keras's
    min_delta is absolute: threshold_mode "abs".
    """
    return {"patience": max(patience - 1, 0), "cooldown": max(cooldown - 1, 0), "threshold": min_delta,
            "threshold_mode": "abs"}


def plateau_settings(cb: C.ReduceLROnPlateau, *, port: str = "exact") -> dict:
    """The PyTorch arguments equal to a scratch callback.

    ``port="naive"`` maps patience and cooldown but keeps PyTorch's default relative threshold
    (``threshold=min_delta, threshold_mode="rel"``): what a port that only renames min_delta gets.
    """
    if cb.semantics == "torch":
        s = {"patience": cb.patience, "cooldown": cb.cooldown, "threshold": cb.threshold,
             "threshold_mode": cb.threshold_mode, "eps": cb.eps}
    else:
        s = {**torch_from_keras(cb.patience, cb.cooldown, cb.threshold), "eps": 0.0}
        if port == "naive":
            s["threshold_mode"] = "rel"
        elif port != "exact":
            raise ValueError(f"port: expected 'exact' or 'naive', got {port!r}")
    return {**s, "factor": cb.factor, "min_lr": cb.min_lr, "mode": cb.mode}


def plateau_lrs(callbacks: Sequence[C.ReduceLROnPlateau], losses: np.ndarray, lr0: float,
                *, port: str = "exact") -> np.ndarray:
    """(S, E) learning rates after each ``scheduler.step(loss)``; sequence i uses ``callbacks[i]``."""
    torch = frameworks.torch()
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    out = np.empty(losses.shape)
    for i, (cb, row) in enumerate(zip(callbacks, losses, strict=True)):
        s = plateau_settings(cb, port=port)
        opt = torch.optim.SGD([p], lr=float(lr0), momentum=0.0)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode=s["mode"], factor=s["factor"], patience=s["patience"], threshold=s["threshold"],
            threshold_mode=s["threshold_mode"], cooldown=s["cooldown"], min_lr=s["min_lr"], eps=s["eps"])
        for epoch, loss in enumerate(row):
            sched.step(float(loss))
            out[i, epoch] = float(opt.param_groups[0]["lr"])
    return out


def multiplicative_lrs(factor, epochs: int, lr0: float) -> np.ndarray:
    """``MultiplicativeLR(lr_lambda=factor)`` stepped once per epoch: the lr of each 0-based epoch."""
    torch = frameworks.torch()
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=float(lr0), momentum=0.0)
    sched = torch.optim.lr_scheduler.MultiplicativeLR(opt, lr_lambda=factor)
    out = []
    for _ in range(epochs):
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
    return np.array(out)
