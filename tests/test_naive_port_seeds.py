"""The naive-port seed study: effects paired per seed, the spread over seeds, a verdict only where
the effect stands out of the seed spread, and whether the budget has settled."""

from __future__ import annotations

import pandas as pd
import pytest

from comparisons.studies.naive_port import seeds as S
from comparisons.studies.trainer.lockstep import RunConfig, RunRecord


def _long(effect_by_seed: list[list[float]], exact: list[float]) -> pd.DataFrame:
    """Rows of one setting: effect (points) per seed (outer) and epoch (inner), exact accuracy per seed."""
    return pd.DataFrame([{"model": "m", "setting": "initializers", "framework": "Keras", "seed": s, "epoch": e + 1,
                          "exact test acc": exact[s], "effect (points)": v}
                         for s, per_epoch in enumerate(effect_by_seed) for e, v in enumerate(per_epoch)])


def test_verdict_only_beyond_the_seed_spread():
    exact = [0.90, 0.91, 0.92, 0.90, 0.91]  # sd 0.84 points
    big = S.aggregate(_long([[-3.0, -2.0]] * 5, exact)).iloc[0]
    assert big["verdict"] == "costs" and big["effect, mean (points)"] == "-2.00"
    assert big["seed spread (points, sd)"] == "0.84" and big["budget"] == "still moving"  # moved 1.00 > 0.84
    small = S.aggregate(_long([[0.5, 0.5]] * 5, exact)).iloc[0]
    assert small["verdict"] == "within seed spread" and small["budget"] == "stable"  # 0.5 < 0.84 points
    mixed = S.aggregate(_long([[2.0, 2.0], [2.0, 2.0], [-0.1, -0.1], [2.0, 2.0], [2.0, 2.0]], exact)).iloc[0]
    assert mixed["verdict"] == "within seed spread"  # one seed goes the other way


def test_effects_pair_each_naive_run_with_its_exact_port():
    rec = RunRecord(RunConfig("mlp4x32"), impls=["scratch", "keras", "keras:init", "scratch@torch", "torch"])
    for impl, acc in (("scratch", 0.9), ("keras", 0.9), ("keras:init", 0.85), ("scratch@torch", 0.88), ("torch", 0.88)):
        rec.epochs.append({"epoch": 1, "impl": impl, "test_acc": acc})
    df = S.effects(rec, seed=3).set_index("setting")
    assert round(df.loc["initializers", "effect (points)"], 6) == -5.0 and df.loc["initializers", "seed"] == 3
    assert round(df.loc["optimizer form no setting matches", "effect (points)"], 6) == -2.0


def test_page_and_plots(tmp_path):
    long = _long([[-3.0, -2.0]] * 5, [0.90, 0.91, 0.92, 0.90, 0.91])
    budget = pd.DataFrame([{"model": "m", "epochs": 2, "seeds": 5}])
    paths = S.write_page(long, budget, tmp_path, "Intro.")
    assert all(p.stat().st_size > 0 for p in paths)
    md = (tmp_path / "naive_port.md").read_text()
    assert "seed spread (points, sd)" in md and "| costs |" in md and "naive_port_epochs.png" in md


@pytest.mark.slow
def test_seed_study_runs_end_to_end(tmp_path):
    from comparisons.studies.naive_port.port import VARIANT
    from comparisons.studies.naive_port.report import write_seeds

    budget = {VARIANT.name: {"epochs": 2, "train_limit": 200, "test_limit": 100}}
    write_seeds(tmp_path, seeds=2, progress=False, models=[VARIANT.name], budgets=budget)
    df = pd.read_csv(tmp_path / "naive_port.csv")
    assert set(df["seed"]) == {0, 1} and set(df["epoch"]) == {1, 2}
