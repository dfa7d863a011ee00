"""Weight initializers: ``init(shape, *, fan_in, fan_out, rng, dtype) -> ndarray``.

The layer computes its own fans and passes them in, so an initializer never guesses a layout
(``fans`` gives them for a dense (in, out) or conv (F, C, KH, KW) kernel). Random initializers draw
from the injected ``numpy.random.Generator`` only, in float64, then cast to ``dtype``.

Names say whose convention they follow, because the frameworks disagree on the same word:
"he_normal" is truncated at 2 sigma in Keras and untruncated in PyTorch, the textbook's "Xavier" is
LeCun's sqrt(1/fan_in). Registered names for ``get`` (n = fan_in, m = fan_out, c = 0.8796...):

===================================  =======================================  ===============================
name                                 law                                      Keras / PyTorch
===================================  =======================================  ===============================
zeros, ones                          constant                                 Zeros, Ones / zeros_, ones_
glorot_uniform                       U(+-sqrt(6/(n+m)))                       GlorotUniform / xavier_uniform_
he_uniform                           U(+-sqrt(6/n))                           HeUniform / kaiming_uniform_
lecun_uniform                        U(+-sqrt(3/n))                           LecunUniform / kaiming_uniform_
keras.glorot_normal                  N(0, s^2) cut at +-2s, s=sqrt(2/(n+m))/c GlorotNormal / trunc_normal_
keras.he_normal                      N(0, s^2) cut at +-2s, s=sqrt(2/n)/c     HeNormal / trunc_normal_
keras.lecun_normal                   N(0, s^2) cut at +-2s, s=sqrt(1/n)/c     LecunNormal / trunc_normal_
torch.xavier_normal                  N(0, 2/(n+m))                            VarianceScaling / xavier_normal_
torch.kaiming_normal(fan_in, relu)   N(0, 2/n)                                VarianceScaling / kaiming_normal_
torch.default_weight                 U(+-1/sqrt(n))                           VarianceScaling / Linear, Conv2d
torch.default_bias                   U(+-1/sqrt(n)), n of the weight          RandomUniform / Linear, Conv2d
textbook.xavier                      N(0, 1/n): LeCun normal, untruncated     VarianceScaling / kaiming_normal_
textbook.he                          N(0, 2/n)                                VarianceScaling / kaiming_normal_
===================================  =======================================  ===============================

The uniform presets are also registered as keras.glorot_uniform, torch.xavier_uniform,
keras.he_uniform, torch.kaiming_uniform(fan_in, relu) and keras.lecun_uniform; each preset's
docstring gives the exact framework call.

c = 0.87962566103423978, the std of N(0, 1) truncated to [-2, 2]: Keras divides by it so that the
truncated law keeps the target variance. Parametrised families (``random_normal``,
``random_uniform``, ``truncated_normal``, ``variance_scaling``, ``xavier_*``, ``kaiming_*``,
``normal``) return an initializer; ambiguous bare names ("he_normal", ...) are refused by ``get``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import numpy as np

from scratch._checks import as_float_dtype, check_choice

KERAS_TRUNCATION_STD = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]
MIN_ACCEPTANCE = 1e-3  # truncated_normal: smallest probability of [a, b] that rejection sampling accepts

Init = Callable[..., np.ndarray]


class Initializer(Protocol):
    def __call__(
        self, shape: tuple[int, ...], *, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype
    ) -> np.ndarray: ...


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a scratch kernel, exactly as Keras and PyTorch count them.

    Dense (in, out): (in, out). Conv (F, C, KH, KW) (and any (out, in, *receptive)):
    (C * KH * KW, F * KH * KW), e.g. 5x5 from 3 to 8 channels -> (75, 200). Keras counts the same
    on its (KH, KW, C, F) kernel, PyTorch on its (F, C, KH, KW) weight.
    """
    dims = tuple(shape)
    if len(dims) < 2 or not all(isinstance(d, (int, np.integer)) and d > 0 for d in dims):
        raise ValueError(f"shape: expected a dense (in, out) or conv (F, C, KH, KW) kernel shape, got {shape!r}")
    if len(dims) == 2:
        return int(dims[0]), int(dims[1])
    receptive = math.prod(int(d) for d in dims[2:])
    return int(dims[1]) * receptive, int(dims[0]) * receptive


