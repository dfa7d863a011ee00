"""Known framework differences as they show up in a user's pair, and the setting that removes each.

Two sorts:

* a real difference between the frameworks, recorded in ``comparisons.table.known`` (Keras's (h, w, c)
  flatten order, PyTorch's unbiased running variance): the pair is compared through the recorded
  relation, and a pair that satisfies it is a "known difference", not a failure;
* a convention the pair does not share (BatchNorm momentum weighting the running value in Keras and the
  textbook but the batch statistic in PyTorch; a different epsilon; a Dense after a channels-last
  Flatten without its rows permuted): the quantities fail, and the row says what differs, the relation
  that holds and which setting makes them equal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from comparisons.table import known as K
from comparisons.table.links import KERAS_DOCS, TORCH_DOCS
from dlparity.result import FAIL
from reference import layouts


@dataclass(frozen=True)
class Hint:
    """A diagnosis attached to failing rows: what differs, the relation that holds, the fix."""

    what: str
    holds: str
    fix: str
    link: str


MOMENTUM_HOLDS = ("keras momentum = 1 - torch momentum (Keras and the textbook weight the running value: "
                  "r <- m * r + (1 - m) * batch; PyTorch weights the batch statistic: r <- (1 - m) * r + m * batch)")
BN_LINK = f"{TORCH_DOCS}/torch.nn.BatchNorm2d.html"


@dataclass(frozen=True)
class BNConvention:
    """A batch normalization's conventions: the weight ``keep`` of the running value in the running
    average, epsilon, the running-variance estimator, and how its framework spells momentum."""

    framework: str
    keep: float | None
    eps: float
    estimator: str

    def momentum_setting(self, keep: float) -> str:
        """The setting of this layer's own framework that keeps ``keep`` of the running value."""
        if self.framework == "torch":
            return f"momentum={1 - keep:.6g}"
        if self.framework == "keras":
            return f"momentum={keep:.6g}"
        return f"momentum={keep:.6g} (weighting the running value)"

    def eps_setting(self, eps: float) -> str:
        return f"{'epsilon' if self.framework == 'keras' else 'eps'}={eps:.3g}"


def bn_convention(obj) -> BNConvention | None:
    """The conventions of a PyTorch, Keras, scratch or textbook batch normalization (None otherwise)."""
    name = type(obj).__name__
    if name in ("BatchNorm1d", "BatchNorm2d"):
        m = obj.momentum
        return BNConvention("torch", None if m is None else 1.0 - m, float(obj.eps), "unbiased")
    if name == "BatchNormalization" and hasattr(obj, "epsilon"):
        return BNConvention("keras", float(obj.momentum), float(obj.epsilon), "biased")
    if name == "BatchNorm" and hasattr(obj, "momentum_of"):
        keep = obj.momentum if obj.momentum_of == "running" else 1.0 - obj.momentum
        return BNConvention("scratch", keep, obj.eps, obj.running_var_estimator)
    if name == "BatchNormalization" and hasattr(obj, "momentum"):  # the textbook's
        from scratch.textbook._spatial import BN_EPS

        return BNConvention("scratch", float(obj.momentum), BN_EPS, "biased")
    return None


def running_var_relations(conv: BNConvention, other_side: str = "the layer") -> list:
    """Recorded relations between this framework's running variance and the other estimator's."""
    if conv.keep is None or conv.framework not in ("torch", "keras"):
        return []
    other = "biased" if conv.estimator == "unbiased" else "unbiased"
    kn = K.running_var_estimator(conv.framework, scratch_estimator=other, keep=conv.keep, stats="channel")
    return [replace(kn, what=kn.what.replace("this scratch configuration", other_side))]


