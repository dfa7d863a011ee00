"""Known framework differences: what differs, why, a link, and the relation that holds.

Each ``Known`` maps the framework's value to the value scratch must then equal; the harness
compares through it at the case's normal tolerance, so a recorded difference is still a test.
"""

from __future__ import annotations

import numpy as np

from comparisons.spec import Context, Known
from reference import layouts
from scratch.losses import TEXTBOOK_DELTA

TEXTBOOK = "https://github.com/oreilly-japan/deep-learning-from-scratch/blob/master/common"
TORCH_DOCS = "https://pytorch.org/docs/stable/generated"
KERAS_SRC = "https://github.com/keras-team/keras/blob/master/keras/src"


# -- Flatten order ------------------------------------------------------------------------------
def _chw(ctx: Context) -> tuple[int, int, int]:
    return tuple(ctx.inputs["x"].shape[1:])  # type: ignore[return-value]


FLATTEN_ORDER = Known(
    framework="keras", quantities=("output",),
    what="Keras Flatten on channels-last activations orders features (h, w, c); scratch and PyTorch (c, h, w).",
    why="Keras image layers run NHWC; Flatten(data_format='channels_first') transposes to channels-last "
        "first, so it does not give (c, h, w) either.",
    link="https://keras.io/api/layers/reshaping_layers/flatten/",
    holds="scratch output = Keras output with features permuted (h, w, c) -> (c, h, w); "
          "the Dense after it needs its rows permuted the same way (reference.layouts).",
    relation=lambda f, ctx: layouts.flat_hwc_to_chw(f, _chw(ctx)),
    upstream=lambda dy, ctx: layouts.flat_chw_to_hwc(dy, _chw(ctx)),
)


# -- BatchNorm running variance -----------------------------------------------------------------
def _feature_rows(x: np.ndarray, stats: str) -> np.ndarray:
    """(N, D) or (N, C, H, W) -> (M, features), as BatchNorm sees it, in float64."""
    x = x.astype(np.float64)
    if x.ndim == 2 or stats == "activation":
        return x.reshape(x.shape[0], -1)
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def running_var_estimator(framework: str, *, scratch_estimator: str, keep: float, stats: str) -> Known:
    """The running variance of a framework whose estimator differs from the scratch layer's.

    After training batches i = 0..k-1 with biased variances v_i over M values per feature,
    r_unbiased - r_biased = sum_i keep^(k-1-i) * (1 - keep) * v_i / (M - 1).
    """
    sign = -1.0 if scratch_estimator == "biased" else 1.0  # scratch = framework + sign * correction
    fw_name = {"torch": "PyTorch", "keras": "Keras"}[framework]

    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        corr = np.zeros(f.shape)
        for x in ctx.history:
            rows = _feature_rows(x, stats)
            m = rows.shape[0]
            corr = keep * corr + (1.0 - keep) * rows.var(axis=0) / (m - 1)
        return (f + sign * corr).astype(f.dtype)

    if framework == "torch":
        why = ("PyTorch updates running_var with the unbiased batch variance (n / (n - 1)) and normalises with "
               "the biased one.")
        link = f"{TORCH_DOCS}/torch.nn.BatchNorm2d.html"
    else:
        why = "Keras updates moving_variance with the biased batch variance (tf.nn.moments)."
        link = f"{KERAS_SRC}/layers/normalization/batch_normalization.py"
    return Known(
        framework=framework, quantities=("buffer:running_var",),
        what=f"{fw_name} running variance uses the {'unbiased' if framework == 'torch' else 'biased'} batch "
             f"variance; this scratch configuration the {scratch_estimator} one.",
        why=why + " No setting makes the two equal; evaluation after copying the running variance is equal.",
        link=link,
        holds="running_var_unbiased - running_var_biased = sum_i keep^(k-1-i) * (1 - keep) * var_i / (M - 1) "
              "over the k training batches (M values per feature)",
        relation=relation,
    )


# -- Dropout scaling ----------------------------------------------------------------------------
def textbook_dropout(framework: str, rate: float) -> Known:
    keep = 1.0 - rate
    return Known(
        framework=framework, quantities=("output", "dx"),
        what="The textbook's Dropout is not inverted: it scales by (1 - rate) at evaluation instead of "
             "by 1 / (1 - rate) in training.",
        why="common/layers.py Dropout: train x * mask, test x * (1 - dropout_ratio).",
        link=f"{TEXTBOOK}/layers.py",
        holds="textbook output and dx = framework output and dx * (1 - rate), same mask, both modes",
        relation=lambda f, ctx: (f * f.dtype.type(keep)).astype(f.dtype),
    )


