"""What a run matrix is: cells (model x dtype x seed, one implementation set and budget), seed lists,
and the named studies.

A cell is one ``python -m comparisons mnist`` invocation: ``train(model, dtype=..., seed=..., epochs=...,
train_limit=..., test_limit=..., out=...)``. Its folder is where that command writes with
``--out OUT`` (``OUT/DTYPE/MODEL``) for seed 0, the command's default seed, and
``OUT/seed-S/DTYPE/MODEL`` for any other seed, so every seed folder is an ordinary MNIST report folder
and a cell's place never depends on the rest of the matrix.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from comparisons.paths import REPORTS
from comparisons.studies import models
from comparisons.studies.mnist.runner import SHORT, full_epochs
from comparisons.studies.trainer.lockstep import IMPLS, RunConfig

FULL_TRAIN = 60_000  # MNIST training images
DTYPES = ("float64", "float32")
BUDGETS = ("full", "short")
MAX_SEEDS = 10_000  # a seed list longer than this is a typo, not a study


@dataclass(frozen=True)
class Cell:
    """One run of the matrix. ``epochs`` is resolved (never None), so the config hash is the one
    ``run.json`` records."""

    model: str
    dtype: str
    seed: int
    impls: tuple[str, ...]
    epochs: float
    train_limit: int | None = None
    test_limit: int | None = None

    @property
    def key(self) -> str:
        return f"{self.model}/{self.dtype}/seed-{self.seed}"

    def config(self) -> RunConfig:
        return RunConfig(self.model, self.impls, self.dtype, self.epochs, self.train_limit, self.test_limit,
                         self.seed, progress=False)

    def digest(self) -> str:
        return self.config().digest()

    def out_dir(self, out: Path) -> Path:
        """The ``--out`` of the ``mnist`` command this cell is (the seed folder)."""
        return Path(out) if self.seed == 0 else Path(out) / f"seed-{self.seed}"

    def folder(self, out: Path) -> Path:
        """Where the run's files land: ``out_dir / DTYPE / MODEL``."""
        return self.out_dir(out) / self.dtype / self.model


def parse_seeds(text: str) -> list[int]:
    """``"0-9"``, ``"0,3,7"``, ``"0-4,10"`` -> sorted distinct seeds; ValueError names what is wrong."""
    seeds: set[int] = set()
    items = [t.strip() for t in str(text).split(",")]
    if not any(items):
        raise ValueError(f"seeds: expected seeds like 0-9 or 0,3,7, got {text!r}")
    for item in items:
        m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", item)
        if not m:
            raise ValueError(f"seeds: {item!r} in {text!r} is not a seed or a range A-B of non-negative integers")
        low, high = int(m[1]), int(m[2]) if m[2] is not None else int(m[1])
        if high < low:
            raise ValueError(f"seeds: the range {item!r} is empty (its end is below its start)")
        if high > 2**32 - 1:
            raise ValueError(f"seeds: {high} is above 2**32 - 1, the largest seed every framework accepts")
        if high - low + 1 + len(seeds) > MAX_SEEDS:
            raise ValueError(f"seeds: {text!r} names more than {MAX_SEEDS} seeds")
        seeds.update(range(low, high + 1))
    return sorted(seeds)


def resolve_epochs(model: str, epochs: float | None, train_limit: int | None) -> float:
    """The epochs ``train`` runs: the given ones, or the recipe's budget on the images used."""
    if epochs is not None:
        return float(epochs)
    return full_epochs(models.get(model), min(train_limit or FULL_TRAIN, FULL_TRAIN))


def cells(models_: list[str], dtypes: list[str], seeds: list[int], *, impls: tuple[str, ...] = IMPLS,
          budget: str = "full", epochs: float | None = None, train_limit: int | None = None,
          test_limit: int | None = None) -> list[Cell]:
    """Every cell of models x dtypes x seeds (in that order). ``budget="short"`` takes each model's
    short budget (``runner.SHORT``, what ``make report`` runs); ``epochs``/limits override it."""
    for name in models_:
        models.get(name)  # ValueError naming the model
    if budget not in BUDGETS:
        raise ValueError(f"budget: expected one of {', '.join(BUDGETS)}, got {budget!r}")
    bad = sorted(set(dtypes) - set(DTYPES))
    if bad:
        raise ValueError(f"dtype: expected some of {', '.join(DTYPES)}, got {bad}")
    if set(impls) - set(IMPLS):
        raise ValueError(f"impl: expected some of {', '.join(IMPLS)}, got {list(impls)}")
    impls = ("scratch", *[i for i in IMPLS if i in impls and i != "scratch"])  # scratch always runs, first
    out = []
    for name, dtype, seed in itertools.product(models_, dtypes, seeds):
        short = SHORT[name] if budget == "short" else {}
        tl = train_limit if train_limit is not None else short.get("train_limit")
        vl = test_limit if test_limit is not None else short.get("test_limit")
        ep = resolve_epochs(name, epochs if epochs is not None else short.get("epochs"), tl)
        out.append(Cell(name, dtype, seed, impls, ep, tl, vl))
    if not out:
        raise ValueError("the matrix is empty: give at least one model, one dtype and one seed")
    return out


@dataclass(frozen=True)
class Study:
    """A named matrix: its axes, its default output folder and the report it rebuilds from disk."""

    name: str
    description: str
    models: tuple[str, ...]
    dtypes: tuple[str, ...]
    seeds: str
    out: Path
    budget: str = "full"
    report: Callable[[Path], list[Path]] | None = field(default=None, compare=False)  # (runs folder) -> files


def _variance_report(runs: Path) -> list[Path]:
    from comparisons.studies.variance import report

    return report.write(runs, runs.parent)


STUDIES: dict[str, Study] = {s.name: s for s in [
    Study("variance", "10 seeds of mlp4x32 and the sigmoid twolayer in float32, full recipes: does the implementation "
          "move the final accuracy beyond what the seed does? (reports/variance/)",
          ("mlp4x32", "twolayer"), ("float32",), "0-9", REPORTS / "variance" / "runs", report=_variance_report),
    Study("mnist", "every model spec in float64 and float32, seed 0, full recipes: the runs of `make report FULL=1` "
          "(reports/mnist/)", tuple(models.MODELS), DTYPES, "0", REPORTS / "mnist"),
]}
