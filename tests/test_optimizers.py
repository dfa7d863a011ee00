"""Optimizers: pure updates against hand-computed steps, the wrapper's contract, bad input, the
momentum forms and the relations of the known differences, and the Keras twin's float handling."""

from __future__ import annotations

import numpy as np
import pytest

from comparisons import run_optimizers as R
from comparisons.spec import Context
from scratch import optimizers as O

A = np.array


def seq(*values):
    return [A([v]) for v in values]


# -- hand-computed steps ------------------------------------------------------------------------------
def test_sgd_plain_step():
    p, v = O.sgd_update(A([1.0, 2.0]), A([0.5, -1.0]), None, lr=0.1)
    np.testing.assert_allclose(p, [0.95, 2.1], rtol=0, atol=1e-15)
    assert v is None


@pytest.mark.parametrize(("form", "lr2", "expected"), [
    ("keras", 0.1, 0.61), ("torch", 0.1, 0.61),      # constant lr: v2 = -0.29 = -0.1 * b2 (b2 = 2.9)
    ("keras", 0.05, 0.71), ("torch", 0.05, 0.755),   # lr halved: -0.09 - 0.05*2 vs -0.05 * 2.9
])
def test_momentum_two_steps(form, lr2, expected):
    p1, v = O.sgd_update(A([1.0]), A([1.0]), None, lr=0.1, momentum=0.9, momentum_form=form)
    np.testing.assert_allclose(p1, [0.9], atol=1e-15)
    p2, _ = O.sgd_update(p1, A([2.0]), v, lr=lr2, momentum=0.9, momentum_form=form)
    np.testing.assert_allclose(p2, [expected], atol=1e-15)


def test_torch_dampening_skips_first_step():
    p1, b = O.sgd_update(A([1.0]), A([1.0]), None, lr=0.1, momentum=0.9, momentum_form="torch", dampening=0.5)
    np.testing.assert_allclose(b, [1.0])                         # b1 = g1, undamped
    p2, b = O.sgd_update(p1, A([2.0]), b, lr=0.1, momentum=0.9, momentum_form="torch", dampening=0.5)
    np.testing.assert_allclose([b[0], p2[0]], [1.9, 0.71], atol=1e-15)   # 0.9 * 1 + 0.5 * 2


@pytest.mark.parametrize(("form", "expected"), [("keras", 0.81), ("torch", 0.81), ("textbook", 0.81),
                                                ("textbook-erratum", 0.729)])
def test_nesterov_first_step(form, expected):
    # keras: 1 + (0.9 * -0.1 - 0.1); torch: 1 - 0.1 * (1 + 0.9); textbook: 1 + 0.81 * 0 - 1.9 * 0.1;
    # textbook-erratum: 1 + 0.81 * -0.1 - 1.9 * 0.1
    p, _ = O.sgd_update(A([1.0]), A([1.0]), None, lr=0.1, momentum=0.9, nesterov=True, momentum_form=form)
    np.testing.assert_allclose(p, [expected], atol=1e-15)


@pytest.mark.parametrize(("placement", "eps"), [("inside", 5.0), ("outside", 1.0)])
def test_adagrad_eps_placement(placement, eps):
    # h = 0 + 2^2 = 4; sqrt(4 + 5) = sqrt(4) + 1 = 3
    p, h = O.adagrad_update(A([1.0]), A([2.0]), A([0.0]), lr=0.3, eps=eps, eps_placement=placement)
    np.testing.assert_allclose([p[0], h[0]], [1.0 - 0.3 * 2 / 3, 4.0], atol=1e-15)


def test_textbook_adagrad_is_torch_form():
    p, _ = O.adagrad_update(A([1.0]), A([3.0]), A([0.0]), lr=0.01, eps=1e-7, eps_placement="outside")
    np.testing.assert_allclose(p, [1.0 - 0.01 * 3.0 / (3.0 + 1e-7)], rtol=0, atol=1e-16)


