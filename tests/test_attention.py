"""Multi-head attention: a worked example, the backward against central differences in training
with cross-attention, a mask and an injected dropout mask, the layouts, and bad input.

Gradient tolerance as in tests/test_gradcheck.py: central differences with h = 1e-5 in float64,
1e-7 normwise.
"""

from __future__ import annotations

import numpy as np
import pytest

from comparisons.harness.metrics import error
from reference import layouts
from scratch.gradcheck import numerical_gradient
from scratch.layers import MultiHeadAttention

RNG = np.random.default_rng(0)


def test_worked_example_one_head():
    """d = 1, one head, every weight 1, biases 0, x = (1, 2): q = k = v = x, scores = x x^T / sqrt(1).

    Row 0: softmax(1, 2) = (e / (e + e^2), e^2 / (e + e^2)) = (0.2689414213699951, 0.7310585786300049),
    y0 = 0.2689... * 1 + 0.7310... * 2 = 1.7310585786300049. Row 1: softmax(2, 4) = (0.1192..., 0.8807...),
    y1 = 1.8807970779778823.
    """
    one = np.ones((1, 1, 1))
    m = MultiHeadAttention(1, 1, params={"Wq": one, "Wk": one, "Wv": one, "Wo": one, "bq": np.zeros((1, 1)),
                                         "bk": np.zeros((1, 1)), "bv": np.zeros((1, 1)), "bo": np.zeros(1)})
    y = m.forward(np.array([[[1.0], [2.0]]]), training=False)
    np.testing.assert_allclose(y[0, :, 0], [1.7310585786300049, 1.8807970779778823], rtol=1e-15)
    mask = np.array([[[True, False], [True, True]]])  # query 0 sees key 0 only: y0 = v0 = 1
    y = m.forward(np.array([[[1.0], [2.0]]]), training=False, attention_mask=mask)
    np.testing.assert_allclose(y[0, :, 0], [1.0, 1.8807970779778823], rtol=1e-15)


@pytest.mark.parametrize("cross", [False, True])
def test_backward_matches_central_differences_with_mask_and_dropout(cross):
    rng = np.random.default_rng(1)
    m = MultiHeadAttention(6, 3, dropout=0.3, rng=rng, bias_init=lambda s, **kw: rng.uniform(-0.5, 0.5, s))
    x = rng.standard_normal((2, 3, 6))
    value = rng.standard_normal((2, 4, 6)) if cross else None
    s = 4 if cross else 3
    mask = rng.random((2, 3, s)) > 0.3
    mask[:, :, -1] = True
    kw = {"value": value, "attention_mask": mask, "dropout_mask": rng.random((2, 3, 3, s)) >= 0.3}
    y = m.forward(x, training=True, **kw)
    dy = rng.standard_normal(y.shape)
    dx = m.backward(dy)
    grads, d_value = {k: v.copy() for k, v in m.grads.items()}, m.d_value

    def f():
        return np.sum(m.forward(x, training=True, **kw) * dy)

    checks = [("dx", dx, x), *[(k, grads[k], p) for k, p in m.params.items()]]
    if cross:
        checks.append(("d_value", d_value, value))
    for what, analytic, arr in checks:
        num = numerical_gradient(f, arr, h=1e-5)
        if what == "bk":  # zero in exact arithmetic (softmax is shift-invariant): both are rounding noise
            assert np.abs(analytic).max() < 1e-12 and np.abs(num).max() < 1e-8
            continue
        assert error(analytic, num).max_rel < 1e-7, f"{what}: {error(analytic, num).describe()}"


def test_torch_packed_layout_round_trip():
    h, dk, d = 2, 3, 6
    W = [RNG.standard_normal((d, h, dk)) for _ in range(3)]
    b = [RNG.standard_normal((h, dk)) for _ in range(3)]
    w, bias = layouts.mha_in_proj(*W, *b)
    assert w.shape == (3 * d, d) and bias.shape == (3 * d,)
    np.testing.assert_array_equal(w[d + 1 * dk + 2], W[1][:, 1, 2])  # key block, head 1, feature 2 = row d + h*dk + j
    for j in range(3):
        np.testing.assert_array_equal(layouts.mha_in_proj_block(w, j, h, "W"), W[j])
        np.testing.assert_array_equal(layouts.mha_in_proj_block(bias, j, h, "b"), b[j])
    Wo = RNG.standard_normal((h, dk, d))
    np.testing.assert_array_equal(layouts.mha_out_from_torch(layouts.mha_out_to_torch(Wo), h), Wo)


def _mha(**kw):
    return MultiHeadAttention(8, 2, rng=RNG, **kw)


@pytest.mark.parametrize(("make", "args", "match"), [
    (lambda: MultiHeadAttention(8, 3, rng=RNG), None, r"num_heads: expected a divisor of d_model = 8 .*got 3"),
    (_mha, {"x": np.zeros((2, 8))}, r"x: expected a sequence batch of shape \(N, length, 8\), got shape \(2, 8\)"),
    (_mha, {"x": np.zeros((2, 3, 8)), "value": np.zeros((3, 4, 8))},
     r"value: expected a sequence batch of shape \(2, length, 8\), got shape \(3, 4, 8\)"),
    (_mha, {"x": np.zeros((2, 3, 8)), "attention_mask": np.ones((2, 3, 4), bool)},
     r"attention_mask: expected shape \(2, 3, 3\), got \(2, 3, 4\)"),
    (_mha, {"x": np.zeros((2, 3, 8)), "attention_mask": np.ones((2, 3, 3))},
     r"attention_mask: expected dtype bool"),
    (_mha, {"x": np.zeros((2, 3, 8)), "attention_mask": np.zeros((2, 3, 3), bool)},
     r"attention_mask: expected every query position to see at least one key"),
    (lambda: _mha(dropout=0.5), {"x": np.zeros((2, 3, 8)), "dropout_mask": np.ones((2, 2, 3, 4), bool)},
     r"dropout_mask: expected shape \(2, 2, 3, 3\), got \(2, 2, 3, 4\)"),
])
def test_bad_input_names_the_argument(make, args, match):
    with pytest.raises(ValueError, match=match):
        layer = make()
        x = args.pop("x")
        layer.forward(x, training=True, **args)
