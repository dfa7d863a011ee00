"""Scratch losses rebuilt in PyTorch. ``loss_fn(loss, target_ndim, dtype)`` gives the PyTorch loss
(registered per scratch loss class); ``build(loss, t)`` wraps it in a ``LossTwin`` for the parity run.

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


def target(t: np.ndarray):
    """Labels as PyTorch losses take them: int64 class indices (N,), or the rows (N, K) as given."""
    torch = frameworks.torch()
    return torch.from_numpy(np.array(t, dtype=np.int64) if t.ndim == 1 else np.array(t))


@singledispatch
def loss_fn(loss, target_ndim: int, dtype: str):
    """``(fn, call)``: the PyTorch loss computing what the scratch ``loss`` computes for targets of
    ``target_ndim`` dimensions, called as ``fn(y, target(t))``, and its call written out. Training
    loops and ``build`` both use it."""
    raise NotImplementedError(f"loss: no PyTorch twin for {type(loss).__name__}")


@loss_fn.register
def _(loss: S.SoftmaxCrossEntropy, target_ndim, dtype):
    ce = frameworks.torch().nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0)
    kind = "class indices" if target_ndim == 1 else "probability targets"
    return ce, (f"nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0)"
                f"  # logits, {kind}")


@loss_fn.register
def _(loss: S.CrossEntropy, target_ndim, dtype):
    torch = frameworks.torch()
    if loss.semantics == "textbook":
        delta = S.TEXTBOOK_DELTA
        if target_ndim == 1:
            nll = torch.nn.NLLLoss(weight=None, ignore_index=-100, reduction="mean")
            return (lambda p, tt: nll(torch.log(p + delta), tt),
                    "nn.NLLLoss(weight=None, ignore_index=-100, reduction='mean')(torch.log(p + 1e-7), t)")
        return lambda p, tt: -(tt * torch.log(p + delta)).sum() / p.shape[0], "-(t * torch.log(p + 1e-7)).sum() / N"
    eps = S.KERAS_EPSILON
    if target_ndim == 1:  # Keras SCCE: clip, log, then softmax cross-entropy on the logs
        ce = torch.nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0)
        return (lambda p, tt: ce(torch.log(torch.clamp(p, eps, 1 - eps)), tt),
                "nn.CrossEntropyLoss(reduction='mean')(torch.log(torch.clamp(p, 1e-7, 1 - 1e-7)), t)")

    def cce(p, tt):  # Keras CCE: renormalise, clip, then -sum t log q
        q = torch.clamp(p / p.sum(dim=1, keepdim=True), eps, 1 - eps)
        return -(tt * torch.log(q)).sum() / p.shape[0]

    return cce, "-(t * torch.log(torch.clamp(p / p.sum(1, keepdim=True), 1e-7, 1 - 1e-7))).sum() / N"


@loss_fn.register
def _(loss: S.MeanSquaredError, target_ndim, dtype):
    reduction = "sum" if isinstance(loss, S.SumSquaredError) else "mean"
    return frameworks.torch().nn.MSELoss(reduction=reduction), f"nn.MSELoss(reduction={reduction!r})"


def build(loss, t: np.ndarray, dtype: str) -> LossTwin:
    """Return the PyTorch twin of a scratch loss for labels ``t`` (the loss from ``loss_fn``)."""
    fn, call = loss_fn(loss, np.ndim(t), dtype)
    tt = target(t)
    return LossTwin(lambda y, _: fn(y, tt), "torch", call)
