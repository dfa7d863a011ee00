"""A fast numerical gradient for ``Sequential`` models: the textbook's central (or forward)
difference, perturbing many parameters at once and recomputing only what they change.

The textbook's ``numerical_gradient`` runs the whole network twice per parameter (TwoLayerNet:
2 x 39,760 forward passes over the batch). Here, for the layer that owns the parameter:

1. its input, cached by one base forward pass, is reused: layers upstream never run again;
2. a chunk of P perturbations (each entry +h and -h) is one array operation: moving Dense W[i, j]
   by d changes only output column j, by d * x[:, i]; moving Conv2D W[f, c, p, q] changes only
   output channel f, by d * (the input plane that the weight multiplies);
3. the change is carried as a *patch* (one column block or one channel) through layers that act
   per column or per channel (ReLU, Sigmoid, Tanh, Dropout with its fixed mask, pooling, Flatten);
   the next Dense makes it a full output, base + (patch - base patch) @ W[block];
4. the rest runs once for the whole chunk, as a batch of rows (perturbation p, sample n). When no
   later layer mixes the samples of a batch and the loss is a per-sample mean or sum, only the rows
   whose input changed are computed (an MNIST pixel is zero in most images: 0 * d = 0), and each
   perturbed loss is the base per-sample losses with the changed ones replaced, summed over the
   batch. A BatchNorm in training mode instead gets every sample of every perturbation and computes
   each perturbed batch's own statistics (the P batches side by side as P times the features).
5. in float64, a Dense layer whose units reach a softmax cross-entropy through per-unit layers and the
   last Dense (and that last Dense) takes ``scratch._fastgrad_hidden``: each changed loss term is
   computed from its exact change, a function of the hidden unit's change through moments of the
   base softmax, without a softmax per perturbed row.

Each perturbed loss is the loss at the same perturbed parameters as in the naive loop (the step is
fl(w + h) - w and the quotient is divided by 2h, as there), so both give the same numbers up to the
rounding of the loss: about ulp(L) / 2h (2e-12 for L ~ 2.3, h = 1e-4 in float64; route 5 rounds each
perturbed loss once, where the loop rounds it in every term of its sum). A Dense weight
whose input is zero in every sample gets exactly 0, as in the naive loop, without being computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scratch import _fastgrad_hidden as hidden
from scratch import gradcheck as gc
from scratch import layers as L
from scratch import losses as S
from scratch._checks import check_choice
from scratch.layers import im2col as ic

PER_SAMPLE_LOSSES = (S.SoftmaxCrossEntropy, S.MeanSquaredError, S.SumSquaredError, S.CrossEntropy)


@dataclass
class _State:
    """Perturbed activations of a chunk, one row per (perturbation, sample) pair of ``_Chunk``.

    Full: ``values`` (R, ...) is the whole activation of each row. Column patch (``cols`` set, the
    activation is (N, D)): row r differs from the base only in columns cols[r] : cols[r] + w and
    ``values`` (R, w) holds them. Channel patch (``chan`` set, (N, C, H, W)): only channel chan[r]
    differs, ``values`` (R, H, W).
    """

    values: np.ndarray
    cols: np.ndarray | None = None
    chan: np.ndarray | None = None


def fast_numerical_gradient(model, x: np.ndarray, t: np.ndarray, *, training: bool, loss=None,
                            masks: dict[str, np.ndarray] | None = None, h: float = 1e-4,
                            method: str = "central", params: list[str] | None = None,
                            max_bytes: int = 4 * 2**20,
                            callback: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """dL/dparam for the parameters of ``model`` by finite differences, vectorised (module doc).

    Same numbers as ``gradcheck.model_numerical_gradient`` (the naive loop) up to the rounding of
    the loss. ``SoftmaxCrossEntropy`` (either semantics, so the textbook's ``SoftmaxWithLoss`` too),
    ``CrossEntropy("textbook")``, ``MeanSquaredError`` and ``SumSquaredError`` are evaluated per
    sample; any other loss object by its own ``forward`` once per perturbation.

    Args:
        model: a scratch ``Sequential`` of Dense, Conv2D, ReLU, Sigmoid, Tanh, Softmax, pooling,
            Flatten, Dropout and BatchNorm layers (another layer type raises ValueError: whether
            it mixes the samples of a batch is unknown).
        x, t: the batch and its labels.
        training: the forward mode. In training mode every Dropout needs a fixed mask in ``masks``
            and BatchNorm normalises each perturbed batch by its own statistics.
        loss: a scratch loss (default ``SoftmaxCrossEntropy()``, the batch mean).
        masks: {Dropout layer name: boolean mask}.
        h: step, > 0 (default 1e-4, the textbook's).
        method: ``"central"`` (L(w+h) - L(w-h)) / 2h or ``"forward"`` (L(w+h) - L(w)) / h.
        params: qualified names to differentiate (default all).
        max_bytes: rough memory bound of one chunk of perturbations (default 4 MiB: chunks that stay
            in the CPU caches run faster than large ones).
        callback: called as ``callback(entries_done, entries_total)`` after each chunk.

    Returns:
        {qualified name: gradient of the parameter's shape and dtype}. Buffers are left unchanged;
        each layer's forward cache is left as after ``model.forward(x, training=training, masks=masks)``.

    Raises:
        ValueError: bad h or method, a non-scalar or non-finite loss, a missing Dropout mask in
            training mode, a layer type the method does not know.
    """
    h = gc.check_step(h)
    check_choice(method, "method", ("central", "forward"))
    loss = gc.default_loss(loss)
    masks = gc.check_masks(model, training, masks)
    names = gc.select_params(model, params)
    for name, layer in zip(model.names, model.layers, strict=True):
        check_traits(name, layer)
    saved = {k: v.copy() for k, v in model.buffers.items()}
    run = None
    try:
        run = _Run(model, x, t, training, loss, masks)
        f0 = run.base_loss()
        total, done, out = sum(model.params[n].size for n in names), 0, {}
        for qname in names:
            lname, pname = qname.rsplit(".", 1)
            li = model.names.index(lname)
            p = model.layers[li].params[pname]
            if hidden.applies(run, li):  # Dense layers into a softmax cross-entropy (route 5)
                def tick(k: int, base: int = done) -> None:
                    if callback is not None:
                        callback(base + k, total)
                grad = hidden.gradient(run, li, pname, h, method, max_bytes, tick)
                done += p.size
                out[qname] = grad.astype(p.dtype).reshape(p.shape)
                continue
            grad = np.zeros(p.size, dtype=np.float64)
            todo = np.flatnonzero(~run.inert(li, pname))  # the others leave every sum bit-for-bit unchanged
            lo, chunk = 0, 8  # a small first chunk measures the memory one perturbation takes
            while lo < len(todo):
                idx = todo[lo:lo + chunk]
                lo += len(idx)
                w, step = p.reshape(-1)[idx], p.dtype.type(h)
                d = (w + step) - w  # the step fl(w + h) - w that the naive loop takes
                if method == "central":
                    d, idx2 = np.concatenate([d, (w - step) - w]), np.concatenate([idx, idx])
                else:
                    idx2 = idx
                f, peak = run.losses(li, pname, idx2, d, qname)
                grad[idx] = (f[:len(idx)] - f[len(idx):]) / (2 * h) if method == "central" else (f - f0) / h
                chunk = max(1, int(max_bytes // (4 * peak * p.dtype.itemsize * (len(idx2) // len(idx)))))
                done += len(idx)
                if callback is not None:
                    callback(done, total)
            done += p.size - len(todo)
            out[qname] = grad.astype(p.dtype).reshape(p.shape)
        return out
    finally:
        if run is not None:  # leave the caches of the base batch
            model.forward(x, training=training, masks=masks)
        gc._restore_buffers(model, saved)


def check_traits(name: str, layer) -> None:
    """The fast gradient reads a layer's traits (``scratch.layers.base.Layer``): ``per_sample`` must be
    declared True on its class (a training-mode batch mix is declared apart, ``mixes_batch_in_training``).

    Raises:
        ValueError: naming the layer and the trait to declare.
    """
    cls = type(layer).__name__
    declared = getattr(type(layer), "per_sample", None)
    if declared is None:
        raise ValueError(f"model: layer {name!r} ({cls}) does not declare the trait `per_sample` on its class "
                         "(True when, in evaluation mode, output sample n depends on input sample n only; declare "
                         "`elementwise`, `per_channel`, `mixes_batch_in_training` or `has_randomness` too where "
                         "they hold, see scratch.layers.base.Layer); or use gradcheck.model_numerical_gradient")
    if not declared:
        raise ValueError(f"model: layer {name!r} ({cls}) declares per_sample = False: its forward mixes the samples "
                         "of a batch, which the fast numerical gradient cannot follow; use "
                         "gradcheck.model_numerical_gradient")


class _Run:
    """One base forward pass, and the propagation of chunks of perturbations from it."""

    def __init__(self, model, x, t, training, loss, masks) -> None:
        self.model, self.t, self.training, self.loss = model, t, training, loss
        self.acts = [x]  # acts[i] is the input of layer i; acts[-1] the model output
        self.factors: dict[int, np.ndarray] = {}  # Dropout: the multiplier, of the input's shape
        self.mixing: list[int] = []  # layers whose forward mixes the samples (BatchNorm, training)
        for i, (name, layer) in enumerate(zip(model.names, model.layers, strict=True)):
            kw = {"mask": masks[name]} if training and layer.has_randomness else {}
            if layer.has_randomness:  # a multiplicative mask: its factor, of the input's shape
                self.factors[i] = layer.forward(np.ones_like(self.acts[-1]), training=training, **kw)
            if layer.mixes_batch_in_training and training:
                self.mixing.append(i)
            self.acts.append(layer.forward(self.acts[-1], training=training, **kw))
        gc.scalar_loss(loss.forward(self.acts[-1], t), "loss")
        self.per_sample = type(loss) in PER_SAMPLE_LOSSES
        if self.per_sample:
            y = self.acts[-1]
            # (CrossEntropy: per sample in the textbook semantics only; the Keras one renormalises and clips)
            if type(loss) is S.SoftmaxCrossEntropy and getattr(loss, "semantics", "plain") == "textbook":
                # t validated by the forward above; rows of y's shape enter the loss as their argmax
                self.kind, self.targets = "ce-textbook", (t.argmax(axis=1) if t.ndim == 2 else t)
            elif type(loss) is S.SoftmaxCrossEntropy:  # class indices, or (N, K) probability rows
                rows = S._labels(t, y)  # (also validates t)
                self.kind, self.targets = ("ce", rows) if t.ndim == 2 else ("ce-index", t)
            elif type(loss) is S.CrossEntropy:  # on probabilities (the output of a Softmax layer)
                self.per_sample = loss.semantics == "textbook"
                self.kind, self.targets = "p-textbook", S._labels(t, y)
            else:
                self.kind, self.targets = "squared", loss._check(y, t)[1]
            if self.per_sample:
                self.terms0 = _loss_terms(y, self.targets, self.kind)  # (N,)

    def base_loss(self) -> float:
        y = self.acts[-1]
        rows = np.arange(len(y))
        return float(self._combine(np.zeros(len(rows), int), rows, _State(y), 1)[0])

    def inert(self, li: int, pname: str) -> np.ndarray:
        """Entries whose step multiplies an input that is zero in every sample (flat mask)."""
        layer, x = self.model.layers[li], self.acts[li]
        if type(layer) is L.Dense and pname == "W":
            return np.repeat(~x.reshape(len(x), -1).any(axis=0), layer.units)  # (in,) -> (in*units,)
        return np.zeros(layer.params[pname].size, dtype=bool)

    def losses(self, li: int, pname: str, idx: np.ndarray, d: np.ndarray, qname: str) -> tuple[np.ndarray, int]:
        """The loss (P,) with entry idx[p] of parameter ``pname`` of layer ``li`` moved by d[p], and
        the most activation values held per perturbation (to size the next chunk)."""
        n = len(self.acts[0])
        sparse = self.per_sample and not any(j > li for j in self.mixing)
        pert, sample, state = self.start(li, pname, idx, d, sparse)
        peak = state.values.size
        for j in range(li + 1, len(self.model.layers)):
            state = self.step(j, state, pert, sample, len(idx))
            peak = max(peak, state.values.size)
        f = self._combine(pert, sample, state, len(idx))
        if not np.isfinite(f).all():
            raise ValueError(f"loss: returned a non-finite value with {qname} perturbed")
        return f, peak // len(idx) + n

    def _combine(self, pert, sample, state: _State, p: int) -> np.ndarray:
        """Each perturbation's batch loss, as float64 (computed in the model dtype)."""
        y = self.densify(state, self.acts[-1], sample)
        if self.per_sample:  # base terms, with the changed rows replaced, summed over the batch
            terms = np.broadcast_to(self.terms0, (p, len(self.terms0))).copy()
            terms[pert, sample] = _loss_terms(y, self.targets[sample], self.kind)
            return _reduce_terms(self.loss, terms, y.shape[1]).astype(np.float64)
        y = y.reshape(p, -1, *y.shape[1:])  # every row present: (P*N, K) -> (P, N, K)
        return np.array([gc.scalar_loss(self.loss.forward(yp, self.t)) for yp in y])

    def start(self, li: int, pname: str, idx, d, sparse: bool):
        """Rows (perturbation, sample) and the perturbed outputs of layer ``li`` itself."""
        layer, x, y = self.model.layers[li], self.acts[li], self.acts[li + 1]
        p, n = len(idx), len(x)
        if type(layer) is L.Dense:
            i, j = np.unravel_index(idx, layer.params["W"].shape) if pname == "W" else (None, idx)
            change = np.broadcast_to(d[:, None], (p, n)) if i is None else x.reshape(n, -1)[:, i].T * d[:, None]
            pert, sample = np.nonzero(change) if sparse else np.indices((p, n)).reshape(2, -1)
            return pert, sample, _State((y[sample, j[pert]] + change[pert, sample])[:, None], cols=j[pert])
        if type(layer) is L.Conv2D:
            if pname == "b":
                f = idx
                change = np.broadcast_to(d[:, None, None, None], (p, n, *y.shape[2:]))
            else:
                f, c, kh, kw = np.unravel_index(idx, layer.params["W"].shape)
                c = c + f // (layer.filters // layer.groups) * (layer.in_channels // layer.groups)  # group's input
                xp = ic.pad(x, layer.pads_for(x.shape[2:]))
                # (N, C, OH, OW, KH, KW)
                win = ic.windows(xp, layer.kernel_size, layer.stride, y.shape[2:], layer.dilation)
                change = win[:, c, :, :, kh, kw] * d[:, None, None, None]  # (P, N, OH, OW)
            moved = change.reshape(p, n, -1).any(axis=2) if sparse else np.ones((p, n), bool)
            pert, sample = np.nonzero(moved)
            return pert, sample, _State(y[sample, f[pert]] + change[pert, sample], chan=f[pert])
        # any other layer (BatchNorm gamma, beta): move the entry in place and rerun this layer
        arr, out = layer.params[pname].reshape(-1), np.empty((p, *y.shape), dtype=y.dtype)
        for k, (e, step) in enumerate(zip(idx, d, strict=True)):
            orig = arr[e].copy()
            arr[e] = orig + step
            try:
                out[k] = layer.forward(x, training=self.training)
            finally:
                arr[e] = orig
        pert, sample = np.indices((p, n)).reshape(2, -1)
        return pert, sample, _State(out.reshape(p * n, *y.shape[1:]))

    def step(self, j: int, s: _State, pert, sample, p: int) -> _State:
        """The perturbed outputs of layer ``j`` from its perturbed inputs."""
        layer, x, y = self.model.layers[j], self.acts[j], self.acts[j + 1]
        kind = type(layer)
        if s.cols is not None:  # x is (N, D)
            cols = s.cols[:, None] + np.arange(s.values.shape[1])  # (R, w)
            if layer.elementwise:
                return _State(layer.forward(s.values, training=self.training), cols=s.cols)
            if layer.has_randomness:
                return _State(s.values * self.factors[j][sample[:, None], cols], cols=s.cols)
            if kind is L.Flatten:
                return s
            if kind is L.Dense:
                return _State(self._dense(layer, s.values - x[sample[:, None], cols], s.cols, sample, y))
        if s.chan is not None:  # x is (N, C, H, W)
            if layer.elementwise:
                return _State(layer.forward(s.values, training=self.training), chan=s.chan)
            if layer.has_randomness:
                return _State(s.values * self.factors[j][sample, s.chan], chan=s.chan)
            if layer.per_channel:
                return _State(layer.forward(s.values[:, None], training=self.training)[:, 0], chan=s.chan)
            if kind in (L.Flatten, L.Dense):  # channel c of (N, C, H, W) = columns c*H*W ... (c+1)*H*W - 1
                r, hh, ww = s.values.shape
                flat = _State(s.values.reshape(r, hh * ww), cols=s.chan * (hh * ww))
                if kind is L.Flatten:
                    return flat
                base = x[sample, s.chan].reshape(r, hh * ww)
                return _State(self._dense(layer, flat.values - base, flat.cols, sample, y))
        v = self.densify(s, x, sample)
        if layer.has_randomness:
            return _State(v * self.factors[j][sample])
        if layer.mixes_batch_in_training and self.training:  # rows are every (p, n): each p its own batch
            batches = v.reshape(p, -1, *v.shape[1:])
            if kind is L.BatchNorm:  # the P batches side by side in one call
                return _State(_batchnorm_stacked(layer, batches).reshape(v.shape))
            return _State(np.concatenate([layer.forward(b, training=True) for b in batches]))
        return _State(layer.forward(v, training=self.training))  # per-sample layers: rows are a batch

    @staticmethod
    def _dense(layer, delta: np.ndarray, start: np.ndarray, sample, y) -> np.ndarray:
        """Dense output of rows whose input differs by ``delta`` (R, w) in columns start[r] + (0..w-1)."""
        W, w = layer.params["W"], delta.shape[1]
        if w == 1:  # built feature-major, (units, R), and returned as its transpose (R, units): a row-wise
            # reduction over few units (the loss's max and sum) then runs as a fast element-wise one
            out = np.take(np.ascontiguousarray(y.T), sample, axis=1)  # (units, R)
            out += np.take(np.ascontiguousarray(W.T), start, axis=1) * delta[:, 0]
            return out.T
        out = np.empty((len(delta), layer.units), dtype=y.dtype)
        for s in np.unique(start):  # the rows of one block share W[block]
            rows = np.flatnonzero(start == s)
            out[rows] = y[sample[rows]] + delta[rows] @ W[s:s + w]
        return out

    @staticmethod
    def densify(s: _State, base: np.ndarray, sample) -> np.ndarray:
        """The whole perturbed activation of each row: (R, ...)."""
        if s.cols is None and s.chan is None:
            return s.values
        full = base[sample]  # a copy, (R, ...)
        rows = np.arange(len(sample))
        if s.chan is not None:
            full[rows, s.chan] = s.values
        else:
            full[rows[:, None], s.cols[:, None] + np.arange(s.values.shape[1])] = s.values
        return full


def _batchnorm_stacked(layer: L.BatchNorm, v: np.ndarray) -> np.ndarray:
    """BatchNorm in training mode on P batches (P, N, F, ...) at once, each normalised by its own
    statistics: the batches side by side as one N-sample batch of P*F features (or channels), run
    through a copy of the layer with gamma and beta tiled P times."""
    p, n = v.shape[:2]
    side = v.swapaxes(0, 1).reshape(n, p * v.shape[2], *v.shape[3:])  # (P, N, F, ...) -> (N, P*F, ...)
    twin = L.BatchNorm(p * layer.num_features, momentum=layer.momentum, momentum_of=layer.momentum_of,
                       eps=layer.eps, running_var=layer.running_var_estimator, stats=layer.stats,
                       gamma=np.tile(layer.params["gamma"], p), beta=np.tile(layer.params["beta"], p),
                       dtype=layer.dtype)
    out = twin.forward(side, training=True)
    return out.reshape(n, p, *v.shape[2:]).swapaxes(0, 1)  # (N, P*F, ...) -> (P, N, F, ...)


def _loss_terms(y: np.ndarray, t: np.ndarray, kind: str) -> np.ndarray:
    """Per-row loss terms (R,) of outputs ``y`` (R, K) against targets ``t`` (class indices (R,) or
    rows (R, K)); a batch loss is ``_reduce_terms`` of its N terms."""
    if kind == "ce-textbook":  # the textbook's SoftmaxWithLoss: term = -log(softmax(y)[label] + 1e-7)
        e = np.exp(y - y.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        return -np.log(p[np.arange(len(p)), t] + p.dtype.type(S.TEXTBOOK_DELTA))
    if kind == "p-textbook":  # CrossEntropy("textbook") on probabilities: term = -sum_k t * log(y + 1e-7)
        return -(t * np.log(y + y.dtype.type(S.TEXTBOOK_DELTA))).sum(axis=1)
    if kind.startswith("ce"):  # term = -sum_k t * log_softmax(y) = log sum exp(z) - z[label], z = y - max y
        z = y - y.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        if kind == "ce-index":
            return lse - z[np.arange(len(z)), t]
        return -(t * (z - lse[:, None])).sum(axis=1)
    dd = y - t  # squared errors: term = sum_k (y - t)^2
    return (dd * dd).sum(axis=1)


def _reduce_terms(loss, terms: np.ndarray, k: int) -> np.ndarray:
    """The batch loss (P,) from per-sample terms (P, N), in the terms' dtype."""
    total = terms.sum(axis=1)
    if type(loss) in (S.SoftmaxCrossEntropy, S.CrossEntropy):
        return total / terms.shape[1]
    return total / (terms.shape[1] * k) if type(loss) is S.MeanSquaredError else 0.5 * total
