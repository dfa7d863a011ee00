"""Numerical gradients on the comparison side: ``gradient_check`` as a DataFrame.

The commands ``numgrad-train`` and ``bench-numgrad`` and the report job ``write_reports`` are in
``comparisons.studies.numgrad.cli``.

The arithmetic lives in ``scratch.gradcheck`` (the textbook's loop) and ``scratch.fastgrad`` (the
vectorised one). Training runs are in ``comparisons.studies.numgrad.train``; the precision and speed studies
of the textbook's TwoLayerNet in ``comparisons.studies.numgrad.study``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from comparisons.harness.metrics import error
from scratch import gradcheck as gc
from scratch.fastgrad import fast_numerical_gradient
from scratch.model import Sequential

__all__ = ["gradient_check"]



# -- gradient check ---------------------------------------------------------------------------
def gradient_check(model: Sequential, x: np.ndarray, t: np.ndarray, *, training: bool = True, loss=None,
                   masks: dict[str, np.ndarray] | None = None, h: float = 1e-5, method: str = "central",
                   fast: bool = True, rtol: float = 1e-6, params: list[str] | None = None,
                   allow_low_precision: bool = False) -> pd.DataFrame:
    """Backprop gradient against the numerical gradient, one row per parameter.

    Verdict: ``pass`` when the normwise relative error is at most ``rtol``; ``pass (zero)`` when
    the backprop gradient is negligible (at most sqrt(eps) times the largest gradient entry of the
    model: a Dense bias followed by BatchNorm) and the numerical one is within ten rounding floors
    eps * max(|L|, 1) / h of it; else ``FAIL``. The floor is the resolution of a difference
    quotient: one rounding of the loss over h.
    ``rtol`` = 1e-6 for float64 at h = 1e-5: the truncation error ~h^2 |f'''| / 6 is ~1e-10
    relative, and the rounding floor (5e-11 for |L| ~ 2.3) is 5e-8 of a gradient whose largest
    entry is 1e-3.

    Args:
        model, x, t, training, loss, masks: as ``scratch.gradcheck.backprop_gradient``.
        h, method: the difference step and formula (``"central"`` or ``"forward"``).
        fast: use ``fast_numerical_gradient`` (True) or the textbook's loop.
        rtol: the relative error allowed.
        params: qualified names to check (default all).
        allow_low_precision: silence the warning for a model that is not float64.

    Returns:
        DataFrame: parameter, shape, max abs diff, max rel diff, rounding floor, verdict.

    Warns:
        PrecisionWarning: the model is not float64 (float32 differences are rounding noise).
    """
    gc.warn_low_precision(model.dtype, allow_low_precision=allow_low_precision)
    h = gc.check_step(h)
    saved = {k: v.copy() for k, v in model.buffers.items()}
    try:
        value, bp = gc.backprop_gradient(model, x, t, training=training, loss=loss, masks=masks)
    finally:
        gc._restore_buffers(model, saved)
    numeric = fast_numerical_gradient if fast else gc.model_numerical_gradient
    num = numeric(model, x, t, training=training, loss=loss, masks=masks, h=h, method=method, params=params)
    eps = float(np.finfo(model.dtype).eps)
    floor = eps * max(abs(value), 1.0) / h
    scale = max(float(np.abs(bp[name]).max()) for name in num)
    rows = []
    for name, g in num.items():
        e = error(g, bp[name], name)
        zero = float(np.abs(bp[name]).max()) <= np.sqrt(eps) * scale and e.max_abs <= 10 * floor
        verdict = "pass" if e.max_rel <= rtol else ("pass (zero)" if zero else "FAIL")
        rows.append({"parameter": name, "shape": str(g.shape), "max abs diff": e.max_abs, "max rel diff": e.max_rel,
                     "rounding floor": floor, "verdict": verdict})
    return pd.DataFrame(rows)
