"""The numerical-gradient commands ``numgrad-train`` and ``bench-numgrad`` (``add_commands``) and the
report job ``write_reports``."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from comparisons.paths import add_out_argument, output_root
from comparisons.studies.numgrad.speed import write_speed
from comparisons.studies.numgrad.study import write_precision
from comparisons.studies.numgrad.train import (
    GATES,
    TEXTBOOK_BATCH,
    TEXTBOOK_LR,
    gate_problem,
    mnist_problem,
    train_side_by_side,
    write_training,
)

__all__ = ["add_commands", "write_reports"]


# -- command line -----------------------------------------------------------------------------
TRAIN_EPILOG = """\
examples:
  python -m comparisons numgrad-train --model twolayer --iters 100            the textbook's recipe (lr 0.1)
  python -m comparisons numgrad-train --model twolayer --iters 100 --lr 1.0
  python -m comparisons numgrad-train --model gates                           AND, OR, NAND, XOR, 20,000 iterations
  python -m comparisons numgrad-train --model gates --gates XOR --iters 3000 --lr 2

Each iteration computes the numerical gradient (central difference, h = 1e-4, all parameters) with
scratch.fastgrad and takes one SGD step; a second copy of the same initial model takes the backprop
step on the same batch. With the textbook's learning rate 0.1, 100 steps barely leave chance level
(its train_neuralnet.py runs 10,000); with 1.0 TwoLayerNet reaches ~84% in 100 steps. Writes
STEM.csv (every evaluated iteration), STEM.png and STEM.md/.html into --out.
"""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _gates(text: str) -> list[str]:
    items = [g.strip().upper() for g in text.split(",") if g.strip()]
    if not items or any(g not in GATES for g in items):
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(GATES)}, got {text!r}")
    return items


def cmd_numgrad_train(args: argparse.Namespace) -> int:
    from comparisons.studies import models

    gates = args.model == "gates"
    iters = args.iters if args.iters is not None else (20_000 if gates else 100)
    lr = args.lr if args.lr is not None else (1.0 if gates else TEXTBOOK_LR)
    eval_every = args.eval_every if args.eval_every is not None else (100 if gates else 1)
    log_every = args.log_every if args.log_every is not None else (2_000 if gates else 1)
    kw = {"iters": iters, "lr": lr, "seed": args.seed, "h": args.h, "method": args.method, "eval_every": eval_every,
          "progress": not args.quiet, "log": None if args.quiet else print, "log_every": log_every}
    if gates:
        problems = [gate_problem(g, hidden=args.hidden, seed=args.seed) for g in args.gates]
        stem = f"gates_lr{lr:g}_{iters}iters".replace(".", "p")
        title = "Logic gates learned with numerical gradients"
        intro = (f"Gates {', '.join(args.gates)}: a 2-{args.hidden}-1 sigmoid network (Glorot-uniform weights, "
                 f"seed {args.seed}), mean squared error, the four truth-table rows as one batch, {iters:,} SGD steps "
                 f"with learning rate {lr:g}; central difference h = {args.h:g} vs backprop from the same weights.")
    else:
        data = None
        if args.synthetic:
            rng = np.random.default_rng(args.seed)
            shape = (args.synthetic, *models.get(args.model).input_shape)
            data = tuple((rng.random(shape), rng.integers(0, 10, args.synthetic)) for _ in range(2))
        problems = [mnist_problem(args.model, seed=args.seed, batch_size=args.batch_size, data=data)]
        stem = f"{args.model}_lr{lr:g}_{iters}iters".replace(".", "p")  # no dot: the stem takes suffixes
        title = f"{args.model} trained with numerical gradients"
        intro = (f"`{args.model}` ({'synthetic data, a smoke test' if args.synthetic else 'MNIST'}), batches of "
                 f"{args.batch_size} drawn with replacement as the textbook's train_neuralnet.py does, {iters} SGD "
                 f"steps with learning rate {lr:g} (the textbook uses {TEXTBOOK_LR}); central difference h = "
                 f"{args.h:g} over every parameter vs backprop, same initial weights and batches. Accuracy on the "
                 "full training and test sets.")
    results = {}
    for problem in problems:
        results[problem.name] = train_side_by_side(problem, **kw)
    for p in write_training(results, output_root(args) / "numgrad", stem, title, intro):
        print(f"wrote {p}")
    return 0


def cmd_bench_numgrad(args: argparse.Namespace) -> int:
    for p in write_speed(output_root(args), naive_entries=args.naive_entries, train_iters=args.train_iters,
                         repeats=args.repeats, blas_threads=args.blas_threads, synthetic=args.synthetic,
                         progress=not args.quiet):
        print(f"wrote {p}")
    return 0


def add_commands(subparsers) -> None:
    """Register ``numgrad-train`` and ``bench-numgrad`` on an argparse subparsers object."""
    from comparisons.studies import models

    sp = subparsers.add_parser(
        "numgrad-train", help="train with numerical gradients beside backprop (TwoLayerNet on MNIST, logic gates)",
        description="Train a model with the numerical gradient of every parameter (the textbook's central "
                    "difference, made fast) and, from the same initial weights on the same batches, with backprop.",
        epilog=TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp.add_argument("--model", required=True, choices=["gates", *models.MODELS], metavar="NAME",
                    help=f"twolayer (the textbook's), gates, or another spec: {', '.join(models.MODELS)}")
    sp.add_argument("--iters", type=_positive, help="SGD steps (default 100; gates 20000)")
    sp.add_argument("--lr", type=float, help=f"learning rate (default {TEXTBOOK_LR}, the textbook's; gates 1.0)")
    sp.add_argument("--batch-size", type=_positive, default=TEXTBOOK_BATCH, help="MNIST batch size (default 100)")
    sp.add_argument("--h", type=float, default=1e-4, help="difference step (default 1e-4, the textbook's)")
    sp.add_argument("--method", choices=["central", "forward"], default="central", help="default central")
    sp.add_argument("--seed", type=int, default=0, help="initial weights and batch draws (default 0)")
    sp.add_argument("--eval-every", type=_positive, metavar="N", help="accuracy every N steps (default 1; gates 100)")
    sp.add_argument("--log-every", type=_positive, metavar="N",
                    help="print a line every N steps (default 1; gates 2000)")
    sp.add_argument("--gates", type=_gates, default=list(GATES),
                    help="gates to learn, comma-separated (default AND,OR,NAND,XOR)")
    sp.add_argument("--hidden", type=_positive, default=3, help="hidden units of the gate network (default 3)")
    sp.add_argument("--synthetic", type=_positive, metavar="N", help="N random images instead of MNIST (a smoke test)")
    add_out_argument(sp)
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no per-step lines")
    sp.set_defaults(func=cmd_numgrad_train)

    sp = subparsers.add_parser(
        "bench-numgrad", help="time the book's numerical gradient loop against the fast one (numgrad_speed.md)",
        description="Time one TwoLayerNet gradient on a batch of 100, rows interleaved, one BLAS thread: the "
                    "book's loop (scratch.textbook on the book's TwoLayerNet), scratch.gradcheck's loop (central and "
                    "forward), the fast path on both networks, backprop; then 100 iterations of numerical-gradient "
                    "training. Writes numgrad_speed.md/.html/.csv into --out.")
    sp.add_argument("--naive-entries", type=_positive, metavar="N", default=2_000,
                    help="time the loops over N entries (best of --repeats) and extrapolate to all 39,760 "
                         "(default 2000); 39760 times each whole loop once (a minute or more each)")
    sp.add_argument("--train-iters", type=_positive, default=100, help="training iterations to time (default 100)")
    sp.add_argument("--repeats", type=_positive, default=5,
                    help="interleaved rounds, each row's best kept (default 5)")
    sp.add_argument("--blas-threads", type=_positive, default=1, metavar="N",
                    help="BLAS threads while timing (default 1: on a shared machine more threads wait for each other)")
    sp.add_argument("--synthetic", action="store_true", help="synthetic images instead of MNIST")
    add_out_argument(sp)
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    sp.set_defaults(func=cmd_bench_numgrad)


def write_reports(out_dir: str | Path, *, progress: bool = True) -> None:
    """Write the precision study (under a minute) into ``out_dir`` (the ``make report`` job; the speed
    and training reports are written by ``bench-numgrad`` and ``numgrad-train``)."""
    for p in write_precision(Path(out_dir), progress=progress):
        print(f"wrote {p}")