def test_rmsprop_plain_centered_and_momentum_forms():
    kw = dict(lr=0.1, rho=0.5)
    # v = 0.5 * 2^2 = 2; sqrt(2 + 2) = 2
    p, v, _, _ = O.rmsprop_update(A([1.0]), A([2.0]), A([0.0]), None, None, eps=2.0, eps_placement="inside", **kw)
    np.testing.assert_allclose([p[0], v[0]], [0.9, 2.0], atol=1e-15)
    # centered: mean_grad = 1, s = 2 - 1 = 1; sqrt(1) + 1 = 2
    p, _, mg, _ = O.rmsprop_update(A([1.0]), A([2.0]), A([0.0]), None, None, eps=1.0, eps_placement="outside",
                                   centered=True, **kw)
    np.testing.assert_allclose([p[0], mg[0]], [0.9, 1.0], atol=1e-15)
    # momentum, two steps with g = 2 then g = 0 (second increment 0), lr 0.1 then 0.05
    out = {}
    for form in ("keras", "torch"):
        p, v, _, b = O.rmsprop_update(A([1.0]), A([2.0]), A([0.0]), None, None, lr=0.1, rho=0.5, eps=2.0,
                                      momentum=0.5, momentum_form=form)
        p, v, _, b = O.rmsprop_update(p, A([0.0]), v, None, b, lr=0.05, rho=0.5, eps=2.0, momentum=0.5,
                                      momentum_form=form)
        out[form] = p[0]
    np.testing.assert_allclose([out["keras"], out["torch"]], [1 - 0.1 - 0.05, 1 - 0.1 - 0.025], atol=1e-15)


@pytest.mark.parametrize(("placement", "expected"), [("hat", 1 - 0.1 / 1.5), ("corrected", 1 - 0.2 / 2.5)])
def test_adam_first_step(placement, expected):
    # beta 0.5 / 0.75, g = 2: m = 1, v = 1, 1 - beta_1 = 0.5, 1 - beta_2 = 0.25
    # hat: alpha = 0.1 * 0.5 / 0.5 = 0.1, p = 1 - 0.1 / (1 + 0.5); corrected: 1 - (0.1/0.5) / (1/0.5 + 0.5)
    p, m, v, _ = O.adam_update(A([1.0]), A([2.0]), A([0.0]), A([0.0]), 1, lr=0.1, beta_1=0.5, beta_2=0.75, eps=0.5,
                               eps_placement=placement)
    np.testing.assert_allclose([p[0], m[0], v[0]], [expected, 1.0, 1.0], atol=1e-15)


def test_amsgrad_uses_the_running_maximum():
    kw = dict(lr=0.1, beta_1=0.5, beta_2=0.75, eps=0.0)
    p, m, v, vmax = O.adam_update(A([1.0]), A([2.0]), A([0.0]), A([0.0]), 1, amsgrad=True, **kw)
    p2, m2, v2, vmax2 = O.adam_update(p, A([0.0]), m, v, 2, amsgrad=True, v_max=vmax, **kw)
    assert v2[0] == 0.75 and vmax2[0] == 1.0
    alpha = 0.1 * np.sqrt(1 - 0.75**2) / (1 - 0.5**2)
    np.testing.assert_allclose(p2, p - alpha * 0.5 / 1.0, atol=1e-15)   # sqrt(v_max) = 1, not sqrt(0.75)


def test_weight_decay_modes():
    p, g = A([2.0]), A([1.0])
    coupled, decoupled = O.SGD(weight_decay=0.5), O.SGD(weight_decay=0.5, weight_decay_mode="decoupled")
    pc, pd = {"W": p.copy()}, {"W": p.copy()}
    coupled.step(pc, {"W": g}, 0.1)
    decoupled.step(pd, {"W": g}, 0.1)
    np.testing.assert_allclose([pc["W"][0], pd["W"][0]], [2 - 0.1 * (1 + 1), 2 - 0.1 * 1 - 0.1], atol=1e-15)
    # with momentum the two differ from the second step on: the decay enters the velocity only if coupled
    pc, pd = {"W": p.copy()}, {"W": p.copy()}
    c, d = O.SGD(momentum=0.9, weight_decay=0.5), O.SGD(momentum=0.9, weight_decay=0.5, weight_decay_mode="decoupled")
    for _ in range(2):
        c.step(pc, {"W": g}, 0.1)
        d.step(pd, {"W": g}, 0.1)
    assert abs(pc["W"][0] - pd["W"][0]) > 1e-3


def test_exclusion_matches_last_name_component():
    opt = O.AdamW(weight_decay=0.1, exclude_from_weight_decay=("b",))
    assert opt.decays("dense1/W") and not opt.decays("dense1/b") and not opt.decays("b")


