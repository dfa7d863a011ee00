"""Every layout change between scratch, Keras and PyTorch, in one place.

scratch: dense W (in, out); conv W (F, C, KH, KW) = OIHW; images NCHW; Flatten order (c, h, w).
Keras:   dense kernel (in, out); conv kernel (KH, KW, C, F) = HWIO; images NHWC; Flatten (h, w, c).
PyTorch: Linear weight (out, in); conv weight OIHW; images NCHW; flatten (c, h, w).

All functions are pure transpositions/reshapes (exact: they move numbers, never round them).
"""

from __future__ import annotations

import numpy as np


def dense_to_torch(W: np.ndarray) -> np.ndarray:
    """scratch/Keras (in, out) -> PyTorch (out, in)."""
    return np.ascontiguousarray(W.T)


def dense_from_torch(w: np.ndarray) -> np.ndarray:
    """PyTorch (out, in) -> scratch/Keras (in, out)."""
    return np.ascontiguousarray(w.T)


def conv_to_keras(W: np.ndarray) -> np.ndarray:
    """OIHW (F, C, KH, KW) -> HWIO (KH, KW, C, F)."""
    return np.ascontiguousarray(W.transpose(2, 3, 1, 0))


def conv_from_keras(K: np.ndarray) -> np.ndarray:
    """HWIO (KH, KW, C, F) -> OIHW (F, C, KH, KW)."""
    return np.ascontiguousarray(K.transpose(3, 2, 0, 1))


def nchw_to_nhwc(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, H, W, C); arrays of other ranks pass through."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if x.ndim == 4 else x


