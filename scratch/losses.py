"""Losses: ``forward(y, t) -> 0-d array`` (batch mean unless stated) and ``backward(dout) -> dy``.

Labels ``t`` are either integer class indices of shape (N,) or one-hot / probability rows of
shape (N, K) (rows non-negative, summing to 1).

Predictions are float32 or float64 of shape (N, K) with N >= 1 and K >= 1: a mean over an empty
batch is 0/0, so an empty batch raises ValueError instead of returning NaN. A loss that overflows
(MSE of 1e308) raises ``NonFiniteError``. ``backward`` before any ``forward`` raises RuntimeError.
"""

from __future__ import annotations

import numpy as np

from scratch._checks import FLOAT_DTYPES, check_array, check_batch, check_choice, check_finite_result, check_shape

__all__ = ["CrossEntropy", "MeanSquaredError", "SoftmaxCrossEntropy", "SumSquaredError"]

#: The textbook's ``delta`` added inside the log, and Keras's ``keras.config.epsilon()`` clip value.
TEXTBOOK_DELTA = 1e-7
KERAS_EPSILON = 1e-7

#: Row sums of probabilities may differ from 1 by ``PROBABILITY_SUM_ULPS * K * eps(dtype)``: a
#: softmax row y_k = e_k / s carries one rounding per division and (K - 1) in the sum s, and summing
#: the K rounded y_k adds (K - 1) more, so |sum - 1| <= about 2 K eps; the factor 4 leaves room for
#: another library's summation order.
PROBABILITY_SUM_ULPS = 4


def _labels(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Validate labels against predictions (N, K) and return them as float rows (N, K) of y's dtype."""
    n, k = y.shape
    if not isinstance(t, np.ndarray):
        raise ValueError(f"t: expected a numpy.ndarray of labels, got {type(t).__name__}")
    if t.ndim == 1 and t.dtype.kind in "iu":
        check_shape(t, (n,), "t")
        if t.size and (t.min() < 0 or t.max() >= k):
            bad = t[(t < 0) | (t >= k)][0]
            raise ValueError(f"t: class labels must lie in [0, {k - 1}] for {k} classes, got {bad}")
        return np.eye(k, dtype=y.dtype)[t]
    if t.ndim == 2 and t.shape[1] == 1 and k != 1:
        raise ValueError(f"t: got shape {t.shape}; pass integer class labels as a 1-D array of shape ({n},) "
                         "(t.ravel() or t[:, 0]), or one-hot rows of shape "
                         f"({n}, {k})")
    if t.ndim == 2:
        check_array(t, "t", dtype=y.dtype)
        check_shape(t, (n, k), "t")
        if (t < 0).any() or not np.allclose(t.sum(axis=1), 1, rtol=0, atol=1e-6):
            raise ValueError("t: one-hot / probability rows must be non-negative and sum to 1")
        return t
    raise ValueError(
        f"t: expected integer labels of shape ({n},) or one-hot rows of shape ({n}, {k}) in {y.dtype.name}, "
        f"got {t.dtype.name} array of shape {t.shape}"
    )


class _Loss:
    """Shared checks: predictions are a finite float (N, K) array; backward needs a forward first."""

    _name = "y"  # the predictions argument of forward

    def _check(self, y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _check_predictions(y, self._name)
        return y, _labels(t, y)

    def _result(self, loss: np.ndarray) -> np.ndarray:
        return check_finite_result(np.asarray(loss), f"{type(self).__name__} loss",
                                   "the predictions are too large to square or sum")

    def _dout(self, dout) -> np.floating:
        if not hasattr(self, "_grad"):
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: call forward(y, t) first")
        dout = np.asarray(dout)
        if dout.shape != () or not np.isfinite(dout):
            raise ValueError(f"dout: expected a finite scalar, got {dout!r}")
        return dout.astype(self._grad.dtype)

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """dL/dy scaled by the upstream scalar ``dout``."""
        dout = self._dout(dout)
        return self._grad * dout


def _check_predictions(y: np.ndarray, name: str) -> None:
    """A finite float32/float64 (N, K) array with N >= 1 and K >= 1."""
    check_array(y, name, ndim=2)
    if y.dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name}: expected float32 or float64 predictions, got {y.dtype.name}; "
                         f"convert with {name}.astype('float32')")
    check_batch(y, name)
    if y.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one class (K >= 1), got shape {y.shape}")


