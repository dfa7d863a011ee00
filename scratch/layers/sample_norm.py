"""Normalization within each sample: LayerNorm (any axes) and GroupNorm (channel groups).

Both normalise by statistics of one sample only, so training and evaluation compute the same
thing and there are no running statistics. The shared arithmetic: for each normalised block of M
values, x_hat = (x - mean) / sqrt(var + eps) with the biased variance, y = gamma * x_hat + beta,
and the backward of that block. The mean and variance are accumulated in float64 whatever the
layer dtype and x_hat is rounded once to it (as ``BatchNorm`` does).
"""

from __future__ import annotations

import math

import numpy as np

from scratch._checks import check_positive_int, check_real
from scratch.layers.base import Layer


def _normalize(x: np.ndarray, axes: tuple[int, ...], eps: float, dtype: np.dtype):
    """(x_hat, inv_std) over ``axes`` (keepdims), statistics in float64, x_hat in ``dtype``."""
    mu = x.mean(axis=axes, dtype=np.float64, keepdims=True)
    xc = x - mu  # float64
    var = (xc * xc).mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    return (xc * inv_std).astype(dtype, copy=False), inv_std.astype(dtype, copy=False)


def _normalize_backward(dxhat: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray, axes: tuple[int, ...]):
    """dx of x_hat = (x - mean) / sqrt(var + eps) over ``axes``, given dL/dx_hat (sums in float64)::

        dx = inv_std / M * (M * dxhat - sum(dxhat) - x_hat * sum(dxhat * x_hat))
    """
    m = math.prod(x_hat.shape[a] for a in axes)
    s1 = dxhat.sum(axis=axes, dtype=np.float64, keepdims=True)
    s2 = (dxhat * x_hat).sum(axis=axes, dtype=np.float64, keepdims=True)
    dx = (inv_std / m) * (m * dxhat - s1 - x_hat * s2)
    return dx.astype(x_hat.dtype, copy=False)


class LayerNorm(Layer):
    """Layer normalization (Ba, Kiros & Hinton 2016) over any axes of each sample.

    Algorithm (one sample; M values in the normalised axes)::

        mu    = mean(x over axes)         var = mean((x - mu)^2 over axes)       # biased
        x_hat = (x - mu) / sqrt(var + eps)
        y     = gamma * x_hat + beta      # gamma, beta of the normalised axes' shape, broadcast
        dx    = (1 / sqrt(var + eps)) / M * (M * g - sum(g) - x_hat * sum(g * x_hat)),  g = dy * gamma
        dgamma = sum of dy * x_hat over the other axes (and the batch);  dbeta = sum of dy likewise

    Training and evaluation are the same computation.

    Framework notes: Keras ``LayerNormalization(axis=-1, epsilon=1e-3)`` takes any list of axes
    (gamma of the shape of those axes); PyTorch ``nn.LayerNorm(normalized_shape, eps=1e-5)``
    normalises the trailing ``len(normalized_shape)`` axes only, so other axes are moved to the end
    first (``reference.layouts.axes_to_end``). The default epsilons differ by 100x: copying a
    model without copying epsilon changes every output slightly (most where the variance is small).

    Args:
        shape: sizes of the normalised axes (the shape of gamma and beta).
        axes: the normalised axes of the input, batch axis excluded (negative counts from the end).
        eps: added to the variance inside the root (finite, > 0).
        gamma, beta: initial scale and shift (default ones and zeros).
        dtype: ``"float32"`` or ``"float64"``.
    """

    per_sample = True

    def __init__(self, shape: tuple[int, ...], *, axes: tuple[int, ...], eps: float,
                 gamma: np.ndarray | None = None, beta: np.ndarray | None = None, dtype="float64") -> None:
        super().__init__(dtype=dtype)
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        self.shape = tuple(check_positive_int(s, "shape") for s in shape)
        axes = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
        if len(axes) != len(self.shape) or not all(isinstance(a, (int, np.integer)) for a in axes) \
                or 0 in axes or len(set(axes)) != len(axes):
            raise ValueError(f"axes: expected {len(self.shape)} distinct axes other than the batch axis 0 "
                             f"(one per size in shape={self.shape}), got {axes!r}")
        self.axes = tuple(int(a) for a in axes)
        self.eps = check_real(eps, "eps", minimum=0.0, strict=True)
        self._param("gamma", np.ones(self.shape) if gamma is None else gamma, self.shape)
        self._param("beta", np.zeros(self.shape) if beta is None else beta, self.shape)

    def resolved_axes(self, ndim: int) -> tuple[int, ...]:
        """The normalised axes as non-negative axes of an ``ndim``-D input, in the order given."""
        out = tuple(a + ndim if a < 0 else a for a in self.axes)
        if any(not 1 <= a < ndim for a in out) or len(set(out)) != len(out):
            raise ValueError(f"x: axes {self.axes} need an input of more dimensions than {ndim} "
                             "(the batch axis 0 is never normalised)")
        return out

    def _broadcast(self, p: np.ndarray, ndim: int, axes: tuple[int, ...]) -> np.ndarray:
        """gamma or beta (shape of ``axes``, in their given order) -> broadcastable to the input."""
        order = np.argsort(axes)
        full = [1] * ndim
        for a, s in zip(axes, self.shape, strict=True):
            full[a] = s
        return p.transpose(order).reshape(full)  # axes given out of order: sort gamma's axes first

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x)
        axes = self.resolved_axes(x.ndim)
        got = tuple(x.shape[a] for a in axes)
        if got != self.shape:
            raise ValueError(f"x: expected sizes {self.shape} on axes {self.axes}, got {got} (shape {x.shape})")
        x_hat, inv_std = _normalize(x, axes, self.eps, self.dtype)
        g = self._broadcast(self.params["gamma"], x.ndim, axes)
        y = g * x_hat + self._broadcast(self.params["beta"], x.ndim, axes)
        self._cache = (x_hat, inv_std, axes, g)
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        """Overwrite ``grads['gamma']``, ``grads['beta']``; return dx."""
        x_hat, inv_std, axes, g = self._cache
        rest = tuple(a for a in range(dy.ndim) if a not in axes)
        sorted_shape = tuple(dy.shape[a] for a in sorted(axes))
        inverse = np.argsort(np.argsort(axes))  # sorted-axes layout -> the order given
        for name, v in (("gamma", dy * x_hat), ("beta", dy)):
            s = v.sum(axis=rest, dtype=np.float64).reshape(sorted_shape).transpose(inverse)
            self.grads[name] = s.astype(self.dtype, copy=False)
        return _normalize_backward(dy * g, x_hat, inv_std, axes) if need_dx else None


