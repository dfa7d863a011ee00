"""Batch normalization with every framework convention as an explicit option."""

from __future__ import annotations

import math

import numpy as np

from scratch._checks import check_batch, check_choice, check_positive_int, check_probability, check_real
from scratch.layers.base import Layer


class BatchNorm(Layer):
    """Batch normalization (Ioffe & Szegedy 2015) for (N, D) and (N, C, H, W) inputs.

    Algorithm (training forward; statistics over the M values of each feature)::

        mu    = mean(x)                      var = mean((x - mu)^2)          # biased
        x_hat = (x - mu) / sqrt(var + eps)   y   = gamma * x_hat + beta
        s     = var * M / (M - 1)  if running_var == "unbiased" else var
        momentum_of == "running":  r <- momentum * r + (1 - momentum) * stat   # Keras, textbook
        momentum_of == "batch":    r <- (1 - momentum) * r + momentum * stat   # PyTorch

    mu and var are accumulated in float64 whatever the layer dtype (PyTorch accumulates float32
    statistics in a wider type too): in float32 a sum of M values near a large shift loses the
    low-order digits that a low-variance feature consists of, and x - mu is then off by the
    rounding of mu. x_hat is formed in float64 and rounded once to the layer dtype; the running
    statistics, y, dx and the parameter gradients stay in the layer dtype (dgamma and dbeta summed
    in float64). float64 layers compute exactly what they computed before.

    Evaluation uses ``running_mean`` / ``running_var`` in place of mu / var. Backward (training)::

        dx = (gamma / sqrt(var + eps)) / M * (M*dy - sum(dy) - x_hat * sum(dy * x_hat))

    Statistics axes: ``stats="channel"`` normalises (N, C, H, W) per channel over (N, H, W)
    (Keras, PyTorch); ``stats="activation"`` flattens to (N, C*H*W) and normalises each
    activation over N (the textbook's ``BatchNormalization`` on conv outputs). On (N, D) input both
    mean per feature.

    Framework notes: Keras ``BatchNormalization(momentum=0.99, epsilon=1e-3)`` weights the
    running value by momentum and keeps the biased variance; PyTorch ``BatchNorm1d/2d(momentum=0.1,
    eps=1e-5)`` weights the batch value by momentum and keeps the unbiased variance, so
    ``momentum_torch = 1 - momentum_keras``; the running variance cannot be made equal by
    configuration. The textbook uses momentum 0.9, eps 1e-6 (written 10e-7) and starts both running
    statistics at zero. Use the ``keras``, ``torch`` and ``textbook`` constructors for those sets.

    Args:
        num_features: D, or C (``stats="channel"``), or C*H*W (``stats="activation"``).
        momentum: in [0, 1].
        momentum_of: ``"running"`` or ``"batch"`` (which term ``momentum`` weights).
        eps: added to the variance inside the square root (finite, > 0).
        running_var: ``"biased"`` or ``"unbiased"`` batch variance in the running average.
        stats: ``"channel"`` or ``"activation"`` (4-D input only).
        running_mean_init, running_var_init: initial running statistics (finite; the variance >= 0).

    An empty batch (N = 0): a training forward raises ValueError (the batch mean and variance of
    no values are 0/0); an evaluation forward returns the empty output and backward the empty dx.
    PyTorch 2.13 returns an empty output in training too, leaving the running statistics as they
    were (``num_batches_tracked`` still counts the batch); a training step on no samples is a bug
    in the caller that scratch reports instead.
        gamma, beta: explicit initial scale and shift (default ones and zeros).
        dtype: ``"float32"`` or ``"float64"``.
    """

    per_sample = True
    mixes_batch_in_training = True

    def __init__(
        self,
        num_features: int,
        *,
        momentum: float,
        momentum_of: str,
        eps: float,
        running_var: str,
        stats: str = "channel",
        running_mean_init: float = 0.0,
        running_var_init: float = 1.0,
        gamma: np.ndarray | None = None,
        beta: np.ndarray | None = None,
        dtype="float64",
    ) -> None:
        super().__init__(dtype=dtype)
        self.num_features = check_positive_int(num_features, "num_features")
        self.momentum = check_probability(momentum, "momentum", closed_right=True)
        self.momentum_of = check_choice(momentum_of, "momentum_of", ("running", "batch"))
        self.eps = check_real(eps, "eps", minimum=0.0, strict=True)
        self.running_var_estimator = check_choice(running_var, "running_var", ("biased", "unbiased"))
        self.stats = check_choice(stats, "stats", ("channel", "activation"))
        d = (self.num_features,)
        self._param("gamma", np.ones(d) if gamma is None else gamma, d)
        self._param("beta", np.zeros(d) if beta is None else beta, d)
        mean0 = check_real(running_mean_init, "running_mean_init")
        var0 = check_real(running_var_init, "running_var_init", minimum=0.0)
        self.buffers["running_mean"] = np.full(d, mean0, dtype=self.dtype)
        self.buffers["running_var"] = np.full(d, var0, dtype=self.dtype)

    # -- named configurations ------------------------------------------------------------------
    @classmethod
    def keras(cls, num_features: int, *, momentum: float = 0.99, eps: float = 1e-3, dtype="float64"):
        """Keras ``BatchNormalization`` conventions (defaults momentum=0.99, epsilon=1e-3)."""
        return cls(num_features, momentum=momentum, momentum_of="running", eps=eps, running_var="biased",
                   stats="channel", dtype=dtype)

    @classmethod
    def torch(cls, num_features: int, *, momentum: float = 0.1, eps: float = 1e-5, dtype="float64"):
        """PyTorch ``BatchNorm1d/2d`` conventions (defaults momentum=0.1, eps=1e-5)."""
        return cls(num_features, momentum=momentum, momentum_of="batch", eps=eps, running_var="unbiased",
                   stats="channel", dtype=dtype)

    @classmethod
    def textbook(cls, num_features: int, *, dtype="float64"):
        """The textbook's ``BatchNormalization``: momentum 0.9, eps 1e-6, zero running statistics,
        per-activation statistics on 4-D input (num_features = C*H*W there)."""
        return cls(num_features, momentum=0.9, momentum_of="running", eps=1e-6, running_var="biased",
                   stats="activation", running_mean_init=0.0, running_var_init=0.0, dtype=dtype)

    # -- layout --------------------------------------------------------------------------------
    def _to_2d(self, x: np.ndarray) -> np.ndarray:
        self._check_input(x, ndim=(2, 4))
        if x.ndim == 2 or self.stats == "activation":
            x2 = x.reshape(x.shape[0], math.prod(x.shape[1:]))  # (N, D) or (N, C, H, W) -> (N, C*H*W)
        else:
            n, c, h, w = x.shape
            x2 = x.transpose(0, 2, 3, 1).reshape(n * h * w, c)  # (N, C, H, W) -> (N*H*W, C)
        if x2.shape[1] != self.num_features:
            what = "C*H*W" if x.ndim == 4 and self.stats == "activation" else ("C" if x.ndim == 4 else "D")
            raise ValueError(
                f"x: expected {self.num_features} features ({what}) for stats={self.stats!r}, got shape {x.shape}"
            )
        return x2

    def _from_2d(self, y2: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        if len(shape) == 2 or self.stats == "activation":
            return y2.reshape(shape)
        n, c, h, w = shape
        return np.ascontiguousarray(y2.reshape(n, h, w, c).transpose(0, 3, 1, 2))  # (N*H*W, C) -> NCHW

    # -- protocol ------------------------------------------------------------------------------
    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        """Normalise; a training forward also updates ``buffers``."""
        x2 = self._to_2d(x)
        m = x2.shape[0]
        if training:
            check_batch(x, "x")
            mu = x2.mean(axis=0, dtype=np.float64)  # float64 accumulation, whatever the layer dtype
            xc = x2 - mu  # float64: (M, D)
            var = (xc * xc).mean(axis=0)
            self.batch_stats = (mu.astype(self.dtype), var.astype(self.dtype))  # (D,) each, layer dtype
            self._update_running(*self.batch_stats, m)
            inv_std = 1 / np.sqrt(var + self.eps)  # float64
            x_hat = (xc * inv_std).astype(self.dtype, copy=False)  # rounded once to the layer dtype
            inv_std = inv_std.astype(self.dtype, copy=False)
        else:
            mu, var = self.buffers["running_mean"], self.buffers["running_var"]
            inv_std = 1 / np.sqrt(var + self.dtype.type(self.eps))
            x_hat = np.subtract(x2, mu)
            x_hat *= inv_std  # (x - mu) * inv_std, in place: every temporary of a large batch is fresh memory
        y2 = np.multiply(self.params["gamma"], x_hat)
        y2 += self.params["beta"]  # gamma * x_hat + beta
        self._cache = (x_hat, inv_std, training, x.shape)
        y = self._from_2d(y2, x.shape)
        self._out_shape = y.shape
        return y

    def _update_running(self, mu: np.ndarray, var: np.ndarray, m: int) -> None:
        if self.running_var_estimator == "unbiased":
            if m < 2:
                raise ValueError(f"x: the unbiased running variance needs more than 1 value per feature, got {m}")
            var = var * self.dtype.type(m / (m - 1))
        keep = self.momentum if self.momentum_of == "running" else 1.0 - self.momentum
        keep, take = self.dtype.type(keep), self.dtype.type(1.0 - keep)
        for name, stat in (("running_mean", mu), ("running_var", var)):
            self.buffers[name] = self.buffers[name] * keep + stat * take

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        """Overwrite ``grads['gamma']``, ``grads['beta']``; return dx. After an evaluation forward
        the statistics are constants, so dx = dy * gamma / sqrt(running_var + eps)."""
        x_hat, inv_std, training, shape = self._cache
        dy2 = self._to_2d(dy)
        self.grads["gamma"] = (dy2 * x_hat).sum(axis=0, dtype=np.float64).astype(self.dtype, copy=False)
        self.grads["beta"] = dy2.sum(axis=0, dtype=np.float64).astype(self.dtype, copy=False)
        if not need_dx:
            return None
        g = self.params["gamma"] * inv_std
        if training:
            m = dy2.shape[0]
            dx2 = g / m * (m * dy2 - self.grads["beta"] - x_hat * self.grads["gamma"])
        else:
            dx2 = dy2 * g
        return self._from_2d(dx2, shape)
