"""A benchmark worker: one process per (model, implementation, dtype), driven over a pipe.

``python -m comparisons.studies.bench.worker`` reads one JSON command per line on stdin and answers one
JSON line on the original stdout (anything a library prints goes to stderr instead). Each
implementation lives in its own process so that its peak resident memory (``ru_maxrss``) is its
own, its thread pools are set before its libraries load, and the driver can alternate timed runs
between implementations that all stay warm.

Commands: ``setup`` (model, impl, dtype, threads, warmup), ``train`` (iterations), ``eval``,
``rss``, ``profile`` (iterations, top; scratch only), ``layers`` (steps, repeats; scratch
only), ``ceiling`` (framework, dtype), ``info``
(framework), ``quit``. A failure answers ``{"error": traceback}``.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import resource
import sys
import traceback
from pathlib import Path

import numpy as np

from comparisons.paths import ROOT


def _threads(framework: str | None, threads: int) -> None:
    """Set the framework's thread pools (intra-op and inter-op) before it runs anything."""
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
    elif framework == "keras":
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def _framework_defaults(framework: str | None) -> None:
    """Undo the determinism switches ``reference.frameworks`` turns on for parity runs: a
    benchmark times the frameworks as users run them, with their default kernels."""
    if framework == "torch":
        import torch

        torch.use_deterministic_algorithms(False)
    elif framework == "keras":
        try:
            from tensorflow.python.framework import config as tf_config
        except ImportError:  # pragma: no cover - layout of a future TensorFlow
            return
        getattr(tf_config, "disable_op_determinism", lambda: None)()


class Worker:
    def __init__(self) -> None:
        self.impl = None
        self.framework: str | None = None

    def setup(self, model: str, impl: str, dtype: str, threads: int, warmup: int, seed: int = 0,
              synthetic: int = 0) -> dict:
        """Load the data, build and warm up the implementation. ``synthetic=n``: random images
        (n for training, n for testing) instead of MNIST, for smoke tests."""
        from comparisons.studies import models
        from comparisons.studies.bench import impls, system

        self.framework = impls.FRAMEWORK[impl]
        _threads(self.framework, threads)
        spec = models.get(model)
        if synthetic:
            rng = np.random.default_rng(seed)
            data = tuple((rng.random((synthetic, *spec.input_shape)).astype(dtype),
                          rng.integers(0, 10, synthetic, dtype=np.int64)) for _ in range(2))
        else:
            from comparisons.data import load_mnist

            flatten = len(spec.input_shape) == 1
            data = load_mnist(normalize=True, flatten=flatten, one_hot_label=False, dtype=dtype, progress=False)
            if len(spec.input_shape) == 2:  # a sequence model: each image as 28 rows (steps) of 28 pixels
                data = tuple((x.reshape(len(x), *spec.input_shape), t) for x, t in data)
        net = models.build(model, seed=seed, dtype=dtype)
        batch = spec.recipe.batch_size
        self.impl = impls.CLASSES[impl](net, data, batch, impls.learning_rate(model))
        _framework_defaults(self.framework)
        self.impl.train(warmup)
        self.impl.evaluate()
        train_flops, eval_flops = system.train_flops(net, spec.input_shape, batch)
        return {"batch": batch, "train_size": len(data[0][0]), "test_size": len(data[1][0]),
                "step_flops": train_flops, "eval_flops_per_batch": eval_flops,
                "info": system.describe(self.framework)}

    def train(self, iterations: int) -> dict:
        return {"seconds": self.impl.train(iterations)}

    def eval(self) -> dict:
        seconds, accuracy = self.impl.evaluate()
        return {"seconds": seconds, "accuracy": accuracy}

    def rss(self) -> dict:
        return {"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}  # KiB on Linux

    def profile(self, iterations: int, top: int) -> dict:
        """cProfile of ``iterations`` training steps: the ``top`` functions by own time."""
        prof = cProfile.Profile()
        prof.enable()
        self.impl.train(iterations)
        prof.disable()
        stats = pstats.Stats(prof)
        total = sum(v[2] for v in stats.stats.values()) or 1.0
        rows = []
        for (path, line, func), (_, ncalls, own, cum, _) in stats.stats.items():
            try:
                where = str(Path(path).resolve().relative_to(ROOT))
            except ValueError:
                where = Path(path).name if path != "~" else ""
            label = f"{where}:{line}({func})" if where else func
            rows.append({"function": label, "calls_per_step": ncalls / iterations,
                         "own_ms_per_step": 1e3 * own / iterations, "cum_ms_per_step": 1e3 * cum / iterations,
                         "own_share": own / total})
        rows.sort(key=lambda r: -r["own_ms_per_step"])
        return {"rows": rows[:top], "total_ms_per_step": 1e3 * total / iterations}

    def layers(self, steps: int, repeats: int) -> dict:
        """Scratch only: one training step layer by layer (``bench.layers.layer_times``) on the
        first batch of the training data."""
        from comparisons.studies.bench.layers import layer_times

        batch = self.impl.batches.batch
        return {"rows": layer_times(self.impl.model, self.impl.x[:batch], self.impl.t[:batch], steps=steps,
                                    repeats=repeats)}

    def ceiling(self, framework: str, dtype: str, threads: int) -> dict:
        from comparisons.studies.bench import system

        if framework == "torch" and self.framework != "torch":
            _threads("torch", threads)
            self.framework = "torch"
        return {"gflops": system.ceiling(framework, dtype)}

    def info(self, framework: str | None) -> dict:
        from comparisons.studies.bench import system

        return system.describe(framework)


def main() -> int:
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # library output goes to stderr; the protocol keeps the real stdout
    sys.stdout = sys.stderr
    worker = Worker()
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        cmd = msg.pop("cmd")
        if cmd == "quit":
            break
        try:
            if cmd not in {"setup", "train", "eval", "rss", "profile", "layers", "ceiling", "info"}:
                raise ValueError(f"cmd: unknown command {cmd!r}")
            out = getattr(worker, cmd)(**msg)
        except Exception:  # noqa: BLE001 - every failure goes back to the driver
            out = {"error": traceback.format_exc()}
        reply.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