def feature_rows(x: np.ndarray) -> np.ndarray:
    """(N, D) or (N, C, H, W) -> (M, features) in float64, as a per-channel batch norm sees it."""
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(x.shape[0], -1) if x.ndim == 2 else x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def momentum_hint(conv: BNConvention, r0: np.ndarray, x: np.ndarray, r_user: np.ndarray) -> Hint | None:
    """After one training step from ``r0`` on ``x``: if the layer's running mean is a running average
    with another weight than the reference's, the weight it used and the matching setting."""
    if conv.keep is None:
        return None
    mu = feature_rows(x).mean(axis=0)
    d = np.asarray(r0, dtype=np.float64) - mu
    sel = np.abs(d) > 1e-3 * max(float(np.abs(d).max()), 1e-300)
    if not sel.any():
        return None
    keep = float(np.median((np.asarray(r_user, dtype=np.float64) - mu)[sel] / d[sel]))
    predicted = keep * r0 + (1 - keep) * mu
    fits = np.abs(predicted - r_user).max() <= 1e-4 * max(float(np.abs(r_user).max()), 1e-12)
    if not fits or abs(keep - conv.keep) < 1e-6:
        return None
    return Hint(
        what=f"BatchNorm momentum convention: the layer keeps {keep:.6g} of the running value per training step, "
             f"the reference {conv.keep:.6g}",
        holds=MOMENTUM_HOLDS,
        fix=f"set the reference's {conv.momentum_setting(keep)} (or the layer's momentum so that it keeps "
            f"{conv.keep:.6g} of the running value)",
        link=BN_LINK,
    )


def epsilon_hint(conv: BNConvention, x: np.ndarray, y_user: np.ndarray, gamma, beta) -> Hint | None:
    """From a training output: the epsilon the layer used, if it is not the reference's."""
    x2, y2 = feature_rows(x), feature_rows(y_user)
    gamma = np.ones(x2.shape[1]) if gamma is None else np.asarray(gamma, dtype=np.float64)
    beta = np.zeros(x2.shape[1]) if beta is None else np.asarray(beta, dtype=np.float64)
    xc = x2 - x2.mean(axis=0)
    var = (xc * xc).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        xhat = (y2 - beta) / gamma
        sel = (np.abs(xhat) > 0.5) & np.isfinite(xhat)
        if not sel.any():
            return None
        eps = float(np.median(((xc / xhat) ** 2 - var)[sel]))
    if not np.isfinite(eps) or eps <= 0 or abs(eps - conv.eps) <= 0.05 * max(eps, conv.eps):
        return None
    return Hint(
        what=f"BatchNorm epsilon: the layer normalises with epsilon {eps:.2g}, the reference with {conv.eps:g}",
        holds="y = gamma * (x - mean) / sqrt(var + eps) + beta with the same formula on both sides; only eps differs",
        fix=f"set the reference's {conv.eps_setting(float(f'{eps:.2g}'))} (defaults: Keras 1e-3, PyTorch 1e-5, "
            "the textbook 1e-6)",
        link=BN_LINK,
    )


def bn_port_hint(keras_layer, torch_module) -> Hint | None:
    """A Keras BatchNormalization and its PyTorch port whose momentum or epsilon do not correspond."""
    k, t = bn_convention(keras_layer), bn_convention(torch_module)
    if k is None or t is None:
        return None
    problems, fixes = [], []
    if t.keep is None:
        problems.append("PyTorch momentum=None (a cumulative average) has no Keras equivalent")
        fixes.append(f"PyTorch momentum={1 - k.keep:.6g}")
    elif abs(k.keep - t.keep) > 1e-9:
        problems.append(f"Keras momentum={k.keep:.6g} keeps {k.keep:.6g} of the running value per step, PyTorch "
                        f"momentum={1 - t.keep:.6g} keeps {t.keep:.6g}")
        fixes.append(f"PyTorch momentum={1 - k.keep:.6g} (or Keras momentum={t.keep:.6g})")
    if abs(k.eps - t.eps) > 1e-12 * max(k.eps, t.eps):
        problems.append(f"Keras epsilon={k.eps:g} but PyTorch eps={t.eps:g}")
        fixes.append(f"PyTorch eps={k.eps:g} (or Keras epsilon={t.eps:g})")
    if not problems:
        return None
    return Hint(what="BatchNorm conventions: " + "; ".join(problems),
                holds=MOMENTUM_HOLDS + "; epsilon is the same number in both",
                fix="set " + " and ".join(fixes), link=BN_LINK)


