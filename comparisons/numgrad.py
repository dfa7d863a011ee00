"""Numerical gradients on the comparison side: ``gradient_check`` as a DataFrame, training with
numerical gradients beside backprop (the textbook's TwoLayerNet on MNIST, the logic gates), the
precision study, the speed benchmark, and the commands ``numgrad-train`` and ``bench-numgrad``.

The arithmetic lives in ``scratch.gradcheck`` (the textbook's loop) and ``scratch.fastgrad`` (the
vectorised one); this module runs them and writes reports (Markdown, CSV, HTML, PNG).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from comparisons import io
from comparisons.document import Document
from comparisons.metrics import error
from comparisons.progress import Progress
from scratch import gradcheck as gc
from scratch import layers as L
from scratch import losses as S
from scratch.fastgrad import fast_numerical_gradient
from scratch.model import Sequential

REPORTS = Path(__file__).resolve().parent.parent / "reports"
GATES = {"AND": (0, 0, 0, 1), "OR": (0, 1, 1, 1), "NAND": (1, 1, 1, 0), "XOR": (0, 1, 1, 0)}
GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)  # the truth-table rows
#: TwoLayerNet recipe of the textbook's ch04/train_neuralnet.py: batch 100 drawn with replacement
#: (np.random.choice(train_size, batch_size)), plain SGD with learning rate 0.1.
TEXTBOOK_LR, TEXTBOOK_BATCH = 0.1, 100


# -- gradient check ---------------------------------------------------------------------------
def gradient_check(model: Sequential, x: np.ndarray, t: np.ndarray, *, training: bool = True, loss=None,
                   masks: dict[str, np.ndarray] | None = None, h: float = 1e-5, method: str = "central",
                   fast: bool = True, rtol: float = 1e-6, params: list[str] | None = None,
                   allow_low_precision: bool = False) -> pd.DataFrame:
    """Backprop gradient against the numerical gradient, one row per parameter.

    Verdict: ``pass`` when the normwise relative error is at most ``rtol``, or when both
    gradients are zero within the rounding floor eps * max(|L|, 1) / h of a difference quotient
    (``pass (zero)``: a Dense bias followed by BatchNorm has a zero gradient); else ``FAIL``.
    ``rtol`` = 1e-6 for float64 at h = 1e-5: truncation ~h^2 |f'''| and rounding ~eps |L| / h are
    both below 1e-9 of a gradient of size 1e-3.

    Args:
        model, x, t, training, loss, masks: as ``scratch.gradcheck.backprop_gradient``.
        h, method: the difference step and formula (``"central"`` or ``"forward"``).
        fast: use ``fast_numerical_gradient`` (True) or the textbook's loop.
        rtol: the relative error allowed.
        params: qualified names to check (default all).
        allow_low_precision: silence the warning for a model that is not float64.

    Returns:
        DataFrame: parameter, shape, max abs diff, max rel diff, rounding floor, verdict.

    Warns:
        PrecisionWarning: the model is not float64 (float32 differences are rounding noise).
    """
    gc.warn_low_precision(model.dtype, allow_low_precision=allow_low_precision)
    h = gc.check_step(h)
    saved = {k: v.copy() for k, v in model.buffers.items()}
    try:
        value, bp = gc.backprop_gradient(model, x, t, training=training, loss=loss, masks=masks)
    finally:
        gc._restore_buffers(model, saved)
    numeric = fast_numerical_gradient if fast else gc.model_numerical_gradient
    num = numeric(model, x, t, training=training, loss=loss, masks=masks, h=h, method=method, params=params)
    floor = float(np.finfo(model.dtype).eps) * max(abs(value), 1.0) / h
    rows = []
    for name, g in num.items():
        e = error(g, bp[name], name)
        zero = e.max_abs <= 10 * floor and float(np.abs(bp[name]).max()) <= 10 * floor
        verdict = "pass" if e.max_rel <= rtol else ("pass (zero)" if zero else "FAIL")
        rows.append({"parameter": name, "shape": str(g.shape), "max abs diff": e.max_abs, "max rel diff": e.max_rel,
                     "rounding floor": floor, "verdict": verdict})
    return pd.DataFrame(rows)


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
    """A model spec of ``comparisons.models`` on MNIST (float64; ``data`` = ((x, t), (x, t)) to reuse)."""
    from comparisons import models

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
                log(f"iter {it:>6}  loss {r['loss_numerical']:.4f} / {r['loss_backprop']:.4f}  train acc "
                    f"{r['train_acc_numerical']:.4f} / {r['train_acc_backprop']:.4f}  test acc "
                    f"{r['test_acc_numerical']:.4f} / {r['test_acc_backprop']:.4f}  (numerical / backprop)")
    return pd.DataFrame(rows)


# -- training reports -------------------------------------------------------------------------
def _figure(nrows: int, ncols: int, size: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def plot_training(results: dict[str, pd.DataFrame], path: Path) -> Path:
    """One row per run: accuracy and batch loss against the iteration, numerical vs backprop."""
    fig, axes = _figure(len(results), 2, (11, 3.2 * len(results)))
    for (label, df), (ax_acc, ax_loss) in zip(results.items(), axes, strict=True):
        for k, style in (("numerical", {"color": "tab:blue", "lw": 2.4, "alpha": 0.5}),
                         ("backprop", {"color": "black", "lw": 1.0, "ls": "--"})):
            acc = df.dropna(subset=[f"train_acc_{k}"])
            ax_acc.plot(acc["iteration"], acc[f"train_acc_{k}"], label=f"train, {k}", **style)
            ax_acc.plot(acc["iteration"], acc[f"test_acc_{k}"], label=f"test, {k}", **{**style, "ls": ":"})
            ax_loss.plot(df["iteration"][1:], df[f"loss_{k}"][1:], label=k, **style)
        ax_acc.set(title=f"{label}: accuracy", xlabel="iteration", ylim=(0, 1.02))
        ax_loss.set(title=f"{label}: batch loss", xlabel="iteration", yscale="log")
        ax_acc.legend(fontsize=7)
        ax_loss.legend(fontsize=7)
    return io.save_figure(fig, path, dpi=110)


def _checkpoints(df: pd.DataFrame, n: int = 8) -> pd.DataFrame:
    ev = df.dropna(subset=["train_acc_numerical"])
    keep = ev.iloc[np.unique(np.linspace(0, len(ev) - 1, n).round().astype(int))]
    cols = ["iteration", "loss_numerical", "loss_backprop", "train_acc_numerical", "train_acc_backprop",
            "test_acc_numerical", "test_acc_backprop", "weights_rel_diff", "seconds_numerical", "seconds_backprop"]
    return keep[cols].rename(columns=lambda c: c.replace("_", " "))


def write_training(results: dict[str, pd.DataFrame], out_dir: Path, stem: str, title: str, intro: str) -> list[Path]:
    """CSV (all runs, a ``run`` column), PNG and Markdown/HTML of training runs."""
    out_dir = Path(out_dir)
    table = pd.concat([df.assign(run=label) for label, df in results.items()], ignore_index=True)
    paths = [io.atomic_write(out_dir / f"{stem}.csv", lambda p: table.to_csv(p, index=False)),
             plot_training(results, out_dir / f"{stem}.png")]
    doc = Document(title, intro + f"\n\nEvery iteration: [{stem}.csv]({stem}.csv). Plot: [{stem}.png]({stem}.png).")
    doc.add("Curves", image=f"{stem}.png")
    for label, df in results.items():
        doc.add(label, table=_checkpoints(df))
    return paths + doc.write(out_dir / stem)