# -- Losses -------------------------------------------------------------------------------------
def _rows_p_and_t(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    p, t = ctx.inputs["y"].astype(np.float64), ctx.inputs["t"]
    t1 = np.eye(p.shape[1])[t] if t.ndim == 1 else t.astype(np.float64)
    return p, t1


def _ce_value(f: np.ndarray, ctx: Context) -> np.ndarray:
    p, t1 = _rows_p_and_t(ctx)
    shift = (t1 * np.log1p(TEXTBOOK_DELTA / p)).sum() / p.shape[0]
    return (f - shift).astype(f.dtype)


def _ce_grad(f: np.ndarray, ctx: Context) -> np.ndarray:
    p, _ = _rows_p_and_t(ctx)
    n = p.shape[0]
    dout = ctx.inputs["dout"]
    return ((f - dout / n) * (p / (p + TEXTBOOK_DELTA))).astype(f.dtype)


TEXTBOOK_CE_VS_KERAS = Known(
    framework="keras", quantities=("loss", "dy"),
    what="The textbook adds 1e-7 inside the log; Keras clips p to [1e-7, 1 - 1e-7] and renormalises.",
    why="common/functions.py cross_entropy_error: -sum(t * log(y + 1e-7)) / N; Keras backend "
        "categorical_crossentropy: p / sum(p), clip, log.",
    link=f"{TEXTBOOK}/functions.py",
    holds="for normalised p >= 1e-7: L_textbook = L_keras - mean_n log(1 + 1e-7 / p_ny); "
          "dL/dp_textbook = (dL/dp_keras - dout / N) * p / (p + 1e-7) (Keras's renormalisation adds dout / N)",
    relation=lambda f, ctx: _ce_value(f, ctx) if f.ndim == 0 else _ce_grad(f, ctx),
)


def sum_squared(framework: str) -> Known:
    if framework == "torch":
        return Known(
            framework="torch", quantities=("loss", "dy"),
            what="The textbook's sum_squared_error is 0.5 * sum over the whole batch; PyTorch has no 0.5.",
            why="common/functions.py sum_squared_error = 0.5 * np.sum((y - t) ** 2).",
            link=f"{TORCH_DOCS}/torch.nn.MSELoss.html",
            holds="L_textbook = 0.5 * MSELoss(reduction='sum'); gradient likewise halved",
            relation=lambda f, ctx: (f * f.dtype.type(0.5)).astype(f.dtype),
        )
    return Known(
        framework="keras", quantities=("loss", "dy"),
        what="The textbook's sum_squared_error is 0.5 * sum; Keras MeanSquaredError(reduction='sum') sums the "
             "per-sample means.",
        why="Keras MSE averages over the last axis before the batch reduction.",
        link="https://keras.io/api/losses/regression_losses/",
        holds="L_textbook = 0.5 * K * Keras MSE(reduction='sum') for K outputs per sample; gradient likewise",
        relation=lambda f, ctx: (f * f.dtype.type(0.5 * ctx.inputs["y"].shape[1])).astype(f.dtype),
    )


def _softmax_ce_value(f: np.ndarray, ctx: Context) -> np.ndarray:
    x, t = ctx.inputs["y"].astype(np.float64), ctx.inputs["t"]
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    labels = t if t.ndim == 1 else t.argmax(axis=1)
    shift = np.log1p(TEXTBOOK_DELTA / p[np.arange(p.shape[0]), labels]).mean()
    return (f - shift).astype(f.dtype)


def textbook_softmax_ce(framework: str) -> Known:
    """The textbook's SoftmaxWithLoss against a framework's cross-entropy on logits: the loss only."""
    name = {"keras": "Keras CategoricalCrossentropy / SparseCategoricalCrossentropy(from_logits=True)",
            "torch": "PyTorch nn.CrossEntropyLoss"}[framework]
    return Known(
        framework=framework, quantities=("loss",),
        what=f"The textbook's SoftmaxWithLoss adds 1e-7 to the probability of the label inside the log; {name} "
             "takes the log-softmax of the logits, with no epsilon.",
        why="common/layers.py SoftmaxWithLoss.forward = cross_entropy_error(softmax(x), t) = "
            "-sum(log(y[arange(N), c] + 1e-7)) / N (c = t, or argmax(t) for one-hot rows); its backward, (y - t) / N, "
            "leaves the 1e-7 out and equals the frameworks' gradient.",
        link=f"{TEXTBOOK}/layers.py",
        holds="L_textbook = L_framework - mean_n log(1 + 1e-7 / softmax(x)[n, c_n]); dx equal (integer or one-hot t)",
        relation=_softmax_ce_value,
    )
