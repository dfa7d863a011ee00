"""reports/variance/: do scratch, Keras and PyTorch train to different float32 accuracies, or to
different samples of the same distribution? Rebuilt from the run folders on disk.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from comparisons.report import files as io  # noqa: E402
from comparisons.report.document import Document  # noqa: E402
from comparisons.studies.variance import stats  # noqa: E402

COLORS = {"scratch": "#1f77b4", "keras": "#d62728", "torch": "#ff7f0e"}
COMMAND = "python -m comparisons matrix --study variance"

INTRO = f"""\
Each seed fixes the initial weights (drawn by scratch, copied into Keras and PyTorch), the order of
the batches and the learning rates; the three implementations then train in lock-step
(`{COMMAND}`, one `python -m comparisons mnist` run per model and seed, run as Dask tasks).
In float32 a ReLU network's runs part once a rounding difference flips one ReLU decision, so one
seed cannot tell whether the frameworks train to different accuracies or to different samples of
one distribution. Here the seed varies: the spread across seeds is the yardstick, and the
implementations are compared within each seed (paired), since a seed shares everything but the
arithmetic. mlp4x32 (ReLU, SGD) is the network that parts; the sigmoid TwoLayerNet, which has no
kink, is the control that stays in lock-step. Published work measured accuracy differences of up
to 10.8% between identical training runs (weak models excluded) and up to 2.9% from
implementation-level factors alone (Pham et al., ASE 2020, doi:10.1145/3324884.3416545); here the
three implementations share everything but the arithmetic.

