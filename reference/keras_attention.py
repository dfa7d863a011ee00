"""Scratch ``MultiHeadAttention`` rebuilt as a Keras 3 layer, every argument explicit.

Keras's one ``kernel_initializer`` serves all four projections, so the layer is built and the
scratch weights assigned (same layout: query/key/value kernels (d, H, dk), output (H, dv, d)).
Dropout on the attention weights is the injected-mask dropout of ``masked_dropout`` in place of
the layer's own, so Keras drops what scratch drops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference import frameworks, masked_dropout
from reference.twin import _same
from scratch.layers.attention import MultiHeadAttention

_DENSE = {"q": "_query_dense", "k": "_key_dense", "v": "_value_dense", "o": "_output_dense"}


@dataclass
class KerasAttentionTwin:
    """``forward(x, value, attention_mask, dropout_mask, training)`` -> y; ``backward(dy)`` ->
    (dx, d_value or None, grads in scratch names)."""

    layer: object
    params: dict
    dropout: object | None
    call: str = ""
    framework: str = "keras"

    def forward(self, x, value=None, attention_mask=None, dropout_mask=None, *, training: bool) -> np.ndarray:
        tf = frameworks.tf()
        if self.dropout is not None:
            self.dropout.mask = dropout_mask
        self._x = tf.constant(x)
        self._v = None if value is None else tf.constant(value)
        with tf.GradientTape() as tape:
            tape.watch(self._x)
            if self._v is not None:
                tape.watch(self._v)
            self._y = self.layer(self._x, self._x if self._v is None else self._v, key=None,
                                 attention_mask=None if attention_mask is None else tf.constant(attention_mask),
                                 training=training, use_causal_mask=False, return_attention_scores=False)
        self._tape = tape
        return self._y.numpy()

    def backward(self, dy: np.ndarray):
        names = list(self.params)
        sources = [self._x] + ([self._v] if self._v is not None else []) + [self.params[k][0] for k in names]
        out = self._tape.gradient(self._y, sources, output_gradients=frameworks.tf().constant(dy))
        k = 2 if self._v is not None else 1
        grads = {n: self.params[n][1](g.numpy()) for n, g in zip(names, out[k:], strict=True)}
        return out[0].numpy(), (out[1].numpy() if k == 2 else None), grads


def build_layer(layer: MultiHeadAttention, input_shape: tuple[int, ...],
                kv_length: int | None = None) -> KerasAttentionTwin:
    """The twin ``keras_layers.build`` returns for MultiHeadAttention (registered there); key and
    value of length ``kv_length`` (default: the query's)."""
    keras = frameworks.keras()
    dt = layer.dtype.name
    mha = keras.layers.MultiHeadAttention(
        num_heads=layer.num_heads, key_dim=layer.key_dim, value_dim=layer.value_dim, dropout=layer.dropout,
        use_bias=True, output_shape=None, attention_axes=None, sliding_window=None, flash_attention=False,
        kernel_initializer="zeros", bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
        activity_regularizer=None, kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None, dtype=dt)
    n, t, _ = input_shape
    s = t if kv_length is None else kv_length
    mha.build((n, t, layer.d_model), (n, s, layer.kv_dim))
    params = {}
    for name, attr in _DENSE.items():
        dense = getattr(mha, attr)
        dense.kernel.assign(layer.params[f"W{name}"])
        dense.bias.assign(layer.params[f"b{name}"])
        params[f"W{name}"], params[f"b{name}"] = (dense.kernel, _same), (dense.bias, _same)
    drop = None
    if layer.dropout > 0:
        drop = masked_dropout.keras_layer(layer.dropout, dt)
        drop.supports_masking = True  # Keras passes the attention mask along; the dropout ignores it
        # the injected-mask dropout in place of keras.layers.Dropout (past Keras's tracking, which is
        # closed once the layer is built)
        object.__setattr__(mha, "_dropout_layer", drop)
    call = (f"keras.layers.MultiHeadAttention(num_heads={layer.num_heads}, key_dim={layer.key_dim}, "
            f"value_dim={layer.value_dim}, dropout={layer.dropout}, use_bias=True, output_shape=None, "
            "attention_axes=None, flash_attention=False, use_gate=False)  # weights assigned after build")
    return KerasAttentionTwin(mha, params, drop, call=call)
