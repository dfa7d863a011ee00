"""The parity report reads as a summary: one row per component, initializer statistics apart from
errors, the full rows in per-kind pages; the terminal table fits 100 columns."""

from __future__ import annotations

import pandas as pd

from comparisons.paths import REPORTS
from comparisons.report import parity


def _rows() -> pd.DataFrame:
    base = dict(steps=1, worst_step=0, max_abs=1e-16, rtol=1e-10, where="(0,)", detail="", raw_max_rel="",
                known_what="", known_holds="", known_link="", summary="s")
    rows = [dict(base, case="dense/2d", kind="layer", framework=fw, dtype=dt, quantity=q, max_rel=e,
                 verdict="pass") for fw in ("keras", "torch") for dt in ("float64", "float32")
            for q, e in (("output", 2e-16), ("dx", 3e-16))]
    rows.append(dict(base, case="dense/nd-input", kind="layer", framework="keras", dtype="float64", quantity="dW",
                     max_rel=9e-16, verdict="known difference", known_what="Flatten order differs. More text.",
                     known_holds="a permutation"))
    rows.append(dict(base, case="init/he_uniform", kind="initializer", framework="torch", dtype="float64",
                     quantity="ks", max_rel=0.37, verdict="pass"))
    return pd.DataFrame(rows)


def test_one_row_per_component_with_statistics_apart():
    table = parity.components(_rows()).set_index("component")
    assert list(table.index) == ["dense", "init/he_uniform"]
    assert table.loc["dense", "keras float64"] == "9.0e-16 (known)" and table.loc["dense", "cases"] == 2
    assert table.loc["dense", "verdict"] == "8 pass, 1 known difference"
    assert table.loc["dense", "known differences"].startswith("Flatten order differs (")
    assert table.loc["init/he_uniform", "statistic / limit"] == "0.37"
    assert table.loc["init/he_uniform", "torch float64"] == ""  # ran, but compared distributions only
    assert table.loc["init/he_uniform", "keras float64"] == "n/a"


def test_full_rows_put_statistics_in_their_own_column():
    full = parity.full_table(_rows())
    stat = full[full["quantity"] == "ks"].iloc[0]
    assert stat["statistic / limit"] == "0.37" and stat["max_rel"] == ""
    assert full[full["quantity"] == "output"].iloc[0]["statistic / limit"] == ""


def test_terminal_table_fits_100_columns():
    text = parity.terminal_overview(_rows()).to_string(index=False)
    assert max(len(line) for line in text.splitlines()) <= 100 and " K" in text


def test_committed_parity_page_is_a_summary():
    text = (REPORTS / "parity.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200 and "| component " in text
    for kind in parity.KINDS:
        assert f"(parity_{kind}.md)" in text and (REPORTS / f"parity_{kind}.md").exists()
