"""Scratch losses rebuilt in PyTorch. ``build(loss, t)`` returns a ``LossTwin``.

PyTorch has no cross-entropy on probabilities: for those the twin is the expression PyTorch users
write (``NLLLoss`` on ``log(p + 1e-7)``, or ``log(clamp(p))`` to mimic Keras), built from torch ops
so that autograd provides the gradient.
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np

from reference import frameworks
from reference.twin import LossTwin
from scratch import losses as S


def _target(t: np.ndarray):
    torch = frameworks.torch()
    return torch.from_numpy(np.array(t, dtype=np.int64) if t.ndim == 1 else np.array(t))


@singledispatch
def build(loss, t: np.ndarray, dtype: str) -> LossTwin:
    """Return the PyTorch twin of a scratch loss for labels shaped like ``t``."""
    raise NotImplementedError(f"loss: no PyTorch twin for {type(loss).__name__}")


@build.register
def _(loss: S.SoftmaxCrossEntropy, t, dtype):
    ce = frameworks.torch().nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0)
    tt = _target(t)
    kind = "class indices" if t.ndim == 1 else "probability targets"
    return LossTwin(lambda y, _: ce(y, tt), "torch",
                    f"nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0)"
                    f"  # logits, {kind}")


@build.register
def _(loss: S.CrossEntropy, t, dtype):
    torch = frameworks.torch()
    tt = _target(t)
    if loss.semantics == "textbook":
        delta = S.TEXTBOOK_DELTA
        if t.ndim == 1:
            nll = torch.nn.NLLLoss(weight=None, ignore_index=-100, reduction="mean")
            return LossTwin(lambda p, _: nll(torch.log(p + delta), tt), "torch",
                            "nn.NLLLoss(weight=None, ignore_index=-100, reduction='mean')(torch.log(p + 1e-7), t)")
        return LossTwin(lambda p, _: -(tt * torch.log(p + delta)).sum() / p.shape[0], "torch",
                        "-(t * torch.log(p + 1e-7)).sum() / N")
    eps = S.KERAS_EPSILON
    if t.ndim == 1:  # Keras SCCE: clip, log, then softmax cross-entropy on the logs
        ce = torch.nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0)
        return LossTwin(lambda p, _: ce(torch.log(torch.clamp(p, eps, 1 - eps)), tt), "torch",
                        "nn.CrossEntropyLoss(reduction='mean')(torch.log(torch.clamp(p, 1e-7, 1 - 1e-7)), t)")

    def cce(p, _):  # Keras CCE: renormalise, clip, then -sum t log q
        q = torch.clamp(p / p.sum(dim=1, keepdim=True), eps, 1 - eps)
        return -(tt * torch.log(q)).sum() / p.shape[0]

    return LossTwin(cce, "torch", "-(t * torch.log(torch.clamp(p / p.sum(1, keepdim=True), 1e-7, 1 - 1e-7))).sum() / N")


@build.register
def _(loss: S.MeanSquaredError, t, dtype):
    reduction = "sum" if isinstance(loss, S.SumSquaredError) else "mean"
    mse = frameworks.torch().nn.MSELoss(reduction=reduction)
    tt = _target(t)
    return LossTwin(lambda y, _: mse(y, tt), "torch", f"nn.MSELoss(reduction={reduction!r})")
