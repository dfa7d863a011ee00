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
