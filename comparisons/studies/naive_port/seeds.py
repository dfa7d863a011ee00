"""The naive-port costs over several seeds: each setting's effect with its spread, after every epoch,
and a verdict only where the effect stands out of the run-to-run spread.

For each seed every model runs in lock-step with its exact ports and its naive ones (one setting
left at the framework's default), all from that seed's initial weights and batches. A setting's
effect for one seed is the naive run's test accuracy minus the exact run's of the same framework
(paired: same weights, batches, masks). Over the seeds the page shows its mean and min-max; the
seed spread is the standard deviation of the exact port's test accuracy over the seeds (what the
initial weights and batch order alone move). Verdict: "costs" / "gains" when every seed's effect has
the same sign and the mean exceeds the seed spread, else "within seed spread". The effect after each
epoch shows whether the budget is long enough: "stable" when the mean moved by less than the seed
spread over the last epoch.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from comparisons.report import files as io  # noqa: E402
from comparisons.report.document import Page  # noqa: E402
from comparisons.studies.naive_port.port import BY_KEY  # noqa: E402
from comparisons.studies.trainer.lockstep import RunRecord  # noqa: E402

NAMES = {"keras": "Keras", "torch": "PyTorch"}
#: Default seeds and the per-model budget of the seed study: 3 epochs on the default subsets, so the
#: effect after epochs 2 and 3 shows whether it has settled.
SEEDS = 5
SEED_BUDGET: dict[str, dict] = {
    "mlp4x32": {"epochs": 3, "train_limit": 16_000, "test_limit": 2_000},
    "mlp4x128_bn_dropout": {"epochs": 3, "train_limit": 6_400, "test_limit": 2_000},
    "twolayer": {"epochs": 3, "train_limit": 20_000, "test_limit": 2_000},
    "simple_convnet": {"epochs": 3, "train_limit": 5_000, "test_limit": 1_000},
    "convnet_same_s2": {"epochs": 3, "train_limit": 5_000, "test_limit": 1_000},
    "mlp_ln_leaky": {"epochs": 3, "train_limit": 16_000, "test_limit": 2_000},  # as mlp4x32
    "row_gru": {"epochs": 3, "train_limit": 3_000, "test_limit": 1_000},  # 28 recurrent steps per image
}


def pairs(record: RunRecord) -> list[tuple[str, str, str, str]]:
    """(impl, exact impl it is compared with, setting title, framework) of every naive run."""
    out = []
    for impl in record.impls:
        if ":" in impl and not impl.startswith("control:"):
            fw, key = impl.split(":")
            out.append((impl, fw, BY_KEY[key].title, NAMES[fw]))
        elif impl.startswith("scratch@"):
            fw = impl.split("@")[1]
            out.append((impl, "scratch", "optimizer form no setting matches", NAMES[fw]))
    return out


def effects(record: RunRecord, seed: int) -> pd.DataFrame:
    """Per naive run and epoch: the effect on test accuracy (points) and the exact run's accuracy."""
    ep = pd.DataFrame(record.epochs).set_index(["epoch", "impl"])["test_acc"]
    rows = []
    for impl, ref, setting, fw in pairs(record):
        for epoch in sorted({e for e, _ in ep.index}):
            rows.append({"model": record.config.model, "setting": setting, "framework": fw, "seed": seed,
                         "epoch": int(epoch), "exact test acc": float(ep[(epoch, ref)]),
                         "effect (points)": 100 * float(ep[(epoch, impl)] - ep[(epoch, ref)])})
    return pd.DataFrame(rows)


