"""Argument types shared by the command-line parsers, and the checks ``comparisons.cli`` runs on the
parsed arguments of every command before any work (numbers finite and in range, output directories
writable, input directories present)."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path


def csv_choices(choices: Sequence[str]) -> Callable[[str], list[str]]:
    """An argparse type for a non-empty comma-separated subset of ``choices``."""
    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {', '.join(choices)}, got {text!r}")
        return items
    return parse


# -- checks run after parsing, before any work ---------------------------------------------------
#: Numeric options by destination name: (kind, lower bound, bound included, what it means). An option
#: whose type already refuses bad values (``_positive``) needs no entry; one absent from a command
#: is skipped.
NUMERIC_RULES: dict[str, tuple[type, float, bool, str]] = {
    "epochs": (float, 0.0, False, "epochs to train"),
    "lr": (float, 0.0, False, "a learning rate"),
    "h": (float, 0.0, False, "a difference step"),
    "seed": (int, 0.0, True, "a seed"),
    "seeds": (int, 1.0, True, "a number of seeds"),
    "train_limit": (int, 1.0, True, "a number of images"),
    "test_limit": (int, 1.0, True, "a number of images"),
    "profile_iterations": (int, 0.0, True, "a number of iterations; 0: no profile"),
    "max_wait": (float, 0.0, True, "seconds"),
}
#: The largest seed every framework accepts (``keras.utils.set_random_seed`` needs < 2**32).
MAX_SEED = 2**32 - 1
#: Directories a command writes into, and directories it only reads.
OUTPUT_DIRS = ("out", "cache_dir")
INPUT_DIRS = ("mnist_dir",)


def check_numbers(args: argparse.Namespace) -> list[str]:
    """Problems with the numeric options of ``args`` (empty when all are finite and in range)."""
    problems = []
    for dest, (kind, low, closed, what) in NUMERIC_RULES.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        flag = "--" + dest.replace("_", "-")
        finite = math.isfinite(value)
        in_range = finite and (value >= low if closed else value > low) and not (dest == "seed" and value > MAX_SEED)
        if not in_range:
            bound = f"{'>=' if closed else '>'} {low:g}" + (f" and <= {MAX_SEED}" if dest == "seed" else "")
            number = "an integer" if kind is int else "a finite number"
            problems.append(f"argument {flag}: expected {number} {bound} ({what}), got {value!r}")
    return problems


def check_directories(args: argparse.Namespace) -> list[str]:
    """Problems with the directory options of ``args``: outputs must be (or be creatable as)
    writable directories, inputs existing directories. Nothing is created."""
    problems = []
    for dest in OUTPUT_DIRS:
        value = getattr(args, dest, None)
        if value is None:
            continue
        flag = "--" + dest.replace("_", "-")
        path = Path(value).expanduser()
        probe = path
        while not probe.exists() and probe != probe.parent:  # the nearest existing ancestor
            probe = probe.parent
        if not probe.is_dir():
            problems.append(f"argument {flag}: {path} cannot be a directory: {probe} is a file; "
                            "choose another directory")
        elif not os.access(probe, os.W_OK | os.X_OK):
            problems.append(f"argument {flag}: {probe} is not writable; choose a directory you can write to")
    for dest in INPUT_DIRS:
        value = getattr(args, dest, None)
        if value is None:
            continue
        flag = "--" + dest.replace("_", "-")
        path = Path(value).expanduser()
        if not path.is_dir():
            state = "is a file" if path.exists() else "does not exist"
            problems.append(f"argument {flag}: expected a directory holding the four MNIST IDX files, {path} {state}")
    return problems
