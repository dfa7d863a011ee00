"""``python -m comparisons matrix-scaling``: the same small matrix on 1 and 2 (or more) local workers,
each into a fresh temporary folder; wall time, speed-up and the arithmetic for N machines.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from comparisons.argtypes import csv_choices
from comparisons.matrix import engine, spec
from comparisons.paths import add_out_argument, output_root
from comparisons.report import files as io
from comparisons.report.document import Document
from comparisons.studies import models

DEFAULT = {"models": ["twolayer", "mlp4x32"], "dtypes": ["float32"], "seeds": "0-1", "budget": "short"}


def measure(cells: list[spec.Cell], workers: list[int], *, say=print) -> pd.DataFrame:
    """Run ``cells`` once per worker count (fresh folders); one row per run of the matrix."""
    rows = []
    for n in workers:
        with tempfile.TemporaryDirectory(prefix=f"dlparity-scaling-{n}-") as tmp:
            load_before = os.getloadavg()[0]
            start = time.perf_counter()
            outcome = engine.run(cells, Path(tmp), workers=n, say=say)
            total = time.perf_counter() - start
            cell_seconds = [r["seconds"] for r in outcome.finished.values()]
            cpu = sum(r.get("cpu_seconds", float("nan")) for r in outcome.finished.values())
            rows.append({"workers": n, "cells": len(cells), "failed": len(outcome.failed),
                         "wall seconds (start to summaries)": total,
                         "start seconds (MNIST check, cluster)": outcome.setup_seconds,
                         "cells wall seconds": outcome.wall_seconds, "sum of cell seconds": sum(cell_seconds),
                         "mean cell seconds": sum(cell_seconds) / max(1, len(cell_seconds)),
                         "sum of cell CPU seconds": cpu, "cores used (CPU / cells wall)": cpu / outcome.wall_seconds,
                         "when (UTC)": time.strftime("%H:%M", time.gmtime()),
                         "load average before": load_before, "load average after": os.getloadavg()[0]})
    df = pd.DataFrame(rows)
    base = df[df["workers"] == df["workers"].min()].iloc[0]  # against the fewest workers
    df["speed-up (cells)"] = base["cells wall seconds"] / df["cells wall seconds"]
    df["speed-up (total)"] = base["wall seconds (start to summaries)"] / df["wall seconds (start to summaries)"]
    return df


def write(df: pd.DataFrame, cells: list[spec.Cell], out: Path, cores: int,
          earlier: pd.DataFrame | None = None) -> list[Path]:
    """scaling.{md,csv}; ``earlier`` (the rows of scaling.csv before this run) is kept below."""
    first = df[df["workers"] == df["workers"].min()].iloc[0]
    last = df[df["workers"] == df["workers"].max()].iloc[-1]
    serial = first["wall seconds (start to summaries)"] - first["cells wall seconds"]
    per_cell = first["cells wall seconds"] / first["cells"]
    shared = max(df["load average before"].max(), df["load average after"].max())
    note = (f"The machine has {cores} cores and was shared with other work while this ran (load average up to "
            f"{shared:.1f}), so the figures are what a busy machine gave, not a clean benchmark."
            if shared > 0.5 * cores else f"The machine has {cores} cores; load average up to {shared:.1f}.")
    arithmetic = (
        f"Arithmetic for N machines. On one worker the {int(first['cells'])} cells took "
        f"{first['cells wall seconds']:.0f} s ({per_cell:.0f} s per cell) plus {serial:.0f} s that does not "
        f"parallelise: the cluster start, the client reading each cell's state from disk, and the summaries rebuilt "
        f"from disk at the end (the MNIST cache is filled once before the tasks; each worker then reads it, "
        f"about a second per cell). With W single-threaded workers in all (W = cores per machine x machines) a "
        f"matrix of C cells takes about serial + ceil(C / W) x (cell time): the cells are independent, so the "
        f"speed-up is bounded by C / ceil(C / W) and by the serial part (Amdahl). The variance study (20 cells of "
        f"about the same length) on 10 two-core machines (W = 20) would take one cell time plus the serial part; "
        f"beyond W = C more machines do not help. Here, {int(last['workers'])} workers gave a speed-up of "
        f"{last['speed-up (cells)']:.2f} on the cells and {last['speed-up (total)']:.2f} end to end "
        f"(ideal {min(int(last['workers']), int(last['cells']))}). The worker processes used "
        f"{first['cores used (CPU / cells wall)']:.2f} and {last['cores used (CPU / cells wall)']:.2f} cores on "
        "average (their CPU seconds over the wall time of the cells): on a quiet machine that is close to 1 and 2; "
        "what the machine's other work takes from the cores is lost to the speed-up, as are the framework imports "
        "each fresh worker process pays once (outside the cell times). The cells' CPU time, "
        f"{first['sum of cell CPU seconds']:.0f} s in all, is about what they take on one quiet core, and half of "
        "it on two.")
    desc = ", ".join(sorted({f"{c.model} {c.dtype}" for c in cells}))
    seeds = sorted({c.seed for c in cells})
    doc = Document("Run matrix: 1 vs 2 local workers",
                   f"The same matrix ({len(cells)} cells: {desc}; seeds {seeds}; the short budgets of `make report`; "
                   "scratch, Keras and PyTorch) run by `python -m comparisons matrix-scaling` on a local Dask cluster "
                   "of 1 and of 2 single-threaded worker processes, each time into a fresh folder (nothing skipped). "
                   "'cells' is from the first submission to the last result; 'total' adds the cluster start and the "
                   f"summaries. {note}")
    shown = df.copy()
    for col in shown.columns:
        if shown[col].dtype.kind == "f":
            shown[col] = shown[col].map(lambda v: f"{v:.2f}")
    doc.add("Measured", table=shown)
    doc.add("N machines", arithmetic)
    if earlier is not None and not earlier.empty:
        doc.add("Earlier measurements", "The same matrix measured before on this machine (the load differed).",
                table=earlier.map(lambda v: f"{v:.2f}" if isinstance(v, float) else v))
    both = pd.concat([earlier, df], ignore_index=True) if earlier is not None else df
    return [io.write_text(out / "scaling.csv", both.to_csv(index=False)), *doc.write(out / "scaling")]


def add_commands(sub) -> None:
    p = sub.add_parser("matrix-scaling", help="time the same small run matrix on 1 and 2 local workers",
                       description="Run one small matrix on local clusters of each worker count (fresh folders) "
                                   "and write OUT/scaling.{md,csv}: wall times, speed-up, the arithmetic for N "
                                   "machines.")
    p.add_argument("--model", type=csv_choices(list(models.MODELS)), default=DEFAULT["models"],
                   help=f"default {','.join(DEFAULT['models'])}")
    p.add_argument("--seeds", dest="seed_list", default=DEFAULT["seeds"], help=f"default {DEFAULT['seeds']}")
    p.add_argument("--worker-counts", default="1,2", help="local worker counts to compare (default 1,2)")
    add_out_argument(p)  # the tables go to ROOT/variance/
    p.set_defaults(func=cmd_scaling)


def cmd_scaling(args) -> int:
    try:
        counts = [int(t) for t in args.worker_counts.split(",")]
        if not counts or min(counts) < 1:
            raise ValueError
    except ValueError:
        raise SystemExit("error: --worker-counts: expected positive integers like 1,2, "
                         f"got {args.worker_counts!r}") from None
    try:
        seeds = spec.parse_seeds(args.seed_list)
    except ValueError as err:
        raise SystemExit(f"error: --seeds: {err}") from None
    cells = spec.cells(args.model, DEFAULT["dtypes"], seeds, budget=DEFAULT["budget"])
    previous = output_root(args) / "variance" / "scaling.csv"
    earlier = pd.read_csv(previous) if previous.exists() else None
    df = measure(cells, counts)
    for path in write(df, cells, output_root(args) / "variance", engine.default_workers(), earlier):
        print(f"wrote {path}")
    return 0 if not df["failed"].any() else 1
