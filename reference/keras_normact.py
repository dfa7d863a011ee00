"""Keras twins of LayerNorm, GroupNorm, Embedding and the element-wise activations beyond the
textbook (``BUILDERS``, registered by ``reference.keras_layers``); every argument explicit.

Keras 3.15 has layers for LeakyReLU and ELU only; GELU, SiLU, Softplus and HardSigmoid are the
``keras.activations`` functions in a ``keras.layers.Activation``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reference import frameworks, layouts
from reference.twin import KerasLayerTwin, _same
from scratch import layers as L

#: scratch layer class -> builder(layer, input_shape); ``reference.keras_layers`` registers them on its
#: ``build`` (this module does not import it, so the two stay free of an import cycle).
BUILDERS: dict[type, Callable] = {}


def _register(cls: type) -> Callable[[Callable], Callable]:
    def record(fn: Callable) -> Callable:
        BUILDERS[cls] = fn
        return fn
    return record


def _const(a: np.ndarray):
    return frameworks.keras().initializers.Constant(np.array(a))


def _built(layer, fw_input_shape: tuple[int, ...]):
    layer.build((None, *fw_input_shape[1:]))
    return layer

CHANNELS_LAST = {"to_fw": layouts.channels_first_to_last, "from_fw": layouts.channels_last_to_first}


def _activation(layer, fn, call: str) -> KerasLayerTwin:
    act = frameworks.keras().layers.Activation(fn, dtype=layer.dtype.name)
    return KerasLayerTwin(act, {}, call=f"keras.layers.Activation({call})")


@_register(L.LeakyReLU)
def _(layer: L.LeakyReLU, input_shape):
    keras = frameworks.keras()
    act = keras.layers.LeakyReLU(negative_slope=layer.negative_slope, dtype=layer.dtype.name)
    return KerasLayerTwin(act, {}, call=f"keras.layers.LeakyReLU(negative_slope={layer.negative_slope!r})")


@_register(L.ELU)
def _(layer: L.ELU, input_shape):
    act = frameworks.keras().layers.ELU(alpha=layer.alpha, dtype=layer.dtype.name)
    return KerasLayerTwin(act, {}, call=f"keras.layers.ELU(alpha={layer.alpha!r})")


@_register(L.GELU)
def _(layer: L.GELU, input_shape):
    keras = frameworks.keras()
    approximate = layer.approximate == "tanh"
    return _activation(layer, lambda x: keras.activations.gelu(x, approximate=approximate),
                       f"lambda x: keras.activations.gelu(x, approximate={approximate})")


@_register(L.SiLU)
def _(layer: L.SiLU, input_shape):
    keras = frameworks.keras()
    return _activation(layer, lambda x: keras.activations.silu(x), "lambda x: keras.activations.silu(x)")


@_register(L.Softplus)
def _(layer: L.Softplus, input_shape):
    if layer.threshold is not None:
        raise NotImplementedError("threshold: keras.activations.softplus has no linear cut-off")
    keras = frameworks.keras()
    return _activation(layer, lambda x: keras.activations.softplus(x), "lambda x: keras.activations.softplus(x)")


@_register(L.HardSigmoid)
def _(layer: L.HardSigmoid, input_shape):
    keras = frameworks.keras()
    return _activation(layer, lambda x: keras.activations.hard_sigmoid(x),
                       "lambda x: keras.activations.hard_sigmoid(x)  # relu6(x + 3) / 6 in Keras 3")


@_register(L.LayerNorm)
def _(layer: L.LayerNorm, input_shape):
    keras = frameworks.keras()
    axes = layer.resolved_axes(len(input_shape))
    ordered = sorted(axes)
    to_keras = {"gamma": layouts.params_to_sorted_axes(layer.params["gamma"], axes),
                "beta": layouts.params_to_sorted_axes(layer.params["beta"], axes)}
    ln = keras.layers.LayerNormalization(
        axis=list(ordered), epsilon=layer.eps, center=True, scale=True, rms_scaling=False,
        beta_initializer=_const(to_keras["beta"]), gamma_initializer=_const(to_keras["gamma"]),
        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
        dtype=layer.dtype.name,
    )
    back = lambda p: layouts.params_from_sorted_axes(p, axes)  # noqa: E731
    call = (f"keras.layers.LayerNormalization(axis={list(ordered)}, epsilon={layer.eps!r}, center=True, scale=True, "
            "rms_scaling=False)")
    return KerasLayerTwin(_built(ln, input_shape), {"gamma": (ln.gamma, back), "beta": (ln.beta, back)}, call=call)


@_register(L.GroupNorm)
def _(layer: L.GroupNorm, input_shape):
    keras = frameworks.keras()
    gn = keras.layers.GroupNormalization(
        groups=layer.groups, axis=-1, epsilon=layer.eps, center=True, scale=True,
        beta_initializer=_const(layer.params["beta"]), gamma_initializer=_const(layer.params["gamma"]),
        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
        dtype=layer.dtype.name,
    )
    fw_shape = tuple(layouts.channels_first_to_last(np.empty(input_shape)).shape)
    call = (f"keras.layers.GroupNormalization(groups={layer.groups}, axis=-1, epsilon={layer.eps!r}, center=True, "
            "scale=True)" + ("  # on channels-last input" if len(input_shape) >= 3 else ""))
    return KerasLayerTwin(_built(gn, fw_shape), {"gamma": (gn.gamma, _same), "beta": (gn.beta, _same)},
                          call=call, **CHANNELS_LAST)


@dataclass
class KerasIdsTwin(KerasLayerTwin):
    """A layer whose input is integer ids (Embedding): no input gradient (``backward`` returns None
    for dx); ``mask`` after a forward is what Keras's ``compute_mask`` gives (None without mask_zero)."""

    def forward(self, x: np.ndarray, *, training: bool) -> tuple[np.ndarray, dict]:
        tf = frameworks.tf()
        ids = tf.constant(np.asarray(x).astype(np.int64))
        with tf.GradientTape() as tape:
            self._y = self.layer(ids, training=training)
        self._tape = tape
        self.mask = self.layer.compute_mask(ids)
        return self._y.numpy(), {}

    def backward(self, dy: np.ndarray) -> tuple[None, dict[str, np.ndarray]]:
        tf = frameworks.tf()
        names = list(self.params)
        out = self._tape.gradient(self._y, [self.params[k][0] for k in names], output_gradients=tf.constant(dy))
        # a lookup's gradient is IndexedSlices (rows and values); densify to the table's shape
        return None, {k: self.params[k][1](tf.convert_to_tensor(g).numpy()) for k, g in zip(names, out, strict=True)}


@_register(L.Embedding)
def _(layer: L.Embedding, input_shape):
    keras = frameworks.keras()
    mask_zero = layer.padding_idx == 0  # Keras's nearest counterpart of padding_idx=0 (masks; no zero gradient)
    if layer.padding_idx not in (None, 0):
        raise NotImplementedError(f"padding_idx={layer.padding_idx}: Keras masks id 0 only (mask_zero)")
    emb = keras.layers.Embedding(
        layer.num_embeddings, layer.dim, embeddings_initializer=_const(layer.params["W"]), embeddings_regularizer=None,
        embeddings_constraint=None, mask_zero=mask_zero, weights=None, lora_rank=None, lora_alpha=None,
        dtype=layer.dtype.name,
    )
    emb.build(input_shape)
    call = (f"keras.layers.Embedding({layer.num_embeddings}, {layer.dim}, mask_zero={mask_zero}, "
            "embeddings_regularizer=None, embeddings_constraint=None, lora_rank=None)")
    return KerasIdsTwin(emb, {"W": (emb.embeddings, _same)}, call=call)
