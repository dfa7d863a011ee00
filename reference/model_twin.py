"""A scratch ``Sequential`` rebuilt as a Keras model and as a PyTorch module, weights transferred.

The Keras model runs channels-last end to end, as Keras users build it: image inputs are
transposed to NHWC once at the model boundary, and the Dense layer after a Flatten of an image gets
its rows permuted ((c, h, w) -> (h, w, c), ``layouts.dense_rows_chw_to_hwc``) so that it computes
the same function. Parameters and gradients are read back in scratch's names and layouts.
Dropout layers become ``masked_dropout`` layers so that all three implementations apply the same
mask; with ``dropout="own"`` they are each framework's own ``Dropout`` instead, which draws its own
masks (the benchmark: every implementation pays for its own random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reference import keras_layers, layouts, masked_dropout, torch_layers
from reference.twin import Convert, _same
from scratch import layers as L
from scratch.model import Sequential


@dataclass
class ModelTwin:
    """A framework model with scratch-named handles.

    Attributes:
        framework: ``"keras"`` or ``"torch"``.
        model: the ``keras.Sequential`` or ``torch.nn.Sequential``.
        params: qualified scratch name -> (variable or parameter, converter to scratch layout).
        buffers: qualified scratch name -> (variable or buffer, converter to scratch layout).
        dropouts: Dropout layer name -> the masked-dropout layer (set ``.mask`` before a step);
            empty when the twin was built with the framework's own Dropout.
        to_fw: input converter (NCHW -> NHWC for Keras image models).
    """

    framework: str
    model: object
    params: dict[str, tuple[object, Convert]] = field(default_factory=dict)
    buffers: dict[str, tuple[object, Convert]] = field(default_factory=dict)
    dropouts: dict[str, object] = field(default_factory=dict)
    to_fw: Convert = _same

    def read(self, which: str = "params") -> dict[str, np.ndarray]:
        """Current values in scratch layout."""
        handles = self.params if which == "params" else self.buffers
        out = {}
        for k, (v, conv) in handles.items():
            value = v.detach().numpy() if self.framework == "torch" else v.numpy()
            out[k] = conv(np.array(value))
        return out

    def set_masks(self, masks: dict[str, np.ndarray] | None) -> None:
        for name, layer in self.dropouts.items():
            layer.mask = (masks or {}).get(name)


def _shapes(model: Sequential, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Input shape (batch of 1) of every layer, from a scratch evaluation forward on zeros."""
    x = np.zeros((1, *input_shape), dtype=model.dtype)
    shapes = []
    for layer in model.layers:
        shapes.append(x.shape)
        x = layer.forward(x, training=False)
    return shapes


def _check_dropout(dropout: str) -> None:
    if dropout not in ("masked", "own"):
        raise ValueError(f"dropout: expected 'masked' or 'own', got {dropout!r}")


def build_keras(model: Sequential, input_shape: tuple[int, ...], *, dropout: str = "masked") -> ModelTwin:
    """Keras ``Sequential`` computing the same function as ``model`` on NHWC images.

    ``dropout``: ``"masked"`` (masks injected with ``set_masks``) or ``"own"`` (``keras.layers.Dropout``,
    seeded by the layer's position).
    """
    from reference import frameworks

    _check_dropout(dropout)
    keras = frameworks.keras()
    dtype = model.dtype.name
    shapes = _shapes(model, input_shape)
    twin = ModelTwin("keras", None, to_fw=layouts.nchw_to_nhwc)
    klayers = []
    after_image_flatten: tuple[int, int, int] | None = None
    for name, layer, shape in zip(model.names, model.layers, shapes, strict=True):
        if isinstance(layer, L.Dropout):
            if dropout == "own":
                klayers.append(keras.layers.Dropout(layer.rate, noise_shape=None, seed=len(klayers), dtype=dtype))
                continue
            klayer = masked_dropout.keras_layer(layer.rate, dtype)
            twin.dropouts[name] = klayer
            klayers.append(klayer)
            continue
        source = layer
        if isinstance(layer, L.Dense) and after_image_flatten is not None:
            chw = after_image_flatten
            source = L.Dense(layer.in_features, layer.units, W=layouts.dense_rows_chw_to_hwc(layer.params["W"], chw),
                             b=layer.params["b"], dtype=dtype)
        ktwin = keras_layers.build(source, shape)
        klayers.append(ktwin.layer)
        for k, (var, conv) in ktwin.params.items():
            if source is not layer and k == "W":
                conv = (lambda c: lambda a: layouts.dense_rows_hwc_to_chw(a, c))(after_image_flatten)
            twin.params[f"{name}.{k}"] = (var, conv)
        for k, (var, conv) in ktwin.buffers_.items():
            twin.buffers[f"{name}.{k}"] = (var, conv)
        after_image_flatten = tuple(shape[1:]) if isinstance(layer, L.Flatten) and len(shape) == 4 else None
    fw_shape = layouts.nchw_to_nhwc(np.zeros((1, *input_shape))).shape[1:]
    twin.model = keras.Sequential([keras.Input(shape=fw_shape, dtype=dtype), *klayers])
    return twin


def build_torch(model: Sequential, input_shape: tuple[int, ...], *, dropout: str = "masked") -> ModelTwin:
    """``torch.nn.Sequential`` computing the same function as ``model`` (NCHW, like scratch).

    ``dropout``: ``"masked"`` (masks injected with ``set_masks``) or ``"own"`` (``torch.nn.Dropout``).
    """
    from reference import frameworks

    _check_dropout(dropout)
    nn = frameworks.torch().nn
    shapes = _shapes(model, input_shape)
    twin = ModelTwin("torch", None)
    modules = []
    for name, layer, shape in zip(model.names, model.layers, shapes, strict=True):
        if isinstance(layer, L.Dropout) and dropout == "own":
            modules.append(nn.Dropout(p=layer.rate, inplace=False))
            continue
        if isinstance(layer, L.Dropout):
            module = masked_dropout.torch_module(layer.rate)
            twin.dropouts[name] = module
            modules.append(module)
            continue
        ttwin = torch_layers.build(layer, shape)
        modules.append(ttwin.module)
        twin.params.update({f"{name}.{k}": v for k, v in ttwin.params.items()})
        twin.buffers.update({f"{name}.{k}": v for k, v in ttwin.buffers_.items()})
    twin.model = nn.Sequential(*modules)
    return twin
