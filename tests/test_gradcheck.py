"""Every layer's and loss's backward against a central-difference numerical gradient (float64),
independent of both frameworks.

Inputs are fresh continuous random draws of the case's shape, so that no input sits on a kink
(ReLU at 0, a max-pool tie, a clip boundary), where a finite difference is not a derivative.
Tolerance: central differences with h = 1e-5 have truncation error ~h^2 |f'''| ~ 1e-10 and
rounding error ~eps |f| / h ~ 1e-11 relative to the gradient scale; 1e-7 normwise leaves margin.
"""

from __future__ import annotations

import numpy as np
import pytest

from comparisons.harness.metrics import error
from comparisons.table import CASES
from comparisons.table.book import core_of
from scratch import layers as L
from scratch import losses as S
from scratch.gradcheck import numerical_gradient

H = 1e-5
RTOL = 1e-7

LAYER_CASES = [c for c in CASES if c.kind == "layer"]
LOSS_CASES = [c for c in CASES if c.kind == "loss"]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=(pytest.mark.slow,) if c.params.get("slow") else ())
                                  for c in LAYER_CASES])
def test_layer_backward_matches_numerical_gradient(case):
    rng = np.random.default_rng(case.seed)
    x0 = case.inputs(rng, "float64")["xs"][0]
    shape = x0.shape
    x = x0 if x0.dtype.kind == "i" else rng.standard_normal(shape)  # ids (Embedding) are not perturbed
    layer = case.make("float64")
    training = case.script[-1] == "train"
    if not training and layer.buffers:  # evaluation with non-trivial running statistics
        layer.forward(rng.standard_normal(shape) * 2 + 0.5, training=True)
    is_dropout = isinstance(core_of(layer), L.Dropout)  # a core Dropout or the book's
    kwargs = {"mask": rng.random(shape) >= layer.rate} if is_dropout and training else {}
    y = layer.forward(x, training=training, **kwargs)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)
    grads = {k: v.copy() for k, v in layer.grads.items()}

    def f():
        return np.sum(layer.forward(x, training=training, **kwargs) * dy)

    if dx is not None:  # None: integer ids, no input gradient
        num_dx = numerical_gradient(f, x, h=H)
        assert error(dx, num_dx).max_rel < RTOL, f"{case.id} dx: {error(dx, num_dx).describe()}"
    zero = set(case.params.get("zero_gradients", ()))  # zero in exact arithmetic: rounding noise on both sides
    for name, p in layer.params.items():
        num = numerical_gradient(f, p, h=H)
        if name in zero:  # noise ~ eps |f| / h ~ 1e-11 for the O(1) f here
            assert np.abs(grads[name]).max() < 1e-12 and np.abs(num).max() < 1e-8, f"{case.id} grad:{name}"
            continue
        if isinstance(layer, L.Embedding) and layer.padding_idx is not None:
            num[layer.padding_idx] = 0  # padding_idx is a convention: that row's gradient is set to 0, not derived
        err = error(grads[name], num)
        assert err.max_rel < RTOL, f"{case.id} grad:{name}: {err.describe()}"


@pytest.mark.parametrize("case", LOSS_CASES, ids=[c.id for c in LOSS_CASES])
def test_loss_backward_matches_numerical_gradient(case):
    rng = np.random.default_rng(case.seed)
    inputs = case.inputs(rng, "float64")
    loss = case.make("float64")
    z = rng.standard_normal(inputs["y"].shape)
    if isinstance(loss, S.CrossEntropy):  # probabilities, away from the clip bounds
        z = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss.check_rows = False  # each perturbed z leaves the simplex; both formulas are defined there
    t = inputs["t"]
    loss.forward(z, t)
    dy = loss.backward(1.7)
    of = loss
    core = core_of(loss)
    if isinstance(core, S.SoftmaxCrossEntropy) and core.semantics == "textbook":
        # the textbook's backward is the gradient of the plain loss: its 1e-7 is not differentiated
        of = S.SoftmaxCrossEntropy()
    num = numerical_gradient(lambda: 1.7 * of.forward(z, t), z, h=H)
    err = error(dy, num)
    assert err.max_rel < RTOL, f"{case.id}: {err.describe()}"


def test_numerical_gradient_restores_the_array_exactly():
    x = np.random.default_rng(0).standard_normal((3, 4))
    before = x.copy()
    numerical_gradient(lambda: float(np.sum(np.sin(x))), x, h=1e-4)
    assert np.array_equal(x, before)


@pytest.mark.parametrize("method", ["central", "forward"])
def test_numerical_gradient_of_a_known_function(method):
    x = np.array([0.3, -1.2, 2.0])
    g = numerical_gradient(lambda: float(np.sum(x**3)), x, h=1e-6, method=method)
    tol = 1e-8 if method == "central" else 1e-5  # O(h^2) vs O(h) truncation error
    np.testing.assert_allclose(g, 3 * x**2, rtol=tol)


def test_numerical_gradient_rejects_bad_arguments():
    x = np.zeros(3)
    with pytest.raises(ValueError, match="h"):
        numerical_gradient(lambda: 0.0, x, h=0)
    with pytest.raises(ValueError, match="method"):
        numerical_gradient(lambda: 0.0, x, method="backward")
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda: np.zeros(2), x)
    with pytest.raises(ValueError, match="non-finite"):
        numerical_gradient(lambda: float("nan"), x)