# -- the wrapper ----------------------------------------------------------------------------------------
def test_step_is_in_place_keeps_dtype_and_keys_state_by_name():
    params = {"dense/W": np.ones((2, 3), np.float32), "dense/b": np.zeros(3, np.float32)}
    w = params["dense/W"]
    opt = O.Adam(beta_1=np.float64(0.9), beta_2=0.999, eps=1e-7)   # a NumPy scalar must not promote to float64
    for _ in range(3):
        opt.step(params, {k: np.full_like(v, 0.5) for k, v in params.items()}, np.float64(0.01))
    assert params["dense/W"] is w and w.dtype == np.float32 and params["dense/b"].dtype == np.float32
    assert set(opt.state) == set(params) and opt.state["dense/W"]["t"] == 3
    assert opt.state["dense/W"]["m"].dtype == np.float32
    assert not np.allclose(w, 1.0)


# -- bad input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("make", "match"), [
    (lambda: O.SGD(momentum=1.5), r"momentum: expected a number in \[0, 1\], got 1.5"),
    (lambda: O.SGD(momentum=-0.1), r"momentum: expected a number in \[0, 1\]"),
    (lambda: O.SGD(momentum=0.9, momentum_form="pytorch"), "momentum_form: expected one of 'keras', 'torch'"),
    (lambda: O.SGD(nesterov=True), "nesterov: Nesterov momentum needs momentum > 0"),
    (lambda: O.SGD(momentum=0.9, dampening=0.1), "dampening: only the 'torch' momentum form"),
    (lambda: O.SGD(weight_decay=-1.0), "weight_decay: expected a finite number >= 0"),
    (lambda: O.SGD(weight_decay_mode="l2"), "weight_decay_mode: expected one of 'coupled', 'decoupled'"),
    (lambda: O.SGD(exclude_from_weight_decay="b"), "exclude_from_weight_decay: expected a collection"),
    (lambda: O.Adam(beta_1=1.0), r"beta_1: expected a number in \[0, 1\), got 1.0"),
    (lambda: O.Adam(beta_2=-0.5), r"beta_2: expected a number in \[0, 1\)"),
    (lambda: O.Adam(eps_placement="torch"), "eps_placement: expected one of 'hat', 'corrected'"),
    (lambda: O.Adam(amsgrad="yes"), "amsgrad: expected True or False"),
    (lambda: O.Adagrad(eps_placement="under"), "eps_placement: expected one of 'inside', 'outside'"),
    (lambda: O.Adagrad(initial_accumulator_value=-0.1), "initial_accumulator_value: expected a finite number"),
    (lambda: O.RMSprop(rho=1.0), r"rho: expected a number in \[0, 1\)"),
    (lambda: O.RMSprop(momentum_form="textbook"), "momentum_form: expected one of 'keras', 'torch'"),
])
def test_bad_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(("params", "grads", "lr", "match"), [
    ({"W": np.ones(2)}, {"W": np.ones(2)}, -0.1, "lr: expected a finite learning rate >= 0, got -0.1"),
    ({"W": np.ones(2)}, {"W": np.ones(2)}, float("nan"), "lr: expected a finite learning rate"),
    ({"W": np.ones(2)}, {"V": np.ones(2)}, 0.1, r"grads: expected the same keys as params; missing \['W'\], "
                                                 r"unexpected \['V'\]"),
    ({"W": np.ones(2)}, {"W": np.ones(3)}, 0.1, r"grads\['W'\]: expected shape \(2,\) \(the parameter's\), got \(3,\)"),
    ({"W": np.ones(2)}, {"W": np.ones(2, np.float32)}, 0.1, r"grads\['W'\]: expected dtype float64"),
    ({"W": np.ones(2, int)}, {"W": np.ones(2, int)}, 0.1, r"params\['W'\]: expected a float32 or float64"),
    ({"W": np.ones(2)}, {"W": np.array([1.0, np.inf])}, 0.1, r"grads\['W'\]: expected finite values"),
])
def test_bad_step_input(params, grads, lr, match):
    before = {k: v.copy() for k, v in params.items()}
    with pytest.raises(ValueError, match=match):
        O.SGD(momentum=0.9).step(params, grads, lr)
    assert all(np.array_equal(before[k], params[k]) for k in params)    # nothing was updated


