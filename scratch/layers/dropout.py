"""Dropout, inverted (frameworks) or not (the textbook)."""

from __future__ import annotations

import numpy as np

from scratch._checks import check_array, check_probability, check_shape
from scratch.layers.base import Layer


class Dropout(Layer):
    """Zero each input with probability ``rate`` during training.

    Inverted (``inverted=True``, Keras ``Dropout`` and PyTorch ``nn.Dropout``)::

        train: y = x * mask / (1 - rate)        eval: y = x         (rate = 1: y = 0)

    Non-inverted (the textbook's ``Dropout``)::

        train: y = x * mask                     eval: y = x * (1 - rate)

    ``mask`` keeps an entry where U >= rate (U uniform in [0, 1)) and is drawn from the injected
    generator, unless ``forward`` is given one: a test injects the mask a framework drew (every
    library has its own random stream, so masks never match by seed). Backward: dx = dy * the same
    factor.

    Args:
        rate: drop probability in [0, 1].
        inverted: scale at training time (True) or at evaluation time (False).
        rng: generator for masks (needed unless every training forward gets ``mask``).
        dtype: ``"float32"`` or ``"float64"``.
    """

    per_sample = True
    has_randomness = True

    def __init__(self, rate: float, *, inverted: bool = True, rng: np.random.Generator | None = None,
                 dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.rate = check_probability(rate, "rate", closed_right=True)
        self.inverted = bool(inverted)
        self.rng = rng

    def forward(self, x: np.ndarray, *, training: bool, mask: np.ndarray | None = None) -> np.ndarray:
        """Check ``x`` (and ``mask``), then apply the layer; ``mask`` (bool, x's shape) overrides the draw."""
        check_array(x, "x", dtype=self.dtype)
        return self._forward(x, training=training, mask=mask)

    def _forward(self, x: np.ndarray, *, training: bool, mask: np.ndarray | None = None) -> np.ndarray:
        self._check_input(x)
        one = self.dtype.type(1)
        if training:
            if mask is None:
                if self.rng is None:
                    raise ValueError("rng: Dropout needs a numpy.random.Generator (or an explicit mask)")
                mask = self.rng.random(x.shape) >= self.rate
            else:
                check_array(mask, "mask", dtype=np.dtype(bool))
                check_shape(mask, x.shape, "mask")
            scale = (one / (one - self.dtype.type(self.rate)) if self.rate < 1 else 0) if self.inverted else one
            self._factor = mask * self.dtype.type(scale)  # (same shape as x), layer dtype
            self.mask = mask
        else:
            self._factor = one if self.inverted else one - self.dtype.type(self.rate)
        y = x.copy() if self._factor is one else x * self._factor  # x * 1 is x: a copy is the same bits
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        return dy * self._factor if need_dx else None
