"""What every optimizer shares: argument checks, weight decay, per-parameter state, ``step``.

The update rules themselves are small pure functions (``sgd_update``, ``adam_update``, ...) in the
family modules; the classes here only keep state by parameter name and apply weight decay.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping

import numpy as np

from scratch._checks import FLOAT_DTYPES, NonFiniteError, check_choice

WEIGHT_DECAY_MODES = ("coupled", "decoupled")


# -- argument checks ----------------------------------------------------------------------------
def _is_real(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_lr(lr: object, name: str = "lr") -> float:
    """Return the learning rate as a Python float if it is a finite number >= 0."""
    if not _is_real(lr) or not math.isfinite(float(lr)) or float(lr) < 0:  # type: ignore[arg-type]
        raise ValueError(f"{name}: expected a finite learning rate >= 0, got {lr!r}")
    return float(lr)  # type: ignore[arg-type]


def check_nonnegative(value: object, name: str) -> float:
    """Return ``value`` as a Python float if it is a finite number >= 0."""
    if not _is_real(value) or not math.isfinite(float(value)) or float(value) < 0:  # type: ignore[arg-type]
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_unit(value: object, name: str, *, closed_right: bool) -> float:
    """Return ``value`` as a Python float in [0, 1) (or [0, 1] with ``closed_right``).

    Python floats, not NumPy scalars, are returned on purpose: under NumPy 2 promotion rules a
    ``np.float64`` hyperparameter would turn float32 arithmetic into float64.
    """
    ok = _is_real(value) and (0.0 <= float(value) < 1.0 or (closed_right and float(value) == 1.0))  # type: ignore[arg-type]
    if not ok:
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise ValueError(f"{name}: expected a number in {interval}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_flag(value: object, name: str) -> bool:
    """Return ``value`` if it is a bool (a truthy string or 1 is refused: it hides typos)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def check_pair(p: object, g: object, name: str) -> None:
    """Check that a parameter and its gradient are float arrays of the same shape and dtype."""
    if not isinstance(p, np.ndarray) or p.dtype not in FLOAT_DTYPES:
        raise ValueError(f"params[{name!r}]: expected a float32 or float64 numpy.ndarray, got "
                         f"{getattr(p, 'dtype', type(p).__name__)}")
    if not isinstance(g, np.ndarray):
        raise ValueError(f"grads[{name!r}]: expected a numpy.ndarray, got {type(g).__name__}")
    if g.shape != p.shape:
        raise ValueError(f"grads[{name!r}]: expected shape {p.shape} (the parameter's), got {g.shape}")
    if g.dtype != p.dtype:
        raise ValueError(f"grads[{name!r}]: expected dtype {p.dtype.name} (the parameter's), got {g.dtype.name}")
    if not np.isfinite(g).all():
        raise NonFiniteError(f"grads[{name!r}]: expected finite values, got NaN or infinite entries")
    if not p.flags.writeable:
        raise ValueError(f"params[{name!r}]: the optimizer updates parameters in place, got a read-only array; "
                         "pass a writeable one (p.copy())")


def leaf(name: str) -> str:
    """The last component of a qualified name: ``"dense1/W"`` and ``"dense1.W"`` -> ``"W"``."""
    return re.split(r"[/.]", name)[-1]


# -- weight decay -------------------------------------------------------------------------------
def coupled_decay(g: np.ndarray, p: np.ndarray, weight_decay: float) -> np.ndarray:
    """L2 regularisation folded into the gradient: ``g + weight_decay * p``.

    This is the gradient of ``loss + weight_decay / 2 * sum(p**2)``; PyTorch's ``weight_decay``
    argument of SGD, Adagrad, RMSprop and Adam, and the textbook's ``weight_decay_lambda`` (weights
    only). The decay term then passes through momentum and adaptive denominators.
    """
    return g + p * p.dtype.type(weight_decay)


