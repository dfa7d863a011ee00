"""Element-wise activations beyond the textbook: LeakyReLU, ELU, GELU (exact and tanh), SiLU,
Softplus and HardSigmoid.

Each is a function applied to every element (``elementwise``); backward multiplies the upstream
gradient by the derivative at the input of the last forward. The formulas are the published ones;
where Keras 3.15 (TensorFlow backend) or PyTorch 2.13 compute something else, the class docstring
says what and the case table records it with the relation that holds.
"""

from __future__ import annotations

import math

import numpy as np

from scratch._checks import check_choice, check_real
from scratch.layers.activations import _Elementwise
from scratch.layers.activations import sigmoid as _sigmoid

_ERFC = np.frompyfunc(math.erfc, 1, 1)  # the C library's erfc, element by element (NumPy has none)
SQRT1_2 = math.sqrt(0.5)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_TANH_COEFF = 0.044715


def erfc(z: np.ndarray) -> np.ndarray:
    """The complementary error function of a float array, computed in float64 (about 1 ulp)."""
    return _ERFC(np.asarray(z, dtype=np.float64)).astype(np.float64)


class _Activation(_Elementwise):
    per_sample = True
    elementwise = True
    per_channel = True
    _keeps = ("input",)

    def _f(self, x):
        self._x = x
        return self._y(x)

    def _df(self, dy):
        return (dy * self._dy_dx(self._x)).astype(self.dtype, copy=False)

    def _y(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _dy_dx(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class LeakyReLU(_Activation):
    """Leaky ReLU (Maas, Hannun & Ng 2013).

    Algorithm::

        y  = x if x > 0 else negative_slope * x
        dx = dy if x > 0 else negative_slope * dy        # the slope at x = 0, as both frameworks

    Framework notes: the defaults differ, Keras ``LeakyReLU(negative_slope=0.3)`` against PyTorch
    ``nn.LeakyReLU(negative_slope=0.01)`` (and ``keras.ops.leaky_relu`` 0.2). Keras's TensorFlow
    kernel takes the slope as a float32 attribute, so in a float64 model Keras multiplies by
    float32(slope): 0.2 is 0.20000000298023224, even when given as ``np.float64(0.2)``. Scratch and
    PyTorch use the slope as given.

    Args:
        negative_slope: slope for x <= 0 (finite, >= 0).
        dtype: ``"float32"`` or ``"float64"``.
    """

    def __init__(self, negative_slope: float, *, dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.negative_slope = check_real(negative_slope, "negative_slope", minimum=0.0)

    def _y(self, x):
        return np.where(x > 0, x, x * self.dtype.type(self.negative_slope))

    def _dy_dx(self, x):
        return np.where(x > 0, self.dtype.type(1), self.dtype.type(self.negative_slope))


class ELU(_Activation):
    """Exponential linear unit (Clevert, Unterthiner & Hochreiter 2016).

    Algorithm::

        y  = x if x > 0 else alpha * (exp(x) - 1)        # expm1, exact near 0
        dx = dy if x > 0 else dy * alpha * exp(x)

    Framework notes: Keras ``ELU(alpha=1.0)`` and PyTorch ``nn.ELU(alpha=1.0)`` agree in default
    and formula; Keras multiplies by a Python float alpha in the tensor's dtype.

    Args:
        alpha: scale of the negative part (finite, > 0).
        dtype: ``"float32"`` or ``"float64"``.
    """

    def __init__(self, alpha: float, *, dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.alpha = check_real(alpha, "alpha", minimum=0.0, strict=True)

    def _y(self, x):
        a = self.dtype.type(self.alpha)
        return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))

    def _dy_dx(self, x):
        return np.where(x > 0, self.dtype.type(1), self.dtype.type(self.alpha) * np.exp(np.minimum(x, 0)))


class GELU(_Activation):
    """Gaussian error linear unit (Hendrycks & Gimpel 2016), exact or its tanh approximation.

    Algorithm::

        approximate == "none":  y = x * Phi(x) = 0.5 * x * erfc(-x / sqrt(2))
                                dx = dy * (Phi(x) + x * phi(x)),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
        approximate == "tanh":  u = sqrt(2 / pi) * (x + 0.044715 x^3),  t = tanh(u)
                                y = 0.5 * x * (1 + t)
                                dx = dy * (0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2))

    The exact form is computed in float64 (the C library's erfc) and rounded once to the layer dtype.

    Framework notes: both default to the exact form, and the flag is named differently: Keras
    ``keras.activations.gelu(x, approximate=False)`` (a bool; ``keras.ops.gelu`` defaults to
    ``approximate=True``), PyTorch ``nn.GELU(approximate='none')`` (a string, ``'tanh'``). Keras
    3.15 has no GELU layer. TensorFlow's ``tf.nn.gelu`` casts its constants through float32
    (``math_ops.cast(0.7071067811865476, dtype)`` makes a float32 tensor first), so in a float64 model
    Keras computes 0.5 x erfc(-x * float32(1/sqrt 2)) and uses float32(0.044715) in the tanh form.

    Args:
        approximate: ``"none"`` or ``"tanh"``.
        dtype: ``"float32"`` or ``"float64"``.
    """

    def __init__(self, approximate: str, *, dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.approximate = check_choice(approximate, "approximate", ("none", "tanh"))

    def _tanh_u(self, x):
        x64 = x.astype(np.float64)
        return np.tanh(SQRT_2_OVER_PI * (x64 + GELU_TANH_COEFF * x64**3)), x64

    def _y(self, x):
        if self.approximate == "tanh":
            t, x64 = self._tanh_u(x)
            return (0.5 * x64 * (1 + t)).astype(self.dtype)
        x64 = x.astype(np.float64)
        return (0.5 * x64 * erfc(-x64 * SQRT1_2)).astype(self.dtype)

    def _dy_dx(self, x):
        if self.approximate == "tanh":
            t, x64 = self._tanh_u(x)
            du = SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_COEFF * x64 * x64)
            return 0.5 * (1 + t) + 0.5 * x64 * (1 - t * t) * du
        x64 = x.astype(np.float64)
        return 0.5 * erfc(-x64 * SQRT1_2) + x64 * np.exp(-0.5 * x64 * x64) / math.sqrt(2 * math.pi)


class SiLU(_Activation):
    """SiLU / Swish with beta = 1 (Elfwing, Uchibe & Doya 2018; Ramachandran, Zoph & Le 2017).

    Algorithm::

        s = sigmoid(x)  (exp of -|x| only)    y = x * s    dx = dy * s * (1 + x * (1 - s))

    Framework notes: Keras ``keras.activations.silu`` (``swish`` is the same function) and PyTorch
    ``nn.SiLU()``; neither has a beta argument.

    Args:
        dtype: ``"float32"`` or ``"float64"``.
    """

    def _y(self, x):
        return x * _sigmoid(x)

    def _dy_dx(self, x):
        s = _sigmoid(x)
        return s * (1 + x * (1 - s))


class Softplus(_Activation):
    """Softplus (Dugas et al. 2001): log(1 + e^x), with PyTorch's linear cut-off as an option.

    Algorithm::

        y  = max(x, 0) + log1p(exp(-|x|))         dx = dy * sigmoid(x)
        threshold t set (PyTorch's form, beta = 1):  x > t  ->  y = x, dx = dy

    Framework notes: PyTorch ``nn.Softplus(beta=1.0, threshold=20.0)`` returns x itself above the
    threshold, so in float64 its gradient there is exactly 1 instead of sigmoid(x) = 1 - e^-x
    (1 - 2e-9 at x = 20) and its value misses log1p(e^-x); no setting turns the cut-off off.
    Keras ``keras.activations.softplus`` (``tf.math.softplus``) cuts off only where e^-x is below
    the dtype's resolution, so it matches ``threshold=None``.

    Args:
        threshold: ``None`` (the exact function) or the cut-off above which y = x (finite).
        dtype: ``"float32"`` or ``"float64"``.
    """

    def __init__(self, threshold: float | None = None, *, dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.threshold = None if threshold is None else check_real(threshold, "threshold")

    def _y(self, x):
        y = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
        return y if self.threshold is None else np.where(x > self.threshold, x, y)

    def _dy_dx(self, x):
        s = _sigmoid(x)
        return s if self.threshold is None else np.where(x > self.threshold, self.dtype.type(1), s)


class HardSigmoid(_Activation):
    """Hard sigmoid, the piecewise-linear sigmoid of MobileNetV3 (Howard et al. 2019).

    Algorithm::

        y  = relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1)
        dx = dy / 6 where -3 < x < 3, else 0                # 0 at the corners, as both frameworks

    Framework notes: Keras 3.15 ``keras.activations.hard_sigmoid`` computes relu6(x + 3) / 6, the
    same function as PyTorch ``nn.Hardsigmoid()``. Keras 2 computed clip(0.2 x + 0.5, 0, 1) (slope
    0.2, saturating at |x| = 2.5), so a model trained under Keras 2 changes when loaded in Keras 3.

    Args:
        dtype: ``"float32"`` or ``"float64"``.
    """

    def _y(self, x):
        return np.clip(x + self.dtype.type(3), 0, 6) / self.dtype.type(6)

    def _dy_dx(self, x):
        return np.where((x > -3) & (x < 3), self.dtype.type(1) / self.dtype.type(6), self.dtype.type(0))


__all__ = ["ELU", "GELU", "HardSigmoid", "LeakyReLU", "SiLU", "Softplus"]
