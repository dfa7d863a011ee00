"""Scratch losses rebuilt as Keras 3 losses. ``loss_fn(loss, target_ndim, dtype)`` gives the Keras loss
(registered per scratch loss class); ``build(loss, t)`` wraps it in a ``LossTwin`` for the parity run.

The prediction is passed as a plain tensor, never as the output of a Keras softmax layer: on the
TensorFlow backend the probability losses would otherwise read the hidden logits attached to that
output and skip the clipping (framework-notes section 8).
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np

from reference import frameworks
from reference.twin import LossTwin
from scratch import losses as S


def _ce(from_logits: bool, target_ndim: int, dtype: str):
    """Sparse CE for integer labels, categorical CE for one-hot rows, all arguments explicit."""
    losses = frameworks.keras().losses
    if target_ndim == 1:
        fn = losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=None,
                                                  reduction="sum_over_batch_size", axis=-1, dtype=dtype)
        call = (f"keras.losses.SparseCategoricalCrossentropy(from_logits={from_logits}, ignore_class=None, "
                "reduction='sum_over_batch_size', axis=-1)")
    else:
        fn = losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=0.0, axis=-1,
                                            reduction="sum_over_batch_size", dtype=dtype)
        call = (f"keras.losses.CategoricalCrossentropy(from_logits={from_logits}, label_smoothing=0.0, axis=-1, "
                "reduction='sum_over_batch_size')")
    return fn, call


@singledispatch
def loss_fn(loss, target_ndim: int, dtype: str):
    """``(fn, call)``: the Keras loss computing what the scratch ``loss`` computes for targets of
    ``target_ndim`` dimensions (1: class indices, 2: rows), called as ``fn(t, y)``, and its call
    written out. Training loops and ``build`` both use it."""
    raise NotImplementedError(f"loss: no Keras twin for {type(loss).__name__}")


@loss_fn.register
def _(loss: S.SoftmaxCrossEntropy, target_ndim, dtype):
    return _ce(True, target_ndim, dtype)


@loss_fn.register
def _(loss: S.CrossEntropy, target_ndim, dtype):
    # Both semantics meet the same Keras loss; the textbook's "+1e-7" is a recorded difference.
    return _ce(False, target_ndim, dtype)


@loss_fn.register
def _(loss: S.MeanSquaredError, target_ndim, dtype):
    reduction = "sum" if isinstance(loss, S.SumSquaredError) else "sum_over_batch_size"
    mse = frameworks.keras().losses.MeanSquaredError(reduction=reduction, dtype=dtype)
    return mse, f"keras.losses.MeanSquaredError(reduction={reduction!r})"


def build(loss, t: np.ndarray, dtype: str) -> LossTwin:
    """Return the Keras twin of a scratch loss for labels ``t`` (the loss from ``loss_fn``)."""
    fn, call = loss_fn(loss, np.ndim(t), dtype)
    tt = np.array(t)
    return LossTwin(lambda y, _: fn(tt, y), "keras", call)
