"""Dropout with an injected mask, for Keras and PyTorch models trained in lock-step.

Each library draws dropout masks from its own random stream, so no seed makes Keras, PyTorch and
NumPy drop the same units. For lock-step training the framework ``Dropout`` layer is replaced by
this one, which applies a mask drawn once in NumPy with the same inverted scaling
(``x * mask / (1 - rate)``); the case table shows separately that each framework's own ``Dropout``
computes exactly that given its mask (cases ``dropout/inverted/*``).
"""

from __future__ import annotations

import numpy as np

from reference import frameworks


def torch_module(rate: float):
    """A ``torch.nn.Module``: ``forward(x)`` multiplies by ``self.mask / (1 - rate)`` in train mode."""
    nn = frameworks.torch().nn

    class MaskedDropout(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rate = rate
            self.mask: np.ndarray | None = None

        def forward(self, x):
            if not self.training:
                return x
            if self.mask is None or tuple(self.mask.shape) != tuple(x.shape):
                raise ValueError(f"mask: expected a mask of shape {tuple(x.shape)} to be set before the forward")
            scale = 0.0 if self.rate >= 1 else 1.0 / (1.0 - self.rate)
            keep = frameworks.torch().from_numpy(np.ascontiguousarray(self.mask)).to(x.dtype)
            return x * (keep * scale)

    return MaskedDropout()


def keras_layer(rate: float, dtype: str):
    """A Keras layer: ``call(x, training)`` multiplies by ``mask / (1 - rate)`` when training.

    The factor lives in a variable of unconstrained shape, assigned when ``mask`` is set, so a
    compiled (``tf.function``) training step reads each step's mask instead of a traced constant.
    """
    keras = frameworks.keras()
    tf = frameworks.tf()

    class MaskedDropout(keras.layers.Layer):
        def __init__(self, **kw) -> None:
            super().__init__(**kw)
            self.rate = rate
            self._mask: np.ndarray | None = None
            self._factor = tf.Variable(np.ones((1, 1), dtype=dtype), shape=tf.TensorShape(None), trainable=False)

        @property
        def mask(self) -> np.ndarray | None:
            return self._mask

        @mask.setter
        def mask(self, value: np.ndarray | None) -> None:
            self._mask = value
            if value is not None:
                scale = 0.0 if self.rate >= 1 else 1.0 / (1.0 - self.rate)
                self._factor.assign(value.astype(dtype) * np.asarray(scale, dtype=dtype))

        def call(self, x, training=False):
            if not training:
                return x
            if self._mask is None:
                raise ValueError("mask: expected a mask to be set before the forward")
            return x * tf.reshape(self._factor, tf.shape(x))  # the variable has no static shape

    return MaskedDropout(dtype=dtype)