def test_shape_change_after_state_was_created():
    opt = O.SGD(momentum=0.9)
    opt.step({"W": np.ones(2)}, {"W": np.ones(2)}, 0.1)
    with pytest.raises(ValueError, match=r"params\['W'\]: shape \(3,\) differs from the shape \(2,\)"):
        opt.step({"W": np.ones(3)}, {"W": np.ones(3)}, 0.1)


def test_bad_pure_function_arguments():
    with pytest.raises(ValueError, match="t: expected a positive integer"):
        O.adam_update(A([1.0]), A([1.0]), A([0.0]), A([0.0]), 0, lr=0.1, beta_1=0.9, beta_2=0.999, eps=0.0)
    with pytest.raises(ValueError, match="lr: expected a finite learning rate >= 0"):
        O.adagrad_update(A([1.0]), A([1.0]), A([0.0]), lr=-1.0, eps=0.0)


# -- momentum forms and the relations of the known differences ---------------------------------------
def trajectories(lrs, gs, **kw):
    """Keras-form and PyTorch-form trajectories (p_0..p_T) of one scalar on one gradient sequence."""
    out = {}
    for form in ("keras", "torch"):
        p, v, path = A([0.5]), None, [A([0.5])]
        for lr, g in zip(lrs, gs, strict=True):
            p, v = O.sgd_update(p, g, v, lr=lr, momentum_form=form, **kw)
            path.append(p)
        out[form] = path
    return out


def ctx(lrs, gs, path, t):
    return Context("float64", inputs={"step": t, "lrs": lrs[:t], "grads": tuple(gs[:t]), "path": tuple(path[:t + 1])})


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_forms_agree_at_constant_lr_and_differ_when_it_changes(nesterov):
    gs = seq(*np.random.default_rng(0).standard_normal(30))
    same = trajectories(R.constant(0.1, 30), gs, momentum=0.9, nesterov=nesterov)
    assert max(abs(a - b)[0] for a, b in zip(same["keras"], same["torch"], strict=True)) < 1e-14
    lrs = R.halving(0.1, 10, 30)
    diff = trajectories(lrs, gs, momentum=0.9, nesterov=nesterov)
    assert abs(diff["keras"][-1] - diff["torch"][-1])[0] > 1e-2
    # the recorded relation re-derives one form from the other, step by step
    to_keras = R.momentum_form_shift(momentum=0.9, nesterov=nesterov, scratch_form="keras")
    to_torch = R.momentum_form_shift(momentum=0.9, nesterov=nesterov, scratch_form="torch")
    for t in range(1, 31):
        np.testing.assert_allclose(to_keras(diff["torch"][t], ctx(lrs, gs, diff["torch"], t)), diff["keras"][t],
                                   rtol=1e-13)
        np.testing.assert_allclose(to_torch(diff["keras"][t], ctx(lrs, gs, diff["keras"], t)), diff["torch"][t],
                                   rtol=1e-13)


def test_textbook_nesterov_erratum_relation():
    gs, lrs = seq(*np.random.default_rng(1).standard_normal(20)), R.constant(0.1, 20)
    paths = {}
    for form in ("keras", "textbook-erratum"):
        p, v, paths[form] = A([0.5]), None, [A([0.5])]
        for lr, g in zip(lrs, gs, strict=True):
            p, v = O.sgd_update(p, g, v, lr=lr, momentum=0.9, nesterov=True, momentum_form=form)
            paths[form].append(p)
    rel = R.textbook_nesterov_erratum(momentum=0.9)
    assert abs(paths["keras"][-1] - paths["textbook-erratum"][-1])[0] > 1e-2
    for t in range(1, 21):
        np.testing.assert_allclose(rel(paths["keras"][t], ctx(lrs, gs, paths["keras"], t)),
                                   paths["textbook-erratum"][t], rtol=1e-13)


