"""Run the case table and write the parity report (Markdown, CSV, HTML)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from comparisons.harness.registry import run_case
from comparisons.harness.runner import FAIL, KNOWN, KNOWN_BROKEN, PASS
from comparisons.report import files as io
from comparisons.report.document import Document
from comparisons.table.spec import DTYPES, FRAMEWORKS, Case

INTRO = """\
Every scratch component against its Keras 3 (TensorFlow backend) and PyTorch equivalent, with every
hyperparameter explicit on both sides and the scratch weights transferred. For each case, framework
and dtype the table compares the forward output, the input gradient and every parameter gradient
under a random upstream gradient, the running statistics after each training step, and, for
training-time components, every step of a trajectory or sequence.

**Error**: normwise relative error `max|scratch - framework| / max|framework|` over the array, the
worst step kept. A **known difference** is a real framework convention: the framework value is first
mapped through the relation that does hold (written in the table), and that relation is what is
tested, at the same tolerance. Regenerate with `make report` or `python -m comparisons parity`.
"""


def run_table(cases: Sequence[Case], frameworks: Iterable[str] = FRAMEWORKS, dtypes: Iterable[str] = DTYPES,
              progress: bool = True) -> pd.DataFrame:
    """All rows of ``cases`` x frameworks x dtypes as a DataFrame."""
    from comparisons.progress import progress as bar

    frameworks, dtypes = tuple(frameworks), tuple(dtypes)
    jobs = [(c, fw, dt) for c in cases for fw in c.frameworks if fw in frameworks for dt in dtypes]
    rows: list[dict] = []
    for case, fw, dt in bar(jobs, total=len(jobs), desc="parity", enabled=None if progress else False):
        rows += [dict(r.as_dict(), summary=case.summary) for r in run_case(case, fw, dt)]
    return pd.DataFrame(rows)


def _cell(group: pd.DataFrame) -> str:
    worst = group["max_rel"].max()
    verdicts = set(group["verdict"])
    mark = "FAIL" if verdicts & {FAIL, KNOWN_BROKEN} else ("known" if KNOWN in verdicts else "")
    return f"{worst:.1e}" + (f" ({mark})" if mark else "")


def overview(df: pd.DataFrame) -> pd.DataFrame:
    """One row per case: worst relative error per framework x dtype."""
    cols = [(fw, dt) for fw in FRAMEWORKS for dt in DTYPES]
    out = []
    for case_id, g in df.groupby("case", sort=False):
        row = {"case": case_id, "kind": g["kind"].iloc[0], "what": g["summary"].iloc[0]}
        for fw, dt in cols:
            sub = g[(g["framework"] == fw) & (g["dtype"] == dt)]
            row[f"{fw} {dt}"] = _cell(sub) if len(sub) else "n/a"
        out.append(row)
    return pd.DataFrame(out)


def known_table(df: pd.DataFrame) -> pd.DataFrame:
    k = df[df["known_what"] != ""]
    if k.empty:
        return pd.DataFrame()
    g = (k.groupby(["case", "framework", "quantity"], sort=False)
         .agg(what=("known_what", "first"), relation=("known_holds", "first"),
              difference=("raw_max_rel", "max"), relation_error=("max_rel", "max"), link=("known_link", "first"))
         .reset_index())
    g["difference"] = g["difference"].map(lambda v: f"{v:.2e}")
    g["relation_error"] = g["relation_error"].map(lambda v: f"{v:.1e}")
    return g


def full_table(df: pd.DataFrame) -> pd.DataFrame:
    t = df[["case", "framework", "dtype", "quantity", "steps", "worst_step", "max_abs", "max_rel", "rtol",
            "verdict", "where"]].copy()
    for col in ("max_abs", "max_rel", "rtol"):
        t[col] = t[col].map(lambda v: f"{v:.2e}")
    return t


def document(df: pd.DataFrame, versions: dict[str, str], tolerances: pd.DataFrame) -> Document:
    doc = Document("Parity: scratch vs Keras 3 and PyTorch", INTRO)
    counts = df["verdict"].value_counts()
    doc.add("Versions", ", ".join(f"{k} {v}" for k, v in versions.items()))
    doc.add("Summary", f"{len(df)} compared quantities: " + ", ".join(
        f"{counts.get(v, 0)} {v}" for v in (PASS, KNOWN, FAIL, KNOWN_BROKEN) if counts.get(v, 0) or v == FAIL) + ".",
        overview(df))
    kt = known_table(df)
    if not kt.empty:
        doc.add("Known differences",
                "What differs between the frameworks and scratch's configuration, the relation that holds "
                "instead (tested), how large the difference itself is (relative, worst over dtypes) and the "
                "error of the relation.", kt)
    doc.add("Tolerances", "Chosen per dtype from what the arithmetic allows.", tolerances)
    doc.add("All rows", "One row per case x framework x dtype x quantity (also in `parity.csv`).", full_table(df))
    return doc


def tolerance_table(cases: Sequence[Case]) -> pd.DataFrame:
    seen = {}
    for c in cases:
        for dt, tol in c.tolerance.items():
            seen.setdefault((dt, tol.rtol, tol.reason), []).append(c.id)
    return pd.DataFrame([{"dtype": dt, "rtol": f"{r:g}", "reason": why, "cases": len(ids)}
                         for (dt, r, why), ids in seen.items()])


#: Significant digits of the error figures stored in parity.csv: the last digits of a rounding error
#: differ between machines (BLAS blocking, instruction sets), so a regenerated file keeps a row whose
#: verdict did not change byte-identical instead of rewriting it.
STORED_DIGITS = 3
_NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def rounded(value: float, digits: int = STORED_DIGITS) -> float:
    """``value`` to ``digits`` significant digits (NaN and infinities unchanged)."""
    return float(f"{value:.{digits - 1}e}") if math.isfinite(value) else value


def stored(df: pd.DataFrame, digits: int = STORED_DIGITS) -> pd.DataFrame:
    """The rows as stored in parity.csv: error figures, and the numbers written in ``detail``, to
    ``digits`` significant digits."""
    out = df.drop(columns=["summary"]).copy()
    for col in ("max_abs", "max_rel", "raw_max_rel"):
        out[col] = pd.to_numeric(out[col], errors="coerce").map(lambda v: rounded(v, digits))
    out["detail"] = out["detail"].map(lambda s: _NUMBER.sub(lambda m: f"{float(m.group()):.{digits}g}", s))
    return out


def write(df: pd.DataFrame, cases: Sequence[Case], out_dir: str | Path) -> list[Path]:
    """Write parity.md / parity.html / parity.csv into ``out_dir`` (the CSV through ``stored``)."""
    from reference.frameworks import versions

    out = Path(out_dir)
    doc = document(df, versions(), tolerance_table(cases))
    paths = doc.write(out / "parity")
    paths.append(io.write_text(out / "parity.csv", stored(df).to_csv(index=False)))
    return paths