Final figures are after the whole recipe (mlp4x32: SGD lr 0.01, batch 32, 5 epochs; twolayer: SGD
lr 0.1, batch 100, 10,000 iterations), on the full 60,000 training and 10,000 test images.
Accuracies are in percentage points. Tests: Wilcoxon's signed-rank (exact for few seeds, no
normality assumed) and the paired t-test on d = A - B per seed; effect sizes Cohen's d_z =
mean(d) / SD(d) and mean(d) / between-seed SD, the implementation effect in units of what the seed
does; p-values also Holm-adjusted over the twelve tests. Per-run pages: `runs/` (seed 0 in
`runs/float32/MODEL/`, seed S in `runs/seed-S/float32/MODEL/`; `runs/matrix.md` lists them all).
"""


def _points(v: float) -> str:
    return f"{100 * v:+.3f}" if np.isfinite(v) else ""


def _nanmin(values: pd.Series) -> float:
    v = values.to_numpy(dtype=float)
    return float(np.nanmin(v)) if np.isfinite(v).any() else float("nan")


def _p(v: float) -> str:
    return "" if not np.isfinite(v) else (f"{v:.2g}" if v >= 1e-3 else f"{v:.1e}")


def spread_table(sp: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"model": sp["model"], "implementation": sp["impl"], "seeds": sp["seeds"]})
    out["test acc mean (%)"] = (100 * sp["test_acc mean"]).map(lambda v: f"{v:.2f}")
    out["SD across seeds (points)"] = (100 * sp["test_acc SD"]).map(lambda v: f"{v:.3f}")
    out["min-max (%)"] = [f"{100 * a:.2f}-{100 * b:.2f}" for a, b in zip(sp["test_acc min"], sp["test_acc max"],
                                                                        strict=True)]
    out["test loss mean"] = sp["test_loss mean"].map(lambda v: f"{v:.4f}")
    out["test loss SD"] = sp["test_loss SD"].map(lambda v: f"{v:.4f}")
    return out


def tests_table(tests: pd.DataFrame, metric: str) -> pd.DataFrame:
    t = tests[tests["metric"] == metric]
    acc = metric == "test_acc"

    def fmt(v):
        return _points(v) if acc else (f"{v:+.2e}" if np.isfinite(v) else "")

    same = t["seeds with d = 0"] == t["seeds"]

    def pv(col):
        return [("n/a (d = 0)" if z else _p(v)) for v, z in zip(t[col], same, strict=True)]

    return pd.DataFrame({
        "model": t["model"], "pair (A - B)": t["pair"], "seeds": t["seeds"],
        ("mean d (points)" if acc else "mean d"): t["mean d"].map(fmt),
        ("SD d (points)" if acc else "SD d"): t["SD d"].map(lambda v: fmt(v).lstrip("+")),
        "95% CI of mean d": [f"[{fmt(a)}, {fmt(b)}]" for a, b in zip(t["95% CI low"], t["95% CI high"], strict=True)],
        "seeds with d = 0": t["seeds with d = 0"],
        "Wilcoxon p": pv("Wilcoxon p"), "paired t p": pv("paired t p"),
        "Holm (W / t)": [f"{a} / {b}" for a, b in zip(pv("Wilcoxon p (Holm)"), pv("paired t p (Holm)"), strict=True)],
        "d_z": t["d_z"].map(lambda v: f"{v:+.2f}" if np.isfinite(v) else "n/a (d constant)"),
        "mean d / seed SD of B": t["mean d / seed SD"].map(lambda v: f"{v:+.2f}" if np.isfinite(v) else ""),
    })


def answer(df: pd.DataFrame, sp: pd.DataFrame, tests: pd.DataFrame) -> str:
    """The paragraph that answers the title's question, from the numbers."""
    parts = []
    for model in df["model"].unique():
        s = sp[sp["model"] == model].set_index("impl")
        t = tests[(tests["model"] == model) & (tests["metric"] == "test_acc")].set_index("pair")
        tl = tests[(tests["model"] == model) & (tests["metric"] == "test_loss")].set_index("pair")
        n = int(s["seeds"].min())
        lo, hi = 100 * s["test_acc SD"].min(), 100 * s["test_acc SD"].max()
        sd_text = f"{lo:.3f}" if f"{lo:.3f}" == f"{hi:.3f}" else f"{lo:.3f}-{hi:.3f}"
        text = (f"**{model}** ({n} seed{'s' if n != 1 else ''}): the seed moves the final test accuracy by an SD "
                f"of {sd_text} points "
                f"(range {100 * s['test_acc min'].min():.2f}-{100 * s['test_acc max'].max():.2f}%). ")
        if (t["seeds with d = 0"] == n).all():
            text += ("The three implementations reach the same test accuracy in every seed (paired difference 0 in "
                     f"all {n}), and the test losses differ by at most {tl['max |d|'].max():.1e}: the runs stay in "
                     "lock-step, and there is nothing to test.")
        else:
            same = ", ".join(f"{pair} in {int(k)}" for pair, k in t["seeds with d = 0"].items())
            text += f"Same test accuracy in both implementations of a pair: {same} of the {n} seeds. "
            big = t["mean d"].abs().idxmax()
            r = t.loc[big]
            text += (f"The largest mean paired difference is {big}: {_points(r['mean d'])} points (95% CI "
                     f"[{_points(r['95% CI low'])}, {_points(r['95% CI high'])}], SD {100 * r['SD d']:.3f}; the "
                     f"largest single-seed difference of any pair is {100 * t['max |d|'].max():.3f} points), "
                     f"Wilcoxon p = {_p(r['Wilcoxon p'])}, paired t p = {_p(r['paired t p'])}, d_z = "
                     f"{r['d_z']:+.2f}, i.e. {abs(r['mean d / seed SD']):.2f} between-seed SDs. Smallest "
                     f"Holm-adjusted p over the three pairs: Wilcoxon {_p(_nanmin(t['Wilcoxon p (Holm)']))}, paired t "
                     f"{_p(_nanmin(t['paired t p (Holm)']))}; test loss: Wilcoxon "
                     f"{_p(_nanmin(tl['Wilcoxon p (Holm)']))}, paired t {_p(_nanmin(tl['paired t p (Holm)']))}.")
        parts.append(text)
    n_min = int(sp["seeds"].min())
    floor = 2 / 2**n_min  # the smallest two-sided exact Wilcoxon p-value n seeds can give
    if n_min < 2:
        return "\n\n".join([*parts, "**Not answered yet:** one seed has no spread to compare with; run more seeds."])
    power = (f"With {n_min} seeds the smallest two-sided exact Wilcoxon p-value possible is {floor:.2g}"
             + (", so that test cannot reject at the 5% level yet; the paired t-test and the effect sizes carry the "
                "answer until more seeds finish. " if floor >= 0.05 else ". "))
    parts.append(power)
    acc = tests[tests["metric"] == "test_acc"]
    significant = ((acc["Wilcoxon p (Holm)"] < 0.05) | (acc["paired t p (Holm)"] < 0.05)).any()
    raw = acc[(acc["Wilcoxon p"] < 0.05) | (acc["paired t p"] < 0.05)]
    close = (acc["mean d / seed SD"].abs().fillna(0) < 1).all()
    largest = acc["mean d / seed SD"].abs().max()
    if not significant and close and len(raw):
        listed = "; ".join(f"{r['model']} {r['pair']}: {_points(r['mean d'])} points, Wilcoxon p "
                           f"{_p(r['Wilcoxon p'])}, paired t p {_p(r['paired t p'])}" for _, r in raw.iterrows())
        verdict = (f"**Answer: not beyond the seed.** Every mean paired difference is at most {largest:.2f} "
                   f"between-seed SDs. Uncorrected, some pairs fall below p = 0.05 ({listed}), but none survives "
                   f"Holm's adjustment over the {len(tests)} tests: a small systematic difference of that size cannot "
                   "be ruled out with these seeds (more seeds would settle it), and it is far smaller than what the "
                   "seed does. In float32 the three implementations train to samples of (nearly) one distribution.")
    elif not significant and close:
        verdict = ("**Answer: no.** Every implementation differs by less than the seed moves the result, and no "
                   "paired test finds a difference even before correcting for the number of tests: in float32 Keras, "
                   "PyTorch and scratch train to different samples of the same distribution, not to different "
                   "accuracies.")
    elif significant and close:
        verdict = ("**Answer: a difference is detectable but smaller than the seed's effect**: the paired test "
                   "resolves it because each seed shares everything but the arithmetic, yet it is below one "
                   "between-seed SD.")
    else:
        verdict = ("**Answer: yes, beyond the seed**: at least one implementation's mean paired difference exceeds "
                   "the between-seed SD or a paired test rejects equality after Holm's adjustment.")
    return "\n\n".join([*parts, verdict])


