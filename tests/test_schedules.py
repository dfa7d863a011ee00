"""Schedules: closed forms at hand-computed points, the step-counting conventions of Keras and
PyTorch, Keras's float32/float64 behaviour, PyTorch's recursive drift, bad input, the plot.

The full-sequence parity with both frameworks runs through the case table (tests/test_parity.py).
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import pytest

from scratch import schedules as S

# -- closed forms ---------------------------------------------------------------------------------


def test_staircase_changes_at_multiples_of_decay_steps():
    s = S.ExponentialDecay(initial_lr=0.1, decay_steps=100, decay_rate=0.7, staircase=True)
    assert [s.lr_at(k) for k in (0, 99, 100, 199, 200)] == [0.1, 0.1, 0.1 * 0.7, 0.1 * 0.7, 0.1 * 0.7**2]


def test_piecewise_boundaries_are_inclusive():
    s = S.PiecewiseConstant(boundaries=(300, 700), values=(0.1, 0.03, 0.009))
    assert [s.lr_at(k) for k in (0, 300, 301, 700, 701)] == [0.1, 0.1, 0.03, 0.03, 0.009]


def test_polynomial_holds_and_cycles():
    s = S.PolynomialDecay(initial_lr=0.1, decay_steps=100, end_lr=0.01, power=1.0, cycle=False)
    assert s.lr_at(50) == pytest.approx(0.055, abs=1e-16) and s.lr_at(100) == s.lr_at(500) == pytest.approx(0.01)
    c = S.PolynomialDecay(initial_lr=0.1, decay_steps=100, end_lr=0.01, power=1.0, cycle=True)
    assert c.lr_at(0) == 0.1 and c.lr_at(100) == pytest.approx(0.01)
    assert c.lr_at(150) == pytest.approx(0.09 * (1 - 150 / 200) + 0.01)  # D doubled after the first cycle


def test_cosine_hold_versus_periodic_after_decay_steps():
    hold = S.CosineDecay(initial_lr=0.1, decay_steps=100, alpha=0.1, after_decay="hold")
    periodic = S.CosineDecay(initial_lr=0.1, decay_steps=100, alpha=0.1, after_decay="periodic")
    assert hold.lr_at(50) == periodic.lr_at(50) == pytest.approx(0.1 * (0.9 * 0.5 + 0.1))
    assert hold.lr_at(200) == pytest.approx(0.01) and periodic.lr_at(200) == pytest.approx(0.1)
    assert periodic.lr_at(150) == pytest.approx(periodic.lr_at(50))  # reflected about D


def test_cosine_warmup_is_linear_then_cosine_from_the_target():
    s = S.CosineDecay(initial_lr=0.0, decay_steps=100, alpha=0.0, warmup_target=0.1, warmup_steps=10)
    assert [s.lr_at(k) for k in (0, 5, 10)] == pytest.approx([0.0, 0.05, 0.1])
    assert s.lr_at(60) == pytest.approx(0.05) and s.lr_at(500) == 0.0


def test_sgdr_restarts_exactly_at_period_starts():
    s = S.CosineDecayRestarts(initial_lr=0.1, first_decay_steps=100, t_mul=2.0, m_mul=0.5, alpha=0.0)
    periods = [s.period(k) for k in (0, 99, 100, 299, 300, 700)]
    assert [i for i, _ in periods] == [0, 0, 1, 1, 2, 3]
    assert [f for _, f in periods] == pytest.approx([0.0, 0.99, 0.0, 0.995, 0.0, 0.0], abs=1e-15)
    assert periods[2][1] == periods[4][1] == periods[5][1] == 0.0  # restarts are exact
    assert s.lr_at(700) == 0.1 * 0.5**3


def test_one_cycle_matches_pytorch_documented_values():
    """max_lr=1, 10 steps (PyTorch's own example values), independent of any framework run."""
    s = S.OneCycle(max_lr=1.0, total_steps=10, pct_start=0.3, anneal_strategy="cos", div_factor=25.0,
                   final_div_factor=1e4, three_phase=False)
    expected = [0.04, 0.52, 1.0, 0.950, 0.812, 0.611, 0.389, 0.188, 0.050, 4e-6]
    assert [s.lr_at(k) for k in range(10)] == pytest.approx(expected, abs=5e-4)
    assert s.momentum_at(0) == 0.95 and s.momentum_at(2) == pytest.approx(0.85)


def test_warmup_cosine_epochs_holds_each_epoch():
    s = S.WarmupCosineEpochs(max_lr=0.01, warmup_epochs=3, total_epochs=30, steps_per_epoch=40, min_lr=0.0)
    assert [s.lr_at_epoch(e) for e in (0, 1, 2, 3)] == pytest.approx([0.01 / 3, 0.02 / 3, 0.01, 0.01])
    assert s.lr_at(39) == s.lr_at_epoch(0) and s.lr_at(40) == s.lr_at_epoch(1)
    assert s.lr_at_epoch(29) == pytest.approx(0.005 * (1 + math.cos(math.pi * 26 / 27)))


def test_sequence_is_lr_at_of_every_step():
    s = S.InverseTimeDecay(initial_lr=0.1, decay_steps=10, decay_rate=0.5, staircase=False)
    assert np.array_equal(s.sequence(25), [s.lr_at(k) for k in range(25)])


# -- step-counting conventions --------------------------------------------------------------------


def test_keras_first_update_uses_schedule_at_zero():
    """Keras applies update t + 1 with schedule(t): a float64 variable with gradient 1 falls by lr_at(t)."""
    from reference import frameworks

    k = frameworks.keras()
    s = S.ExponentialDecay(initial_lr=0.1, decay_steps=2, decay_rate=0.5, staircase=True)
    v = k.Variable(np.zeros(1), dtype="float64")
    from reference.keras_schedules import build

    opt = k.optimizers.SGD(learning_rate=build(s, "float64"), momentum=0.0)
    steps = []
    for _ in range(5):
        before = float(v.numpy()[0])
        opt.apply_gradients([(k.ops.ones(1, dtype="float64"), v)])
        steps.append(before - float(v.numpy()[0]))
    assert steps == pytest.approx([s.lr_at(t) for t in range(5)], rel=1e-15, abs=0)


def test_torch_milestone_is_keras_boundary_plus_one():
    from reference import frameworks

    torch = frameworks.torch()
    s = S.PiecewiseConstant(boundaries=(3,), values=(0.1, 0.01))

    def torch_lrs(milestone):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[milestone], gamma=0.1)
        out = []
        for _ in range(6):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    assert torch_lrs(4) == pytest.approx(s.sequence(6).tolist(), rel=1e-15)
    assert torch_lrs(3)[3] != s.lr_at(3)  # milestone = boundary switches one step early


