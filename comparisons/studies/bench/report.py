"""Benchmark results -> tables (pandas), the Markdown/HTML report, the CSV files and the bar chart."""

from __future__ import annotations

import statistics
from pathlib import Path

import pandas as pd

from comparisons.report import files as io
from comparisons.report.document import Document
from comparisons.studies.bench.driver import ConfigResult

LABELS = {"scratch": "scratch (NumPy)", "torch": "PyTorch loop", "keras_fit": "Keras fit", "keras_loop": "Keras loop"}
PEERS = ("torch", "keras_fit", "keras_loop")  # the frameworks scratch is measured against
#: scratch float32 epoch time / the fastest peer's, per model; and the convnet's share of the roofline
TARGETS = {"mlp4x32": 1.0, "mlp4x128_bn_dropout": 1.0, "twolayer": 1.0, "simple_convnet": 1.0, "row_lstm": 1.0,
           "row_gru": 1.0}
ROOFLINE_TARGETS = {"simple_convnet": 0.6}


def float32_ceiling(ceiling_rows: list[dict]) -> float:
    """The machine's float32 matrix-product ceiling: the best GFLOP/s of any library measured."""
    values = [r["GFLOP/s"] for r in ceiling_rows if r["dtype"] == "float32"]
    return max(values) if values else float("nan")


