"""Run the naive-port comparison for every model and write ``reports/naive_port.{md,html,csv}`` with
two plots (``comparisons/studies/naive_port/port.py`` has the settings and how each naive port is built)."""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from comparisons.paths import add_out_argument, output_root
from comparisons.report import files as io  # noqa: E402
from comparisons.report.document import Page  # noqa: E402
from comparisons.studies.mnist import optim  # noqa: E402
from comparisons.studies.mnist.runner import build_impls, load  # noqa: E402
from comparisons.studies.naive_port.port import BY_KEY, LOSS_GAP, SPECS, VARIANT, naive_impls, run_config  # noqa: E402
from comparisons.studies.naive_port.seeds import SEED_BUDGET, SEEDS, effects, write_page  # noqa: E402
from comparisons.studies.trainer.lockstep import RunRecord, run  # noqa: E402
from reference import frameworks  # noqa: E402

NAMES = {"keras": "Keras", "torch": "PyTorch"}

INTRO = f"""\
Which framework difference matters, and how much? Each MNIST model spec is trained in lock-step
(same initial weights, same batches, same dropout masks and learning rates, float64) as the exact
Keras and PyTorch ports and, one setting at a time, as a "naive port" that leaves that setting at
the framework's default instead of converting it. A naive run is compared with the exact run of the
same framework, so each row isolates one setting; an exact run is compared with scratch (with
scratch in the framework's own optimizer form where no setting can match it, and that form's own
cost is a row of its own). Columns: the naive run's final test accuracy, its difference from the
exact run in percentage points and in test loss, and the first step whose pre-update batch loss
differs by more than {LOSS_GAP:g} (absolute). Differences of a few tenths of a point are within
the budget's noise: each model's `control` row is scratch started from another seed's weights (the
spec's own law), so a naive row whose difference is no larger than the control's is within the noise
of a short run (the Keras `init` row of `mlp4x32`, whose spec already uses Keras's default law, is a
second such control). `--full` trains longer, where early-training effects fade. No spec has a 'same',
stride-2 conv, so that setting runs on `convnet_same_s2`, a SimpleConvNet variant made for it; no spec has a
LayerNorm or a LeakyReLU, so their defaults (Keras epsilon 1e-3 vs PyTorch 1e-5, slope 0.3 vs 0.01) run on
`mlp_ln_leaky`, an MLP variant with Keras's defaults.
Regenerate with `python -m comparisons naive-port` (also part of `make report`).
"""


def run_model(name: str, *, full: bool = False, progress: bool = False, budget: dict | None = None,
              keys=None, mnist_dir=None, cache_dir=None, seed: int = 0) -> tuple[RunRecord, list[dict]]:
    """One lock-step run of model ``name`` with its exact ports and every applicable naive one."""
    spec = SPECS[name]
    config = run_config(name, full=full, progress=progress, budget=budget, seed=seed)
    data = load(spec, config, mnist_dir=mnist_dir, cache_dir=cache_dir)
    impls = build_impls(spec, config)
    naive, skipped = naive_impls(spec, config, ("same-padding",) if name == VARIANT.name else keys)
    impls.update(naive)
    with frameworks.interleaved():
        record = run(config, spec, data, impls, optim.lr_function(spec, len(data[0][0])))
    return record, skipped


def _first_gap(steps: pd.DataFrame, a: str, b: str) -> tuple[object, float]:
    gap = (steps[f"loss_{a}"] - steps[f"loss_{b}"]).abs()
    over = steps.loc[gap > LOSS_GAP, "step"]
    return (int(over.iloc[0]) if len(over) else "none"), float(gap.max())


def rows(record: RunRecord, skipped: list[dict]) -> list[dict]:
    """One row per compared implementation (and per setting that does not apply, ``impl`` empty)."""
    model = record.config.model
    steps, ep = pd.DataFrame(record.steps), pd.DataFrame(record.epochs)
    last = ep[ep["epoch"] == ep["epoch"].max()].set_index("impl")
    out = []
    for impl in record.impls:
        if impl == "scratch":
            continue
        if impl == "control:reseed":
            fw, ref, setting, change = "scratch", "scratch", "control: another seed", "initial weights from seed + 1"
        elif impl.startswith("scratch@"):
            fw, ref = impl.split("@")[1], "scratch"
            setting, change = "optimizer form no setting matches", "the framework's own epsilon placement"
        elif ":" in impl:
            fw, key = impl.split(":")
            ref, s = fw, BY_KEY[key]
            setting, change = s.title, f"{s.exact} -> {s.naive}"
        else:
            fw, ref = impl, record.baseline(impl)
            setting, change = "none (exact port)", ""
        first, worst = _first_gap(steps, impl, ref)
        out.append({"model": model, "setting changed": setting, "framework": NAMES.get(fw, fw), "change": change,
                    "compared with": ref, "test acc": float(last.loc[impl, "test_acc"]),
                    "reference test acc": float(last.loc[ref, "test_acc"]),
                    "acc delta (pp)": 100 * float(last.loc[impl, "test_acc"] - last.loc[ref, "test_acc"]),
                    "test loss delta": float(last.loc[impl, "test_loss"] - last.loc[ref, "test_loss"]),
                    "first step |loss delta| > 1e-6": first, "max |step loss delta|": worst, "impl": impl})
    for s in skipped:
        out.append({"model": model, "setting changed": BY_KEY[s["setting"]].title, "framework": NAMES[s["framework"]],
                    "change": f"not applicable: {s['reason']}", "impl": ""})
    return out


