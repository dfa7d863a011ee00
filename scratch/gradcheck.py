"""Numerical gradients: the textbook's central difference, used as an oracle independent of
every framework."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratch._checks import check_array, check_choice


def numerical_gradient(
    f: Callable[[], float], x: np.ndarray, h: float = 1e-4, method: str = "central"
) -> np.ndarray:
    """dF/dx by finite differences, perturbing ``x`` in place one entry at a time.

    ``f`` takes no argument and reads ``x`` (as in the textbook's ``numerical_gradient(f, x)``,
    where the network closes over its own parameter arrays). Every perturbed entry is restored
    before the next, so ``x`` ends bit-for-bit as it started.

    central: (f(x + h e_i) - f(x - h e_i)) / (2h)   error O(h^2)
    forward: (f(x + h e_i) - f(x)) / h              error O(h), one evaluation per entry

    Args:
        f: zero-argument function returning a finite scalar.
        x: float array perturbed in place (any shape).
        h: step, > 0 (default 1e-4, the textbook's).
        method: ``"central"`` or ``"forward"``.

    Raises:
        ValueError: non-positive h, unknown method, non-scalar or non-finite f.
    """
    check_array(x, "x")
    if x.dtype.kind != "f":
        raise ValueError(f"x: expected a float array, got {x.dtype.name}")
    if not (isinstance(h, (int, float)) and h > 0):
        raise ValueError(f"h: expected a positive step, got {h!r}")
    check_choice(method, "method", ("central", "forward"))

    def value() -> float:
        out = np.asarray(f())
        if out.shape != ():
            raise ValueError(f"f: expected a scalar loss, got an array of shape {out.shape}")
        if not np.isfinite(out):
            raise ValueError(f"f: returned a non-finite loss {float(out)!r}")
        return float(out)

    grad = np.zeros_like(x)
    f0 = value() if method == "forward" else 0.0
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        orig = x[i].copy()
        x[i] = orig + h
        f_plus = value()
        if method == "central":
            x[i] = orig - h
            grad[i] = (f_plus - value()) / (2 * h)
        else:
            grad[i] = (f_plus - f0) / h
        x[i] = orig
    return grad
