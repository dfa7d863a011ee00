"""``check_layer``: a NumPy layer against a PyTorch module, a Keras layer or a scratch component."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from comparisons.table.known import FLATTEN_ORDER, textbook_dropout
from comparisons.table.spec import DTYPES, Context
from dlparity import known as H
from dlparity.adapt import UserLayer
from dlparity.refs import Reference, describe_all, twin
from dlparity.result import KNOWN, Result, Row, compare, tolerances

#: the input ranks each kind of reference takes
RANKS = {"conv": (4,), "batchnorm": (2, 4), "flatten": (4,)}


def check_input(x, name: str = "x", ranks: Sequence[int] | None = None, label: str = "") -> np.ndarray:
    """``x`` as a float array of an accepted rank; a clear error otherwise."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, got {type(x).__name__}")
    if x.dtype.kind != "f" or x.dtype not in (np.float32, np.float64):
        raise ValueError(f"{name}: expected a float32 or float64 array, got dtype {x.dtype}")
    if x.ndim < 2 or (ranks and x.ndim not in ranks):
        want = " or ".join(f"{r}-D" for r in ranks) if ranks else "at least 2-D (N, ...)"
        raise ValueError(f"{name}: {label or 'the layer'} takes {want} input (images NCHW), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: expected finite values, got {int((~np.isfinite(x)).sum())} NaN or infinite")
    return x


def check_dtypes(dtypes) -> tuple[str, ...]:
    out = tuple([dtypes] if isinstance(dtypes, str) else dtypes)
    bad = [d for d in out if d not in DTYPES]
    if not out or bad:
        raise ValueError(f"dtypes: expected some of {list(DTYPES)}, got {dtypes!r}")
    return out


def check_layer(layer, reference, x: np.ndarray, *, names: Mapping[str, str] | None = None,
                dtypes: Sequence[str] = DTYPES, tolerance=None, seed: int = 0) -> Result:
    """Check a NumPy layer against what it should equal, forward and backward, in float64 and float32.

    The layer's weights are read (by role: ``W``/``b``, ``gamma``/``beta``, ``running_mean``/``running_var``)
    and copied into a private copy of each reference (every layout change by ``reference.layouts``).
    Both run forward on ``x`` and backward under the same random upstream gradient; the output, the input
    gradient, every parameter gradient and, after a training step, the running statistics are compared.
    A layer whose forward takes a mode (``train_flg`` or ``training``) runs a training step, then an
    evaluation step (the reference gets the layer's running statistics first, so the step compares like
    with like). Neither the layer nor the reference passed in is changed.

    Args:
        layer: the user's layer: textbook style (``forward(x[, train_flg])``, ``backward(dout)``,
            attributes ``W``, ``dW``...), a ``params``/``grads`` dict holder, or a scratch layer.
        reference: a ``torch.nn.Module`` (Linear, Conv2d, BatchNorm1d/2d, or parameter-free), a Keras
            layer (Dense, Conv2D, BatchNormalization, or weight-free), a scratch or ``scratch.textbook``
            layer, or a list of them.
        x: input batch (N, D) or (N, C, H, W) (NCHW, as the textbook), float32 or float64.
        names: role -> the layer's attribute or dict key (``{"W": "weights", "dW": "grad_weights"}``).
        dtypes: which of ``"float64"``, ``"float32"`` to run (x is cast to each).
        tolerance: largest normwise relative error; default the project's per dtype (1e-10, 1e-4).
        seed: seed of the upstream gradients.

    Returns:
        A ``Result`` (``.ok``, ``.assert_ok()``, a table when printed, ``.to_frame()``).

    Raises:
        TypeError: a layer of no supported shape, a reference that is not a supported object.
        ValueError: a weight whose shape does not fit the reference, an input of the wrong rank or dtype.
    """
    refs = describe_all(reference)
    kinds = {r.roles + r.buffers for r in refs}
    if len(kinds) > 1:
        raise ValueError("reference: the references take different parameters "
                         f"({', '.join(f'{r.label}: {r.roles + r.buffers}' for r in refs)}); check them one by one")
    ranks = next((RANKS[r.kind] for r in refs if r.kind in RANKS), None)
    check_input(x, ranks=ranks, label=refs[0].label)
    dtypes, tol = check_dtypes(dtypes), tolerances(tolerance)
    UserLayer(layer, refs[0].roles, refs[0].buffers, names)  # shape errors before any work
    result = Result(f"{type(layer).__name__} against {', '.join(r.label for r in refs)}", tolerance=tol)
    for ref in refs:
        rows: list[Row] = []
        hints: dict[str, H.Hint | None] = {}
        for dtype in dtypes:
            rows += _run(layer, ref, x, dtype, names, tol[dtype].rtol, seed, result.notes, hints)
        for r in rows:  # a convention diagnosed in one run explains the same failures in every run
            H.attach([r], hints.get("momentum" if r.quantity.startswith("buffer:") else "eps"))
        result.rows += rows
    return result