def test_adam_epsilon_ratio_relation():
    gs, lrs = seq(*(1e-5 * np.random.default_rng(2).standard_normal(15))), R.constant(0.01, 15)
    paths = {}
    for placement in ("hat", "corrected"):
        opt, params = O.Adam(eps=1e-7, eps_placement=placement), {"W": A([0.5])}
        paths[placement] = [params["W"].copy()]
        for lr, g in zip(lrs, gs, strict=True):
            opt.step(params, {"W": g}, lr)
            paths[placement].append(params["W"].copy())
    rel = R.denominator_ratio(R.mean_square(0.999), R.adam_corrected(1e-7, 0.999), R.outside(1e-7))
    assert abs(paths["hat"][-1] - paths["corrected"][-1])[0] > 1e-5
    for t in range(1, 16):
        np.testing.assert_allclose(rel(paths["corrected"][t], ctx(lrs, gs, paths["corrected"], t)), paths["hat"][t],
                                   rtol=1e-13)


# -- the Keras twin ---------------------------------------------------------------------------------------
def test_keras_twin_is_exact_in_float64_and_restores_floatx():
    from reference import frameworks, keras_optimizers

    keras = frameworks.keras()
    before = keras.config.floatx()
    opt = O.Adam(beta_1=0.9, beta_2=0.999, eps=1e-7, amsgrad=True)
    rng = np.random.default_rng(3)
    params = {"W": rng.standard_normal((3, 2))}
    twins = [keras_optimizers.build(opt, params, "float64", compiled=c) for c in (True, False)]
    assert keras.config.floatx() == before
    assert twins[0].optimizer.learning_rate.dtype == "float64"
    for lr in (0.1, 0.05, 0.3):
        g = {"W": rng.standard_normal((3, 2))}
        opt.step(params, g, lr)
        for twin in twins:
            twin.step(g, lr)
    graph, eager = (t.params()["W"] for t in twins)
    assert np.array_equal(graph, eager)                      # tf.function changes nothing
    np.testing.assert_allclose(graph, params["W"], rtol=1e-15, atol=0)


def test_keras_l2_factor_must_be_exact_in_float32_for_float64():
    from reference import keras_optimizers

    with pytest.raises(ValueError, match="weight_decay: keras.regularizers.L2 rounds its factor through float32"):
        keras_optimizers.build(O.SGD(momentum=0.9, weight_decay=0.01), {"W": np.ones(2)}, "float64")
    keras_optimizers.build(O.SGD(momentum=0.9, weight_decay=2.0**-5), {"W": np.ones(2)}, "float64")


def test_torch_has_no_decoupled_sgd_with_momentum():
    from reference import torch_optimizers

    with pytest.raises(NotImplementedError, match="no decoupled weight decay"):
        torch_optimizers.build(O.SGD(momentum=0.9, weight_decay=0.01, weight_decay_mode="decoupled"),
                               {"W": np.ones(2)}, "float64")


def test_keras_float32_adam_gap_is_its_float32_betas():
    """Keras computes Adam's bias corrections from betas cast to float32; scratch (like PyTorch) from the
    double values. Giving scratch the float32-rounded betas removes most of the float32 gap."""
    import dataclasses

    from comparisons.cases import get
    from comparisons.run import run_case

    case = get("adam/eps-zero/changing-lr")
    b1, b2 = float(np.float32(0.9)), float(np.float32(0.999))
    rounded = dataclasses.replace(case, make=lambda dtype: O.Adam(beta_1=b1, beta_2=b2, eps=0.0))
    as_is = max(r.max_rel for r in run_case(case, "keras", "float32"))
    same_betas = max(r.max_rel for r in run_case(rounded, "keras", "float32"))
    assert as_is > 1e-6 and same_betas < as_is / 5


def test_textbook_nesterov_is_the_keras_nesterov_rearranged():
    # p + mu^2 v - (1 + mu) lr g == p + mu (mu v - lr g) - lr g: the same step, any rate sequence
    gs, lrs = seq(*np.random.default_rng(3).standard_normal(30)), R.decaying(0.1, 0.9, 30)
    paths = {}
    for form in ("keras", "textbook", "textbook-erratum"):
        p, v, paths[form] = A([0.5]), None, []
        for lr, g in zip(lrs, gs, strict=True):
            p, v = O.sgd_update(p, g, v, lr=lr, momentum=0.9, nesterov=True, momentum_form=form)
            paths[form].append(p[0])
    keras, book, erratum = (np.array(paths[f]) for f in ("keras", "textbook", "textbook-erratum"))
    # float64: a few roundings per step on values of order 1, over 30 steps
    np.testing.assert_allclose(book, keras, rtol=0, atol=1e-14)
    assert np.max(np.abs(erratum - keras)) > 1e-2