def nhwc_to_nchw(x: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> (N, C, H, W); arrays of other ranks pass through."""
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if x.ndim == 4 else x


def flat_hwc_to_chw(f: np.ndarray, chw: tuple[int, int, int]) -> np.ndarray:
    """Flattened features in Keras (h, w, c) order -> scratch/PyTorch (c, h, w) order."""
    c, h, w = chw
    return np.ascontiguousarray(f.reshape(-1, h, w, c).transpose(0, 3, 1, 2).reshape(f.shape[0], -1))


def flat_chw_to_hwc(f: np.ndarray, chw: tuple[int, int, int]) -> np.ndarray:
    """Flattened features in (c, h, w) order -> Keras (h, w, c) order."""
    c, h, w = chw
    return np.ascontiguousarray(f.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(f.shape[0], -1))


def dense_rows_chw_to_hwc(W: np.ndarray, chw: tuple[int, int, int]) -> np.ndarray:
    """Permute the rows of a Dense kernel that follows a (c, h, w) Flatten so that it gives the
    same outputs after a Keras (h, w, c) Flatten: W (C*H*W, O) -> (H*W*C, O)."""
    c, h, w = chw
    return np.ascontiguousarray(W.reshape(c, h, w, -1).transpose(1, 2, 0, 3).reshape(c * h * w, -1))


def dense_rows_hwc_to_chw(K: np.ndarray, chw: tuple[int, int, int]) -> np.ndarray:
    """Inverse of ``dense_rows_chw_to_hwc``: a Keras kernel after an (h, w, c) Flatten -> scratch W."""
    c, h, w = chw
    return np.ascontiguousarray(K.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(c * h * w, -1))


# -- recurrent layers ---------------------------------------------------------------------------
# scratch/Keras: kernel W (F, k*u), recurrent kernel U (u, k*u), gates side by side in Keras's order
# (LSTM i, f, c, o; GRU z, r, h); bias (k*u,), or (2, 3u) for a GRU with reset_after=True (row 0
# input, row 1 recurrent). PyTorch: weight_ih (k*u, F), weight_hh (k*u, u), bias_ih and bias_hh
# (k*u,), gates in PyTorch's order (LSTM i, f, g, o: Keras's; GRU r, z, n: Keras's z and r swapped).
#: For each recurrent layer, the Keras gate block at each PyTorch position.
GATES_FROM_KERAS = {"SimpleRNN": (0,), "LSTM": (0, 1, 2, 3), "GRU": (1, 0, 2)}


def _reorder(a: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    """Gate blocks along the last axis of ``a`` (..., k*u) taken in ``order``."""
    blocks = np.split(a, len(order), axis=-1)
    return np.concatenate([blocks[i] for i in order], axis=-1)


def _inverse(order: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(order))


def rnn_kernel_to_torch(K: np.ndarray, kind: str) -> np.ndarray:
    """Keras kernel or recurrent kernel (rows, k*u) -> PyTorch weight_ih / weight_hh (k*u, rows)."""
    return np.ascontiguousarray(_reorder(K, GATES_FROM_KERAS[kind]).T)


def rnn_kernel_from_torch(w: np.ndarray, kind: str) -> np.ndarray:
    """PyTorch weight_ih / weight_hh (k*u, rows) -> Keras kernel (rows, k*u)."""
    return np.ascontiguousarray(_reorder(w.T, _inverse(GATES_FROM_KERAS[kind])))


def rnn_bias_to_torch(b: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Keras bias -> PyTorch (bias_ih, bias_hh). A one-row bias (SimpleRNN, LSTM, where only the sum
    bias_ih + bias_hh enters) goes whole into bias_ih, with bias_hh = 0; a GRU's (2, 3u) rows go one
    to each (they enter differently: the recurrent row is inside r * (...))."""
    order = GATES_FROM_KERAS[kind]
    if b.ndim == 2:
        return _reorder(b[0], order).copy(), _reorder(b[1], order).copy()
    return _reorder(b, order).copy(), np.zeros_like(b)


def rnn_bias_from_torch(b_ih: np.ndarray, b_hh: np.ndarray | None, kind: str) -> np.ndarray:
    """PyTorch (bias_ih, bias_hh) -> a Keras bias: the rows stacked (GRU with reset_after) or, with
    ``b_hh`` None, bias_ih alone (the gradient of a one-row bias, which equals each of the two)."""
    inverse = _inverse(GATES_FROM_KERAS[kind])
    if b_hh is None:
        return _reorder(b_ih, inverse).copy()
    return np.stack([_reorder(b_ih, inverse), _reorder(b_hh, inverse)])


# -- multi-head attention -----------------------------------------------------------------------
# scratch/Keras: query/key/value kernels (d, H, dk), biases (H, dk), output kernel (H, dv, d).
# PyTorch nn.MultiheadAttention: in_proj_weight (3d, d) = [Wq; Wk; Wv], each (H*dk, d) with row
# h*dk + j for head h, feature j; in_proj_bias (3d,); out_proj.weight (d, H*dv).
def mha_in_proj(Wq, Wk, Wv, bq, bk, bv) -> tuple[np.ndarray, np.ndarray]:
    """Keras per-head kernels and biases -> PyTorch (in_proj_weight (3d, d), in_proj_bias (3d,))."""
    w = np.concatenate([W.reshape(W.shape[0], -1).T for W in (Wq, Wk, Wv)])  # (d, H, dk) -> (H*dk, d)
    return np.ascontiguousarray(w), np.concatenate([b.reshape(-1) for b in (bq, bk, bv)])


def mha_in_proj_block(a: np.ndarray, j: int, heads: int, which: str) -> np.ndarray:
    """Block j (0 query, 1 key, 2 value) of in_proj_weight / in_proj_bias in Keras's layout."""
    block = np.split(a, 3, axis=0)[j]
    if which == "b":
        return block.reshape(heads, -1).copy()  # (H*dk,) -> (H, dk)
    return np.ascontiguousarray(block.T.reshape(block.shape[1], heads, -1))  # (H*dk, d) -> (d, H, dk)


def mha_out_to_torch(Wo: np.ndarray) -> np.ndarray:
    """Keras output kernel (H, dv, d) -> out_proj.weight (d, H*dv)."""
    return np.ascontiguousarray(Wo.reshape(-1, Wo.shape[2]).T)


def mha_out_from_torch(w: np.ndarray, heads: int) -> np.ndarray:
    """out_proj.weight (d, H*dv) -> Keras output kernel (H, dv, d)."""
    return np.ascontiguousarray(w.T.reshape(heads, -1, w.shape[0]))


# -- channels-first <-> channels-last for any rank (GroupNorm on (N, C, ...)) -------------------------
def channels_first_to_last(x: np.ndarray) -> np.ndarray:
    """(N, C, d1, ..., dk) -> (N, d1, ..., dk, C) for k >= 1; (N, C) passes through."""
    return np.ascontiguousarray(np.moveaxis(x, 1, -1)) if x.ndim >= 3 else x


def channels_last_to_first(x: np.ndarray) -> np.ndarray:
    """(N, d1, ..., dk, C) -> (N, C, d1, ..., dk) for k >= 1; (N, C) passes through."""
    return np.ascontiguousarray(np.moveaxis(x, -1, 1)) if x.ndim >= 3 else x


# -- LayerNorm: normalised axes anywhere (scratch, Keras) vs trailing axes only (PyTorch) ------------
def axes_to_end_permutation(ndim: int, axes: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(perm, inverse): ``x.transpose(perm)`` puts ``axes`` (non-negative, in the order given) last,
    the other axes first in their order; ``.transpose(inverse)`` undoes it."""
    perm = tuple(a for a in range(ndim) if a not in axes) + tuple(axes)
    return perm, tuple(int(i) for i in np.argsort(perm))


def params_to_sorted_axes(p: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """A LayerNorm gamma/beta laid out in the order of ``axes`` -> the order of the sorted axes (Keras
    sorts its ``axis`` list and shapes gamma by the sorted axes)."""
    return np.ascontiguousarray(p.transpose(np.argsort(axes)))


def params_from_sorted_axes(p: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Inverse of ``params_to_sorted_axes``."""
    return np.ascontiguousarray(p.transpose(np.argsort(np.argsort(axes))))


# Embedding tables need no layout change: Keras ``embeddings`` and PyTorch ``weight`` are both
# (num_embeddings, dim), row i the vector of id i, like scratch's W.


# -- convolution variants -------------------------------------------------------------------------
# Conv1D: scratch / PyTorch (F, C/G, K) on (N, C, L); Keras (K, C/G, F) on (N, L, C).
# Grouped Conv2D: scratch / PyTorch (F, C/G, KH, KW); Keras (KH, KW, C/G, F): conv_to_keras as is.
# DepthwiseConv2D: scratch / PyTorch (C*M, 1, KH, KW), output c*M + m; Keras (KH, KW, C, M), same order.
# Conv2DTranspose: scratch / PyTorch (C, F/G, KH, KW) (in, out/groups); Keras (KH, KW, F, C) (out, in).
def conv1d_to_keras(W: np.ndarray) -> np.ndarray:
    """(F, C/G, K) -> (K, C/G, F)."""
    return np.ascontiguousarray(W.transpose(2, 1, 0))


def conv1d_from_keras(K: np.ndarray) -> np.ndarray:
    """(K, C/G, F) -> (F, C/G, K)."""
    return np.ascontiguousarray(K.transpose(2, 1, 0))


def ncl_to_nlc(x: np.ndarray) -> np.ndarray:
    """(N, C, L) -> (N, L, C); arrays of other ranks pass through."""
    return np.ascontiguousarray(x.transpose(0, 2, 1)) if x.ndim == 3 else x


def nlc_to_ncl(x: np.ndarray) -> np.ndarray:
    """(N, L, C) -> (N, C, L); arrays of other ranks pass through."""
    return np.ascontiguousarray(x.transpose(0, 2, 1)) if x.ndim == 3 else x


def depthwise_to_keras(W: np.ndarray, multiplier: int) -> np.ndarray:
    """(C*M, 1, KH, KW) -> (KH, KW, C, M): output channel c*M + m is Keras's [:, :, c, m]."""
    cm, _, kh, kw = W.shape
    return np.ascontiguousarray(W.reshape(cm // multiplier, multiplier, kh, kw).transpose(2, 3, 0, 1))


def depthwise_from_keras(K: np.ndarray) -> np.ndarray:
    """(KH, KW, C, M) -> (C*M, 1, KH, KW)."""
    kh, kw, c, m = K.shape
    return np.ascontiguousarray(K.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw))


def conv_transpose_to_keras(W: np.ndarray) -> np.ndarray:
    """(C, F, KH, KW) (in, out) -> (KH, KW, F, C) (out, in): the same axis move as ``conv_to_keras``."""
    return np.ascontiguousarray(W.transpose(2, 3, 1, 0))


def conv_transpose_from_keras(K: np.ndarray) -> np.ndarray:
    """(KH, KW, F, C) -> (C, F, KH, KW)."""
    return np.ascontiguousarray(K.transpose(3, 2, 0, 1))
