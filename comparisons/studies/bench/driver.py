"""The benchmark driver: starts one worker per (model, implementation, dtype), then alternates
the timed runs between them so that drift of the machine (other load, clock changes) falls on
every implementation alike.

For each model: all its workers start and warm up; then ``repeats`` rounds, each timing
``iterations`` training steps on every worker in turn (the order rotated every round); then
``repeats`` rounds of evaluation of the 10,000 test images; then each worker's peak RSS. An
epoch is ``iterations`` steps scaled to ``steps_per_epoch`` (a full epoch when ``iterations``
reaches it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from comparisons.paths import ROOT
from comparisons.studies.bench import system

PAUSE = 0.2  # seconds between two timed commands: lets the last worker's spinning threads go idle
SETUP_WARMUP = 10  # training steps (and one evaluation) run at set-up, before any timing
LAYER_STEPS = 20  # training steps per repeat of the layer-by-layer timing of scratch
QUIET = 0.15  # CPU share (of all cores) used by other processes below which the machine counts as quiet


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat, or None where it does not exist."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def wait_for_quiet(max_wait: float, pause: float = PAUSE) -> float:
    """Sleep ``pause`` seconds at least, and up to ``max_wait`` while other processes keep the CPUs
    busy (our own workers are idle meanwhile). Returns the busy share of the last ``pause``
    (0 to 1 of all cores; NaN where /proc/stat is missing)."""
    deadline = time.monotonic() + max_wait
    while True:
        before = _cpu_times()
        time.sleep(pause)
        after = _cpu_times()
        if before is None or after is None:
            return float("nan")
        busy = (after[0] - before[0]) / max(after[1] - before[1], 1)
        if busy < QUIET or time.monotonic() >= deadline:
            return busy


class WorkerError(RuntimeError):
    pass


class WorkerProc:
    """A running ``comparisons.studies.bench.worker`` and its JSON-lines pipe."""

    def __init__(self, label: str, env: dict[str, str]) -> None:
        self.label = label
        self.log = tempfile.NamedTemporaryFile(prefix="dlparity-bench-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, "-m", "comparisons.studies.bench.worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, env=env, text=True, bufsize=1,
                                     cwd=str(ROOT))

    def send(self, **msg) -> None:
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    def receive(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise WorkerError(f"{self.label}: the worker exited (code {self.proc.poll()}); last lines of its log:\n"
                              + self._tail())
        out = json.loads(line)
        if "error" in out:
            raise WorkerError(f"{self.label}: {out['error']}")
        return out

    def call(self, **msg) -> dict:
        self.send(**msg)
        return self.receive()

    def _tail(self, n: int = 30) -> str:
        self.log.flush()
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-n:])

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.send(cmd="quit")
                self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            self.log.close()
            Path(self.log.name).unlink(missing_ok=True)


@dataclass
class ConfigResult:
    model: str
    impl: str
    dtype: str
    setup: dict
    train_seconds: list[float] = field(default_factory=list)
    eval_seconds: list[float] = field(default_factory=list)
    accuracy: float = float("nan")
    rss_mb: float = float("nan")
    profile: dict | None = None
    layers: list[dict] | None = None  # scratch only: one training step layer by layer (bench.layers)
    other_load: list[float] = field(default_factory=list)  # busy CPU share before each timed training run


def _env(impl_framework: str | None, threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    env = system.thread_env(threads, base)
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def _rotate(items: list, k: int) -> list:
    k %= len(items)
    return items[k:] + items[:k]


def run_model(model: str, configs: list[tuple[str, str]], *, repeats: int, iterations: int, threads: int,
              profile_iterations: int = 0, profile_top: int = 12, synthetic: int = 0, max_wait: float = 0.0,
              log=print) -> list[ConfigResult]:
    """Time every (impl, dtype) of ``configs`` on ``model``; see the module docstring.

    Before each timed command the driver waits for a quiet machine (``wait_for_quiet``, at most
    ``max_wait`` seconds) and records the share of the CPUs other processes used just before
    each training run. ``synthetic=n`` trains on n random images instead of MNIST (smoke tests)."""
    from comparisons.studies.bench.impls import FRAMEWORK

    workers = {c: WorkerProc(f"{model}/{c[0]}/{c[1]}", _env(FRAMEWORK[c[0]], threads)) for c in configs}
    try:
        for (impl, dtype), w in workers.items():  # all set up at once: set-up is not timed
            w.send(cmd="setup", model=model, impl=impl, dtype=dtype, threads=threads, warmup=SETUP_WARMUP,
                   synthetic=synthetic)
        results = {c: ConfigResult(model, c[0], c[1], w.receive()) for c, w in workers.items()}
        order = list(configs)
        for r in range(repeats):
            for c in _rotate(order, r):
                results[c].other_load.append(wait_for_quiet(max_wait))
                results[c].train_seconds.append(workers[c].call(cmd="train", iterations=iterations)["seconds"])
            log(f"  {model}: training round {r + 1}/{repeats} done")
        for r in range(repeats):
            for c in _rotate(order, r):
                wait_for_quiet(max_wait)
                out = workers[c].call(cmd="eval")
                results[c].eval_seconds.append(out["seconds"])
                results[c].accuracy = out["accuracy"]
        for c, w in workers.items():
            results[c].rss_mb = w.call(cmd="rss")["rss_mb"]
            if profile_iterations and c[0] == "scratch":
                results[c].profile = w.call(cmd="profile", iterations=profile_iterations, top=profile_top)
            if c[0] == "scratch":
                results[c].layers = w.call(cmd="layers", steps=LAYER_STEPS, repeats=repeats)["rows"]
        return list(results.values())
    finally:
        for w in workers.values():
            w.close()


def blas_ceiling(threads: int, dtypes: list[str], frameworks: list[str]) -> list[dict]:
    """GFLOP/s of a large matrix product in NumPy (as configured, and with the OpenBLAS kernel
    variable flipped: unset if set, Haswell if unset) and in each framework, per dtype."""
    import os

    rows = []
    flipped = dict(os.environ)
    if any(k in flipped for k in system.BLAS_VARIABLES):
        for k in system.BLAS_VARIABLES:
            flipped.pop(k, None)
        flip_note = "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"
    else:
        flipped["OPENBLAS_CORETYPE"] = "Haswell"
        flip_note = "OPENBLAS_CORETYPE=Haswell"
    runs = [("numpy", "numpy", None, "environment as given")]
    runs.append(("numpy", "numpy", flipped, flip_note))
    runs += [(fw, fw, None, "environment as given") for fw in frameworks if fw != "numpy"]
    for library, framework, base, note in runs:
        w = WorkerProc(f"ceiling/{library}", _env(None, threads, base))
        try:
            info = w.call(cmd="info", framework=None)
            for dtype in dtypes:
                gflops = w.call(cmd="ceiling", framework=framework, dtype=dtype, threads=threads)["gflops"]
                kernel = info["numpy BLAS kernel"] if library == "numpy" else ""
                rows.append({"library": library, "dtype": dtype, "GFLOP/s": gflops, "BLAS kernel": kernel,
                             "setting": note})
        finally:
            w.close()
    return rows
