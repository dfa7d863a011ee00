"""The book's BatchNormalization, Convolution and Pooling (exported by ``scratch.textbook.layers``)."""

from __future__ import annotations

import numpy as np

from scratch import layers as L
from scratch.layers import im2col as ic
from scratch.textbook._common import Stateless, as_float_array, core_dtype

#: The book's BatchNormalization epsilon, written 10e-7 in its code (= 1e-6).
BN_EPS = 1e-6


def _vector(value, name: str, dtype: np.dtype, size: int) -> np.ndarray:
    arr = as_float_array(value, name, dtype=dtype)
    if arr.shape != (size,):
        raise ValueError(f"{name}: expected shape ({size},), got {arr.shape}")
    return arr


class BatchNormalization:
    """The textbook's batch normalization (``scratch.layers.BatchNorm`` with ``stats="activation"``,
    momentum on the running value, eps 1e-6, the biased variance, running statistics from zero).

    Algorithm (x of shape (N, D), or (N, C, H, W) flattened to (N, C*H*W): one mean and variance per
    activation over the batch)::

        train: mu = mean(x), xc = x - mu, var = mean(xc^2), std = sqrt(var + 1e-6), xn = xc / std
               running_mean = momentum * running_mean + (1 - momentum) * mu      (running_var alike)
        test:  xn = (x - running_mean) / sqrt(running_var + 1e-6)
        out  = gamma * xn + beta

    The running statistics are bit for bit the book's; outputs and gradients agree to rounding (the
    core multiplies by 1 / std and uses the compact form of the backward).

    Args:
        gamma, beta: (D,) scale and shift, held (not copied).
        momentum: weight of the running value (default 0.9).
        running_mean, running_var: (D,) initial running statistics (default None: zeros, made at
            the first forward as the book does).

    Attributes:
        input_shape, batch_size: of the last forward; xc, std, xn: the last training forward's
        centred input, standard deviation and normalised input (computed when read);
        dgamma, dbeta: gradients of the last backward; core: the ``scratch.layers.BatchNorm``.
    """

    def __init__(self, gamma: np.ndarray, beta: np.ndarray, momentum: float = 0.9,
                 running_mean: np.ndarray | None = None, running_var: np.ndarray | None = None) -> None:
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.input_shape: tuple[int, ...] | None = None
        self.running_mean = running_mean
        self.running_var = running_var
        self.batch_size: int | None = None
        self.dgamma: np.ndarray | None = None
        self.dbeta: np.ndarray | None = None
        self.core: L.BatchNorm | None = None
        self._x2: np.ndarray | None = None
        as_float_array(gamma, "gamma", ndim=1)  # checked now; the rest at the first forward

    def core_for(self, dtype=None) -> L.BatchNorm:
        """Hand gamma, beta and the running statistics (the same objects) to the core layer, rebuilt
        if their size, dtype or the momentum changed; ``dtype`` must be gamma's when given."""
        gamma = as_float_array(self.gamma, "gamma", ndim=1)
        dt = core_dtype(gamma.dtype, "gamma")
        if dtype is not None and np.dtype(dtype) != dt:
            raise ValueError(f"dtype: the layer computes in gamma's dtype {dt.name}, got {np.dtype(dtype).name}")
        d = gamma.shape[0]
        beta = _vector(self.beta, "beta", dt, d)
        if self.running_mean is None:
            self.running_mean = np.zeros(d, dtype=dt)
        if self.running_var is None:
            self.running_var = np.zeros(d, dtype=dt)
        rm = _vector(self.running_mean, "running_mean", dt, d)
        rv = _vector(self.running_var, "running_var", dt, d)
        core = self.core
        if core is None or core.dtype != dt or core.num_features != d or core.momentum != self.momentum:
            core = self.core = L.BatchNorm(d, momentum=self.momentum, momentum_of="running", eps=BN_EPS,
                                           running_var="biased", stats="activation", running_mean_init=0.0,
                                           running_var_init=0.0, gamma=gamma, beta=beta, dtype=dt)
        core.params["gamma"], core.params["beta"] = gamma, beta
        core.buffers["running_mean"], core.buffers["running_var"] = rm, rv
        return core

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        """(N, D) or (N, C, H, W) with C*H*W = D -> same shape; a training forward (``train_flg``)
        also updates running_mean and running_var (new arrays, as the book assigns them)."""
        core = self.core_for()
        x = as_float_array(x, "x", dtype=core.dtype)
        if x.ndim not in (2, 4):
            raise ValueError(f"x: expected (N, D) or (N, C, H, W), got shape {x.shape}")
        self.input_shape = x.shape
        out = core.forward(x, training=bool(train_flg))
        self.running_mean, self.running_var = core.buffers["running_mean"], core.buffers["running_var"]
        if train_flg:
            self.batch_size = x.shape[0]
            self._x2 = x.reshape(x.shape[0], -1)  # (N, C, H, W) -> (N, C*H*W)
        return out

    @property
    def xc(self) -> np.ndarray | None:
        """x - mu of the last training forward, (N, D)."""
        return None if self._x2 is None else self._x2 - self.core.batch_stats[0]

    @property
    def std(self) -> np.ndarray | None:
        """sqrt(var + 1e-6) of the last training forward, (D,)."""
        return None if self._x2 is None else np.sqrt(self.core.batch_stats[1] + self.core.dtype.type(BN_EPS))

    @property
    def xn(self) -> np.ndarray | None:
        """The normalised input of the last forward, (N, D)."""
        return None if self.core is None or not hasattr(self.core, "_cache") else self.core._cache[0]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Set dgamma, dbeta; return dx of the input's shape."""
        if self.core is None:
            raise RuntimeError("BatchNormalization.backward called before forward")
        dx = self.core.backward(as_float_array(dout, "dout", dtype=self.core.dtype))
        self.dgamma, self.dbeta = self.core.grads["gamma"], self.core.grads["beta"]
        return dx


