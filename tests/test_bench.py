"""Smoke tests of the benchmark code on tiny settings (no timing assertions: speed is measured by
``python -m comparisons bench``, not by tests)."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from comparisons.studies import bench, models
from comparisons.studies.bench import impls, report, system
from comparisons.studies.bench.driver import ConfigResult


def test_keras_runs_float32_only():
    assert bench.configs_for(["scratch", "keras_fit", "torch"], ["float32", "float64"]) == [
        ("scratch", "float32"), ("keras_fit", "float32"), ("torch", "float32"),
        ("scratch", "float64"), ("torch", "float64")]
    assert bench.configs_for(["keras_loop"], ["float64"]) == []


def test_command_registers_with_every_option():
    parser = argparse.ArgumentParser()
    bench.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench", "--models", "twolayer,simple_convnet", "--impls", "scratch,torch",
                              "--dtypes", "float32", "--repeats", "3", "--iterations", "7", "--threads", "1",
                              "--out", "somewhere"])
    assert (args.models, args.impls, args.dtypes) == (["twolayer", "simple_convnet"], ["scratch", "torch"],
                                                      ["float32"])
    assert (args.repeats, args.iterations, args.threads, args.out) == (3, 7, 1, "somewhere")
    for bad in (["bench", "--models", "resnet"], ["bench", "--repeats", "0"], ["bench", "--impls", "jax"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


def test_flops_of_twolayer_skip_the_first_input_gradient():
    step, forward = system.train_flops(models.build("twolayer", dtype="float32"), (784,), 100)
    products = 2 * 100 * (784 * 50 + 50 * 10)
    assert forward == products
    assert step == products + 2 * 100 * 784 * 50 + 2 * (2 * 100 * 50 * 10)  # dW of both, dx of the second


def test_flops_of_mlp_count_the_first_dense_after_flatten_as_first():
    _, forward = system.train_flops(models.build("mlp4x32", dtype="float32"), (784,), 1)
    step, _ = system.train_flops(models.build("mlp4x32", dtype="float32"), (784,), 1)
    first = 2 * 784 * 32
    assert step == 3 * forward - first


def _result(impl, dtype, seconds, evals, rss, model="twolayer"):
    setup = {"batch": 100, "train_size": 60000, "step_flops": 1e9, "info": {}}
    return ConfigResult(model, impl, dtype, setup, list(seconds), list(evals), 0.9, rss)


def test_results_table_ratios_and_targets():
    results = [_result("torch", "float32", [2.0, 1.0, 3.0], [1.0, 1.0], 500.0),
               _result("scratch", "float32", [1.0, 0.5, 4.0], [0.5, 0.5], 250.0),
               _result("keras_fit", "float32", [4.0, 4.0, 4.0], [2.0, 2.0], 1000.0),
               _result("scratch", "float64", [3.0, 3.0, 3.0], [1.0, 1.0], 400.0)]
    df = report.results_table(results, iterations=300)
    row = df.set_index(["impl", "dtype"])
    assert row.loc[("torch", "float32"), "epoch / torch"] == 1.0
    assert row.loc[("scratch", "float32"), "epoch s (median)"] == pytest.approx(1.0 * 600 / 300)
    assert row.loc[("scratch", "float32"), "epoch / torch"] == pytest.approx(0.5)
    assert row.loc[("keras_fit", "float32"), "RSS / torch"] == pytest.approx(2.0)
    assert row.loc[("scratch", "float64"), "epoch / torch"] == pytest.approx(1.5)  # no torch float64: float32
    assert bool(row.loc[("scratch", "float32"), "extrapolated"])
    assert row.loc[("scratch", "float32"), "fastest peer"] == "torch"  # 2.0 s against Keras fit's 4.0 s
    assert row.loc[("scratch", "float64"), "epoch / fastest peer"] == pytest.approx(1.5)
    targets = report.targets_table(df)
    assert targets.to_dict("records") == [
        {"model": "twolayer", "measure": "epoch time / fastest peer (PyTorch loop)", "target": "<= 1.0",
         "measured": "0.50", "per round [min, max]": "[0.50, 1.33]", "met": "yes"},  # 1/2, 0.5/1, 4/3
        {"model": "twolayer", "measure": "evaluation time / fastest peer", "target": "<= 1.0", "measured": "0.50",
         "per round [min, max]": "[0.50, 0.50]", "met": "yes"}]
    before = df.assign(**{"epoch s (median)": df["epoch s (median)"] * 4, "epoch / torch": df["epoch / torch"] * 4})
    table = report.before_after(df, before)
    assert list(table["speed-up vs torch"]) == ["4.0x", "4.0x"]


def test_fastest_peer_and_roofline():
    results = [_result("torch", "float32", [2.0], [1.0], 500.0, model="simple_convnet"),
               _result("keras_loop", "float32", [1.0], [3.0], 800.0, model="simple_convnet"),
               _result("scratch", "float32", [1.5], [0.5], 400.0, model="simple_convnet")]
    ceiling = [{"library": "numpy", "dtype": "float32", "GFLOP/s": 100.0},
               {"library": "torch", "dtype": "float32", "GFLOP/s": 120.0},
               {"library": "numpy", "dtype": "float64", "GFLOP/s": 500.0}]  # not the float32 ceiling
    df = report.results_table(results, iterations=600, ceiling_rows=ceiling).set_index("impl")
    assert df.loc["scratch", "fastest peer"] == "keras_loop"
    assert df.loc["scratch", "epoch / fastest peer"] == pytest.approx(1.5)
    assert df.loc["scratch", "eval / fastest peer"] == pytest.approx(0.5)  # evaluation: PyTorch is its fastest
    # per-round ratios against the same peers: 1.5 / 1.0 for the epoch (Keras loop), 0.5 / 1.0 for evaluation
    assert df.loc["scratch", ["epoch / fastest peer (round min)", "epoch / fastest peer (round max)"]].tolist() == \
        pytest.approx([1.5, 1.5])
    assert df.loc["scratch", "eval / fastest peer (round max)"] == pytest.approx(0.5)
    # 1e9 FLOP per step, 600 steps per epoch, 1.5 s per epoch: 400 GFLOP/s over a 120 GFLOP/s ceiling
    assert df.loc["scratch", "roofline"] == pytest.approx(400 / 120)
    met = report.targets_table(df.reset_index()).set_index("measure")["met"]
    assert met["epoch time / fastest peer (Keras loop)"] == "NO"
    assert met["train GFLOP/s / float32 ceiling"] == "yes"


def test_ceiling_is_positive():
    assert system.ceiling("numpy", "float32", n=64, repeats=2) > 0


def test_blas_info_names_numpy_library():
    info = system.describe(None)
    assert info["numpy"] == np.__version__ and info["OPENBLAS_NUM_THREADS"]


def test_end_to_end_on_synthetic_data(tmp_path):
    """Every implementation through real workers: one timed step each, the report written."""
    paths = bench.run(["mlp4x128_bn_dropout"], ["scratch", "torch", "keras_fit", "keras_loop"], ["float32"],
                      repeats=1, iterations=1, threads=1, out=tmp_path, profile_iterations=1, ceiling=False,
                      quiet=True, synthetic=64)
    names = {p.name for p in paths}
    assert {"benchmarks.md", "benchmarks.csv", "benchmarks.png", "benchmarks.html"} <= names
    df = pd.read_csv(tmp_path / "benchmarks.csv")
    assert len(df) == 4 and set(df["impl"]) == {"scratch", "torch", "keras_fit", "keras_loop"}
    assert (df["epoch s (median)"] > 0).all() and (df["peak RSS MB"] > 0).all()
    assert (df[df["impl"] == "torch"]["epoch / torch"] == 1.0).all()
    text = (tmp_path / "benchmarks.md").read_text()
    assert "synthetic data (64 random images)" in text


@pytest.mark.parametrize("impl", ["scratch", "torch", "keras_fit", "keras_loop"])
def test_each_implementation_trains_and_evaluates_a_convnet(impl):
    rng = np.random.default_rng(0)
    data = tuple((rng.random((20, 1, 28, 28)).astype("float32"), rng.integers(0, 10, 20)) for _ in range(2))
    net = models.build("simple_convnet", dtype="float32")
    before = net.layers[0].params["W"].copy()
    runner = impls.CLASSES[impl](net, data, 8, 0.1)
    assert runner.train(3) > 0
    seconds, accuracy = runner.evaluate()
    assert seconds > 0 and 0.0 <= accuracy <= 1.0
    if impl == "scratch":
        assert not np.array_equal(net.layers[0].params["W"], before)  # the SGD update reached the layer


def test_framework_dropout_replaces_the_masked_one():
    import torch

    rng = np.random.default_rng(0)
    data = tuple((rng.random((16, 784)).astype("float32"), rng.integers(0, 10, 16)) for _ in range(2))
    runner = impls.TorchImpl(models.build("mlp4x128_bn_dropout", dtype="float32"), data, 8, 0.01)
    assert sum(isinstance(m, torch.nn.Dropout) for m in runner.model) == 4
    runner.train(2)  # would raise if a masked dropout without a mask were left


def test_scratch_and_torch_are_timed_on_the_lockstep_trainer():
    from comparisons.studies.trainer import impls as trainer

    rng = np.random.default_rng(0)
    data = tuple((rng.random((16, 784)).astype("float32"), rng.integers(0, 10, 16)) for _ in range(2))
    assert isinstance(impls.ScratchImpl(models.build("mlp4x32", dtype="float32"), data, 8, 0.1).impl,
                      trainer.ScratchImpl)
    assert isinstance(impls.TorchImpl(models.build("mlp4x32", dtype="float32"), data, 8, 0.1).impl, trainer.TorchImpl)


def test_keras_twin_with_its_own_dropout_has_no_masks_to_set():
    import keras

    from reference.model_twin import build_keras

    twin = build_keras(models.build("mlp4x128_bn_dropout", dtype="float32"), (784,), dropout="own")
    assert twin.dropouts == {}
    assert sum(isinstance(layer, keras.layers.Dropout) for layer in twin.model.layers) == 4
    with pytest.raises(ValueError, match="dropout: expected 'masked' or 'own'"):
        build_keras(models.build("mlp4x32", dtype="float32"), (784,), dropout="framework")


def test_layer_times_cover_one_step_in_execution_order():
    """The layer-by-layer step: every layer once, ReLU after the pool it commutes with, product FLOPs
    only on the layers with matrix products, and the bound computed from those rows."""
    from comparisons.studies.bench import layers, report

    net = models.build("simple_convnet", dtype="float32")
    rng = np.random.default_rng(0)
    x, t = rng.random((8, 1, 28, 28)).astype("float32"), rng.integers(0, 10, 8)
    rows = layers.layer_times(net, x, t, steps=1, repeats=1)
    assert [r["type"] for r in rows] == ["Conv2D", "MaxPool2D", "ReLU", "Flatten", "Dense", "ReLU", "Dense"]
    assert all(r["forward ms"] > 0 and r["backward ms"] >= 0 for r in rows)
    flops = [r["product GFLOP"] for r in rows]
    assert flops[0] == pytest.approx(2 * (2 * 8 * 24 * 24 * 30 * 25) / 1e9)  # forward and dW; no dx for layer 1
    assert flops[1] == flops[2] == flops[3] == 0 and flops[4] > 0
    frame = pd.DataFrame([dict(model="simple_convnet", dtype="float32", **r) for r in rows])
    bound = report.products_bound(frame, ceiling=100.0)
    assert bound["gflop"] == pytest.approx(sum(flops))
    assert bound["bound"] == pytest.approx(bound["product GFLOP/s"] / 100.0)
    assert bound["step GFLOP/s"] < bound["product GFLOP/s"]
    assert len(report.layer_table(frame)) == len(rows) + 1  # and the total row
