"""Training with numerical gradients beside backprop: two copies of one initial model, one
stepped with ``scratch.fastgrad``'s numerical gradient and one with backprop, on the same batches
(the textbook's TwoLayerNet on MNIST, the logic gates), and the report of such runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from comparisons.harness.metrics import error
from comparisons.progress import Progress
from comparisons.report import files as io
from comparisons.report.document import Document
from scratch import gradcheck as gc
from scratch import layers as L
from scratch import losses as S
from scratch.fastgrad import fast_numerical_gradient
from scratch.model import Sequential

GATES = {"AND": (0, 0, 0, 1), "OR": (0, 1, 1, 1), "NAND": (1, 1, 1, 0), "XOR": (0, 1, 1, 0)}
GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)  # the truth-table rows
#: TwoLayerNet recipe of the textbook's ch04/train_neuralnet.py: batch 100 drawn with replacement
#: (np.random.choice(train_size, batch_size)), plain SGD with learning rate 0.1.
TEXTBOOK_LR, TEXTBOOK_BATCH = 0.1, 100


# -- training with numerical gradients beside backprop ----------------------------------------
@dataclass
class Problem:
    """A training problem: how to build the model, its loss, data and accuracy."""

    name: str
    build: Callable[[], Sequential]
    loss: object
    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    batch_size: int | None  # None: the whole training set every iteration

    def accuracy(self, model: Sequential, x: np.ndarray, t: np.ndarray) -> float:
        y = model.predict(x)
        hit = (y > 0.5) == (t > 0.5) if y.shape[1] == 1 else y.argmax(axis=1) == t
        return float(np.mean(hit))


def gate_problem(gate: str, *, hidden: int = 3, seed: int = 0) -> Problem:
    """Logic gate ``gate`` learned by a 2-hidden-1 sigmoid network with the mean squared error; the
    four truth-table rows are both the training and the test set."""
    if gate not in GATES:
        raise ValueError(f"gate: expected one of {', '.join(GATES)}, got {gate!r}")
    t = np.array(GATES[gate], dtype=np.float64)[:, None]

    def build() -> Sequential:
        rng = np.random.default_rng(seed)
        return Sequential([L.Dense(2, hidden, weight_init="glorot_uniform", bias_init="zeros", rng=rng),
                           L.Sigmoid(), L.Dense(hidden, 1, weight_init="glorot_uniform", bias_init="zeros", rng=rng),
                           L.Sigmoid()])
    return Problem(f"{gate} (2-{hidden}-1 sigmoid)", build, S.MeanSquaredError(), (GATE_INPUTS, t),
                   (GATE_INPUTS, t), None)


def mnist_problem(model: str = "twolayer", *, seed: int = 0, batch_size: int = TEXTBOOK_BATCH,
                  data=None, cache_dir=None) -> Problem:
    """A model spec of ``comparisons.studies.models`` on MNIST (float64; ``data`` = ((x, t), (x, t)) to reuse)."""
    from comparisons.studies import models

    spec = models.get(model)
    if data is None:
        from comparisons.data import load_mnist

        data = load_mnist(normalize=True, flatten=len(spec.input_shape) == 1, one_hot_label=False,
                          dtype="float64", cache_dir=cache_dir)
    return Problem(model, lambda: models.build(model, seed=seed, dtype="float64"), S.SoftmaxCrossEntropy(),
                   data[0], data[1], batch_size)


def train_side_by_side(problem: Problem, *, iters: int, lr: float, seed: int = 0, h: float = 1e-4,
                       method: str = "central", eval_every: int = 1, progress: bool = True,
                       log: Callable[[str], None] | None = print, log_every: int = 10) -> pd.DataFrame:
    """Train two copies of one initial model with plain SGD (p -= lr * g) on the same batches: one
    with the fast numerical gradient, one with backprop.

    Batches are drawn as the textbook's train_neuralnet.py does: ``rng.choice(train_size,
    batch_size)`` (with replacement) each iteration, from ``default_rng(seed)``.

    Returns:
        One row per iteration (0 = before training): the batch loss before the update, train and
        test accuracy (every ``eval_every`` iterations and at the end), the normwise relative
        difference of all weights between the two runs, and the cumulated gradient seconds.
    """
    for name, v in (("iters", iters), ("eval_every", eval_every), ("log_every", log_every)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr: expected a positive learning rate, got {lr!r}")
    runs = {"numerical": problem.build(), "backprop": problem.build()}
    runs["backprop"].load_state(runs["numerical"].state())
    (xs, ts), (xt, tt) = problem.train, problem.test
    rng, secs, rows = np.random.default_rng(seed), dict.fromkeys(runs, 0.0), []

    def record(it: int, losses: dict[str, float]) -> dict:
        row = {"iteration": it}
        for k, m in runs.items():
            row[f"loss_{k}"] = losses.get(k, np.nan)
            ev = it % eval_every == 0 or it == iters
            row[f"train_acc_{k}"] = problem.accuracy(m, xs, ts) if ev else np.nan
            row[f"test_acc_{k}"] = problem.accuracy(m, xt, tt) if ev else np.nan
            row[f"seconds_{k}"] = secs[k]
        a, b = (np.concatenate([p.ravel() for p in m.params.values()]) for m in runs.values())
        row["weights_rel_diff"] = error(a, b).max_rel
        return row

    rows.append(record(0, {}))
    with Progress(iters, f"{problem.name}: numerical vs backprop", enabled=None if progress else False) as bar:
        for it in range(1, iters + 1):
            idx = rng.choice(len(xs), problem.batch_size) if problem.batch_size else slice(None)
            xb, tb, losses = xs[idx], ts[idx], {}
            for k, m in runs.items():
                t0 = time.perf_counter()
                if k == "numerical":
                    g = fast_numerical_gradient(m, xb, tb, training=True, loss=problem.loss, h=h, method=method)
                    losses[k] = float(problem.loss.forward(m.forward(xb, training=True), tb))
                else:
                    losses[k], g = gc.backprop_gradient(m, xb, tb, training=True, loss=problem.loss)
                for name, p in m.params.items():
                    p -= m.dtype.type(lr) * g[name]
                secs[k] += time.perf_counter() - t0
            rows.append(record(it, losses))
            bar.update(1)
            r = rows[-1]
            if log is not None and (it % log_every == 0 or it == iters) and not np.isnan(r["train_acc_numerical"]):
                log(f"{problem.name}: iter {it:>6}  loss {r['loss_numerical']:.4f} / {r['loss_backprop']:.4f}  "
                    f"train acc {r['train_acc_numerical']:.4f} / {r['train_acc_backprop']:.4f}  test acc "
                    f"{r['test_acc_numerical']:.4f} / {r['test_acc_backprop']:.4f}  (numerical / backprop)")
    return pd.DataFrame(rows)


# -- training reports -------------------------------------------------------------------------
def figure(nrows: int, ncols: int, size: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def plot_training(results: dict[str, pd.DataFrame], path: Path) -> Path:
    """One row per run: accuracy, batch loss, and the weight difference between the two runs."""
    fig, axes = figure(len(results), 3, (14, 3.2 * len(results)))
    for (label, df), (ax_acc, ax_loss, ax_diff) in zip(results.items(), axes, strict=True):
        for k, style in (("numerical", {"lw": 3, "alpha": 0.45}), ("backprop", {"lw": 1.0, "ls": "--"})):
            acc = df.dropna(subset=[f"train_acc_{k}"])
            dark = k == "backprop"
            ax_acc.plot(acc["iteration"], acc[f"train_acc_{k}"], label=f"train, {k}",
                        color="navy" if dark else "tab:blue", **style)
            ax_acc.plot(acc["iteration"], acc[f"test_acc_{k}"], label=f"test, {k}",
                        color="darkred" if dark else "tab:orange", **style)
            ax_loss.plot(df["iteration"][1:], df[f"loss_{k}"][1:], label=k, color="black" if dark else "tab:blue",
                         **style)
        ax_diff.plot(df["iteration"][1:], df["weights_rel_diff"][1:], color="tab:purple")
        ax_acc.set(title=f"{label}: accuracy", xlabel="iteration", ylim=(0, 1.02))
        ax_loss.set(title=f"{label}: batch loss", xlabel="iteration", yscale="log")
        ax_diff.set(title="weights: numerical run vs backprop run", xlabel="iteration", yscale="log",
                    ylabel="max |difference| / max |w|")
        ax_acc.legend(fontsize=7)
        ax_loss.legend(fontsize=7)
    return io.save_figure(fig, path, dpi=100)


def _checkpoints(df: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The evaluated rows at iterations 0, 1 and n round steps, formatted for a Markdown table."""
    ev = df.dropna(subset=["train_acc_numerical"])
    last = int(df["iteration"].iloc[-1])
    step = max(1, last // n)
    keep = ev[ev["iteration"].isin({0, 1, last} | set(range(step, last + 1, step)))]
    out = pd.DataFrame({"iteration": keep["iteration"]})
    for k in ("numerical", "backprop"):
        out[f"loss {k}"] = keep[f"loss_{k}"].map(lambda v: "" if np.isnan(v) else f"{v:.4g}")
        out[f"train acc {k}"] = keep[f"train_acc_{k}"].map("{:.4f}".format)
        out[f"test acc {k}"] = keep[f"test_acc_{k}"].map("{:.4f}".format)
    out["weights rel diff"] = keep["weights_rel_diff"].map("{:.1e}".format)
    out["gradient seconds (numerical / backprop)"] = [f"{a:.1f} / {b:.2f}" for a, b in
                                                     zip(keep["seconds_numerical"], keep["seconds_backprop"],
                                                         strict=True)]
    return out


def write_training(results: dict[str, pd.DataFrame], out_dir: Path, stem: str, title: str, intro: str) -> list[Path]:
    """CSV (the evaluated iterations of all runs, a ``run`` column; wall times in ``STEM_timings.csv``),
    PNG and Markdown/HTML."""
    out_dir = Path(out_dir)
    table = pd.concat([df.dropna(subset=["train_acc_numerical"]).assign(run=label) for label, df in results.items()],
                      ignore_index=True)
    timing = [c for c in table.columns if c.startswith("seconds_")]  # wall times apart from the results
    paths = [io.write_csv(out_dir / f"{stem}.csv", table.drop(columns=timing)),
             io.write_csv(out_dir / f"{stem}_timings.csv", table[["run", "iteration", *timing]]),
             plot_training(results, out_dir / f"{stem}.png")]
    doc = Document(title, intro + f"\n\nEvery evaluated iteration: [{stem}.csv]({stem}.csv); plot: [{stem}.png]"
                          f"({stem}.png). Loss: the batch loss before the step; weights rel diff: normwise relative "
                          "difference max|w_numerical - w_backprop| / max|w_backprop| over all weights.")
    doc.add("Curves", image=f"{stem}.png")
    for label, df in results.items():
        doc.add(label, table=_checkpoints(df))
    return paths + doc.write(out_dir / stem)
