"""Run the cells of a matrix as tasks on Dask distributed: an embedded local cluster by default
(one single-threaded worker process per core), or an existing scheduler by address.

The client submits every cell that is not finished on disk, prints a line per cell as it ends
(done/failed/left, elapsed, an estimate of what is left), records a failure beside the cell
(``failed.json``: the exception, or the death of its worker), and rebuilds the summaries from disk.
Nothing is retried within an invocation: the local scheduler allows a task no failed attempt
(``distributed.scheduler.allowed-failures = 0``), so a worker that dies fails its cell at once and
the nanny starts a fresh worker for the others; the next invocation reruns what did not finish.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from comparisons.matrix import disk
from comparisons.matrix.cell import THREAD_ENV, run_cell
from comparisons.matrix.spec import Cell


class SchedulerUnreachable(OSError):
    """No Dask scheduler answered at the given address."""


@dataclass
class Outcome:
    """What one invocation did."""

    skipped: list[str] = field(default_factory=list)
    finished: dict[str, dict] = field(default_factory=dict)  # key -> the cell's result
    failed: dict[str, str] = field(default_factory=dict)  # key -> reason
    wall_seconds: float = 0.0  # from the first submission to the last result
    setup_seconds: float = 0.0  # cluster start or connection
    workers: int = 0
    dashboard: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _dashboard_line(link: str) -> str:
    if not link:
        return "dashboard: none (the scheduler runs without one)"
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return f"dashboard: {link} (its pages need bokeh>=3.1: pip install 'dlparity[matrix]')"
    return f"dashboard: {link}"


def _connect(scheduler: str | None, workers: int, timeout: float):
    """(client, cluster or None). A local cluster gets one single-threaded process per worker."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=f"{timeout}s", set_as_default=False), None
        except (OSError, TimeoutError, ValueError) as err:
            raise SchedulerUnreachable(
                f"--scheduler {scheduler}: no Dask scheduler answered within {timeout:g} s ({err}). Start one with "
                "`dask scheduler` and workers with `dask worker ADDRESS --nthreads 1`, or leave --scheduler out to "
                "run on a local cluster") from None
    env = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **THREAD_ENV}
    with dask.config.set({"distributed.scheduler.allowed-failures": 0, "distributed.nanny.pre-spawn-environ": env}), \
            warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)  # another port
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                               silence_logs=50, dashboard_address=":8787")
        return Client(cluster, set_as_default=False), cluster


def _fmt_seconds(s: float) -> str:
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.0f} s"


def run(cells: list[Cell], out: Path, *, scheduler: str | None = None, workers: int | None = None,
        timeout: float = 10.0, mnist_dir: str | None = None, cache_dir: str | None = None,
        task: Callable = run_cell, say: Callable[[str], None] = print) -> Outcome:
    """Run the cells of ``cells`` not finished under ``out``; rebuild the summaries from disk.

    Args:
        task: the function a worker calls with (cell, out, mnist_dir, cache_dir); ``run_cell``.
        say: where the progress lines go.
    """
    out = Path(out)
    outcome = Outcome()
    todo = []
    for cell in cells:
        state, detail = disk.status(cell, out)
        if state == "finished":
            outcome.skipped.append(cell.key)
        else:
            if state in ("failed", "interrupted"):
                say(f"rerun {cell.key}: {state} last time ({detail})")
            todo.append(cell)
    say(f"matrix: {len(cells)} cells, {len(outcome.skipped)} finished on disk (skipped), {len(todo)} to run")
    if not todo:
        _summaries(out, say)
        return outcome
    start = time.perf_counter()
    if scheduler is None:  # the local workers share dlparity's MNIST cache: fill it once, before any task
        from comparisons.data import load_mnist

        load_mnist(idx_dir=mnist_dir, cache_dir=cache_dir, progress=False)
    client, cluster = _connect(scheduler, workers or default_workers(), timeout)
    try:
        outcome.setup_seconds = time.perf_counter() - start
        outcome.workers = len(client.scheduler_info().get("workers", {}))
        outcome.dashboard = client.dashboard_link if cluster is None else cluster.dashboard_link
        where = f"scheduler {scheduler}" if scheduler else "a local cluster"
        say(f"{where}: {outcome.workers} worker(s), up in {outcome.setup_seconds:.1f} s"
            + ("; the cells wait until workers join" if outcome.workers == 0 else ""))
        say(_dashboard_line(outcome.dashboard))
        _submit_all(client, todo, out, outcome, task, mnist_dir, cache_dir, say)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    _summaries(out, say)
    return outcome


def _submit_all(client, todo: list[Cell], out: Path, outcome: Outcome, task, mnist_dir, cache_dir, say) -> None:
    from distributed import as_completed

    t0 = time.perf_counter()
    todo = sorted(todo, key=lambda c: (c.seed, c.model, c.dtype))  # seed by seed: a cut-short study has whole seeds
    futures = {client.submit(task, cell, str(out), mnist_dir, cache_dir, key=f"cell-{cell.key}-{cell.digest()}",
                             pure=False, retries=0): cell for cell in todo}
    done = 0
    try:
        for future in as_completed(futures, loop=client.loop):
            cell = futures[future]
            done += 1
            if future.status == "finished":
                result = future.result()
                disk.clear_failed(cell, out)
                outcome.finished[cell.key] = result
                accs = ", ".join(f"{k} {v:.4f}" for k, v in result.get("test_acc", {}).items())
                what = f"finished in {_fmt_seconds(result['seconds'])} on {result['worker']}"
                what += f"; test acc {accs}" if accs else ""
                what += f"; stopped: {result['stopped']}" if result.get("stopped") else ""
            else:
                reason = _reason(future.exception()) if future.status == "error" else f"task {future.status}"
                disk.mark_failed(cell, out, reason)
                outcome.failed[cell.key] = reason
                what = f"FAILED: {reason}"
            elapsed = time.perf_counter() - t0
            left = len(todo) - done
            eta = f", about {_fmt_seconds(elapsed / done * left)} left" if left else ""
            say(f"[{done}/{len(todo)}] {cell.key}: {what}  ({_fmt_seconds(elapsed)} elapsed{eta})")
    except KeyboardInterrupt:
        for future in futures:
            future.cancel()
        say(f"interrupted after {done} of {len(todo)} cells: the unfinished ones run again next time")
        raise
    finally:
        outcome.wall_seconds = time.perf_counter() - t0


def _reason(err: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(err, KilledWorker):
        return f"its worker process died while running it ({' '.join(str(err).split())[:300]})"
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:500]}" + ("..." if len(text) > 500 else "")


def _summaries(out: Path, say) -> None:
    for path in disk.write_summaries(out):
        say(f"wrote {path}")

