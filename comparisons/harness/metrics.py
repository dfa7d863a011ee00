"""Error metrics: one definition used by the tests and the reports.

relative error = max|a - b| / max|b| (normwise, max-norm). An element-wise relative error is
meaningless where a value cancels to almost zero (a softmax gradient entry, a centred activation):
there the absolute rounding error of the inputs dominates. Normwise error is what the rounding
analysis of sums and products bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Error:
    max_abs: float
    max_rel: float
    where: tuple[int, ...]  # index of the largest absolute difference
    scratch_value: float
    framework_value: float

    def describe(self) -> str:
        return (f"max abs {self.max_abs:.3e}, max rel {self.max_rel:.3e} at index {self.where} "
                f"(scratch {self.scratch_value:.17g}, framework {self.framework_value:.17g})")


def error(a: np.ndarray, b: np.ndarray, name: str = "value") -> Error:
    """Compare scratch ``a`` with reference ``b`` (computed in float64)."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"{name}: scratch shape {a.shape} differs from framework shape {b.shape}")
    if a.size == 0:
        return Error(0.0, 0.0, (), 0.0, 0.0)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    diff = np.abs(a64 - b64)
    if not np.isfinite(diff).all():
        where = np.unravel_index(int(np.argmax(~np.isfinite(diff))), diff.shape)
        return Error(float("inf"), float("inf"), tuple(int(i) for i in where), float(a64[where]), float(b64[where]))
    where = np.unravel_index(int(np.argmax(diff)), diff.shape)
    max_abs = float(diff[where])
    scale = float(np.abs(b64).max())
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    return Error(max_abs, max_rel, tuple(int(i) for i in where), float(a64[where]), float(b64[where]))
