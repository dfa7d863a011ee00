"""Numerical-gradient studies on the textbook's TwoLayerNet: precision against h in float64 and
float32 (reports/numgrad_precision.*), and the batch both studies use; the speed study
(reports/numgrad_speed.*) is ``comparisons.studies.numgrad.speed``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from comparisons.harness.metrics import error
from comparisons.progress import Progress
from comparisons.report import files as io
from comparisons.report.document import Document
from comparisons.studies import models
from comparisons.studies.numgrad.check import gradient_check
from scratch import gradcheck as gc
from scratch.fastgrad import fast_numerical_gradient

HS = tuple(10.0 ** -k for k in range(2, 11))  # 1e-2 ... 1e-10
SUBSET_ROWS = 8  # rows (pixels) of dense0.W in the textbook-loop subset


def data_batch(*, n: int = 100, seed: int = 0, synthetic: bool = False,
               cache_dir=None) -> tuple[np.ndarray, np.ndarray, str]:
    """A batch of MNIST drawn like the textbook (``choice(60000, n)``), float64, with a note on
    where it came from. ``synthetic`` (or MNIST unavailable): random images, 19% of pixels non-zero
    in the centre, random labels."""
    rng = np.random.default_rng(seed)
    if not synthetic:
        try:
            from comparisons.data import load_mnist

            (x, t), _ = load_mnist(normalize=True, flatten=True, dtype="float64", cache_dir=cache_dir, progress=False)
            idx = rng.choice(len(x), n)
            return x[idx], t[idx], f"MNIST training images {n} drawn with default_rng({seed}).choice(60000, {n})"
        except Exception as err:  # noqa: BLE001 - any failure falls back to synthetic data, said in the report
            why = f"MNIST unavailable ({type(err).__name__}: {str(err).splitlines()[0][:120]}); "
    else:
        why = ""
    centre = np.zeros((28, 28), bool)
    centre[4:24, 6:22] = True
    x = rng.random((n, 784)) * (rng.random((n, 784)) < 0.45) * centre.ravel()
    return x, rng.integers(0, 10, n), why + f"{n} synthetic images (random pixels, 19% non-zero in the centre)"


def _twins(x: np.ndarray, seed: int):
    """The float64 TwoLayerNet, its float32 copy, and float64 models at the float32 weights."""
    m64 = models.build("twolayer", seed=seed, dtype="float64")
    m32 = models.build("twolayer", seed=seed, dtype="float32")
    m32.load_state({k: v.astype(np.float32) for k, v in m64.state().items()})
    m32_up = models.build("twolayer", seed=seed, dtype="float64")
    m32_up.load_state({k: v.astype(np.float64) for k, v in m32.state().items()})
    return m64, m32, m32_up


def _subset(p: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
    """Views of the arrays (parameters or gradients) the textbook loop perturbs: dense0.b, dense2.W,
    dense2.b, and the SUBSET_ROWS consecutive rows of dense0.W whose pixels are brightest over the batch."""
    sums = np.convolve(x.sum(axis=0), np.ones(SUBSET_ROWS), mode="valid")
    r0 = int(np.argmax(sums))
    return {f"dense0.W[{r0}:{r0 + SUBSET_ROWS}]": p["dense0.W"][r0:r0 + SUBSET_ROWS], "dense0.b": p["dense0.b"],
            "dense2.W": p["dense2.W"], "dense2.b": p["dense2.b"]}


def precision_study(x: np.ndarray, t: np.ndarray, *, seed: int = 0, hs=HS, progress: bool = True) -> pd.DataFrame:
    """Normwise relative error, per parameter array, of the central difference against the exact
    gradient (float64 backprop at the same weights and inputs), for each h, in float64 and float32:
    the textbook loop on a subset of the entries (``_subset``), the fast path on all of them.

    Returns:
        Long table: h, dtype, method ("textbook loop" or "fast"), parameter, relative error.
    """
    m64, m32, m32_up = _twins(x, seed)
    x32 = x.astype(np.float32)
    refs = {"float64": gc.backprop_gradient(m64, x, t, training=True)[1],
            "float32": gc.backprop_gradient(m32_up, x32.astype(np.float64), t, training=True)[1]}
    rows = []
    with Progress(len(hs) * 2, "precision study", enabled=None if progress else False) as bar:
        for h in hs:
            for dt, m, xx in (("float64", m64, x), ("float32", m32, x32)):
                f = gc.loss_function(m, xx, t, training=True)
                ref_sub = _subset(refs[dt], x)
                for (name, view), ref in zip(_subset(m.params, x).items(), ref_sub.values(), strict=True):
                    rel = error(gc.numerical_gradient(f, view, h=h), ref).max_rel
                    rows.append((h, dt, "textbook loop", name, rel))
                fast = fast_numerical_gradient(m, xx, t, training=True, h=h)
                rows += [(h, dt, "fast", name, error(g, refs[dt][name]).max_rel) for name, g in fast.items()]
                bar.update(1)
    return pd.DataFrame(rows, columns=["h", "dtype", "method", "parameter", "relative error"])


def worst_table(long: pd.DataFrame) -> pd.DataFrame:
    """h against "dtype, method": the largest relative error over the parameter arrays."""
    wide = long.pivot_table(index="h", columns=["dtype", "method"], values="relative error", aggfunc="max")
    wide.columns = [f"{dt}, {method}" for dt, method in wide.columns]
    order = [f"{dt}, {m}" for dt in ("float64", "float32") for m in ("textbook loop", "fast")]
    return wide[order].sort_index(ascending=False).reset_index()


def _fmt(df: pd.DataFrame) -> pd.DataFrame:
    """Relative errors as 3 significant digits and h as a power of ten, for the Markdown tables."""
    out = df.copy()
    for c in out.columns:
        if c == "h":
            out[c] = [f"{v:.0e}" for v in out[c]]
        elif out[c].dtype.kind == "f":
            out[c] = [f"{v:.2e}" for v in out[c]]
    return out


def plot_precision(long: pd.DataFrame, path: Path) -> Path:
    """Relative error against h, one panel per dtype, one colour per parameter array."""
    from comparisons.studies.numgrad.train import figure

    fig, axes = figure(1, 2, (12, 4.6))
    colours = dict(zip(["dense0.W", "dense0.b", "dense2.W", "dense2.b"], ["tab:blue", "tab:orange", "tab:green",
                                                                          "tab:red"], strict=True))
    for ax, dt in zip(axes[0], ("float64", "float32"), strict=True):
        for (method, name), g in long[long["dtype"] == dt].groupby(["method", "parameter"]):
            colour = colours[name.split("[")[0]]
            style = {"marker": "o", "ms": 3} if method == "textbook loop" else {"ls": "--", "marker": "x"}
            ax.plot(g["h"], g["relative error"], color=colour, label=f"{name} ({method})", **style)
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.axvline(1e-4, color="grey", lw=0.8, ls=":")
        ax.set(xscale="log", yscale="log", xlabel="h", title=f"{dt}: central difference vs backprop",
               ylabel="relative error (normwise, per array)")
        ax.invert_xaxis()
        ax.legend(fontsize=6)
    return io.save_figure(fig, path, dpi=110)


def write_precision(out_dir: Path, *, synthetic: bool = False, progress: bool = True) -> list[Path]:
    """reports/numgrad_precision.{md,html,csv,png}."""
    out_dir = Path(out_dir)
    x, t, source = data_batch(synthetic=synthetic)
    long = precision_study(x, t, progress=progress)
    worst = worst_table(long)
    m64, m32, m32_up = _twins(x, 0)
    x32 = x.astype(np.float32)
    bp32 = gc.backprop_gradient(m32, x32, t, training=True)[1]
    exact32 = gc.backprop_gradient(m32_up, x32.astype(np.float64), t, training=True)[1]
    bp32_err = max(error(bp32[k], exact32[k]).max_rel for k in bp32)
    checks = {dt: gradient_check(m, xx, t, h=1e-4, rtol=1e-4, allow_low_precision=True)
              for dt, m, xx in (("float64", m64, x), ("float32", m32, x32))}
    at = worst.set_index("h").loc[1e-4]
    sub_rows = next(n for n in long["parameter"] if n.startswith("dense0.W[")).removeprefix("dense0.W")
    best64 = worst.loc[worst["float64, textbook loop"].idxmin()]
    at_h = long[long["h"] == 1e-4].assign(parameter=lambda d: d["parameter"].str.split("[").str[0])
    detail = at_h.pivot_table(index="parameter", columns=["dtype", "method"], values="relative error")
    detail.columns = [f"{dt}, {m}" for dt, m in detail.columns]
    detail = _fmt(detail[[c for c in worst.columns if c != "h"]].reset_index())
    intro = f"""\