def test_textbook_nesterov_first_steps_by_hand():
    # lr 0.1, mu 0.9, v0 = 0, p0 = 1, g1 = 2, g2 = 1; v1 = -0.2, v2 = 0.9 * -0.2 - 0.1 = -0.28 in both forms
    # book:    p1 = 1 + 0.81 * 0 - 1.9 * 0.1 * 2 = 0.62;      p2 = 0.62 + 0.81 * -0.2 - 0.19 = 0.268
    # erratum: p1 = 1 + 0.81 * -0.2 - 0.38 = 0.458;           p2 = 0.458 + 0.81 * -0.28 - 0.19 = 0.0412
    for form, want1, want2 in (("textbook", 0.62, 0.268), ("textbook-erratum", 0.458, 0.0412)):
        p, v = O.sgd_update(A([1.0]), A([2.0]), None, lr=0.1, momentum=0.9, nesterov=True, momentum_form=form)
        assert p[0] == pytest.approx(want1, abs=1e-15) and v[0] == pytest.approx(-0.2, abs=1e-15)
        p, v = O.sgd_update(p, A([1.0]), v, lr=0.1, momentum=0.9, nesterov=True, momentum_form=form)
        assert p[0] == pytest.approx(want2, abs=1e-15) and v[0] == pytest.approx(-0.28, abs=1e-15)


# -- the loss-side L2 term -------------------------------------------------------------------------------
def test_l2_penalty_by_hand_weights_only():
    params = {"W1": A([[1.0, -2.0]]), "b1": A([3.0]), "W2": A([0.5]), "gamma1": A([4.0])}
    # 0.5 * 0.1 * (1 + 4) + 0.5 * 0.1 * 0.25 = 0.25 + 0.0125; biases and gamma not in names
    assert O.l2_penalty(params, 0.1, ["W1", "W2"]) == pytest.approx(0.2625, abs=1e-16)
    assert O.l2_penalty(params, 0.0, ["W1"]) == 0.0
    with pytest.raises(ValueError, match=r"names: \['W3'\] not in params"):
        O.l2_penalty(params, 0.1, ["W1", "W3"])
    with pytest.raises(ValueError, match="weight_decay: expected a finite number >= 0, got -1"):
        O.l2_penalty(params, -1, ["W1"])


def test_l2_penalty_gradient_is_coupled_decay():
    # d/dW of 0.5 * lambda * sum(W**2) is lambda * W, the term coupled_decay adds (PyTorch's weight_decay)
    rng = np.random.default_rng(4)
    params, lam, h = {"W": rng.standard_normal((3, 2))}, 0.1, 1e-5
    numeric = np.zeros((3, 2))
    for idx in np.ndindex(3, 2):
        up, down = {"W": params["W"].copy()}, {"W": params["W"].copy()}
        up["W"][idx] += h
        down["W"][idx] -= h
        numeric[idx] = (O.l2_penalty(up, lam, ["W"]) - O.l2_penalty(down, lam, ["W"])) / (2 * h)
    # central difference of a quadratic: exact up to the rounding of the two sums (~1e-16 / 1e-5)
    np.testing.assert_allclose(numeric, O.coupled_decay(np.zeros((3, 2)), params["W"], lam), rtol=0, atol=1e-10)


def test_l2_penalty_is_keras_l2_of_half_lambda():
    from reference import frameworks
    keras = frameworks.keras()
    W = np.random.default_rng(5).standard_normal((5, 4))
    ours = O.l2_penalty({"W": W}, 2.0**-5, ["W"])
    theirs = float(keras.regularizers.L2(2.0**-6)(keras.ops.convert_to_tensor(W, dtype="float64")))
    assert abs(theirs - ours) <= 4 * np.finfo(np.float64).eps * ours   # the same sum, another order
    # a factor not exact in float32 is cast through float32 by Keras (0.05 -> 0.05000000074505806)
    ours = O.l2_penalty({"W": W}, 0.1, ["W"])
    theirs = float(keras.regularizers.L2(0.05)(keras.ops.convert_to_tensor(W, dtype="float64")))
    shift = float(np.float32(0.05)) / 0.05 - 1.0   # 1.49e-8
    assert abs(theirs / ours - 1.0 - shift) < 1e-14 and shift > 1e-8
