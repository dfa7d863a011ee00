"""The textbook's ``common/gradient.py``: central differences, one entry at a time, in place.

Built on ``scratch.gradcheck.numerical_gradient`` (the same loop: perturb x[i] by +h and -h in
place, call f, restore x[i] exactly), with the book's signature ``f(x)`` and step h = 1e-4.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratch import gradcheck

__all__ = ["numerical_gradient", "numerical_gradient_2d"]

#: The book's step.
H = 1e-4


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """df/dx by central differences, x perturbed in place::

        grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h),    h = 1e-4

    ``f`` is called with x itself (the book's ``lambda W: net.loss(x, t)`` ignores its argument and
    reads the network's parameter arrays, which are the x being perturbed). Each entry is restored
    bit for bit before the next one, so x ends as it started.

    Args:
        f: function of x returning a finite scalar.
        x: float array of any shape (a network's parameter array: perturbed in place).

    Returns:
        An array of x's shape and dtype.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError(f"x: expected a float numpy.ndarray (perturbed in place), got {type(x).__name__}"
                         + (f" of {x.dtype.name}" if isinstance(x, np.ndarray) else ""))
    return gradcheck.numerical_gradient(lambda: f(x), x, h=H, method="central")


def numerical_gradient_2d(f: Callable[[np.ndarray], float], X: np.ndarray) -> np.ndarray:
    """The book's row-by-row variant: for a 2-D X, ``numerical_gradient`` of f at each row, f being
    called with that row; a 1-D X is one row. (ch04's ``gradient_2d.py`` plots it.)

    Args:
        f: function of one row (K,) returning a finite scalar.
        X: (N, K) or (K,) float array, perturbed in place.
    """
    if not isinstance(X, np.ndarray) or X.dtype.kind != "f" or X.ndim not in (1, 2):
        raise ValueError(f"X: expected a 1-D or 2-D float numpy.ndarray, got {getattr(X, 'shape', type(X).__name__)}")
    if X.ndim == 1:
        return numerical_gradient(f, X)
    grad = np.zeros_like(X)
    for i, row in enumerate(X):  # each row a view: perturbing it perturbs X
        grad[i] = numerical_gradient(f, row)
    return grad