def aggregate(long: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, setting, framework): the effect over the seeds at the last epoch, its
    min-max, the seed spread, the change over the last epoch and the verdict."""
    rows = []
    for (model, setting, fw), g in long.groupby(["model", "setting", "framework"], sort=False):
        last = int(g["epoch"].max())
        end = g[g["epoch"] == last]["effect (points)"]
        spread = 100 * float(g[g["epoch"] == last]["exact test acc"].std(ddof=1)) if len(end) > 1 else float("nan")
        prev = g[g["epoch"] == last - 1]["effect (points)"]
        moved = abs(end.mean() - prev.mean()) if len(prev) else float("nan")
        same_sign = (end > 0).all() or (end < 0).all()
        verdict = ("costs" if end.mean() < 0 else "gains") if same_sign and abs(end.mean()) > spread else \
            "within seed spread"
        rows.append({"model": model, "setting": setting, "framework": fw, "seeds": len(end),
                     "effect, mean (points)": f"{end.mean():+.2f}", "effect, min": f"{end.min():+.2f}",
                     "effect, max": f"{end.max():+.2f}", "seed spread (points, sd)": f"{spread:.2f}",
                     "mean moved over the last epoch": f"{moved:.2f}",
                     "budget": "stable" if moved < spread else "still moving", "verdict": verdict})
    return pd.DataFrame(rows)


def plot_effects(summary: pd.DataFrame, path: Path) -> Path:
    """Per model: each setting's mean effect with its min-max over the seeds, and the seed spread."""
    models = list(dict.fromkeys(summary["model"]))
    fig, axes = plt.subplots(len(models), 1, figsize=(9, 1.4 + 0.5 * len(summary)), squeeze=False)
    for ax, model in zip(axes[:, 0], models, strict=True):
        sub = summary[summary["model"] == model]
        mean, lo, hi = (sub[c].astype(float).to_numpy() for c in ("effect, mean (points)", "effect, min",
                                                                   "effect, max"))
        y = np.arange(len(sub))
        ax.barh(y, mean, color=["#d62728" if v < 0 else "#2ca02c" for v in mean], alpha=0.7)
        ax.errorbar(mean, y, xerr=[mean - lo, hi - mean], fmt="none", ecolor="k", capsize=3, lw=0.8)
        spread = float(sub["seed spread (points, sd)"].astype(float).iloc[0])
        ax.axvspan(-spread, spread, color="gray", alpha=0.2, label="seed spread (sd of the exact port)")
        ax.set_yticks(y, [f"{s} [{f}]" for s, f in zip(sub["setting"], sub["framework"], strict=True)], fontsize=8)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel("test accuracy, naive - exact (percentage points; bar: mean, whiskers: min-max over seeds)")
        ax.set_title(model, fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    io.save_figure(fig, path, dpi=100)
    plt.close(fig)
    return path


def plot_epochs(long: pd.DataFrame, path: Path) -> Path:
    """Per model: each setting's mean effect after every epoch (is the budget long enough?)."""
    models = list(dict.fromkeys(long["model"]))
    fig, axes = plt.subplots(1, len(models), figsize=(4 * len(models), 3.4), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        sub = long[long["model"] == model]
        for (setting, fw), g in sub.groupby(["setting", "framework"], sort=False):
            m = g.groupby("epoch")["effect (points)"].mean()
            ax.plot(m.index, m.values, "-o", ms=3, lw=1, label=f"{setting} [{fw}]")
        ax.axhline(0, color="k", lw=0.6)
        ax.set(title=model, xlabel="epoch", ylabel="mean effect on test accuracy (points)")
        ax.title.set_fontsize(9)
        ax.legend(fontsize=5)
    fig.tight_layout()
    io.save_figure(fig, path, dpi=100)
    plt.close(fig)
    return path


def write_page(long: pd.DataFrame, budget: pd.DataFrame, out: Path, intro: str) -> list[Path]:
    """``naive_port.{md,html,csv}`` (the CSV: every seed and epoch), ``naive_port.png``,
    ``naive_port_epochs.png``."""
    summary = aggregate(long)
    page = Page("What a naive port costs")
    page.text(intro)
    page.heading("Budget")
    page.text("float64; each model's budget, the same for every seed (seeds "
              f"{', '.join(str(s) for s in sorted(long['seed'].unique()))}). The effect after each epoch "
              "is in the second plot and in naive_port.csv.")
    page.table(budget)
    page.heading("Effect of each setting")
    page.text(__doc__.split("\n\n", 1)[1])
    page.table(summary)
    page.image("naive_port.png", "test accuracy effect per setting, mean and min-max over seeds")
    page.heading("Is the budget long enough")
    page.image("naive_port_epochs.png", "mean effect after every epoch")
    stored = long.assign(**{"exact test acc": long["exact test acc"].round(4),
                            "effect (points)": long["effect (points)"].round(2)})
    return [io.write_text(out / "naive_port.md", page.markdown()), io.write_text(out / "naive_port.html", page.html()),
            io.write_text(out / "naive_port.csv", stored.to_csv(index=False)),
            plot_effects(summary, out / "naive_port.png"), plot_epochs(long, out / "naive_port_epochs.png")]
