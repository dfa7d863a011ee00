"""The small-tasks report: decision boundaries, per-step divergence, summary table (Markdown,
HTML, CSV, PNG; every file written atomically)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from comparisons.report import files as io
from comparisons.report.document import Document
from comparisons.studies.mnist.outputs import DRIFT
from comparisons.studies.numgrad.train import figure
from comparisons.studies.small_tasks import tasks as T
from comparisons.studies.small_tasks.impls import predicted_class
from comparisons.studies.small_tasks.train import FRAMEWORKS, IMPLS, TaskRun, run_all
from reference import frameworks

#: float64 step losses of a framework must agree with scratch to this relative difference (the
#: criterion of the MNIST lock-step runs); measured: about 1e-14 at worst.
CRITERION = DRIFT["float64"]  # the lock-step criterion of the MNIST runs
GRID = 150  # decision-boundary grid points per axis
REGION_COLORS = ("#c6dbef", "#fdd0a2", "#c7e9c0")  # light: predicted class regions
POINT_COLORS = ("#08519c", "#a63603", "#006d2c")  # dark: the data points' true classes
LINE_COLORS = {"keras": "#d62728", "torch": "#ff7f0e"}
ZERO_FLOOR = 1e-18  # where an exact zero difference is drawn on the log axis
TITLES = {"scratch": "scratch", "keras": "Keras", "torch": "PyTorch"}


def grid(x: np.ndarray, n: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """Mesh (n, n) x 2 covering the points ``x`` (N, 2) with a margin of 0.5."""
    lo, hi = x.min(axis=0) - 0.5, x.max(axis=0) + 0.5
    return np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))


def plot_boundaries(runs: list[TaskRun], path: Path) -> Path:
    """One task: a row of three panels (scratch, Keras, PyTorch) per dtype, predicted class regions
    on a grid and the training points coloured by their true class."""
    fig, axes = figure(len(runs), len(IMPLS), (11, 3.4 * len(runs)))
    for run, row in zip(runs, axes, strict=True):
        d = run.data
        gx, gy = grid(d.x_train.astype(np.float64))
        mesh = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(run.dtype)  # (n*n, 2)
        labels = d.labels("train")
        acc = run.final.set_index("implementation")
        for ax, impl in zip(row, IMPLS, strict=True):
            with frameworks.interleaved():
                cls = predicted_class(run.impls[impl].outputs(mesh)).reshape(gx.shape)
            ax.contourf(gx, gy, cls, levels=np.arange(d.n_classes + 1) - 0.5, colors=REGION_COLORS[:d.n_classes])
            for k in range(d.n_classes):
                pts = d.x_train[labels == k]
                ax.scatter(pts[:, 0], pts[:, 1], s=40 if len(d.x_train) < 10 else 9, color=POINT_COLORS[k],
                           edgecolors="white", linewidths=0.4, label=f"class {k}")
            ax.set(title=f"{TITLES[impl]} ({run.dtype}): train acc {acc.loc[impl, 'train_acc']:.3f}, "
                         f"test {acc.loc[impl, 'test_acc']:.3f}", xlabel="x1", ylabel="x2")
            ax.title.set_fontsize(9)
        row[0].legend(fontsize=7, loc="upper right")
    fig.suptitle(f"{runs[0].task.name}: {runs[0].task.description}; predicted classes and training points")
    return io.save_figure(fig, path, dpi=90)


def plot_divergence(runs: list[TaskRun], path: Path) -> Path:
    """One panel per task: |framework step loss - scratch| / |scratch| per step, log scale."""
    ncols = min(3, len(runs))
    nrows = -(-len(runs) // ncols)
    fig, axes = figure(nrows, ncols, (4.2 * ncols, 3.0 * nrows))
    for ax in axes.ravel()[len(runs):]:
        ax.set_visible(False)
    for run, ax in zip(runs, axes.ravel(), strict=False):
        for fw in FRAMEWORKS:
            ax.plot(run.steps["step"], np.maximum(run.steps[f"rel_diff_{fw}"], ZERO_FLOOR), lw=0.9,
                    color=LINE_COLORS[fw], label=TITLES[fw])
        if run.dtype == "float64":
            ax.axhline(CRITERION, color="gray", ls="--", lw=0.8, label=f"criterion {CRITERION:g}")
        ax.set(title=f"{run.task.name} ({run.dtype})", xlabel="step", yscale="log",
               ylabel="rel. diff. of step loss")
        ax.legend(fontsize=7)
    return io.save_figure(fig, path, dpi=90)


def summary(runs: list[TaskRun]) -> pd.DataFrame:
    """One row per task, dtype and implementation (the columns of ``TaskRun.final``)."""
    return pd.concat([r.final for r in runs], ignore_index=True)


def _fmt(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in ("final_step_loss", "train_loss", "test_loss"):
        out[c] = out[c].map("{:.6g}".format)
    for c in ("train_acc", "test_acc"):
        out[c] = out[c].map("{:.3f}".format)
    for c in ("max_step_loss_rel_diff", "max_param_diff"):
        out[c] = out[c].map(lambda v: "" if np.isnan(v) else f"{v:.1e}")
    return out.rename(columns=lambda c: c.replace("_", " "))


def write_report(out: Path, *, dtypes=T.DTYPES, progress: bool = True, tasks=None) -> tuple[list[Path], bool]:
    """Run the tasks (default all) in ``dtypes`` and write the report into ``out``.

    Returns:
        The written paths, and False if a float64 step loss of Keras or PyTorch differs from
        scratch by more than ``CRITERION`` (relative) at any step.
    """
    out = Path(out)
    runs = run_all(tasks, dtypes, progress=progress)
    names = list(dict.fromkeys(r.task.name for r in runs))
    table = summary(runs)
    steps = pd.concat([r.steps.assign(task=r.task.name, dtype=r.dtype) for r in runs], ignore_index=True)
    paths = [io.write_csv(out / "summary.csv", table), io.write_csv(out / "steps.csv", steps, digits=6)]
    f64 = table[(table["dtype"] == "float64") & (table["implementation"] != "scratch")]
    worst64 = float(f64["max_step_loss_rel_diff"].max()) if len(f64) else float("nan")
    ok = not (worst64 > CRITERION)
    doc = Document("Small tasks in lock-step: scratch, Keras and PyTorch", _intro(dtypes, worst64, ok))
    doc.add("Summary", "All tasks, dtypes and implementations ([summary.csv](summary.csv); every step's losses: "
                       "[steps.csv](steps.csv)). Losses and accuracies are evaluated after the last step; max step "
                       "loss rel diff: the worst step of |loss - scratch loss| / |scratch loss|; max param diff: "
                       "the largest |parameter - scratch parameter| after the last step.", table=_fmt(table))
    for dtype in dtypes:
        chosen = [r for r in runs if r.dtype == dtype]
        paths.append(plot_divergence(chosen, out / f"divergence_{dtype}.png"))
        doc.add(f"Divergence per step, {dtype}", "Exact agreement (a difference of 0) is drawn at "
                f"{ZERO_FLOOR:g}." + (f" Dashed: the float64 criterion {CRITERION:g}." if dtype == "float64" else ""),
                image=f"divergence_{dtype}.png")
    for name in names:
        chosen = [r for r in runs if r.task.name == name]
        paths.append(plot_boundaries(chosen, out / f"boundaries_{name}.png"))
        doc.add(f"{name}: {chosen[0].task.description}", chosen[0].task.recipe() + ".",
                image=f"boundaries_{name}.png")
    paths += doc.write(out / "README")
    return paths, ok


def _intro(dtypes, worst64: float, ok: bool) -> str:
    verdict = ("" if np.isnan(worst64) else
               f"\n\nWorst float64 step-loss relative difference over all tasks and both frameworks: {worst64:.1e} "
               f"({'within' if ok else 'FAIL: above'} the criterion {CRITERION:g}).")
    return ("Small tasks that run in seconds, each trained three times in lock-step: in scratch, in Keras 3 "
            "(TensorFlow backend) and in PyTorch, from the same initial weights (drawn by scratch and copied), on "
            "the same batches in the same order, with the same optimizer settings and learning rate at every "
            f"step; dtypes {', '.join(dtypes)}. The logic gates AND, OR, NAND and XOR (2-2-1 sigmoid network, mean "
            "squared error, plain SGD), three Gaussian blobs (2-3-3 tanh network, softmax cross-entropy, SGD with "
            "momentum) and two moons (2-3-2 tanh network, softmax cross-entropy, SGD with Nesterov momentum). The "
            "data are generated in NumPy from fixed seeds (`comparisons/studies/small_tasks/data.py`); the recipes "
            "are in `comparisons/studies/small_tasks/tasks.py`." + verdict)
