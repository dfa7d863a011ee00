"""The book's optimizers (scratch.textbook.optimizer): worked examples, the core forms they run, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratch import optimizers as O
from scratch.textbook import optimizer as T


def params():
    return {"W": np.array([1.0, -2.0])}


def grads():
    return {"W": np.array([2.0, -1.0])}


# -- one update, worked by hand: p = (1, -2), g = (2, -1), the book's defaults -----------------------------
def test_sgd_by_hand():
    p = params()
    T.SGD().update(p, grads())                     # p - 0.01 * g
    np.testing.assert_array_equal(p["W"], [0.98, -1.99])


def test_momentum_by_hand():
    p, opt = params(), T.Momentum()
    opt.update(p, grads())                         # v = -0.01 * g = (-0.02, 0.01); p + v
    np.testing.assert_allclose(p["W"], [0.98, -1.99], rtol=0, atol=1e-15)
    opt.update(p, grads())                         # v = 0.9 * v - 0.01 * g = (-0.038, 0.019)
    np.testing.assert_allclose(opt.v["W"], [-0.038, 0.019], rtol=0, atol=1e-15)
    np.testing.assert_allclose(p["W"], [0.942, -1.971], rtol=0, atol=1e-15)


def test_nesterov_by_hand():
    p, opt = params(), T.Nesterov()
    opt.update(p, grads())                         # p + 0.81 * 0 - 1.9 * 0.01 * g; then v = (-0.02, 0.01)
    np.testing.assert_allclose(p["W"], [0.962, -1.981], rtol=0, atol=1e-15)
    np.testing.assert_allclose(opt.v["W"], [-0.02, 0.01], rtol=0, atol=1e-15)
    opt.update(p, grads())                         # p + 0.81 * (-0.02, 0.01) - (0.038, -0.019): the OLD v
    np.testing.assert_allclose(p["W"], [0.9078, -1.9539], rtol=0, atol=1e-15)
    np.testing.assert_allclose(opt.v["W"], [-0.038, 0.019], rtol=0, atol=1e-15)


def test_adagrad_by_hand():
    p, opt = params(), T.AdaGrad()
    opt.update(p, grads())                         # h = g * g = (4, 1); p - 0.01 * g / (sqrt(h) + 1e-7)
    np.testing.assert_array_equal(opt.h["W"], [4.0, 1.0])
    np.testing.assert_allclose(p["W"], [1 - 0.02 / 2.0000001, -2 + 0.01 / 1.0000001], rtol=1e-15)
    np.testing.assert_allclose(p["W"], [0.9900000005, -1.990000001], rtol=1e-15)


def test_rmsprop_by_hand():
    p, opt = params(), T.RMSprop()
    opt.update(p, grads())                         # h = 0.01 * g * g = (0.04, 0.01), sqrt(h) = (0.2, 0.1)
    np.testing.assert_allclose(opt.h["W"], [0.04, 0.01], rtol=1e-15)
    np.testing.assert_allclose(p["W"], [1 - 0.02 / 0.2000001, -2 + 0.01 / 0.1000001], rtol=1e-15)
    np.testing.assert_allclose(p["W"], [0.900000049999975, -1.9000000999999], rtol=1e-15)


def test_adam_by_hand():
    p, opt = params(), T.Adam()
    opt.update(p, grads())
    # m = 0.1 * g = (0.2, -0.1); v = 0.001 * g * g = (0.004, 0.001); lr_t = 0.001 * sqrt(0.001) / 0.1;
    # lr_t * m / sqrt(v) = (0.001, -0.001) exactly in real numbers, eps 1e-7 shrinks it by sqrt(v) / (sqrt(v) + eps)
    assert opt.iter == 1
    np.testing.assert_allclose(opt.m["W"], [0.2, -0.1], rtol=1e-15)
    np.testing.assert_allclose(opt.v["W"], [0.004, 0.001], rtol=1e-15)
    s1, s2 = math.sqrt(0.004), math.sqrt(0.001)
    np.testing.assert_allclose(p["W"], [1 - 0.001 * s1 / (s1 + 1e-7), -2 + 0.001 * s2 / (s2 + 1e-7)], rtol=1e-15)
    assert abs(p["W"][0] - 0.999) < 2e-9 and abs(p["W"][1] + 1.999) < 4e-9


def test_update_is_in_place_and_state_is_per_key():
    p = {"W1": np.ones((2, 3)), "b1": np.zeros(3)}
    before = {k: id(v) for k, v in p.items()}
    opt = T.Adam(lr=0.1)
    opt.update(p, {"W1": np.ones((2, 3)), "b1": np.ones(3)})
    assert {k: id(v) for k, v in p.items()} == before
    assert sorted(opt.m) == sorted(opt.v) == ["W1", "b1"]
    assert not np.array_equal(p["b1"], np.zeros(3))


# -- the core forms, bit for bit over 50 steps -------------------------------------------------------------
CORE = [
    (lambda: T.SGD(lr=0.05), lambda: O.SGD(), 0.05),
    (lambda: T.Momentum(lr=0.05, momentum=0.8), lambda: O.SGD(momentum=0.8, momentum_form="keras"), 0.05),
    (lambda: T.Nesterov(lr=0.05, momentum=0.8),
     lambda: O.SGD(momentum=0.8, nesterov=True, momentum_form="textbook"), 0.05),
    (lambda: T.AdaGrad(lr=0.05), lambda: O.Adagrad(initial_accumulator_value=0.0, eps=1e-7, eps_placement="outside"),
     0.05),
    (lambda: T.Adam(lr=0.01, beta1=0.8, beta2=0.99),
     lambda: O.Adam(beta_1=0.8, beta_2=0.99, eps=1e-7, eps_placement="hat"), 0.01),
]


def _run(make, step, steps=50, seed=0):
    rng = np.random.default_rng(seed)
    p = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    opt = make()
    for _ in range(steps):
        g = {k: rng.standard_normal(v.shape) for k, v in p.items()}
        step(opt, p, g)
    return p


@pytest.mark.parametrize(("book", "core", "lr"), CORE, ids=["sgd", "momentum", "nesterov", "adagrad", "adam"])
def test_book_class_is_its_core_form_bit_for_bit(book, core, lr):
    a = _run(book, lambda opt, p, g: opt.update(p, g))
    b = _run(core, lambda opt, p, g: opt.step(p, g, lr))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_rmsprop_is_the_core_form_to_one_rounding_per_step():
    # the book rounds ((1 - rho) * g) * g, the core (as Keras) (g * g) * (1 - rho): one rounding per step
    a = _run(lambda: T.RMSprop(lr=0.01, decay_rate=0.99), lambda opt, p, g: opt.update(p, g))
    b = _run(lambda: O.RMSprop(rho=0.99, eps=1e-7, eps_placement="outside"), lambda opt, p, g: opt.step(p, g, 0.01))
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=50 * 4 * np.finfo(np.float64).eps)


def test_book_nesterov_is_the_keras_nesterov():
    a = _run(lambda: T.Nesterov(lr=0.05, momentum=0.9), lambda opt, p, g: opt.update(p, g))
    b = _run(lambda: O.SGD(momentum=0.9, nesterov=True, momentum_form="keras"), lambda opt, p, g: opt.step(p, g, 0.05))
    for k in a:  # the same step rearranged: a few roundings per step on values of order 1
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-13)


# -- bad input ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [T.SGD, T.Momentum, T.Nesterov, T.AdaGrad, T.RMSprop, T.Adam])
def test_missing_gradient_key_names_the_key(cls):
    with pytest.raises(ValueError, match="grads: no gradient for params key 'b1'"):
        cls().update({"W1": np.ones(2), "b1": np.ones(2)}, {"W1": np.ones(2)})


@pytest.mark.parametrize("cls", [T.Momentum, T.Nesterov, T.AdaGrad, T.RMSprop, T.Adam])
def test_key_added_after_the_first_update_names_the_key(cls):
    opt = cls()
    opt.update({"W1": np.ones(2)}, {"W1": np.ones(2)})
    with pytest.raises(ValueError, match="params: key 'W2' was not in params at the first update"):
        opt.update({"W1": np.ones(2), "W2": np.ones(2)}, {"W1": np.ones(2), "W2": np.ones(2)})


def test_wrong_gradient_shape_and_non_array_param():
    with pytest.raises(ValueError, match=r"grads\['W'\]: expected shape \(2,\) \(the parameter's\), got \(3,\)"):
        T.SGD().update({"W": np.ones(2)}, {"W": np.ones(3)})
    with pytest.raises(ValueError, match=r"params\['W'\]: expected a numpy.ndarray \(updated in place\), got list"):
        T.SGD().update({"W": [1.0, 2.0]}, {"W": np.ones(2)})
