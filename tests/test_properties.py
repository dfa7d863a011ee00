"""Property-based parity: random shapes and hyperparameters drawn by hypothesis, scratch against
PyTorch (and Keras on a smaller sample), forward, dx and every parameter gradient under a random
upstream gradient, with the project's per-dtype tolerances (``comparisons.table.spec``).

The case table fixes a few hand-picked geometries; here hypothesis searches the space around them,
edge shapes included (1 x 1 images, a kernel as large as the padded input, a stride larger than
the kernel, odd sizes with ``"same"`` and stride 2, N-D input to Dense). ``derandomize=True`` makes
every run draw the same examples (reproducible in CI); the budgets keep the file under a minute on
two cores (the ``slow`` suite runs the PyTorch properties with 300 examples each). Bad-input
properties: any invalid argument raises a ValueError that names it, never a
NumPy error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from comparisons.harness.metrics import error
from comparisons.table.spec import DEFAULT_TOLERANCE
from scratch import layers as L

torch_layers = pytest.importorskip("reference.torch_layers")

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow],
                print_blob=True)
TORCH = settings(max_examples=25, **SETTINGS)
KERAS = settings(max_examples=4, **SETTINGS)
LARGE = settings(max_examples=300, **SETTINGS)  # the slow suite


def _budgets(body, **strategies):
    """The property ``body`` as two tests: the bounded budget of ``make test`` and a slow larger one."""
    return TORCH(given(**strategies)(body)), pytest.mark.slow(LARGE(given(**strategies)(body)))

dtypes = st.sampled_from(["float64", "float32"])
seeds = st.integers(0, 2**32 - 1)


# -- strategies: a layer and an input shape it accepts ---------------------------------------------
@st.composite
def conv_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 5)), draw(st.integers(1, 5))  # may exceed the kernel
    padding = draw(st.one_of(st.just("same"), st.just("valid"), st.integers(0, 2),
                             st.tuples(st.integers(0, 2), st.integers(0, 2))))
    pads = (padding, padding) if isinstance(padding, int) else padding
    extra_h = 0 if padding == "same" else (0 if padding == "valid" else 2 * pads[0])
    extra_w = 0 if padding == "same" else (0 if padding == "valid" else 2 * pads[1])
    h = draw(st.integers(max(1, kh - extra_h), 9))  # kernel at most the padded input (equal allowed)
    w = draw(st.integers(max(1, kw - extra_w), 9))
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return dict(c=c, f=f, kernel=(kh, kw), stride=(sh, sw), padding=padding, shape=(n, c, h, w))


@st.composite
def pool_cases(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    padding = draw(st.one_of(st.just("valid"), st.just("same"),
                             st.tuples(st.integers(0, kh // 2), st.integers(0, kw // 2))))
    pads = padding if isinstance(padding, tuple) else (0, 0)
    h = draw(st.integers(max(1, kh - 2 * pads[0]), 8))
    w = draw(st.integers(max(1, kw - 2 * pads[1]), 8))
    kind = draw(st.sampled_from(["max", "avg"]))
    return dict(kind=kind, pool=(kh, kw), stride=stride, padding=padding,
                shape=(draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w))


def _pool(case, dtype):
    common = dict(stride=case["stride"], padding=case["padding"], truncate=True, dtype=dtype)
    if case["kind"] == "max":
        return L.MaxPool2D(case["pool"], **common)
    return L.AvgPool2D(case["pool"], count_include_pad=False, **common)


def _conv(case, dtype, rng):
    return L.Conv2D(case["c"], case["f"], case["kernel"], stride=case["stride"], padding=case["padding"],
                    truncate=True, weight_init="glorot_uniform", bias_init="zeros",
                    b=rng.standard_normal(case["f"]), rng=rng, dtype=dtype)


# -- the comparison ------------------------------------------------------------------------------
def _check(layer, build, shape, dtype, rng, *, training=True, mask_from_twin=False, dx_scale=None):
    """Forward, dx and parameter gradients of ``layer`` against its twin, under a random dy.

    ``dx_scale(x, dy)``: for a dx formed by cancelling terms, the size of those terms; the rounding
    error of dx is relative to it, not to dx itself (which may cancel to almost zero).
    """
    x = rng.standard_normal(shape).astype(dtype)
    try:
        twin = build(layer, shape)
    except NotImplementedError:  # a geometry the framework has no layer for (Keras covers it)
        assume(False)
    y_fw, extras = twin.forward(x, training=training)
    if mask_from_twin:
        y = layer.forward(x, training=training, mask=extras["mask"])
    else:
        y = layer.forward(x, training=training)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(dy)
    dx_fw, grads_fw = twin.backward(dy)
    tol = DEFAULT_TOLERANCE[dtype].rtol
    for name, a, b in [("forward", y, y_fw), ("dx", dx, dx_fw)] + [
            (f"grad:{k}", layer.grads[k], grads_fw[k]) for k in layer.params]:
        err = error(a, b, name)
        scale = float(np.abs(b).max(initial=0.0))
        if name == "dx" and dx_scale is not None:
            scale = max(scale, dx_scale(x, dy))
        assert err.max_abs <= tol * scale, f"{type(layer).__name__} {shape} {dtype} {name}: {err.describe()}"
    return twin


def _batchnorm_dx_scale(layer, training):
    """dx = g/M * (M*dy - sum dy - x_hat * sum(dy * x_hat)), g = gamma / sqrt(var + eps): the terms are
    of size |g| * max|dy|, and with M = 2 they cancel exactly up to eps (dx ~ 1e-7 of them)."""
    def scale(x, dy):
        if not training:
            return 0.0
        axes = (0,) if x.ndim == 2 else (0, 2, 3)
        g = np.abs(layer.params["gamma"]) / np.sqrt(x.astype(np.float64).var(axis=axes) + layer.eps)
        return float(g.max() * np.abs(dy).max())
    return scale


def _conv2d_matches_torch(case, dtype, seed):
    rng = np.random.default_rng(seed)
    _check(_conv(case, dtype, rng), torch_layers.build, case["shape"], dtype, rng)


test_conv2d_matches_torch, test_conv2d_matches_torch_large_budget = _budgets(
    _conv2d_matches_torch, case=conv_cases(), dtype=dtypes, seed=seeds)


def _pool_matches_torch(case, dtype, seed):
    rng = np.random.default_rng(seed)
    _check(_pool(case, dtype), torch_layers.build, case["shape"], dtype, rng)


test_pool_matches_torch, test_pool_matches_torch_large_budget = _budgets(
    _pool_matches_torch, case=pool_cases(), dtype=dtypes, seed=seeds)


def _dense_nd_matches_torch(n, feature_shape, units, dtype, seed):
    rng = np.random.default_rng(seed)
    layer = L.Dense(math.prod(feature_shape), units, b=rng.standard_normal(units), rng=rng, dtype=dtype)
    _check(layer, torch_layers.build, (n, *feature_shape), dtype, rng)


test_dense_nd_matches_torch, test_dense_nd_matches_torch_large_budget = _budgets(
    _dense_nd_matches_torch, n=st.integers(1, 5), feature_shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    units=st.integers(1, 6), dtype=dtypes, seed=seeds)


@st.composite
def batchnorm_cases(draw):
    four_d = draw(st.booleans())
    c = draw(st.integers(1, 4))
    shape = ((draw(st.integers(1, 4)), c, draw(st.integers(1, 4)), draw(st.integers(1, 4))) if four_d
             else (draw(st.integers(2, 6)), c))
    if math.prod(shape) // c < 2:  # the unbiased running variance needs two values per feature
        shape = (shape[0] + 1, *shape[1:])
    momentum = draw(st.floats(0.0, 1.0))
    eps = draw(st.floats(1e-6, 1e-1))
    return dict(shape=shape, c=c, momentum=momentum, eps=eps, training=draw(st.booleans()))


def _batchnorm_matches_torch(case, dtype, seed):
    rng = np.random.default_rng(seed)
    c = case["c"]
    layer = L.BatchNorm(c, momentum=case["momentum"], momentum_of="batch", eps=case["eps"], running_var="unbiased",
                        gamma=rng.uniform(0.5, 1.5, c), beta=rng.standard_normal(c),
                        running_mean_init=0.5, running_var_init=2.0, dtype=dtype)
    twin = _check(layer, torch_layers.build, case["shape"], dtype, rng, training=case["training"],
                  dx_scale=_batchnorm_dx_scale(layer, case["training"]))
    tol = DEFAULT_TOLERANCE[dtype].rtol
    for k, v in twin.buffers().items():
        err = error(layer.buffers[k], v, k)
        assert err.max_rel <= tol, f"BatchNorm {case} {dtype} buffer {k}: {err.describe()}"


test_batchnorm_matches_torch, test_batchnorm_matches_torch_large_budget = _budgets(
    _batchnorm_matches_torch, case=batchnorm_cases(), dtype=dtypes, seed=seeds)


def _dropout_with_injected_mask_matches_torch(shape, rate, dtype, seed):
    rng = np.random.default_rng(seed)
    layer = L.Dropout(rate, inverted=True, rng=rng, dtype=dtype)
    _check(layer, torch_layers.build, tuple(shape), dtype, rng, mask_from_twin=True)


test_dropout_matches_torch, test_dropout_matches_torch_large_budget = _budgets(
    _dropout_with_injected_mask_matches_torch, shape=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    rate=st.floats(0.0, 0.95), dtype=dtypes, seed=seeds)


# -- Keras on a smaller sample ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras_layers():
    return pytest.importorskip("reference.keras_layers")


@KERAS
@given(case=conv_cases(), dtype=dtypes, seed=seeds)
def test_conv2d_matches_keras(keras_layers, case, dtype, seed):
    rng = np.random.default_rng(seed)
    _check(_conv(case, dtype, rng), keras_layers.build, case["shape"], dtype, rng)


@KERAS
@given(case=pool_cases(), dtype=dtypes, seed=seeds)
def test_pool_matches_keras(keras_layers, case, dtype, seed):
    rng = np.random.default_rng(seed)
    _check(_pool(case, dtype), keras_layers.build, case["shape"], dtype, rng)


@KERAS
@given(case=batchnorm_cases(), dtype=dtypes, seed=seeds)
def test_batchnorm_matches_keras(keras_layers, case, dtype, seed):
    rng = np.random.default_rng(seed)
    c = case["c"]
    layer = L.BatchNorm(c, momentum=case["momentum"], momentum_of="running", eps=case["eps"], running_var="biased",
                        gamma=rng.uniform(0.5, 1.5, c), beta=rng.standard_normal(c), dtype=dtype)
    _check(layer, keras_layers.build, case["shape"], dtype, rng, training=case["training"],
           dx_scale=_batchnorm_dx_scale(layer, case["training"]))


# -- bad input: a named ValueError, never a NumPy error ------------------------------------------
bad_numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not math.isfinite(v) or v <= 0),
                        st.text(max_size=3), st.none(), st.booleans())


@settings(max_examples=60, **SETTINGS)
@given(eps=bad_numbers)
def test_bad_batchnorm_eps_is_named(eps):
    with pytest.raises(ValueError, match="^eps: expected a finite number > 0"):
        L.BatchNorm(2, momentum=0.1, momentum_of="batch", eps=eps, running_var="unbiased")


@settings(max_examples=60, **SETTINGS)
@given(value=st.one_of(st.integers(-5, 0), st.floats(), st.text(max_size=2), st.none(),
                       st.tuples(st.integers(-3, 0), st.integers(-3, 3))),
       arg=st.sampled_from(["kernel_size", "stride"]))
def test_bad_conv_geometry_is_named(value, arg):
    kwargs = {"kernel_size": 3, "stride": 1, arg: value}
    with pytest.raises(ValueError, match=f"^{arg}: expected"):
        L.Conv2D(1, 1, kwargs.pop("kernel_size"), rng=np.random.default_rng(0), **kwargs)


@settings(max_examples=60, **SETTINGS)
@given(pool=st.integers(1, 4), extra=st.integers(1, 3))
def test_pool_padding_beyond_half_is_named(pool, extra):
    with pytest.raises(ValueError, match="^padding: expected at most half the pool size"):
        L.MaxPool2D(pool, padding=pool // 2 + extra)


@settings(max_examples=40, **SETTINGS)
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=5), dtype=st.sampled_from(["float16", "int64", "bool"]))
def test_bad_inputs_to_a_layer_are_named(shape, dtype):
    with pytest.raises(ValueError, match="^x: expected"):
        L.Conv2D(2, 1, 1, rng=np.random.default_rng(0)).forward(np.zeros(shape, dtype=dtype), training=True)
