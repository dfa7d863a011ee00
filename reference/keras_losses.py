"""Scratch losses rebuilt as Keras 3 losses. ``build(loss, t)`` returns a ``LossTwin``.

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


def _ce(from_logits: bool, t: np.ndarray, dtype: str):
    """Sparse CE for integer labels, categorical CE for one-hot rows, all arguments explicit."""
    losses = frameworks.keras().losses
    if t.ndim == 1:
        fn = losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=None,
                                                  reduction="sum_over_batch_size", axis=-1, dtype=dtype)
        call = (f"keras.losses.SparseCategoricalCrossentropy(from_logits={from_logits}, ignore_class=None, "
                "reduction='sum_over_batch_size', axis=-1)")
    else:
        fn = losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=0.0, axis=-1,
                                            reduction="sum_over_batch_size", dtype=dtype)
        call = (f"keras.losses.CategoricalCrossentropy(from_logits={from_logits}, label_smoothing=0.0, axis=-1, "
                "reduction='sum_over_batch_size')")
    tt = np.array(t)
    return LossTwin(lambda y, _: fn(tt, y), "keras", call)


@singledispatch
def build(loss, t: np.ndarray, dtype: str) -> LossTwin:
    """Return the Keras twin of a scratch loss for labels shaped like ``t``."""
    raise NotImplementedError(f"loss: no Keras twin for {type(loss).__name__}")


@build.register
def _(loss: S.SoftmaxCrossEntropy, t, dtype):
    return _ce(True, t, dtype)


@build.register
def _(loss: S.CrossEntropy, t, dtype):
    # Both semantics meet the same Keras loss; the textbook's "+1e-7" is a recorded difference.
    return _ce(False, t, dtype)


@build.register
def _(loss: S.MeanSquaredError, t, dtype):
    reduction = "sum" if isinstance(loss, S.SumSquaredError) else "sum_over_batch_size"
    mse = frameworks.keras().losses.MeanSquaredError(reduction=reduction, dtype=dtype)
    tt = np.array(t)
    return LossTwin(lambda y, _: mse(tt, y), "keras", f"keras.losses.MeanSquaredError(reduction={reduction!r})")
