"""Weight initializers: ``init(shape, *, fan_in, fan_out, rng, dtype) -> ndarray``.

The layer computes its own fans (dense kernel (in, out): fan_in = in, fan_out = out; conv kernel
(F, C, KH, KW): fan_in = C*KH*KW, fan_out = F*KH*KW, as both Keras and PyTorch compute them) and
passes them in, so an initializer never guesses a layout.

Random initializers draw from the injected ``numpy.random.Generator`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from scratch._checks import as_float_dtype


class Initializer(Protocol):
    def __call__(
        self, shape: tuple[int, ...], *, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype
    ) -> np.ndarray: ...


def zeros(shape, *, fan_in, fan_out, rng, dtype):  # noqa: ARG001 - uniform signature
    """All zeros (Keras ``zeros``, PyTorch ``nn.init.zeros_``)."""
    return np.zeros(shape, dtype=as_float_dtype(dtype))


def ones(shape, *, fan_in, fan_out, rng, dtype):  # noqa: ARG001
    """All ones (Keras ``ones``, PyTorch ``nn.init.ones_``)."""
    return np.ones(shape, dtype=as_float_dtype(dtype))


def glorot_uniform(shape, *, fan_in, fan_out, rng, dtype):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010).

    Keras ``glorot_uniform`` (the Dense/Conv2D default); PyTorch ``xavier_uniform_(gain=1)``.
    """
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(as_float_dtype(dtype))


def normal(std: float) -> Callable[..., np.ndarray]:
    """Untruncated N(0, std^2): the textbook's ``weight_init_std * np.random.randn(...)``."""
    if not std > 0:
        raise ValueError(f"std: expected a positive number, got {std!r}")

    def init(shape, *, fan_in, fan_out, rng, dtype):  # noqa: ARG001
        return (std * rng.standard_normal(size=shape)).astype(as_float_dtype(dtype))

    init.__name__ = f"normal(std={std})"
    return init


_REGISTRY: dict[str, Callable[..., np.ndarray]] = {
    "zeros": zeros,
    "ones": ones,
    "glorot_uniform": glorot_uniform,
}


def get(init: str | Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Resolve an initializer name (or pass a callable through)."""
    if callable(init):
        return init
    if init not in _REGISTRY:
        raise ValueError(f"initializer: expected one of {sorted(_REGISTRY)} or a callable, got {init!r}")
    return _REGISTRY[init]


def register(name: str, init: Callable[..., np.ndarray]) -> None:
    """Add a named initializer (used by the extended initializer families)."""
    _REGISTRY[name] = init
