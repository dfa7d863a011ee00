"""The speed study of the numerical gradient (reports/numgrad_speed.*): the book's own loop on the
book's TwoLayerNet (``scratch.textbook``), ``scratch.gradcheck``'s loop on the ``twolayer`` Sequential,
the fast path on both, and backprop, at the same weights on the same batch.

The rows are timed interleaved, one of each per round, best of the rounds, with one BLAS thread by
default: the machine may be shared and its speed drifts, so only ratios measured in the same rounds are
compared.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from comparisons.harness.metrics import error
from comparisons.report import files as io
from comparisons.report.document import Document
from comparisons.studies import models
from comparisons.studies.numgrad.study import data_batch
from scratch import gradcheck as gc
from scratch.fastgrad import fast_numerical_gradient
from scratch.textbook.ch04 import TwoLayerNet
from scratch.textbook.gradient import numerical_gradient as book_numerical_gradient

NAIVE_ENTRIES = 2_000  # the loops are timed over this many entries of dense0.W / W1 by default
BOOK, GRADCHECK = "book loop", "gradcheck loop"
KEYS = {"W1": "dense0.W", "b1": "dense0.b", "W2": "dense2.W", "b2": "dense2.b"}  # book key -> Sequential name


def book_twin(model) -> TwoLayerNet:
    """The book's chapter 4 TwoLayerNet at the weights of the ``twolayer`` Sequential ``model`` (NumPy's
    global generator, which the book's constructor draws from, is left as it was)."""
    state = np.random.get_state()  # noqa: NPY002 (the book draws from the global generator)
    try:
        net = TwoLayerNet(784, 50, 10)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    net.set_params({k: model.params[q].copy() for k, q in KEYS.items()})
    return net


