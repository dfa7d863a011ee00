"""The fast numerical gradient's route for Dense layers into a softmax cross-entropy
(``scratch._fastgrad_hidden``) against the textbook loop and its own exact branch.

Tolerances. The route and the loop compute the same difference quotient of the same loss and differ
in how each perturbed loss is rounded: the loop rounds every term of its sum, the route the loss once
(its series is cut 1/64 ulp(L) below). Their quotients differ by a few ulp(L) / 2h; the bound
16 eps max(|L|, 1) / h is the one tests/test_numgrad.py uses at the textbook's step.
"""

from __future__ import annotations

import numpy as np
import pytest

from scratch import _fastgrad_hidden as hidden
from scratch import gradcheck as gc
from scratch import layers as L
from scratch import losses as S
from scratch.fastgrad import _Run, fast_numerical_gradient
from scratch.model import Sequential

EPS = np.finfo(np.float64).eps


def _sparse_batch(n=12, d=30, k=5, seed=0):
    """Images with ~80% zero pixels and one pixel zero in every sample (its weights: exactly 0)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, d)) * (rng.random((n, d)) < 0.2)
    x[:, 3] = 0.0
    return x, rng.integers(0, k, n)


def _twolayer(d=30, hidden_units=8, k=5, seed=0, scale=0.01):
    rng = np.random.default_rng(seed)
    return Sequential([L.Dense(d, hidden_units, W=scale * rng.standard_normal((d, hidden_units)),
                               b=scale * rng.standard_normal(hidden_units)), L.Sigmoid(),
                       L.Dense(hidden_units, k, W=scale * rng.standard_normal((hidden_units, k)),
                               b=scale * rng.standard_normal(k))])


def _loop(model, x, t, loss, h, method="central", masks=None):
    f = gc.loss_function(model, x, t, training=True, loss=loss, masks=masks)
    return f(), {k: gc.numerical_gradient(f, p, h=h, method=method) for k, p in model.params.items()}


LOSSES = {"index": S.SoftmaxCrossEntropy(), "textbook": S.SoftmaxCrossEntropy(semantics="textbook")}


@pytest.mark.parametrize("method", ["central", "forward"])
@pytest.mark.parametrize("kind", ["index", "textbook", "rows"])
def test_route_equals_loop_at_textbook_step(kind, method):
    model = _twolayer()
    x, t = _sparse_batch()
    loss = LOSSES.get(kind, S.SoftmaxCrossEntropy())
    if kind == "rows":  # probability rows: term = sum(t) lse - t . z
        t = np.random.default_rng(1).dirichlet(np.ones(5), len(x))
    run = _Run(model, x, t, True, loss, {})
    assert hidden.applies(run, 0) and hidden.applies(run, 2) and not hidden.applies(run, 1)
    fast = fast_numerical_gradient(model, x, t, training=True, loss=loss, method=method)
    value, loop = _loop(model, x, t, loss, 1e-4, method)
    bound = 16 * EPS * max(abs(value), 1) / 1e-4
    for name in model.params:
        assert np.abs(fast[name] - loop[name]).max() <= bound, name
    assert not fast["dense0.W"][3].any()  # a pixel zero in every sample: exactly 0, as the loop


def test_large_step_takes_the_sum_over_classes_and_agrees():
    """With h = 0.5 and weights ~1, |delta W2| is too large for the series: S is summed with expm1."""
    model = _twolayer(scale=1.0)
    x, t = _sparse_batch()
    run = _Run(model, x, t, True, LOSSES["index"], {})
    hid = hidden.Hidden(run, 0)
    assert hid.order(0.5 * hid.w2max) == 0 and hid.order(1e-6) in (1, 2)
    fast = fast_numerical_gradient(model, x, t, training=True, h=0.5)
    value, loop = _loop(model, x, t, None, 0.5)
    for name in model.params:
        assert np.abs(fast[name] - loop[name]).max() <= 16 * EPS * max(abs(value), 1) / 0.5, name


@pytest.mark.parametrize("kind", ["index", "textbook"])
def test_series_equals_the_sum_over_classes(kind):
    model = _twolayer(scale=0.3)
    x, t = _sparse_batch()
    hid = hidden.Hidden(_Run(model, x, t, True, LOSSES[kind], {}), 0)
    rows = np.arange(len(x))
    delta = 1e-4 * np.random.default_rng(2).standard_normal((len(x), 8))
    series = hid.term_changes(delta, rows)
    hid.order = lambda umax: 0  # the exact branch
    exact = hid.term_changes(delta, rows)
    # within the rounding of the exact branch (expm1, then a sum over K classes), far below tol (eps L / 64)
    assert np.abs(series - exact).max() <= 4 * EPS * np.abs(exact).max() <= hid.tol
    assert np.abs(exact).max() > 1e-7  # the changes are not all zero


def test_hidden_layers_relu_dropout_tanh_and_tiny_chunks():
    rng = np.random.default_rng(3)
    model = Sequential([L.Dense(30, 9, rng=rng), L.ReLU(), L.Dense(9, 7, rng=rng), L.Tanh(),
                        L.Dropout(0.3, rng=rng), L.Dense(7, 5, rng=rng)])
    x, t = _sparse_batch()
    masks = gc.fixed_masks(model, x)
    run = _Run(model, x, t, True, LOSSES["index"], masks)
    assert [hidden.applies(run, i) for i in (0, 2, 5)] == [False, True, True]
    fast = fast_numerical_gradient(model, x, t, training=True, masks=masks)
    tiny = fast_numerical_gradient(model, x, t, training=True, masks=masks, max_bytes=1)
    value, loop = _loop(model, x, t, None, 1e-4, masks=masks)
    bound = 16 * EPS * max(abs(value), 1) / 1e-4
    for name in model.params:
        assert np.abs(fast[name] - loop[name]).max() <= bound, name
        assert np.abs(fast[name] - tiny[name]).max() <= 2 * np.spacing(value) / 1e-4, name


def test_float32_and_other_losses_keep_the_general_path():
    model = _twolayer()
    x, t = _sparse_batch()
    assert not hidden.applies(_Run(model, x, np.eye(5)[t], True, S.MeanSquaredError(), {}), 0)
    rng = np.random.default_rng(0)
    m32 = Sequential([L.Dense(30, 8, rng=rng, dtype="float32"), L.Sigmoid(dtype="float32"),
                      L.Dense(8, 5, rng=rng, dtype="float32")])
    assert not hidden.applies(_Run(m32, x.astype(np.float32), t, True, LOSSES["index"], {}), 0)


def test_callback_counts_every_entry_once_in_order():
    model = _twolayer()
    x, t = _sparse_batch()
    seen = []
    fast_numerical_gradient(model, x, t, training=True, max_bytes=2000, callback=lambda done, total: seen.append(
        (done, total)))
    total = sum(p.size for p in model.params.values())
    assert len(seen) > 4 and all(tot == total for _, tot in seen)
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == total
