"""Small tasks in lock-step: agreement per step, learning, data generators, bad input, the report.

Every task runs once per dtype (module fixture, about ten seconds in all).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from comparisons.studies.numgrad.train import GATE_INPUTS, GATES
from comparisons.studies.small_tasks import add_commands, train
from comparisons.studies.small_tasks import data as D
from comparisons.studies.small_tasks import tasks as T
from comparisons.studies.small_tasks.impls import ScratchTaskImpl, accuracy
from comparisons.studies.small_tasks.report import write_report
from scratch import losses as S

# float64: the three implementations compute the same sums in different orders; measured worst
# step-loss difference about 1.4e-14 (moons, 400 steps), parameters within 5e-15. House bound 1e-10.
F64_STEP_LOSS = 1e-10
F64_PARAMS = 1e-10  # absolute; the weights are of order 1 to 10
# float32: rounding (unit roundoff 6e-8) enters every step and accumulates through hundreds of
# updates (and the momentum buffer); the gates' losses fall to ~1e-3, so an absolute rounding of
# the loss is a larger relative one. Measured worst: 1.4e-5 (moons, Keras), the gates ~3e-6.
# 1e-4 is the house float32 tolerance and leaves a factor 7.
F32_STEP_LOSS = 1e-4
# Accuracy each implementation must reach (measured: gates 1.0; blobs test 0.913; moons test 0.975).
MIN_TEST_ACC = {"and": 1.0, "or": 1.0, "nand": 1.0, "xor": 1.0, "blobs": 0.9, "moons": 0.95}


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, str], train.TaskRun]:
    return {(r.task.name, r.dtype): r for r in train.run_all()}


@pytest.mark.parametrize("framework", train.FRAMEWORKS)
@pytest.mark.parametrize("name", list(T.TASKS))
def test_float64_lockstep_agrees_on_every_step(runs, name, framework):
    run = runs[(name, "float64")]
    assert len(run.steps) == run.task.steps
    diff = run.steps[f"rel_diff_{framework}"]
    assert np.isfinite(diff).all()
    worst = int(diff.to_numpy().argmax())
    assert (diff < F64_STEP_LOSS).all(), f"{name} {framework}: step {worst} differs by {diff.iloc[worst]:.2e}"
    final = run.final.set_index("implementation")
    assert final.loc[framework, "max_param_diff"] < F64_PARAMS
    for col in ("train_acc", "test_acc"):  # same function, same weights: the same predictions
        assert final.loc[framework, col] == final.loc["scratch", col]


@pytest.mark.parametrize("framework", train.FRAMEWORKS)
@pytest.mark.parametrize("name", list(T.TASKS))
def test_float32_lockstep_within_rounding(runs, name, framework):
    run = runs[(name, "float32")]
    worst = run.worst(framework)
    assert worst < F32_STEP_LOSS, f"{name} {framework}: float32 step losses differ by {worst:.2e}"
    assert worst > 0  # float32 rounding differs somewhere: the comparison is not vacuous


@pytest.mark.parametrize("dtype", T.DTYPES)
@pytest.mark.parametrize("name", list(T.TASKS))
def test_tasks_learn(runs, name, dtype):
    run = runs[(name, dtype)]
    for _, row in run.final.iterrows():
        assert row["test_acc"] >= MIN_TEST_ACC[name], (name, dtype, row["implementation"], row["test_acc"])
    losses = run.steps["loss_scratch"]
    assert losses.iloc[-10:].mean() < losses.iloc[:10].mean() / 4, f"{name}: the loss hardly fell"


def test_xor_is_learned_exactly_by_scratch(runs):
    run = runs[("xor", "float64")]
    y = run.impls["scratch"].outputs(GATE_INPUTS)
    np.testing.assert_array_equal((y[:, 0] > 0.5).astype(int), GATES["XOR"])


def test_run_restores_torch_threads(runs):
    from reference import frameworks

    before = frameworks.torch().get_num_threads()
    train.run("and", "float64")
    assert frameworks.torch().get_num_threads() == before


# -- data -------------------------------------------------------------------------------------
def test_gates_data():
    for gate, truth in GATES.items():
        d = D.gate(gate)
        assert d.x_train.shape == (4, 2) and d.t_train.shape == (4, 1) and d.n_classes == 2
        np.testing.assert_array_equal(d.t_train[:, 0], truth)
        np.testing.assert_array_equal(d.labels("test"), truth)


def test_blobs_shapes_labels_and_centres():
    d = D.three_blobs(n_train=300, n_test=150, seed=0)
    assert d.x_train.shape == (300, 2) and d.x_test.shape == (150, 2) and d.n_classes == 3
    assert d.t_train.dtype == np.int64 and d.t_train.shape == (300,)
    assert np.bincount(d.t_train).tolist() == [100, 100, 100]
    x, t = D.blobs_sample(30_000, np.random.default_rng(1), radius=2.0, std=0.9)
    angles = np.pi / 2 + 2 * np.pi * np.arange(3) / 3
    for k in range(3):  # class means at the centres: 4 standard errors = 4 * 0.9 / sqrt(10000) = 0.036
        np.testing.assert_allclose(x[t == k].mean(0), 2.0 * np.array([np.cos(angles[k]), np.sin(angles[k])]),
                                   atol=0.036)
        np.testing.assert_allclose(x[t == k].std(0), 0.9, rtol=0.03)


def test_moons_lie_on_two_half_circles_without_noise():
    x, t = D.moons_sample(101, np.random.default_rng(0), noise=0.0)
    assert x.shape == (101, 2) and np.bincount(t).tolist() == [50, 51]
    np.testing.assert_allclose(np.hypot(*x[t == 0].T), 1.0, atol=1e-12)
    assert (x[t == 0, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(x[t == 1, 0] - 1.0, x[t == 1, 1] - 0.5), 1.0, atol=1e-12)
    assert (x[t == 1, 1] <= 0.5 + 1e-12).all()


def test_generators_are_deterministic_and_seeded():
    a, b, c = D.two_moons(seed=3), D.two_moons(seed=3), D.two_moons(seed=4)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.t_test, b.t_test)
    assert not np.array_equal(a.x_train, c.x_train)
    np.testing.assert_array_equal(D.three_blobs(seed=5).x_test, D.three_blobs(seed=5).x_test)
    f32 = a.astype("float32")
    assert f32.x_train.dtype == np.float32 and f32.t_train.dtype == np.int64


# -- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize(("call", "argument"), [
    (lambda: T.get("nor"), "task"),
    (lambda: train.run("nor"), "task"),
    (lambda: train.run("xor", "float16"), "dtype"),
    (lambda: train.run_all(["xor"], ["float64", "bfloat16"]), "dtype"),
    (lambda: train.run_all(["xor", "spiral"]), "task"),
    (lambda: D.gate("NOR"), "name"),
    (lambda: D.two_moons(n_train=1), "n_train"),
    (lambda: D.moons_sample(True, np.random.default_rng(0)), "n"),
    (lambda: D.two_moons(noise=-0.1), "noise"),
    (lambda: D.three_blobs(n_test=2.5), "n_test"),
    (lambda: D.three_blobs(std=float("nan")), "std"),
    (lambda: D.gate("AND").labels("validation"), "split"),
    (lambda: ScratchTaskImpl(T.get("xor").build("float64"), T.get("xor").optimizer(), S.SumSquaredError()), "loss"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}: "):
        call()


def test_report_refuses_bad_dtype_before_writing(tmp_path):
    with pytest.raises(ValueError, match="^dtype: "):
        write_report(tmp_path, dtypes=("float64", "float16"), progress=False)
    assert not any(tmp_path.iterdir())


def test_cli_rejects_unknown_task():
    p = argparse.ArgumentParser()
    add_commands(p.add_subparsers(dest="command"))
    assert p.parse_args(["small-tasks", "--task", "xor,moons"]).task == ["xor", "moons"]
    with pytest.raises(SystemExit):
        p.parse_args(["small-tasks", "--task", "xor,spiral"])
    with pytest.raises(SystemExit):
        p.parse_args(["small-tasks", "--dtype", "float16"])


def test_accuracy_reads_sigmoid_and_logits():
    assert accuracy(np.array([[0.2], [0.7]]), np.array([[0.0], [0.0]])) == 0.5
    assert accuracy(np.array([[0.1, 2.0, 0.3], [3.0, 0.0, 0.0]]), np.array([1, 1])) == 0.5


# -- report -----------------------------------------------------------------------------------
def test_report_files(tmp_path):
    paths, ok = write_report(tmp_path, dtypes=("float64",), progress=False, tasks=["xor"])
    assert ok
    names = {p.name for p in paths}
    assert names == {"summary.csv", "steps.csv", "divergence_float64.png", "boundaries_xor.png", "README.md",
                     "README.html"}
    assert all(p.stat().st_size > 0 for p in paths)
    table = pd.read_csv(tmp_path / "summary.csv")
    assert table["implementation"].tolist() == ["scratch", "keras", "torch"]
    assert (table["train_acc"] == 1.0).all()
    assert "boundaries_xor.png" in (tmp_path / "README.md").read_text()
