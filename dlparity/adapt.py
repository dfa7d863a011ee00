"""A NumPy layer in any of the common shapes, driven through one interface.

Accepted shapes (the error for anything else lists them):

1. the textbook's: ``forward(x)`` or ``forward(x, train_flg)``, ``backward(dout)``, parameters and
   gradients as attributes (``W``, ``b``, ``dW``, ``db``; ``gamma``, ``beta``, ``dgamma``, ``dbeta``,
   ``running_mean``, ``running_var`` for batch normalization);
2. a holder of ``params`` / ``grads`` dicts with those keys (and the same methods);
3. a scratch layer: ``forward(x, *, training)``, ``backward(dy)``, ``params`` / ``grads`` / ``buffers``.

Roles are the canonical names of ``scratch`` (``W`` in (in, out) or (F, C, KH, KW) layout, ``b``,
``gamma``, ``beta``, ``running_mean``, ``running_var``). ``names`` maps a role (or its gradient,
``dW``...) to the layer's own attribute or dict key when it cannot be found by those names.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping

import numpy as np

#: where a role is looked for, in order (attributes, then params/grads/buffers dict keys)
ALIASES = {
    "W": ("W", "weight", "kernel", "w"),
    "b": ("b", "bias"),
    "gamma": ("gamma", "weight", "scale"),
    "beta": ("beta", "bias", "shift"),
    "running_mean": ("running_mean", "moving_mean"),
    "running_var": ("running_var", "moving_var", "moving_variance"),
}
BUFFERS = ("running_mean", "running_var")
_MISSING = object()

SHAPES = (
    "accepted layer shapes: (1) the textbook's: forward(x) or forward(x, train_flg), backward(dout), parameters "
    "and gradients as attributes W, b, dW, db (gamma, beta, dgamma, dbeta, running_mean, running_var for batch "
    "normalization); (2) an object with params / grads dicts holding those keys; (3) a scratch layer "
    "(forward(x, *, training), backward(dy), params / grads / buffers). Name attributes that differ with "
    "names={'W': 'your_attribute', 'dW': 'your_gradient'}"
)


def _describe(obj) -> str:
    return type(obj).__name__


class UserLayer:
    """The user's layer (a private copy), read and driven by role.

    Args:
        obj: the layer; it is deep-copied, so the caller's object and its state are never changed.
        roles: the parameter roles the reference needs (e.g. ``("W", "b")``).
        buffers: the buffer roles the reference keeps (``("running_mean", "running_var")`` or ``()``).
        names: role (or ``"d" + role``) -> attribute / dict key of the layer.
        what: the argument's name in error messages.

    Raises:
        TypeError: the object has no forward/backward, or a role cannot be found.
    """

    def __init__(self, obj, roles: tuple[str, ...], buffers: tuple[str, ...] = (),
                 names: Mapping[str, str] | None = None, what: str = "layer") -> None:
        forward, backward = getattr(obj, "forward", None), getattr(obj, "backward", None)
        if not callable(forward) or not callable(backward):
            raise TypeError(f"{what}: {_describe(obj)} has no forward/backward methods; {SHAPES}")
        self.obj = copy.deepcopy(obj)
        self.what = what
        self.names = dict(names or {})
        self.roles, self.buffer_roles = roles, buffers
        self.mode_arg = _mode_argument(self.obj.forward)
        self._where = {role: self._locate(role, grad=False) for role in (*roles, *buffers)}

    # -- where each role lives --------------------------------------------------------------
    def _dicts(self, grad: bool) -> list[tuple[str, Mapping]]:
        keys = ("grads",) if grad else ("params", "buffers")
        return [(k, getattr(self.obj, k)) for k in keys if isinstance(getattr(self.obj, k, None), Mapping)]

    def _locate(self, role: str, *, grad: bool) -> tuple[str, str]:
        """("attr", name) or (dict name, key) of a role; TypeError listing where it was looked for."""
        key = ("d" + role) if grad else role
        candidates = [self.names[key]] if key in self.names else []
        if grad:
            base = self._where[role][1] if role in self._where else role
            candidates += [f"d{base}", f"d{role}", f"grad_{role}"]
        else:
            candidates += list(ALIASES.get(role, (role,)))
        for name in candidates:
            value = getattr(self.obj, name, _MISSING)
            if isinstance(value, np.ndarray) or (value is None and (grad or role in BUFFERS)):
                return "attr", name
        if key in self.names:
            dict_keys = [self.names[key]]
        elif grad:
            dict_keys = [self._where[role][1], role] if role in self._where else [role]
        else:
            dict_keys = list(ALIASES.get(role, (role,)))
        for dname, d in self._dicts(grad):
            for k in dict_keys:
                if k in d:
                    return dname, k
        looked = ", ".join(candidates) + f" and {'grads' if grad else 'params'}[{dict_keys[0]!r}]"
        kind = "gradient" if grad else ("running statistic" if role in BUFFERS else "parameter")
        raise TypeError(f"{self.what}: {_describe(self.obj)} has no {kind} {key!r} (looked for {looked}); {SHAPES}")

    def _get(self, where: tuple[str, str]):
        kind, name = where
        return getattr(self.obj, name) if kind == "attr" else getattr(self.obj, kind)[name]

    def _set(self, where: tuple[str, str], value: np.ndarray) -> None:
        kind, name = where
        if kind == "attr":
            setattr(self.obj, name, value)
        else:
            getattr(self.obj, kind)[name] = value

    def label(self, role: str) -> str:
        """The layer's own name of a role (for messages)."""
        kind, name = self._where[role]
        return name if kind == "attr" else f"{kind}[{name!r}]"

    # -- values -------------------------------------------------------------------------------
    def params(self) -> dict[str, np.ndarray]:
        return {r: np.asarray(self._get(self._where[r])) for r in self.roles}

    def buffers(self) -> dict[str, np.ndarray | None]:
        return {r: self._get(self._where[r]) for r in self.buffer_roles}

    def grads(self) -> dict[str, np.ndarray]:
        out = {}
        for role in self.roles:
            value = self._get(self._locate(role, grad=True))
            if value is None:
                raise TypeError(f"{self.what}: {_describe(self.obj)}.backward left the gradient of "
                                f"{self.label(role)!r} unset (None); {SHAPES}")
            out[role] = np.asarray(value)
        return out

    def cast(self, dtype: str) -> None:
        """Every parameter and running statistic as a copy in ``dtype``; buffers left None (the
        textbook creates them at the first forward) become zeros of the parameters' length."""
        size = None
        for role in self.roles:
            value = np.asarray(self._get(self._where[role]))
            self._set(self._where[role], value.astype(dtype, copy=True))
            size = value.shape[0] if value.ndim == 1 else size
        for role in self.buffer_roles:
            value = self._get(self._where[role])
            value = np.zeros(size, dtype=dtype) if value is None else np.asarray(value).astype(dtype, copy=True)
            self._set(self._where[role], value)
        if isinstance(getattr(self.obj, "dtype", None), np.dtype):  # a scratch layer checks inputs against it
            self.obj.dtype = np.dtype(dtype)
            for dname in ("grads", "buffers"):
                d = getattr(self.obj, dname, None)
                if isinstance(d, dict):
                    for k, v in d.items():
                        d[k] = np.asarray(v).astype(dtype)
        core = getattr(self.obj, "core", None)  # a scratch.textbook layer rebuilds its core for the dtype
        if core is not None and hasattr(self.obj, "core_for"):
            self.obj.core_for(np.dtype(dtype))

    # -- running ------------------------------------------------------------------------------
    @property
    def has_modes(self) -> bool:
        return self.mode_arg is not None

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        if self.mode_arg is None:
            y = self.obj.forward(x)
        elif self.mode_arg == "keyword":
            y = self.obj.forward(x, training=training)
        else:
            y = self.obj.forward(x, training)
        return np.asarray(y)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return np.asarray(self.obj.backward(dy))


def _mode_argument(forward) -> str | None:
    """How ``forward`` takes the mode: ``"keyword"`` (``training=``), ``"positional"`` (a second
    parameter such as the textbook's ``train_flg``) or None (no mode)."""
    try:
        sig = inspect.signature(forward)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if "training" in sig.parameters and sig.parameters["training"].kind is inspect.Parameter.KEYWORD_ONLY:
        return "keyword"
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return "positional" if len(positional) >= 2 else None
