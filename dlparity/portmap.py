"""How a Keras model and a PyTorch model pair up: their steps, kinds, and weights in scratch layout.

A Keras layer with a fused activation (``Dense(4, activation="relu")``) is two steps, the layer and
its activation, as a PyTorch port writes them (``nn.Linear``, ``nn.ReLU``). Weights are read and
written in scratch's layout (W (in, out) or (F, C, KH, KW), NCHW, (c, h, w) flatten order), every
change through ``reference.layouts``; a Dense that follows a channels-last Flatten of a (C, H, W)
activation has its kernel rows in (h, w, c) order, converted with ``chw``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from dlparity import _frameworks
from dlparity.refs import BUFFERS, KERAS_KINDS, ROLES, TORCH_KINDS
from reference import layouts


@dataclass
class Step:
    """One layer of a model, in one framework, in the dtype of the run."""

    layer: object
    kind: str  # dense, conv, batchnorm, flatten, dropout, other (no weights), unmapped
    label: str
    source: object = None  # Keras: the original layer whose weights the copy takes (None: a split activation)


def _kind(name: str, table: dict, has_weights: bool) -> str:
    if "Dropout" in name:
        return "dropout"
    return table.get(name) or ("unmapped" if has_weights else "other")


def keras_layers(model) -> list | None:
    """The layers of a Keras Sequential (nested ones flattened), a single layer as a list, or None."""
    keras = _frameworks.keras()
    if isinstance(model, keras.Sequential):
        out = []
        for layer in model.layers:
            out += keras_layers(layer) if isinstance(layer, keras.Sequential) else [layer]
        return out
    if isinstance(model, keras.Model):
        return None
    return [model]


def torch_layers(module) -> list | None:
    """The modules of an ``nn.Sequential`` (nested ones flattened), a single leaf module, or None."""
    nn = _frameworks.torch().nn
    if isinstance(module, nn.Sequential):
        out = []
        for m in module.children():
            out += torch_layers(m) if isinstance(m, nn.Sequential) else [m]
        return out
    return None if list(module.children()) else [module]


def fused_activation(layer) -> str | dict | None:
    """The activation a Keras layer applies after its own work (``Dense(4, activation="relu")``), or None."""
    act = layer.get_config().get("activation")
    return None if act in (None, "linear") or type(layer).__name__ == "Activation" else act


def keras_steps(layers: list, dtype: str) -> list[Step]:
    """Copies of the layers in ``dtype`` (weights copied later), fused activations split off."""
    keras = _frameworks.keras()
    steps = []
    for layer in layers:
        config = {**layer.get_config(), "dtype": dtype}
        act = fused_activation(layer)
        split = act is not None
        if split:
            config["activation"] = "linear"
        clone = type(layer).from_config(config)
        name = type(layer).__name__
        steps.append(Step(clone, _kind(name, KERAS_KINDS, bool(layer.weights)), name, layer))
        if split:
            steps.append(Step(keras.layers.Activation(act, dtype=dtype), "other", f"{name}'s activation {act!r}"))
    return steps


def torch_steps(modules: list, dtype: str) -> list[Step]:
    torch = _frameworks.torch()
    steps = []
    for m in modules:
        name = type(m).__name__
        kind = _kind(name, TORCH_KINDS, bool(list(m.parameters())))
        steps.append(Step(copy.deepcopy(m).to(getattr(torch, dtype)), kind, name))
    return steps


def keras_depth(layers: list) -> int:
    """Steps of a Keras layer list (a fused activation counts as one more)."""
    return sum(1 + (fused_activation(layer) is not None) for layer in layers)


# -- weights in scratch layout ---------------------------------------------------------------------
KERAS_VARS = {"W": "kernel", "b": "bias", "gamma": "gamma", "beta": "beta", "running_mean": "moving_mean",
              "running_var": "moving_variance"}
TORCH_VARS = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias", "running_mean": "running_mean",
              "running_var": "running_var"}


def keras_handles(step: Step, chw: tuple | None) -> dict:
    """role -> (variable, to scratch layout, from scratch layout) of a built Keras layer."""
    out = {}
    for role in (*ROLES.get(step.kind, ()), *(BUFFERS if step.kind == "batchnorm" else ())):
        var = getattr(step.layer, KERAS_VARS[role], None)
        if var is None:
            continue
        to_s = from_s = _same
        if role == "W" and step.kind == "conv":
            to_s, from_s = layouts.conv_from_keras, layouts.conv_to_keras
        elif role == "W" and step.kind == "dense" and chw is not None:
            to_s = lambda a, c=chw: layouts.dense_rows_hwc_to_chw(a, c)  # noqa: E731
            from_s = lambda a, c=chw: layouts.dense_rows_chw_to_hwc(a, c)  # noqa: E731
        out[role] = (var, to_s, from_s)
    return out


def torch_handles(step: Step) -> dict:
    out = {}
    for role in (*ROLES.get(step.kind, ()), *(BUFFERS if step.kind == "batchnorm" else ())):
        t = getattr(step.layer, TORCH_VARS[role], None)
        if t is None:
            continue
        dense_w = role == "W" and step.kind == "dense"
        out[role] = (t, layouts.dense_from_torch if dense_w else _same, layouts.dense_to_torch if dense_w else _same)
    return out


def _same(a: np.ndarray) -> np.ndarray:
    return a


def read(handles: dict, framework: str) -> dict[str, np.ndarray]:
    """Current values in scratch layout."""
    return {r: to_s(np.array(v.detach().numpy() if framework == "torch" else v.numpy()))
            for r, (v, to_s, _) in handles.items()}


def write(handles: dict, framework: str, values: dict[str, np.ndarray], label: str) -> None:
    """Set values given in scratch layout; ValueError naming both parameters and shapes on a misfit."""
    torch = _frameworks.torch() if framework == "torch" else None
    for role, (v, to_s, from_s) in handles.items():
        if role not in values:
            raise ValueError(f"{label}: the source layer has no {role!r} to copy into {framework}'s "
                             f"{(KERAS_VARS if framework == 'keras' else TORCH_VARS)[role]}")
        target_shape = tuple(to_s(np.zeros(tuple(v.shape))).shape)
        if tuple(values[role].shape) != target_shape:
            raise ValueError(f"{label}: {role} of shape {tuple(values[role].shape)} (scratch layout) does not fit "
                             f"{framework}'s {(KERAS_VARS if framework == 'keras' else TORCH_VARS)[role]} of shape "
                             f"{tuple(v.shape)} (= {target_shape} in scratch layout)")
        new = np.array(from_s(values[role]))
        if framework == "torch":
            with torch.no_grad():
                v.copy_(torch.from_numpy(new.astype(str(v.dtype).replace("torch.", ""))))
        else:
            v.assign(new.astype(v.dtype))
