"""The table itself: coverage of every public scratch component, unique ids, tolerances, links."""

from __future__ import annotations

import pytest

from comparisons.table import CASES
from comparisons.table.components import public_components, uncovered
from comparisons.table.spec import DTYPES, FRAMEWORKS


def _public_components():
    return public_components()


def test_every_public_component_has_a_case():
    missing = uncovered(CASES)
    assert not missing, f"public scratch components without a case in comparisons/table/: {missing}"


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
