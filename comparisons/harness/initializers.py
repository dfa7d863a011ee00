"""Run an initializer case: scratch and the framework each draw one large sample, compared by
distribution (bounds, mean, variance, Kolmogorov-Smirnov; ``comparisons.harness.stats``), or element
by element for constant initializers. The checks and their limits are described in
``comparisons.table.initializers``; the limits come from the case's ``params``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from comparisons.harness import stats
from comparisons.harness.runner import FAIL, KNOWN, KNOWN_BROKEN, PASS, Row, rows_from
from comparisons.table.laws import Law
from comparisons.table.spec import Case, Compared, Context
from scratch import initializers as I


def _draws(case: Case, framework: str, dtype: str) -> tuple[np.ndarray, np.ndarray, Context]:
    p = case.params
    fan_in, fan_out = p["fans"] or I.fans(p["shape"])
    init = case.make(dtype)
    s = init(p["shape"], fan_in=fan_in, fan_out=fan_out, rng=np.random.default_rng(case.seed), dtype=dtype)
    f = p["twins"][framework].draw(p["shape"], fan_in=fan_in, fan_out=fan_out, seed=case.seed, dtype=dtype)
    return s, f, Context(dtype, (), {"fan_in": np.asarray(fan_in), "fan_out": np.asarray(fan_out)})


def _checks(law: Law, s: np.ndarray, f: np.ndarray, dtype: str, alpha: float, *, z_limit: float,
            edge_mass: float) -> dict[str, stats.Check]:
    rounding = 4 * float(np.finfo(dtype).eps)
    return {
        "bounds": stats.check_bounds(law, {"scratch": s, "framework": f}, edge_mass=edge_mass, rounding=rounding),
        "mean": stats.check_mean(s, f, z_limit=z_limit),
        "variance": stats.check_variance(s, f, z_limit=z_limit),
        "ks": stats.check_ks(s, f, alpha=alpha),
    }


def evaluate(case: Case, framework: str, dtype: str):
    """(check, raw check or None, known or None) per quantity of a random-initializer case."""
    s, f, ctx = _draws(case, framework, dtype)
    fan_in, fan_out = int(ctx.inputs["fan_in"]), int(ctx.inputs["fan_out"])
    law, alpha = case.params["law"](fan_in, fan_out), case.tolerance[dtype].rtol
    limits = {"z_limit": case.params["z_limit"], "edge_mass": case.params["edge_mass"]}
    raw = _checks(law, s, f, dtype, alpha, **limits)
    related: dict[str, dict[str, stats.Check]] = {}
    out = []
    for q, check in raw.items():
        known = case.known_for(framework, q, dtype)
        if known is None:
            out.append((check, None, None))
            continue
        key = id(known)
        if key not in related:
            related[key] = _checks(law, s, np.asarray(known.relation(f, ctx)), dtype, alpha, **limits)
        out.append((related[key][q], check, known))
    return out


def run_initializer(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """The checks as 0/1 pairs for ``rows_from``; constant initializers element by element."""
    if case.params["law"] is None:
        s, f, _ = _draws(case, framework, dtype)
        yield Compared("values", 0, s, f)
        return
    one = np.asarray(1.0)
    for check, raw, known in evaluate(case, framework, dtype):
        yield Compared(check.quantity, 0, np.asarray(float(check.passed)), one,
                       raw_framework=None if raw is None else np.asarray(float(raw.passed)), known=known)


def initializer_rows(case: Case, framework: str, dtype: str) -> list[Row]:
    """Readable rows (see ``comparisons.table.initializers``); the registry's judge of kind "initializer"."""
    if case.params["law"] is None:
        return rows_from(case, framework, dtype, run_initializer(case, framework, dtype))
    fan_in, fan_out = case.params["fans"] or I.fans(case.params["shape"])
    where = case.params["twins"][framework].call(fan_in, fan_out)
    rows = []
    for check, raw, known in evaluate(case, framework, dtype):
        verdict = (KNOWN if check.passed else KNOWN_BROKEN) if known else (PASS if check.passed else FAIL)
        rows.append(Row(
            case=case.id, kind=case.kind, framework=framework, dtype=dtype, quantity=check.quantity, steps=1,
            worst_step=0, max_abs=check.difference, max_rel=check.score, rtol=1.0, verdict=verdict, where=where,
            detail=check.detail + (f"; raw framework sample: {raw.detail}" if raw else ""),
            raw_max_rel=raw.score if raw else None, known_what=known.what if known else "",
            known_holds=known.holds if known else "", known_link=known.link if known else "",
        ))
    return rows
