"""Command line: ``python -m comparisons <command>`` (also installed as ``dlparity``)."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path

from comparisons.argtypes import check_directories, check_numbers, csv_choices
from comparisons.jobs import BY_NAME as REPORT_JOBS
from comparisons.paths import REPORTS, add_out_argument, output_root
from comparisons.table.spec import DTYPES, FRAMEWORKS

DEFAULT_OUT = REPORTS

EPILOG = """\
examples:
  python -m comparisons list                       every case id, with what it compares
  python -m comparisons parity --case conv2d       run the cases whose id starts with conv2d
  python -m comparisons parity --case batchnorm2d/torch/train --framework torch --dtype float64
  python -m comparisons mnist --model mlp4x32 --epochs 1 --dtype float32
  python -m comparisons small-tasks --task xor,moons  gates, blobs, moons in lock-step, decision boundaries
  python -m comparisons matrix --study variance    many MNIST runs (models x dtypes x seeds) on Dask, resumable
  python -m comparisons report                     what `make report` runs: every report into reports/

output: every command writes a tree laid out like reports/ under --out DIR, by default under out/
(ignored by git; $DLPARITY_OUT moves it); only `report` writes reports/ unless --out reports is given.
"""


def _select(prefixes: list[str] | None):
    from comparisons.table import BY_ID, CASES

    if not prefixes:
        return CASES
    chosen = [c for c in CASES if any(c.id == p or c.id.startswith(p.rstrip("/") + "/") or c.id.startswith(p)
                                      for p in prefixes)]
    if not chosen:
        import difflib

        close = difflib.get_close_matches(prefixes[0], BY_ID, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise SystemExit(f"error: --case {' '.join(prefixes)} matches no case id.{hint} "
                         "`python -m comparisons list` shows them all.")
    return chosen


def cmd_list(args) -> int:
    from comparisons.table import CASES

    width = max(len(c.id) for c in CASES)
    for c in CASES:
        if args.kind and c.kind != args.kind:
            continue
        known = f"  [known: {', '.join(sorted({k.framework for k in c.known}))}]" if c.known else ""
        print(f"{c.id:<{width}}  {c.kind:<11} {c.summary}{known}")
    return 0


def cmd_parity(args) -> int:
    from comparisons.report import parity

    cases = _select(args.case)
    df = parity.run_table(cases, args.framework, args.dtype, progress=not args.quiet)
    bad = df[~df["verdict"].isin(["pass", "known difference"])]
    print(parity.terminal_overview(df).to_string(index=False))
    for p in parity.write(df, cases, output_root(args)):
        print(f"wrote {p}")
    print(parity.verdict_line(df))
    print(textwrap.fill(parity.TERMINAL_LEGEND, 100))
    if len(bad):
        print(f"\n{len(bad)} FAILED quantities:", file=sys.stderr)
        for _, r in bad.iterrows():
            print(f"  {r['case']} [{r['framework']}, {r['dtype']}] {r['quantity']}: {r['detail']}", file=sys.stderr)
        return 1
    return 0


def cmd_report(args) -> int:
    from comparisons import jobs as reports

    return reports.write_all(Path(args.out), progress=not args.quiet, full=args.full, only=args.only)


def cmd_render(args) -> int:
    from comparisons.report import render

    paths = render.rerender(Path(args.root))
    print(f"wrote {len(paths)} HTML pages under {args.root}")
    return 0


def build_parser(prog: str = "python -m comparisons") -> argparse.ArgumentParser:
    """The parser; ``prog`` is the name usage lines show (``dlparity`` for the console script)."""
    p = argparse.ArgumentParser(
        prog=prog,
        description="dlparity: check from-scratch NumPy deep-learning components against Keras 3 and PyTorch, "
                    "and write the comparison reports.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sp = sub.add_parser("list", help="list the cases of the equivalence table")
    sp.add_argument("--kind", choices=["layer", "loss", "optimizer", "schedule", "initializer", "callback"],
                    help="only cases of this kind")
    sp.set_defaults(func=cmd_list)

    sp = sub.add_parser("parity", help="run cases and report their errors (parity.md/.csv/.html under --out)",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp.add_argument("--case", nargs="+", metavar="ID", help="case ids or id prefixes (default: all)")
    sp.add_argument("--framework", type=csv_choices(FRAMEWORKS), default=list(FRAMEWORKS),
                    help="keras,torch (default both)")
    sp.add_argument("--dtype", type=csv_choices(DTYPES), default=list(DTYPES), help="float64,float32 (default both)")
    add_out_argument(sp)
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sp.set_defaults(func=cmd_parity)

    sp = sub.add_parser("report", help="write every report into reports/ (what `make report` runs)")
    sp.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR",
                    help="report tree root (default reports/, the committed reports)")
    sp.add_argument("--full", action="store_true", help="MNIST runs with the full recipes (hours) instead of the "
                                                        "short default (minutes); also FULL=1 with make")
    sp.add_argument("--only", type=csv_choices(list(REPORT_JOBS)), metavar="JOB[,JOB]",
                    help=f"run only these jobs ({', '.join(REPORT_JOBS)}); the index links every report present")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sp.set_defaults(func=cmd_report)

    sp = sub.add_parser("render", help="rewrite every HTML page of a report tree from its Markdown (no runs)")
    sp.add_argument("root", metavar="DIR", help="the report tree, e.g. reports")
    sp.set_defaults(func=cmd_render)

    from comparisons.studies.mnist.cli import add_commands as mnist_commands

    mnist_commands(sub)

    from comparisons.matrix.cli import add_commands as matrix_commands

    matrix_commands(sub)
    from comparisons.matrix import scaling

    scaling.add_commands(sub)

    from comparisons.report.atlas import add_commands as atlas_commands
    from comparisons.studies import bench
    from comparisons.studies.naive_port.report import add_commands as naive_port_commands
    from comparisons.studies.numgrad.cli import add_commands as numgrad_commands
    from comparisons.studies.small_tasks import add_commands as small_tasks_commands

    atlas_commands(sub)
    naive_port_commands(sub)
    numgrad_commands(sub)
    small_tasks_commands(sub)
    bench.add_commands(sub)
    from comparisons.studies.bench import suite

    suite.add_commands(sub)
    return p


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """The parser of ``command`` (its usage line is the one to print with an error)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(command, parser)
    return parser


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Parse, check every argument before any work, run; errors are printed without a traceback.

    Exit codes: 0 success, 1 a failure while running (no MNIST source, a diverged run, a file that
    cannot be written, a refused value), 2 a usage error (argparse's own or a value out of range,
    an output directory that cannot be written), 130 interrupted. ``DLPARITY_DEBUG=1`` re-raises
    failures with their traceback.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before any framework import: no C++ log lines
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    parser = build_parser(prog) if prog else build_parser()
    args = parser.parse_args(argv)
    problems = check_numbers(args) + check_directories(args)
    if problems:
        sub = _subparser(parser, args.command)
        sub.print_usage(sys.stderr)
        for problem in problems:
            print(f"{sub.prog}: error: {problem}", file=sys.stderr)
        return 2
    from comparisons.data.mnist import MnistUnavailableError

    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted: reports already written are complete; nothing is half-written", file=sys.stderr)
        return 130
    except (MnistUnavailableError, ValueError, OSError) as err:
        if os.environ.get("DLPARITY_DEBUG"):
            raise
        print(f"error: {err}", file=sys.stderr)  # MnistUnavailableError's message says what to do
        print("(set DLPARITY_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
