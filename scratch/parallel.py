"""Batch-parallel NumPy: the samples of a batch split over a small pool of threads.

NumPy's ufunc loops and its BLAS calls release the GIL, so two threads that run the same NumPy code
on the two halves of a batch use two cores where one call uses one (NumPy's element-wise work is
single-threaded; only BLAS has threads of its own). The layers whose work is independent per sample
use it for their large arrays: ``Conv2D`` (im2col and the per-image matrix products) and
``MaxPool2D``. Each thread writes its own slice of outputs allocated beforehand, and every value is
computed by the same operation on the same operands as in one call over the whole batch (a product
of one image's matrices, an element-wise maximum), so the results are the same bits whatever the
number of threads. Sums over the batch stay in the calling thread, in the order one call makes them.

The thread count is ``DLPARITY_THREADS`` if set, else ``OMP_NUM_THREADS``, else the number of CPUs
(at most 8); ``set_threads(n)`` changes it at run time, ``set_threads(1)`` runs everything in the
calling thread. A small batch runs in one piece: below ``MIN_ELEMENTS`` per thread the hand-over
costs more than the second core gives.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

#: Elements of work (the size of the largest array a call touches) per thread below which a batch is
#: not split: handing a slice to a thread and waiting for it costs tens of microseconds.
MIN_ELEMENTS = 100_000

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_threads: int | None = None


def _default_threads() -> int:
    for name in ("DLPARITY_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                return max(1, int(value))
            except ValueError:
                raise ValueError(f"{name}: expected a positive integer (threads), got {value!r}") from None
    return max(1, min(os.cpu_count() or 1, 8))


def threads() -> int:
    """The number of threads batch-parallel layers use (1: no splitting)."""
    global _threads
    if _threads is None:
        _threads = _default_threads()
    return _threads


def set_threads(n: int) -> None:
    """Use ``n`` threads (``n >= 1``) from now on; the results do not depend on it."""
    global _threads, _pool
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected a positive integer (threads), got {n!r}")
    with _lock:
        _threads = n
        if _pool is not None:
            _pool.shutdown(wait=False)
            _pool = None


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None or _pool._max_workers != workers:  # noqa: SLF001 - our own pool
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scratch-batch")
        return _pool


def _forget_pool() -> None:  # a forked child has the pool object but none of its threads
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def slices(n: int, elements: int) -> list[slice]:
    """The batch ``range(n)`` cut into at most ``threads()`` contiguous slices of near-equal size,
    with at least ``MIN_ELEMENTS`` of ``elements`` (the work of the whole batch) per slice."""
    k = max(1, min(threads(), n, elements // MIN_ELEMENTS))  # one (possibly empty) slice at least
    bounds = [n * i // k for i in range(k + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def for_batch(n: int, elements: int, work: Callable[[slice], None]) -> list[slice]:
    """Run ``work(s)`` for every slice ``s`` of ``slices(n, elements)`` (``run``); return the slices."""
    parts = slices(n, elements)
    run(parts, work)
    return parts


def run(parts: list[slice], work: Callable[[slice], None]) -> None:
    """Run ``work(s)`` for every slice of ``parts``: the first in the calling thread, the others in
    the pool, and return when all are done (re-raising the first error)."""
    if len(parts) == 1:
        work(parts[0])
        return
    futures = [_executor(len(parts) - 1).submit(work, s) for s in parts[1:]]
    try:
        work(parts[0])
    finally:
        errors = [f.exception() for f in futures]
    for err in errors:
        if err is not None:
            raise err
