"""How far two runs of the *same* implementation drift apart from a tiny perturbation.

A control for the lock-step runs: when Keras or PyTorch in float32 drift away from scratch, is it
the framework, or would any two runs that differ by one rounding drift as much? Here scratch alone
is trained several times from the same initial weights, except that each copy's weights are
multiplied by ``1 + level * N(0, 1)`` (levels from 1e-14, a few float64 roundings, through 1e-7,
about one float32 rounding, to 1e-5), plus a float32 copy; the same batches, dropout masks and learning rates as
the lock-step runs. Per step it records the relative difference of the step loss from the
unperturbed float64 run and how many ReLU decisions (``x > 0`` for one unit and one image) differ
from it.

What it shows (mlp4x128_bn_dropout, Adam + BatchNorm; mlp4x32, plain SGD, for contrast): while
no ReLU decision differs, a perturbation grows slowly and smoothly (about 25x in 250 steps, at
every level). The first flipped decision switches one unit's gradient path on or off for one
image, an O(1/batch) change of the gradient; in the Adam + BatchNorm recipe at learning rates up
to 0.01 that change is not damped but multiplies into more flips, and the step losses are O(1)
apart within a few hundred steps. Flips need perturbations near the distance of the closest
pre-activation to zero: 1e-14 and 1e-10 never get there in the run, 1e-7 (a float32 rounding)
does for some seeds (2 of 4 for mlp4x128_bn_dropout within 250 steps; the float32 copy does not
within them), 1e-5 for every seed. Plain SGD at 0.01 flips decisions too at 1e-5, but the
trajectories stay within about 1e-3 in the steps studied.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from comparisons.progress import Progress
from comparisons.studies import models
from comparisons.studies.mnist import optim
from comparisons.studies.trainer.impls import ScratchImpl
from comparisons.studies.trainer.lockstep import RunConfig, batches, dropout_shapes
from scratch.layers import ReLU

LEVELS = (1e-14, 1e-10, 1e-7, 1e-5)  # relative perturbation of every initial weight
SEEDS = 4  # perturbation draws per level
#: The studies written by ``make report``: model -> (training images, steps). The steps cover the
#: short lock-step run of the model (mlp4x128_bn_dropout: 2 epochs of 4,000 images, batch 32).
STUDIES = {"mlp4x128_bn_dropout": (4_000, 250), "mlp4x32": (4_000, 375)}


def _perturbed(spec: models.ModelSpec, dtype: str, level: float, seed: int) -> ScratchImpl:
    model = spec.build(np.random.default_rng(0), "float64")
    rng = np.random.default_rng([seed, 3])
    for value in model.params.values():
        value *= 1.0 + level * rng.standard_normal(value.shape)
    if dtype != "float64":  # the float32 copy starts from the float64 weights rounded once
        rounded = spec.build(np.random.default_rng(0), dtype)
        for name, value in rounded.params.items():
            value[...] = model.params[name]
        model = rounded
    model.commute_relu_maxpool = False  # the ReLU masks compared below are those of the layers as given
    return ScratchImpl(model, optim.scratch_optimizer(spec.recipe))


def run(name: str, data, *, steps: int, levels=LEVELS, seeds: int = SEEDS, progress: bool = False) -> pd.DataFrame:
    """Per step and copy: ``rel_diff`` of the step loss from the unperturbed float64 run and ``flips``.

    Args:
        name: a model spec of ``comparisons.studies.models``.
        data: (x_train, t_train) in float64, already limited.
        steps: training steps (batches as in the lock-step runs, seed 0).
    """
    spec = models.get(name)
    x64, t = data
    if x64.dtype != np.float64:
        raise ValueError(f"data: expected float64 images, got {x64.dtype}")
    inputs = {"float64": x64, "float32": x64.astype(np.float32)}
    copies = {("reference", 0.0, 0): _perturbed(spec, "float64", 0.0, 0)}
    for level in levels:
        for seed in range(seeds):
            copies[("float64", level, seed)] = _perturbed(spec, "float64", level, seed)
    copies[("float32", 0.0, 0)] = _perturbed(spec, "float32", 0.0, 0)
    ref = copies[("reference", 0.0, 0)]
    relus = [n for n, layer in zip(ref.model.names, ref.model.layers, strict=True) if isinstance(layer, ReLU)]
    shapes = dropout_shapes(spec, ref.model)
    rate = {n: ref.model.layer(n).rate for n in shapes}
    masks_rng = np.random.default_rng([0, 2])  # as comparisons.studies.trainer.lockstep.run with seed 0
    steps_per_epoch = -(-len(x64) // spec.recipe.batch_size)
    lr_at = optim.lr_function(spec, len(x64))
    rows = []
    bar = Progress(total=steps, desc=f"sensitivity {name}", unit="steps", enabled=None if progress else False)
    order = batches(len(x64), spec.recipe.batch_size, steps, np.random.default_rng([0, 1]),
                    with_replacement=spec.recipe.iterations is not None)
    for step, idx in enumerate(order):
        lr = float(lr_at(step, step // steps_per_epoch))
        masks = {n: masks_rng.random((len(idx), *s)) >= rate[n] for n, s in shapes.items()}
        losses = {key: impl.step(inputs[impl.model.dtype.name][idx], t[idx], lr, masks)
                  for key, impl in copies.items()}
        base = losses[("reference", 0.0, 0)]
        for (dtype, level, seed), impl in copies.items():
            if dtype == "reference":
                continue
            flips = sum(int(np.count_nonzero(impl.model.layer(r)._mask != ref.model.layer(r)._mask)) for r in relus)
            rows.append({"step": step, "copy": f"{dtype} x(1+{level:g}N)" if level else dtype, "dtype": dtype,
                         "level": level, "seed": seed, "rel_diff": abs(losses[(dtype, level, seed)] - base) / abs(base),
                         "flips": flips})
        bar.update(1)
    bar.close()
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """One row per copy: first flipped ReLU decision, divergence before it and at the end."""
    rows = []
    for (copy, seed), g in df.groupby(["copy", "seed"], sort=False):
        flipped = g.loc[g["flips"] > 0, "step"]
        first = int(flipped.iloc[0]) if len(flipped) else None
        before = g.loc[g["step"] < first, "rel_diff"].max() if first is not None else g["rel_diff"].max()
        rows.append({"copy": copy, "seed": int(seed), "steps": len(g),
                     "first flipped ReLU decision (step)": "none" if first is None else first,
                     "max rel diff before it": before, "max rel diff over the run": g["rel_diff"].max(),
                     "decisions flipped in all": int(g["flips"].sum())})
    return pd.DataFrame(rows)


# -- report ------------------------------------------------------------------------------------
INTRO = __doc__.split("\n\n", 1)[1]
LEVEL_COLORS = {1e-14: "#1f77b4", 1e-10: "#2ca02c", 1e-7: "#d62728", 1e-5: "#ff7f0e"}


def plot(studies: dict[str, pd.DataFrame], path) -> None:
    """Running maximum of the step-loss difference per copy; a dot at its first flipped decision."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from comparisons.report import files as io

    fig, axes = plt.subplots(1, len(studies), figsize=(6.5 * len(studies), 4.2), squeeze=False)
    for ax, (name, df) in zip(axes[0], studies.items(), strict=True):
        for (copy, seed), g in df.groupby(["copy", "seed"], sort=False):
            level = g["level"].iloc[0]
            color = LEVEL_COLORS.get(level, "black") if g["dtype"].iloc[0] == "float64" else "#9467bd"
            running = np.maximum.accumulate(g["rel_diff"].clip(lower=1e-17).to_numpy())
            ax.semilogy(g["step"], running, color=color, lw=1, label=copy if seed == 0 else None)
            flipped = g.index[g["flips"] > 0]
            if len(flipped):
                i = g.index.get_loc(flipped[0])
                ax.plot(g["step"].iloc[i], running[i], "o", color=color, ms=5)
        ax.set_title(f"{name}: copies of scratch vs scratch float64")
        ax.set_xlabel("step")
        ax.set_ylabel("running max |loss - reference| / |reference|")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle("dots: first flipped ReLU decision of a copy", fontsize=9)
    fig.tight_layout()
    io.save_figure(fig, path, dpi=110)
    plt.close(fig)


