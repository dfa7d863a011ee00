"""The laws of initial weights that the initializer cases state: uniform, normal, truncated normal.

A ``Law`` is data with its CDF, survival function and quantiles; ``comparisons.harness.stats``
tests samples against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def normal_cdf(x: float) -> float:
    """Phi(x), the standard normal CDF."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _invert(cdf, p: float, lo: float, hi: float) -> float:
    for _ in range(120):  # halves [lo, hi] down to rounding
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return 0.5 * (lo + hi)


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

    def cdf(self, x: float) -> float:
        if self.kind == "uniform":
            return min(1.0, max(0.0, (x - self.low) / (self.high - self.low)))
        phi = normal_cdf((min(max(x, self.low), self.high) - self.mean) / self.std)
        if self.kind == "normal":
            return phi
        lo, hi = normal_cdf((self.low - self.mean) / self.std), normal_cdf((self.high - self.mean) / self.std)
        return (phi - lo) / (hi - lo)

    def sf(self, x: float) -> float:
        """1 - cdf(x), without the cancellation in the upper tail."""
        if self.kind == "uniform":
            return min(1.0, max(0.0, (self.high - x) / (self.high - self.low)))
        q = 0.5 * math.erfc((min(max(x, self.low), self.high) - self.mean) / (self.std * math.sqrt(2.0)))
        if self.kind == "normal":
            return q
        qa, qb = (0.5 * math.erfc((v - self.mean) / (self.std * math.sqrt(2.0))) for v in (self.low, self.high))
        return (q - qb) / (qa - qb)

    def quantile(self, p: float) -> float:
        """x with cdf(x) = p (bisection on the support, or on mean +- 40 std for the normal)."""
        if not 0 < p < 1:
            raise ValueError(f"p: expected a probability in (0, 1), got {p!r}")
        lo = self.low if math.isfinite(self.low) else self.mean - 40 * self.std
        hi = self.high if math.isfinite(self.high) else self.mean + 40 * self.std
        return _invert(self.cdf, p, lo, hi)

    def describe(self) -> str:
        if self.kind == "uniform":
            return f"U({self.low:.6g}, {self.high:.6g})"
        if self.kind == "normal":
            return f"N({self.mean:.6g}, {self.std:.6g}^2)"
        return f"N({self.mean:.6g}, {self.std:.6g}^2) on [{self.low:.6g}, {self.high:.6g}]"
