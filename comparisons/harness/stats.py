"""Two-sample statistics: Kolmogorov-Smirnov (``scipy.stats``), moment z-tests, and checks against a
law (``comparisons.table.laws``).

Used to compare random initializers by distribution: two samples (scratch, framework) drawn with
different generators can only be compared as samples of a law.

Kolmogorov-Smirnov (two-sided, two samples of sizes n and m): ``scipy.stats.ks_2samp`` with
``method="asymp"``, i.e. D = sup_x |F_n(x) - G_m(x)| and p = Q_KS(sqrt(n m / (n + m)) * D), Q_KS the
survival function of the Kolmogorov distribution (``scipy.stats.kstwobign``; Kolmogorov 1933,
Smirnov 1948). The asymptotic p-value keeps the limit ``D_alpha`` a closed form of the sample sizes,
so a check reads as "D <= D_alpha".

Moment z-tests: for independent samples a (size n) and b (size m),
``z_mean = (mean_a - mean_b) / sqrt(var_a / n + var_b / m)``. For the variance, the sample variance
s^2 of n values has Var(s^2) = (mu4 - sigma^4 (n - 3) / (n - 1)) / n ~ (mu4 - sigma^4) / n (mu4 the
fourth central moment; delta method, finite fourth moment), so
``z_var = (s_a^2 - s_b^2) / sqrt((m4_a - s_a^4) / n + (m4_b - s_b^4) / m)``, with sample moments.
Both z are asymptotically N(0, 1) when the laws agree.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from comparisons.table.laws import Law


@dataclass(frozen=True)
class KSResult:
    statistic: float  # D
    pvalue: float
    n: int
    m: int

    @property
    def lam(self) -> float:
        """sqrt(n m / (n + m)) * D, the argument of Q_KS."""
        return math.sqrt(self.n * self.m / (self.n + self.m)) * self.statistic


def kolmogorov_sf(lam: float) -> float:
    """Q_KS(lam) = P(K > lam) for the Kolmogorov distribution K (the limit law of sqrt(n) D)."""
    return float(sps.kstwobign.sf(lam))


@functools.cache
def kolmogorov_isf(alpha: float) -> float:
    """The lam with Q_KS(lam) = alpha (e.g. 1.3581 for 0.05, 1.9495 for 1e-3)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha: expected a number in (0, 1), got {alpha!r}")
    return float(sps.kstwobign.isf(alpha))


def distribution(law: Law):
    """The law as a frozen ``scipy.stats`` distribution (``cdf``, ``sf``, ``ppf``)."""
    if law.kind == "uniform":
        return sps.uniform(loc=law.low, scale=law.high - law.low)
    if law.kind == "normal":
        return sps.norm(loc=law.mean, scale=law.std)
    a, b = (law.low - law.mean) / law.std, (law.high - law.mean) / law.std
    return sps.truncnorm(a, b, loc=law.mean, scale=law.std)


def _sample(x: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).ravel()
    if a.size < 2 or not np.isfinite(a).all():
        raise ValueError(f"{name}: expected at least 2 finite values, got {a.size} values")
    return a


def ks_2samp(a: np.ndarray, b: np.ndarray) -> KSResult:
    """Two-sided two-sample Kolmogorov-Smirnov test with the asymptotic p-value."""
    a, b = _sample(a, "a"), _sample(b, "b")
    r = sps.ks_2samp(a, b, alternative="two-sided", method="asymp")
    return KSResult(float(r.statistic), float(r.pvalue), a.size, b.size)


def mean_z(a: np.ndarray, b: np.ndarray) -> float:
    """(mean_a - mean_b) / its standard error (see the module docstring); 0 when both are constant."""
    a, b = _sample(a, "a"), _sample(b, "b")
    se = math.sqrt(a.var() / a.size + b.var() / b.size)
    diff = float(a.mean() - b.mean())
    return diff / se if se > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))


def _var_and_se2(x: np.ndarray) -> tuple[float, float]:
    c2 = np.square(x - x.mean())
    var = float(c2.mean())
    m4 = float(np.square(c2).mean())
    return var, max(m4 - var**2, 0.0) / x.size


def variance_z(a: np.ndarray, b: np.ndarray) -> float:
    """(var_a - var_b) / its standard error (see the module docstring)."""
    (va, sa), (vb, sb) = _var_and_se2(_sample(a, "a")), _var_and_se2(_sample(b, "b"))
    se = math.sqrt(sa + sb)
    return (va - vb) / se if se > 0 else (0.0 if va == vb else math.copysign(math.inf, va - vb))


