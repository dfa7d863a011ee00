"""The atlas page: the defaults table, then one section per component of the case table."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from comparisons.report.atlas.calls import case_calls
from comparisons.report.atlas.formula import formula
from comparisons.report.document import Page
from comparisons.report.slug import slug
from comparisons.table.components import TEXTBOOK_PREFIX, resolve
from comparisons.table.spec import DTYPES, FRAMEWORKS, Case

TITLE = "Equivalents atlas: scratch, Keras 3 and PyTorch"
NAMES = {"keras": "Keras", "torch": "PyTorch"}
#: Covered names that are infrastructure rather than a component of their own.
NOT_PRIMARY = {"Optimizer"}

INTRO = """\
Generated from the case table (`comparisons/table/`) by `python -m comparisons atlas` (also part
of `make report`); do not edit. For every component: the formula (copied from the algorithm block
of its scratch docstring), the scratch call and the Keras and PyTorch calls with every argument
that equality needs (written by the same builders the parity run uses), the worst error measured
against each framework in float64 and float32, and the known differences with their reason, the
relation that holds instead and a link.

**Error**: normwise relative error `max|scratch - framework| / max|framework|`, worst quantity and
step of the case (forward output, input and parameter gradients, running statistics, trajectories,
learning-rate sequences). "known" marks a case whose framework value goes through a recorded
relation first; the figure is the error of that relation, and the size of the difference itself is
listed under the section's known differences. Initializer cases are compared by distribution: their
figure is the worst check statistic divided by its limit (<= 1 passes).
"""


def component(case: Case) -> str:
    """The component a case belongs to: the first public name it covers (not the optimizer base)."""
    return next(n for n in case.covers if n not in NOT_PRIMARY)


def components(cases: Sequence[Case]) -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {}
    for c in cases:
        out.setdefault(component(c), []).append(c)
    return out


def _cell(rows: pd.DataFrame) -> str:
    if rows.empty:
        return "not measured"
    worst = rows["max_rel"].max()
    verdicts = set(rows["verdict"])
    fail = any(v.startswith("FAIL") for v in verdicts)
    mark = " FAIL" if fail else (" known" if "known difference" in verdicts else "")
    return f"{worst:.1e}{mark}"


def error_table(cases: Sequence[Case], df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for c in cases:
        sub = df[df["case"] == c.id]
        row = {"case": c.id, "what": c.summary}
        for fw in FRAMEWORKS:
            for dt in DTYPES:
                row[f"{NAMES[fw]} {dt}"] = (_cell(sub[(sub["framework"] == fw) & (sub["dtype"] == dt)])
                                            if fw in c.frameworks else "-")
        rows.append(row)
    return pd.DataFrame(rows)


def _known_items(cases: Sequence[Case], df: pd.DataFrame) -> list[str]:
    seen: dict[tuple[str, str], dict] = {}
    for c in cases:
        for k in c.known:
            entry = seen.setdefault((k.framework, k.what), {"known": k, "cases": [], "quantities": set()})
            if c.id not in entry["cases"]:  # one difference may be two Knowns (one relation per quantity)
                entry["cases"].append(c.id)
            entry["quantities"].update(k.quantities)
    items = []
    for (fw, _), e in seen.items():
        k = e["known"]
        sub = df[df["case"].isin(e["cases"]) & (df["framework"] == fw) & (df["known_what"] == k.what)]
        measured = ""
        if not sub.empty:
            raw = pd.to_numeric(sub["raw_max_rel"], errors="coerce").max()
            rel = sub["max_rel"].max()
            measured = f" Measured (worst over dtypes): difference {raw:.2e}, relation error {rel:.1e}."
        only = f" (only in {', '.join(k.dtypes)})" if tuple(k.dtypes) != tuple(DTYPES) else ""
        items.append(f"**{NAMES[fw]}**{only}, {', '.join(sorted(e['quantities']))} in {', '.join(e['cases'])}: "
                     f"{k.what} Why: {k.why} Relation that holds: {k.holds}.{measured} [source]({k.link})")
    return items


def _call_blocks(page: Page, cases: Sequence[Case]) -> None:
    groups: dict[tuple[str, str, str, str], list[Case]] = {}
    for c in cases:
        calls = case_calls(c)
        groups.setdefault((calls.get("book", ""), calls["scratch"], calls["keras"], calls["torch"]), []).append(c)
    for (book, scratch, keras, torch), members in groups.items():
        ids = ", ".join(f"`{c.id}`" for c in members)
        page.text(f"{ids}: {members[0].summary}")
        page.code((f"book:    {book}\n" if book else "") + f"scratch: {scratch}\nKeras:   {keras}\nPyTorch: {torch}")


def section(page: Page, name: str, cases: Sequence[Case], df: pd.DataFrame) -> None:
    related = tuple(dict.fromkeys(n for c in cases for n in c.covers if n != name))
    found = resolve(name)
    kind = cases[0].kind
    page.heading(name)
    also = f" Also exercises: {', '.join(f'`{n}`' for n in related)}." if related else ""
    where = f"`{found[0]}.{name.removeprefix(TEXTBOOK_PREFIX)}`" if found else f"`{name}`"
    page.text(f"{kind}, {len(cases)} case{'s' if len(cases) > 1 else ''}, {where}.{also}")
    text, source = formula(name, related)
    if text:
        page.text(f"Formula (from the docstring of `{source}`):")
        page.code(text)
    page.text("Worst error against each framework (normwise relative):")
    page.table(error_table(cases, df))
    page.text("Calls, with every argument needed for equality:")
    _call_blocks(page, cases)
    known = _known_items(cases, df)
    if known:
        page.text("Known differences:")
        page.bullets(known)


def build(cases: Sequence[Case], df: pd.DataFrame, defaults: pd.DataFrame, versions: dict[str, str],
          source: str) -> Page:
    """The atlas page from the case table, its measured rows (``parity.run_table``'s columns) and the
    defaults table (``comparisons.studies.defaults.settings.table()``)."""
    page = Page(TITLE)
    page.text(INTRO)
    page.text(f"Versions: {', '.join(f'{k} {v}' for k, v in versions.items())}. Measurements: {source}.")
    groups = components(cases)
    page.heading("Contents")
    page.bullets(["[Defaults side by side](#defaults-side-by-side)"]
                 + [f"[{name}](#{slug(name)}) ({len(cs)})" for name, cs in groups.items()])
    page.heading("Defaults side by side")
    page.text("The textbook's, Keras's and PyTorch's default hyperparameters and conventions. The Keras and "
              "PyTorch columns are read from the installed libraries when this page is generated (constructor "
              "signatures, or a small experiment on the library for a convention: "
              "`comparisons/studies/defaults/probes.py`); a cell marked MISMATCH differs from the documented value, "
              "and `tests/test_defaults.py` fails on it. \"(documented)\" marks a value the library does not "
              "expose. The textbook column is documented from its source.")
    page.table(defaults)
    for name, cs in groups.items():
        section(page, name, cs, df)
    return page
