"""The summary of every MNIST run: one comparison per column, each against a named baseline.

Two baselines matter for a framework run. The scratch run in the framework's SAME optimizer form
(``scratch@keras`` where Keras's AdaGrad differs from the textbook's, ``scratch@torch`` where
PyTorch's Adam does; scratch itself elsewhere) is the lock-step partner: their difference is the
agreement. The textbook scratch run is what a port is measured against: that difference is what
the port costs. Every difference column names the two columns it subtracts
(``tests/test_mnist_summary.py`` checks that it equals their difference).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from comparisons.report.document import Document
from comparisons.studies import models
from comparisons.studies.mnist.outputs import divergence, load_record
from comparisons.studies.mnist.runner import full_epochs
from comparisons.studies.trainer.lockstep import RunRecord

FULL_TRAIN = 60_000  # MNIST training images
FRAMEWORKS = {"keras": "Keras", "torch": "PyTorch"}
#: Short runs of ``make report`` live here, apart from the full recipes (``out/mnist/short/DTYPE/NAME``).
SHORT_DIR = "short"
#: What an optimizer convention that no setting equalises is, per (optimizer, framework).
CONVENTIONS = {
    ("adagrad", "keras"): "Keras's AdaGrad puts epsilon inside the square root (p -= lr * g / sqrt(h + eps), the "
                          "textbook p -= lr * g / (sqrt(h) + eps))",
    ("adam", "torch"): "PyTorch's Adam adds epsilon after the bias correction (the textbook and Keras before it)",
}

FLOAT32_NOTE = (" (float32: the runs part after a flipped ReLU decision, so a difference of a tenth of a point is "
                "the size the lock-step column shows between equal forms.)")

INTRO = """\
Each model spec trained from the same initial weights, on the same batches, with the same dropout
masks and learning rates, in scratch (NumPy), Keras 3 and PyTorch. Per-run tables and plots are
linked from the first column. Each row says whether it is a full recipe or a short budget:
`make report` keeps the committed full recipes and runs short budgets only where none is on disk
(into `short/`); `make report FULL=1` reruns the full recipes.

