"""The summary of every MNIST run: final figures side by side and against published references."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from comparisons.report.document import Document
from comparisons.studies import models
from comparisons.studies.mnist.outputs import divergence, load_record
from comparisons.studies.mnist.runner import full_epochs
from comparisons.studies.trainer.lockstep import RunRecord

FULL_TRAIN = 60_000  # MNIST training images

INTRO = """\
Each model spec trained from the same initial weights, on the same batches, with the same dropout
masks and learning rates, in scratch (NumPy), Keras 3 and PyTorch. "step-loss agreement" is the
largest relative difference of a framework's pre-update batch loss from scratch's (from a scratch
run in the framework's own optimizer form where a convention differs, see each run's notes), in
the first epoch and over the whole run. Per-run tables and plots are
linked from the first column. `make report` runs short budgets of every model, `make report
FULL=1` the full recipes; the budget column says which each row is.

float64 runs agree step by step to rounding for the whole run. In float32, a network with ReLUs
parts from the others once a rounding difference flips one ReLU decision (a pre-activation within
a rounding of zero changes sign for one image): from then on the runs are compared by their final
figures, not step by step. How soon depends on the recipe: within a few dozen steps for Adam +
BatchNorm, after some epochs for plain SGD; the sigmoid TwoLayerNet, which has no kink, stays
within float32 rounding for its whole run. [sensitivity.md](sensitivity.md) shows the mechanism
with scratch alone (copies of one run whose initial weights differ by one float32 rounding).

The published figures are what each recipe's source printed. Keras's `fit` prints the running
mean of the batch losses and accuracies over the epoch, taken while the weights change; the
figures here, like the textbook's, evaluate the whole training and test sets after the epoch.
"""


def summary_rows(records: list[RunRecord]) -> pd.DataFrame:
    rows = []
    for rec in records:
        ep = pd.DataFrame(rec.epochs)
        div = divergence(rec)
        spec = models.get(rec.config.model)
        link = f"{rec.config.dtype}/{rec.config.model}/side_by_side.md"  # the layout of reports/mnist/
        full = rec.n_train == FULL_TRAIN and abs(rec.config.epochs - full_epochs(spec, FULL_TRAIN)) < 1e-9
        kind = "full recipe: " if full else "short: "
        if rec.stop:  # stopped early: say so before the budget it was given
            kind = f"stopped ({rec.stop['reason']}) at step {rec.stop['step']} of {kind}"
        row = {"run": f"[{rec.config.model} {rec.config.dtype}]({link})",
               "budget": kind + f"{rec.config.epochs:g} epoch(s) on {rec.n_train:,} images", "steps": len(rec.steps)}
        if not ep.empty:
            last = ep[ep["epoch"] == ep["epoch"].max()].set_index("impl")
            for impl in ("scratch", "keras", "torch"):
                if impl in last.index:
                    row[f"test acc {impl}"] = f"{last.loc[impl, 'test_acc']:.4f}"
                    if impl == "scratch":
                        row["train acc scratch"] = f"{last.loc[impl, 'train_acc']:.4f}"
                    row[f"train loss {impl}"] = f"{last.loc[impl, 'train_loss']:.4f}"
            for impl in ("keras", "torch"):
                if impl in last.index:  # against the scratch run it was compared with
                    base = last.loc[rec.baseline(impl), "test_acc"]
                    row[f"test acc {impl} - scratch (points)"] = f"{100 * (last.loc[impl, 'test_acc'] - base):+.2f}"
        for impl in ("keras", "torch"):
            col = f"rel_diff_{impl}"
            if col in div:
                first = div.loc[div["epoch"] == 0, col].max()
                row[f"step-loss agreement {impl} (epoch 1 / run)"] = f"{first:.1e} / {div[col].max():.1e}"
        row["published reference"] = spec.reference or ""
        row["stopped"] = rec.stopped
        rows.append(row)
    return pd.DataFrame(rows)


def runs_on_disk(out: Path) -> list[RunRecord]:
    """Every run under ``out`` (``out/DTYPE/NAME/run.json``), in model and dtype order."""
    found = []
    for name in models.MODELS:
        for dtype in ("float64", "float32"):
            if (out / dtype / name / "run.json").exists():
                found.append(load_record(out / dtype / name))
    return found


def write(records: list[RunRecord], out: Path, note: str = "") -> list[Path]:
    doc = Document("MNIST lock-step runs", INTRO + ("\n" + note if note else ""))
    doc.add("Summary", table=summary_rows(records))
    return doc.write(out / "README")
