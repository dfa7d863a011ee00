"""What the book's layer classes share: input conversion and the per-dtype core of parameter-free layers."""

from __future__ import annotations

import numpy as np

from scratch._checks import FLOAT_DTYPES


def core_dtype(dtype, name: str = "x") -> np.dtype:
    """``dtype`` if it is float32 or float64; else ValueError naming ``name``."""
    dt = np.dtype(dtype)
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"{name}: expected a float32 or float64 array, got {dt.name}")
    return dt


def as_float_array(x, name: str, dtype=None, ndim: int | None = None) -> np.ndarray:
    """``x`` itself if it is a float32/float64 ndarray (converted to ``dtype`` when given and
    different, as NumPy's promotion would in the book's expressions); else ValueError."""
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name}: expected a numpy.ndarray, got {type(x).__name__}")
    if x.dtype.kind != "f" and not (dtype is not None and x.dtype.kind in "biu"):
        raise ValueError(f"{name}: expected a float32 or float64 array, got {x.dtype.name}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {x.shape}")
    if dtype is not None and x.dtype != dtype:
        return x.astype(dtype)
    core_dtype(x.dtype, name)
    return x


class Stateless:
    """A parameter-free book layer: one core layer per input dtype, built on first use.

    Subclasses set ``self.core = None`` (or build one) in ``__init__`` and define ``_make_core``.
    """

    core = None

    def _make_core(self, dtype: np.dtype):  # pragma: no cover
        raise NotImplementedError

    def core_for(self, dtype):
        """The core layer used for inputs of ``dtype`` (built if the dtype changed)."""
        dt = core_dtype(dtype)
        if self.core is None or self.core.dtype != dt:
            self.core = self._make_core(dt)
        return self.core

    def _core_backward(self, dout) -> np.ndarray:
        """The core layer's backward (a clear error if no forward came first)."""
        if self.core is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self.core.backward(as_float_array(dout, "dout", dtype=self.core.dtype))
