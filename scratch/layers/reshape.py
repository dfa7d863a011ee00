"""Flatten."""

from __future__ import annotations

import math

import numpy as np

from scratch.layers.base import Layer


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...) in row-major order; backward restores the shape.

    On NCHW images the features come out in (c, h, w) order, as PyTorch's ``flatten(x, 1)`` and
    the textbook's reshape. Keras works on NHWC and its ``Flatten`` gives (h, w, c) order (even
    with ``data_format="channels_first"``, which transposes to channels-last first), so the Dense
    layer after it needs its rows permuted: see ``reference.layouts``. An empty batch (N = 0) gives
    an empty (0, d1*d2*...) output, as in PyTorch.
    """

    per_sample = True

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        return super().forward(x, training=training).copy()  # never hand out a view of the caller's array

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return super().backward(dy).copy()  # never hand out a view of the caller's array

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        """A view of ``x``: inside ``Sequential`` the next layer reads it and nothing writes it."""
        self._check_input(x)
        if x.ndim < 2:
            raise ValueError(f"x: expected a batch of shape (N, ...) with at least 2 axes, got {x.shape}")
        self._in_shape = x.shape
        y = x.reshape(x.shape[0], math.prod(x.shape[1:]))  # (N, C, H, W) -> (N, C*H*W); N = 0 too
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        return dy.reshape(self._in_shape) if need_dx else None  # (N, C*H*W) -> (N, C, H, W), a view
