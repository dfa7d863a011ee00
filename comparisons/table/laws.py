"""The laws of initial weights that the initializer cases state: uniform, normal, truncated normal.

A ``Law`` is data; ``comparisons.harness.stats.distribution`` gives its SciPy distribution (CDF,
survival function, quantiles) and tests samples against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Law:
    """A one-dimensional law of initial weights: uniform, normal, or normal conditioned on [low, high].

    For ``kind == "uniform"`` only ``low`` and ``high`` matter; for the normals ``mean`` and ``std``
    are those of the untruncated normal.
    """

    kind: str
    low: float = -math.inf
    high: float = math.inf
    mean: float = 0.0
    std: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ("uniform", "normal", "truncated_normal"):
            raise ValueError(f"kind: expected 'uniform', 'normal' or 'truncated_normal', got {self.kind!r}")
        if not (self.low < self.high and self.std > 0):
            raise ValueError(f"Law: expected low < high and std > 0, got {self}")
        if self.kind == "uniform" and not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"Law: a uniform law needs finite bounds, got [{self.low}, {self.high}]")

    @classmethod
    def uniform(cls, low: float, high: float) -> Law:
        return cls("uniform", low=low, high=high)

    @classmethod
    def normal(cls, mean: float, std: float) -> Law:
        return cls("normal", mean=mean, std=std)

    @classmethod
    def truncated(cls, mean: float, std: float, low: float, high: float) -> Law:
        return cls("truncated_normal", low=low, high=high, mean=mean, std=std)

    def describe(self) -> str:
        if self.kind == "uniform":
            return f"U({self.low:.6g}, {self.high:.6g})"
        if self.kind == "normal":
            return f"N({self.mean:.6g}, {self.std:.6g}^2)"
        return f"N({self.mean:.6g}, {self.std:.6g}^2) on [{self.low:.6g}, {self.high:.6g}]"