class SoftmaxCrossEntropy(_Loss):
    """Softmax then cross-entropy on logits x, in two semantics.

    ``semantics="plain"`` (default)::

        L  = -(1/N) * sum_n sum_k t_nk * log_softmax(x)_nk
        dx = (softmax(x) - t) / N

    ``semantics="textbook"`` (the textbook's ``SoftmaxWithLoss``: ``cross_entropy_error(softmax(x), t)``
    forward, its own backward)::

        y  = softmax(x)                                     # x - max(x) per row, then exp / sum exp
        c  = t                      for integer labels t of shape (N,)
        c  = argmax(t, axis=1)      for t of y's shape (one-hot or soft rows)
        L  = -(1/N) * sum_n log(y[n, c_n] + delta)          delta = 1e-7
        dx = (y - t) / N * dout                             for t of y's shape
        dx = (y - onehot(c)) / N * dout                     for integer labels

    The textbook form caps each sample's loss at -log(1e-7) = 16.1 and enters soft labels into the
    loss as their argmax while the backward uses t itself; its dx is the gradient of the plain loss,
    not of its own (the delta is left out of the derivative: relative difference delta / y[n, c_n]).

    Framework notes: Keras ``CategoricalCrossentropy(from_logits=True)`` /
    ``SparseCategoricalCrossentropy(from_logits=True)``; PyTorch ``nn.CrossEntropyLoss`` (logits;
    class indices or probability targets). No epsilon anywhere: they equal the plain form, and the
    textbook form's dx for integer or one-hot labels; its loss is smaller by
    mean_n log(1 + delta / y[n, c_n]).

    Args:
        semantics: ``"plain"`` or ``"textbook"``.
    """

    _name = "x"

    def __init__(self, semantics: str = "plain") -> None:
        self.semantics = check_choice(semantics, "semantics", ("plain", "textbook"))

    def forward(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        if self.semantics == "textbook":
            return self._forward_textbook(x, t)
        x, t1 = self._check(x, t)
        z = x - x.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        n = x.shape[0]
        self._grad = (np.exp(log_p) - t1) / n
        return self._result(-(t1 * log_p).sum() / n)

    def _forward_textbook(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        _check_predictions(x, "x")
        rows = _textbook_targets(t, x)
        e = np.exp(x - x.max(axis=1, keepdims=True))
        y = e / e.sum(axis=1, keepdims=True)
        n = x.shape[0]
        if rows is not None:  # t of y's shape: argmax labels for the loss, t itself for the gradient
            labels = rows.argmax(axis=1)
            self._grad = (y - rows) / n
        else:
            labels = t
            g = y.copy()
            g[np.arange(n), labels] -= 1
            self._grad = g / n
        self.y = y
        return textbook_cross_entropy(y, labels)


def _textbook_targets(t: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """None for integer labels (N,) in range; t in y's dtype for an array of y's shape; else ValueError."""
    n, k = y.shape
    if isinstance(t, np.ndarray) and t.ndim == 1 and t.dtype.kind in "iu" and t.shape == (n,):
        if t.size and (t.min() < 0 or t.max() >= k):
            bad = t[(t < 0) | (t >= k)][0]
            raise ValueError(f"t: class labels must lie in [0, {k - 1}] for {k} classes, got {bad}")
        return None
    if isinstance(t, np.ndarray) and t.shape == (n, k) and t.dtype.kind in "iuf":
        check_array(t, "t")
        return t.astype(y.dtype, copy=False)
    what = f"{t.dtype.name} array of shape {t.shape}" if isinstance(t, np.ndarray) else type(t).__name__
    raise ValueError(f"t: expected integer labels of shape ({n},) or one-hot / probability rows of x's shape "
                     f"({n}, {k}), got {what}")


def textbook_cross_entropy(p: np.ndarray, labels: np.ndarray) -> np.floating:
    """The textbook's cross-entropy on probabilities at integer labels (no checks)::

        L = -(1/N) * sum_n log(p[n, labels_n] + delta),   delta = 1e-7

    Args:
        p: (N, K) probabilities.
        labels: (N,) integer class indices.
    """
    n = p.shape[0]
    return -np.sum(np.log(p[np.arange(n), labels] + p.dtype.type(TEXTBOOK_DELTA))) / n


class CrossEntropy(_Loss):
    """Cross-entropy on probabilities p (the output of a softmax), two semantics.

    ``semantics="textbook"`` (``cross_entropy_error``; PyTorch ``NLLLoss`` on ``log(p + 1e-7)``)::

        L = -(1/N) * sum t * log(p + delta),   dL/dp = -t / (p + delta) / N,   delta = 1e-7

    ``semantics="keras"`` with one-hot rows (``CategoricalCrossentropy(from_logits=False)``)::

        q = clip(p / sum(p), eps, 1 - eps),    L = -(1/N) * sum t * log q

    ``semantics="keras"`` with integer labels (``SparseCategoricalCrossentropy``): clip first, then
    renormalise through a log-softmax::

        c = clip(p, eps, 1 - eps),             L = -(1/N) * sum_n (log c_ny - log sum_j c_nj)

    The gradient follows the clip (zero where clipped, passed at the bounds) and the renormalisation.
    eps = ``keras.config.epsilon()`` = 1e-7.

    ``p`` must hold probabilities: entries in [0, 1] and rows summing to 1 within
    ``PROBABILITY_SUM_ULPS * K * eps(dtype)`` (the rounding of a softmax row); anything else
    raises ValueError (the textbook form would give NaN or a negative loss, Keras's a plausible
    number after renormalising). ``check_rows=False`` skips that check: both formulas are defined
    off the simplex too, which a numerical gradient (perturbing one entry at a time) needs.

    Args:
        semantics: ``"textbook"`` or ``"keras"``.
        check_rows: refuse ``p`` that is not a batch of probability rows (default True).
    """

    _name = "p"

    def __init__(self, semantics: str, *, check_rows: bool = True) -> None:
        self.semantics = check_choice(semantics, "semantics", ("textbook", "keras"))
        if not isinstance(check_rows, bool):
            raise ValueError(f"check_rows: expected True or False, got {check_rows!r}")
        self.check_rows = check_rows

    def forward(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        p, t1 = self._check(p, t)
        if self.check_rows:
            _check_probabilities(p)
        n = p.shape[0]
        if self.semantics == "textbook":
            q = p + p.dtype.type(TEXTBOOK_DELTA)
            self._grad = -t1 / q / n
            return self._result(-(t1 * np.log(q)).sum() / n)
        eps = p.dtype.type(KERAS_EPSILON)
        if t.ndim == 2:  # categorical: renormalise, then clip
            s = p.sum(axis=1, keepdims=True)
            q = p / s
            inside = (q >= eps) & (q <= 1 - eps)
            qc = np.clip(q, eps, 1 - eps)
            g = np.where(inside, -t1 / qc, 0)  # dL_n/dq
            self._grad = (g - (g * q).sum(axis=1, keepdims=True)) / s / n
            return self._result(-(t1 * np.log(qc)).sum() / n)
        # sparse: clip, then log-softmax of log(c)
        inside = (p >= eps) & (p <= 1 - eps)
        c = np.clip(p, eps, 1 - eps)
        sc = c.sum(axis=1, keepdims=True)
        dz = c / sc - t1  # dL_n/d(log c)
        self._grad = np.where(inside, dz / c, 0) / n
        return self._result(-(t1 * (np.log(c) - np.log(sc))).sum() / n)


def _check_probabilities(p: np.ndarray) -> None:
    """Entries in [0, 1] and rows summing to 1 within the rounding of a softmax row."""
    if (p < 0).any() or (p > 1).any():
        raise ValueError(f"p: expected probabilities in [0, 1], got values from {p.min()} to {p.max()}; "
                         "pass the softmax output, or use SoftmaxCrossEntropy on logits")
    tol = PROBABILITY_SUM_ULPS * p.shape[1] * np.finfo(p.dtype).eps
    dev = np.abs(p.sum(axis=1) - 1)
    if (dev > tol).any():
        row = int(dev.argmax())
        raise ValueError(f"p: expected rows summing to 1 (within {tol:.1e}), row {row} sums to "
                         f"{float(p[row].sum())!r}; normalise the rows or use SoftmaxCrossEntropy on logits")


class MeanSquaredError(_Loss):
    """L = mean over all elements of (y - t)^2; dy = 2 (y - t) / size.

    Keras ``MeanSquaredError()`` and PyTorch ``MSELoss(reduction="mean")`` (equal for (N, K)
    predictions). ``t`` must have y's shape and dtype.
    """

    def _check(self, y, t):
        _check_predictions(y, "y")
        check_array(t, "t", dtype=y.dtype)
        check_shape(t, y.shape, "t")
        return y, t

    def forward(self, y: np.ndarray, t: np.ndarray) -> np.ndarray:
        y, t = self._check(y, t)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow raises NonFiniteError below
            d = y - t
            self._grad = 2 * d / d.size
            loss = (d * d).sum() / d.size
        return self._result(loss)


class SumSquaredError(MeanSquaredError):
    """The textbook's ``sum_squared_error``: L = 0.5 * sum (y - t)^2 (a sum over the whole batch,
    not a mean); dy = y - t. Equals 0.5 * PyTorch ``MSELoss(reduction="sum")``."""

    def forward(self, y: np.ndarray, t: np.ndarray) -> np.ndarray:
        y, t = self._check(y, t)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow raises NonFiniteError below
            d = y - t
            self._grad = d
            loss = 0.5 * (d * d).sum()
        return self._result(loss)
