"""The row-by-row MNIST sequence models (row_lstm, row_gru) in lock-step on the shared trainer.

Fast: two float64 steps of the GRU (its (2, 3u) bias is two PyTorch parameters stepped apart) on
200 images. Slow: the full recipes in float64 against the 1e-8 step-loss bound (the committed runs
under reports/mnist/ are these). float64: every implementation rounds its sums in its own order; a
tanh/sigmoid network at SGD 0.1 keeps those differences at rounding level (measured 6e-16 over the
600 steps of row_lstm; at learning rate 0.5 they grow tenfold every ten steps from step ~110).
"""

from __future__ import annotations

import pytest

from comparisons.studies.mnist.outputs import divergence
from comparisons.studies.mnist.runner import train

F64_STEP_LOSS = 1e-8


def _check(record, bound=F64_STEP_LOSS, param_bound=1e-9):
    import pandas as pd

    assert not record.stopped
    div = divergence(record)
    for fw in ("keras", "torch"):
        worst = div[f"rel_diff_{fw}"].max()
        assert worst < bound, f"{record.config.model}: {fw} step losses differ by {worst:.2e}"
    diffs = pd.DataFrame(record.param_diffs)
    assert (diffs["max_abs_diff"] < param_bound).all(), diffs.sort_values("max_abs_diff").tail()


def test_short_row_gru_lockstep_float64(tmp_path):
    record = train("row_gru", dtype="float64", epochs=1, train_limit=200, test_limit=100, out=tmp_path,
                   progress=False)
    assert len(divergence(record)) == 2
    _check(record)
    assert {r["param"] for r in record.param_diffs} >= {"gru0.b", "gru0.W", "gru0.U", "dense1.W"}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["row_lstm", "row_gru"])
def test_full_recipe_float64_agreement(name, tmp_path):
    _check(train(name, dtype="float64", out=tmp_path, progress=False))
