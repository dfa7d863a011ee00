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
tested, at the same tolerance. Regenerate with `make report` (or `python -m comparisons parity --out reports`).
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


#: Initializer rows compare distributions: their ``max_rel`` is a statistic over its limit (pass
#: below 1), not an error, and is shown in columns of its own.
STAT_QUANTITIES = ("bounds", "mean", "variance", "ks")
#: Case-id prefixes whose component is named by two segments (``init/he_uniform``, ``textbook/affine``).
TWO_SEGMENTS = ("init", "schedule", "callback", "textbook")
KINDS = ("layer", "loss", "initializer", "optimizer", "schedule", "callback")
LEGEND = ("(known): a recorded framework convention; the framework value is mapped through the relation that "
          "holds and that relation's error is shown. FAIL: above the tolerance.")


def component(case_id: str) -> str:
    """The component a case belongs to: ``dense/2d`` -> ``dense``, ``init/he_uniform/conv`` -> ``init/he_uniform``."""
    parts = case_id.split("/")
    return "/".join(parts[:2] if parts[0] in TWO_SEGMENTS else parts[:1])


def is_statistic(df: pd.DataFrame) -> pd.Series:
    return (df["kind"] == "initializer") & df["quantity"].isin(STAT_QUANTITIES)


def _mark(verdicts: set) -> str:
    return "FAIL" if verdicts & {FAIL, KNOWN_BROKEN} else ("known" if KNOWN in verdicts else "")


def _cell(group: pd.DataFrame) -> str:
    if group.empty:
        return ""
    mark = _mark(set(group["verdict"]))
    return f"{group['max_rel'].max():.1e}" + (f" ({mark})" if mark else "")


def overview(df: pd.DataFrame) -> pd.DataFrame:
    """One row per case: worst relative error per framework x dtype (initializers: of the values
    compared exactly), and the worst statistic / limit where the case compares distributions."""
    cols = [(fw, dt) for fw in FRAMEWORKS for dt in DTYPES]
    stat = is_statistic(df)
    out = []
    for case_id, g in df.groupby("case", sort=False):
        row = {"case": case_id, "kind": g["kind"].iloc[0], "what": g["summary"].iloc[0]}
        errors = g[~stat.loc[g.index]]
        for fw, dt in cols:
            ran = len(g[(g["framework"] == fw) & (g["dtype"] == dt)])
            row[f"{fw} {dt}"] = _cell(errors[(errors["framework"] == fw) & (errors["dtype"] == dt)]) if ran else "n/a"
        stats = g[stat.loc[g.index]]
        row["statistic / limit"] = f"{stats['max_rel'].max():.2f}" if len(stats) else ""
        out.append(row)
    table = pd.DataFrame(out)
    return table.drop(columns=[c for c in ("statistic / limit",) if c in table and (table[c] == "").all()])


TERMINAL_LEGEND = ("K: known difference (a recorded framework convention; the error shown is that of the relation "
                   "that holds, see parity.md). FAIL: above the tolerance. stat/limit: an initializer's distribution "
                   "statistic over its limit (passes below 1).")


def terminal_overview(df: pd.DataFrame, width: int = 34) -> pd.DataFrame:
    """The overview for a terminal (under 100 columns): the case id cut to ``width``, the error
    columns with ``K`` for a known difference, the statistic column."""
    table = overview(df).drop(columns=["kind", "what"])
    table["case"] = table["case"].map(lambda s: s if len(s) <= width else s[:width - 3] + "...")
    table = table.map(lambda v: v.replace(" (known)", " K").replace(" (FAIL)", " FAIL") if isinstance(v, str) else v)
    return table.rename(columns=lambda c: c.replace("float", "f").replace("statistic / limit", "stat/limit"))


def verdict_line(df: pd.DataFrame) -> str:
    counts = df["verdict"].value_counts()
    return f"{len(df)} compared quantities: " + ", ".join(
        f"{counts.get(v, 0)} {v}" for v in (PASS, KNOWN, FAIL, KNOWN_BROKEN) if counts.get(v, 0) or v == FAIL) + "."


def _first_sentence(text: str, limit: int = 110) -> str:
    head = re.split(r"(?<=[.;:])\s", text, maxsplit=1)[0].rstrip(".;:")
    return head if len(head) <= limit else head[:limit - 3].rstrip() + "..."


def _known_cell(g: pd.DataFrame) -> str:
    """Each known difference of a component in a phrase, and a link to the relations that hold."""
    k = g[g["known_what"] != ""]
    if k.empty:
        return ""
    phrases = list(dict.fromkeys(_first_sentence(w) for w in k["known_what"]))
    kind = g["kind"].iloc[0]
    return "; ".join(phrases) + f" ([{len(k['known_what'].unique())} relations](parity_{kind}.md#known-differences))"


