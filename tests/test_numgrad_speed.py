"""The speed study's table: the book's loop on the book's TwoLayerNet and scratch.gradcheck's loop as
the two baselines, every row at the same weights and batch (no timing is asserted)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from comparisons.report import dashboard
from comparisons.studies import models
from comparisons.studies.numgrad.speed import KEYS, benchmark, book_twin
from comparisons.studies.numgrad.study import data_batch

EPS = np.finfo(np.float64).eps


def test_book_twin_has_the_sequential_weights_and_leaves_the_global_generator():
    model = models.build("twolayer", seed=0, dtype="float64")
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (the book's constructor draws from it)
    net = book_twin(model)
    assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    assert all(np.array_equal(net.params[k], model.params[q]) for k, q in KEYS.items())
    assert not any(np.shares_memory(net.params[k], model.params[q]) for k, q in KEYS.items())


def test_benchmark_rows_baselines_and_agreement():
    x, t, _ = data_batch(n=20, synthetic=True)
    df, info = benchmark(x, t, naive_entries=60, train_iters=1, repeats=1, progress=False)
    rows = df.set_index("method")
    for name in ("book loop, central", "gradcheck loop, central", "fast, central", "fast, central (Sequential)"):
        assert name in rows.index
    assert rows.loc["book loop, central", "speed-up vs book loop"] == 1.0
    assert rows.loc["gradcheck loop, central", "speed-up vs gradcheck loop"] == 1.0
    assert "extrapolated" in rows.loc["book loop, central", "timed"]
    # the fast path against each loop, on the timed entries: within the rounding of the loss over 2h
    for key, loss in (("agree book", info["loss book"]), ("agree gradcheck", info["loss"])):
        assert info[key].max_abs <= 16 * EPS * max(abs(loss), 1) / 1e-4, key
    assert info["scale book"] > 0 and info["threads"] == 1


def test_dashboard_reads_both_speed_ups(tmp_path):
    pd.DataFrame({"method": ["fast, central", "fast, central (Sequential)"], "speed-up vs book loop": [512.3, 600.0],
                  "speed-up vs gradcheck loop": [700.0, 871.6]}).to_csv(tmp_path / "numgrad_speed.csv", index=False)
    (line,) = dashboard.numgrad_lines(tmp_path)
    assert "512x the book's own loop" in line and "(872x scratch.gradcheck's)" in line
