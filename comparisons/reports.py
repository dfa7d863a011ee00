"""Every report that ``make report`` writes, and the reports/ index (README.md and index.html)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Entry = tuple[str, str]  # (Markdown link, one-line description)



def parity_job(out: Path, progress: bool, full: bool) -> tuple[list[Entry], bool]:
    from comparisons import parity
    from comparisons.cases import CASES

    df = parity.run_table(CASES, progress=progress)
    for p in parity.write(df, CASES, out):
        print(f"wrote {p}")
    ok = bool(df["verdict"].isin(["pass", "known difference"]).all())
    return [("[parity.md](parity.md) ([HTML](parity.html), [CSV](parity.csv))",
             "every case of the table (layers, losses, initializers, optimizers, schedules, callbacks): scratch vs "
             "Keras and PyTorch in float64 and float32, with the known differences and the relations that hold")], ok


def schedules_job(out: Path, progress: bool, full: bool) -> tuple[list[Entry], bool]:
    from comparisons.plots_schedules import plot_lr_schedules

    plot_lr_schedules(out / "lr_schedules.png")
    print(f"wrote {out / 'lr_schedules.png'}")
    return [("[lr_schedules.png](lr_schedules.png)",
             "each learning-rate schedule from scratch, Keras and PyTorch on one axis per schedule")], True


def mnist_job(out: Path, progress: bool, full: bool) -> tuple[list[Entry], bool]:
    from comparisons import models
    from comparisons.mnist import summary
    from comparisons.mnist.runner import SHORT, train

    records = []
    for name in models.MODELS:
        for dtype in ("float64", "float32"):
            kw = {} if full else SHORT[name]
            target = out / "mnist" / dtype
            records.append(train(name, dtype=dtype, progress=progress, out=target, **kw))
            print(f"wrote {target / name}/")
    note = ("Full recipes." if full else "Short runs (`make report`); `make report FULL=1` runs the full recipes. "
            "Budgets: " + "; ".join(f"{n}: {v['epochs']} epoch(s) on {v['train_limit']:,} images"
                                    for n, v in SHORT.items()) + ".")
    from comparisons.mnist import sensitivity

    print(f"wrote {sensitivity.write(out / 'mnist', progress=progress)[0]}")
    paths = summary.write(records, out / "mnist", note)
    print(f"wrote {paths[0]}")
    ok = not any(r.stopped for r in records)
    return [("[mnist/README.md](mnist/README.md)", "the four model specs trained in lock-step in scratch, Keras and "
             "PyTorch: per-step divergence, learning curves, side-by-side tables, float64 and float32"),
            ("[mnist/sensitivity.md](mnist/sensitivity.md)", "how far two scratch runs drift from one rounding: the "
             "control for float32 divergence (flipped ReLU decisions, Adam + BatchNorm vs SGD)")], ok


def atlas_job(out: Path, progress: bool, full: bool) -> tuple[list[Entry], bool]:
    from comparisons.atlas import atlas_job as job

    return job(out, progress, full)


def numgrad_job(out: Path, progress: bool, full: bool) -> tuple[list[Entry], bool]:
    from comparisons.numgrad import write_reports

    return write_reports(out, progress=progress), True


def naive_port_job(out: Path, progress: bool, full: bool) -> tuple[list[Entry], bool]:
    from comparisons.naive_port_report import naive_port_job as job

    return job(out, progress, full)


# The atlas follows the parity job: it reads parity.csv.
JOBS: list[Callable[[Path, bool, bool], tuple[list[Entry], bool]]] = [
    parity_job, atlas_job, schedules_job, numgrad_job, mnist_job, naive_port_job]


def write_all(out: Path, *, progress: bool = True, full: bool = False) -> int:
    """Run every report job into ``out``; return 1 if any comparison failed or a run stopped."""
    entries: list[Entry] = []
    ok = True
    for job in JOBS:
        more, job_ok = job(out, progress, full)
        entries += more
        ok &= job_ok
    for link, text in EXTRA_ENTRIES:
        if (out / link.split("](")[1].split(")")[0]).exists():
            entries.append((link, text))
    from comparisons import site

    site.write_index(out, entries)
    print(f"wrote {out / 'README.md'} and {out / 'index.html'}")
    return 0 if ok else 1


#: Reports written by their own commands (committed), linked when present.
EXTRA_ENTRIES: list[Entry] = [
    ("[benchmarks.md](benchmarks.md)", "speed and memory of scratch, PyTorch and Keras per model (`make bench`)"),
]