def table(all_rows: list[dict]) -> pd.DataFrame:
    """The measured rows, formatted."""
    df = pd.DataFrame(all_rows)
    df = df[df["impl"] != ""]
    shown = df.drop(columns=["impl"]).copy()
    fmt = {"test acc": "{:.4f}", "reference test acc": "{:.4f}", "acc delta (pp)": "{:+.2f}",
           "test loss delta": "{:+.2e}", "max |step loss delta|": "{:.1e}"}
    for col, f in fmt.items():
        shown[col] = [f.format(v) for v in df[col]]
    shown["first step |loss delta| > 1e-6"] = df["first step |loss delta| > 1e-6"].astype(str)
    control = df[df["impl"] == "control:reseed"].set_index("model")["acc delta (pp)"].abs()
    beyond = [("" if impl == "control:reseed" or not (":" in impl or "@" in impl) else
               "yes" if abs(d) > control.get(m, float("inf")) else "no")
              for m, impl, d in zip(df["model"], df["impl"], df["acc delta (pp)"], strict=True)]
    shown["|acc delta| beyond control"] = beyond
    return shown


def not_applicable(all_rows: list[dict]) -> pd.DataFrame:
    """Settings that do not occur in a model, frameworks with the same reason merged."""
    df = pd.DataFrame(all_rows)
    df = df[df["impl"] == ""]
    merged = (df.groupby(["model", "setting changed", "change"], sort=False)["framework"]
              .agg(lambda f: ", ".join(f)).reset_index())
    merged["reason"] = merged["change"].str.removeprefix("not applicable: ")
    return merged[["model", "setting changed", "framework", "reason"]]


def plot_deltas(df: pd.DataFrame, path: Path) -> None:
    models = list(dict.fromkeys(df["model"]))
    naive = df[df["impl"].str.contains(":|@", regex=True)]
    fig, axes = plt.subplots(len(models), 1, figsize=(9, 1.2 + 0.45 * max(len(naive), 1)), squeeze=False)
    for ax, model in zip(axes[:, 0], models, strict=True):
        sub = naive[naive["model"] == model]
        labels = [f"{s} [{f}]" for s, f in zip(sub["setting changed"], sub["framework"], strict=True)]
        ax.barh(labels, sub["acc delta (pp)"], color=["#d62728" if v < 0 else "#2ca02c" for v in sub["acc delta (pp)"]])
        ax.axvline(0, color="k", lw=0.8)
        ax.set_title(f"{model}: test accuracy, naive - exact (percentage points)", fontsize=9)
        ax.set_xlabel("test accuracy, naive - exact (percentage points)")
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    io.save_figure(fig, path, dpi=100)
    plt.close(fig)


def plot_steps(records: list[RunRecord], path: Path) -> None:
    fig, axes = plt.subplots(len(records), 1, figsize=(9, 2.4 * len(records)), squeeze=False)
    for ax, rec in zip(axes[:, 0], records, strict=True):
        steps = pd.DataFrame(rec.steps)
        for impl in rec.impls:
            if ":" in impl:
                ref = "scratch" if impl.startswith("control:") else impl.split(":")[0]
                gap = (steps[f"loss_{impl}"] - steps[f"loss_{ref}"]).abs().clip(lower=1e-17)
                ax.semilogy(steps["step"], gap, lw=0.8, label=impl)
        ax.axhline(LOSS_GAP, color="k", lw=0.6, ls="--")
        ax.set_title(f"{rec.config.model}: |pre-update batch loss, naive - exact| per step", fontsize=9)
        ax.set(xlabel="step", ylabel="|loss naive - loss exact|")
        ax.legend(fontsize=6, ncol=3)
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    io.save_figure(fig, path, dpi=100)
    plt.close(fig)


