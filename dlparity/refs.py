"""What a layer is checked against: a PyTorch module, a Keras layer, or a scratch / scratch.textbook layer.

``describe`` recognises the object and its kind (dense, conv, batchnorm, flatten, or parameter-free);
``twin`` builds, for one dtype, a private copy of it holding the user's weights behind the layer-twin
interface of ``reference.twin`` (scratch layout in and out: NCHW images, (c, h, w) flatten order,
W as (in, out) or (F, C, KH, KW)). Every layout change goes through ``reference.layouts``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from dlparity import _frameworks
from dlparity.adapt import BUFFERS, UserLayer

#: the parameter roles and buffers of each kind
ROLES = {"dense": ("W", "b"), "conv": ("W", "b"), "batchnorm": ("gamma", "beta")}

TORCH_KINDS = {"Linear": "dense", "Conv2d": "conv", "BatchNorm1d": "batchnorm", "BatchNorm2d": "batchnorm",
               "Flatten": "flatten", "Dropout": "dropout"}
KERAS_KINDS = {"Dense": "dense", "Conv2D": "conv", "BatchNormalization": "batchnorm", "Flatten": "flatten",
               "Dropout": "dropout"}
SCRATCH_KINDS = {"Dense": "dense", "Affine": "dense", "Conv2D": "conv", "Convolution": "conv",
                 "BatchNorm": "batchnorm", "BatchNormalization": "batchnorm", "Flatten": "flatten"}

ACCEPTED = ("a torch.nn.Module, a Keras layer, a scratch or scratch.textbook layer, or a list of them")


@dataclass
class Reference:
    """A recognised reference object.

    Attributes:
        obj: the object as given (never modified: every run works on a copy).
        framework: ``"torch"``, ``"keras"`` or ``"scratch"``.
        kind: ``"dense"``, ``"conv"``, ``"batchnorm"``, ``"flatten"`` or ``"other"`` (no parameters).
        roles: parameter roles it takes from the user's layer; buffers: its running statistics.
    """

    obj: object
    framework: str
    kind: str
    roles: tuple[str, ...]
    buffers: tuple[str, ...]

    @property
    def label(self) -> str:
        prefix = {"torch": "torch.nn.", "keras": "keras.layers.", "scratch": "scratch "}[self.framework]
        return prefix + type(self.obj).__name__


def framework_of(obj) -> str | None:
    """``"torch"``, ``"keras"``, ``"scratch"`` or None, from the class's module (no import)."""
    for cls in type(obj).__mro__:
        root = cls.__module__.split(".")[0]
        if root in ("torch", "keras", "scratch"):
            return root
    return None


def describe(obj, what: str = "reference") -> Reference:
    """Recognise one reference object.

    Raises:
        TypeError: not a supported framework object, or a layer with parameters dlparity has no map for.
    """
    fw = framework_of(obj)
    name = type(obj).__name__
    if fw == "torch" and hasattr(obj, "named_parameters"):
        kind = TORCH_KINDS.get(name) or ("other" if not list(obj.parameters()) else None)
        if kind is None:
            raise TypeError(f"{what}: no weight map for torch.nn.{name} (its parameters: "
                            f"{', '.join(n for n, _ in obj.named_parameters())}); dlparity maps Linear, Conv2d, "
                            "BatchNorm1d/2d and parameter-free modules")
        roles = tuple(r for r, attr in zip(ROLES.get(kind, ()), ("weight", "bias"), strict=False)
                      if getattr(obj, attr, None) is not None)
        buffers = BUFFERS if kind == "batchnorm" and getattr(obj, "running_mean", None) is not None else ()
        return Reference(obj, "torch", kind, roles, buffers)
    if fw == "keras" and hasattr(obj, "get_config"):
        kind = KERAS_KINDS.get(name) or ("other" if not obj.weights else None)
        if kind is None:
            raise TypeError(f"{what}: no weight map for keras.layers.{name} (its weights: "
                            f"{', '.join(w.path for w in obj.weights)}); dlparity maps Dense, Conv2D, "
                            "BatchNormalization and layers without weights")
        roles = ROLES.get(kind, ())
        if kind in ("dense", "conv") and not obj.use_bias:
            roles = ("W",)
        if kind == "batchnorm":
            roles = tuple(r for r, on in zip(roles, (obj.scale, obj.center), strict=True) if on)
        return Reference(obj, "keras", kind, roles, BUFFERS if kind == "batchnorm" else ())
    if fw == "scratch" and callable(getattr(obj, "forward", None)):
        kind = SCRATCH_KINDS.get(name, "other")
        return Reference(obj, "scratch", kind, ROLES.get(kind, ()), BUFFERS if kind == "batchnorm" else ())
    raise TypeError(f"{what}: expected {ACCEPTED}, got {type(obj).__module__}.{name}")


def describe_all(reference) -> list[Reference]:
    """One or several references (a list or tuple of them)."""
    items = list(reference) if isinstance(reference, (list, tuple)) else [reference]
    if not items:
        raise ValueError(f"reference: expected {ACCEPTED}, got an empty {type(reference).__name__}")
    return [describe(r, f"reference[{i}]" if len(items) > 1 else "reference") for i, r in enumerate(items)]