def _flat(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([v.ravel().astype(np.float64) for v in d.values()])


def _timed_rows(m, net, x, t, e: int, total: int):
    """{row: (what is timed, function, scale to one whole gradient)} and the gradients each keeps."""
    start = min(400 * 50, total - e) if e < total else 0  # a central block of pixels (non-zero inputs)
    w, w1 = m.params["dense0.W"].reshape(-1), net.params["W1"].reshape(-1)  # views: the loops move them
    f = gc.loss_function(m, x, t, training=True)
    kept: dict[str, dict] = {}

    def keep(name, fn):
        def run():
            kept[name] = fn()
        return run

    whole = e == total
    rows = {
        f"{BOOK}, central": (
            keep("book", (lambda: net.numerical_gradient(x, t, book_loop=True)) if whole else
                 (lambda: {"W1": book_numerical_gradient(lambda _: net.loss(x, t), w1[start:start + e])}))),
        f"{GRADCHECK}, central": (
            keep("gradcheck", (lambda: gc.model_numerical_gradient(m, x, t, training=True)) if whole else
                 (lambda: {"dense0.W": gc.numerical_gradient(f, w[start:start + e])}))),
        f"{GRADCHECK}, forward": (
            (lambda: gc.model_numerical_gradient(m, x, t, training=True, method="forward")) if whole else
            (lambda: gc.numerical_gradient(f, w[start:start + e], method="forward"))),
        "fast, central": keep("fast book", lambda: net.numerical_gradient(x, t)),
        "fast, central (Sequential)": keep("fast", lambda: fast_numerical_gradient(m, x, t, training=True)),
        "fast, forward (Sequential)": lambda: fast_numerical_gradient(m, x, t, training=True, method="forward"),
        "backprop (reference)": lambda: gc.backprop_gradient(m, x, t, training=True),
    }
    loops = {k for k in rows if k.startswith((BOOK, GRADCHECK))}
    return {k: (fn, (total / e) if k in loops else 1.0) for k, fn in rows.items()}, kept, start, loops


def benchmark(x: np.ndarray, t: np.ndarray, *, naive_entries: int | None = NAIVE_ENTRIES, train_iters: int = 100,
              train_data: tuple[np.ndarray, np.ndarray] | None = None, repeats: int = 5, blas_threads: int = 1,
              progress: bool = True) -> tuple[pd.DataFrame, dict]:
    """Seconds per full TwoLayerNet gradient on one batch, every row timed in each of ``repeats``
    interleaved rounds (best of the rounds; the loops over all entries, ``naive_entries`` None or
    >= 39,760, once), with ``blas_threads`` BLAS threads (default 1); then ``train_iters`` iterations
    of training with the fast numerical gradient. A loop timed over fewer entries (a block of dense0.W,
    the book's W1) is extrapolated linearly: every entry costs the same two forward passes.
    """
    from threadpoolctl import threadpool_limits

    m = models.build("twolayer", seed=0, dtype="float64")
    net = book_twin(m)
    total = sum(p.size for p in m.params.values())
    e = total if naive_entries is None or naive_entries >= total else int(naive_entries)
    rows, kept, start, loops = _timed_rows(m, net, x, t, e, total)
    rounds = 1 if e == total else repeats
    say = print if progress else (lambda *_: None)
    say(f"timing {len(rows)} rows interleaved, {rounds} round(s); the loops over {e:,} of {total:,} entries ...")
    best = dict.fromkeys(rows, np.inf)
    with threadpool_limits(blas_threads):
        for r in range(max(rounds, repeats)):
            for name, (fn, _) in rows.items():
                if r >= rounds and name in loops:
                    continue
                t0 = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - t0)
            say(f"  best after round {r + 1}: " + ", ".join(f"{k} {v:.3g} s" for k, v in best.items()))
        xs, ts = train_data if train_data is not None else (x, t)
        rng, tm = np.random.default_rng(0), models.build("twolayer", seed=0, dtype="float64")
        t0 = time.perf_counter()
        for _ in range(train_iters):
            idx = rng.choice(len(xs), 100)
            g = fast_numerical_gradient(tm, xs[idx], ts[idx], training=True)
            for name, p in tm.params.items():
                p -= 0.1 * g[name]
        train_secs = time.perf_counter() - t0
    what = {True: f"all {total:,} entries, once", False: f"{e:,} entries, best of {rounds}, extrapolated"}
    table = [(name, what[e == total] if name in loops else f"all {total:,} entries, best of {repeats}", best[name],
              best[name] * scale) for name, (_, scale) in rows.items()]
    table[-1] = (table[-1][0], f"best of {repeats}", *table[-1][2:])
    table.append((f"{train_iters} iterations of SGD with the fast numerical gradient", "measured", train_secs,
                  train_secs / max(train_iters, 1)))
    df = pd.DataFrame(table, columns=["method", "timed", "seconds measured", "seconds per gradient"])
    per = df.set_index("method")["seconds per gradient"]
    df[f"speed-up vs {BOOK}"] = per[f"{BOOK}, central"] / df["seconds per gradient"]
    df[f"speed-up vs {GRADCHECK}"] = per[f"{GRADCHECK}, central"] / df["seconds per gradient"]

    def block(g: dict[str, np.ndarray], key: str) -> dict[str, np.ndarray]:
        return g if e == total else {key: g[key].reshape(-1)[start:start + e]}
    fb, fs = kept["fast book"], kept["fast"]
    info = {"entries": total, "naive_entries": e, "start": start, "train_secs": train_secs, "train_iters": train_iters,
            "agree book": error(_flat(block(fb, "W1")), _flat(kept["book"])),
            "scale book": float(np.abs(fb["W1"]).max()),
            "agree gradcheck": error(_flat(block(fs, "dense0.W")), _flat(kept["gradcheck"])),
            "scale gradcheck": float(np.abs(fs["dense0.W"]).max()),
            "loss book": float(net.loss(x, t)), "loss": float(gc.loss_function(m, x, t, training=True)()),
            "threads": blas_threads, "load": f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"}
    return df, info


def write_speed(out_dir: Path, *, naive_entries: int | None = NAIVE_ENTRIES, train_iters: int = 100, repeats: int = 5,
                blas_threads: int = 1, synthetic: bool = False, progress: bool = True) -> list[Path]:
    """reports/numgrad_speed.{md,html,csv}."""
    x, t, source = data_batch(synthetic=synthetic)
    train = None
    if not synthetic and source.startswith("MNIST"):
        from comparisons.data import load_mnist

        train = load_mnist(normalize=True, flatten=True, dtype="float64", progress=False)[0]
    df, info = benchmark(x, t, naive_entries=naive_entries, train_iters=train_iters, train_data=train,
                         repeats=repeats, blas_threads=blas_threads, progress=progress)
    per = df.set_index("method")
    up = per.loc["fast, central", f"speed-up vs {BOOK}"]
    up_g = per.loc["fast, central (Sequential)", f"speed-up vs {GRADCHECK}"]
    e, n = info["naive_entries"], info["entries"]
    timed = ("The loops were timed over all entries, once." if e == n else
             f"The loops were timed over {e:,} entries (a block of dense0.W, the book's W1: rows "
             f"{info['start'] // 50}-{(info['start'] + e) // 50 - 1}) and extrapolated linearly to all: every entry "
             "costs the same two forward passes.")
    ab, ag = info["agree book"], info["agree gradcheck"]
    which = "" if e == n else " of W1"
    intro = f"""\
Seconds for one gradient of the textbook's TwoLayerNet (784-50-10, sigmoid, float64, {n:,}
parameters) on one batch of 100 ({source}), h = 1e-4, central difference unless stated; every row at
the same weights (the `twolayer` spec, seed 0) and on the same batch.

- "{BOOK}": the book's own loop, `scratch.textbook`'s `numerical_gradient` (the book's
  `common/gradient.py`: each entry moved by +h and -h in place, the loss evaluated twice) over the book's
  chapter 4 `TwoLayerNet` (`scratch.textbook.ch04`), as its `numerical_gradient(x, t, book_loop=True)`
  runs it; its loss is the book's `cross_entropy_error(softmax(...))`.
- "{GRADCHECK}": `scratch.gradcheck.numerical_gradient`, the same loop over the `twolayer` Sequential
  (its loss `SoftmaxCrossEntropy()`, through the layers' checked forward).
- "fast, central": the book's `TwoLayerNet.numerical_gradient(x, t)`, which is
  `scratch.fastgrad.fast_numerical_gradient` on the same network and loss; "(Sequential)":
  `fast_numerical_gradient` on the `twolayer` Sequential.

{timed} Each round times every row once, in turn, with {info['threads']} BLAS thread(s) (threadpoolctl);
a row's time is its best round (other processes sharing the CPUs only ever add time), and the speed-ups are
ratios of rows timed in the same rounds.

**The fast central difference is {up:.0f}x the book's loop** ({up_g:.0f}x gradcheck's loop on the
Sequential). It agrees with the book's loop on the timed entries to max abs {ab.max_abs:.1e}
({ab.max_abs / info['scale book']:.1e} of the largest gradient entry{which}), and the Sequential's
fast path with gradcheck's loop to {ag.max_abs:.1e}: the rounding of the loss, about ulp(L) / 2h =
{np.spacing(info['loss']) / 2e-4:.1e} (L = {info['loss']:.4f}; the book's L = {info['loss book']:.4f}).
{info['train_iters']} iterations of numerical-gradient training took {info['train_secs']:.1f} s (the book's
loop: about {per.loc[f'{BOOK}, central', 'seconds per gradient'] * info['train_iters'] / 60:.0f} min).
Machine: {platform.machine()}, {os.cpu_count()} CPUs, NumPy {np.__version__}; load average
{info['load']} when the timing ended.
"""
    doc = Document("Numerical gradient speed: the book's loop vs the fast path", intro)
    doc.add("Seconds", table=df.round({"seconds measured": 4, "seconds per gradient": 4,
                                       f"speed-up vs {BOOK}": 1, f"speed-up vs {GRADCHECK}": 1}))
    out_dir = Path(out_dir)
    return [io.atomic_write(out_dir / "numgrad_speed.csv", lambda p: df.to_csv(p, index=False))] + \
        doc.write(out_dir / "numgrad_speed")
