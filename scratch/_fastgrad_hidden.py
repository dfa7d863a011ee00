"""The fast numerical gradient's route for a hidden Dense layer whose units reach a softmax
cross-entropy through per-unit layers and the last Dense (the textbook's TwoLayerNet: affine1 ->
sigmoid -> affine2 -> SoftmaxWithLoss), in float64.

Moving W[i, j] (or b[j]) of the hidden Dense by d changes, in sample n, only hidden unit j: its
pre-activation by x[n, i] * d (by d for b), its output by delta[n, j] after the per-unit layers, and
the logits by delta * W2[j, :]. The loss term of sample n then changes by a function of delta alone::

    lse(y + delta W2[j]) - lse(y) = log1p(S),   S = sum_k p_k expm1(delta W2[j, k])
                                                  = sum_{r >= 1} delta^r / r! * M_r[n, j]

with p = softmax(y[n]) of the base pass and the moments M_r[n, j] = sum_k p[n, k] W2[j, k]^r, one
(N, H) table per order r computed once. The series is cut where its remainder falls below 1/64 of
an ulp of the loss (|delta W2| is ~1e-6 at h = 1e-4, so two or three orders); with large steps it
would need too many and S is summed over the K classes with ``expm1`` instead. Each term's change is
thus computed from the exact difference (no cancellation between two ~2.3 values) and with a few
operations per (sample, hidden unit) pair instead of a softmax over K logits, and the work that
+h and -h share (the row selection, the base values of the rows, the moments) is done once.

Rows: for W[i, :] only the samples with x[n, i] != 0 change (an MNIST pixel is zero in ~80% of
the images); the (pixel, sample) pairs are listed pixel by pixel, each pair a row of H values (one
per hidden unit), and a pixel's loss changes are the sums of its rows (``np.add.reduceat``).

Each perturbed loss is (S0 + sum of the changed terms' changes) / N, rounded once to float64, with
S0 the sum of the base terms (as the base loss): the loss at the perturbed parameters up to its
last-place rounding, as in the textbook loop, whose quotients differ from these by about
ulp(L) / 2h.
"""

from __future__ import annotations

import math

import numpy as np

from scratch import layers as L

KINDS = ("ce", "ce-index", "ce-textbook")  # the per-sample loss kinds of ``fastgrad._Run``
MAX_ORDER = 12  # the longest series; beyond it S is summed over the classes with expm1


def applies(run, li: int) -> bool:
    """Whether layer ``li`` of the run's model takes this route: a float64 Dense on (N, D) inputs,
    followed only by element-wise or fixed-mask layers (and Flatten), then the model's last layer, a
    Dense, into a softmax cross-entropy evaluated per sample; or that last Dense itself."""
    layers = run.model.layers
    last = len(layers) - 1
    if not (run.per_sample and run.kind in KINDS and type(layers[li]) is L.Dense
            and type(layers[last]) is L.Dense and not any(j > li for j in run.mixing)):
        return False
    if run.acts[li].ndim != 2 or any(a.dtype != np.float64 for a in run.acts):
        return False
    return all(layers[j].elementwise or layers[j].has_randomness or type(layers[j]) is L.Flatten
               for j in range(li + 1, last))


