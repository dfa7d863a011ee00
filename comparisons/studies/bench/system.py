"""What the benchmark ran on: CPU, library versions, BLAS kernels, thread settings, the BLAS
ceiling (GFLOP/s of one large matrix product) and the FLOPs of each model.

Everything here runs inside a benchmark worker (``comparisons.studies.bench.worker``), whose environment
sets the thread counts before any numerical library is imported.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np

from scratch import layers as L
from scratch.model import Sequential

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
#: How long OpenBLAS's worker threads spin after a call before they sleep: 2**n cycles (default 28).
#: Reported, left as the environment gives it (see the Machine section of the report for its effect).
SPIN_VARIABLE = "OPENBLAS_THREAD_TIMEOUT"
CEILING_SIZE = 2048  # n of the n x n @ n x n product that measures the BLAS ceiling
CEILING_REPEATS = 5  # best of this many products


def thread_env(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: ``base`` (default os.environ) with every thread count set (the
    libraries' and scratch's batch threads)."""
    env = dict(os.environ if base is None else base)
    env.update({k: str(threads) for k in THREAD_VARIABLES})
    env["DLPARITY_THREADS"] = str(threads)  # scratch's batch threads (scratch.parallel)
    return env


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (platform.processor() as a fallback), with the core count."""
    name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name or platform.processor() or 'unknown'} ({os.cpu_count()} logical cores)"


def numpy_blas() -> dict[str, str]:
    """NumPy's BLAS: library, version, the kernel it picked for this CPU, its thread count (read by
    threadpoolctl from the loaded library)."""
    from threadpoolctl import threadpool_info

    info = {"library": "unknown", "kernel": "unknown", "threads": "unknown"}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["library"] = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - the config layout is not a stable API
        pass
    numpy_dir = str(Path(np.__file__).resolve().parent.parent)
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    pool = next((p for p in pools if str(p.get("filepath", "")).startswith(numpy_dir + "/numpy")), None) or (
        pools[0] if pools else None)
    if pool is not None:
        info["kernel"] = str(pool.get("architecture") or "unknown")
        info["threads"] = str(pool.get("num_threads", "unknown"))
    return info


def describe(framework: str | None) -> dict[str, str]:
    """Versions and thread settings of the libraries this worker imported."""
    out = {"python": platform.python_version(), "numpy": np.__version__, "cpu": cpu_name()}
    blas = numpy_blas()
    out.update({"numpy BLAS": blas["library"], "numpy BLAS kernel": blas["kernel"],
                "numpy BLAS threads": blas["threads"]})
    out.update({k: os.environ.get(k, "(unset)") for k in (*THREAD_VARIABLES, *BLAS_VARIABLES, SPIN_VARIABLE)})
    from scratch import parallel

    out["scratch batch threads"] = str(parallel.threads())
    if framework == "torch":
        import torch

        out.update({"torch": torch.__version__, "torch threads (intra-op)": str(torch.get_num_threads()),
                    "torch threads (inter-op)": str(torch.get_num_interop_threads()),
                    "torch BLAS": "MKL" if torch.backends.mkl.is_available() else "not MKL",
                    "torch oneDNN": str(torch.backends.mkldnn.is_available())})
    elif framework == "keras":
        import keras
        import tensorflow as tf

        out.update({"keras": keras.__version__, "tensorflow": tf.__version__,
                    "tensorflow threads (intra-op)": str(tf.config.threading.get_intra_op_parallelism_threads()),
                    "tensorflow threads (inter-op)": str(tf.config.threading.get_inter_op_parallelism_threads())})
    return out


def ceiling(framework: str, dtype: str, n: int = CEILING_SIZE, repeats: int = CEILING_REPEATS) -> float:
    """GFLOP/s of the best of ``repeats`` products of two n x n matrices (2 n^3 FLOPs each)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    if framework == "torch":
        import torch

        a, b = torch.from_numpy(a), torch.from_numpy(b)
        product = torch.mm
    else:
        product = np.matmul
    product(a, b)  # warm-up: thread pools, page faults
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        product(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def layer_flops(model: Sequential, input_shape: tuple[int, ...], batch: int) -> list[tuple[float, float]]:
    """(forward, backward) FLOPs of each layer's matrix products for one batch, layers in model order.

    A product of (m x k) by (k x n) counts 2 m k n. The backward counts the weight gradient and the
    input gradient of every Dense, Conv2D and recurrent layer, except the input gradient of the
    first layer with parameters (no implementation computes it: the data needs no gradient).
    Element-wise work (activations, pooling, normalisation, the loss) counts 0.
    """
    x = np.zeros((1, *input_shape), dtype=model.dtype)
    out = []
    seen_params = False
    for layer in model.layers:
        y = layer.forward(x, training=False)
        if isinstance(layer, L.Dense):
            flops = 2.0 * batch * layer.in_features * layer.units
        elif isinstance(layer, L.Conv2D):
            kh, kw = layer.kernel_size
            flops = 2.0 * batch * y.shape[2] * y.shape[3] * layer.filters * layer.in_channels * kh * kw
        elif hasattr(layer, "n_gates"):  # recurrent: per step x_t W and h U for all gates
            flops = 2.0 * batch * x.shape[1] * (layer.input_size + layer.units) * layer.n_gates * layer.units
        else:
            flops = 0.0
        out.append((flops, flops * (2 if seen_params else 1)))
        seen_params = seen_params or bool(layer.params)
        x = y
    return out


def train_flops(model: Sequential, input_shape: tuple[int, ...], batch: int) -> tuple[float, float]:
    """(FLOPs of one training step, FLOPs of the forward pass) of the matrix products, per batch
    (``layer_flops`` summed)."""
    per_layer = layer_flops(model, input_shape, batch)
    forward = sum(f for f, _ in per_layer)
    return forward + sum(b for _, b in per_layer), forward
