"""The numbers of the variance study: final figures of every finished run on disk, the spread across
seeds, and the differences between implementations paired by seed with their tests.

Each seed gives the three implementations the same initial weights, batches and learning rates, so
the implementation effect is measured within a seed (paired): ``d_s = metric(impl A, seed s) -
metric(impl B, seed s)``. Tests: Wilcoxon's signed-rank test (no normality assumed) and the paired
t-test; effect sizes: Cohen's d_z = mean(d) / SD(d) and mean(d) / (between-seed SD of B), the
implementation effect in units of what the seed does. p-values are also given Holm-adjusted over
every test of the table (two models x three pairs x two metrics).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

IMPLS = ("scratch", "keras", "torch")
PAIRS = (("keras", "scratch"), ("torch", "scratch"), ("torch", "keras"))
METRICS = {"test_acc": "test accuracy", "test_loss": "test loss"}


def collect(runs: Path) -> pd.DataFrame:
    """One row per finished run and implementation: model, dtype, seed, impl, final train/test figures.

    Reads ``runs/DTYPE/MODEL`` (seed 0) and ``runs/seed-S/DTYPE/MODEL``; a run whose ``run.json``
    does not say ``finished`` is left out.
    """
    rows = []
    paths = sorted([*Path(runs).glob("*/*/run.json"), *Path(runs).glob("seed-*/*/*/run.json")])
    for path in paths:
        meta = json.loads(path.read_text())
        if not meta.get("finished") or meta.get("stop"):
            continue
        config = meta["config"]
        timings = path.parent / "timings.csv"
        seconds = pd.read_csv(timings).groupby("impl")["seconds"].sum() if timings.exists() else pd.Series(dtype=float)
        for impl in meta["impls"]:
            hist = path.parent / f"history_{impl}.csv"
            if not hist.exists():
                continue
            last = pd.read_csv(hist).iloc[-1]
            rows.append({"model": config["model"], "dtype": config["dtype"], "seed": int(config["seed"]),
                         "impl": impl, "epochs": float(config["epochs"]), "n_train": meta["n_train"],
                         **{k: float(last[k]) for k in ("train_loss", "train_acc", "test_loss", "test_acc")},
                         "train_seconds": float(seconds.get(impl, float("nan")))})
    return pd.DataFrame(rows)


def complete_seeds(df: pd.DataFrame) -> pd.DataFrame:
    """Only the (model, dtype, seed) groups where every implementation finished (pairs need all)."""
    if df.empty:
        return df
    full = df.groupby(["model", "dtype", "seed"])["impl"].transform(lambda s: set(IMPLS) <= set(s))
    return df[full.astype(bool) & df["impl"].isin(IMPLS)].reset_index(drop=True)


def spread(df: pd.DataFrame) -> pd.DataFrame:
    """Per model, dtype and implementation: n seeds, mean, SD across seeds, min, max of each metric."""
    rows = []
    for (model, dtype, impl), g in df.groupby(["model", "dtype", "impl"], sort=False):
        row = {"model": model, "dtype": dtype, "impl": impl, "seeds": len(g)}
        for m in METRICS:
            row |= {f"{m} mean": g[m].mean(), f"{m} SD": g[m].std(ddof=1) if len(g) > 1 else float("nan"),
                    f"{m} min": g[m].min(), f"{m} max": g[m].max()}
        rows.append(row)
    return pd.DataFrame(rows)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment (NaN entries kept NaN)."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    vals = p[ok]
    order = np.argsort(vals)
    m = len(vals)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * vals[i]))
        adjusted[i] = running
    out[ok] = adjusted
    return out


def paired_tests(df: pd.DataFrame) -> pd.DataFrame:
    """Per model, dtype, metric and pair (A, B): mean, SD, 95% CI and largest |d| of d = A - B over
    seeds; Wilcoxon and paired-t p-values (raw and Holm-adjusted); d_z; mean(d) / seed SD of B."""
    from scipy import stats

    rows = []
    for (model, dtype), g in df.groupby(["model", "dtype"], sort=False):
        for metric in METRICS:
            wide = g.pivot(index="seed", columns="impl", values=metric)
            for a, b in PAIRS:
                d = (wide[a] - wide[b]).to_numpy()
                n = len(d)
                mean, sd = float(d.mean()), float(d.std(ddof=1)) if n > 1 else float("nan")
                seed_sd = float(wide[b].std(ddof=1)) if n > 1 else float("nan")
                half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)) if n > 1 and sd > 0 else 0.0
                if np.all(d == 0):  # the same figure in every seed: nothing to test
                    p_w = p_t = float("nan")
                else:
                    p_w = float(stats.wilcoxon(d, zero_method="wilcox").pvalue) if np.count_nonzero(d) else 1.0
                    p_t = float(stats.ttest_rel(wide[a], wide[b]).pvalue) if sd > 0 else float("nan")
                rows.append({"model": model, "dtype": dtype, "metric": metric, "pair": f"{a} - {b}", "seeds": n,
                             "mean d": mean, "SD d": sd, "95% CI low": mean - half, "95% CI high": mean + half,
                             "max |d|": float(np.abs(d).max()), "seeds with d = 0": int(np.sum(d == 0)),
                             "Wilcoxon p": p_w, "paired t p": p_t,
                             "d_z": mean / sd if sd and sd > 0 else float("nan"),
                             "mean d / seed SD": mean / seed_sd if seed_sd > 0 else float("nan"),
                             "seed SD": seed_sd})
    out = pd.DataFrame(rows)
    if not out.empty:
        out["Wilcoxon p (Holm)"] = _holm(out["Wilcoxon p"].to_numpy())
        out["paired t p (Holm)"] = _holm(out["paired t p"].to_numpy())
    return out


def friedman(df: pd.DataFrame) -> pd.DataFrame:
    """Friedman's test of the three implementations together (seeds as blocks), per model and metric."""
    from scipy import stats

    rows = []
    for (model, dtype), g in df.groupby(["model", "dtype"], sort=False):
        for metric in METRICS:
            wide = g.pivot(index="seed", columns="impl", values=metric)
            cols = [wide[i].to_numpy() for i in IMPLS]
            if len(wide) < 2 or all(np.array_equal(cols[0], c) for c in cols[1:]):
                p = 1.0
            else:
                p = float(stats.friedmanchisquare(*cols).pvalue)
            rows.append({"model": model, "dtype": dtype, "metric": metric, "seeds": len(wide), "Friedman p": p})
    return pd.DataFrame(rows)