class Hidden:
    """The base values that every perturbation of one hidden Dense layer ``li`` reads (module doc)."""

    def __init__(self, run, li: int) -> None:
        layers = run.model.layers
        self.run, self.li, self.last = run, li, len(layers) - 1
        self.pre = run.acts[li + 1]  # (N, H) the Dense output
        self.z = run.acts[self.last]  # (N, H) the last Dense's input
        y = run.acts[-1]  # (N, K) logits
        W2 = layers[self.last].params["W"]  # (H, K)
        e = np.exp(y - y.max(axis=1, keepdims=True))
        self.p = e / e.sum(axis=1, keepdims=True)  # (N, K) base softmax
        self.W2 = W2
        self.w2max = float(np.abs(W2).max())
        self.moments: list[np.ndarray] = []  # M_1, M_2, ... (N, H), made as needed
        n = len(y)
        t = run.targets
        if run.kind == "ce":  # probability rows (N, K): term = sum(t) lse - t . z
            self.tw, self.tsum = t @ W2.T, t.sum(axis=1)  # (N, H), (N,)
        else:  # class indices (N,)
            self.tw, self.tsum = W2.T[t], np.ones(n)
        if run.kind == "ce-textbook":  # term = -log(p_c + 1e-7)
            self.pc = self.p[np.arange(n), t]
            self.q = self.pc / (self.pc + 1e-7)
        self.twmax = float(np.abs(self.tw).max())
        terms0 = run.terms0.reshape(1, -1)
        self.s0, self.n = terms0.sum(axis=1)[0], n  # the base loss is s0 / n (``_reduce_terms``)
        self.f0 = self.s0 / n
        self.tol = np.finfo(np.float64).eps / 64 * max(abs(self.f0), 2.0 ** -30)

    def coefficient(self, r: int) -> np.ndarray:
        """M_r / r! (N, H), M_r[n, j] = sum_k p[n, k] W2[j, k]^r."""
        while len(self.moments) < r:
            k = len(self.moments) + 1
            self.moments.append(self.p @ (self.W2 ** k).T / math.factorial(k))
        return self.moments[r - 1]

    def order(self, umax: float) -> int:
        """Terms of the series in delta W2 whose remainder is below ``tol``; 0: sum over the classes."""
        for m in range(1, MAX_ORDER + 1):
            if umax ** (m + 1) / math.factorial(m + 1) * math.exp(umax) <= self.tol:
                return m
        return 0

    def term_changes(self, delta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The change of the loss term of sample rows[r] when hidden unit j moves by delta[..., r, j]
        (..., R, H): the leading axes (+h and -h) share the rows.

        With |delta W2| <= umax small, S, log1p(S) and expm1(u_c) are their series (each cut below
        ``tol``; |S| <= expm1(umax) since p sums to 1), else NumPy's functions on the sum over classes.
        """
        dmax = float(np.abs(delta).max())
        m = self.order(dmax * self.w2max)
        if m:  # S = delta (M1 + delta (M2/2 + delta (M3/6 + ...)))
            s = delta * self.coefficient(m)[rows]
            for r in range(m - 1, 0, -1):
                s += self.coefficient(r)[rows]
                s *= delta
            smax = math.expm1(dmax * self.w2max)
        else:
            u = np.expm1(delta[..., None] * self.W2)  # (..., R, H, K)
            s, smax = np.einsum("...rjk,rk->...rj", u, self.p[rows]), math.inf
        uc = delta * self.tw[rows]
        if self.run.kind == "ce-textbook":  # -log((p'_c + a) / (p_c + a)), p'_c = p_c (1 + expm1(u_c)) / (1 + S)
            ec = _series(uc, [1 / math.factorial(r) for r in range(1, m + 1)]) if m else np.expm1(uc)
            ec -= s
            ec *= self.q[rows][:, None]  # q = p_c / (p_c + a) <= 1
            s += 1
            ec /= s
            return -self._log1p(ec, (math.expm1(dmax * self.twmax) + smax) / (1 - smax) if smax < 1 else math.inf)
        out = self._log1p(s, smax)
        if self.run.kind == "ce":
            out *= self.tsum[rows][:, None]
        out -= uc
        return out

    def _log1p(self, s: np.ndarray, smax: float) -> np.ndarray:
        """log1p(s), |s| <= smax: its series s - s^2/2 + s^3/3 ... where MAX_ORDER terms reach ``tol``
        (the remainder after m terms is at most smax^(m+1) / ((m+1) (1 - smax)))."""
        if smax < 0.5:
            for m in range(1, MAX_ORDER + 1):
                if smax ** (m + 1) / ((m + 1) * (1 - smax)) <= self.tol:
                    return _series(s, [(-1) ** (k + 1) / k for k in range(1, m + 1)])
        return np.log1p(s)

    def activate(self, a: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The per-unit layers between the Dense and the last Dense on pre-activations a (..., R, H)
        of samples ``rows``, minus their base output: delta (..., R, H). The layers' own arithmetic
        (``_forward``, without the input checks: a non-finite value shows in the loss, which is checked)."""
        run, shape = self.run, a.shape
        for j in range(self.li + 1, self.last):
            layer = run.model.layers[j]
            if layer.elementwise:
                with np.errstate(over="ignore", invalid="ignore"):
                    a = layer._forward(a.reshape(-1, shape[-1]), training=run.training).reshape(shape)
            elif layer.has_randomness:
                a = a * run.factors[j][rows]
        a -= self.z[rows]
        return a


def _series(u: np.ndarray, c: list[float]) -> np.ndarray:
    """sum_r c[r-1] u^r (r = 1 .. len(c)) by Horner's rule: u (c1 + u (c2 + ... + u cm))."""
    out = u * c[-1]
    for ck in reversed(c[:-1]):
        out += ck
        out *= u
    return out


def gradient(run, li: int, pname: str, h: float, method: str, max_bytes: int, progress) -> np.ndarray:
    """The flat gradient (float64) of ``pname`` ("W" or "b") of Dense ``li`` (module doc).

    ``progress(k)`` is called after each chunk with the entries of ``pname`` finished so far.
    """
    hid = Hidden(run, li)
    if li == hid.last:
        return _last_gradient(hid, pname, h, method, max_bytes, progress)
    layer = run.model.layers[li]
    p = layer.params[pname]
    units = layer.units
    x = run.acts[li]  # (N, D)
    if pname == "b":  # one "pixel" that every sample has, with value 1
        pix, sample, value = np.zeros(hid.n, int), np.arange(hid.n), None
        wrows = p.reshape(1, units)
        pixels = np.zeros(1, int)
    else:
        pix, sample = np.nonzero(x.T)  # pairs sorted pixel by pixel
        value = x[sample, pix]
        wrows = p
        pixels = np.unique(pix)
    grad = np.zeros((len(wrows), units))
    if not len(pix):
        return grad.reshape(-1)
    starts = np.searchsorted(pix, pixels)  # first pair of each used pixel
    ends = np.append(starts[1:], len(pix))
    per_chunk = max(1, max_bytes // (64 * units))  # pairs per chunk (~8 live (pairs, H) float64 arrays)
    lo = 0
    while lo < len(pixels):
        hi = lo + 1  # whole pixels, at least one
        while hi < len(pixels) and ends[hi] - starts[lo] <= per_chunk:
            hi += 1
        first, b = starts[lo], ends[hi - 1]
        block, rows = pixels[lo:hi], sample[first:b]
        local = np.repeat(np.arange(hi - lo), ends[lo:hi] - starts[lo:hi])  # pair -> pixel of the block
        w = wrows[block]  # (B, H)
        steps = [(w + h) - w] + ([(w - h) - w] if method == "central" else [])  # fl(w +- h) - w, as the loop
        a = np.stack(steps)[:, local]  # (S, R, H): S = 2 (+h, -h) or 1, rows of pairs first .. b - 1
        if value is not None:
            a *= value[first:b, None]
        a += hid.pre[rows]  # the Dense output moved by x[n, i] * d
        changes = hid.term_changes(hid.activate(a, rows), rows)  # (S, R, H)
        f = (hid.s0 + np.add.reduceat(changes, starts[lo:hi] - first, axis=1)) / hid.n  # (S, B, H)
        if not np.isfinite(f).all():
            raise ValueError(f"loss: returned a non-finite value with {run.model.names[li]}.{pname} perturbed")
        grad[block] = (f[0] - f[1]) / (2 * h) if method == "central" else (f[0] - hid.f0) / h
        progress(int(pixels[hi - 1] + 1) * units)  # entries up to the last pixel done (the others: 0)
        lo = hi
    return grad.reshape(-1)


def _last_gradient(hid: Hidden, pname: str, h: float, method: str, max_bytes: int, progress) -> np.ndarray:
    """The last Dense: moving W[i, k] by d moves logit k of sample n by u = x[n, i] * d (by d for
    b[k]), and the loss term by log1p(p_k expm1(u)) - t_k u (the textbook's: see ``term_changes``)."""
    run = hid.run
    layer = run.model.layers[hid.last]
    p = layer.params[pname]
    wrows = p.reshape(-1, layer.units)  # (I, K); b: (1, K)
    xin = run.acts[hid.last].T if pname == "W" else np.ones((1, hid.n))  # (I, N)
    k = layer.units
    onehot = np.eye(k)[run.targets] if run.kind != "ce" else run.targets  # (N, K)
    grad = np.zeros(wrows.shape)
    per_chunk = max(1, max_bytes // (64 * hid.n * k))  # input units per chunk (~8 live (B, N, K) arrays)
    for lo in range(0, len(wrows), per_chunk):
        w = wrows[lo:lo + per_chunk]  # (B, K)
        steps = [(w + h) - w] + ([(w - h) - w] if method == "central" else [])  # fl(w +- h) - w, as the loop
        f = []
        for d in steps:
            u = xin[lo:lo + per_chunk, :, None] * d[:, None, :]  # (B, N, K)
            e = np.expm1(u)
            s = hid.p * e  # S of the module doc: only class k moves
            if run.kind == "ce-textbook":
                pc = hid.pc[:, None]
                change = -np.log1p(pc * (onehot * e - s) / ((1 + s) * (pc + 1e-7)))
            else:
                change = np.log1p(s)
                change *= hid.tsum[:, None]
                change -= onehot * u
            f.append((hid.s0 + change.sum(axis=1)) / hid.n)  # (B, K)
        if not np.isfinite(f[0]).all() or not np.isfinite(f[-1]).all():
            raise ValueError(f"loss: returned a non-finite value with {run.model.names[hid.last]}.{pname} perturbed")
        grad[lo:lo + per_chunk] = (f[0] - f[1]) / (2 * h) if method == "central" else (f[0] - hid.f0) / h
        progress(min(lo + per_chunk, len(wrows)) * k)
    return grad.reshape(-1)