class GroupNorm(Layer):
    """Group normalization (Wu & He 2018) on channels-first input (N, C, ...).

    Algorithm (one sample; the C channels split into ``groups`` contiguous groups of C / groups)::

        per group: M = (C / groups) * (spatial size) values
        mu, var = mean and biased variance of the group;  x_hat = (x - mu) / sqrt(var + eps)
        y  = gamma[c] * x_hat + beta[c]                              # per channel
        dx = (1 / sqrt(var + eps)) / M * (M * g - sum(g) - x_hat * sum(g * x_hat)),  g = dy * gamma[c]
        dgamma[c] = sum over the batch and positions of dy * x_hat;  dbeta[c] = sum of dy

    groups = C is instance normalization, groups = 1 a LayerNorm over (C, ...) with per-channel
    gamma. Training and evaluation are the same computation.

    Framework notes: PyTorch ``nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True)``
    takes (N, C, ...); Keras ``GroupNormalization(groups=32, axis=-1, epsilon=1e-3)`` runs on
    channels-last input, so the twin moves the channel axis (``reference.layouts``). Both split the
    channels into contiguous groups. Keras's error for channels not divisible by groups reads "Number
    of groups (g) must be a multiple of the number of channels (c)", the reverse of the requirement.

    Args:
        num_channels: C.
        groups: number of groups; must divide C.
        eps: added to the variance inside the root (finite, > 0).
        gamma, beta: initial per-channel scale and shift (default ones and zeros).
        dtype: ``"float32"`` or ``"float64"``.
    """

    per_sample = True

    def __init__(self, num_channels: int, groups: int, *, eps: float, gamma: np.ndarray | None = None,
                 beta: np.ndarray | None = None, dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.num_channels = check_positive_int(num_channels, "num_channels")
        self.groups = check_positive_int(groups, "groups")
        if self.num_channels % self.groups:
            raise ValueError(f"groups: expected a divisor of num_channels={self.num_channels}, got {self.groups}")
        self.eps = check_real(eps, "eps", minimum=0.0, strict=True)
        c = (self.num_channels,)
        self._param("gamma", np.ones(c) if gamma is None else gamma, c)
        self._param("beta", np.zeros(c) if beta is None else beta, c)

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"x: expected shape (N, {self.num_channels}, ...) (channels first), got {x.shape}")
        n, c = x.shape[:2]
        xg = x.reshape(n, self.groups, -1)  # (N, C, ...) -> (N, G, C/G * spatial)
        x_hat, inv_std = _normalize(xg, (2,), self.eps, self.dtype)
        bshape = (1, c) + (1,) * (x.ndim - 2)
        g = self.params["gamma"].reshape(bshape)
        y = g * x_hat.reshape(x.shape) + self.params["beta"].reshape(bshape)
        self._cache = (x_hat, inv_std, g)
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        """Overwrite ``grads['gamma']``, ``grads['beta']``; return dx."""
        x_hat, inv_std, g = self._cache
        rest = (0, *range(2, dy.ndim))
        self.grads["gamma"] = (dy * x_hat.reshape(dy.shape)).sum(axis=rest, dtype=np.float64).astype(self.dtype)
        self.grads["beta"] = dy.sum(axis=rest, dtype=np.float64).astype(self.dtype)
        if not need_dx:
            return None
        dxhat = (dy * g).reshape(x_hat.shape)  # (N, C, ...) -> (N, G, C/G * spatial)
        return _normalize_backward(dxhat, x_hat, inv_std, (2,)).reshape(dy.shape)


__all__ = ["GroupNorm", "LayerNorm"]
