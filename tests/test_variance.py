"""The variance study's numbers on hand-made runs: what is collected from disk, the paired tests,
Holm's adjustment and the page."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from comparisons.studies.variance import report, stats


def _write_run(root, model, seed, accs, finished=True, impls=("scratch", "keras", "torch")):
    folder = (root if seed == 0 else root / f"seed-{seed}") / "float32" / model
    folder.mkdir(parents=True)
    meta = {"config": {"model": model, "dtype": "float32", "seed": seed, "epochs": 1.0}, "impls": list(impls),
            "finished": finished, "stop": {}, "n_train": 100}
    (folder / "run.json").write_text(json.dumps(meta))
    for impl, acc in zip(impls, accs, strict=True):
        pd.DataFrame([{"epoch": 1, "lr": 0.1, "train_loss": 0.3, "train_acc": 0.9, "test_loss": 1 - acc,
                       "test_acc": acc, "max_param_diff": 0.0}]).to_csv(folder / f"history_{impl}.csv", index=False)
    pd.DataFrame({"epoch": [1] * len(impls), "impl": list(impls), "seconds": [60.0] * len(impls)}).to_csv(
        folder / "timings.csv", index=False)


@pytest.fixture
def runs(tmp_path):
    """5 seeds: keras = scratch + (1..5) thousandths, torch = scratch; a sixth seed unfinished."""
    root = tmp_path / "runs"
    for seed in range(5):
        base = 0.9 + seed / 100
        _write_run(root, "mlp4x32", seed, (base, base + (seed + 1) / 1000, base))
    _write_run(root, "mlp4x32", 5, (0.5, 0.5, 0.5), finished=False)
    _write_run(root, "mlp4x32", 6, (0.9, 0.9), impls=("scratch", "keras"))  # no torch: not a complete seed
    return root


def test_collect_reads_finished_runs_and_pairs_need_every_implementation(runs):
    raw = stats.collect(runs)
    assert sorted(raw["seed"].unique()) == [0, 1, 2, 3, 4, 6]  # seed 5 is unfinished
    df = stats.complete_seeds(raw)
    assert sorted(df["seed"].unique()) == [0, 1, 2, 3, 4] and len(df) == 15
    assert df["train_seconds"].eq(60.0).all()


def test_paired_tests_against_hand_computed_values(runs):
    tests = stats.paired_tests(stats.complete_seeds(stats.collect(runs))).set_index(["metric", "pair"])
    ks = tests.loc[("test_acc", "keras - scratch")]
    # d = 0.001..0.005: mean 0.003, SD sqrt(2.5) / 1000; all five positive -> exact two-sided p = 2 / 2**5.
    assert ks["mean d"] == pytest.approx(0.003) and ks["SD d"] == pytest.approx(math.sqrt(2.5) / 1000)
    assert ks["Wilcoxon p"] == pytest.approx(2 / 32)
    t = 0.003 / (math.sqrt(2.5) / 1000 / math.sqrt(5))  # 4.243 on 4 degrees of freedom
    from scipy import stats as sps

    assert ks["paired t p"] == pytest.approx(2 * sps.t.sf(t, 4))
    assert ks["d_z"] == pytest.approx(0.003 / (math.sqrt(2.5) / 1000))
    ts = tests.loc[("test_acc", "torch - scratch")]  # identical in every seed: nothing to test
    assert ts["seeds with d = 0"] == 5 and math.isnan(ts["Wilcoxon p"]) and math.isnan(ts["paired t p"])


def test_holm_adjustment():
    got = stats._holm(np.array([0.01, 0.04, 0.03, np.nan]))
    assert got[:3] == pytest.approx([0.03, 0.06, 0.06]) and math.isnan(got[3])


def test_the_page_says_how_many_seeds_and_draws_the_plots(runs, tmp_path):
    paths = report.write(runs, tmp_path)
    text = (tmp_path / "README.md").read_text()
    assert "mlp4x32: 5 seeds (0, 1, 2, 3, 4)" in text
    assert "smallest two-sided exact Wilcoxon p-value possible is 0.062" in text
    assert tmp_path / "variance_mlp4x32.png" in paths and (tmp_path / "tests.csv").exists()