def _run(layer, ref: Reference, x: np.ndarray, dtype: str, names, rtol: float, seed: int, notes: list,
         hints: dict) -> list[Row]:
    user = UserLayer(layer, ref.roles, ref.buffers, names)
    user.cast(dtype)
    xd = x.astype(dtype)
    flat = ref.kind == "dense" and xd.ndim > 2  # the textbook's Affine flattens; Linear / Dense act on the last axis
    x_ref = xd.reshape(xd.shape[0], -1) if flat else xd  # (N, C, H, W) -> (N, C*H*W), (c, h, w) order
    labels = {r: user.label(r) for r in (*ref.roles, *ref.buffers)}
    r0 = {k: np.array(v) for k, v in user.buffers().items()}
    fw = twin(ref, dtype, user.params(), r0, x_ref.shape, labels)
    flatten_known = FLATTEN_ORDER if ref.framework == "keras" and ref.kind == "flatten" else None
    conv = H.bn_convention(ref.obj) if ref.kind == "batchnorm" else None
    rng = np.random.default_rng([seed, 1])
    rows, history = [], []
    modes = ("train", "eval") if user.has_modes else ("train",)
    scaled = None  # a recorded dropout scaling to try where plain comparison fails
    if ref.kind == "dropout":
        modes, scaled = _dropout_modes(user, layer, ref, notes)
    for mode in modes:
        training = mode == "train"
        if not training and ref.buffers:
            fw.set_buffers(user.buffers())
            note = f"before the eval step, {ref.label} got the layer's running statistics (like with like)"
            if note not in notes:
                notes.append(note)
        y_ref, _ = fw.forward(x_ref, training=training)
        y = user.forward(xd.copy(), training=training)  # a copy: a layer writing into x changes nothing here
        if training:
            history.append(x_ref)
        ctx = Context(dtype, tuple(history), {"x": xd})
        dy = rng.standard_normal(y.shape).astype(dtype)
        label = {"layer": "", "reference": ref.label, "framework": ref.framework, "dtype": dtype, "mode": mode}

        def row(quantity, value, ref_value, known=None, ctx=ctx, label=label, **kw):
            kn = known if known is not None and known.applies(ref.framework, quantity, dtype) else None
            if kn is not None:
                ref_value = kn.relation(np.asarray(ref_value), ctx)
            return compare(quantity, value, ref_value, rtol=rtol, known=kn, **label, **kw)

        out_row = row("output", y, y_ref, flatten_known)
        if out_row.detail.startswith("shape"):
            rows.append(out_row)
            break  # nothing after it can be compared
        up = flatten_known.upstream(dy, ctx) if flatten_known is not None else dy
        dx_ref, g_ref = fw.backward(up)
        dx = user.backward(dy)
        dx_row = row("dx", dx, dx_ref.reshape(xd.shape) if flat else dx_ref)
        if scaled is not None and not (out_row.ok and dx_row.ok):
            alt = [row("output", y, y_ref, scaled), row("dx", dx, dx_ref, scaled)]
            out_row, dx_row = alt if all(r.verdict == KNOWN for r in alt) else (out_row, dx_row)
        rows += [out_row, dx_row]
        grads = user.grads()
        rows += [row(f"grad:{r}", grads[r], g_ref[r]) for r in ref.roles]
        if training and ref.buffers:
            rows += _buffer_rows(user.buffers(), fw.buffers(), conv, ctx, row)
            if conv is not None and not rows[-2].ok and "momentum" not in hints:
                hints["momentum"] = H.momentum_hint(conv, r0["running_mean"], x_ref, user.buffers()["running_mean"])
        if conv is not None and training and not out_row.ok and dtype == "float64":
            params = user.params()
            hints["eps"] = H.epsilon_hint(conv, x_ref, y, params.get("gamma"), params.get("beta"))
    return rows


def _dropout_modes(user: UserLayer, layer, ref: Reference, notes: list) -> tuple[tuple[str, ...], object]:
    """A dropout is compared in evaluation mode (the training masks come from different generators), and
    through the textbook's non-inverted scaling where that is what the layer does."""
    if not user.has_modes:
        raise ValueError(f"layer: {ref.label} is compared in evaluation mode (training masks come from "
                         f"different random generators), but {type(layer).__name__}.forward takes no mode "
                         "(train_flg or training)")
    note = f"{ref.label}: evaluation mode only (training masks come from different random generators)"
    if note not in notes:
        notes.append(note)
    rate = ref.obj.p if ref.framework == "torch" else getattr(ref.obj, "rate", None)
    return ("eval",), (textbook_dropout(ref.framework, float(rate)) if rate is not None else None)


def _buffer_rows(mine: dict, theirs: dict, conv, ctx: Context, row) -> list[Row]:
    """Running statistics; the running variance through a recorded estimator relation when it holds."""
    out = []
    for name in ("running_mean", "running_var"):
        r = row(f"buffer:{name}", mine[name], theirs[name])
        if not r.ok and name == "running_var" and conv is not None:
            for kn in H.running_var_relations(conv):
                alt = row(f"buffer:{name}", mine[name], theirs[name], kn)
                if alt.verdict == KNOWN:
                    r = alt
                    break
        out.append(r)
    return out
