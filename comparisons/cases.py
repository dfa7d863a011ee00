"""THE case table: every scratch layer and loss against Keras and PyTorch.

Each entry names the scratch object (with every hyperparameter explicit), the inputs, the script
of training/evaluation steps and the known differences. ``reference`` builds the framework twin
from the scratch object, so the framework side is explicit too. Adding a component = the scratch
code + a builder in ``reference`` + an entry here.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from comparisons import known as K
from comparisons.run import run_layer, run_loss
from comparisons.spec import Case, Tolerance
from scratch import layers as L
from scratch import losses as S

TRAIN3 = ("train", "train", "train")
EVAL_AFTER_TRAIN = ("train", "train", "eval")


# -- inputs -------------------------------------------------------------------------------------
def normal(shape, steps=1, scale=1.0, shift=0.0):
    """``steps`` batches of N(shift, scale^2) entries."""
    def make(rng, dtype):
        return {"xs": [(shift + scale * rng.standard_normal(shape)).astype(dtype) for _ in range(steps)]}
    return make


def tied(shape, levels=3):
    """Inputs with many exact ties (values from a few levels): exercises max-pool tie-breaking."""
    def make(rng, dtype):
        return {"xs": [rng.integers(0, levels, size=shape).astype(dtype)]}
    return make


def constant(shape):
    """All-equal input: every max-pool window is one big tie."""
    def make(rng, dtype):
        return {"xs": [np.full(shape, 0.5, dtype=dtype)]}
    return make


def classification(n, k, labels, scale=1.0, probabilities=False):
    """Logits (or softmax probabilities) of N(0, scale^2) and integer or one-hot labels."""
    def make(rng, dtype):
        z = scale * rng.standard_normal((n, k))
        idx = rng.integers(0, k, size=n)
        y = np.exp(z - z.max(1, keepdims=True))
        y = y / y.sum(1, keepdims=True) if probabilities else z
        t = idx if labels == "int" else np.eye(k)[idx].astype(dtype)
        return {"y": y.astype(dtype), "t": t}
    return make


def regression(n, k):
    def make(rng, dtype):
        return {"y": rng.standard_normal((n, k)).astype(dtype), "t": rng.standard_normal((n, k)).astype(dtype)}
    return make


def seeded(factory, **kw):
    """A scratch factory ``make(dtype)`` whose random initial weights come from a fixed generator."""
    return lambda dtype: factory(**kw, rng=np.random.default_rng(0), dtype=dtype)


def layer(id, covers, summary, make, inputs, script=("train",), known=(), **kw):
    return Case(id=id, kind="layer", covers=covers, summary=summary, run=run_layer, make=make, inputs=inputs,
                script=script, known=tuple(known), **kw)


def loss(id, covers, summary, make, inputs, known=(), **kw):
    return Case(id=id, kind="loss", covers=covers, summary=summary, run=run_loss, make=make, inputs=inputs,
                known=tuple(known), **kw)


def _stateless(cls):
    return lambda dtype: cls(dtype=dtype)


# -- layers -------------------------------------------------------------------------------------
DENSE = [
    layer("dense/2d", ("Dense",), "Dense 12 -> 7 on (8, 12)",
          seeded(L.Dense, in_features=12, units=7), normal((8, 12), steps=3), TRAIN3),
    layer("dense/nd-input", ("Dense",), "Dense on (4, 3, 4, 4) flattens like the textbook's Affine",
          seeded(L.Dense, in_features=48, units=5), normal((4, 3, 4, 4))),
]

ACTIVATIONS = [
    layer("relu", ("ReLU",), "ReLU, including exact zeros (gradient 0 there)",
          _stateless(L.ReLU), lambda rng, dt: {"xs": [np.round(rng.standard_normal((6, 10)), 1).astype(dt)]}),
    layer("sigmoid", ("Sigmoid",), "Sigmoid on N(0, 4^2) inputs", _stateless(L.Sigmoid), normal((6, 10), scale=4)),
    layer("tanh", ("Tanh",), "Tanh on N(0, 2^2) inputs", _stateless(L.Tanh), normal((6, 10), scale=2)),
    layer("softmax", ("Softmax",), "Softmax over the last axis, logits N(0, 3^2)",
          _stateless(L.Softmax), normal((6, 10), scale=3)),
    layer("flatten/nchw", ("Flatten",), "Flatten (2, 3, 4, 5) images", _stateless(L.Flatten),
          normal((2, 3, 4, 5)), known=[K.FLATTEN_ORDER]),
]


def conv(id, summary, shape, filters, kernel, **kw):
    make = seeded(L.Conv2D, in_channels=shape[1], filters=filters, kernel_size=kernel,
                  bias_init=partial(_uniform_bias), **kw)
    return layer(f"conv2d/{id}", ("Conv2D",), summary, make, normal(shape))


def _uniform_bias(shape, *, fan_in, fan_out, rng, dtype):
    return rng.uniform(-0.5, 0.5, size=shape).astype(dtype)  # non-zero, so db is exercised by the forward


CONV = [
    conv("valid-s1", "3x3, stride 1, no padding", (2, 3, 7, 7), 4, 3, stride=1, padding="valid"),
    conv("pad1-s1", "3x3, stride 1, integer padding 1 (Keras: ZeroPadding2D + 'valid')", (2, 3, 6, 6), 4, 3,
         stride=1, padding=1),
    conv("same-s2-even", "3x3, stride 2, 'same' on H=W=8: TF pads (0, 1), bottom/right", (2, 3, 8, 8), 4, 3,
         stride=2, padding="same"),
    conv("same-s2-odd", "3x3, stride 2, 'same' on H=W=7: symmetric (1, 1)", (2, 3, 7, 7), 4, 3,
         stride=2, padding="same"),
    conv("same-k4", "4x4, stride 1, 'same': even kernel pads (1, 2)", (2, 2, 8, 8), 3, 4, stride=1, padding="same"),
    conv("valid-s2-truncate", "3x3, stride 2, 'valid' on H=W=8: (8-3)/2 not integer, last row dropped",
         (2, 3, 8, 8), 4, 3, stride=2, padding="valid", truncate=True),
    conv("textbook", "the textbook's SimpleConvNet conv: 1 -> 30 filters 5x5, stride 1, pad 0",
         (2, 1, 12, 12), 30, 5, stride=1, padding=0),
]


def pool(cls, id, summary, inputs, **kw):
    name = cls.__name__
    return layer(f"{name.lower()}/{id}", (name,), summary, lambda dtype: cls(dtype=dtype, **kw), inputs)


POOLING = [
    pool(L.MaxPool2D, "2x2-s2", "2x2, stride 2", normal((2, 3, 6, 6)), pool_size=2, stride=2, padding=0),
    pool(L.MaxPool2D, "3x3-s1-ties", "3x3, stride 1 (overlapping) on inputs with ties: first maximum wins",
         tied((2, 2, 6, 6)), pool_size=3, stride=1, padding=0),
    pool(L.MaxPool2D, "2x2-s2-constant", "2x2, stride 2 on an all-equal input", constant((1, 2, 4, 4)),
         pool_size=2, stride=2, padding=0),
    pool(L.MaxPool2D, "same-odd", "2x2, stride 2, 'same' on H=W=5 (PyTorch: -inf pad bottom/right)",
         normal((2, 3, 5, 5)), pool_size=2, stride=2, padding="same"),
    pool(L.AvgPool2D, "2x2-s2", "2x2, stride 2", normal((2, 3, 6, 6)), pool_size=2, stride=2, padding=0,
         count_include_pad=False),
    pool(L.AvgPool2D, "same-3x3-s1", "3x3, stride 1, 'same': padding excluded from the divisor",
         normal((2, 3, 5, 5)), pool_size=3, stride=1, padding="same", count_include_pad=False),
    pool(L.AvgPool2D, "same-odd", "2x2, stride 2, 'same' on H=W=5 (PyTorch: ceil_mode=True)",
         normal((2, 3, 5, 5)), pool_size=2, stride=2, padding="same", count_include_pad=False),
    pool(L.AvgPool2D, "pad1-include", "3x3, stride 1, padding 1 counted in the divisor (PyTorch default; "
         "Keras: ZeroPadding2D + 'valid')", normal((2, 3, 5, 5)), pool_size=3, stride=1, padding=1,
         count_include_pad=True),
]


def batchnorm(id, summary, shape, make, *, known_keras=(), known_torch=()):
    """Two cases per configuration: three training steps, and evaluation after two training steps."""
    inputs = normal(shape, steps=3, scale=2.0, shift=0.5)
    return [
        layer(f"{id}/{mode}", ("BatchNorm",), f"{summary} ({mode})", make, inputs, script,
              known=[*known_keras, *known_torch])
        for mode, script in (("train", TRAIN3), ("eval", EVAL_AFTER_TRAIN))
    ]


def _bn(preset, **kw):
    return lambda dtype: getattr(L.BatchNorm, preset)(dtype=dtype, **kw)


BATCHNORM = [
    *batchnorm("batchnorm1d/keras", "(N, D) with Keras conventions: momentum 0.99 on the running value, eps 1e-3",
               (16, 6), _bn("keras", num_features=6, momentum=0.99, eps=1e-3),
               known_torch=[K.running_var_estimator("torch", scratch_estimator="biased", keep=0.99, stats="channel")]),
    *batchnorm("batchnorm1d/torch", "(N, D) with PyTorch conventions: momentum 0.1 on the batch value, eps 1e-5",
               (16, 6), _bn("torch", num_features=6, momentum=0.1, eps=1e-5),
               known_keras=[K.running_var_estimator("keras", scratch_estimator="unbiased", keep=0.9,
                                                    stats="channel")]),
    *batchnorm("batchnorm2d/keras", "(N, C, H, W) per channel, Keras conventions", (4, 3, 5, 5),
               _bn("keras", num_features=3, momentum=0.99, eps=1e-3),
               known_torch=[K.running_var_estimator("torch", scratch_estimator="biased", keep=0.99, stats="channel")]),
    *batchnorm("batchnorm2d/torch", "(N, C, H, W) per channel, PyTorch conventions", (4, 3, 5, 5),
               _bn("torch", num_features=3, momentum=0.1, eps=1e-5),
               known_keras=[K.running_var_estimator("keras", scratch_estimator="unbiased", keep=0.9,
                                                    stats="channel")]),
    *batchnorm("batchnorm2d/textbook", "the textbook's BatchNormalization on (N, C, H, W): per activation, "
               "momentum 0.9, eps 1e-6, zero running statistics", (8, 2, 3, 3), _bn("textbook", num_features=18),
               known_torch=[K.running_var_estimator("torch", scratch_estimator="biased", keep=0.9,
                                                    stats="activation")]),
]


def dropout(id, summary, inverted, script, rate=0.3):
    known = [] if inverted else [K.textbook_dropout("keras", rate), K.textbook_dropout("torch", rate)]
    def make(dtype):
        return L.Dropout(rate, inverted=inverted, rng=np.random.default_rng(0), dtype=dtype)

    return layer(f"dropout/{id}", ("Dropout",), summary, make, normal((16, 20)), script, known=known)


DROPOUT = [
    dropout("inverted/train", "inverted, rate 0.3, mask harvested from the framework", True, ("train",)),
    dropout("inverted/eval", "inverted, rate 0.3, evaluation is the identity", True, ("eval",)),
    dropout("textbook/train", "the textbook's non-inverted dropout, rate 0.3", False, ("train",)),
    dropout("textbook/eval", "the textbook's non-inverted dropout at evaluation: x * (1 - rate)", False, ("eval",)),
]

# -- losses -------------------------------------------------------------------------------------
# float32 tolerance for losses on probabilities: 1/p amplifies the rounding of p (p >= 1e-3 here
# except in the clipped case, where clipped entries have zero gradient), so the float32 error stays
# near eps * max(1/p) * p = a few eps; the default 1e-4 applies.
LOSSES = [
    loss("softmax-ce/int", ("SoftmaxCrossEntropy",), "logits with integer labels",
         lambda dtype: S.SoftmaxCrossEntropy(), classification(8, 5, "int", scale=2)),
    loss("softmax-ce/onehot", ("SoftmaxCrossEntropy",), "logits with one-hot labels",
         lambda dtype: S.SoftmaxCrossEntropy(), classification(8, 5, "onehot", scale=2)),
    loss("ce-probs/keras/int", ("CrossEntropy",), "probabilities, Keras semantics (clip, then renormalise), "
         "integer labels; some entries below 1e-7 are clipped",
         lambda dtype: S.CrossEntropy("keras"), classification(8, 5, "int", scale=8, probabilities=True)),
    loss("ce-probs/keras/onehot", ("CrossEntropy",), "probabilities, Keras semantics (renormalise, then clip), "
         "one-hot labels; some entries clipped",
         lambda dtype: S.CrossEntropy("keras"), classification(8, 5, "onehot", scale=8, probabilities=True)),
    loss("ce-probs/textbook/int", ("CrossEntropy",), "probabilities, the textbook's log(p + 1e-7), integer labels",
         lambda dtype: S.CrossEntropy("textbook"), classification(8, 5, "int", scale=1, probabilities=True),
         known=[K.TEXTBOOK_CE_VS_KERAS]),
    loss("ce-probs/textbook/onehot", ("CrossEntropy",), "probabilities, the textbook's log(p + 1e-7), one-hot labels",
         lambda dtype: S.CrossEntropy("textbook"), classification(8, 5, "onehot", scale=1, probabilities=True),
         known=[K.TEXTBOOK_CE_VS_KERAS]),
    loss("softmax-ce/textbook/int", ("SoftmaxCrossEntropy",), "the textbook's SoftmaxWithLoss form: log(y + 1e-7) "
         "at the label, integer labels", lambda dtype: S.SoftmaxCrossEntropy(semantics="textbook"),
         classification(8, 5, "int", scale=2), known=[K.textbook_softmax_ce("keras"), K.textbook_softmax_ce("torch")]),
    loss("softmax-ce/textbook/onehot", ("SoftmaxCrossEntropy",), "the textbook's SoftmaxWithLoss form, one-hot labels "
         "(argmax in the loss, t in the gradient)", lambda dtype: S.SoftmaxCrossEntropy(semantics="textbook"),
         classification(8, 5, "onehot", scale=2),
         known=[K.textbook_softmax_ce("keras"), K.textbook_softmax_ce("torch")]),
    loss("mse", ("MeanSquaredError",), "mean over all elements", lambda dtype: S.MeanSquaredError(), regression(8, 4)),
    loss("sse/textbook", ("SumSquaredError",), "the textbook's 0.5 * sum of squares",
         lambda dtype: S.SumSquaredError(), regression(8, 4), known=[K.sum_squared("keras"), K.sum_squared("torch")]),
]

# Training-time components live in their own modules of the same table.
from comparisons.cases_callbacks import CALLBACKS  # noqa: E402
from comparisons.cases_initializers import INITIALIZERS  # noqa: E402
from comparisons.cases_optimizers import OPTIMIZERS  # noqa: E402
from comparisons.cases_schedules import SCHEDULES  # noqa: E402
from comparisons.cases_textbook import TEXTBOOK  # noqa: E402

CASES: list[Case] = [*DENSE, *ACTIVATIONS, *CONV, *POOLING, *BATCHNORM, *DROPOUT, *LOSSES,
                     *INITIALIZERS, *OPTIMIZERS, *SCHEDULES, *CALLBACKS, *TEXTBOOK]
BY_ID: dict[str, Case] = {c.id: c for c in CASES}


def get(case_id: str) -> Case:
    """Look a case up by id, with a helpful error."""
    if case_id not in BY_ID:
        import difflib

        close = difflib.get_close_matches(case_id, BY_ID, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `python -m comparisons list` shows all ids"
        raise ValueError(f"case: unknown id {case_id!r}{hint}")
    return BY_ID[case_id]


__all__ = ["BY_ID", "CASES", "Tolerance", "get"]