# -- twins: the reference in one dtype, holding the user's weights ---------------------------------
def _check_shape(role: str, value: np.ndarray, expected: tuple[int, ...], ref: Reference, fw_name: str,
                 user_label: str) -> None:
    if tuple(value.shape) != tuple(expected):
        raise ValueError(f"{role}: the layer's {user_label} has shape {tuple(value.shape)}, but {ref.label}'s "
                         f"{fw_name} needs {tuple(expected)} in the layer's layout")


def twin(ref: Reference, dtype: str, params: dict, buffers: dict, x_shape: tuple[int, ...], labels: dict):
    """The reference in ``dtype`` with ``params`` / ``buffers`` (scratch layout) copied in.

    Args:
        labels: role -> the user's own name of it (for shape errors).
    """
    if ref.framework == "torch":
        return _torch_twin(ref, dtype, params, buffers, labels)
    if ref.framework == "keras":
        return _keras_twin(ref, dtype, params, buffers, x_shape, labels)
    return ScratchTwin(ref, dtype, params, buffers, labels)


def _torch_twin(ref, dtype, params, buffers, labels):
    from reference import layouts
    from reference.twin import TorchLayerTwin, _same

    torch = _frameworks.torch()
    module = copy.deepcopy(ref.obj).to(getattr(torch, dtype))
    attrs = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias"}
    to_fw = layouts.dense_to_torch if ref.kind == "dense" else _same
    from_fw = layouts.dense_from_torch if ref.kind == "dense" else _same
    handles = {}
    with torch.no_grad():
        for role in ref.roles:
            p = getattr(module, attrs[role])
            conv_in, conv_out = (to_fw, from_fw) if role == "W" else (_same, _same)
            _check_shape(role, params[role], conv_out(np.zeros(tuple(p.shape))).shape, ref, attrs[role],
                         labels[role])
            p.copy_(torch.from_numpy(np.array(conv_in(params[role]), dtype=dtype)))
            handles[role] = (p, conv_out)
        buf_handles = {}
        for role in ref.buffers:
            b = getattr(module, role)
            _check_shape(role, buffers[role], tuple(b.shape), ref, role, labels[role])
            b.copy_(torch.from_numpy(np.array(buffers[role], dtype=dtype)))
            buf_handles[role] = (b, _same)
    return TorchLayerTwin(module, handles, buf_handles, call=ref.label)


def _keras_twin(ref, dtype, params, buffers, x_shape, labels):
    from reference import layouts
    from reference.twin import KerasLayerTwin, _same

    _frameworks.keras()
    layer = type(ref.obj).from_config({**ref.obj.get_config(), "dtype": dtype})
    channels_first = getattr(ref.obj, "data_format", "channels_last") == "channels_first"
    image = len(x_shape) == 4 and not channels_first
    fw_shape = layouts.nchw_to_nhwc(np.zeros((1, *x_shape[1:]))).shape if image else (1, *x_shape[1:])
    layer.build((None, *fw_shape[1:]))
    names = {"W": "kernel", "b": "bias", "gamma": "gamma", "beta": "beta", "running_mean": "moving_mean",
             "running_var": "moving_variance"}
    conv = ref.kind == "conv" and not channels_first
    handles, buf_handles = {}, {}
    for role in (*ref.roles, *ref.buffers):
        var = getattr(layer, names[role])
        value = params[role] if role in ref.roles else buffers[role]
        to_fw, from_fw = (layouts.conv_to_keras, layouts.conv_from_keras) if conv and role == "W" else (_same, _same)
        _check_shape(role, value, from_fw(np.zeros(tuple(var.shape))).shape, ref, names[role], labels[role])
        var.assign(np.array(to_fw(value), dtype=dtype))
        (handles if role in ref.roles else buf_handles)[role] = (var, from_fw)
    io = {"to_fw": layouts.nchw_to_nhwc, "from_fw": layouts.nhwc_to_nchw} if image else {}
    return KerasLayerTwin(layer, handles, buf_handles, call=ref.label, **io)


class ScratchTwin:
    """A scratch or scratch.textbook layer behind the layer-twin interface (a private copy)."""

    def __init__(self, ref: Reference, dtype: str, params: dict, buffers: dict, labels: dict) -> None:
        self.layer = UserLayer(ref.obj, ref.roles, ref.buffers, what="reference")
        self.dtype = dtype
        self.layer.cast(dtype)
        for role in ref.roles:
            own = np.asarray(self.layer.params()[role])
            _check_shape(role, params[role], own.shape, ref, self.layer.label(role), labels[role])
            self.layer._set(self.layer._where[role], np.array(params[role], dtype=dtype))
        self.set_buffers(buffers)
        self.layer.cast(dtype)  # a textbook layer hands the new arrays to its core

    def forward(self, x: np.ndarray, *, training: bool) -> tuple[np.ndarray, dict]:
        return self.layer.forward(x, training=training), {}

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        dx = self.layer.backward(dy)
        return dx, self.layer.grads()

    def buffers(self) -> dict[str, np.ndarray]:
        return {k: np.array(v) for k, v in self.layer.buffers().items()}

    def set_buffers(self, values: dict) -> None:
        for role in self.layer.buffer_roles:
            self.layer._set(self.layer._where[role], np.array(values[role], dtype=self.dtype))
