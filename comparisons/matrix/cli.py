"""``python -m comparisons matrix``: many MNIST lock-step runs (model x dtype x seed) as Dask tasks."""

from __future__ import annotations

import argparse
import sys

from comparisons.argtypes import csv_choices
from comparisons.paths import REPORTS, add_out_argument, output_root
from comparisons.studies import models
from comparisons.studies.trainer.lockstep import IMPLS

DEFAULT_DIR = "matrix"  # under the output root, for a matrix that is not a named study

EPILOG = """\
examples:
  python -m comparisons matrix --study variance              10 seeds x 2 models x 3 implementations
  python -m comparisons matrix --study variance --seeds 0-19  the same study with 20 seeds (finished cells skipped)
  python -m comparisons matrix --model twolayer,mlp4x32 --dtype float32 --seeds 0-3 --budget short
  python -m comparisons matrix --study mnist --scheduler tcp://10.0.0.5:8786   on an existing Dask cluster
  python -m comparisons matrix --study variance --dry-run     the cells and their state on disk, nothing run

OUT is the study's folder under the output root (--out, default out/): variance/runs, mnist; matrix/ for
a matrix given by its axes; `--out reports` writes the committed reports. Seed 0 runs land in
OUT/DTYPE/MODEL/ (where `python -m comparisons mnist` writes), other seeds in OUT/seed-S/DTYPE/MODEL/. A
cell whose run.json holds its config hash and says finished is skipped; a failed or interrupted one runs
again. OUT/matrix.md and each seed folder's README.md are rebuilt from disk.
On an existing cluster, start the workers with one thread each (`dask worker ADDRESS --nthreads 1`) and
the project installed; a worker that dies is retried there as the scheduler's allowed-failures says.
"""


def _seeds(text: str) -> list[int]:
    from comparisons.matrix.spec import parse_seeds

    try:
        return parse_seeds(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("seeds: ")) from None


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of worker processes, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def add_commands(sub) -> None:
    from comparisons.matrix.spec import BUDGETS, DTYPES, STUDIES

    studies = "\n".join(f"  {s.name:<10}{s.description}" for s in STUDIES.values())
    p = sub.add_parser(
        "matrix", help="run many MNIST lock-step runs (models x dtypes x seeds) on Dask, resumable",
        description="Run every cell of a matrix (model x dtype x seed, one `mnist` run each) as a task on Dask "
                    "distributed: a local cluster of one single-threaded worker process per core by default, or an "
                    "existing cluster with --scheduler. Finished cells are skipped, failed or interrupted ones rerun.",
        epilog=f"studies:\n{studies}\n\n{EPILOG}", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--study", choices=list(STUDIES), metavar="NAME", help="a named matrix (below); the options "
                   "given override its axes")
    p.add_argument("--model", type=csv_choices(list(models.MODELS)), metavar="NAME[,NAME]",
                   help=f"model specs ({', '.join(models.MODELS)}); required without --study")
    p.add_argument("--dtype", type=csv_choices(DTYPES), metavar="DTYPE[,DTYPE]", help="float64,float32 (default both)")
    p.add_argument("--seeds", type=_seeds, dest="seed_list", metavar="SEEDS",
                   help="seeds: 0-9, 0,3,7 or 0-4,10 (default 0)")
    p.add_argument("--impl", type=csv_choices(IMPLS), default=list(IMPLS),
                   help="implementations (default scratch,keras,torch; scratch always runs)")
    p.add_argument("--budget", choices=BUDGETS, help="full recipes (default) or the short budgets of `make report`")
    p.add_argument("--epochs", type=float, help="epochs per run (overrides the budget)")
    p.add_argument("--train-limit", type=int, metavar="N", help="use the first N training images")
    p.add_argument("--test-limit", type=int, metavar="N", help="use the first N test images")
    add_out_argument(p)  # the runs go to ROOT/<the study's folder> (variance/runs, mnist), else ROOT/matrix
    p.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                                                          "(default: start a local cluster)")
    p.add_argument("--workers", type=_workers, metavar="N", help="worker processes of the local cluster "
                                                                 "(default: one per core)")
    p.add_argument("--timeout", type=_seconds, default=10.0, metavar="SECONDS",
                   help="how long to wait for --scheduler to answer (default 10)")
    p.add_argument("--dry-run", action="store_true", help="list the cells and their state on disk; run nothing")
    p.add_argument("--rebuild", action="store_true", help="run nothing: rebuild the summaries (and the study's "
                                                          "report) from the runs on disk")
    p.add_argument("--mnist-dir", metavar="DIR", help="a directory with the four MNIST IDX files (.gz or not)")
    p.add_argument("--cache-dir", metavar="DIR", help="dlparity's data cache (default $DLPARITY_CACHE or "
                                                      "~/.cache/dlparity)")
    p.set_defaults(func=cmd_matrix)


def _usage_error(args, message: str) -> int:
    print(f"python -m comparisons matrix: error: {message}", file=sys.stderr)
    return 2


def cmd_matrix(args) -> int:
    from comparisons.matrix import disk, engine, spec

    study = spec.STUDIES.get(args.study) if args.study else None
    if study is None and not args.model:
        return _usage_error(args, "give --model NAME[,NAME] or --study NAME (one of "
                                  f"{', '.join(spec.STUDIES)}): the matrix is empty")
    if args.scheduler is not None and args.workers is not None:
        return _usage_error(args, "--workers sizes the local cluster; with --scheduler the cluster's workers run "
                                  "the cells: give one of them")
    if args.scheduler is not None and "://" not in args.scheduler and ":" not in args.scheduler:
        return _usage_error(args, f"--scheduler: expected an address like tcp://HOST:8786, got {args.scheduler!r}")
    seeds = args.seed_list if args.seed_list is not None else spec.parse_seeds(study.seeds if study else "0")
    try:
        cells = spec.cells(args.model or list(study.models), args.dtype or list(study.dtypes if study else spec.DTYPES),
                           seeds,
                           impls=tuple(args.impl), budget=args.budget or (study.budget if study else "full"),
                           epochs=args.epochs, train_limit=args.train_limit, test_limit=args.test_limit)
    except ValueError as err:
        return _usage_error(args, str(err))
    out = output_root(args) / (study.out.relative_to(REPORTS) if study else DEFAULT_DIR)
    if args.dry_run:
        for cell in cells:
            state, detail = disk.status(cell, out)
            print(f"{cell.key:<36} {cell.epochs:g} epoch(s)  {state}{': ' + detail if detail else ''}")
        print(f"{len(cells)} cells into {out}")
        return 0
    if args.rebuild:
        outcome = engine.Outcome()
        for path in disk.write_summaries(out):
            print(f"wrote {path}")
    else:
        outcome = engine.run(cells, out, scheduler=args.scheduler, workers=args.workers, timeout=args.timeout,
                             mnist_dir=args.mnist_dir, cache_dir=args.cache_dir)
        print(f"matrix: {len(outcome.finished)} ran, {len(outcome.skipped)} skipped, {len(outcome.failed)} failed"
              + (f"; {outcome.wall_seconds:.0f} s on {outcome.workers} worker(s)" if outcome.finished or
                 outcome.failed else ""))
    if study is not None and study.report is not None:
        for path in study.report(out):
            print(f"wrote {path}")
    for key, reason in outcome.failed.items():
        print(f"failed: {key}: {reason} (run the same command again to rerun it)", file=sys.stderr)
    return 0 if outcome.ok else 1
