"""``check_port``: a Keras model or layer against its PyTorch port (either direction), layer by layer.

Both models are copied into each dtype (the originals are never changed); with ``transfer`` the
weights of one are copied into the other's copy. Layer by layer, each pair of layers gets the same
input (model_a's activation before it), the same random upstream gradient, and its output, input
gradient, parameter gradients and (after a training step) running statistics are compared in scratch
layout; then the whole models are compared end to end (output, input gradient, every parameter
gradient). The first failing layer is named in ``Result.parted_at``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from comparisons.table.known import FLATTEN_ORDER
from comparisons.table.spec import DTYPES, Context
from dlparity import _frameworks
from dlparity import known as H
from dlparity import portmap as P
from dlparity.layer import check_dtypes, check_input
from dlparity.port_whole import whole_models
from dlparity.refs import framework_of
from dlparity.result import FAIL, KNOWN, Result, Row, compare, tolerances
from reference import layouts

TRANSFERS = ("a_to_b", "b_to_a", None)


def check_port(model_a, model_b, x: np.ndarray, *, transfer: str | None = "a_to_b", by_layer: bool = True,
               dtypes: Sequence[str] = DTYPES, tolerance=None, seed: int = 0) -> Result:
    """Check that a Keras model and a PyTorch model compute the same thing, forward and backward.

    Args:
        model_a, model_b: one Keras model or layer (``keras.Sequential`` for a layer-by-layer check) and
            one ``torch.nn.Module`` (``nn.Sequential`` likewise), in either order. Models that do not pair
            layer by layer are compared whole (output and input gradient, ``transfer=None``).
        x: an input batch for model_a, in model_a's layout (NHWC images for Keras, NCHW for PyTorch).
        transfer: ``"a_to_b"`` copies model_a's weights into model_b (default), ``"b_to_a"`` the other
            way, None takes both as they are (to check a port whose weights were copied by hand).
        by_layer: compare layer by layer too (Sequential-like pairs of equal depth).
        dtypes, tolerance, seed: as in ``check_layer``.

    Returns:
        A ``Result``; ``parted_at`` names the first layer where the models part.

    Raises:
        ImportError: Keras or PyTorch is not installed (``pip install "dlparity[frameworks]"``).
        TypeError: not one Keras and one PyTorch object. ValueError: models of different depth, a
            layer without a weight map when weights are transferred, an input of the wrong rank or dtype.
    """
    _frameworks.require_all("dlparity.check_port")
    fa, fb = framework_of(model_a), framework_of(model_b)
    if {fa, fb} != {"keras", "torch"} or not (callable(model_a) and callable(model_b)):
        raise TypeError(f"model_a, model_b: expected one Keras model or layer and one torch.nn.Module, got "
                        f"{type(model_a).__module__}.{type(model_a).__name__} and "
                        f"{type(model_b).__module__}.{type(model_b).__name__}")
    if transfer not in TRANSFERS:
        raise ValueError(f"transfer: expected one of {TRANSFERS}, got {transfer!r}")
    check_input(x, "x", label="model_a")
    keras_is_a = fa == "keras"
    km, tm = (model_a, model_b) if keras_is_a else (model_b, model_a)
    klayers, tlayers = P.keras_layers(km), P.torch_layers(tm)
    if not km.built or any(not layer.built for layer in klayers or ()):
        raise ValueError("model: the Keras model is not built; give it a keras.Input or call model.build(shape)")
    _check_input_shape(km, tm, x, keras_is_a)
    dtypes, tol = check_dtypes(dtypes), tolerances(tolerance)
    x0 = layouts.nhwc_to_nchw(x) if keras_is_a else x  # scratch layout from here on
    a_name, b_name = ("Keras", "PyTorch") if keras_is_a else ("PyTorch", "Keras")
    result = Result(f"{a_name} {type(km if keras_is_a else tm).__name__} against its {b_name} port "
                    f"{type(tm if keras_is_a else km).__name__}", tolerance=tol)
    if klayers is None or tlayers is None:
        if transfer is not None:
            raise ValueError("transfer: weights are copied layer by layer, which needs a keras.Sequential (or one "
                             f"layer) and a torch.nn.Sequential (or one module); got {type(km).__name__} and "
                             f"{type(tm).__name__}: pass transfer=None to compare the whole models as they are")
        result.notes.append("whole models only (they do not pair layer by layer): output and input gradient; "
                            "parameter gradients are compared where the layers pair up")
        sides = {"reference": b_name, "framework": "torch" if b_name == "PyTorch" else "keras",
                 "sides": (a_name, b_name)}
        for dtype in dtypes:
            result.rows += whole_models(km, tm, x0.astype(dtype), dtype, tol[dtype].rtol, keras_is_a=keras_is_a,
                                        seed=seed, sides=sides)
        result.parted_at = "the whole model" if not result.ok else ""
        return result
    depth_k, depth_t = P.keras_depth(klayers), len(tlayers)
    if depth_k != depth_t:
        knames = ", ".join(type(layer).__name__ for layer in klayers)
        tnames = ", ".join(type(m).__name__ for m in tlayers)
        raise ValueError(f"model_a, model_b: the Keras model has {depth_k} steps ({knames}; a fused activation is one "
                         f"more step) but the PyTorch model has {depth_t} ({tnames}); they must pair one to one")
    source = None if transfer is None else ({"a_to_b": fa, "b_to_a": fb}[transfer])
    run = _Run(klayers, tlayers, keras_is_a, source, seed, result)
    for dtype in dtypes:
        if by_layer:
            result.rows += run.by_layer(x0.astype(dtype), dtype, tol[dtype].rtol)
        result.rows += run.whole(x0.astype(dtype), dtype, tol[dtype].rtol)
    first = next((r for r in result.rows if not r.ok), None)
    result.parted_at = first.layer if first is not None else ""
    if any("Dropout" in type(m).__name__ for m in tlayers):
        result.notes.append("Dropout layers run as the identity in training steps too: the frameworks draw masks "
                            "from different generators")
    return result


def _check_input_shape(km, tm, x: np.ndarray, keras_is_a: bool) -> None:
    """x must fit the Keras model's Input (NHWC images), given in its layout or, for model_a = PyTorch, NCHW."""
    inputs = getattr(km, "inputs", None)
    if not inputs or len(inputs) != 1:
        return
    want = tuple(inputs[0].shape[1:])
    got = tuple(x.shape[1:]) if keras_is_a else tuple(layouts.nchw_to_nhwc(np.zeros((1, *x.shape[1:]))).shape[1:])
    if None not in want and got != want:
        side = "model_a is the Keras model: x is NHWC" if keras_is_a else "model_a is the PyTorch model: x is NCHW"
        raise ValueError(f"x: the Keras model takes inputs of shape (N, {', '.join(map(str, want))}), x of shape "
                         f"{x.shape} does not fit ({side})")