# -- Keras dtype findings -------------------------------------------------------------------------


def test_keras_dtype_follows_initial_learning_rate_and_python_floats_round_through_float32():
    from reference import frameworks

    ks = frameworks.keras().optimizers.schedules
    assert ks.ExponentialDecay(0.1, 100, 0.3)(5).dtype.name == "float32"
    exact = ks.ExponentialDecay(np.float64(0.1), 100, np.float64(0.3))(50)
    pitfall = ks.ExponentialDecay(np.float64(0.1), 100, 0.3)(50)
    assert exact.dtype.name == pitfall.dtype.name == "float64"
    truth = S.ExponentialDecay(initial_lr=0.1, decay_steps=100, decay_rate=0.3).lr_at(50)
    assert abs(float(exact) - truth) <= 1e-16 * truth
    assert abs(float(pitfall) - truth) > 1e-9 * truth  # decay_rate went through float32


def test_keras_sgdr_graph_misses_restart_that_eager_finds():
    """The finding recorded in schedule/sgdr/t_mul=2; also: the fast graph path equals the optimizer path."""
    from reference.keras_schedules import lr_sequence

    s = S.CosineDecayRestarts(initial_lr=0.1, first_decay_steps=100, t_mul=2.0, m_mul=1.0, alpha=0.0)
    graph = lr_sequence(s, 701, "float64", mode="graph")
    assert graph[700] == 0.0 and graph[300] == 0.1
    assert lr_sequence(s, 701, "float64", mode="eager")[700] == 0.1
    assert np.array_equal(graph, lr_sequence(s, 701, "float64", mode="optimizer"))