def results_table(results: list[ConfigResult], iterations: int, ceiling_rows: list[dict] | None = None) -> pd.DataFrame:
    """One row per (model, impl, dtype): epoch and evaluation seconds, peak RSS, ratios to PyTorch and
    to the fastest peer of the same run, and the roofline fraction (train GFLOP/s over the machine's
    float32 matrix-product ceiling, from ``ceiling_rows``; NaN without them)."""
    rows = []
    for r in results:
        steps = -(-r.setup["train_size"] // r.setup["batch"])  # ceil(60000 / batch)
        its = min(iterations, steps)
        epoch = [s * steps / its for s in r.train_seconds]
        med = statistics.median(epoch)
        rows.append({
            "model": r.model, "impl": r.impl, "dtype": r.dtype, "batch": r.setup["batch"],
            "iterations timed": its, "steps per epoch": steps, "extrapolated": its < steps,
            "epoch s (median)": med, "epoch s (min)": min(epoch), "epoch s (max)": max(epoch),
            "eval s (median)": statistics.median(r.eval_seconds), "eval s (min)": min(r.eval_seconds),
            "eval s (max)": max(r.eval_seconds), "peak RSS MB": r.rss_mb,
            "train GFLOP/s": r.setup["step_flops"] * steps / med / 1e9,
            "test accuracy": r.accuracy, "repeats": len(r.train_seconds),
            "other load (median)": statistics.median(r.other_load) if r.other_load else float("nan"),
            "other load (max)": max(r.other_load) if r.other_load else float("nan"),
        })
    df = pd.DataFrame(rows)
    for col, ratio in (("epoch s (median)", "epoch / torch"), ("eval s (median)", "eval / torch"),
                       ("peak RSS MB", "RSS / torch")):
        df[ratio] = [row[col] / _torch(df, row, col) for _, row in df.iterrows()]
    peers = [_fastest_peer(df, row) for _, row in df.iterrows()]
    df["fastest peer"] = [p for p, _, _ in peers]
    df["epoch / fastest peer"] = [row["epoch s (median)"] / s for (_, row), (_, s, _) in zip(df.iterrows(), peers,
                                                                                           strict=True)]
    df["eval / fastest peer"] = [row["eval s (median)"] / e for (_, row), (_, _, e) in zip(df.iterrows(), peers,
                                                                                         strict=True)]
    by_key = {(r.model, r.impl, r.dtype): r for r in results}
    for what, attr in (("epoch", "train_seconds"), ("eval", "eval_seconds")):
        spans = [_round_ratios(by_key, row, what, attr, df) for _, row in df.iterrows()]
        df[f"{what} / fastest peer (round min)"] = [lo for lo, _ in spans]
        df[f"{what} / fastest peer (round max)"] = [hi for _, hi in spans]
    df["roofline"] = df["train GFLOP/s"] / float32_ceiling(ceiling_rows or [])
    return df


def _round_ratios(by_key: dict, row: pd.Series, what: str, attr: str, df: pd.DataFrame) -> tuple[float, float]:
    """Min and max over the rounds of the row's time over its fastest peer's time in the same round.

    Every round times all implementations of a model one after the other, so a round's ratio
    divides out the machine's drift between rounds; the spread of these ratios says how far a
    verdict on the median could move in another run."""
    peer = _peer_key(df, row, what)
    mine, theirs = by_key.get((row["model"], row["impl"], row["dtype"])), by_key.get(peer)
    if mine is None or theirs is None:
        return float("nan"), float("nan")
    ratios = [a / b for a, b in zip(getattr(mine, attr), getattr(theirs, attr), strict=False)]
    return (min(ratios), max(ratios)) if ratios else (float("nan"), float("nan"))


def _peer_key(df: pd.DataFrame, row: pd.Series, what: str) -> tuple[str, str, str] | None:
    """(model, impl, dtype) of the framework with the shortest median epoch (``what="epoch"``) or
    evaluation (``"eval"``) time for the row's model, in the row's dtype, else in float32."""
    col = "epoch s (median)" if what == "epoch" else "eval s (median)"
    for dtype in (row["dtype"], "float32"):
        hit = df[(df["model"] == row["model"]) & df["impl"].isin(PEERS) & (df["dtype"] == dtype)]
        if len(hit):
            return row["model"], str(hit.loc[hit[col].idxmin(), "impl"]), dtype
    return None


def _fastest_peer(df: pd.DataFrame, row: pd.Series) -> tuple[str, float, float]:
    """(implementation, epoch s, eval s) of the fastest framework in the run for the row's model and
    dtype (float32 when no framework ran in the row's dtype); epoch and evaluation each take their own
    fastest."""
    epoch, ev = _peer_key(df, row, "epoch"), _peer_key(df, row, "eval")
    if epoch is None or ev is None:
        return "", float("nan"), float("nan")
    return epoch[1], _at_key(df, epoch, "epoch s (median)"), _at_key(df, ev, "eval s (median)")


def _at_key(df: pd.DataFrame, key: tuple[str, str, str], col: str) -> float:
    model, impl, dtype = key
    return float(df.loc[(df["model"] == model) & (df["impl"] == impl) & (df["dtype"] == dtype), col].iloc[0])


def _torch(df: pd.DataFrame, row: pd.Series, col: str) -> float:
    """PyTorch's value in the same run: same model and dtype (float32 when torch lacks the dtype)."""
    for dtype in (row["dtype"], "float32"):
        hit = df[(df["model"] == row["model"]) & (df["impl"] == "torch") & (df["dtype"] == dtype)]
        if len(hit):
            return float(hit[col].iloc[0])
    return float("nan")


def display_table(df: pd.DataFrame) -> pd.DataFrame:
    """The results with rounded numbers and readable labels (Markdown and HTML)."""
    out = pd.DataFrame({
        "model": df["model"], "implementation": df["impl"].map(LABELS), "dtype": df["dtype"],
        "epoch s median [min, max]": [f"{m:.2f} [{lo:.2f}, {hi:.2f}]{'*' if e else ''}" for m, lo, hi, e in
                                      zip(df["epoch s (median)"], df["epoch s (min)"], df["epoch s (max)"],
                                          df["extrapolated"], strict=True)],
        "epoch / torch": df["epoch / torch"].map(lambda v: f"{v:.2f}"),
        "epoch / fastest": [f"{v:.2f} ({LABELS.get(p, '-')})" for v, p in
                            zip(df["epoch / fastest peer"], df["fastest peer"], strict=True)],
        "eval 10k s [min, max]": [f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in
                                  zip(df["eval s (median)"], df["eval s (min)"], df["eval s (max)"], strict=True)],
        "eval / torch": df["eval / torch"].map(lambda v: f"{v:.2f}"),
        "peak RSS MB": df["peak RSS MB"].map(lambda v: f"{v:.0f}"),
        "RSS / torch": df["RSS / torch"].map(lambda v: f"{v:.2f}"),
        "train GFLOP/s": df["train GFLOP/s"].map(lambda v: f"{v:.1f}"),
        "roofline": df["roofline"].map(lambda v: "-" if pd.isna(v) else f"{v:.2f}"),
        "other load": [f"{100 * m:.0f}% (max {100 * x:.0f}%)" for m, x in
                       zip(df["other load (median)"], df["other load (max)"], strict=True)],
    })
    return out


def targets_table(df: pd.DataFrame) -> pd.DataFrame:
    """Scratch float32 against its targets: epoch and evaluation time vs the fastest peer, the
    convnet's roofline fraction and peak RSS."""
    rows = []

    def add(model: str, measure: str, target: float, value: float, higher_is_better: bool = False,
            rounds: tuple[float, float] | None = None) -> None:
        met = value >= target if higher_is_better else value <= target
        span = "-" if rounds is None or pd.isna(rounds[0]) else f"[{rounds[0]:.2f}, {rounds[1]:.2f}]"
        rows.append({"model": model, "measure": measure, "target": f"{'>=' if higher_is_better else '<='} {target:.1f}",
                     "measured": f"{value:.2f}", "per round [min, max]": span, "met": "yes" if met else "NO"})

    for model, target in TARGETS.items():
        hit = df[(df["model"] == model) & (df["impl"] == "scratch") & (df["dtype"] == "float32")]
        if not len(hit) or pd.isna(hit["epoch / fastest peer"].iloc[0]):
            continue
        row = hit.iloc[0]
        peer = LABELS.get(row["fastest peer"], row["fastest peer"])
        add(model, f"epoch time / fastest peer ({peer})", target, float(row["epoch / fastest peer"]),
            rounds=_span(row, "epoch"))
        add(model, "evaluation time / fastest peer", 1.0, float(row["eval / fastest peer"]), rounds=_span(row, "eval"))
        if model in ROOFLINE_TARGETS and not pd.isna(row["roofline"]):
            add(model, "train GFLOP/s / float32 ceiling", ROOFLINE_TARGETS[model], float(row["roofline"]), True)
        if model == "simple_convnet":
            add(model, "peak RSS / PyTorch", 1.0, float(row["RSS / torch"]))
    return pd.DataFrame(rows)


def _span(row: pd.Series, what: str) -> tuple[float, float] | None:
    lo, hi = f"{what} / fastest peer (round min)", f"{what} / fastest peer (round max)"
    return (float(row[lo]), float(row[hi])) if lo in row else None


def before_after(df: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Scratch float32/float64 epoch times of an earlier run (``before``) next to this run's."""
    rows = []
    for _, now in df[df["impl"] == "scratch"].iterrows():
        old = before[(before["model"] == now["model"]) & (before["impl"] == "scratch")
                     & (before["dtype"] == now["dtype"])]
        if not len(old):
            continue
        old = old.iloc[0]
        rows.append({"model": now["model"], "dtype": now["dtype"],
                     "before: epoch s": f"{old['epoch s (median)']:.2f}",
                     "before: / torch": f"{old['epoch / torch']:.2f}",
                     "after: epoch s": f"{now['epoch s (median)']:.2f}",
                     "after: / torch": f"{now['epoch / torch']:.2f}",
                     "speed-up vs torch": f"{old['epoch / torch'] / now['epoch / torch']:.1f}x",
                     "before: eval s": f"{old['eval s (median)']:.3f}",
                     "after: eval s": f"{now['eval s (median)']:.3f}"})
    return pd.DataFrame(rows)


def profile_rows(results: list[ConfigResult]) -> pd.DataFrame:
    """Every scratch worker's cProfile rows, with its model and dtype (the -profile.csv file)."""
    return pd.DataFrame([dict(model=r.model, dtype=r.dtype, **row)
                         for r in results if r.profile for row in r.profile["rows"]])


def profile_table(rows: pd.DataFrame, model: str = "simple_convnet", dtype: str = "float32") -> pd.DataFrame:
    """The cProfile rows of the scratch worker for ``model`` (own time per training step)."""
    if not len(rows):
        return pd.DataFrame()
    sel = rows[(rows["model"] == model) & (rows["dtype"] == dtype)]
    return pd.DataFrame({"function": sel["function"], "calls/step": sel["calls_per_step"].map(lambda v: f"{v:.0f}"),
                         "own ms/step": sel["own_ms_per_step"].map(lambda v: f"{v:.3f}"),
                         "cumulative ms/step": sel["cum_ms_per_step"].map(lambda v: f"{v:.3f}"),
                         "share of own time": sel["own_share"].map(lambda v: f"{100 * v:.1f}%")})


def layer_rows(results: list[ConfigResult]) -> pd.DataFrame:
    """Every scratch worker's layer-by-layer step (``bench.layers``), with its model and dtype."""
    return pd.DataFrame([dict(model=r.model, dtype=r.dtype, **row) for r in results if r.layers for row in r.layers])


def layer_table(rows: pd.DataFrame, model: str = "simple_convnet", dtype: str = "float32") -> pd.DataFrame:
    """The layer rows of one scratch worker, rounded for the page, with a total row."""
    if not len(rows):
        return pd.DataFrame()
    sel = rows[(rows["model"] == model) & (rows["dtype"] == dtype)]
    if not len(sel):
        return pd.DataFrame()
    out = pd.DataFrame({"layer": sel["layer"], "type": sel["type"],
                        "forward ms": sel["forward ms"].map(lambda v: f"{v:.3f}"),
                        "backward ms": sel["backward ms"].map(lambda v: f"{v:.3f}"),
                        "product GFLOP": sel["product GFLOP"].map(lambda v: f"{v:.4f}" if v else "-"),
                        "GFLOP/s": sel["GFLOP/s"].map(lambda v: "-" if pd.isna(v) else f"{v:.1f}")})
    total = {"layer": "total", "type": "", "forward ms": f"{sel['forward ms'].sum():.3f}",
             "backward ms": f"{sel['backward ms'].sum():.3f}", "product GFLOP": f"{sel['product GFLOP'].sum():.4f}",
             "GFLOP/s": f"{sel['product GFLOP'].sum() / (sel['forward ms'] + sel['backward ms']).sum() * 1e3:.1f}"}
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True)


def products_bound(rows: pd.DataFrame, ceiling: float, model: str = "simple_convnet",
                   dtype: str = "float32") -> dict | None:
    """Split one scratch step into the layers with matrix products and the others: their
    milliseconds, the products' GFLOP/s, and the roofline fraction the step would reach with the
    element-wise layers at zero cost (the products' GFLOP/s over ``ceiling``)."""
    if not len(rows):
        return None
    sel = rows[(rows["model"] == model) & (rows["dtype"] == dtype)]
    if not len(sel):
        return None
    ms = sel["forward ms"] + sel["backward ms"]
    products = sel["product GFLOP"] > 0
    gflop = float(sel["product GFLOP"].sum())
    product_ms, other_ms = float(ms[products].sum()), float(ms[~products].sum())
    return {"product ms": product_ms, "other ms": other_ms, "gflop": gflop,
            "product GFLOP/s": gflop / product_ms * 1e3, "step GFLOP/s": gflop / (product_ms + other_ms) * 1e3,
            "bound": gflop / product_ms * 1e3 / ceiling if ceiling == ceiling else float("nan")}


def chart(df: pd.DataFrame, path: Path) -> Path:
    """Median epoch seconds (whiskers: min and max) per implementation, one panel per model."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    models = list(dict.fromkeys(df["model"]))
    cols = 2 if len(models) > 1 else 1
    rows = -(-len(models) // cols)
    fig = Figure(figsize=(6.2 * cols, 0.35 * 8 * rows + 1.2))
    FigureCanvasAgg(fig)
    for k, model in enumerate(models):
        ax = fig.add_subplot(rows, cols, k + 1)
        sub = df[df["model"] == model].reset_index(drop=True)
        labels = [f"{LABELS[i]} {d}" for i, d in zip(sub["impl"], sub["dtype"], strict=True)]
        med = sub["epoch s (median)"]
        err = [med - sub["epoch s (min)"], sub["epoch s (max)"] - med]
        colors = ["#1f77b4" if i.startswith("scratch") else "#d62728" if i == "torch" else "#7f7f7f"
                  for i in sub["impl"]]
        ax.barh(range(len(sub)), med, xerr=err, color=colors, capsize=3)
        ax.set_yticks(range(len(sub)), labels, fontsize=8)
        ax.invert_yaxis()
        for y, (hi, ratio) in enumerate(zip(sub["epoch s (max)"], sub["epoch / torch"], strict=True)):
            ax.text(hi, y, f"  {ratio:.2f}x", va="center", fontsize=7)
        ax.set_title(model, fontsize=10)
        ax.set_xlabel("seconds per training epoch (median; whiskers min-max)", fontsize=8)
        ax.margins(x=0.2)
    fig.suptitle("Epoch time per implementation; labels: ratio to PyTorch (same dtype)", fontsize=10)
    fig.tight_layout()
    return io.save_figure(fig, path, dpi=110)


def document(df: pd.DataFrame, results: list[ConfigResult], meta: dict, before: pd.DataFrame | None,
             chart_name: str, before_profile: pd.DataFrame | None = None) -> Document:
    from comparisons.studies.bench import notes

    doc = Document("dlparity benchmarks: training and evaluation speed on MNIST", notes.intro(meta))
    doc.add("Results", notes.RESULTS, display_table(df))
    doc.add("Chart", image=chart_name)
    targets = targets_table(df)
    if len(targets):
        doc.add("Targets for scratch (float32)", notes.TARGETS, targets)
        doc.add("What stands between scratch and the targets", notes.LIMITS)
    if before is not None and len(before):
        doc.add("Before and after", notes.BEFORE_AFTER, before_after(df, before))
    prof = profile_table(profile_rows(results))
    if len(prof):
        doc.add("Where scratch spends its time (cProfile, simple_convnet, float32)", notes.profile_text(meta), prof)
    layers = layer_rows(results)
    table = layer_table(layers)
    if len(table):
        bound = products_bound(layers, float32_ceiling(meta.get("ceiling") or []))
        doc.add("Layer by layer (scratch, simple_convnet, float32)", notes.layers_text(bound), table)
    if before_profile is not None and len(before_profile):
        doc.add("cProfile of the previous code (simple_convnet, float32)", notes.BEFORE_PROFILE,
                profile_table(before_profile))
    if meta.get("ceiling"):
        doc.add("BLAS ceiling", notes.CEILING, pd.DataFrame(meta["ceiling"]).round({"GFLOP/s": 1}))
    doc.add("Machine, libraries and threads", notes.MACHINE, pd.DataFrame(
        [{"item": k, "value": v} for k, v in meta["environment"].items()]))
    doc.add("Method", notes.method(meta))
    return doc


def write(df: pd.DataFrame, results: list[ConfigResult], meta: dict, out: Path,
          before: pd.DataFrame | None = None, stem: str = "benchmarks",
          before_profile: pd.DataFrame | None = None) -> list[Path]:
    """Write ``stem``.md/.html/.csv/.png and ``stem``-profile.csv into ``out``."""
    out = Path(out)
    paths = [chart(df, out / f"{stem}.png")]
    paths.append(io.atomic_write(out / f"{stem}.csv", lambda p: df.to_csv(p, index=False, float_format="%.6g")))
    prof = profile_rows(results)
    if len(prof):
        paths.append(io.atomic_write(out / f"{stem}-profile.csv",
                                     lambda p: prof.to_csv(p, index=False, float_format="%.6g")))
    layers = layer_rows(results)
    if len(layers):
        paths.append(io.atomic_write(out / f"{stem}-layers.csv",
                                     lambda p: layers.to_csv(p, index=False, float_format="%.6g")))
    paths += document(df, results, meta, before, f"{stem}.png", before_profile).write(out / stem)
    return paths
