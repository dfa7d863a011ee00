"""Cases of the table for initializers (kind "initializer"): parity by distribution.

Scratch and the frameworks draw from different random streams, so an initializer is compared by
its law, never element by element. For each case, framework and dtype, scratch draws one kernel
of ~1.3e5 values (``np.random.default_rng(case.seed)``) and the framework draws the same shape in
its own layout (Keras initializer with an integer seed; ``torch.nn.init`` with a seeded
``torch.Generator``, or a module's default initialisation under ``fork_rng``). Four checks, each
with a fixed limit (comparisons/harness/stats.py has the formulas):

- ``bounds``: both samples lie in the support of the law the case states (from the framework's
  documented formula), up to the dtype's rounding, and each end comes within the strip that holds
  probability EDGE_MASS / n of the law (missed with probability exp(-EDGE_MASS) ~ 2e-9); an
  unbounded end must be reached beyond that quantile. Tells truncated from untruncated.
- ``mean``: |mean_s - mean_f| <= Z_LIMIT standard errors, SE^2 = var_s / n + var_f / m.
- ``variance``: |var_s - var_f| <= Z_LIMIT standard errors, SE^2 = (m4_s - var_s^2) / n +
  (m4_f - var_f^2) / m (Var(s^2) ~ (mu4 - sigma^4) / n, delta method). Z_LIMIT = 5: a false alarm
  has probability 5.7e-7 per check, while a wrong scale fails by far: at n = 1.3e5 one standard
  error of the variance is 0.4% (normal) to 0.25% (uniform) of it, sqrt(1/n) against Glorot is 50%.
- ``ks``: two-sample Kolmogorov-Smirnov, asymptotic p >= alpha = the case's tolerance (1e-3).

Why not ``rows_from``: its normwise relative error max|a - b| / max|b| has no meaning for a mean
near 0 or a p-value, and one rtol per case cannot hold four limits. ``initializer_rows`` returns
``Row``s whose ``max_rel`` is the check's statistic divided by its limit (so <= 1 passes, ``rtol``
= 1), ``max_abs`` the difference in natural units (|mean difference|, |variance difference|, KS D;
for bounds the law's probability beyond the worst extreme, about 1/n), ``where`` the exact
framework call and ``detail`` the statistic, limit and p-value in words; the harness registers it
as the judge of kind "initializer" (``comparisons.harness.initializers``, which runs the cases). A
known difference maps the framework's sample through its relation (rescaling, conditioning on an
interval) for the quantities it lists; ``raw_max_rel`` is the score of the raw sample, which must
fail. ``run_initializer`` also yields the checks as 0/1 ``Compared`` pairs (scratch 1 if the check
passed, framework 1), so ``rows_from`` reaches the same verdicts with any rtol in (0, 1). Constant
initializers are compared element by element. Seeds are fixed: the verdicts are deterministic.
The limits (Z_LIMIT, EDGE_MASS) travel with each case in its ``params``.
"""

from __future__ import annotations

import math

import numpy as np

from comparisons.table import links
from comparisons.table.laws import Law
from comparisons.table.spec import DEFAULT_TOLERANCE, DTYPES, Case, Context, Known, Tolerance
from reference.keras_initializers import KerasInit
from reference.torch_initializers import TorchInit
from scratch import initializers as I

Z_LIMIT = 5.0
EDGE_MASS = 20.0
C = I.KERAS_TRUNCATION_STD
ALPHA = 1e-3
INIT_TOLERANCE = {dt: Tolerance(ALPHA, f"distribution checks, statistic / limit <= 1: KS p >= {ALPHA:g} (this "
                                       f"value), mean and variance within {Z_LIMIT:g} standard errors, support "
                                       f"reached within probability {EDGE_MASS:g}/n and passed by <= 4 eps")
                  for dt in DTYPES}