# -- PyTorch recursion drift ----------------------------------------------------------------------


@pytest.mark.parametrize("schedule", [
    S.ExponentialDecay(initial_lr=0.1, decay_steps=100, decay_rate=0.3),
    S.PolynomialDecay(initial_lr=0.1, decay_steps=800, end_lr=0.0, power=2.0),
    S.CosineDecay(initial_lr=0.1, decay_steps=100, alpha=0.1, after_decay="periodic"),
    S.CosineDecay(initial_lr=0.001, decay_steps=1100, alpha=0.05, warmup_target=0.1, warmup_steps=100),
], ids=["ExponentialLR", "PolynomialLR", "CosineAnnealingLR-6-periods", "LinearLR+CosineAnnealingLR"])
def test_torch_recursive_drift_is_measurable_but_below_1e12(schedule):
    from reference.torch_schedules import sequences

    closed = schedule.sequence(1200)
    drift = np.abs(sequences(schedule, 1200)["lr"] - closed).max() / np.abs(closed).max()
    assert 0 < drift < 1e-12


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "name"), [
    (lambda: S.ExponentialDecay(initial_lr=-0.1, decay_steps=10, decay_rate=0.5), "initial_lr"),
    (lambda: S.ExponentialDecay(initial_lr=0.1, decay_steps=0, decay_rate=0.5), "decay_steps"),
    (lambda: S.InverseTimeDecay(initial_lr=0.1, decay_steps=-5, decay_rate=0.5), "decay_steps"),
    (lambda: S.PolynomialDecay(initial_lr=0.1, decay_steps=10, end_lr=-1.0), "end_lr"),
    (lambda: S.PiecewiseConstant(boundaries=(5, 5), values=(0.1, 0.05, 0.01)), "boundaries"),
    (lambda: S.PiecewiseConstant(boundaries=(5,), values=(0.1,)), "values"),
    (lambda: S.PiecewiseConstant(boundaries=(5,), values=(0.1, -0.05)), "values[1]"),
    (lambda: S.CosineDecay(initial_lr=0.1, decay_steps=10, after_decay="wrap"), "after_decay"),
    (lambda: S.CosineDecay(initial_lr=0.1, decay_steps=10, warmup_target=0.2, warmup_steps=-1), "warmup_steps"),
    (lambda: S.CosineDecayRestarts(initial_lr=0.1, first_decay_steps=10, t_mul=0.5), "t_mul"),
    (lambda: S.OneCycle(max_lr=0.1, total_steps=10, anneal_strategy="cosine"), "anneal_strategy"),
    (lambda: S.OneCycle(max_lr=0.1, total_steps=10, pct_start=1.0), "pct_start"),
    (lambda: S.WarmupCosineEpochs(max_lr=0.1, warmup_epochs=5, total_epochs=5), "total_epochs"),
    (lambda: S.ExponentialDecay(initial_lr=0.1, decay_steps=10, decay_rate=0.5).lr_at(-1), "step"),
    (lambda: S.OneCycle(max_lr=0.1, total_steps=10).lr_at(10), "step"),
])
def test_bad_input_names_the_argument(make, name):
    with pytest.raises(ValueError, match="^" + re.escape(name) + ":"):
        make()


def test_torch_builder_refuses_what_pytorch_cannot_express():
    from reference import frameworks
    from reference.torch_schedules import build

    torch = frameworks.torch()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="values"):
        build(S.PiecewiseConstant(boundaries=(5, 9), values=(0.1, 0.05, 0.04)), opt)
    with pytest.raises(ValueError, match="end_lr=0"):
        build(S.PolynomialDecay(initial_lr=0.1, decay_steps=10, end_lr=1e-4), opt)


# -- plot -----------------------------------------------------------------------------------------


def test_plot_is_written_atomically(tmp_path):
    from comparisons.report.plots import plot_lr_schedules
    from comparisons.table.schedules import SCHEDULES

    target = tmp_path / "reports" / "lr_schedules.png"
    picked = [c for c in SCHEDULES if c.id in ("schedule/cosine/hold", "schedule/one-cycle")]
    assert plot_lr_schedules(str(target), picked) == str(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(target.parent) == ["lr_schedules.png"]  # no temporary file left behind
