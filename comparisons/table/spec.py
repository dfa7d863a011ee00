"""The vocabulary of the case table: tolerances, known differences, compared quantities, cases.

A case is data: an id, its kind, what scratch component(s) it covers, the scratch factory with every
hyperparameter, the inputs, kind-specific parameters, tolerances per dtype and the known framework
differences. It carries no code that runs it: the harness (``comparisons.harness.registry``) looks
the runner up by the case's kind (and ``check``, for kinds with several). The same cases drive
pytest and the reports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

FRAMEWORKS = ("keras", "torch")
DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Tolerance:
    """Largest allowed normwise relative error, max|a - b| / max|b|, and why it is that large."""

    rtol: float
    reason: str


#: Default tolerances, from what the arithmetic allows: a reduction of n terms rounds to about
#: n * eps relative (eps = 1.1e-16 in float64, 6.0e-8 in float32), and the largest reductions
#: here have n of about 10^3, with the frameworks summing in another order than NumPy.
DEFAULT_TOLERANCE: Mapping[str, Tolerance] = {
    "float64": Tolerance(1e-10, "float64: reductions of <= 10^3 terms round to ~1e-13; 1e-10 leaves margin "
                                "for different summation orders and BLAS blocking"),
    "float32": Tolerance(1e-4, "float32: eps = 6e-8, reductions of <= 10^3 terms in another order round "
                               "to ~1e-5 relative"),
}


@dataclass(frozen=True)
class Context:
    """What a known-difference relation may need: the inputs seen so far and the dtype."""

    dtype: str
    history: tuple[np.ndarray, ...] = ()  # training-mode inputs so far, scratch layout
    inputs: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Known:
    """A real framework difference, recorded as data.

    Attributes:
        framework: ``"keras"`` or ``"torch"``.
        quantities: the quantities it affects (``"output"``, ``"dx"``, ``"buffer:running_var"``, ...).
        what: what differs, in a sentence.
        why: where it comes from.
        link: documentation or source that shows it.
        holds: the relation that does hold, in words/maths.
        relation: maps the framework's value to the value scratch must then equal (tested at
            the case's tolerance).
        upstream: optional map of scratch's upstream gradient into the framework's layout.
        dtypes: the dtypes in which the difference exists (some exist only in float64, below
            float32 resolution or because float32 runs round the same way).
    """

    framework: str
    quantities: tuple[str, ...]
    what: str
    why: str
    link: str
    holds: str
    relation: Callable[[np.ndarray, Context], np.ndarray]
    upstream: Callable[[np.ndarray, Context], np.ndarray] | None = None
    dtypes: tuple[str, ...] = DTYPES

    def applies(self, framework: str, quantity: str, dtype: str) -> bool:
        return framework == self.framework and quantity in self.quantities and dtype in self.dtypes


@dataclass
class Compared:
    """One quantity of one step: the scratch value and the framework value it must equal
    (already passed through the known difference's relation, when there is one)."""

    quantity: str
    step: int
    scratch: np.ndarray
    framework: np.ndarray
    raw_framework: np.ndarray | None = None  # before the relation
    known: Known | None = None


@dataclass(frozen=True)
class Case:
    """One row of the equivalence table.

    Attributes:
        id: stable identifier, ``family/variant`` (e.g. ``"batchnorm2d/torch/train"``).
        kind: ``"layer"``, ``"loss"``, ``"optimizer"``, ``"schedule"``, ``"initializer"``, ``"callback"``;
            the harness chooses the runner from it.
        covers: public scratch names the case exercises (the coverage meta-test reads this).
        summary: one line for the reports.
        make: factory of the scratch object, ``make(dtype)`` (every hyperparameter explicit).
        inputs: ``inputs(rng, dtype) -> dict`` of what the run needs (arrays, gradient functions...).
        script: for layers, the modes of successive steps (``("train", "train", "eval")``).
        params: kind-specific settings for the runner (number of steps, epochs, initial learning
            rate, callback grid...): everything the run needs, so no runner reads a module constant.
            ``slow``: True puts the case's tests in the slow set (the reports run every case).
        check: for kinds with several procedures, which one (callbacks: ``"plateau"``,
            ``"early-stopping"``, ``"checkpoint"``, ``"lr-scheduler"``); empty otherwise.
        tolerance: per dtype.
        known: known differences.
        frameworks: which frameworks it is compared with.
    """

    id: str
    kind: str
    covers: tuple[str, ...]
    summary: str
    make: Callable[[str], object]
    inputs: Callable[[np.random.Generator, str], dict]
    script: tuple[str, ...] = ("train",)
    tolerance: Mapping[str, Tolerance] = field(default_factory=lambda: DEFAULT_TOLERANCE)
    known: tuple[Known, ...] = ()
    frameworks: tuple[str, ...] = FRAMEWORKS
    params: Mapping[str, object] = field(default_factory=dict)
    check: str = ""

    def known_for(self, framework: str, quantity: str, dtype: str) -> Known | None:
        return next((k for k in self.known if k.applies(framework, quantity, dtype)), None)

    @property
    def seed(self) -> int:
        """A stable per-case seed (CRC32 of the id), so every run draws the same inputs."""
        import zlib

        return zlib.crc32(self.id.encode())