KERAS_RANDOM = f"{links.KERAS_SRC}/initializers/random_initializers.py"
TORCH_INIT = f"{links.TORCH_STABLE}/nn.init.html"
TORCH_LINEAR = f"{links.TORCH_SRC}/nn/modules/linear.py"
TEXTBOOK_NET = f"{links.TEXTBOOK}/multi_layer_net.py"

DENSE, CONV, WIDE = (256, 512), (128, 64, 4, 4), (64, 2048)  # 131072 values each


# -- laws, as the frameworks document them (n = fan_in, m = fan_out) ------------------------------
def _fan(mode: str, n: int, m: int) -> float:
    return {"fan_in": n, "fan_out": m, "fan_avg": (n + m) / 2}[mode]


def uniform_law(scale: float, mode: str):
    """U(+-sqrt(3 scale / fan)): VarianceScaling 'uniform', Glorot/He/LeCun uniform, kaiming_uniform_."""
    return lambda n, m: Law.uniform(-math.sqrt(3 * scale / _fan(mode, n, m)), math.sqrt(3 * scale / _fan(mode, n, m)))


def normal_law(scale: float, mode: str):
    """N(0, scale / fan): VarianceScaling 'untruncated_normal', xavier_normal_, kaiming_normal_."""
    return lambda n, m: Law.normal(0.0, math.sqrt(scale / _fan(mode, n, m)))


def keras_trunc_std(scale: float, mode: str):
    return lambda n, m: math.sqrt(scale / _fan(mode, n, m)) / C


def keras_trunc_law(scale: float, mode: str):
    """N(0, s^2) on [-2s, 2s], s = sqrt(scale / fan) / 0.8796: VarianceScaling 'truncated_normal'."""
    std = keras_trunc_std(scale, mode)
    return lambda n, m: Law.truncated(0.0, std(n, m), -2 * std(n, m), 2 * std(n, m))


def trunc_twin(scale: float, mode: str) -> TorchInit:
    """The PyTorch call with Keras's truncated law: trunc_normal_(std=s, a=-2s, b=2s)."""
    std = keras_trunc_std(scale, mode)
    return TorchInit("trunc_normal_", lambda n, m: {"mean": 0.0, "std": std(n, m), "a": -2 * std(n, m),
                                                    "b": 2 * std(n, m)})


def vs(scale: float, mode: str, distribution: str) -> KerasInit:
    return KerasInit("VarianceScaling", {"scale": scale, "mode": mode, "distribution": distribution})


def kaiming(fn: str, a: float, mode: str, nonlinearity: str) -> TorchInit:
    return TorchInit(fn, {"a": a, "mode": mode, "nonlinearity": nonlinearity})