def plot(df: pd.DataFrame, model: str, path: Path) -> Path:
    """Strip + box plots: each implementation's final test accuracy and loss across seeds (same seed
    joined by a grey line), and the paired differences per seed."""
    g = df[df["model"] == model]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    rng = np.random.default_rng(0)  # horizontal jitter of the points only
    for row, (metric, label) in enumerate(stats.METRICS.items()):
        scale = 100 if metric == "test_acc" else 1
        unit = " (%)" if metric == "test_acc" else ""
        wide = g.pivot(index="seed", columns="impl", values=metric)[list(stats.IMPLS)] * scale
        ax = axes[row, 0]
        ax.boxplot([wide[i] for i in stats.IMPLS], positions=range(3), widths=0.5, showfliers=False)
        for seed_vals in wide.to_numpy():
            ax.plot(range(3), seed_vals, color="0.75", lw=0.7, zorder=1)
        for k, impl in enumerate(stats.IMPLS):
            ax.scatter(k + rng.uniform(-0.08, 0.08, len(wide)), wide[impl], color=COLORS[impl], s=18, zorder=3)
        ax.set_xticks(range(3), stats.IMPLS)
        ax.set_xlabel("implementation")
        ax.set_ylabel(f"final {label}{unit}")
        ax.set_title(f"{label} per seed (grey lines join one seed)")
        ax.grid(alpha=0.3)
        ax = axes[row, 1]
        diffs = [wide[a] - wide[b] for a, b in stats.PAIRS]
        ax.boxplot(diffs, positions=range(3), widths=0.5, showfliers=False)
        for k, d in enumerate(diffs):
            ax.scatter(k + rng.uniform(-0.08, 0.08, len(d)), d, color="k", s=14, zorder=3)
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_xticks(range(3), [f"{a} - {b}" for a, b in stats.PAIRS])
        ax.set_xlabel("pair, same seed")
        ax.set_ylabel(f"difference in {label}" + (" (points)" if metric == "test_acc" else ""))
        ax.set_title(f"paired differences of the {label}")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{model} float32: {wide.shape[0]} seeds, full recipe")
    fig.tight_layout()
    io.save_figure(fig, path, dpi=100)
    plt.close(fig)
    return path