Where an optimizer convention cannot be equalised by any setting, the framework is run beside a
second scratch run in the framework's own form. Two differences per framework follow, each in a
column of its own: against that same-form scratch run (the lock-step agreement: 0 in float64) and
against the textbook scratch run (what porting the textbook's recipe to that framework costs).
Where the forms agree, both baselines are the one scratch run.

float64 runs agree step by step to rounding for the whole run. In float32, a network with ReLUs
parts from the others once a rounding difference flips one ReLU decision; from then on the runs
are compared by their final figures, not step by step (within a few dozen steps for Adam +
BatchNorm, after some epochs for plain SGD; the sigmoid TwoLayerNet stays within float32 rounding).
[sensitivity.md](sensitivity.md) shows the mechanism with scratch alone.
"""


def _is_full(rec: RunRecord) -> bool:
    spec = models.get(rec.config.model)
    return rec.n_train == FULL_TRAIN and abs(rec.config.epochs - full_epochs(spec, FULL_TRAIN)) < 1e-9


def is_full_run(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a complete full-recipe run (``run.json`` of all 60,000 images, the
    recipe's budget, not stopped)."""
    if not (run_dir / "run.json").exists():
        return False
    meta = json.loads((run_dir / "run.json").read_text())
    spec = models.get(meta["config"]["model"])
    return (meta["n_train"] == FULL_TRAIN and not meta["stopped"] and len(meta["config"]["impls"]) == 3
            and abs(meta["config"]["epochs"] - full_epochs(spec, FULL_TRAIN)) < 1e-9)


def budget(rec: RunRecord) -> str:
    """``full recipe: 5 epochs on 60,000 images`` or ``short: 1,000 steps of 100 on 20,000 images``:
    whole epochs for epoch recipes, steps for iteration recipes (and for a fractional epoch)."""
    spec = models.get(rec.config.model)
    epochs = rec.config.epochs
    steps = max(1, round(epochs * -(-rec.n_train // spec.recipe.batch_size)))
    if spec.recipe.iterations is None and float(epochs).is_integer():
        amount = f"{int(epochs)} epoch{'s' if epochs != 1 else ''}"
    else:
        amount = f"{steps:,} steps of {spec.recipe.batch_size}"
    kind = "full recipe: " if _is_full(rec) else "short: "
    if rec.stop:  # stopped early: say so before the budget it was given
        kind = f"stopped ({rec.stop['reason']}) at step {rec.stop['step']} of {kind}"
    return f"{kind}{amount} on {rec.n_train:,} images"


def _label(rec: RunRecord, short: bool) -> str:
    c = rec.config
    prefix = f"{SHORT_DIR}/" if short else ""
    return f"[{c.model} {c.dtype}{', short' if short else ''}]({prefix}{c.dtype}/{c.model}/side_by_side.md)"


def _last(rec: RunRecord) -> pd.DataFrame:
    ep = pd.DataFrame(rec.epochs)
    return ep[ep["epoch"] == ep["epoch"].max()].set_index("impl") if not ep.empty else ep


def _points(a: float, b: float) -> str:
    return f"{100 * (a - b):+.2f}"


def accuracy_table(records: list[RunRecord], shorts: set[int] = frozenset()) -> pd.DataFrame:
    """Test accuracy per implementation and, per framework, the difference (points) from the scratch
    run in its own form and from the textbook scratch run."""
    rows = []
    for i, rec in enumerate(records):
        last = _last(rec)
        row = {"run": _label(rec, i in shorts), "budget": budget(rec)}
        acc = last["test_acc"] if "test_acc" in last else pd.Series(dtype=float)
        if "scratch" in acc:
            row["scratch"] = f"{acc['scratch']:.4f}"
        for fw, name in FRAMEWORKS.items():
            if fw not in acc:
                continue
            form = rec.baseline(fw)
            row[f"scratch, {name}'s form"] = f"{acc[form]:.4f}"
            row[name] = f"{acc[fw]:.4f}"
            row[f"{name} - scratch, {name}'s form (points)"] = _points(acc[fw], acc[form])
            row[f"{name} - scratch (points)"] = _points(acc[fw], acc["scratch"])
        rows.append(row)
    return _drop_empty(pd.DataFrame(rows))


def agreement_table(records: list[RunRecord], shorts: set[int] = frozenset()) -> pd.DataFrame:
    """Final training loss per implementation and the largest relative step-loss difference of each
    framework from its same-form scratch run, in the first epoch and over the run."""
    rows = []
    for i, rec in enumerate(records):
        last, div = _last(rec), divergence(rec)
        row = {"run": _label(rec, i in shorts)}
        for impl in ("scratch", *FRAMEWORKS):
            if "train_loss" in last and impl in last.index:
                row[f"train loss {FRAMEWORKS.get(impl, impl)}"] = f"{last.loc[impl, 'train_loss']:.4f}"
        for fw, name in FRAMEWORKS.items():
            col = f"rel_diff_{fw}"
            if col in div:
                row[f"{name} step loss vs same-form scratch, epoch 1"] = f"{div.loc[div['epoch'] == 0, col].max():.1e}"
                row[f"{name} step loss vs same-form scratch, whole run"] = f"{div[col].max():.1e}"
        rows.append(row)
    return _drop_empty(pd.DataFrame(rows))


def running_mean_loss(rec: RunRecord, impl: str) -> float:
    """Mean of the pre-update batch losses over the last epoch: the figure Keras's ``fit`` prints."""
    steps = pd.DataFrame(rec.steps)
    last = steps[steps["epoch"] == steps["epoch"].max()]
    return float(last[f"loss_{impl}"].mean())


def published_table(records: list[RunRecord], shorts: set[int] = frozenset()) -> pd.DataFrame:
    """Runs whose recipe has published figures: those figures beside ours from the implementation the
    source used (Keras or NumPy: scratch), evaluated after the last epoch and as ``fit``'s running
    mean of the batch losses over the last epoch."""
    rows = []
    for i, rec in enumerate(records):
        spec = models.get(rec.config.model)
        last = _last(rec)
        impl = "keras" if spec.reference.startswith("Keras") else "scratch"
        if not spec.reference or last.empty or impl not in last.index:
            continue
        rows.append({"run": _label(rec, i in shorts), "published": spec.reference,
                     "ours from": FRAMEWORKS.get(impl, impl),
                     "train acc, after the last epoch": f"{last.loc[impl, 'train_acc']:.4f}",
                     "train loss, after the last epoch": f"{last.loc[impl, 'train_loss']:.4f}",
                     "train loss, running mean over the last epoch (fit's figure)":
                         f"{running_mean_loss(rec, impl):.4f}",
                     "test acc": f"{last.loc[impl, 'test_acc']:.4f}"})
    return _drop_empty(pd.DataFrame(rows))


def convention_notes(records: list[RunRecord], shorts: set[int] = frozenset()) -> list[str]:
    """One sentence per run where an optimizer convention changes the result, with its measured cost."""
    notes = []
    for i, rec in enumerate(records):
        last = _last(rec)
        for fw, name in FRAMEWORKS.items():
            form = rec.baseline(fw)
            if form == "scratch" or last.empty or fw not in last.index:
                continue
            acc = last["test_acc"]
            what = CONVENTIONS.get((models.get(rec.config.model).recipe.optimizer, fw), f"{name}'s optimizer form")
            notes.append(
                f"{_label(rec, i in shorts)} ({budget(rec)}): {what}. The textbook's update reaches test accuracy "
                f"{acc['scratch']:.4f}, {name}'s form {acc[form]:.4f}: porting costs "
                f"{_points(acc[form], acc['scratch'])} points. {name} follows its own form to "
                f"{_points(acc[fw], acc[form])} points." + (FLOAT32_NOTE if rec.config.dtype == "float32" else ""))
    return notes


def published_notes(records: list[RunRecord]) -> list[str]:
    """What the published figures are and where ours part from them."""
    notes = []
    for rec in records:
        last = _last(rec)
        if rec.config.model == "mlp4x32" and "keras" in last.index and _is_full(rec):
            notes.append(
                f"mlp4x32 {rec.config.dtype}: the published Keras figures (loss 0.1801, accuracy 0.9474) are what "
                "`fit` prints, the running mean over epoch 5 of the batch figures taken while the weights change. "
                f"The same running mean of our Keras run's batch losses is {running_mean_loss(rec, 'keras'):.4f}; "
                f"evaluated after the epoch on all 60,000 images the loss is {last.loc['keras', 'train_loss']:.4f} "
                f"and the accuracy {last.loc['keras', 'train_acc']:.4f}. The batch accuracies are not recorded, so "
                "the running-mean accuracy is not shown; the published run used its own initial weights and batches. "
                f"Our Keras test accuracy ({last.loc['keras', 'test_acc']:.4f}) is another figure (the test set) that "
                "happens to be close to the published train accuracy.")
        if rec.config.model == "simple_convnet" and _is_full(rec):
            notes.append(
                f"simple_convnet {rec.config.dtype}: the published NumPy run (test 0.9860, train 0.9972) used its own "
                "initial weights and batch order, so it is a plausibility check, not a lock-step partner: our "
                f"test accuracy {last.loc['scratch', 'test_acc']:.4f} is within "
                f"{abs(100 * (last.loc['scratch', 'test_acc'] - 0.9860)):.2f} points of it; our train "
                f"accuracy {last.loc['scratch', 'train_acc']:.4f} is "
                f"{_points(last.loc['scratch', 'train_acc'], 0.9972)} points from the published one, a gap no "
                "known convention explains (the source does not say on how many training images it measured).")
    return notes


def terminal_summary(rec: RunRecord) -> str:
    """What a finished run prints (under 100 columns): final loss and accuracy per implementation,
    then each framework's agreement with its same-form scratch run and its distance from the
    textbook scratch run."""
    last = _last(rec)
    if last.empty:
        return "no epoch finished"
    table = pd.DataFrame({"implementation": last.index,
                          **{m.replace("_", " "): [f"{v:.4f}" for v in last[m]]
                             for m in ("train_loss", "train_acc", "test_loss", "test_acc")}})
    lines = [table.to_string(index=False)]
    div = divergence(rec)
    for fw, name in FRAMEWORKS.items():
        if fw in last.index and f"rel_diff_{fw}" in div:
            points = _points(last.loc[fw, "test_acc"], last.loc["scratch", "test_acc"])
            lines.append(f"{name} vs {rec.baseline(fw)}: max rel. step-loss diff {div[f'rel_diff_{fw}'].max():.1e}; "
                         f"test acc {points} points vs scratch")
    return "\n".join(lines)


def _drop_empty(df: pd.DataFrame) -> pd.DataFrame:
    return df.dropna(axis=1, how="all") if not df.empty else df


def summary_rows(records: list[RunRecord]) -> pd.DataFrame:
    """The accuracy table (kept under this name for callers that want one table per run)."""
    return accuracy_table(records)


def runs_on_disk(out: Path) -> tuple[list[RunRecord], set[int]]:
    """Every run under ``out`` (``out/DTYPE/NAME/run.json``, then the short runs under
    ``out/short/DTYPE/NAME``) in model and dtype order, and the positions of the short ones."""
    found, shorts = [], set()
    for base, short in ((out, False), (out / SHORT_DIR, True)):
        for name in models.MODELS:
            for dtype in ("float64", "float32"):
                if (base / dtype / name / "run.json").exists():
                    if short:
                        shorts.add(len(found))
                    found.append(load_record(base / dtype / name))
    return found, shorts


def write(found: tuple[list[RunRecord], set[int]] | list[RunRecord], out: Path, note: str = "") -> list[Path]:
    """``out/README.md`` and ``.html`` from the runs (as ``runs_on_disk`` returns them)."""
    records, shorts = found if isinstance(found, tuple) else (found, set())
    doc = Document("MNIST lock-step runs", INTRO + ("\n" + note if note else ""))
    doc.add("Test accuracy", "Final test accuracy of each implementation; differences in percentage points, each "
            "column the first named column minus the second.", table=accuracy_table(records, shorts), numparse=False)
    conventions = convention_notes(records, shorts)
    if conventions:
        doc.add("Where a convention changes the result", "\n".join(f"- {n}" for n in conventions))
    doc.add("Training loss and step-by-step agreement", "Training loss after the last epoch (all training images), "
            "and the largest relative difference of each framework's pre-update batch loss from the scratch run in "
            "its own form.", table=agreement_table(records, shorts), numparse=False)
    published = published_table(records, shorts)
    if not published.empty:
        doc.add("Against the published figures", "\n".join(f"- {n}" for n in published_notes(records)),
                table=published, numparse=False)
    return doc.write(out / "README")
