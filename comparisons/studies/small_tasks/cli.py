"""``python -m comparisons small-tasks``: the small tasks in lock-step, and their report."""

from __future__ import annotations

import sys

import pandas as pd

from comparisons.argtypes import csv_choices
from comparisons.paths import add_out_argument, output_root
from comparisons.studies.small_tasks.tasks import DTYPES, TASKS


def add_commands(sub) -> None:
    """Register ``small-tasks`` on an argparse subparsers object."""
    p = sub.add_parser(
        "small-tasks", help="logic gates, three blobs and two moons trained in lock-step in scratch, Keras and PyTorch",
        description="Train each small task from the same initial weights, on the same batches, with the same "
                    "learning rate in scratch, Keras and PyTorch; write per-step divergence, decision-boundary "
                    "plots and a summary table into OUT/small_tasks/ (README.md, README.html, summary.csv, "
                    "steps.csv, PNGs).")
    p.add_argument("--task", type=csv_choices(list(TASKS)), default=list(TASKS),
                   help=f"tasks, comma-separated (default all: {','.join(TASKS)})")
    p.add_argument("--dtype", type=csv_choices(DTYPES), default=list(DTYPES),
                   help="float64,float32 (default both)")
    add_out_argument(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_small_tasks)


def terminal_table(table: pd.DataFrame) -> str:
    """Final loss and accuracy per task, dtype and implementation, and the agreement (< 100 columns)."""
    cols = {"task": "task", "dtype": "dtype", "implementation": "impl", "train_loss": "train loss",
            "train_acc": "train acc", "test_acc": "test acc", "max_step_loss_rel_diff": "step loss vs scratch"}
    out = table[list(cols)].rename(columns=cols)
    for c in ("train loss", "train acc", "test acc"):
        out[c] = out[c].map(lambda v: f"{v:.4f}")
    out["step loss vs scratch"] = out["step loss vs scratch"].map(lambda v: "" if pd.isna(v) else f"{v:.1e}")
    return out.to_string(index=False) + "\n(step loss vs scratch: the worst relative step-loss difference)"


def cmd_small_tasks(args) -> int:
    """Write the report; exit status 1 if a float64 step loss misses the agreement criterion."""
    from comparisons.studies.small_tasks.report import CRITERION, write_report

    paths, ok = write_report(output_root(args) / "small_tasks", dtypes=tuple(args.dtype), progress=not args.quiet,
                             tasks=args.task)
    for p in paths:
        print(f"wrote {p}")
    summary = next((p for p in paths if p.name == "summary.csv"), None)
    if summary is not None:
        print(terminal_table(pd.read_csv(summary)))
    if not ok:
        print(f"a float64 step loss of Keras or PyTorch differs from scratch by more than {CRITERION:g} (relative); "
              "see the report's summary", file=sys.stderr)
        return 1
    return 0