# -- known differences -------------------------------------------------------------------------
def _condition(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """The values of x inside [low, high]: conditioning a sample on an interval."""
    return x[(x >= low) & (x <= high)]


def untruncated_namesake(keras_name: str, torch_call: str, scale: float, mode: str) -> Known:
    std = keras_trunc_std(scale, mode)

    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        s = std(int(ctx.inputs["fan_in"]), int(ctx.inputs["fan_out"]))
        return _condition((f / C).astype(f.dtype), -2 * s, 2 * s)

    return Known(
        framework="torch", quantities=("bounds", "ks"),
        what=f"PyTorch {torch_call}, namesake of Keras {keras_name}, is untruncated; Keras truncates at +-2s' "
             f"with s' = sqrt({scale:g}/{mode})/0.8796. Same variance, different law.",
        why="Keras VarianceScaling 'truncated_normal' redraws outside 2 std and divides the std by 0.87962566 "
            "(std of N(0, 1) on [-2, 2]); torch.nn.init calls normal_.",
        link=KERAS_RANDOM,
        holds=f"PyTorch's w / 0.87962566, conditioned on |w| <= 2s', has Keras's law; the PyTorch call with "
              f"that law is trunc_normal_(mean=0, std=s', a=-2s', b=2s') (case {keras_name})",
        relation=relation,
    )


TORCH_TRUNC_ABSOLUTE = Known(
    framework="torch", quantities=("bounds", "variance", "ks"),
    what="PyTorch trunc_normal_(std=0.05, a=-2.0, b=2.0) cuts at +-2 absolute (40 std): practically untruncated, "
         "std 0.05; Keras TruncatedNormal(stddev=0.05) cuts at +-2 stddev without correction, std 0.0440.",
    why="trunc_normal_'s a, b are values, not multiples of std; Keras's stddev is that of the untruncated normal.",
    link=TORCH_INIT,
    holds="PyTorch's sample conditioned on |w| <= 0.1 has Keras's law; trunc_normal_(std=0.05, a=-0.1, b=0.1) draws it",
    relation=lambda f, ctx: _condition(f, -0.1, 0.1),
)


def _glorot_to_torch_default(f: np.ndarray, ctx: Context) -> np.ndarray:
    n, m = int(ctx.inputs["fan_in"]), int(ctx.inputs["fan_out"])
    return (f * (1 / math.sqrt(n)) / math.sqrt(6 / (n + m))).astype(f.dtype)


KERAS_DEFAULT_DENSE = Known(
    framework="keras", quantities=("bounds", "variance", "ks"),
    what="Default Dense kernels differ: Keras glorot_uniform U(+-sqrt(6/(n+m))), PyTorch nn.Linear "
         "kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(n)); default biases too: Keras zeros, PyTorch U(+-1/sqrt(n)).",
    why="nn.Linear.reset_parameters keeps the historical Lua Torch init (pytorch issue 57109).",
    link=TORCH_LINEAR,
    holds="Keras's default kernel * (1/sqrt(n)) / sqrt(6/(n+m)) has PyTorch's law; Keras draws it with "
          "VarianceScaling(1/3, 'fan_in', 'uniform') (case torch.default_weight)",
    relation=_glorot_to_torch_default,
)


def _xavier_to_textbook(f: np.ndarray, ctx: Context) -> np.ndarray:
    n, m = int(ctx.inputs["fan_in"]), int(ctx.inputs["fan_out"])
    return (f * math.sqrt(1 / n) / math.sqrt(2 / (n + m))).astype(f.dtype)


TEXTBOOK_XAVIER = Known(
    framework="torch", quantities=("bounds", "variance", "ks"),
    what="The textbook's 'Xavier' is sqrt(1/n) * randn (LeCun normal, fan_in only); PyTorch xavier_normal_ "
         "(Glorot) has std sqrt(2/(n+m)).",
    why="common/multi_layer_net.py: scale = sqrt(1.0 / all_size_list[idx - 1]) for 'sigmoid'/'xavier'.",
    link=TEXTBOOK_NET,
    holds="PyTorch's xavier_normal_ sample * sqrt(1/n) / sqrt(2/(n+m)) has the textbook's law; PyTorch "
          "draws it with kaiming_normal_(nonlinearity='linear') (case textbook.xavier)",
    relation=_xavier_to_textbook,
)


# -- the cases ---------------------------------------------------------------------------------
def initializer(id, covers, summary, init, law, keras, torch, *, shape=DENSE, fans=None, known=()) -> Case:
    """A case: scratch ``init`` (registered name or initializer), the law it must draw (None for a
    constant: compared element by element) and the framework twins."""
    return Case(
        id=id, kind="initializer", covers=covers, summary=f"{summary}; shape {shape}",
        make=lambda dtype: I.get(init), inputs=lambda rng, dtype: {},
        tolerance=DEFAULT_TOLERANCE if law is None else INIT_TOLERANCE, known=tuple(known),
        params={"shape": shape, "fans": fans, "law": law, "twins": {"keras": keras, "torch": torch},
                "z_limit": Z_LIMIT, "edge_mass": EDGE_MASS},
    )


K, T = KerasInit, TorchInit
TANH, RELU = I.calculate_gain("tanh"), I.calculate_gain("relu")
LINEAR_KW = {"in_features": 256, "out_features": 512, "bias": True}
CONV_KW = {"in_channels": 64, "out_channels": 128, "kernel_size": 4, "stride": 1, "padding": 0, "bias": True}

INITIALIZERS: list[Case] = [
    initializer("init/zeros", ("zeros",), "zeros", "zeros", None, K("Zeros"), T("zeros_")),
    initializer("init/ones", ("ones",), "ones (conv kernel)", "ones", None, K("Ones"), T("ones_"), shape=CONV),
    # uniform laws on which Keras and PyTorch agree
    initializer("init/glorot_uniform", ("glorot_uniform",), "U(+-sqrt(6/(n+m)))", "glorot_uniform",
                uniform_law(1.0, "fan_avg"), K("GlorotUniform"), T("xavier_uniform_", {"gain": 1.0})),
    initializer("init/glorot_uniform/conv", ("glorot_uniform",), "U(+-sqrt(6/(n+m))), conv fans", "glorot_uniform",
                uniform_law(1.0, "fan_avg"), K("GlorotUniform"), T("xavier_uniform_", {"gain": 1.0}), shape=CONV),
    initializer("init/he_uniform", ("he_uniform",), "U(+-sqrt(6/n))", "he_uniform", uniform_law(2.0, "fan_in"),
                K("HeUniform"), kaiming("kaiming_uniform_", 0.0, "fan_in", "relu"), shape=CONV),
    initializer("init/lecun_uniform", ("lecun_uniform",), "U(+-sqrt(3/n))", "lecun_uniform",
                uniform_law(1.0, "fan_in"), K("LecunUniform"), kaiming("kaiming_uniform_", 0.0, "fan_in", "linear")),
    initializer("init/kaiming_uniform(tanh, fan_out)", ("kaiming_uniform", "calculate_gain"),
                "PyTorch kaiming_uniform_, gain 5/3: U(+-(5/3) sqrt(3/m))",
                I.kaiming_uniform(a=0.0, mode="fan_out", nonlinearity="tanh"), uniform_law(TANH**2, "fan_out"),
                vs(TANH**2, "fan_out", "uniform"), kaiming("kaiming_uniform_", 0.0, "fan_out", "tanh"), shape=CONV),
    initializer("init/xavier_uniform(gain=5/3)", ("xavier_uniform",), "PyTorch xavier_uniform_(gain=5/3)",
                I.xavier_uniform(gain=TANH), uniform_law(TANH**2, "fan_avg"), vs(TANH**2, "fan_avg", "uniform"),
                T("xavier_uniform_", {"gain": TANH})),
    # Keras's truncated normals; PyTorch draws them with trunc_normal_(std=s', a=-2s', b=2s')
    initializer("init/keras.glorot_normal", ("keras_glorot_normal", "variance_scaling"),
                "N(0, s^2) cut at +-2s, s = sqrt(2/(n+m))/0.8796", "keras.glorot_normal",
                keras_trunc_law(1.0, "fan_avg"), K("GlorotNormal"), trunc_twin(1.0, "fan_avg")),
    initializer("init/keras.he_normal", ("keras_he_normal",), "N(0, s^2) cut at +-2s, s = sqrt(2/n)/0.8796",
                "keras.he_normal", keras_trunc_law(2.0, "fan_in"), K("HeNormal"), trunc_twin(2.0, "fan_in"),
                shape=CONV),
    initializer("init/keras.lecun_normal", ("keras_lecun_normal",), "N(0, s^2) cut at +-2s, s = sqrt(1/n)/0.8796",
                "keras.lecun_normal", keras_trunc_law(1.0, "fan_in"), K("LecunNormal"), trunc_twin(1.0, "fan_in")),
    initializer("init/variance_scaling(0.5, fan_avg, truncated)", ("variance_scaling",),
                "Keras VarianceScaling(0.5, 'fan_avg', 'truncated_normal')",
                I.variance_scaling(scale=0.5, mode="fan_avg", distribution="truncated_normal"),
                keras_trunc_law(0.5, "fan_avg"), vs(0.5, "fan_avg", "truncated_normal"), trunc_twin(0.5, "fan_avg"),
                shape=CONV),
    # PyTorch's untruncated normals; Keras draws them with VarianceScaling(..., 'untruncated_normal')
    initializer("init/torch.xavier_normal", ("torch_xavier_normal", "xavier_normal"), "N(0, 2/(n+m))",
                "torch.xavier_normal", normal_law(1.0, "fan_avg"), vs(1.0, "fan_avg", "untruncated_normal"),
                T("xavier_normal_", {"gain": 1.0})),
    initializer("init/xavier_normal(gain=sqrt2)", ("xavier_normal",), "PyTorch xavier_normal_(gain=sqrt(2))",
                I.xavier_normal(gain=RELU), normal_law(2.0, "fan_avg"), vs(2.0, "fan_avg", "untruncated_normal"),
                T("xavier_normal_", {"gain": RELU}), shape=CONV),
    initializer("init/torch.kaiming_normal(fan_in, relu)", ("torch_kaiming_normal", "kaiming_normal"),
                "N(0, 2/n)", "torch.kaiming_normal(fan_in, relu)", normal_law(2.0, "fan_in"),
                vs(2.0, "fan_in", "untruncated_normal"), kaiming("kaiming_normal_", 0.0, "fan_in", "relu"), shape=CONV),
    initializer("init/kaiming_normal(leaky_relu 0.2, fan_out)", ("kaiming_normal", "calculate_gain"),
                "PyTorch kaiming_normal_(a=0.2, mode='fan_out'): N(0, 2/(1.04 m))",
                I.kaiming_normal(a=0.2, mode="fan_out", nonlinearity="leaky_relu"), normal_law(2 / 1.04, "fan_out"),
                vs(2 / 1.04, "fan_out", "untruncated_normal"), kaiming("kaiming_normal_", 0.2, "fan_out", "leaky_relu"),
                shape=CONV),
    # PyTorch's layer defaults
    initializer("init/torch.default_weight", ("torch_default_weight", "kaiming_uniform"),
                "nn.Linear default weight: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(n))", "torch.default_weight",
                uniform_law(1 / 3, "fan_in"), vs(1 / 3, "fan_in", "uniform"), T("nn.Linear.weight", LINEAR_KW)),
    initializer("init/torch.default_weight/conv", ("torch_default_weight",),
                "nn.Conv2d default weight: U(+-1/sqrt(C KH KW))", "torch.default_weight", uniform_law(1 / 3, "fan_in"),
                vs(1 / 3, "fan_in", "uniform"), T("nn.Conv2d.weight", CONV_KW), shape=CONV),
    initializer("init/torch.default_bias", ("torch_default_bias",),
                "nn.Linear default bias U(+-1/sqrt(256)), 16 layers 256 -> 2048 (Keras's default: zeros)",
                "torch.default_bias", uniform_law(1 / 3, "fan_in"), K("RandomUniform", {"minval": -1 / 16,
                "maxval": 1 / 16}), T("nn.Linear.bias", {**LINEAR_KW, "out_features": 2048}), shape=(32768,),
                fans=(256, 2048)),
    # fixed-parameter laws
    initializer("init/random_normal(0.1, 0.05)", ("random_normal",), "N(0.1, 0.05^2)",
                I.random_normal(mean=0.1, std=0.05), lambda n, m: Law.normal(0.1, 0.05),
                K("RandomNormal", {"mean": 0.1, "stddev": 0.05}), T("normal_", {"mean": 0.1, "std": 0.05})),
    initializer("init/random_uniform(-0.02, 0.08)", ("random_uniform",), "U(-0.02, 0.08)",
                I.random_uniform(low=-0.02, high=0.08), lambda n, m: Law.uniform(-0.02, 0.08),
                K("RandomUniform", {"minval": -0.02, "maxval": 0.08}), T("uniform_", {"a": -0.02, "b": 0.08})),
    initializer("init/truncated_normal(0.05, +-0.1)", ("truncated_normal",),
                "Keras TruncatedNormal(stddev=0.05): N(0, 0.05^2) on [-0.1, 0.1], std 0.044",
                I.truncated_normal(mean=0.0, std=0.05, a=-0.1, b=0.1), lambda n, m: Law.truncated(0.0, 0.05, -0.1, 0.1),
                K("TruncatedNormal", {"mean": 0.0, "stddev": 0.05}),
                T("trunc_normal_", {"mean": 0.0, "std": 0.05, "a": -0.1, "b": 0.1})),
    # the textbook
    initializer("init/textbook.xavier", ("textbook_xavier",), "the textbook's 'Xavier': sqrt(1/n) randn",
                "textbook.xavier", normal_law(1.0, "fan_in"), vs(1.0, "fan_in", "untruncated_normal"),
                kaiming("kaiming_normal_", 0.0, "fan_in", "linear")),
    initializer("init/textbook.he", ("textbook_he",), "the textbook's 'He': sqrt(2/n) randn, n = C KH KW",
                "textbook.he", normal_law(2.0, "fan_in"), vs(2.0, "fan_in", "untruncated_normal"),
                kaiming("kaiming_normal_", 0.0, "fan_in", "relu"), shape=CONV),
    initializer("init/textbook.normal(0.01)", ("normal",), "the textbook's fixed std: 0.01 randn",
                I.normal(0.01), lambda n, m: Law.normal(0.0, 0.01), K("RandomNormal", {"mean": 0.0, "stddev": 0.01}),
                T("normal_", {"mean": 0.0, "std": 0.01})),
    # against each framework's namesake: the difference recorded as data
    initializer("init/keras.he_normal/namesakes", ("keras_he_normal",),
                "Keras HeNormal against PyTorch kaiming_normal_(relu)", "keras.he_normal",
                keras_trunc_law(2.0, "fan_in"), K("HeNormal"), kaiming("kaiming_normal_", 0.0, "fan_in", "relu"),
                shape=CONV, known=[untruncated_namesake("he_normal", "kaiming_normal_(relu)", 2.0, "fan_in")]),
    initializer("init/keras.glorot_normal/namesakes", ("keras_glorot_normal",),
                "Keras GlorotNormal against PyTorch xavier_normal_", "keras.glorot_normal",
                keras_trunc_law(1.0, "fan_avg"), K("GlorotNormal"), T("xavier_normal_", {"gain": 1.0}),
                known=[untruncated_namesake("glorot_normal", "xavier_normal_", 1.0, "fan_avg")]),
    initializer("init/truncated_normal/namesakes", ("truncated_normal",),
                "Keras TruncatedNormal(stddev=0.05) against PyTorch trunc_normal_(std=0.05)",
                I.truncated_normal(mean=0.0, std=0.05, a=-0.1, b=0.1), lambda n, m: Law.truncated(0.0, 0.05, -0.1, 0.1),
                K("TruncatedNormal", {"mean": 0.0, "stddev": 0.05}),
                T("trunc_normal_", {"mean": 0.0, "std": 0.05, "a": -2.0, "b": 2.0}), known=[TORCH_TRUNC_ABSOLUTE]),
    initializer("init/torch.default_weight/namesakes", ("torch_default_weight",),
                "PyTorch nn.Linear's default weight against Keras Dense's default kernel (GlorotUniform)",
                "torch.default_weight", uniform_law(1 / 3, "fan_in"), K("GlorotUniform"),
                T("nn.Linear.weight", LINEAR_KW), known=[KERAS_DEFAULT_DENSE]),
    initializer("init/textbook.xavier/namesakes", ("textbook_xavier",),
                "the textbook's 'Xavier' against PyTorch xavier_normal_", "textbook.xavier",
                normal_law(1.0, "fan_in"), vs(1.0, "fan_in", "untruncated_normal"), T("xavier_normal_", {"gain": 1.0}),
                shape=WIDE, known=[TEXTBOOK_XAVIER]),
]
