"""Initializers: fans, the registry, the statistics behind the distribution checks, negative controls."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from comparisons.harness import stats
from comparisons.harness.initializers import evaluate, initializer_rows, run_initializer
from comparisons.harness.runner import FAIL, PASS, rows_from
from comparisons.harness.stats import Law
from comparisons.table.initializers import INITIALIZERS
from reference import frameworks
from reference.torch_initializers import TorchInit
from scratch import initializers as I
from scratch import layers as L

BY_ID = {c.id: c for c in INITIALIZERS}


# -- fans ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(256, 512), (8, 3, 5, 5), (128, 64, 4, 4), (7, 2, 3, 1), (4, 6, 3)])
def test_fans_match_keras_and_torch(shape):
    frameworks.keras()
    from keras.src.initializers.random_initializers import compute_fans

    torch = frameworks.torch()
    torch_shape = (shape[1], shape[0]) if len(shape) == 2 else shape
    keras_shape = shape if len(shape) == 2 else (*shape[2:], shape[1], shape[0])  # (..., in, out)
    assert I.fans(shape) == compute_fans(keras_shape)
    assert I.fans(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(torch_shape))


def test_conv_fans_5x5x3_to_8():
    assert I.fans((8, 3, 5, 5)) == (75, 200)


def test_layers_pass_the_fans_of_their_kernels():
    seen = []

    def record(shape, *, fan_in, fan_out, rng, dtype):
        seen.append((shape, fan_in, fan_out))
        return np.zeros(shape, dtype=dtype)

    L.Conv2D(3, 8, 5, weight_init=record, bias_init=record, dtype="float64")
    L.Dense(12, 7, weight_init=record, bias_init=record, dtype="float64")
    assert seen == [((8, 3, 5, 5), 75, 200), ((8,), 75, 200), ((12, 7), 12, 7), ((7,), 12, 7)]


@pytest.mark.parametrize("shape", [(5,), (), (0, 3), (2.5, 3)])
def test_fans_reject_shapes_without_fans(shape):
    with pytest.raises(ValueError, match="shape"):
        I.fans(shape)


# -- registry and arguments ---------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(I._REGISTRY))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_registered_initializers_draw_shape_and_dtype_reproducibly(name, dtype):
    init = I.get(name)
    draw = [init((16, 3, 3, 3), fan_in=27, fan_out=144, rng=np.random.default_rng(7), dtype=dtype) for _ in range(2)]
    assert draw[0].shape == (16, 3, 3, 3) and draw[0].dtype == np.dtype(dtype)
    np.testing.assert_array_equal(draw[0], draw[1])


@pytest.mark.parametrize("name", ["he_normal", "glorot_normal", "xavier", "lecun_normal"])
def test_ambiguous_names_are_refused_with_the_alternatives(name):
    with pytest.raises(ValueError, match="keras|textbook"):
        I.get(name)


def test_unknown_name_and_missing_generator():
    with pytest.raises(ValueError, match="initializer"):
        I.get("he_normall")
    with pytest.raises(ValueError, match="rng"):
        I.get("keras.he_normal")((3, 4), fan_in=3, fan_out=4, rng=None, dtype="float64")


@pytest.mark.parametrize(("make", "arg"), [
    (lambda: I.random_normal(mean=0.0, std=0.0), "std"),
    (lambda: I.truncated_normal(mean=0.0, std=1.0, a=1.0, b=-1.0), "a, b"),
    (lambda: I.truncated_normal(mean=0.0, std=0.1, a=5.0, b=6.0), "a, b"),  # acceptance ~ 0
    (lambda: I.random_uniform(low=1.0, high=1.0), "low, high"),
    (lambda: I.variance_scaling(scale=1.0, mode="fan_sum", distribution="uniform"), "mode"),
    (lambda: I.variance_scaling(scale=-1.0, mode="fan_in", distribution="uniform"), "scale"),
    (lambda: I.kaiming_normal(a=0.0, mode="fan_avg", nonlinearity="relu"), "mode"),
    (lambda: I.kaiming_uniform(a=0.0, mode="fan_in", nonlinearity="swish"), "nonlinearity"),
    (lambda: I.glorot_uniform((3, 4), fan_in=0, fan_out=4, rng=np.random.default_rng(0), dtype="float64"), "fan_in"),
])
def test_bad_arguments_name_the_argument(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


@pytest.mark.parametrize(("nonlinearity", "param"), [("linear", None), ("conv2d", None), ("sigmoid", None),
                                                     ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                     ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_gain_matches_torch(nonlinearity, param):
    assert I.calculate_gain(nonlinearity, param) == frameworks.torch().nn.init.calculate_gain(nonlinearity, param)


def test_keras_truncation_constant_is_the_std_of_the_cut_normal():
    phi2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    assert math.sqrt(1 - 4 * phi2 / mass) == pytest.approx(I.KERAS_TRUNCATION_STD, rel=1e-15)


def test_torch_module_draws_leave_the_global_generator_alone():
    torch = frameworks.torch()
    before = torch.random.get_rng_state()
    TorchInit("nn.Linear.weight", {"in_features": 4, "out_features": 3, "bias": True}).draw(
        (4, 3), fan_in=4, fan_out=3, seed=1, dtype="float64")
    assert torch.equal(before, torch.random.get_rng_state())


# -- statistics ---------------------------------------------------------------------------------
def test_kolmogorov_known_values():
    assert stats.kolmogorov_sf(1.0) == pytest.approx(0.26999967167735456, rel=1e-12)
    assert stats.kolmogorov_sf(2.0) == pytest.approx(2 * (math.exp(-8) - math.exp(-32)), rel=1e-12)
    assert stats.kolmogorov_isf(0.05) == pytest.approx(1.3580986, abs=1e-6)
    assert stats.kolmogorov_sf(stats.kolmogorov_isf(1e-3)) == pytest.approx(1e-3, rel=1e-9)


def test_ks_statistic_by_hand_with_ties():
    r = stats.ks_2samp(np.array([1.0, 1.0, 2.0]), np.array([1.0, 2.0, 2.0]))
    assert r.statistic == pytest.approx(1 / 3)  # at x = 1: 2/3 against 1/3
    assert stats.ks_2samp(np.arange(10.0), np.arange(10.0)).pvalue == 1.0
    r = stats.ks_2samp(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.5, 3.5, 4.5]))
    grid = np.linspace(0, 5, 5001)
    ecdf = lambda s: np.searchsorted(np.sort(s), grid, side="right") / len(s)  # noqa: E731
    assert r.statistic == pytest.approx(np.abs(ecdf([1, 2, 3]) - ecdf([1.5, 2.5, 3.5, 4.5])).max())


def test_ks_and_z_tests_are_calibrated_under_the_null():
    """p-values of equal laws are uniform; both z statistics have unit spread, for normal and uniform data."""
    rng = np.random.default_rng(0)
    ps, zm, zv = [], [], []
    for k in range(300):
        draw = rng.standard_normal if k % 2 else (lambda size: rng.uniform(-1, 1, size))
        a, b = draw(size=1000), draw(size=1500)
        ps.append(stats.ks_2samp(a, b).pvalue)
        zm.append(stats.mean_z(a, b))
        zv.append(stats.variance_z(a, b))
    assert 0.01 < np.mean(np.array(ps) < 0.05) < 0.10
    assert 0.85 < np.std(zm) < 1.15 and 0.85 < np.std(zv) < 1.15


@pytest.mark.parametrize("law", [Law.uniform(-0.3, 0.7), Law.normal(0.1, 2.0), Law.truncated(0.0, 1.5, -3.0, 2.0)])
def test_law_distribution_has_the_laws_support_and_moments(law):
    dist = stats.distribution(law)
    assert dist.support() == pytest.approx((law.low, law.high), rel=1e-15)  # (-inf, inf) for the normal
    if law.kind == "normal":
        assert (dist.mean(), dist.std()) == pytest.approx((law.mean, law.std), rel=1e-15)
    for p in (1e-4, 0.5, 1 - 1e-4):
        x = dist.ppf(p)
        assert law.low <= x <= law.high and dist.cdf(x) == pytest.approx(p, rel=1e-9)


# -- the checks: equal verdicts through rows_from, and negative controls ------------------------
@pytest.mark.parametrize("case_id", ["init/glorot_uniform", "init/keras.he_normal/namesakes", "init/zeros"])
def test_rows_from_reaches_the_same_verdicts(case_id):
    case = BY_ID[case_id]
    own = {r.quantity: r for r in initializer_rows(case, "torch", "float32")}
    generic = {r.quantity: r for r in rows_from(case, "torch", "float32", run_initializer(case, "torch", "float32"))}
    assert {q: r.verdict for q, r in own.items()} == {q: r.verdict for q, r in generic.items()}
    assert all(r.ok for r in own.values())


def _verdicts(case_id, init, framework="keras", dtype="float64", **replace):
    case = dataclasses.replace(BY_ID[case_id], make=lambda dtype: init, **replace)
    return {r.quantity: r.verdict for r in initializer_rows(case, framework, dtype)}


def _uncorrected_he(shape, *, fan_in, fan_out, rng, dtype):
    """he_normal truncated at +-2 std without Keras's 0.8796 correction: variance 0.77 * 2 / fan_in."""
    s = math.sqrt(2 / fan_in)
    return I.truncated_normal(mean=0.0, std=s, a=-2 * s, b=2 * s)(shape, fan_in=fan_in, fan_out=fan_out, rng=rng,
                                                                    dtype=dtype)


