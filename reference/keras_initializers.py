"""Keras 3 initializers drawn for a scratch kernel shape and returned in scratch layout.

A ``KerasInit`` names a class of ``keras.initializers`` and every argument it takes (as a dict or as
a function of the scratch fans, for arguments that depend on them); ``draw`` builds it with an
integer seed, calls it on the Keras layout of the shape and converts back:
dense (in, out) is the same in both; a scratch conv kernel (F, C, KH, KW) is drawn as Keras
(KH, KW, C, F), so that Keras computes its own fans (``compute_fans``) from its own layout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from reference import frameworks, layouts

Kwargs = Mapping[str, object] | Callable[[int, int], Mapping[str, object]]


@dataclass(frozen=True)
class KerasInit:
    """``keras.initializers.<name>(**kwargs, seed=...)``; kwargs may depend on (fan_in, fan_out)."""

    name: str
    kwargs: Kwargs = ()

    def arguments(self, fan_in: int, fan_out: int) -> dict[str, object]:
        kw = self.kwargs(fan_in, fan_out) if callable(self.kwargs) else self.kwargs
        return dict(kw)

    def call(self, fan_in: int, fan_out: int) -> str:
        """The call written out, for the reports."""
        args = ", ".join(f"{k}={_fmt(v)}" for k, v in self.arguments(fan_in, fan_out).items())
        return f"keras.initializers.{self.name}({args}{', ' if args else ''}seed=...)"

    def draw(self, shape: tuple[int, ...], *, fan_in: int, fan_out: int, seed: int, dtype: str) -> np.ndarray:
        """One draw of shape ``shape`` (scratch layout) in ``dtype``."""
        keras = frameworks.keras()
        cls = getattr(keras.initializers, self.name)
        kw = self.arguments(fan_in, fan_out)
        init = cls(**kw) if self.name in ("Zeros", "Ones") else cls(**kw, seed=int(seed) % 2**31)
        keras_shape = (shape[2], shape[3], shape[1], shape[0]) if len(shape) == 4 else tuple(shape)
        out = np.asarray(init(keras_shape, dtype=dtype))
        if out.dtype != np.dtype(dtype):
            raise RuntimeError(f"Keras {self.name} returned {out.dtype}, expected {dtype}")
        return layouts.conv_from_keras(out) if len(shape) == 4 else out


def _fmt(v: object) -> str:
    return f"{v:.6g}" if isinstance(v, float) else repr(v)