def components(df: pd.DataFrame) -> pd.DataFrame:
    """One row per component: cases, worst error per framework x dtype, worst statistic / limit,
    verdict counts and the known differences with the relation that holds."""
    stat = is_statistic(df)
    rows = []
    for name, g in df.groupby(df["case"].map(component), sort=False):
        kind = g["kind"].iloc[0]
        errors = g[~stat.loc[g.index]]
        row = {"component": name, "kind": f"[{kind}](parity_{kind}.md)", "cases": g["case"].nunique()}
        for fw in FRAMEWORKS:
            for dt in DTYPES:
                ran = len(g[(g["framework"] == fw) & (g["dtype"] == dt)])
                sub = errors[(errors["framework"] == fw) & (errors["dtype"] == dt)]
                row[f"{fw} {dt}"] = _cell(sub) if ran else "n/a"
        stats = g[stat.loc[g.index]]
        row["statistic / limit"] = f"{stats['max_rel'].max():.2f}" if len(stats) else ""
        counts = g["verdict"].value_counts()
        row["verdict"] = ", ".join(f"{counts[v]} {v}" for v in (PASS, KNOWN, FAIL, KNOWN_BROKEN) if v in counts)
        row["known differences"] = _known_cell(g)
        rows.append(row)
    return pd.DataFrame(rows)


def kind_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Per kind: quantities that pass, are known differences, fail; linked to the kind's page."""
    rows = []
    for kind in [k for k in KINDS if k in set(df["kind"])]:
        c = df[df["kind"] == kind]["verdict"].value_counts()
        rows.append({"kind": f"[{kind}](parity_{kind}.md)", "cases": df[df["kind"] == kind]["case"].nunique(),
                     "pass": c.get(PASS, 0), "known difference": c.get(KNOWN, 0),
                     "FAIL": c.get(FAIL, 0) + c.get(KNOWN_BROKEN, 0)})
    return pd.DataFrame(rows)


def known_table(df: pd.DataFrame) -> pd.DataFrame:
    k = df[df["known_what"] != ""]
    if k.empty:
        return pd.DataFrame()
    g = (k.groupby(["case", "framework", "quantity"], sort=False)
         .agg(what=("known_what", "first"), relation=("known_holds", "first"),
              difference=("raw_max_rel", lambda s: pd.to_numeric(s, errors="coerce").max()),
              relation_error=("max_rel", "max"), link=("known_link", "first"))
         .reset_index())
    g["difference"] = g["difference"].map(lambda v: f"{v:.2e}")
    g["relation_error"] = g["relation_error"].map(lambda v: f"{v:.1e}")
    return g


def full_table(df: pd.DataFrame) -> pd.DataFrame:
    """Every row; an initializer's distribution statistic in a column of its own."""
    t = df[["case", "framework", "dtype", "quantity", "steps", "worst_step", "max_abs", "max_rel", "rtol",
            "verdict", "where"]].copy()
    stat = is_statistic(df)
    for col in ("max_abs", "max_rel", "rtol"):
        t[col] = t[col].map(lambda v: f"{v:.2e}")
    if stat.any():
        t.insert(8, "statistic / limit", "")
        t.loc[stat, "statistic / limit"] = df.loc[stat, "max_rel"].map(lambda v: f"{v:.2f}")
        t.loc[stat, ["max_abs", "max_rel", "rtol"]] = ""
    return t


def document(df: pd.DataFrame, versions: dict[str, str], tolerances: pd.DataFrame) -> Document:
    doc = Document("Parity: scratch vs Keras 3 and PyTorch", INTRO)
    doc.add("Versions", ", ".join(f"{k} {v}" for k, v in versions.items()))
    doc.add("Verdicts", verdict_line(df) + " Per kind (each kind's page has its cases and every row):",
            kind_counts(df), numparse=False)
    doc.add("Components", "One row per component: the worst error against each framework in each dtype over all "
            "its cases and quantities (" + LEGEND + " Initializers compare distributions: `statistic / limit` "
            "is the worst of a mean, variance, bound or KS statistic over its limit, passing below 1), the verdicts "
            "and the known differences with the relation that holds.", components(df), numparse=False)
    doc.add("Tolerances", "Chosen per dtype from what the arithmetic allows.", tolerances)
    return doc


def kind_document(df: pd.DataFrame, kind: str) -> Document:
    """The page of one kind: its cases, its known differences and every row."""
    sub = df[df["kind"] == kind]
    doc = Document(f"Parity: {kind} cases", f"Part of [the parity report](parity.md). {verdict_line(sub)} {LEGEND}")
    doc.add("Cases", "Worst relative error per framework and dtype.", overview(sub), numparse=False)
    kt = known_table(sub)
    if not kt.empty:
        doc.add("Known differences",
                "What differs between the frameworks and scratch's configuration, the relation that holds "
                "instead (tested), how large the difference itself is (relative, worst over dtypes) and the "
                "error of the relation.", kt, numparse=False)
    doc.add("All rows", "One row per case x framework x dtype x quantity (also in [parity.csv](parity.csv)).",
            full_table(sub), numparse=False)
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
    for kind in [k for k in KINDS if k in set(df["kind"])]:
        paths += kind_document(df, kind).write(out / f"parity_{kind}")
    paths.append(io.write_text(out / "parity.csv", stored(df).to_csv(index=False)))
    return paths


def from_csv(path: str | Path) -> pd.DataFrame:
    """The rows of a written ``parity.csv``, with each case's summary from the table: what ``write``
    needs to rebuild the pages without running a case."""
    from comparisons.table import BY_ID

    df = pd.read_csv(path, keep_default_na=False, dtype={"where": str, "detail": str})
    for col in ("max_abs", "max_rel", "rtol"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df["summary"] = df["case"].map(lambda c: BY_ID[c].summary if c in BY_ID else "")
    return df
