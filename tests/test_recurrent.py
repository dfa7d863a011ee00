"""Recurrent layers: a worked example, backward through time with initial states against central
differences, the layouts, the fast numerical gradient through a recurrent model, bad input, and
what a naive GRU weight copy to PyTorch costs (PyTorch only: one framework import).

Gradient tolerance: central differences with h = 1e-5 on these small float64 layers have
truncation error ~h^2 |f'''| ~ 1e-10 and rounding ~eps |f| / h ~ 1e-11 relative to the gradient
scale; 1e-7 normwise leaves margin (as tests/test_gradcheck.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from comparisons.harness.metrics import error
from comparisons.table import CASES
from reference import layouts
from scratch import layers as L
from scratch.fastgrad import fast_numerical_gradient
from scratch.gradcheck import backprop_gradient, numerical_gradient
from scratch.losses import SoftmaxCrossEntropy
from scratch.model import Sequential

H, RTOL = 1e-5, 1e-7
STATEFUL = [c for c in CASES if c.check == "stateful"]
RNG = np.random.default_rng(0)


def test_simple_rnn_worked_example():
    """One unit, one feature, two steps: x = (1, -1), W = 0.5, U = -1, b = 0.1, h0 = 0.

    h1 = tanh(0.5 + 0.1) = 0.53704956699803520;  h2 = tanh(-0.5 + 0.1 - h1) = -0.73386373868968390.
    Backward with dy = 1 on h2: da2 = 1 - h2^2 = 0.461444..., dh1 = -da2, da1 = dh1 (1 - h1^2);
    dW = -da2 + da1, dU = da2 h1, db = da2 + da1, dx = 0.5 (da1, da2).
    """
    rnn = L.SimpleRNN(1, 1, W=np.array([[0.5]]), U=np.array([[-1.0]]), b=np.array([0.1]))
    y = rnn.forward(np.array([[[1.0], [-1.0]]]), training=True)
    np.testing.assert_allclose(y, [[-0.7338637386896839]], rtol=1e-15)
    dx = rnn.backward(np.array([[1.0]]))
    np.testing.assert_allclose(dx[0, :, 0], [-0.1641766491778552, 0.23072200651819968], rtol=1e-14)
    np.testing.assert_allclose(rnn.grads["W"], [[-0.7897973113921097]], rtol=1e-14)
    np.testing.assert_allclose(rnn.grads["U"], [[0.247818307395034]], rtol=1e-14)
    np.testing.assert_allclose(rnn.grads["b"], [0.13309071468068895], rtol=1e-14)


@pytest.mark.parametrize("case", STATEFUL, ids=[c.id for c in STATEFUL])
def test_backward_through_time_matches_central_differences(case):
    """dx, every parameter gradient and the initial states' gradients, under random upstream
    gradients for the output and for every final state."""
    rng = np.random.default_rng(case.seed)
    inputs = case.inputs(rng, "float64")
    x, states = inputs["xs"][0], tuple(inputs["states"])
    layer = case.make("float64")
    y = layer.forward(x, training=True, initial_state=states)
    dy = rng.standard_normal(y.shape)
    d_state = tuple(rng.standard_normal(s.shape) for s in states)
    dx = layer.backward(dy, d_state=d_state)
    grads, d_initial = {k: v.copy() for k, v in layer.grads.items()}, layer.d_initial_state

    def f():
        out = layer.forward(x, training=True, initial_state=states)
        return np.sum(out * dy) + sum(np.sum(s * d) for s, d in zip(layer.final_state, d_state, strict=True))

    checks = [("dx", dx, x), *[(f"grad:{k}", grads[k], p) for k, p in layer.params.items()],
              *[(f"d_initial:{n}", g, s) for n, g, s in zip(layer.state_names, d_initial, states, strict=True)]]
    for what, analytic, arr in checks:
        err = error(analytic, numerical_gradient(f, arr, h=H))
        assert err.max_rel < RTOL, f"{case.id} {what}: {err.describe()}"


def test_one_recurrent_product_per_step_for_all_gates(monkeypatch):
    """The loop multiplies by U once per step (all gates at once), over the whole batch."""
    calls = []
    lstm = L.LSTM(3, 4, rng=np.random.default_rng(0))
    orig = L.LSTM._step

    def counting(self, ax, state, cache):
        calls.append(ax.shape)
        return orig(self, ax, state, cache)

    monkeypatch.setattr(L.LSTM, "_step", counting)
    lstm.forward(np.zeros((5, 7, 3)), training=False)
    assert calls == [(5, 16)] * 7  # 7 steps, each the (N, 4u) pre-activation of every gate


@pytest.mark.parametrize("cls", [L.SimpleRNN, L.LSTM, L.GRU])
def test_fast_numerical_gradient_covers_a_recurrent_model(cls):
    """The traits (per_sample, not elementwise) let scratch.fastgrad run a recurrent layer: same
    numbers as backprop (h = 1e-5: quotient error ~1e-10 of gradients ~1e-2)."""
    rng = np.random.default_rng(1)
    model = Sequential([cls(4, 3, rng=rng, bias_init="zeros"), L.Dense(3, 5, rng=rng)])
    x, t = rng.standard_normal((6, 5, 4)), rng.integers(0, 5, 6)
    fast = fast_numerical_gradient(model, x, t, training=False, h=1e-5)
    _, exact = backprop_gradient(model, x, t, training=False, loss=SoftmaxCrossEntropy())
    for name in exact:
        assert error(fast[name], exact[name]).max_rel < 1e-7, name


def test_layouts_round_trip_and_gru_gate_order():
    rng = np.random.default_rng(2)
    u = 2
    K = rng.standard_normal((3, 3 * u))
    w = layouts.rnn_kernel_to_torch(K, "GRU")
    assert w.shape == (3 * u, 3)
    np.testing.assert_array_equal(w[:u], K[:, u:2 * u].T)  # PyTorch's first block (r) is Keras's second
    np.testing.assert_array_equal(w[u:2 * u], K[:, :u].T)  # PyTorch's z is Keras's first
    for kind, k in (("SimpleRNN", 1), ("LSTM", 4), ("GRU", 3)):
        M = rng.standard_normal((5, k * u))
        np.testing.assert_array_equal(layouts.rnn_kernel_from_torch(layouts.rnn_kernel_to_torch(M, kind), kind), M)
    b2 = rng.standard_normal((2, 3 * u))
    np.testing.assert_array_equal(layouts.rnn_bias_from_torch(*layouts.rnn_bias_to_torch(b2, "GRU"), "GRU"), b2)
    b_ih, b_hh = layouts.rnn_bias_to_torch(rng.standard_normal(4 * u), "LSTM")  # one bias: all into bias_ih
    assert not b_hh.any() and b_ih.shape == (4 * u,)


@pytest.mark.parametrize(("make", "x", "kw", "match"), [
    (lambda: L.LSTM(3, 2, rng=RNG), np.zeros((4, 3)), {},
     r"x: expected a sequence batch of shape \(N, T, 3\).*got shape \(4, 3\)"),
    (lambda: L.GRU(3, 2, rng=RNG), np.zeros((4, 5, 2)), {}, r"x: expected .*\(N, T, 3\).*got shape \(4, 5, 2\)"),
    (lambda: L.LSTM(3, 2, rng=RNG), np.zeros((4, 5, 3)), {"initial_state": (np.zeros((4, 2)),)},
     r"initial_state: expected a tuple of 2 arrays \(h, c\) of shape \(N, 2\), got tuple of length 1"),
    (lambda: L.SimpleRNN(3, 2, rng=RNG), np.zeros((4, 5, 3)), {"initial_state": (np.zeros((4, 3)),)},
     r"initial_state\[h\]: expected shape \(4, 2\), got \(4, 3\)"),
    (lambda: L.SimpleRNN(3, 2, rng=RNG), np.zeros((4, 0, 3)), {}, r"x: expected at least one time step"),
])
def test_bad_input_names_the_argument(make, x, kw, match):
    with pytest.raises(ValueError, match=match):
        make().forward(x, training=True, **kw)


def test_bad_state_gradient_and_constructor_arguments():
    gru = L.GRU(3, 2, rng=np.random.default_rng(0))
    y = gru.forward(np.zeros((4, 5, 3)), training=True)
    with pytest.raises(ValueError, match=r"d_state\[h\]: expected shape \(4, 2\), got \(2, 4\)"):
        gru.backward(np.zeros_like(y), d_state=(np.zeros((2, 4)),))
    with pytest.raises(ValueError, match=r"b: expected shape \(2, 6\), got \(6,\)"):
        L.GRU(3, 2, reset_after=True, W=np.zeros((3, 6)), U=np.zeros((2, 6)), b=np.zeros(6))
    with pytest.raises(ValueError, match="reset_after: expected one of True, False, got 'yes'"):
        L.GRU(3, 2, reset_after="yes")
    with pytest.raises(ValueError, match="units: expected a positive integer, got 0"):
        L.LSTM(3, 0)


@pytest.mark.parametrize(("cls", "kw"), [(L.SimpleRNN, {}), (L.LSTM, {}), (L.GRU, {"reset_after": True}),
                                         (L.GRU, {"reset_after": False})])
def test_evaluation_forward_keeps_no_cache_and_a_backward_after_it_recomputes_one(cls, kw):
    """An evaluation forward holds no per-step arrays; a backward after it gives exactly the
    gradients of a training forward on the same input (the same operations rerun)."""
    rng = np.random.default_rng(4)
    layer = cls(3, 4, rng=rng, **kw)
    x, other = rng.standard_normal((5, 6, 3)), rng.standard_normal((2, 3, 3))
    states = tuple(rng.standard_normal((5, 4)) for _ in layer.state_names)
    dy = rng.standard_normal((5, 4))
    layer.forward(x, training=True, initial_state=states)
    dx_train = layer.backward(dy)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    layer.forward(other, training=True)  # a training cache of another shape, then an evaluation forward
    layer.forward(x, training=False, initial_state=states)
    assert layer._s is None and layer._xt is None
    np.testing.assert_array_equal(layer.backward(dy), dx_train)
    for k, g in grads.items():
        np.testing.assert_array_equal(layer.grads[k], g)


def test_returned_arrays_are_not_the_reused_work_arrays():
    """Output, final states, dx and gradients of one call keep their values through the next calls."""
    rng = np.random.default_rng(5)
    lstm = L.LSTM(3, 4, rng=rng, return_sequences=True)
    x1, x2 = rng.standard_normal((5, 6, 3)), rng.standard_normal((5, 6, 3))
    y = lstm.forward(x1, training=True)
    out = [y, *lstm.final_state, lstm.backward(rng.standard_normal(y.shape)), *lstm.grads.values(),
           *lstm.d_initial_state]
    kept = [a.copy() for a in out]
    lstm.forward(x2, training=True)
    lstm.backward(rng.standard_normal(y.shape))
    lstm.forward(x2, training=False)
    for a, b in zip(out, kept, strict=True):
        np.testing.assert_array_equal(a, b)


def test_float32_stays_float32():
    lstm = L.LSTM(3, 2, rng=np.random.default_rng(0), dtype="float32", return_sequences=True)
    x = np.random.default_rng(1).standard_normal((2, 4, 3)).astype(np.float32)
    y = lstm.forward(x, training=True)
    dx = lstm.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32 and all(g.dtype == np.float32 for g in lstm.grads.values())
    assert all(s.dtype == np.float32 for s in lstm.final_state + lstm.d_initial_state)


# -- PyTorch: two biases, and the naive GRU copy ------------------------------------------------
def _torch_gru_output(gru: L.GRU, x: np.ndarray, *, naive: bool) -> np.ndarray:
    from reference import frameworks

    torch = frameworks.torch()
    m = torch.nn.GRU(gru.input_size, gru.units, num_layers=1, bias=True, batch_first=True, dropout=0.0,
                     bidirectional=False, dtype=torch.float64)
    W, U, b = gru.params["W"], gru.params["U"], gru.params["b"]
    with torch.no_grad():
        if naive:  # transpose only: Keras's z, r, h blocks land in PyTorch's r, z, n slots
            m.weight_ih_l0.copy_(torch.from_numpy(W.T.copy()))
            m.weight_hh_l0.copy_(torch.from_numpy(U.T.copy()))
            m.bias_ih_l0.copy_(torch.from_numpy(b[0].copy()))
            m.bias_hh_l0.copy_(torch.from_numpy(b[1].copy()))
        else:
            m.weight_ih_l0.copy_(torch.from_numpy(layouts.rnn_kernel_to_torch(W, "GRU")))
            m.weight_hh_l0.copy_(torch.from_numpy(layouts.rnn_kernel_to_torch(U, "GRU")))
            b_ih, b_hh = layouts.rnn_bias_to_torch(b, "GRU")
            m.bias_ih_l0.copy_(torch.from_numpy(b_ih))
            m.bias_hh_l0.copy_(torch.from_numpy(b_hh))
        return m(torch.from_numpy(x))[0][:, -1].numpy()


def test_a_naive_gru_copy_runs_and_computes_another_function():
    """Transposing the kernels without reordering the gates gives PyTorch a working GRU with the
    update and reset gates swapped: same shapes, no error, outputs off by O(0.1)."""
    rng = np.random.default_rng(3)
    gru = L.GRU(5, 4, rng=rng, bias_init=lambda s, **kw: rng.uniform(-0.5, 0.5, s))
    x = rng.standard_normal((3, 6, 5))
    y = gru.forward(x, training=False)
    assert error(y, _torch_gru_output(gru, x, naive=False)).max_rel < 1e-13
    assert error(y, _torch_gru_output(gru, x, naive=True)).max_rel > 0.05


def test_torch_lstm_bias_ih_and_bias_hh_get_the_same_gradient():
    """Both biases enter only through their sum, so each gets scratch's db: the relation that lets
    one Keras bias stand for the two."""
    from reference.torch_recurrent import build_stateful

    case = next(c for c in STATEFUL if c.id == "lstm/many-to-one/initial-state")
    inputs = case.inputs(np.random.default_rng(case.seed), "float64")
    layer = case.make("float64")
    twin = build_stateful(layer, inputs["xs"][0].shape)
    y, final = twin.forward(inputs["xs"][0], tuple(inputs["states"]))
    twin.backward(np.ones_like(y) * 0.3, tuple(np.ones_like(s) for s in final))
    g_ih, g_hh = twin.module.bias_ih_l0.grad.numpy(), twin.module.bias_hh_l0.grad.numpy()
    np.testing.assert_allclose(g_ih, g_hh, rtol=1e-14, atol=0)  # summed in another order: rounding
    assert np.abs(g_ih).max() > 0
