"""The state of a matrix, read from disk only: which cells finished, failed or were interrupted,
and the summaries rebuilt from every run folder present.

A cell is finished when its folder's ``run.json`` carries the cell's config hash and
``"finished": true`` (written once ``train`` returned). A cell whose worker raised or died gets a
``failed.json`` beside it (hash, reason, worker); one whose ``run.json`` has the hash but not
``finished`` was interrupted. Both run again on the next invocation.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from comparisons.matrix.spec import Cell
from comparisons.report import files as io
from comparisons.report.document import Document

FAILED = "failed.json"
#: Status of a cell on disk; only "finished" is skipped.
STATUSES = ("finished", "failed", "interrupted", "other config", "new")


def _json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def status(cell: Cell, out: Path) -> tuple[str, str]:
    """(status, detail) of ``cell`` under ``out``."""
    folder = cell.folder(out)
    digest = cell.digest()
    meta = _json(folder / "run.json")
    if meta is not None and meta.get("config_hash") == digest and meta.get("finished"):
        return "finished", meta.get("stopped", "")
    failure = _json(folder / FAILED)
    if failure is not None and failure.get("config_hash") == digest:
        return "failed", failure.get("reason", "")
    if meta is not None and meta.get("config_hash") == digest:
        stop = meta.get("stop") or {}
        where = f" at step {stop['step']} (epoch {stop['epoch']})" if stop.get("step") is not None else ""
        return "interrupted", f"run.json is unfinished{where}: the run was stopped before it returned"
    if meta is not None and "config_hash" not in meta:
        return "other config", "its run.json has no config hash (written before the run matrix): the cell runs again"
    if meta is not None:
        return "other config", "holds a run of another configuration, which this cell replaces"
    return "new", ""


def mark_failed(cell: Cell, out: Path, reason: str, worker: str = "") -> Path:
    """Record why ``cell`` failed (read back by ``status``; removed when the cell finishes)."""
    body = {"cell": cell.key, "config_hash": cell.digest(), "reason": reason, "worker": worker,
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    return io.write_text(cell.folder(out) / FAILED, json.dumps(body, indent=1) + "\n")


def clear_failed(cell: Cell, out: Path) -> None:
    (cell.folder(out) / FAILED).unlink(missing_ok=True)


def run_folders(out: Path) -> list[Path]:
    """Every run folder under ``out`` (``[seed-S/]DTYPE/MODEL`` holding run.json or failed.json)."""
    found = set()
    for pattern in ("*/*/run.json", "seed-*/*/*/run.json", f"*/*/{FAILED}", f"seed-*/*/*/{FAILED}"):
        found.update(p.parent for p in Path(out).glob(pattern))
    return sorted(found)


def final_rows(folder: Path) -> list[dict]:
    """One row per implementation of a finished run: its last epoch's figures (history CSVs)."""
    meta = _json(folder / "run.json") or {}
    rows = []
    for impl in meta.get("impls", []):
        path = folder / f"history_{impl}.csv"
        if path.exists():
            hist = pd.read_csv(path)
            if len(hist):
                last = hist.iloc[-1]
                rows.append({"impl": impl, "epoch": int(last["epoch"]), "train_loss": float(last["train_loss"]),
                             "train_acc": float(last["train_acc"]), "test_loss": float(last["test_loss"]),
                             "test_acc": float(last["test_acc"])})
    return rows


def table(out: Path) -> pd.DataFrame:
    """Every run folder under ``out``: its cell, state and final test accuracy per implementation."""
    rows = []
    for folder in run_folders(out):
        meta = _json(folder / "run.json") or {}
        failure = _json(folder / FAILED)
        config = meta.get("config", {})
        above = folder.parent.parent.name
        seed = config.get("seed", int(above.removeprefix("seed-")) if above.startswith("seed-") else 0)
        row = {"model": folder.name, "dtype": folder.parent.name, "seed": seed}
        if failure is not None:  # removed when the cell finishes, so it is the latest word
            state = f"failed: {failure.get('reason', '')}"
        elif meta.get("finished"):
            state = "finished" + (f" (stopped: {meta['stop'].get('reason')})" if meta.get("stop") else "")
        else:
            state = "interrupted"
        row["state"] = state
        row["epochs"] = config.get("epochs")
        row["train images"] = meta.get("n_train")
        for r in final_rows(folder):
            row[f"test acc {r['impl']}"] = r["test_acc"]
        timings = folder / "timings.csv"
        if timings.exists():
            row["train seconds"] = round(float(pd.read_csv(timings)["seconds"].sum()), 1)
        row["config hash"] = meta.get("config_hash", failure.get("config_hash") if failure else "")
        rows.append(row)
    return pd.DataFrame(rows)


def write_summaries(out: Path) -> list[Path]:
    """Rebuild, from disk: each seed folder's MNIST summary (README) and ``out/matrix.{md,csv}``."""
    from comparisons.studies.mnist import summary

    out = Path(out)
    written = []
    for seed_dir in [out, *sorted(out.glob("seed-*"))]:
        found = summary.runs_on_disk(seed_dir)  # (records, positions of short runs)
        if found[0]:
            written.append(summary.write(found, seed_dir)[0])
    df = table(out)
    if df.empty:
        return written
    df = df.sort_values(["model", "dtype", "seed"], kind="stable")
    written.append(io.write_text(out / "matrix.csv", df.to_csv(index=False)))
    shown = df.copy()
    for col in [c for c in shown.columns if c.startswith("test acc")]:
        shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.4f}")
    doc = Document("Run matrix", "Every run folder under this directory, read from disk: the cell (model, dtype, "
                   "seed), its state, the final test accuracy of each implementation and the summed training wall "
                   "time of its implementations (`timings.csv`). Seed 0 runs are in `DTYPE/MODEL/`, the others in "
                   "`seed-S/DTYPE/MODEL/`; each seed folder's README.md is the usual MNIST summary. A failed or "
                   "interrupted cell runs again on the next `python -m comparisons matrix` with the same cells.")
    doc.add("Cells", table=shown.astype(object).where(shown.notna(), ""))
    written.append(doc.write(out / "matrix")[0])
    return written