def _section(doc: Document, title: str, text: str, table: pd.DataFrame) -> None:
    """A section whose table keeps its cells as formatted (signs, trailing zeros)."""
    doc.heading(title)
    if text:
        doc.markdown_block(text)
    doc.table(table)


def write(runs: Path, out: Path) -> list[Path]:
    """Collect every finished run under ``runs`` and write ``out/README.{md,html}``, the CSVs and plots."""
    raw = stats.collect(runs)
    df = stats.complete_seeds(raw)
    doc = Document("Do Keras, PyTorch and scratch differ in float32 beyond what the seed does?", INTRO)
    written = []
    if df.empty:
        doc.add("Status", f"No seed has finished in all three implementations yet: run `{COMMAND}`.")
        return doc.write(out / "README")
    sp, tests, fr = stats.spread(df), stats.paired_tests(df), stats.friedman(df)
    written.append(io.write_text(out / "final.csv", df.sort_values(["model", "seed", "impl"]).to_csv(index=False)))
    written.append(io.write_text(out / "tests.csv", tests.to_csv(index=False)))
    counts = df.groupby("model")["seed"].nunique()
    status = ", ".join(f"{m}: {c} seeds ({', '.join(map(str, sorted(df[df['model'] == m]['seed'].unique())))})"
                       for m, c in counts.items())
    doc.add("Answer", answer(df, sp, tests))
    doc.add("Seeds in this study", f"Finished in all three implementations: {status}. `{COMMAND}` runs the "
            "missing ones and rebuilds this page; `--seeds 0-19` extends the study (finished cells are skipped).")
    _section(doc, "Spread across seeds", "Final test accuracy and loss of each implementation over the seeds.",
             spread_table(sp))
    _section(doc, "Paired differences: test accuracy", "d = accuracy(A) - accuracy(B) in the same seed, in "
             "points.", tests_table(tests, "test_acc"))
    _section(doc, "Paired differences: test loss", "d = loss(A) - loss(B) in the same seed.",
             tests_table(tests, "test_loss"))
    _section(doc, "All three at once", "Friedman's test (seeds as blocks) of the three implementations.",
             fr.assign(**{"Friedman p": fr["Friedman p"].map(_p)}))
    for model in df["model"].unique():
        written.append(plot(df, model, out / f"variance_{model}.png"))
        doc.add(f"Plots: {model}", image=f"variance_{model}.png")
    per_seed = df.pivot_table(index=["model", "seed"], columns="impl", values="test_acc").reset_index()
    per_seed = per_seed[["model", "seed", *stats.IMPLS]]
    for impl in stats.IMPLS:
        per_seed[impl] = (100 * per_seed[impl]).map(lambda v: f"{v:.2f}")
    _section(doc, "Final test accuracy per seed (%)", "", per_seed)
    cost = df.groupby(["model", "seed"])["train_seconds"].sum().groupby("model").agg(["mean", "min", "max"]) / 60
    _section(doc, "Cost", "Training wall time of one cell (the three implementations in lock-step, summed from "
             "each run's `timings.csv`; evaluation and start-up excluded), in minutes. The machine had 2 cores "
             "shared with other work while the study ran, so these are slower than a quiet machine gives.",
             cost.reset_index().rename(columns={"mean": "mean (min)", "min": "fastest (min)", "max": "slowest (min)"})
             .round(1))
    if (out / "scaling.md").exists():
        doc.add("Scaling", "The run matrix on 1 and 2 local workers: [scaling.md](scaling.md).")
    return doc.write(out / "README") + written