class _Run:
    def __init__(self, klayers, tlayers, keras_is_a, source, seed, result) -> None:
        self.klayers, self.tlayers, self.keras_is_a, self.source = klayers, tlayers, keras_is_a, source
        self.seed, self.result = seed, result
        self.keras, self.torch, self.tf = _frameworks.keras(), _frameworks.torch(), _frameworks.tf()
        a, b = ("Keras", "PyTorch") if keras_is_a else ("PyTorch", "Keras")
        self.sides = {"reference": b, "framework": b.lower().replace("pytorch", "torch"), "sides": (a, b)}

    # -- building the pair in one dtype ------------------------------------------------------------
    def build(self, x0: np.ndarray, dtype: str):
        ks, ts = P.keras_steps(self.klayers, dtype), P.torch_steps(self.tlayers, dtype)
        a, chw, infos = x0[:1], None, []
        for i, (k, t) in enumerate(zip(ks, ts, strict=True)):
            label = f"layer {i} ({k.label} | {t.label})"
            if {k.kind, t.kind} - {"other"} and k.kind != t.kind:
                raise ValueError(f"{label}: a Keras {k.kind} layer cannot be paired with a PyTorch {t.kind} module; "
                                 "the models do not pair one to one")
            if "unmapped" in (k.kind, t.kind) and self.source is not None:
                raise ValueError(f"{label}: dlparity has no weight map for this layer (it maps Dense/Linear, "
                                 "Conv2D/Conv2d, BatchNormalization/BatchNorm1d/2d); pass transfer=None to take the "
                                 "weights as they are")
            k.layer(self.tf.constant(self._to_keras(a, chw)), training=False)  # builds the copy
            if k.source is not None:
                k.layer.set_weights([np.asarray(w, dtype=dtype) for w in k.source.get_weights()])
            kh, th = P.keras_handles(k, chw), P.torch_handles(t)
            if self.source == "keras":
                P.write(th, "torch", P.read(kh, "keras"), label)
            elif self.source == "torch":
                P.write(kh, "keras", P.read(th, "torch"), label)
            infos.append((label, k, t, kh, th, chw))
            out = t.layer.eval()(self.torch.from_numpy(a)).detach().numpy()
            chw = self._chw_after(k, a, out, chw)
            a = out
        self.chw_last = chw
        return infos

    def _sync_buffers(self, infos) -> None:
        """Before an evaluation step: model_a's running statistics into model_b (like with like)."""
        for label, _, _, kh, th, _ in infos:
            if "running_mean" in th:
                names = ("running_mean", "running_var")
                if self.keras_is_a:
                    P.write({r: th[r] for r in names}, "torch", P.read(kh, "keras"), label)
                else:
                    P.write({r: kh[r] for r in names}, "keras", P.read(th, "torch"), label)

    @staticmethod
    def _chw_after(k, a: np.ndarray, out: np.ndarray, chw):
        """(C, H, W) while the Keras activation is a channels-last flatten of a (C, H, W) image, else None."""
        if k.kind == "flatten" and a.ndim == 4:
            return tuple(a.shape[1:])
        return None if k.kind == "dense" or out.ndim != 2 else chw

    # -- layouts --------------------------------------------------------------------------------
    @staticmethod
    def _to_keras(a: np.ndarray, chw) -> np.ndarray:
        if a.ndim == 4:
            return layouts.nchw_to_nhwc(a)
        return layouts.flat_chw_to_hwc(a, chw) if chw is not None else a

    @staticmethod
    def _from_keras(a: np.ndarray, chw) -> np.ndarray:
        if a.ndim == 4:
            return layouts.nhwc_to_nchw(a)
        return layouts.flat_hwc_to_chw(a, chw) if chw is not None else a

    # -- one step of each --------------------------------------------------------------------------
    def _keras_step(self, info, a, chw_in, training):
        _, k, _, kh, _, _ = info
        tf = self.tf
        kx = tf.constant(self._to_keras(a, chw_in))
        variables = [v for v, _, _ in kh.values() if v.trainable]
        with tf.GradientTape() as tape:
            tape.watch(kx)
            ky = k.layer(kx, training=training and k.kind != "dropout")
        return kx, ky, tape, variables

    def by_layer(self, x0: np.ndarray, dtype: str, rtol: float) -> list[Row]:
        rows: list[Row] = []
        infos = self.build(x0, dtype)
        rng = np.random.default_rng([self.seed, 1])
        history: dict[int, list] = {}
        for mode in ("train", "eval"):
            training = mode == "train"
            a = x0
            if not training:
                self._sync_buffers(infos)
            for i, info in enumerate(infos):
                label, k, t, kh, th, chw_in = info
                kx, ky, tape, kvars = self._keras_step(info, a, chw_in, training)
                flat_image = k.kind == "flatten" and a.ndim == 4
                chw_out = self._chw_after(k, a, ky, chw_in)
                tx = self.torch.from_numpy(np.array(a)).requires_grad_(True)
                t.layer.train(training and t.kind != "dropout")
                for p in t.layer.parameters():
                    p.grad = None
                ty = t.layer(tx)
                k_out = self._from_keras(ky.numpy(), None if flat_image else chw_out)  # flatten: raw (h, w, c)
                t_out = ty.detach().numpy()
                if training:
                    history.setdefault(i, []).append(a)
                ctx = Context(dtype, tuple(history.get(i, ())), {"x": a})
                dy = rng.standard_normal(t_out.shape).astype(dtype)
                kdy = layouts.flat_chw_to_hwc(dy, chw_out) if chw_out is not None else self._to_keras(dy, None)
                grads = tape.gradient(ky, [kx, *kvars], output_gradients=self.tf.constant(kdy))
                ty.backward(self.torch.from_numpy(dy))
                lab = {"layer": label, **self.sides, "dtype": dtype, "mode": mode}
                row = self._rower(rtol, lab, ctx)
                rows_i = [row("output", t_out, k_out, FLATTEN_ORDER if flat_image else None)]
                rows_i.append(row("dx", tx.grad.numpy(), self._from_keras(grads[0].numpy(), chw_in)))
                kg = {r: to_s(g.numpy()) for (r, (_, to_s, _)), g in zip(
                    [(r, h) for r, h in kh.items() if h[0].trainable], grads[1:], strict=True)}
                tg = {r: to_s(p.grad.numpy()) for r, (p, to_s, _) in th.items() if r in kg}
                rows_i += [row(f"grad:{r}", tg[r], kg[r]) for r in kg]
                if training and "running_mean" in th:
                    tb, kb = P.read(th, "torch"), P.read(kh, "keras")
                    rows_i.append(row("buffer:running_mean", tb["running_mean"], kb["running_mean"]))
                    var = row("buffer:running_var", tb["running_var"], kb["running_var"])
                    conv_t = H.bn_convention(t.layer)
                    for kn in H.running_var_relations(conv_t, "Keras") if not var.ok else ():
                        alt = row("buffer:running_var", tb["running_var"], kb["running_var"], kn, on_first=True)
                        var = alt if alt.verdict == KNOWN else var
                    rows_i.append(var)
                if any(r.verdict == FAIL for r in rows_i):
                    H.attach(rows_i, H.port_hint(k, t, kh["W"][0].numpy() if "W" in kh else None,
                                                 th["W"][0].detach().numpy() if "W" in th else None, chw_in, a))
                rows += rows_i
                a_k = layouts.flat_hwc_to_chw(ky.numpy(), chw_out) if flat_image else k_out
                a = a_k if self.keras_is_a else t_out
        return rows

    def _rower(self, rtol, lab, ctx):
        a_is_torch = not self.keras_is_a

        def row(quantity, t_val, k_val, known=None, on_first=False):
            """Rows read model_a's value against model_b's; a known relation maps its framework's value."""
            if known is not None:
                if on_first:  # the relation maps the torch value
                    t_val = known.relation(np.asarray(t_val), ctx)
                else:
                    k_val = known.relation(np.asarray(k_val), ctx)
            a_val, b_val = (t_val, k_val) if a_is_torch else (k_val, t_val)
            return compare(quantity, a_val, b_val, rtol=rtol, known=known, **lab)

        return row

    # -- the whole models ------------------------------------------------------------------------
    def whole(self, x0: np.ndarray, dtype: str, rtol: float) -> list[Row]:
        rows: list[Row] = []
        infos = self.build(x0, dtype)
        rng = np.random.default_rng([self.seed, 2])
        tf, torch = self.tf, self.torch
        for mode in ("train", "eval"):
            training = mode == "train"
            if not training:
                self._sync_buffers(infos)
            kx = tf.constant(self._to_keras(x0, None))
            kvars = [(i, r, v) for i, info in enumerate(infos) for r, (v, _, _) in info[3].items() if v.trainable]
            with tf.GradientTape() as tape:
                tape.watch(kx)
                ky = kx
                for _, k, *_ in infos:
                    ky = k.layer(ky, training=training and k.kind != "dropout")
            tx = torch.from_numpy(np.array(x0)).requires_grad_(True)
            ty = tx
            for _, _, t, *_ in infos:
                t.layer.train(training and t.kind != "dropout")
                for p in t.layer.parameters():
                    p.grad = None
                ty = t.layer(ty)
            t_out = ty.detach().numpy()
            chw_last = self.chw_last
            k_out = self._from_keras(ky.numpy(), chw_last)
            dy = rng.standard_normal(t_out.shape).astype(dtype)
            kdy = layouts.flat_chw_to_hwc(dy, chw_last) if chw_last is not None else self._to_keras(dy, None)
            grads = tape.gradient(ky, [kx] + [v for _, _, v in kvars], output_gradients=tf.constant(kdy))
            ty.backward(torch.from_numpy(dy))
            lab = {"layer": "whole model", **self.sides, "dtype": dtype, "mode": mode}
            row = self._rower(rtol, lab, Context(dtype, (), {"x": x0}))
            rows.append(row("output", t_out, k_out))
            rows.append(row("dx", tx.grad.numpy(), self._from_keras(grads[0].numpy(), None)))
            for (i, r, _), g in zip(kvars, grads[1:], strict=True):
                _, _, _, kh, th, _ = infos[i]
                rows.append(row(f"grad:{i}.{r}", th[r][1](th[r][0].grad.numpy()), kh[r][1](g.numpy())))
        return rows