The textbook trains its TwoLayerNet (784-50-10, sigmoid) with a central difference
`(L(w + h) - L(w - h)) / 2h`, h = 1e-4, over all 39,760 parameters. Each number below is a normwise
relative error max|numerical - exact| / max|exact| of one parameter array against the exact gradient
(float64 backprop at the same weights and inputs); the first table shows the worst array. Batch:
{source}; initial weights of `twolayer`, seed 0. "textbook loop": `scratch.gradcheck.numerical_gradient`
over dense0.b, dense2.W, dense2.b and rows {sub_rows} of dense0.W (the {SUBSET_ROWS} brightest consecutive
pixels); "fast": `scratch.fastgrad` over all entries.

At h = 1e-4 the worst array is off by {at['float64, textbook loop']:.1e} in float64 and by
{at['float32, textbook loop']:.1e} in float32. In float32 the loss itself carries a rounding error of
about 6e-8 x |L| (L ~ 2.3); divided by 2h = 2e-4 that is ~7e-4 in every entry, while the first layer's
gradient entries are below 1e-3: its numerical gradient is noise as large as the gradient itself, and a
smaller h is worse. Float32 backprop is off by at most {bp32_err:.1e}. In float64 the same rounding is ~1e-12,
so the truncation error (~h^2) dominates down to h ~ {best64['h']:.0e} (worst array
{best64['float64, textbook loop']:.1e}); below that rounding (~eps |L| / h) takes over again: the
textbook's h = 1e-4 is close to the best step in float64.
"""
    doc = Document("Numerical gradient precision: float64 vs float32", intro)
    doc.add("Worst relative error over the parameter arrays, against h", image="numgrad_precision.png",
            table=_fmt(worst))
    doc.add("Each parameter array at h = 1e-4", table=detail)
    for dt, c in checks.items():
        doc.add(f"gradient_check (fast, h = 1e-4, rtol 1e-4), {dt}", table=c)
    paths = [io.write_csv(out_dir / "numgrad_precision.csv", long),
             plot_precision(long, out_dir / "numgrad_precision.png")]
    return paths + doc.write(out_dir / "numgrad_precision")