def l2_penalty(params: Mapping[str, np.ndarray], weight_decay: float, names: Collection[str]) -> float:
    """The loss-side term of coupled L2 decay: ``sum over names of 0.5 * weight_decay * sum(p**2)``.

    Its gradient is ``weight_decay * p`` for each named parameter, the term :func:`coupled_decay`
    adds to the gradient, so ``loss + l2_penalty`` and ``coupled_decay`` belong together. The
    textbook's ``MultiLayerNet`` / ``MultiLayerNetExtend`` add it over the weight matrices only
    (``names = W1, W2, ...``; not biases, not gamma / beta), accumulated name by name from 0 in the
    order given, as computed here (so the sum is bit-identical to the book's).

    Framework notes: PyTorch has no loss-side term: ``SGD(weight_decay=lambda)`` on a parameter group
    of the weights adds only the gradient ``lambda * W``. Keras ``kernel_regularizer=L2(lambda / 2)``
    adds ``(lambda / 2) * sum(W**2)`` to the loss (Keras's L2 has no 1/2), with the factor cast from a
    Python float through float32 (0.05 -> 0.05000000074505806, 1.5e-8 relative; a factor exact in
    float32, such as a power of 2, is exact).

    Args:
        params: name -> array.
        weight_decay: lambda >= 0.
        names: the names of the decayed parameters, in the order of summation; each must be in ``params``.

    Returns:
        The penalty (a float; 0.0 when ``weight_decay`` is 0 or ``names`` is empty).
    """
    weight_decay = check_nonnegative(weight_decay, "weight_decay")
    if isinstance(names, str):
        raise ValueError(f"names: expected a collection of parameter names, got the string {names!r}")
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"names: {missing} not in params (which has {sorted(params)})")
    total = 0.0
    for name in names:
        total += 0.5 * weight_decay * np.sum(params[name] ** 2)
    return float(total)


def decoupled_decay(p: np.ndarray, lr: float, weight_decay: float) -> np.ndarray:
    """Decay applied to the parameter before the update: ``p - p * weight_decay * lr``.

    Keras ``weight_decay`` (every optimizer), PyTorch ``AdamW`` / ``Adam(decoupled_weight_decay=True)``
    (which computes ``p * (1 - lr * weight_decay)``, the same number up to rounding), Loshchilov &
    Hutter 2019. The gradient is the one taken at the pre-decay parameter.
    """
    return p - p * p.dtype.type(weight_decay) * p.dtype.type(lr)


