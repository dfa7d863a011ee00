"""The equivalents atlas: ``reports/equivalents.md`` and ``.html``, generated from the case table.

One section per component (formula, the three calls, measured worst errors, known differences)
and the defaults table of ``comparisons.studies.defaults.settings``. Measurements come from the parity run of the
same ``make report`` (``parity.csv`` in the output directory) when it covers every case of the
table, otherwise the table is run here (about a minute).

Public API: ``measure``, ``write``, ``atlas_job`` (a ``make report`` job) and ``add_commands``
(the ``atlas`` subcommand).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from comparisons.paths import add_out_argument, output_root
from comparisons.report.atlas.page import build, components

__all__ = ["add_commands", "atlas_job", "build", "components", "measure", "write"]



def measure(cases, out: Path, *, progress: bool, remeasure: bool = False) -> tuple[pd.DataFrame, str]:
    """(rows, where they come from): ``out/parity.csv`` when it has every case id, else a fresh run."""
    csv = out / "parity.csv"
    if csv.exists() and not remeasure:
        df = pd.read_csv(csv, keep_default_na=False, na_values={"raw_max_rel": [""]})
        if {c.id for c in cases} <= set(df["case"]):
            return df, "`parity.csv` of the same report run"
    from comparisons.report import parity

    return parity.run_table(cases, progress=progress), "a run of the case table made for this page"


def write(out: Path, *, progress: bool = True, remeasure: bool = False) -> tuple[list[Path], bool]:
    """Write ``equivalents.md`` / ``.html`` into ``out``; ok is False if a documented default no longer
    matches the installed library or a case failed."""
    from comparisons.report import files as io
    from comparisons.studies.defaults import settings as defaults
    from comparisons.table import CASES
    from reference.frameworks import versions

    df, source = measure(CASES, out, progress=progress, remeasure=remeasure)
    for col in ("max_rel", "raw_max_rel"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    table = defaults.table()
    page = build(CASES, df, table, versions(), source)
    paths = [io.write_text(out / "equivalents.md", page.markdown()),
             io.write_text(out / "equivalents.html", page.html())]
    ok = not table.apply(lambda r: r.astype(str).str.contains("MISMATCH").any(), axis=1).any()
    ok &= bool(df["verdict"].isin(["pass", "known difference"]).all())
    return paths, ok


def atlas_job(out: Path, progress: bool, full: bool) -> bool:
    """``make report`` job (run it after the parity job, whose ``parity.csv`` it reads)."""
    paths, ok = write(out, progress=progress)
    for p in paths:
        print(f"wrote {p}")
    return ok


def cmd_atlas(args) -> int:
    paths, ok = write(output_root(args), progress=not args.quiet, remeasure=args.remeasure)
    for p in paths:
        print(f"wrote {p}")
    if not ok:
        print("a documented default no longer matches the installed library, or a case failed: see the page "
              "(MISMATCH / FAIL)")
    return 0 if ok else 1


def add_commands(sub) -> None:
    """Register ``atlas`` on the ``python -m comparisons`` subparsers."""
    p = sub.add_parser(
        "atlas", help="write the equivalents atlas (reports/equivalents.md and .html)",
        description="Write the equivalents atlas from the case table: for every component the formula (from its "
                    "scratch docstring), the scratch, Keras and PyTorch calls with every argument equality needs, "
                    "the worst error measured against each framework in float64 and float32, and the known "
                    "differences; plus the defaults of the textbook, Keras and PyTorch side by side, read from the "
                    "installed libraries. Exits 1 if a documented default no longer matches or a case fails.",
        epilog="Measurements: OUT/parity.csv when it covers every case (as after `python -m comparisons parity` or "
               "`make report`), else the case table is run (about a minute on 2 cores).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_out_argument(p)
    p.add_argument("--remeasure", action="store_true", help="run the case table even if OUT/parity.csv covers it")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_atlas)
