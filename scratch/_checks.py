"""Argument checks shared by every scratch component.

Each check raises ``ValueError`` naming the argument, what was given and what was expected, so a
mistake is reported where it is made instead of as a broadcasting error three layers later.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: Arrays of at least this many elements are checked for NaN and infinities by a matrix-vector
#: product with zeros (see ``all_finite``); below it ``np.isfinite(x).all()`` is as fast.
FAST_FINITE_MIN = 1 << 18
_ZEROS = {dt: np.zeros(1024, dtype=dt) for dt in FLOAT_DTYPES}


class NonFiniteError(ValueError):
    """An array that must be finite holds NaN or infinite values (a diverged training, bad data).

    Raised where a result is checked: an optimizer step (naming the parameter and the step), a
    layer called directly or a model's output (naming the layer), a loss.
    """


def all_finite(x: np.ndarray) -> bool:
    """True if the float array ``x`` holds no NaN and no infinity.

    A large contiguous array is checked by one BLAS product of its 1024-element rows with a
    vector of zeros: every product x_i * 0 is 0 for a finite x_i and NaN for an infinite or NaN
    one, so a row's result is NaN exactly when the row holds a non-finite value. It reads x once
    and writes one value per row, where ``np.isfinite(x).all()`` writes a boolean array of x's
    size first (about half the time for an MNIST evaluation batch of 1,000 images).
    """
    if x.size < FAST_FINITE_MIN or x.dtype not in FLOAT_DTYPES or not x.flags.c_contiguous:
        return bool(np.isfinite(x).all())
    flat = x.reshape(-1)
    m = flat.size - flat.size % 1024
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN by design
        rows = flat[:m].reshape(-1, 1024) @ _ZEROS[x.dtype]
    return bool(np.isfinite(rows).all() and np.isfinite(flat[m:]).all())


def check_finite_result(y: np.ndarray, what: str, hint: str = "") -> np.ndarray:
    """Raise ``NonFiniteError`` if the computed array ``y`` holds NaN or infinite values."""
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        bad = int(np.size(y) - np.count_nonzero(np.isfinite(y)))
        raise NonFiniteError(f"{what}: {bad} of {y.size} values are NaN or infinite (an overflow) although "
                             f"every input was finite{'; ' + hint if hint else ''}")
    return y


def check_batch(x: np.ndarray, name: str) -> None:
    """Refuse an empty batch where an empty result has no meaning (a mean over zero samples)."""
    if x.shape[0] == 0:
        raise ValueError(f"{name}: a batch needs at least one sample, got shape {x.shape}")


def check_real(value: object, name: str, *, minimum: float | None = None, strict: bool = False) -> float:
    """Return ``value`` as a finite Python float, > ``minimum`` (``strict``) or >= ``minimum``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    v = float(value) if ok else float("nan")  # type: ignore[arg-type]
    if minimum is not None and ok and np.isfinite(v):
        ok = v > minimum if strict else v >= minimum
    if not ok or not np.isfinite(v):
        bound = "" if minimum is None else f" {'>' if strict else '>='} {minimum:g}"
        raise ValueError(f"{name}: expected a finite number{bound}, got {value!r}")
    return v


_FINGERPRINT_WEIGHTS: dict[np.dtype, np.ndarray] = {}


def fingerprint(a: np.ndarray) -> float:
    """A position-weighted sum of ``a`` (one BLAS dot product), to notice in-place edits of an array.

    The weights are fixed pseudo-random numbers in [1, 2), so a changed element, a swap of two
    elements or a rescaled block changes the sum; an edit smaller than the rounding of the sum
    (about ``eps * sum |a|``) can pass unnoticed. Recomputing it on unchanged memory gives the
    same number bit for bit (the same operands, the same order).
    """
    flat = a.reshape(-1)  # a view for contiguous arrays (a copy otherwise)
    w = _FINGERPRINT_WEIGHTS.get(a.dtype)
    if w is None or w.size < flat.size:
        size = max(flat.size, 2 * (0 if w is None else w.size), 1024)
        w = np.random.default_rng(20240).uniform(1.0, 2.0, size).astype(a.dtype)
        _FINGERPRINT_WEIGHTS[a.dtype] = w
    return float(flat @ w[: flat.size])


def as_float_dtype(dtype: object, name: str = "dtype") -> np.dtype:
    """Return ``dtype`` as a NumPy dtype, accepting only float32 and float64."""
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as err:
        raise ValueError(f"{name}: expected 'float32' or 'float64', got {dtype!r}") from err
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"{name}: expected 'float32' or 'float64', got {dt.name!r}")
    return dt


def check_array(
    x: object,
    name: str,
    *,
    dtype: np.dtype | None = None,
    ndim: int | Sequence[int] | None = None,
    finite: bool = True,
) -> np.ndarray:
    """Check that ``x`` is a NumPy array of the expected dtype and rank, without copying it."""
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name}: expected a numpy.ndarray, got {type(x).__name__}")
    if dtype is not None and x.dtype != dtype:
        raise ValueError(
            f"{name}: expected dtype {np.dtype(dtype).name} (the layer's dtype), got {x.dtype.name}; "
            f"convert with x.astype({np.dtype(dtype).name!r}) or build the layer with dtype={x.dtype.name!r}"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name}: expected a {want} array, got shape {x.shape}")
    if finite and x.dtype.kind == "f" and not all_finite(x):
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise NonFiniteError(f"{name}: expected finite values, got {bad} NaN or infinite entries")
    return x


def check_shape(x: np.ndarray, expected: tuple[int, ...], name: str) -> None:
    """Check that ``x.shape == expected``."""
    if x.shape != tuple(expected):
        raise ValueError(f"{name}: expected shape {tuple(expected)}, got {x.shape}")


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int if it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def check_pair(value: object, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """Accept ``k`` or ``(kh, kw)`` and return ``(kh, kw)``, each an int >= ``minimum``."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    ok = (
        isinstance(pair, (tuple, list))
        and len(pair) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum for v in pair)
    )
    if not ok:
        raise ValueError(f"{name}: expected an int >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def check_probability(value: object, name: str, *, closed_right: bool = False) -> float:
    """Return ``value`` as a float in [0, 1) (or [0, 1] with ``closed_right``)."""
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    v = float(value) if ok else float("nan")  # type: ignore[arg-type]
    if not ok or not (0.0 <= v < 1.0 or (closed_right and v == 1.0)):
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise ValueError(f"{name}: expected a number in {interval}, got {value!r}")
    return v


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value  # type: ignore[return-value]