# -- the optimizer wrapper ----------------------------------------------------------------------
class Optimizer:
    """Per-parameter state and weight decay around a pure update function.

    ``step(params, grads, lr)`` updates every array of ``params`` in place, in its own dtype. State
    (moments, velocities, step counts) is kept in ``self.state[name]`` and created on the first step
    a name is seen. The step count ``t`` is per parameter (PyTorch's ``state["step"]``); Keras keeps
    one shared ``iterations`` counter, the same number when every parameter is updated every step.

    Weight decay, for every parameter except those excluded::

        coupled:    g <- g + weight_decay * p                     (PyTorch weight_decay, textbook L2)
        decoupled:  p <- p - p * weight_decay * lr, then update   (Keras weight_decay, AdamW)

    Framework notes: Keras applies ``weight_decay`` (decoupled) to every trainable variable unless
    ``exclude_from_weight_decay`` names it, then the update, then ``iterations += 1``; PyTorch's
    ``weight_decay`` is coupled except in ``AdamW`` / ``Adam(decoupled_weight_decay=True)``, and
    exclusions are parameter groups with ``weight_decay=0``; the textbook adds the L2 gradient to
    the weights only. Keras has no coupled decay option: its equivalent is an L2 regularizer with
    factor weight_decay / 2 on the loss. The learning rate is an argument of ``step``, not state,
    so a schedule or callback supplies it per step.

    Args:
        weight_decay: decay factor lambda >= 0 (0 disables it).
        weight_decay_mode: ``"coupled"`` or ``"decoupled"``.
        exclude_from_weight_decay: parameter names exempt from decay; a name matches the whole
            qualified name or its last component (``("b",)`` exempts ``"dense1/b"``), like the
            textbook's weights-only L2 or Keras ``exclude_from_weight_decay``.
    """

    def __init__(self, *, weight_decay: float = 0.0, weight_decay_mode: str = "coupled",
                 exclude_from_weight_decay: Collection[str] = ()) -> None:
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay")
        self.weight_decay_mode = check_choice(weight_decay_mode, "weight_decay_mode", WEIGHT_DECAY_MODES)
        if isinstance(exclude_from_weight_decay, str) or not all(
                isinstance(n, str) for n in exclude_from_weight_decay):
            raise ValueError("exclude_from_weight_decay: expected a collection of parameter names, got "
                             f"{exclude_from_weight_decay!r}")
        self.exclude_from_weight_decay = tuple(exclude_from_weight_decay)
        self.state: dict[str, dict] = {}
        self.iterations = 0

    def decays(self, name: str) -> bool:
        """Whether weight decay applies to parameter ``name``."""
        if self.weight_decay == 0 or not self.exclude_from_weight_decay:
            return self.weight_decay > 0
        return name not in self.exclude_from_weight_decay and leaf(name) not in self.exclude_from_weight_decay

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], lr: float) -> None:
        """Apply one update to every parameter, in place.

        Args:
            params: name -> parameter array (float32 or float64); updated in place.
            grads: name -> gradient, same keys, shapes and dtypes as ``params``.
            lr: learning rate for this step (>= 0); a schedule supplies a new one each step.

        Raises:
            ValueError: on a negative or non-finite ``lr``, mismatched keys, shapes or dtypes, a
                read-only parameter, or a parameter whose shape changed since its state was created.
            NonFiniteError: (a ValueError) a non-finite gradient, or an update whose result is NaN
                or infinite (an overflow: lr = 1e308, W = 1e308), naming the parameter and the step.

        The step is atomic: every argument is checked and every new value computed first; only
        then are the parameters, the optimizer state and the step counters written. On any error
        nothing has changed.
        """
        lr = check_lr(lr)
        if set(params) != set(grads):
            missing, extra = sorted(set(params) - set(grads)), sorted(set(grads) - set(params))
            raise ValueError(f"grads: expected the same keys as params; missing {missing}, unexpected {extra}")
        for name, p in params.items():
            check_pair(p, grads[name], name)
            if name in self.state and self.state[name]["shape"] != p.shape:
                raise ValueError(f"params[{name!r}]: shape {p.shape} differs from the shape "
                                 f"{self.state[name]['shape']} its optimizer state was created with")
        staged = []  # (name, new parameter, new state): written only once all are computed
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow raises NonFiniteError below
            for name, p in params.items():
                g = grads[name]
                old = self.state.get(name)
                state = dict(old) if old is not None else {"shape": p.shape, "t": 0, **self._init_state(p)}
                state["t"] += 1
                work = p
                if self.decays(name):
                    if self.weight_decay_mode == "coupled":
                        g = coupled_decay(g, p, self.weight_decay)
                    else:
                        work = decoupled_decay(p, lr, self.weight_decay)
                new = self._update(state, work, g, lr)  # pure: new arrays, p and old state untouched
                if not np.isfinite(new).all():
                    bad = int(new.size - np.count_nonzero(np.isfinite(new)))
                    raise NonFiniteError(
                        f"params[{name!r}]: step {state['t']} (lr={lr!r}) would make {bad} of {new.size} values "
                        "NaN or infinite (an overflow); nothing was updated. Lower the learning rate or check the "
                        "parameter's scale"
                    )
                staged.append((name, new, state))
        for name, new, state in staged:
            params[name][...] = new.astype(params[name].dtype, copy=False)
            self.state[name] = state
        self.iterations += 1

    # subclasses ------------------------------------------------------------------------------
    def _init_state(self, p: np.ndarray) -> dict:
        """Initial state arrays for parameter ``p`` (zeros in its dtype unless said otherwise)."""
        raise NotImplementedError

    def _update(self, state: dict, p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        """Return the updated parameter and store the new state arrays in ``state``."""
        raise NotImplementedError

    def config(self) -> dict:
        """Every hyperparameter, for reports and for building the framework twin."""
        return {"weight_decay": self.weight_decay, "weight_decay_mode": self.weight_decay_mode,
                "exclude_from_weight_decay": self.exclude_from_weight_decay}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"