def _fan(mode: str, fan_in: int, fan_out: int) -> float:
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]


def _rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected a numpy.random.Generator for a random initializer, got {rng!r}")
    return rng


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not value > 0:
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    return float(value)


def _named(init: Init, name: str, doc: str) -> Init:
    init.__name__ = init.__qualname__ = name
    init.__doc__ = doc
    return init


def _truncated(rng: np.random.Generator, shape, mean: float, std: float, a: float, b: float) -> np.ndarray:
    """N(mean, std^2) conditioned on [a, b]: redraw outside until none is left (float64)."""
    lo, hi = (a - mean) / std, (b - mean) / std
    z = rng.standard_normal(size=shape)
    bad = (z < lo) | (z > hi)
    while bad.any():
        z[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = (z < lo) | (z > hi)
    return np.clip(mean + std * z, a, b)  # the clip only undoes rounding of mean + std * z


# -- constants ----------------------------------------------------------------------------------
def zeros(shape, *, fan_in, fan_out, rng, dtype):  # noqa: ARG001 - uniform signature
    """All zeros (Keras ``Zeros``, PyTorch ``nn.init.zeros_``; the bias default of Keras and the textbook)."""
    return np.zeros(shape, dtype=as_float_dtype(dtype))


def ones(shape, *, fan_in, fan_out, rng, dtype):  # noqa: ARG001
    """All ones (Keras ``Ones``, PyTorch ``nn.init.ones_``)."""
    return np.ones(shape, dtype=as_float_dtype(dtype))


# -- parametrised families ----------------------------------------------------------------------
def random_uniform(*, low: float, high: float) -> Init:
    """U(low, high). Keras ``RandomUniform(minval=low, maxval=high)``; PyTorch ``uniform_(a=low, b=high)``."""
    if not (isinstance(low, (int, float)) and isinstance(high, (int, float)) and low < high):
        raise ValueError(f"low, high: expected numbers with low < high, got low={low!r}, high={high!r}")

    def init(shape, *, fan_in, fan_out, rng, dtype):  # noqa: ARG001
        return _rng(rng).uniform(low, high, size=shape).astype(as_float_dtype(dtype))

    return _named(init, f"random_uniform(low={low}, high={high})", random_uniform.__doc__)


def random_normal(*, mean: float, std: float) -> Init:
    """Untruncated N(mean, std^2). Keras ``RandomNormal(mean, stddev=std)``; PyTorch ``normal_(mean, std)``."""
    std = _positive(std, "std")

    def init(shape, *, fan_in, fan_out, rng, dtype):  # noqa: ARG001
        return (mean + std * _rng(rng).standard_normal(size=shape)).astype(as_float_dtype(dtype))

    return _named(init, f"random_normal(mean={mean}, std={std})", random_normal.__doc__)


def normal(std: float) -> Init:
    """Untruncated N(0, std^2): the textbook's ``weight_init_std * np.random.randn(...)`` (fixed std)."""
    init = random_normal(mean=0.0, std=std)
    return _named(init, f"normal(std={std})", normal.__doc__)


def truncated_normal(*, mean: float, std: float, a: float, b: float) -> Init:
    """N(mean, std^2) conditioned on [a, b] (absolute bounds; std is that of the untruncated normal).

    PyTorch ``trunc_normal_(mean, std, a, b)`` (a, b absolute: its defaults -2, 2 leave std=0.05
    practically untruncated). Keras ``TruncatedNormal(mean, stddev=s)`` is a = mean - 2s,
    b = mean + 2s with no variance correction (std of the result 0.8796 s).
    """
    std = _positive(std, "std")
    if not a < b:
        raise ValueError(f"a, b: expected a < b, got a={a!r}, b={b!r}")
    accept = 0.5 * (math.erfc(-(b - mean) / (std * math.sqrt(2))) - math.erfc(-(a - mean) / (std * math.sqrt(2))))
    if accept < MIN_ACCEPTANCE:
        raise ValueError(f"a, b: [{a}, {b}] holds probability {accept:.2e} of N({mean}, {std}^2); expected at "
                         f"least {MIN_ACCEPTANCE:g} for rejection sampling")

    def init(shape, *, fan_in, fan_out, rng, dtype):  # noqa: ARG001
        return _truncated(_rng(rng), shape, mean, std, a, b).astype(as_float_dtype(dtype))

    return _named(init, f"truncated_normal(mean={mean}, std={std}, a={a}, b={b})", truncated_normal.__doc__)


def variance_scaling(*, scale: float, mode: str, distribution: str) -> Init:
    """Keras ``VarianceScaling(scale, mode, distribution)``: Var(w) = scale / n, n the chosen fan.

    mode: "fan_in", "fan_out" or "fan_avg" ((fan_in + fan_out) / 2). distribution:
    "truncated_normal" (Keras also accepts "normal" for it): N(0, s'^2) cut at +-2 s',
    s' = sqrt(scale / n) / 0.87962566103423978; "untruncated_normal": N(0, scale / n);
    "uniform": U(+-sqrt(3 scale / n)). PyTorch: ``trunc_normal_(std=s', a=-2s', b=2s')``,
    ``normal_(0, sqrt(scale / n))``, ``uniform_(-l, l)``.
    """
    scale = _positive(scale, "scale")
    check_choice(mode, "mode", ("fan_in", "fan_out", "fan_avg"))
    check_choice(distribution, "distribution", ("truncated_normal", "normal", "untruncated_normal", "uniform"))
    dist = "truncated_normal" if distribution == "normal" else distribution

    def init(shape, *, fan_in, fan_out, rng, dtype):
        var = scale / _fan(mode, fan_in, fan_out)
        gen, dt = _rng(rng), as_float_dtype(dtype)
        if dist == "uniform":
            limit = math.sqrt(3.0 * var)
            return gen.uniform(-limit, limit, size=shape).astype(dt)
        if dist == "untruncated_normal":
            return (math.sqrt(var) * gen.standard_normal(size=shape)).astype(dt)
        s = math.sqrt(var) / KERAS_TRUNCATION_STD
        return _truncated(gen, shape, 0.0, s, -2.0 * s, 2.0 * s).astype(dt)

    return _named(init, f"variance_scaling(scale={scale}, mode={mode!r}, distribution={dist!r})",
                  variance_scaling.__doc__)


_NONLINEARITIES = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                   "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch ``nn.init.calculate_gain``: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2),
    leaky_relu sqrt(2 / (1 + slope^2)) (slope = param, 0.01 when None), selu 3/4."""
    check_choice(nonlinearity, "nonlinearity", _NONLINEARITIES)
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"param: expected the negative slope as a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    return 1.0


def xavier_uniform(*, gain: float) -> Init:
    """PyTorch ``xavier_uniform_(gain)``: U(+-gain sqrt(6 / (fan_in + fan_out))).
    Keras: ``VarianceScaling(gain^2, "fan_avg", "uniform")`` (gain 1: ``GlorotUniform``)."""
    init = variance_scaling(scale=_positive(gain, "gain") ** 2, mode="fan_avg", distribution="uniform")
    return _named(init, f"xavier_uniform(gain={gain})", xavier_uniform.__doc__)


def xavier_normal(*, gain: float) -> Init:
    """PyTorch ``xavier_normal_(gain)``: N(0, gain^2 2 / (fan_in + fan_out)), untruncated.
    Keras: ``VarianceScaling(gain^2, "fan_avg", "untruncated_normal")``, not ``GlorotNormal`` (truncated)."""
    init = variance_scaling(scale=_positive(gain, "gain") ** 2, mode="fan_avg", distribution="untruncated_normal")
    return _named(init, f"xavier_normal(gain={gain})", xavier_normal.__doc__)


def _kaiming(a: float, mode: str, nonlinearity: str, distribution: str) -> Init:
    check_choice(mode, "mode", ("fan_in", "fan_out"))
    gain = calculate_gain(nonlinearity, a)
    return variance_scaling(scale=gain**2, mode=mode, distribution=distribution)


def kaiming_uniform(*, a: float, mode: str, nonlinearity: str) -> Init:
    """PyTorch ``kaiming_uniform_(a, mode, nonlinearity)``: U(+-gain sqrt(3 / fan)), gain from
    ``calculate_gain(nonlinearity, a)``. Keras: ``VarianceScaling(gain^2, mode, "uniform")``."""
    init = _kaiming(a, mode, nonlinearity, "uniform")
    name = f"kaiming_uniform(a={a}, mode={mode!r}, nonlinearity={nonlinearity!r})"
    return _named(init, name, kaiming_uniform.__doc__)


def kaiming_normal(*, a: float, mode: str, nonlinearity: str) -> Init:
    """PyTorch ``kaiming_normal_(a, mode, nonlinearity)``: N(0, gain^2 / fan), untruncated.
    Keras: ``VarianceScaling(gain^2, mode, "untruncated_normal")``, not ``HeNormal`` (truncated)."""
    init = _kaiming(a, mode, nonlinearity, "untruncated_normal")
    name = f"kaiming_normal(a={a}, mode={mode!r}, nonlinearity={nonlinearity!r})"
    return _named(init, name, kaiming_normal.__doc__)


# -- presets ------------------------------------------------------------------------------------
glorot_uniform = _named(variance_scaling(scale=1.0, mode="fan_avg", distribution="uniform"), "glorot_uniform",
                        "U(+-sqrt(6 / (fan_in + fan_out))) (Glorot & Bengio 2010). Keras ``GlorotUniform`` "
                        "(the Dense/Conv2D default); PyTorch ``xavier_uniform_(gain=1)``.")
he_uniform = _named(variance_scaling(scale=2.0, mode="fan_in", distribution="uniform"), "he_uniform",
                    "U(+-sqrt(6 / fan_in)) (He et al. 2015). Keras ``HeUniform``; PyTorch "
                    "``kaiming_uniform_(a=0, mode='fan_in', nonlinearity='relu')``.")
lecun_uniform = _named(variance_scaling(scale=1.0, mode="fan_in", distribution="uniform"), "lecun_uniform",
                       "U(+-sqrt(3 / fan_in)). Keras ``LecunUniform``; PyTorch "
                       "``kaiming_uniform_(mode='fan_in', nonlinearity='linear')``.")
keras_glorot_normal = _named(variance_scaling(scale=1.0, mode="fan_avg", distribution="truncated_normal"),
                             "keras_glorot_normal", "Keras ``GlorotNormal``: TN cut at +-2s', s' = sqrt(2 / "
                             "(fan_in + fan_out)) / 0.8796; PyTorch ``trunc_normal_(std=s', a=-2s', b=2s')``.")
keras_he_normal = _named(variance_scaling(scale=2.0, mode="fan_in", distribution="truncated_normal"),
                         "keras_he_normal", "Keras ``HeNormal``: TN cut at +-2s', s' = sqrt(2 / fan_in) / 0.8796; "
                         "PyTorch ``trunc_normal_(std=s', a=-2s', b=2s')``, not ``kaiming_normal_``.")
keras_lecun_normal = _named(variance_scaling(scale=1.0, mode="fan_in", distribution="truncated_normal"),
                            "keras_lecun_normal", "Keras ``LecunNormal``: TN cut at +-2s', s' = sqrt(1 / fan_in) / "
                            "0.8796; PyTorch ``trunc_normal_(std=s', a=-2s', b=2s')``.")
torch_xavier_normal = _named(xavier_normal(gain=1.0), "torch_xavier_normal",
                             "PyTorch ``xavier_normal_(gain=1)``: N(0, 2 / (fan_in + fan_out)), untruncated.")
torch_kaiming_normal = _named(kaiming_normal(a=0.0, mode="fan_in", nonlinearity="relu"), "torch_kaiming_normal",
                              "PyTorch ``kaiming_normal_(a=0, mode='fan_in', nonlinearity='relu')``: "
                              "N(0, 2 / fan_in), untruncated.")
torch_default_weight = _named(kaiming_uniform(a=math.sqrt(5.0), mode="fan_in", nonlinearity="leaky_relu"),
                              "torch_default_weight", "PyTorch ``nn.Linear``/``nn.Conv2d`` weight default "
                              "``kaiming_uniform_(a=sqrt(5))``: gain sqrt(1/3), U(+-1/sqrt(fan_in)). Keras: "
                              "``VarianceScaling(1/3, 'fan_in', 'uniform')``.")


def torch_default_bias(shape, *, fan_in, fan_out, rng, dtype):
    """PyTorch ``nn.Linear``/``nn.Conv2d`` bias default: U(+-1/sqrt(fan_in)), fan_in of the weight
    (the layer passes its own fans). Keras: ``RandomUniform(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
    bound = 1.0 / math.sqrt(_fan("fan_in", fan_in, fan_out))
    return _rng(rng).uniform(-bound, bound, size=shape).astype(as_float_dtype(dtype))


textbook_xavier = _named(variance_scaling(scale=1.0, mode="fan_in", distribution="untruncated_normal"),
                         "textbook_xavier", "The textbook's 'Xavier': sqrt(1 / n_in) * randn, n_in = fan_in. "
                         "This is untruncated LeCun normal, not Glorot: Keras ``VarianceScaling(1, 'fan_in', "
                         "'untruncated_normal')``; PyTorch ``kaiming_normal_(nonlinearity='linear')``.")
textbook_he = _named(variance_scaling(scale=2.0, mode="fan_in", distribution="untruncated_normal"),
                     "textbook_he", "The textbook's 'He': sqrt(2 / n_in) * randn. PyTorch ``kaiming_normal_("
                     "nonlinearity='relu')``; Keras ``VarianceScaling(2, 'fan_in', 'untruncated_normal')``, "
                     "not ``HeNormal`` (truncated).")

_REGISTRY: dict[str, Init] = {
    "zeros": zeros, "ones": ones,
    "glorot_uniform": glorot_uniform, "keras.glorot_uniform": glorot_uniform, "torch.xavier_uniform": glorot_uniform,
    "he_uniform": he_uniform, "keras.he_uniform": he_uniform, "torch.kaiming_uniform(fan_in, relu)": he_uniform,
    "lecun_uniform": lecun_uniform, "keras.lecun_uniform": lecun_uniform,
    "keras.glorot_normal": keras_glorot_normal, "keras.he_normal": keras_he_normal,
    "keras.lecun_normal": keras_lecun_normal, "torch.xavier_normal": torch_xavier_normal,
    "torch.kaiming_normal(fan_in, relu)": torch_kaiming_normal,
    "torch.default_weight": torch_default_weight, "torch.default_bias": torch_default_bias,
    "textbook.xavier": textbook_xavier, "textbook.he": textbook_he,
}
_AMBIGUOUS = {
    "glorot_normal": "'keras.glorot_normal' (truncated) or 'torch.xavier_normal' (untruncated)",
    "xavier_normal": "'keras.glorot_normal' (truncated) or 'torch.xavier_normal' (untruncated)",
    "he_normal": "'keras.he_normal' (truncated) or 'torch.kaiming_normal(fan_in, relu)' / 'textbook.he'",
    "lecun_normal": "'keras.lecun_normal' (truncated) or 'textbook.xavier' (untruncated)",
    "xavier": "'textbook.xavier' (sqrt(1/fan_in)) or 'glorot_uniform' / 'keras.glorot_normal'",
    "he": "'textbook.he' or 'keras.he_normal'",
}

__all__ = [
    "calculate_gain", "glorot_uniform", "he_uniform", "kaiming_normal", "kaiming_uniform", "keras_glorot_normal",
    "keras_he_normal", "keras_lecun_normal", "lecun_uniform", "normal", "ones", "random_normal", "random_uniform",
    "textbook_he", "textbook_xavier", "torch_default_bias", "torch_default_weight", "torch_kaiming_normal",
    "torch_xavier_normal", "truncated_normal", "variance_scaling", "xavier_normal", "xavier_uniform", "zeros",
]


def get(init: str | Init) -> Init:
    """Resolve an initializer name (or pass a callable through)."""
    if callable(init):
        return init
    if init in _AMBIGUOUS:
        raise ValueError(f"initializer: {init!r} means different laws in Keras and PyTorch; use {_AMBIGUOUS[init]}")
    if init not in _REGISTRY:
        raise ValueError(f"initializer: expected one of {sorted(_REGISTRY)} or a callable, got {init!r}")
    return _REGISTRY[init]


def register(name: str, init: Init) -> None:
    """Add a named initializer (used by the extended initializer families)."""
    if not callable(init):
        raise ValueError(f"init: expected a callable initializer, got {init!r}")
    _REGISTRY[name] = init
