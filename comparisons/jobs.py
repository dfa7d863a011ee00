"""Every report that ``make report`` writes, and the reports/ index (README.md and index.html).

Each job writes its files and says whether its comparisons held; the index links every report
whose file exists, so ``report --only JOB`` regenerates one job's files and a complete index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Entry = tuple[str, str]  # (Markdown link, one-line description)


def _parity(out: Path, progress: bool, full: bool) -> bool:
    from comparisons.report import parity
    from comparisons.table import CASES

    df = parity.run_table(CASES, progress=progress)
    for p in parity.write(df, CASES, out):
        print(f"wrote {p}")
    return bool(df["verdict"].isin(["pass", "known difference"]).all())


def _atlas(out: Path, progress: bool, full: bool) -> bool:
    from comparisons.report.atlas import atlas_job

    return atlas_job(out, progress, full)


def _schedules(out: Path, progress: bool, full: bool) -> bool:
    from comparisons.report.plots import plot_lr_schedules

    plot_lr_schedules(out / "lr_schedules.png")
    print(f"wrote {out / 'lr_schedules.png'}")
    return True


def _numgrad(out: Path, progress: bool, full: bool) -> bool:
    from comparisons.studies.numgrad.cli import write_reports

    write_reports(out, progress=progress)
    return True


def _small_tasks(out: Path, progress: bool, full: bool) -> bool:
    from comparisons.studies.small_tasks import write_report

    paths, ok = write_report(out / "small_tasks", progress=progress)
    for p in paths:
        print(f"wrote {p}")
    return ok


def _mnist(out: Path, progress: bool, full: bool) -> bool:
    """Full recipes with ``full``; otherwise keep every full recipe on disk and run a short budget
    into ``mnist/short/`` only where none is there (the summary labels those rows short)."""
    from comparisons.studies import models
    from comparisons.studies.mnist import sensitivity, summary
    from comparisons.studies.mnist.runner import SHORT, train

    records, ok = [], True
    if full:  # independent runs of up to an hour: the run matrix (a local Dask cluster; finished runs skipped)
        from comparisons.matrix import engine, spec

        study = spec.STUDIES["mnist"]
        ok = engine.run(spec.cells(list(study.models), list(study.dtypes), [0]), out / "mnist").ok
        records = summary.runs_on_disk(out / "mnist")[0]
    for name in () if full else models.MODELS:
        for dtype in ("float64", "float32"):
            kept = out / "mnist" / dtype / name
            if summary.is_full_run(kept):
                print(f"kept {kept}/ (the full recipe on disk; FULL=1 reruns it)")
                continue
            target = out / "mnist" / summary.SHORT_DIR / dtype
            records.append(train(name, dtype=dtype, progress=progress, out=target, **SHORT[name]))
            print(f"wrote {target / name}/")
    print(f"wrote {sensitivity.write(out / 'mnist', progress=progress)[0]}")
    print(f"wrote {summary.write(summary.runs_on_disk(out / 'mnist'), out / 'mnist')[0]}")
    return ok and not any(r.stopped for r in records)


def _naive_port(out: Path, progress: bool, full: bool) -> bool:
    from comparisons.studies.naive_port.report import naive_port_job

    return naive_port_job(out, progress, full)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Path, bool, bool], bool]  # (out, progress, full) -> the comparisons held
    entries: tuple[Entry, ...]  # index entries, each linked when its file exists


# The atlas follows the parity job: it reads parity.csv.
JOBS: tuple[Job, ...] = (
    Job("parity", _parity, (
        ("[parity.md](parity.md) ([HTML](parity.html), [CSV](parity.csv))",
         "every case of the table (layers, losses, initializers, optimizers, schedules, callbacks): scratch vs Keras "
         "and PyTorch in float64 and float32, with the known differences and the relations that hold"),)),
    Job("atlas", _atlas, (
        ("[equivalents.md](equivalents.md) ([HTML](equivalents.html))",
         "the equivalents atlas: per component the formula, the scratch, Keras and PyTorch calls with every argument "
         "equality needs, the measured worst errors and the known differences; the textbook's, Keras's and "
         "PyTorch's defaults side by side, read from the installed libraries"),)),
    Job("schedules", _schedules, (
        ("[Learning-rate schedules](lr_schedules.png)",
         "each learning-rate schedule from scratch, Keras and PyTorch on one axis per schedule"),)),
    Job("numgrad", _numgrad, (
        ("[numgrad_precision.md](numgrad_precision.md) ([HTML](numgrad_precision.html), [CSV](numgrad_precision.csv))",
         "numerical gradient vs backprop against h, float64 and float32: h = 1e-4 is useless in float32"),
        ("[numgrad_speed.md](numgrad_speed.md)", "seconds per TwoLayerNet gradient: the textbook's numerical loop, "
         "the fast one, backprop (`bench-numgrad`)"))),
    Job("small-tasks", _small_tasks, (
        ("[small_tasks/README.md](small_tasks/README.md)", "logic gates, three blobs and two moons trained in "
         "lock-step in scratch, Keras and PyTorch: per-step divergence, decision boundaries, float64 and float32"),)),
    Job("mnist", _mnist, (
        ("[mnist/README.md](mnist/README.md)", "the four model specs trained in lock-step in scratch, Keras and "
         "PyTorch: per-step divergence, learning curves, side-by-side tables, float64 and float32"),
        ("[mnist/sensitivity.md](mnist/sensitivity.md)", "how far two scratch runs drift from one rounding: the "
         "control for float32 divergence (flipped ReLU decisions, Adam + BatchNorm vs SGD)"))),
    Job("naive-port", _naive_port, (
        ("[naive_port.md](naive_port.md) ([HTML](naive_port.html), [CSV](naive_port.csv))",
         "what a naive port costs: each MNIST model trained in lock-step exactly and with one framework default left "
         "unconverted at a time (BatchNorm momentum/epsilon, optimizer epsilon, initializers, Flatten order, 'same' "
         "padding): accuracy and loss deltas, first diverging step"),)),
)
BY_NAME = {job.name: job for job in JOBS}

#: Reports written by their own commands (committed), linked when present.
EXTRA_ENTRIES: tuple[Entry, ...] = (
    ("[benchmarks.md](benchmarks.md)", "speed and memory of scratch, PyTorch and Keras per model (`make bench`)"),
    ("[test_suite.md](test_suite.md)", "wall time of `make test` in a fresh clone, install included and excluded "
     "(`bench-suite`)"),
    ("[variance/README.md](variance/README.md)", "do Keras, PyTorch and scratch differ in float32 beyond what the "
     "seed does? 10 seeds paired by seed, with tests (`matrix --study variance`); the run matrix on 1 and 2 workers "
     "in variance/scaling.md"),
)


def _target(entry: Entry) -> str:
    return entry[0].split("](", 1)[1].split(")", 1)[0]


def index_entries(out: Path) -> list[Entry]:
    """Every known report whose file exists in ``out``, in job order."""
    entries = [e for job in JOBS for e in job.entries]
    entries += [(f"[numgrad/{md.name}](numgrad/{md.name})",
                 f"training with numerical gradients beside backprop: {md.stem} (`numgrad-train`)")
                for md in sorted((out / "numgrad").glob("*.md"))]
    return [e for e in [*entries, *EXTRA_ENTRIES] if (out / _target(e)).exists()]


def write_all(out: Path, *, progress: bool = True, full: bool = False, only: list[str] | None = None) -> int:
    """Run the report jobs (all, or those named in ``only``) into ``out`` and rewrite the index.

    Returns 1 if any comparison failed or a run stopped, else 0.
    """
    unknown = sorted(set(only or ()) - set(BY_NAME))
    if unknown:
        raise ValueError(f"only: unknown job(s) {unknown}; expected some of {', '.join(BY_NAME)}")
    ok = True
    for job in JOBS:
        if only is None or job.name in only:
            ok &= job.run(out, progress, full)
    from comparisons.report import site

    site.write_index(out, index_entries(out))
    print(f"wrote {out / 'README.md'} and {out / 'index.html'}")
    return 0 if ok else 1