def flatten_rows_hint(chw: tuple[int, int, int]) -> Hint:
    """A Dense after a channels-last Flatten whose port kept the kernel's row order."""
    c, h, w = chw
    return Hint(
        what=f"Flatten order: Keras flattens the channels-last (H, W, C) = ({h}, {w}, {c}) activation in (h, w, c) "
             "order, PyTorch flattens (C, H, W) in (c, h, w) order; this layer's weights were ported without "
             "permuting their rows",
        holds=K.FLATTEN_ORDER.holds,
        fix="permute the rows: torch weight = reference.layouts.dense_to_torch("
            f"reference.layouts.dense_rows_hwc_to_chw(keras_kernel, {chw})), or let dlparity transfer the weights "
            "(transfer='a_to_b')",
        link=f"{KERAS_DOCS}/layers/reshaping_layers/flatten/",
    )


def same_padding_hint(keras_layer, torch_module, in_hw: tuple[int, int]) -> Hint | None:
    """Keras 'same' padding (bottom/right-heavy; average pooling leaves the padding out of the divisor)
    ported to PyTorch's symmetric padding (average pooling counting the padding by default)."""
    if getattr(keras_layer, "padding", None) != "same" or not hasattr(torch_module, "padding"):
        return None
    from scratch.layers.im2col import resolve_padding

    window = getattr(keras_layer, "kernel_size", None) or keras_layer.pool_size
    pads = resolve_padding("same", in_hw, tuple(window), tuple(keras_layer.strides))
    problems, fixes = [], []
    if pads[0] != pads[1] or pads[2] != pads[3]:
        problems.append(f"Keras pads (top, bottom, left, right) = {pads} here (the extra row and column at the "
                        f"bottom/right); PyTorch padding={torch_module.padding} pads symmetrically")
        value = ", value=float('-inf')" if "Max" in type(torch_module).__name__ else ""
        pad = "nn.ConstantPad2d" if value else "nn.ZeroPad2d"
        fixes.append(f"pad explicitly in PyTorch: {pad}(({pads[2]}, {pads[3]}, {pads[0]}, {pads[1]}){value}), then "
                     "padding=0")
    if getattr(torch_module, "count_include_pad", False) and any(pads):
        problems.append("Keras 'same' average pooling divides by the real cells of each window; PyTorch "
                        "count_include_pad=True counts the padding")
        fixes.append("set PyTorch count_include_pad=False")
    if not problems:
        return None
    return Hint(what="'same' padding: " + "; ".join(problems), holds="same output shape, different numbers at the "
                "borders", fix="; ".join(fixes), link=f"{KERAS_DOCS}/layers/convolution_layers/convolution2d/")


def port_hint(k, t, keras_kernel, torch_weight, chw_in, a: np.ndarray) -> Hint | None:
    """The convention that explains a failing pair of layers of a port (``k`` / ``t``: the Keras and
    PyTorch steps, ``chw_in``: the (C, H, W) of a channels-last Flatten before a Dense, ``a``: its input)."""
    if k.kind == "dense" and chw_in is not None and keras_kernel is not None:
        if np.allclose(keras_kernel, layouts.dense_from_torch(torch_weight), rtol=1e-6, atol=0):
            return flatten_rows_hint(chw_in)
        return None
    if k.kind == "batchnorm":
        return bn_port_hint(k.layer, t.layer)
    if a.ndim == 4 and (k.kind == "conv" or "Pool" in type(k.layer).__name__):
        return same_padding_hint(k.layer, t.layer, a.shape[2:])
    return None


def attach(rows: list, hint: Hint | None) -> None:
    """Put a diagnosis on the failing rows it explains (rows already explained keep theirs)."""
    if hint is None:
        return
    for r in rows:
        if r.verdict == FAIL and not r.known:
            r.known, r.holds, r.fix, r.link = hint.what, hint.holds, hint.fix, hint.link