class Convolution:
    """The book's convolution: 2-D cross-correlation, W (FN, C, FH, FW), b (FN,) (``scratch.layers.Conv2D``).

    Forward:  out[n, f, oh, ow] = sum_{c,i,j} xp[n, c, stride*oh + i, stride*ow + j] * W[f, c, i, j] + b[f]
              xp = x zero-padded by pad,  OH = (H + 2*pad - FH) // stride + 1  (floored)
    Backward: db = sum of dout2, dW = (col.T @ dout2).T, dx = col2im(dout2 @ W2)
              col = im2col(x), dout2 = dout as (N*OH*OW, FN), W2 = W.reshape(FN, -1)

    Like the book, rows and columns that do not fill a window are silently dropped (the size is
    floored). The products are summed in another order than the book's (agreement to rounding,
    about 1e-16 relative).

    Args:
        W: (FN, C, FH, FW) filters, held (not copied); b: (FN,) bias, held.
        stride: step of the window (default 1); pad: zeros added on every side (default 0).

    Attributes:
        x: the last input; col: it as the book's im2col matrix (N*OH*OW, C*FH*FW) and col_W the
        filters as a (C*FH*FW, FN) matrix (both computed when read); dW, db: gradients of the
        last backward; core: the ``scratch.layers.Conv2D`` doing the arithmetic.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> None:
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.x: np.ndarray | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None
        self.core: L.Conv2D | None = None
        self.core_for()

    def core_for(self, dtype=None) -> L.Conv2D:
        """Hand W and b (the same objects) to the core layer, rebuilt if their shape or dtype, the
        stride or the padding changed; ``dtype`` must be W's when given."""
        W = as_float_array(self.W, "W", ndim=4)
        dt = core_dtype(W.dtype, "W")
        if dtype is not None and np.dtype(dtype) != dt:
            raise ValueError(f"dtype: the layer computes in W's dtype {dt.name}, got {np.dtype(dtype).name}")
        b = _vector(self.b, "b", dt, W.shape[0])
        key = (dt, W.shape, self.stride, self.pad)
        if self.core is None or self._key != key:
            self.core = L.Conv2D(W.shape[1], W.shape[0], W.shape[2:], stride=self.stride, padding=self.pad,
                                 truncate=True, W=W, b=b, dtype=dt)
            self._key = key
        self.core.params["W"], self.core.params["b"] = W, b
        return self.core

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(N, C, H, W) -> (N, FN, OH, OW)."""
        core = self.core_for()
        x = as_float_array(x, "x", dtype=core.dtype)
        out = core.forward(x, training=True)
        self.x = x
        return out

    @property
    def col(self) -> np.ndarray | None:
        if self.x is None:
            return None
        from scratch.textbook.util import im2col

        fh, fw = self.W.shape[2:]
        return im2col(self.x, fh, fw, self.stride, self.pad)

    @property
    def col_W(self) -> np.ndarray:
        return self.W.reshape(self.W.shape[0], -1).T  # (FN, C, FH, FW) -> (C*FH*FW, FN), a view

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Set dW, db; return dx (N, C, H, W)."""
        if self.x is None:
            raise RuntimeError("Convolution.backward called before forward")
        dx = self.core.backward(as_float_array(dout, "dout", dtype=self.core.dtype))
        self.dW, self.db = self.core.grads["W"], self.core.grads["b"]
        return dx


