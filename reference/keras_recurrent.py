"""Scratch recurrent layers rebuilt as Keras 3 layers, every argument explicit.

``build_layer`` (``keras_layers.build`` for these classes) gives the twin used in a model and in the layer cases: the
sequence in, the last hidden state (or every one) out. ``build_stateful`` gives a twin that also
takes initial states and returns the final ones (``return_state=True``), with gradients for both.
Scratch keeps Keras's layout, so the weights go in unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference import frameworks
from reference.twin import KerasLayerTwin, _same


def _const(a: np.ndarray):
    return frameworks.keras().initializers.Constant(np.array(a))


def _built(layer, fw_input_shape: tuple[int, ...]):
    layer.build((None, *fw_input_shape[1:]))
    return layer


def _rnn(layer, *, return_state: bool):
    """The Keras layer of a scratch SimpleRNN / LSTM / GRU, and its call written out."""
    keras = frameworks.keras()
    kind = type(layer).__name__
    common = {"activation": "tanh", "use_bias": True, "kernel_initializer": _const(layer.params["W"]),
              "recurrent_initializer": _const(layer.params["U"]), "bias_initializer": _const(layer.params["b"]),
              "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
              "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
              "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0, "seed": None,
              "return_sequences": layer.return_sequences, "return_state": return_state, "go_backwards": False,
              "stateful": False, "unroll": False}
    extra: dict = {}
    if kind == "LSTM":  # unit_forget_bias=True sets the forget-gate bias to ones at build time (and with a
        # Constant of the whole (4u,) bias it fails: the initializer is called per gate block)
        extra = {"recurrent_activation": "sigmoid", "unit_forget_bias": False, "use_cudnn": False}
    elif kind == "GRU":
        extra = {"recurrent_activation": "sigmoid", "reset_after": layer.reset_after, "use_cudnn": False}
    module = getattr(keras.layers, kind)(layer.units, **common, **extra, dtype=layer.dtype.name)
    shown = {k: v for k, v in {**common, **extra}.items() if not k.endswith("_initializer")}
    call = f"keras.layers.{kind}({layer.units}, " + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"
    return module, call


def _handles(module):
    cell = module.cell
    return {"W": (cell.kernel, _same), "U": (cell.recurrent_kernel, _same), "b": (cell.bias, _same)}


def build_layer(layer, input_shape: tuple[int, ...]) -> KerasLayerTwin:
    """The twin ``keras_layers.build`` returns for a recurrent layer (registered there)."""
    module, call = _rnn(layer, return_state=False)
    _built(module, input_shape)
    return KerasLayerTwin(module, _handles(module), call=call)


@dataclass
class KerasRecurrentTwin:
    """A Keras recurrent layer with ``return_state=True``: initial states in, final states out."""

    layer: object
    params: dict
    call: str = ""
    framework: str = "keras"

    def forward(self, x: np.ndarray, initial_state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple]:
        tf = frameworks.tf()
        self._sources = [tf.constant(x), *[tf.constant(s) for s in initial_state]]
        with tf.GradientTape() as tape:
            for s in self._sources:
                tape.watch(s)
            self._out = self.layer(self._sources[0], initial_state=list(self._sources[1:]), training=True)
        self._tape = tape
        return self._out[0].numpy(), tuple(s.numpy() for s in self._out[1:])

    def backward(self, dy: np.ndarray, d_state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple, dict]:
        tf = frameworks.tf()
        names = list(self.params)
        upstream = [tf.constant(dy), *[tf.constant(d) for d in d_state]]
        out = self._tape.gradient(self._out, self._sources + [self.params[k][0] for k in names],
                                  output_gradients=upstream)
        k = len(self._sources)
        grads = {n: self.params[n][1](g.numpy()) for n, g in zip(names, out[k:], strict=True)}
        return out[0].numpy(), tuple(g.numpy() for g in out[1:k]), grads


def build_stateful(layer, input_shape: tuple[int, ...]) -> KerasRecurrentTwin:
    """The Keras twin of a scratch recurrent layer that takes and returns states."""
    module, call = _rnn(layer, return_state=True)
    _built(module, input_shape)
    return KerasRecurrentTwin(module, _handles(module), call=call.replace("return_state=False", "return_state=True"))
