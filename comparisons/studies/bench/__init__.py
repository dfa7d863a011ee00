"""The benchmark suite: ``python -m comparisons bench`` (also ``make bench``).

For each MNIST model spec and each implementation (scratch, a PyTorch loop, Keras ``fit``, a
Keras custom loop) in float32 (and float64 for scratch and PyTorch): seconds per training epoch
(median, min, max over repeats), seconds to evaluate the 10,000 test images, peak RSS, each as a
ratio to PyTorch in the same run; plus the BLAS ceiling, achieved GFLOP/s, a cProfile summary of
scratch, the machine and library versions. Writes ``benchmarks.md/.html/.csv/.png`` (and
``benchmarks-profile.csv``) into ``--out``.

Public entry points: ``add_commands(subparsers)`` registers ``bench`` on the project CLI;
``main(argv)`` runs it standalone; ``run(...)`` is the function behind both.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from comparisons.argtypes import csv_choices
from comparisons.paths import add_out_argument, output_root

DTYPES = ("float32", "float64")
BEFORE_NAME = "benchmarks-before.csv"

EPILOG = """\
Keras runs in float32 only: --dtypes float64 adds float64 rows for scratch and PyTorch.
Each (model, implementation, dtype) runs in a worker process of its own; timed runs alternate
between them. An epoch is extrapolated from --iterations steps when that is less than one epoch.

examples:
  python -m comparisons bench                                   the full run (about 10 minutes)
  python -m comparisons bench --models simple_convnet --impls scratch,torch --repeats 3
  python -m comparisons bench --models twolayer --iterations 50 --repeats 2 --out /tmp/bench
"""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    from comparisons.studies.bench.impls import IMPLS
    from comparisons.studies.models import MODELS

    p.add_argument("--models", type=csv_choices(list(MODELS)), default=list(MODELS),
                   help=f"comma-separated model specs (default all: {','.join(MODELS)})")
    p.add_argument("--impls", type=csv_choices(IMPLS), default=list(IMPLS),
                   help=f"comma-separated implementations (default all: {','.join(IMPLS)}); ratios need torch")
    p.add_argument("--dtypes", type=csv_choices(DTYPES), default=list(DTYPES),
                   help="float32,float64 (default both; Keras runs float32 only)")
    p.add_argument("--repeats", type=_positive, default=5,
                   help="timed training runs (and evaluations) per implementation (default 5)")
    p.add_argument("--iterations", type=_positive, default=200,
                   help="training steps per timed run, capped at one epoch; the epoch time is scaled from them "
                        "(default 200)")
    p.add_argument("--threads", type=_positive, default=2,
                   help="threads for every library: BLAS, PyTorch and TensorFlow pools (default 2)")
    add_out_argument(p)
    p.add_argument("--before", metavar="CSV",
                   help=f"benchmarks.csv of an earlier run to compare scratch against (default: {BEFORE_NAME} "
                        "in --out when it exists)")
    p.add_argument("--profile-iterations", type=int, default=50, metavar="N",
                   help="cProfile N scratch training steps per model after the timings (0: no profile; default 50)")
    p.add_argument("--max-wait", type=float, default=2.0, metavar="S",
                   help="before each timed run, wait up to S seconds while other processes keep the CPUs busy "
                        "(default 2; 0: only the 0.2 s pause)")
    p.add_argument("--no-ceiling", action="store_true", help="skip the BLAS ceiling measurement")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def configs_for(impls: list[str], dtypes: list[str]) -> list[tuple[str, str]]:
    """(impl, dtype) pairs to run: every dtype for scratch and torch, float32 only for Keras."""
    out = []
    for dtype in DTYPES:
        if dtype not in dtypes:
            continue
        out += [(impl, dtype) for impl in impls if dtype == "float32" or impl in ("scratch", "torch")]
    return out


def run(models: list[str], impls: list[str], dtypes: list[str], *, repeats: int, iterations: int, threads: int,
        out: Path, before: Path | None = None, profile_iterations: int = 50, ceiling: bool = True,
        quiet: bool = False, synthetic: int = 0, max_wait: float = 2.0) -> list[Path]:
    """Run the benchmark and write the report; return the paths written.

    ``synthetic=n`` replaces MNIST by n random training and n random test images (smoke tests)."""
    import pandas as pd

    from comparisons.studies.bench import driver, report

    def log(msg: str) -> None:
        if not quiet:
            print(msg, file=sys.stderr, flush=True)

    configs = configs_for(impls, dtypes)
    if not configs:
        raise SystemExit("error: no (implementation, dtype) pair to run: Keras runs in float32 only")
    start, load_start = time.perf_counter(), os.getloadavg()[0]
    results, environment = [], {}
    for model in models:
        log(f"{model}: starting {len(configs)} workers ({', '.join(f'{i}/{d}' for i, d in configs)})")
        res = driver.run_model(model, configs, repeats=repeats, iterations=iterations, threads=threads,
                               profile_iterations=profile_iterations, synthetic=synthetic, max_wait=max_wait,
                               log=log)
        for r in res:
            environment.update(r.setup["info"])
        results += res
    ceiling_rows = []
    if ceiling:
        log("BLAS ceiling")
        frameworks = ["numpy"] + (["torch"] if "torch" in impls else [])
        ceiling_rows = driver.blas_ceiling(threads, list(DTYPES), frameworks)
    environment["load average (1 min) at the end"] = f"{os.getloadavg()[0]:.2f}"
    meta = {"environment": environment, "threads": threads, "repeats": repeats, "iterations": iterations,
            "duration_s": time.perf_counter() - start, "load": {"start": load_start, "end": os.getloadavg()[0]},
            "ceiling": ceiling_rows, "profile_iterations": profile_iterations,
            "data": f"synthetic data ({synthetic} random images)" if synthetic else "MNIST", "max_wait": max_wait}
    df = report.results_table(results, iterations, ceiling_rows)
    out = Path(out)
    before = before if before is not None else (out / BEFORE_NAME if (out / BEFORE_NAME).exists() else None)
    before_df = before_profile = None
    if before is not None:
        before_df = pd.read_csv(before)
        profile_csv = before.with_name(f"{before.stem}-profile.csv")
        before_profile = pd.read_csv(profile_csv) if profile_csv.exists() else None
    return report.write(df, results, meta, out, before=before_df, before_profile=before_profile)


def _cmd(args: argparse.Namespace) -> int:
    paths = run(args.models, args.impls, args.dtypes, repeats=args.repeats, iterations=args.iterations,
                threads=args.threads, out=output_root(args), before=Path(args.before) if args.before else None,
                profile_iterations=max(args.profile_iterations, 0), ceiling=not args.no_ceiling, quiet=args.quiet,
                max_wait=max(args.max_wait, 0.0))
    for p in paths:
        print(f"wrote {p}")
    return 0


HELP = "time training and evaluation of every model in scratch, PyTorch and Keras (writes reports/benchmarks.*)"


def add_commands(subparsers) -> None:
    """Register ``bench`` on the project's ``python -m comparisons`` sub-command parser."""
    sp = subparsers.add_parser("bench", help=HELP, description=HELP, epilog=EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(sp)
    sp.set_defaults(func=_cmd)


def main(argv: list[str] | None = None) -> int:
    """``python -m comparisons.studies.bench``: the ``bench`` command on its own."""
    p = argparse.ArgumentParser(prog="python -m comparisons bench", description=HELP, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return _cmd(p.parse_args(argv))
