"""Adamax, Nadam and gradient clipping: worked examples with the numbers written out, bad
arguments, and the framework facts the cases rest on (read from the installed sources, checked here)."""

from __future__ import annotations

import numpy as np
import pytest

from scratch import optimizers as O
from scratch.optimizers.clipping import TORCH_CLIP_NORM_EPS


def A(values) -> np.ndarray:
    return np.array(values, dtype=np.float64)


KW = {"lr": 0.1, "beta_1": 0.5, "beta_2": 0.75, "eps": 0.5}


@pytest.mark.parametrize(("placement", "second"), [("outside", 0.92 - 0.5 / 2.0 * (0.1 / 0.75)),
                                                   ("inside", 0.92 - 0.5 / 1.875 * (0.1 / 0.75))])
def test_adamax_worked_example(placement, second):
    # step 1 (g = 2): m = 1, u = 2 (outside; 2 + 0.5 inside), p = 1 - (0.1 / 0.5) * 1 / 2.5 = 0.92 either way
    p, m, u = O.adamax_update(A([1.0]), A([2.0]), A([0.0]), A([0.0]), 1, eps_placement=placement, **KW)
    assert p[0] == pytest.approx(0.92, abs=1e-15) and m[0] == 1.0
    # step 2 (g = 0): m = 0.5; outside u = 0.75 * 2 = 1.5, den 2.0; inside u = max(0.75 * 2.5, 0.5) = 1.875
    p, m, u = O.adamax_update(p, A([0.0]), m, u, 2, eps_placement=placement, **KW)
    assert p[0] == pytest.approx(second, abs=1e-15)


def test_nadam_worked_example():
    # momentum_decay 0: mu_t = 0.5 * (1 - 0.5) = 0.25 for every t; g = 2: m = 1, v = 1, d = sqrt(1 / 0.25) = 2
    # p = 1 - 0.1 * 0.75 / 0.75 * 2 / 2 - 0.1 * 0.25 / (1 - 0.0625) * 1 / 2
    p, m, v, prod = O.nadam_update(A([1.0]), A([2.0]), A([0.0]), A([0.0]), 1, 1.0, lr=0.1, beta_1=0.5, beta_2=0.75,
                                   eps=0.0, momentum_decay=0.0)
    assert (m[0], v[0], prod) == (1.0, 1.0, 0.25)
    assert p[0] == pytest.approx(1 - 0.1 - 0.0125 / 0.9375, abs=1e-15)


def test_nadam_keras_schedule_is_momentum_decay_one():
    from scratch.optimizers.nadam import KERAS_MOMENTUM_DECAY, momentum_schedule

    for t in (1, 2, 10, 100):
        assert momentum_schedule(t, beta_1=0.9, momentum_decay=KERAS_MOMENTUM_DECAY) == 0.9 * (1 - 0.5 * 0.96**t)
    # PyTorch's default warms up 250 times more slowly: mu_100 = 0.4573 instead of Keras's 0.8924
    assert momentum_schedule(100, beta_1=0.9, momentum_decay=4e-3) == pytest.approx(0.45729, abs=1e-5)
    assert momentum_schedule(100, beta_1=0.9, momentum_decay=1.0) == pytest.approx(0.89241, abs=1e-5)


def test_clipping_worked_examples():
    g = {"W": A([[3.0, 0.0]]), "b": A([4.0])}  # global norm 5
    out = O.ClipGradients(O.SGD(), global_clipnorm=1.0).clip(g)
    np.testing.assert_allclose(out["W"], [[0.6, 0.0]], rtol=1e-15)
    np.testing.assert_allclose(out["b"], [0.8], rtol=1e-15)
    torch_form = O.clip_by_global_norm(g.values(), 1.0, norm_eps=TORCH_CLIP_NORM_EPS)
    assert torch_form[1][0] == pytest.approx(4.0 / (5.0 + 1e-6), rel=1e-15)
    per = O.ClipGradients(O.SGD(), clipnorm=3.5).clip(g)  # ||W|| = 3 stays, ||b|| = 4 -> 3.5
    np.testing.assert_array_equal(per["W"], g["W"])
    np.testing.assert_allclose(per["b"], [3.5], rtol=1e-15)
    np.testing.assert_array_equal(O.clip_by_value(A([-2.0, 0.3, 5.0]), 1.0), [-1.0, 0.3, 1.0])


def test_clipping_comes_before_the_update():
    params = {"W": A([1.0, 1.0])}
    O.ClipGradients(O.SGD(), clipvalue=0.5).step(params, {"W": A([2.0, -0.1])}, lr=1.0)
    np.testing.assert_allclose(params["W"], [0.5, 1.1], rtol=1e-15)


@pytest.mark.parametrize(("kw", "message"), [
    ({"clipnorm": 1.0, "clipvalue": 1.0},
     r"expected exactly one \(as Keras\), got \{'clipnorm': 1.0, 'clipvalue': 1.0\}"),
    ({}, r"expected exactly one"),
    ({"global_clipnorm": 0.0}, r"global_clipnorm: expected a bound > 0, got 0.0"),
    ({"clipvalue": -1.0}, r"clipvalue: expected a finite number >= 0, got -1.0"),
])
def test_clipping_bad_arguments(kw, message):
    with pytest.raises(ValueError, match=message):
        O.ClipGradients(O.SGD(), **kw)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: O.Adamax(eps_placement="hat"), r"eps_placement: expected one of 'outside', 'inside', got 'hat'"),
    (lambda: O.Adamax(beta_2=1.0), r"beta_2: expected a number in \[0, 1\), got 1.0"),
    (lambda: O.Nadam(momentum_decay=-1.0), r"momentum_decay: expected a finite number >= 0, got -1.0"),
])
def test_bad_hyperparameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_keras_nadam_rounds_its_decay_constant_through_float32():
    """keras/src/optimizers/nadam.py update_step: decay = ops.cast(0.96, var_dtype); the Python float
    becomes a float32 tensor first, so a float64 Nadam uses 0.9599999785423279 in u_t (the known
    difference of case nadam/keras), while _backend_update_step's ops.power(0.96, t) is exact."""
    from reference import frameworks

    ops = frameworks.keras().ops
    assert float(ops.cast(0.96, "float64")) == float(np.float32(0.96)) != 0.96
    assert float(ops.power(0.96, ops.cast(3, "float64"))) == 0.96**3


def test_torch_nadam_keeps_mu_product_in_the_default_dtype():
    """torch.optim.NAdam creates state["mu_product"] with _get_scalar_dtype(): float32 unless the default
    dtype is float64, so a float64 model moves by ~1e-10 over 100 steps unless the default is set
    (the twin sets it)."""
    from comparisons.table import get
    from reference import torch_optimizers

    case = get("nadam/keras")
    inputs = case.inputs(np.random.default_rng(case.seed), "float64")
    runs = {}
    for default in ("float64", None):
        twin = torch_optimizers.build(case.make("float64"), inputs["params"], "float64")
        twin.default_dtype = default
        for t, lr in enumerate(inputs["lrs"][:100]):
            twin.step(inputs["grads"][t], lr)
        state = twin.optimizer.state[twin.tensors["W"]]
        runs[default] = (twin.params()["W"], state["mu_product"].dtype)
    assert str(runs["float64"][1]) == "torch.float64" and str(runs[None][1]) == "torch.float32"
    gap = np.abs(runs["float64"][0] - runs[None][0]).max() / np.abs(runs["float64"][0]).max()
    assert 1e-12 < gap < 1e-8, gap  # measured 8.5e-11
