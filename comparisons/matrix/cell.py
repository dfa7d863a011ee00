"""What a worker runs for one cell: the ``mnist`` command's ``train`` with its threads pinned.

Runs on a Dask worker process, local or remote. One cell runs at a time per process (a lock: a
worker started with several threads still runs cells one after another, since TensorFlow, PyTorch
and the NumPy BLAS keep process-wide state). Before the frameworks are imported the worker is held to
one thread: the BLAS pools through threadpoolctl and the OMP/MKL/OpenBLAS variables, TensorFlow by
``TF_NUM_INTRAOP_THREADS``/``TF_NUM_INTEROP_THREADS`` and its threading config, PyTorch by
``set_num_threads(1)``/``set_num_interop_threads(1)``; so N workers on N cores do not fight for them.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from comparisons.matrix.spec import Cell

#: Variables every worker process gets before it starts (the local cluster sets them before
#: spawning; a remote worker gets them when its first cell starts, before any framework import).
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}

_LOCK = threading.Lock()
_PINNED = False


def pin_threads(frameworks: bool) -> None:
    """Hold this process to one compute thread per library (once per process)."""
    global _PINNED
    if _PINNED:
        return
    for k, v in THREAD_ENV.items():
        os.environ.setdefault(k, v)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if frameworks:
        from reference import frameworks as fw

        tf = fw.tf()
        try:  # only possible before TensorFlow's runtime starts; the variables above cover a late call
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass
        torch = fw.torch()
        torch.set_num_threads(1)
        try:  # allowed once, before any inter-op work
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    _PINNED = True


def run_cell(cell: Cell, out: str, mnist_dir: str | None = None, cache_dir: str | None = None) -> dict:
    """Train ``cell`` into ``cell.folder(out)``; return what the client prints and records.

    Returns:
        {"key", "seconds", "cpu_seconds" (this process's CPU time), "worker" (host:pid), "stopped" (why a
        loss stopped it, or ""), "test_acc" {impl: final test accuracy}}.
    """
    from comparisons.studies.mnist.runner import train

    with _LOCK:
        pin_threads(frameworks=len(cell.impls) > 1)
        start, cpu = time.perf_counter(), time.process_time()
        record = train(cell.model, impls=cell.impls, dtype=cell.dtype, epochs=cell.epochs,
                       train_limit=cell.train_limit, test_limit=cell.test_limit, seed=cell.seed, progress=False,
                       out=cell.folder(Path(out)).parent, mnist_dir=mnist_dir, cache_dir=cache_dir)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    last = max((e["epoch"] for e in record.epochs), default=0)
    return {"key": cell.key, "seconds": seconds, "cpu_seconds": cpu, "worker": f"{socket.gethostname()}:{os.getpid()}",
            "stopped": record.stopped,
            "test_acc": {e["impl"]: e["test_acc"] for e in record.epochs if e["epoch"] == last}}
