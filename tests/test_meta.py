"""The table itself: coverage of every public scratch component, unique ids, tolerances, links."""

from __future__ import annotations

import importlib

import pytest

from comparisons.cases import CASES
from comparisons.spec import DTYPES, FRAMEWORKS

# Modules whose ``__all__`` lists public components; each needs at least one case. The book's classes
# (scratch.textbook.*) are covered as ``textbook.<name>`` (``textbook.Dropout`` is not ``Dropout``).
COMPONENT_MODULES = ["scratch.layers", "scratch.losses", "scratch.optimizers", "scratch.schedules",
                     "scratch.initializers", "scratch.callbacks", "scratch.textbook.layers",
                     "scratch.textbook.optimizer"]
NOT_COMPONENTS = {"Layer"}  # the base class


def _public_components():
    names = {}
    for modname in COMPONENT_MODULES:
        try:
            module = importlib.import_module(modname)
        except ModuleNotFoundError:
            continue
        prefix = "textbook." if modname.startswith("scratch.textbook") else ""
        for name in getattr(module, "__all__", []):
            if name not in NOT_COMPONENTS:
                names[prefix + name] = modname
    return names


def test_every_public_component_has_a_case():
    covered = {name for case in CASES for name in case.covers}
    missing = sorted(f"{mod}.{name}" for name, mod in _public_components().items() if name not in covered)
    assert not missing, f"public scratch components without a case in comparisons/cases*.py: {missing}"


def test_layers_and_losses_are_all_listed():
    comps = _public_components()
    for name in ["Dense", "ReLU", "Sigmoid", "Tanh", "Softmax", "Flatten", "Conv2D", "MaxPool2D", "AvgPool2D",
                 "BatchNorm", "Dropout", "SoftmaxCrossEntropy", "CrossEntropy", "MeanSquaredError",
                 "SumSquaredError"]:
        assert name in comps


def test_every_class_of_the_books_layers_is_covered():
    comps = _public_components()
    for name in ["Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout", "BatchNormalization", "Convolution",
                 "Pooling"]:
        assert f"textbook.{name}" in comps


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"repeated case ids: {dupes}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_is_well_formed(case):
    for dtype in DTYPES:
        assert dtype in case.tolerance, f"{case.id}: no tolerance for {dtype}"
        tol = case.tolerance[dtype]
        assert 0 < tol.rtol < 1 and tol.reason, f"{case.id}: tolerance for {dtype} needs a value and a reason"
    assert set(case.frameworks) <= set(FRAMEWORKS) and case.frameworks
    for known in case.known:
        assert known.framework in case.frameworks
        assert known.link.startswith("https://"), f"{case.id}: known difference needs a link"
        assert known.what and known.why and known.holds and known.quantities
