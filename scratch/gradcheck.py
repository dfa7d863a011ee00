"""Numerical gradients: the textbook's central difference, used as an oracle independent of
every framework.

``numerical_gradient(f, x)`` is the textbook's loop over one array. The whole-model helpers below
apply it to a ``Sequential``: ``loss_function`` (the model loss as a zero-argument function),
``model_numerical_gradient`` (every parameter, one full forward pass per perturbed entry, as the
textbook's ``TwoLayerNet.numerical_gradient``), ``backprop_gradient``, ``fixed_masks`` (Dropout
masks drawn once, so that a training-mode loss is a deterministic function) and the checks they
share with ``scratch.fastgrad``, the vectorised equivalent.
"""

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


# -- whole-model helpers: the loss of a Sequential as a function of its parameters --------------
#
# The model and loss types are only duck-typed here (``forward``/``backward``/``params``...), so this
# module imports no layer; ``Dropout`` is recognised through ``scratch.layers`` at call time.

class PrecisionWarning(UserWarning):
    """A numerical gradient was asked for in a precision where it cannot be trusted."""


#: Why a float32 central difference is not a gradient check (quoted by the warning).
FLOAT32_PROBLEM = (
    "a central difference (L(w + h) - L(w - h)) / 2h divides the rounding error of the loss by 2h: in "
    "float32 the loss carries a rounding error of about 6e-8 * |L|, so with h = 1e-4 the error of each "
    "entry is about 3e-4 * |L|, as large as the gradient of a typical weight; a smaller h is worse, a "
    "larger h trades rounding for truncation error (h^2). Build the model with dtype='float64' for a "
    "gradient check"
)


def warn_low_precision(dtype: np.dtype, *, allow_low_precision: bool, stacklevel: int = 3) -> None:
    """Warn (``PrecisionWarning``) unless ``dtype`` is float64 or the caller opted in."""
    if np.dtype(dtype) != np.float64 and not allow_low_precision:
        import warnings

        warnings.warn(f"model dtype is {np.dtype(dtype).name}: {FLOAT32_PROBLEM} (or pass "
                      "allow_low_precision=True to silence this warning)", PrecisionWarning, stacklevel=stacklevel)


def check_step(h: object) -> float:
    """Return ``h`` as a float if it is a positive finite number (a bool is not)."""
    ok = isinstance(h, (int, float, np.floating)) and not isinstance(h, bool) and np.isfinite(h) and h > 0
    if not ok:
        raise ValueError(f"h: expected a positive finite step, got {h!r}")
    return float(h)


def check_masks(model, training: bool, masks: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Every Dropout of ``model`` needs a fixed mask in a training-mode gradient: a mask drawn anew on
    each evaluation makes the loss a random function, and its differences are noise."""
    from scratch.layers.dropout import Dropout

    masks = dict(masks or {})
    if training:
        missing = [n for n, layer in zip(model.names, model.layers, strict=True)
                   if isinstance(layer, Dropout) and n not in masks]
        if missing:
            raise ValueError(f"masks: Dropout layer(s) {missing} run in training mode and need a fixed mask each "
                             "(masks={name: boolean array}; fixed_masks(model, x) draws them once), otherwise "
                             "every evaluation of the loss draws a new mask")
    return masks


def fixed_masks(model, x: np.ndarray) -> dict[str, np.ndarray]:
    """Draw one mask per Dropout layer (from each layer's own generator) by one training forward;
    the model's buffers are left as they were."""
    from scratch.layers.dropout import Dropout

    saved = {k: v.copy() for k, v in model.buffers.items()}
    try:
        model.forward(x, training=True)
        return {n: layer.mask.copy() for n, layer in zip(model.names, model.layers, strict=True)
                if isinstance(layer, Dropout)}
    finally:
        _restore_buffers(model, saved)


def _restore_buffers(model, saved: dict[str, np.ndarray]) -> None:
    for name, layer in zip(model.names, model.layers, strict=True):
        for k in layer.buffers:
            layer.buffers[k] = saved[f"{name}.{k}"]


def default_loss(loss):
    """``loss`` or, when None, ``SoftmaxCrossEntropy()`` (the batch mean on logits)."""
    if loss is None:
        from scratch.losses import SoftmaxCrossEntropy

        return SoftmaxCrossEntropy()
    if not callable(getattr(loss, "forward", None)):
        raise ValueError(f"loss: expected a scratch loss with forward(y, t), got {type(loss).__name__}")
    return loss


def scalar_loss(value: object, what: str = "loss") -> float:
    """``value`` as a float if it is a finite scalar; else ValueError naming ``what``."""
    arr = np.asarray(value)
    if arr.shape != ():
        raise ValueError(f"{what}: expected a scalar loss, got an array of shape {arr.shape}")
    if not np.isfinite(arr):
        raise ValueError(f"{what}: returned a non-finite loss {float(arr)!r}")
    return float(arr)


def loss_function(model, x: np.ndarray, t: np.ndarray, *, training: bool, loss=None,
                  masks: dict[str, np.ndarray] | None = None) -> Callable[[], float]:
    """``f() = loss(model(x), t)``, reading the model's parameter arrays at each call."""
    loss = default_loss(loss)
    masks = check_masks(model, training, masks)
    return lambda: scalar_loss(loss.forward(model.forward(x, training=training, masks=masks), t))


def model_numerical_gradient(model, x: np.ndarray, t: np.ndarray, *, training: bool, loss=None,
                             masks: dict[str, np.ndarray] | None = None, h: float = 1e-4,
                             method: str = "central", params: list[str] | None = None) -> dict[str, np.ndarray]:
    """The textbook's way: ``numerical_gradient`` over every parameter array of ``model``, one full
    forward pass and loss per perturbed entry (two for ``"central"``).

    Args:
        model: a scratch ``Sequential``.
        x, t: the batch and its labels.
        training: the forward mode (BatchNorm batch statistics, Dropout masks).
        loss: a scratch loss (default ``SoftmaxCrossEntropy()``, the batch mean).
        masks: fixed masks for every Dropout layer when ``training`` is True.
        h, method: as ``numerical_gradient``.
        params: qualified names to differentiate (default all).

    Returns:
        {qualified name: gradient array}. Buffers (BatchNorm running statistics, which a training
        forward updates) are restored afterwards.
    """
    f = loss_function(model, x, t, training=training, loss=loss, masks=masks)
    check_step(h)
    names = select_params(model, params)
    saved = {k: v.copy() for k, v in model.buffers.items()}
    try:
        all_params = model.params
        return {name: numerical_gradient(f, all_params[name], h=h, method=method) for name in names}
    finally:
        _restore_buffers(model, saved)


def select_params(model, params: list[str] | None) -> list[str]:
    """The qualified parameter names to differentiate, checked against the model."""
    names = list(model.params)
    if params is None:
        return names
    unknown = [p for p in params if p not in names]
    if unknown or not params:
        raise ValueError(f"params: expected a non-empty list of names among {names}, got {params!r}")
    return list(params)


def backprop_gradient(model, x: np.ndarray, t: np.ndarray, *, training: bool, loss=None,
                      masks: dict[str, np.ndarray] | None = None) -> tuple[float, dict[str, np.ndarray]]:
    """One forward and backward pass: (loss value, copies of every parameter gradient)."""
    loss = default_loss(loss)
    masks = check_masks(model, training, masks)
    value = scalar_loss(loss.forward(model.forward(x, training=training, masks=masks), t))
    model.backward(loss.backward(1.0))
    return value, {k: g.copy() for k, g in model.grads.items()}