def write(out: Path, *, full: bool = False, progress: bool = True, models=None,
          budgets: dict | None = None) -> list[Path]:
    """Run every model (or ``models``) and write the table, CSV and plots into ``out``
    (``budgets``: model -> RunConfig fields, replacing the default budget)."""
    records, all_rows = [], []
    for name in models or SPECS:
        record, skipped = run_model(name, full=full, progress=progress, budget=(budgets or {}).get(name))
        records.append(record)
        all_rows += rows(record, skipped)
    df = pd.DataFrame(all_rows)
    page = Page("What a naive port costs")
    page.text(INTRO)
    budget = pd.DataFrame([{"model": r.config.model, "epochs": r.config.epochs, "training images": r.config.train_limit,
                            "test images": r.config.test_limit, "steps": len(r.steps),
                            "implementations": len(r.impls)} for r in records])
    page.heading("Budget")
    page.text(("Full budget (`--full`)." if full else "Default budget (`make report`); `--full` trains 3 epochs on "
               "all 60,000 images.") + " float64, seed 0.")
    page.table(budget)
    page.heading("Effect of each setting")
    page.table(table(all_rows))
    page.image("naive_port.png", "test accuracy difference per naive setting")
    page.heading("Settings that do not occur")
    page.table(not_applicable(all_rows))
    page.heading("When the runs part")
    page.text("Per step, the pre-update batch loss of each naive run minus that of the exact run of its framework "
              f"(the dashed line is {LOSS_GAP:g}). Settings that touch only the running statistics (BatchNorm "
              "momentum) never part in training: they change evaluation only.")
    page.image("naive_port_steps.png", "per-step loss difference of each naive run")
    plot_deltas(df, out / "naive_port.png")
    plot_steps(records, out / "naive_port_steps.png")
    return [io.write_text(out / "naive_port.md", page.markdown()), io.write_text(out / "naive_port.html", page.html()),
            io.write_csv(out / "naive_port.csv", df), out / "naive_port.png",
            out / "naive_port_steps.png"]


SEEDS_INTRO = """\
Which framework difference matters, and how much? Each MNIST model spec is trained in lock-step
(same initial weights, same batches, same dropout masks and learning rates, float64) as the exact
Keras and PyTorch ports and, one setting at a time, as a "naive port" that leaves that setting at
the framework's default instead of converting it; the whole comparison is repeated for several
seeds (initial weights, batch order, masks). No spec has a 'same', stride-2 conv, so that setting
runs on `convnet_same_s2`, a SimpleConvNet variant made for it. Regenerate with
`python -m comparisons naive-port --out reports` (also part of `make report`).
"""


def write_seeds(out: Path, *, seeds: int = SEEDS, progress: bool = True, models=None,
                budgets: dict | None = None) -> list[Path]:
    """Every model (or ``models``) for seeds 0 .. seeds-1 on ``SEED_BUDGET`` (or ``budgets``); the
    page of ``seeds.write_page``."""
    long, budget_rows = [], []
    for name in models or SPECS:
        b = (budgets or SEED_BUDGET)[name]
        for seed in range(seeds):
            record, _ = run_model(name, progress=progress, budget=b, seed=seed)
            long.append(effects(record, seed))
        budget_rows.append({"model": name, "epochs": record.config.epochs, "training images": record.n_train,
                            "test images": record.n_test, "steps per seed": len(record.steps), "seeds": seeds})
    return write_page(pd.concat(long, ignore_index=True), pd.DataFrame(budget_rows), out, SEEDS_INTRO)


def naive_port_job(out: Path, progress: bool, full: bool) -> bool:
    """``make report`` job: the seed study (``full``: the single-seed run on the full budget)."""
    paths = write(out, full=True, progress=progress) if full else write_seeds(out, progress=progress)
    for p in paths:
        print(f"wrote {p}")
    return True


def cmd_naive_port(args) -> int:
    out = output_root(args)
    if args.seeds == 1 or args.full:
        paths = write(out, full=args.full, progress=not args.quiet, models=args.model)
    else:
        paths = write_seeds(out, seeds=args.seeds, progress=not args.quiet, models=args.model)
    for p in paths:
        print(f"wrote {p}")
    return 0


def add_commands(sub) -> None:
    """Register ``naive-port`` on the ``python -m comparisons`` subparsers."""
    lines = "\n".join(f"  {name:<22}{b['train_limit']:>6,} images, {b['epochs']} epochs per seed"
                      for name, b in SEED_BUDGET.items())
    p = sub.add_parser(
        "naive-port", help="what a naive port costs: exact vs framework defaults, one setting at a time",
        description="Train each MNIST model in lock-step as the exact Keras and PyTorch ports and as naive ports "
                    "that leave one setting at the framework's default (BatchNorm momentum and epsilon, optimizer "
                    "epsilon, initializers, Flatten order after a conv, 'same' stride-2 padding), for several "
                    "seeds; write OUT/naive_port.{md,html,csv} and two plots.",
        epilog=f"budgets of the seed study (float64; --seeds 1: the one-epoch budget; --full: one seed, 3 epochs "
               f"on 60,000 images):\n{lines}\n\nOne seed of the seed study takes about as long as three runs of "
               "--seeds 1 (1.5 to 2.5 minutes each on 2 idle cores).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", nargs="+", choices=list(SPECS), metavar="NAME",
                   help="only these models (default all; the report then covers only them)")
    p.add_argument("--seeds", type=int, default=SEEDS, metavar="N",
                   help=f"repeat for seeds 0..N-1 and report each effect's spread (default {SEEDS}; 1: the "
                        "single-seed run with per-step plots on the short budget)")
    p.add_argument("--full", action="store_true", help="one seed, 3 epochs on all training images (much longer)")
    add_out_argument(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_naive_port)
