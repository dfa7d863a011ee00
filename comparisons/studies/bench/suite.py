"""The test suite's own speed: ``python -m comparisons bench-suite``.

Clones the repository's HEAD into a temporary directory (what CI starts from; commit first,
uncommitted changes are not in the clone), runs ``make test`` there twice and writes
``test_suite.md/.csv``: the first run creates ``.venv`` and installs from ``pyproject.toml``
(install included), the second finds the install stamp and only runs pytest (install excluded).
Both use this machine's pip cache and dlparity's MNIST cache (``$DLPARITY_CACHE``); on a machine
without them the first run also downloads the packages and the MNIST fallback wheel.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from comparisons.paths import ROOT, add_out_argument, output_root
from comparisons.report import files as io

SUMMARY = re.compile(r"(\d+) passed(?:, (\d+) skipped)?(?:, (\d+) deselected)?.* in ([\d.]+)s")


def _make_test(clone: Path, log: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["CI"] = "true"
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.run(["make", "test"], cwd=clone, env=env, stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT, check=False)
    wall = time.perf_counter() - start
    text = log.read_text(errors="replace")
    found = SUMMARY.findall(text)
    passed, skipped, _, pytest_s = found[-1] if found else ("", "", "", "nan")
    return {"exit code": proc.returncode, "wall s": round(wall, 1), "pytest s": float(pytest_s),
            "passed": int(passed or 0), "skipped": int(skipped or 0)}


def run(out: Path, *, keep: bool = False) -> tuple[list[Path], bool]:
    """Clone HEAD, time ``make test`` with and without the install, write the report into ``out``."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    tmp = Path(tempfile.mkdtemp(prefix="dlparity-suite-"))
    clone = tmp / "dlparity"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    rows = []
    for label in ("fresh clone: .venv created and installed, then the tests", "second run: install skipped"):
        print(f"make test ({label}) in {clone} ...", flush=True)
        rows.append({"run": label, **_make_test(clone, tmp / f"make-test-{len(rows)}.log")})
        print(f"  {rows[-1]}", flush=True)
    df = pd.DataFrame(rows)
    df.insert(1, "install s", [round(rows[0]["wall s"] - rows[1]["wall s"], 1), 0.0])
    io.write_text(out / "test_suite.csv", df.to_csv(index=False))
    md = ["# The test suite's own speed", "",
          f"`python -m comparisons bench-suite`: `make test` in a fresh clone of commit {head}, CI=true, no standard "
          f"input, on {os.cpu_count()} CPU(s), Python {platform.python_version()}. The first run creates `.venv` "
          "and installs from `pyproject.toml` (this machine's pip cache and MNIST cache were warm); the second "
          "finds the install stamp and runs only the tests. `install s` is the difference of the two wall "
          "times. Long MNIST runs are marked `slow` and excluded (`make test-slow`).", "",
          df.to_markdown(index=False), ""]
    from comparisons.report import render

    paths = [io.write_text(out / "test_suite.md", "\n".join(md)), out / "test_suite.csv",
             io.write_text(out / "test_suite.html", render.page(render.title_of(md[0]), "\n".join(md)))]
    if not keep:
        subprocess.run(["rm", "-rf", str(tmp)], check=False)
    ok = not any(r["exit code"] for r in rows)
    if not ok:
        print(f"make test failed; logs in {tmp}" if keep else "make test failed (rerun with --keep for the logs)",
              file=sys.stderr)
    return paths, ok


def cmd_bench_suite(args) -> int:
    paths, ok = run(output_root(args), keep=args.keep)
    for p in paths:
        print(f"wrote {p}")
    return 0 if ok else 1


def add_commands(sub) -> None:
    p = sub.add_parser("bench-suite", help="time `make test` in a fresh clone, with and without the install",
                       description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    add_out_argument(p)
    p.add_argument("--keep", action="store_true", help="keep the clone and the logs")
    p.set_defaults(func=cmd_bench_suite)