class Pooling(Stateless):
    """The book's max pooling over pool_h x pool_w windows (``scratch.layers.MaxPool2D``).

    Forward:  out[n, c, oh, ow] = max of x[n, c, s*oh : s*oh + pool_h, s*ow : s*ow + pool_w]
              OH = (H - pool_h) // stride + 1  (floored)
    Backward: dx = dout at the first maximum of each window (row-major, as np.argmax), else 0

    Like the book, rows and columns that do not fill a window are silently dropped. Bit for bit the
    book's, forward and backward.

    Padding: the book sizes its output without the padding but pads inside ``im2col`` (with zeros,
    so a padded cell can win the max), which only fits together when the padding adds no window;
    any other pad is a ValueError here (the book fails with a reshape error), as is a pad of at
    least the window size (a window of padding only).

    Args:
        pool_h, pool_w: window size; stride: window step (default 2); pad: zeros on every side
            (default 0).

    Attributes:
        x: the last input; arg_max: index in its window (row-major) of each output's maximum, in
        the book's order (n, oh, ow, c), computed when read; core: the ``scratch.layers.MaxPool2D``.
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 2, pad: int = 0) -> None:
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.x: np.ndarray | None = None
        self.core: L.MaxPool2D | None = None
        self.core_for(np.float64)  # checks the arguments now

    def _make_core(self, dtype):
        if not isinstance(self.pad, (int, np.integer)) or self.pad < 0:
            raise ValueError(f"pad: expected an int >= 0, got {self.pad!r}")
        core = L.MaxPool2D((self.pool_h, self.pool_w), stride=self.stride, padding=int(self.pad), truncate=True,
                           dtype=dtype)
        core._pad_value = 0.0  # the book's im2col pads with zeros
        self._key = (dtype, self.pool_h, self.pool_w, self.stride, self.pad)
        return core

    def _check_pad(self, shape: tuple[int, ...]) -> None:
        p, s = int(self.pad), int(self.stride)
        for axis, size, k in (("height", shape[2], self.pool_h), ("width", shape[3], self.pool_w)):
            book, padded = (size - k) // s + 1, (size + 2 * p - k) // s + 1
            if p >= k or book != padded:
                raise ValueError(
                    f"pad: the book's Pooling sizes its output without the padding ((({size} - {k}) // {s} + 1 = "
                    f"{book} along the {axis}) but pads the windows; pad={p} gives {padded} windows"
                    + (" and windows of padding only" if p >= k else "")
                    + "; expected a pad that adds no window (usually pad=0)")

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(N, C, H, W) -> (N, C, OH, OW)."""
        x = as_float_array(x, "x", ndim=4)
        if self.pad:
            self._check_pad(x.shape)
        core = self.core_for(x.dtype)
        if self._key != (core.dtype, self.pool_h, self.pool_w, self.stride, self.pad):  # arguments reassigned
            core = self.core = self._make_core(core.dtype)
        out = core.forward(x, training=True)
        self.x = x
        return out

    @property
    def arg_max(self) -> np.ndarray | None:
        if self.x is None:
            return None
        core = self.core
        pads = core.pads_for(self.x.shape[2:])
        out_hw = ic.output_size(self.x.shape[2:], core.pool_size, core.stride, pads, truncate=True)
        win = ic.windows(ic.pad(self.x, pads), core.pool_size, core.stride, out_hw)  # (N, C, OH, OW, KH, KW)
        n, c, oh, ow, kh, kw = win.shape
        return win.transpose(0, 2, 3, 1, 4, 5).reshape(-1, kh * kw).argmax(axis=1)  # rows (n, oh, ow, c)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx (N, C, H, W): each dout entry at its window's first maximum (summed where windows overlap)."""
        return self._core_backward(dout)
