"""The defaults table: every documented Keras/PyTorch default matches the installed library."""

from __future__ import annotations

import pytest

from comparisons.report.atlas.formula import resolve
from comparisons.studies.defaults import settings as D


def test_every_documented_default_matches_the_installed_library():
    bad = D.mismatches()
    assert not bad, "documented defaults that the installed libraries contradict:\n" + "\n".join(bad)


def test_a_wrong_documented_value_is_reported():
    row = next(r for r in D.ROWS if r.setting == "what momentum weights")
    wrong = D.Default(row.component, row.setting, row.textbook, keras=row.torch, torch=row.keras,
                      read_keras=row.read_keras, read_torch=row.read_torch)
    bad = D.mismatches([wrong])
    assert len(bad) == 2 and "installed 'weights the running value'" in bad[0]
    assert "MISMATCH" in D.table([wrong]).iloc[0]["Keras (installed)"]


@pytest.mark.parametrize("setting", ["where epsilon enters", "what momentum weights", "feature order after a conv",
                                     "how patience counts", "scaling"])
def test_conventions_are_read_by_experiment_not_copied(setting):
    """The convention rows must have readers for both frameworks, and the two libraries must differ
    where the documentation says they differ."""
    rows = [r for r in D.ROWS if r.setting == setting]
    assert rows
    for row in rows:
        assert row.read_keras is not None and row.read_torch is not None
        got = D.read(row)
        assert (got["keras"] == got["torch"]) == (row.keras == row.torch), row


def test_rows_name_components_of_the_scratch_package():
    for name in D.components():
        assert resolve(name) is not None, f"{name} is not a public scratch component"


def test_the_issue_list_of_defaults_is_covered():
    settings = {(r.component, r.setting) for r in D.ROWS}
    for needed in [("BatchNorm", "what momentum weights"), ("BatchNorm", "epsilon (default)"),
                   ("BatchNorm", "running-variance estimator"), ("BatchNorm", "initial running variance"),
                   ("Adam", "where epsilon enters"), ("RMSprop", "where epsilon enters"),
                   ("Adagrad", "initial accumulator (default)"), ("SGD", "learning rate (default)"),
                   ("Dense", "weight initializer (default)"), ("Dense", "bias initializer (default)"),
                   ("Conv2D", "'same', kernel 3, stride 2, H = 8"), ("Flatten", "feature order after a conv"),
                   ("CrossEntropy", "probabilities near 0"), ("ExponentialDecay", "what a schedule counts"),
                   ("ReduceLROnPlateau", "how patience counts"), ("Dropout", "scaling")]:
        assert needed in settings, needed
