"""Files of one lock-step run: CSVs after every epoch, then tables and plots (all atomic).

Result files hold results only: the wall time of each epoch goes to ``timings.csv``, so two runs
with one seed write byte-identical ``history_*.csv``, ``divergence.csv``, ``param_diff.csv``,
``side_by_side.*`` and ``run.json``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from comparisons.report import files as io  # noqa: E402
from comparisons.report.document import Document  # noqa: E402
from comparisons.studies.trainer.lockstep import RunConfig, RunRecord  # noqa: E402

#: "first step above": float64 runs against the 1e-8 lock-step criterion; float32 runs against
#: 1e-4, about a thousand float32 roundings, past which two runs no longer follow each other.
DRIFT = {"float64": 1e-8, "float32": 1e-4}
COLORS = {"scratch": "#1f77b4", "keras": "#d62728", "torch": "#ff7f0e", "scratch@keras": "#9467bd",
          "scratch@torch": "#2ca02c"}


def divergence(record: RunRecord) -> pd.DataFrame:
    """Per step: lr, each loss, and |loss - scratch loss| / |scratch loss| for keras and torch."""
    df = pd.DataFrame(record.steps)
    if df.empty or "loss_scratch" not in df:
        return df
    for impl in record.impls:
        if not impl.startswith("scratch") and f"loss_{impl}" in df:
            base = df[f"loss_{record.baseline(impl)}"]
            df[f"rel_diff_{impl}"] = (df[f"loss_{impl}"] - base).abs() / base.abs()
    return df


def side_by_side(record: RunRecord) -> pd.DataFrame:
    """One row per epoch: loss and accuracy of each implementation, differences (no timings).

    A run stopped before its first epoch ended gives the header alone (a readable, empty table)."""
    ep = pd.DataFrame(record.epochs)
    if ep.empty:
        metrics = ("train_loss", "train_acc", "test_loss", "test_acc")
        cols = ["epoch"] + [f"{m} {i}" for m in metrics for i in record.impls]
        return pd.DataFrame(columns=cols)
    wide = ep.pivot(index="epoch", columns="impl")
    out = pd.DataFrame(index=wide.index)
    impls = [i for i in record.impls if i in set(ep["impl"])]
    for metric in ("train_loss", "train_acc", "test_loss", "test_acc"):
        for impl in impls:
            out[f"{metric} {impl}"] = wide[(metric, impl)]
        for impl in impls:
            if impl != "scratch":
                out[f"{metric} {impl}-scratch"] = wide[(metric, impl)] - wide[(metric, "scratch")]
    for impl in impls:
        if not impl.startswith("scratch"):
            out[f"max |param - {record.baseline(impl)}| {impl}"] = wide[("max_param_diff", impl)]
    return out.reset_index()


def write_csvs(record: RunRecord, out: Path) -> None:
    """The per-implementation histories, the per-step divergence and ``run.json`` (what was run and
    whether it stopped), written after every epoch; ``load_record`` reads them back."""
    ep = pd.DataFrame(record.epochs)
    done = set(ep["impl"]) if not ep.empty else set()
    for path in out.glob("history_*.csv"):  # an earlier run's files, never read as this run's
        if path.stem.removeprefix("history_") not in done:
            path.unlink()
    results = ep.drop(columns=[c for c in ("seconds",) if c in ep])  # timings go to timings.csv
    for impl in record.impls:
        if impl in done:
            io.write_text(out / f"history_{impl}.csv",
                          results[results["impl"] == impl].drop(columns="impl").to_csv(index=False))
    if "seconds" in ep:
        io.write_text(out / "timings.csv", ep[["epoch", "impl", "seconds"]].to_csv(index=False))
    io.write_text(out / "divergence.csv", divergence(record).to_csv(index=False))
    if record.param_diffs:
        io.write_text(out / "param_diff.csv", pd.DataFrame(record.param_diffs).to_csv(index=False))
    else:
        (out / "param_diff.csv").unlink(missing_ok=True)
    meta = {"config": dataclasses.asdict(record.config), "config_hash": record.config.digest(), "impls": record.impls,
            "stopped": record.stopped, "stop": record.stop, "finished": record.finished, "n_train": record.n_train,
            "n_test": record.n_test}
    io.write_text(out / "run.json", json.dumps(meta, indent=1) + "\n")  # last: the files above are complete


def load_record(run_dir: Path) -> RunRecord:
    """The record of a run written by ``write_csvs`` (``run_dir`` holds ``run.json``)."""
    meta = json.loads((run_dir / "run.json").read_text())
    config = RunConfig(**{**meta["config"], "impls": tuple(meta["config"]["impls"])})
    steps = pd.read_csv(run_dir / "divergence.csv")
    steps = steps[[c for c in steps.columns if not c.startswith("rel_diff_")]]
    epochs = []
    timings = pd.read_csv(run_dir / "timings.csv") if (run_dir / "timings.csv").exists() else None
    for impl in meta["impls"]:
        path = run_dir / f"history_{impl}.csv"
        if path.exists():
            rows = pd.read_csv(path)
            if timings is not None:
                rows = rows.merge(timings[timings["impl"] == impl].drop(columns="impl"), on="epoch", how="left")
            epochs += [{"impl": impl, **row} for row in rows.to_dict("records")]
    diffs = run_dir / "param_diff.csv"
    return RunRecord(config, impls=list(meta["impls"]), steps=steps.to_dict("records"), epochs=epochs,
                     param_diffs=pd.read_csv(diffs).to_dict("records") if diffs.exists() else [],
                     stopped=meta["stopped"], stop=meta.get("stop", {}), n_train=meta["n_train"],
                     n_test=meta["n_test"], finished=meta.get("finished", False))


def _fmt(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if "-scratch" in col or col.startswith("max |"):
            out[col] = out[col].map(lambda v: f"{v:.3e}")
        elif col.startswith(("train_loss", "test_loss")):
            out[col] = out[col].map(lambda v: f"{v:.4f}")
        elif "acc" in col:
            out[col] = out[col].map(lambda v: f"{v:.4f}")
        elif col.startswith("seconds"):
            out[col] = out[col].map(lambda v: f"{v:.2f}")
    return out


def param_table(record: RunRecord) -> pd.DataFrame:
    """Rows: parameters; columns: each framework after the first and the last epoch."""
    df = pd.DataFrame(record.param_diffs)
    epochs = sorted({int(df["epoch"].min()), int(df["epoch"].max())})
    df = df[df["epoch"].isin(epochs)]
    wide = df.pivot_table(index="param", columns=["impl", "epoch"], values="max_abs_diff", sort=False)
    wide.columns = [f"{impl} epoch {epoch}" for impl, epoch in wide.columns]
    return wide.map(lambda v: f"{v:.2e}").reset_index()


def write_all(record: RunRecord, out: Path, title: str, notes: str = "") -> list[Path]:
    """Side-by-side table (md/csv/html), CSVs and the two plots."""
    write_csvs(record, out)
    table = side_by_side(record)
    io.write_text(out / "side_by_side.csv", table.to_csv(index=False))
    div = divergence(record)
    doc = Document(title, notes)
    if record.stopped:
        doc.add("Stopped early", record.stopped)
    doc.add("Learning curves", image="curves.png")
    doc.add("Divergence from scratch per step", "Relative difference of each framework's pre-update batch loss "
            "from scratch's, per step (log scale).", image="divergence.png")
    if not div.empty:
        summary = []
        drift = DRIFT[record.config.dtype]
        for impl in record.impls:
            col = f"rel_diff_{impl}"
            if col in div:
                first = div.index[div[col] > drift]
                summary.append({"implementation": impl, "compared with": record.baseline(impl),
                                "max rel diff of the step loss": f"{div[col].max():.2e}",
                                "epoch 1": f"{div.loc[div['epoch'] == 0, col].max():.2e}",
                                f"first step > {drift:g}": int(div.loc[first[0], "step"]) if len(first) else "none",
                                "steps": len(div)})
        if summary:
            doc.add("Step-loss agreement", table=pd.DataFrame(summary))
    if not table.empty:
        doc.add("Per epoch", table=_fmt(table))
    if record.param_diffs:
        doc.add("Parameter differences", "Largest |parameter - scratch parameter| of each parameter array after the "
                "first and the last epoch, against the scratch run each framework is compared with (every epoch: "
                "param_diff.csv).", table=param_table(record))
    paths = doc.write(out / "side_by_side")
    _plot_curves(record, out / "curves.png")
    _plot_divergence(div, record, out / "divergence.png")
    return paths


def _plot_curves(record: RunRecord, path: Path) -> None:
    ep = pd.DataFrame(record.epochs)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    if not ep.empty:
        for impl, g in ep.groupby("impl", sort=False):
            for metric, ax in (("loss", axes[0]), ("acc", axes[1])):
                ax.plot(g["epoch"], g[f"train_{metric}"], "-o", ms=3, color=COLORS.get(impl), label=f"{impl} train")
                ax.plot(g["epoch"], g[f"test_{metric}"], "--s", ms=3, color=COLORS.get(impl), label=f"{impl} test",
                        alpha=0.7)
    for ax, label in zip(axes, ("loss", "accuracy"), strict=True):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if not ep.empty:  # a run stopped in its first epoch has no curve
            ax.legend(fontsize=7)
    fig.suptitle(f"{record.config.model} ({record.config.dtype})")
    fig.tight_layout()
    io.save_figure(fig, path, dpi=110)
    plt.close(fig)


def _plot_divergence(div: pd.DataFrame, record: RunRecord, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4))
    for impl in record.impls:
        col = f"rel_diff_{impl}"
        if col in div:
            floor = np.finfo(record.config.dtype).eps / 10  # zero differences drawn at the floor of the log axis
            ax.semilogy(div["step"], div[col].clip(lower=floor), lw=0.8, color=COLORS.get(impl), label=impl)
    ax.set_xlabel("step")
    ax.set_ylabel("|loss - scratch loss| / |scratch loss| (same-form scratch)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    ax.set_title(f"{record.config.model} ({record.config.dtype}): divergence from scratch")
    fig.tight_layout()
    io.save_figure(fig, path, dpi=110)
    plt.close(fig)