def write(out, *, progress: bool = False, cache_dir=None, mnist_dir=None, studies=STUDIES) -> list:
    """Run the studies on the first training images of MNIST and write ``out/sensitivity.*``."""
    from pathlib import Path

    from comparisons.report import files as io
    from comparisons.report.document import Document
    from comparisons.studies.mnist.runner import load

    out = Path(out)
    results, tables = {}, []
    for name, (n_train, steps) in studies.items():
        spec = models.get(name)
        config = RunConfig(name, ("scratch",), "float64", 1, n_train, 1, 0, progress)
        (x, t), _ = load(spec, config, mnist_dir=mnist_dir, cache_dir=cache_dir)
        results[name] = run(name, (x, t), steps=steps, progress=progress)
        table = summarise(results[name])
        table.insert(0, "model", name)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    io.write_csv(out / "sensitivity.csv", table)
    shown = table.copy()
    for col in ("max rel diff before it", "max rel diff over the run"):
        shown[col] = shown[col].map(lambda v: f"{v:.1e}")
    doc = Document("Sensitivity of a training run to one rounding", INTRO)
    doc.add("Divergence of perturbed copies", image="sensitivity.png")
    doc.add("Per copy", "Training images: " + "; ".join(f"{n}: first {v[0]:,}, {v[1]} steps"
                                                          for n, v in studies.items()) + ".", table=shown)
    plot(results, out / "sensitivity.png")
    return [*doc.write(out / "sensitivity"), out / "sensitivity.csv", out / "sensitivity.png"]