@pytest.mark.parametrize(("case_id", "wrong", "fails", "passes"), [
    # sqrt(1/n) against Glorot: the textbook's 'Xavier', and the uniform law with that variance
    ("init/glorot_uniform", I.textbook_xavier, {"bounds", "variance", "ks"}, set()),
    ("init/glorot_uniform", I.lecun_uniform, {"bounds", "variance", "ks"}, {"mean"}),
    # untruncated against Keras's truncated: same variance, so only the support and KS can tell
    ("init/keras.he_normal", I.textbook_he, {"bounds", "ks"}, {"mean", "variance"}),
    ("init/keras.he_normal", _uncorrected_he, {"bounds", "variance", "ks"}, {"mean"}),
    # a mean shifted by 8 standard errors
    ("init/random_normal(0.1, 0.05)", I.random_normal(mean=0.1 + 8 * 0.05 * math.sqrt(2 / 131072), std=0.05),
     {"mean"}, {"variance"}),
])
def test_negative_controls_fail(case_id, wrong, fails, passes):
    for framework in ("keras", "torch"):
        verdicts = _verdicts(case_id, wrong, framework)
        assert {q for q, v in verdicts.items() if v == FAIL} >= fails, verdicts
        assert all(verdicts[q] == PASS for q in passes), verdicts


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case_id", [c.id for c in INITIALIZERS if c.known])
def test_known_differences_are_real(case_id, dtype):
    """Without its relation, the namesake's sample fails exactly the quantities the entry lists."""
    case = BY_ID[case_id]
    (known,) = case.known
    bare = dataclasses.replace(case, known=())
    failed = {check.quantity for check, _, _ in evaluate(bare, known.framework, dtype) if not check.passed}
    assert failed == set(known.quantities)