# -- checks of two samples against each other and against their law ----------------------------
@dataclass(frozen=True)
class Check:
    """One distribution check: ``score`` is the statistic divided by its limit (<= 1 passes)."""

    quantity: str
    score: float
    difference: float  # the difference in natural units (values, variance, D)
    detail: str

    @property
    def passed(self) -> bool:
        return bool(self.score <= 1.0)  # NaN fails


def check_mean(a: np.ndarray, b: np.ndarray, *, z_limit: float) -> Check:
    """|z_mean| <= z_limit."""
    z = mean_z(a, b)
    ma, mb = float(np.mean(a, dtype=np.float64)), float(np.mean(b, dtype=np.float64))
    return Check("mean", abs(z) / z_limit, abs(ma - mb),
                 f"mean {ma:.4g} vs {mb:.4g}: z = {z:+.2f} standard errors (limit {z_limit:g})")


def check_variance(a: np.ndarray, b: np.ndarray, *, z_limit: float) -> Check:
    """|z_var| <= z_limit."""
    z = variance_z(a, b)
    va, vb = float(np.var(a, dtype=np.float64)), float(np.var(b, dtype=np.float64))
    return Check("variance", abs(z) / z_limit, abs(va - vb),
                 f"variance {va:.6g} vs {vb:.6g} (ratio {va / vb:.4f}): z = {z:+.2f} standard errors "
                 f"(limit {z_limit:g})")


def check_ks(a: np.ndarray, b: np.ndarray, *, alpha: float) -> Check:
    """p >= alpha, i.e. D <= D_alpha = lam_alpha / sqrt(n m / (n + m))."""
    r = ks_2samp(a, b)
    lam_alpha = kolmogorov_isf(alpha)
    d_alpha = lam_alpha / math.sqrt(r.n * r.m / (r.n + r.m))
    return Check("ks", r.lam / lam_alpha, r.statistic,
                 f"KS D = {r.statistic:.4g}, p = {r.pvalue:.3g} (limit p >= {alpha:g}, i.e. D <= {d_alpha:.4g}; "
                 f"n = {r.n}, m = {r.m})")


def _end_score(law: Law, x: np.ndarray, side: str, edge_mass: float, rounding: float) -> tuple[float, float]:
    """(score, the law's probability beyond the extreme) of one end of one sample; see ``check_bounds``."""
    high = side == "high"
    bound, extreme = (law.high, float(x.max())) if high else (law.low, float(x.min()))
    dist = distribution(law)
    if math.isfinite(bound):
        beyond = (extreme - bound) if high else (bound - extreme)  # > 0: outside the support
        if beyond > rounding * max(abs(law.low), abs(law.high)):
            width = abs(bound - float(dist.ppf(1.0 - edge_mass / x.size if high else edge_mass / x.size)))
            return 1.0 + beyond / width, 0.0
    tail = float(dist.sf(extreme) if high else dist.cdf(extreme))
    return x.size * tail / edge_mass, tail


def check_bounds(law: Law, samples: dict[str, np.ndarray], *, edge_mass: float, rounding: float) -> Check:
    """Each sample lies in the law's support and comes close to each end of it.

    Per end of a sample of n values: the law's probability t beyond the sample's extreme must be at
    most edge_mass / n (score = n t / edge_mass). For the right law t is about 1/n (score about
    1 / edge_mass), and t > edge_mass / n happens with probability (1 - edge_mass / n)^n ~
    exp(-edge_mass). A finite end b must not be passed by more than ``rounding`` * max|bound| (the
    dtype's rounding); when it is, score = 1 + excess / |b - r|, r the law's edge_mass / n quantile.
    Tells a truncated law from an untruncated one with the same variance (the untruncated sample
    passes the bound; the truncated one does not reach the normal's tails).
    """
    worst, gap = -1.0, 0.0
    ends = []
    for name, x in samples.items():
        x = np.asarray(x, dtype=np.float64).ravel()
        for side in ("low", "high"):
            score, g = _end_score(law, x, side, edge_mass, rounding)
            if score > worst:
                worst, gap = score, g
        ends.append(f"{name} [{x.min():.6g}, {x.max():.6g}] (n = {x.size})")
    return Check("bounds", worst, gap, f"law {law.describe()}; " + ", ".join(ends) +
                 f"; the law's probability beyond each extreme must be <= {edge_mass:g}/n")
