"""Scratch layers rebuilt as Keras 3 layers (TensorFlow backend), every argument explicit.

``build(layer, input_shape)`` returns a ``KerasLayerTwin``. Weights arrive through
``keras.initializers.Constant`` (exact copies). Image layers run channels-last, as Keras users
run them: the twin transposes NCHW <-> NHWC at its boundary (``layouts``), so the numbers compared
are the ones a Keras model computes.
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np

from reference import frameworks, keras_attention, keras_conv_layers, keras_normact, keras_recurrent, layouts
from reference.keras_helpers import IMAGE, _built, _const, _keras_padding, _nhwc, _seq, _stateless
from reference.twin import KerasLayerTwin, _same
from scratch import layers as L


@singledispatch
def build(layer: L.Layer, input_shape: tuple[int, ...]) -> KerasLayerTwin:
    """Return the Keras twin of a scratch layer for inputs of ``input_shape`` (NCHW for images)."""
    raise NotImplementedError(f"layer: no Keras twin for {type(layer).__name__}")


@build.register
def _(layer: L.Dense, input_shape):
    keras = frameworks.keras()
    dense = keras.layers.Dense(
        layer.units, activation=None, use_bias=True, kernel_initializer=_const(layer.params["W"]),
        bias_initializer=_const(layer.params["b"]), kernel_regularizer=None, bias_regularizer=None,
        activity_regularizer=None, kernel_constraint=None, bias_constraint=None, dtype=layer.dtype.name,
    )
    call = f"keras.layers.Dense({layer.units}, activation=None, use_bias=True)"
    if len(input_shape) > 2:  # Keras Dense acts on the last axis; the textbook's Affine flattens first
        flat = keras.layers.Flatten(data_format="channels_last", dtype=layer.dtype.name)
        module = _seq(input_shape, flat, dense)
        call = f"[keras.layers.Flatten(data_format='channels_last'), {call}]  # on the NCHW array as given"
    else:
        module = _built(dense, input_shape)
    return KerasLayerTwin(module, {"W": (dense.kernel, _same), "b": (dense.bias, _same)}, call=call)


@build.register
def _(layer: L.ReLU, input_shape):
    keras = frameworks.keras()
    relu = keras.layers.ReLU(max_value=None, negative_slope=0.0, threshold=0.0, dtype=layer.dtype.name)
    return _stateless(relu, input_shape, "keras.layers.ReLU(max_value=None, negative_slope=0.0, threshold=0.0)")


@build.register
def _(layer: L.Sigmoid, input_shape):
    act = frameworks.keras().layers.Activation("sigmoid", dtype=layer.dtype.name)
    return _stateless(act, input_shape, "keras.layers.Activation('sigmoid')")


@build.register
def _(layer: L.Tanh, input_shape):
    act = frameworks.keras().layers.Activation("tanh", dtype=layer.dtype.name)
    return _stateless(act, input_shape, "keras.layers.Activation('tanh')")


@build.register
def _(layer: L.Softmax, input_shape):
    sm = frameworks.keras().layers.Softmax(axis=-1, dtype=layer.dtype.name)
    return _stateless(sm, input_shape, "keras.layers.Softmax(axis=-1)")


@build.register
def _(layer: L.Flatten, input_shape):
    flat = frameworks.keras().layers.Flatten(data_format="channels_last", dtype=layer.dtype.name)
    return _stateless(flat, input_shape, "keras.layers.Flatten(data_format='channels_last')  # on NHWC", **IMAGE)


@build.register
def _(layer: L.Conv2D, input_shape):
    keras = frameworks.keras()
    padding, zp = _keras_padding(layer, input_shape)
    conv = keras.layers.Conv2D(
        layer.filters, layer.kernel_size, strides=layer.stride, padding=padding, data_format="channels_last",
        dilation_rate=layer.dilation, groups=layer.groups, activation=None, use_bias=True,
        kernel_initializer=_const(layouts.conv_to_keras(layer.params["W"])),
        bias_initializer=_const(layer.params["b"]), dtype=layer.dtype.name,
    )
    call = (f"keras.layers.Conv2D({layer.filters}, {layer.kernel_size}, strides={layer.stride}, "
            f"padding={padding!r}, data_format='channels_last', dilation_rate={layer.dilation}, groups={layer.groups}, "
            "use_bias=True)")
    if zp is not None:
        module = _seq(_nhwc(input_shape), zp, conv)
        call = f"[keras.layers.ZeroPadding2D({zp.padding}), {call}]"
    else:
        module = _built(conv, _nhwc(input_shape))
    return KerasLayerTwin(module, {"W": (conv.kernel, layouts.conv_from_keras), "b": (conv.bias, _same)},
                          call=call, **IMAGE)


@build.register
def _(layer: L.MaxPool2D, input_shape):
    if not isinstance(layer.padding, str) and any(layer.pads_for(input_shape[2:])):
        raise NotImplementedError("padding: Keras max pooling has only 'valid' and 'same' (ZeroPadding2D pads "
                                  "with zeros, not -inf)")
    padding = layer.padding if isinstance(layer.padding, str) else "valid"
    pool = frameworks.keras().layers.MaxPooling2D(layer.pool_size, strides=layer.stride, padding=padding,
                                                  data_format="channels_last", dtype=layer.dtype.name)
    call = (f"keras.layers.MaxPooling2D({layer.pool_size}, strides={layer.stride}, padding={padding!r}, "
            "data_format='channels_last')")
    return _stateless(pool, input_shape, call, **IMAGE)


@build.register
def _(layer: L.AvgPool2D, input_shape):
    keras = frameworks.keras()
    padding, zp = _keras_padding(layer, input_shape)
    if padding == "same" and layer.count_include_pad:
        raise NotImplementedError("count_include_pad: Keras 'same' average pooling excludes the padding")
    if zp is not None and not layer.count_include_pad:
        raise NotImplementedError("count_include_pad: ZeroPadding2D zeros are counted by Keras average pooling")
    pool = keras.layers.AveragePooling2D(layer.pool_size, strides=layer.stride, padding=padding,
                                         data_format="channels_last", dtype=layer.dtype.name)
    call = (f"keras.layers.AveragePooling2D({layer.pool_size}, strides={layer.stride}, padding={padding!r}, "
            "data_format='channels_last')")
    module = pool if zp is None else _seq(_nhwc(input_shape), zp, pool)
    return _stateless(module, input_shape, call, **IMAGE)


@build.register
def _(layer: L.BatchNorm, input_shape):
    keras = frameworks.keras()
    # Keras's momentum weights the running value: convert from scratch's convention.
    momentum = layer.momentum if layer.momentum_of == "running" else 1.0 - layer.momentum
    bn = keras.layers.BatchNormalization(
        axis=-1, momentum=momentum, epsilon=layer.eps, center=True, scale=True,
        beta_initializer=_const(layer.params["beta"]), gamma_initializer=_const(layer.params["gamma"]),
        moving_mean_initializer=_const(layer.buffers["running_mean"]),
        moving_variance_initializer=_const(layer.buffers["running_var"]),
        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
        synchronized=False, dtype=layer.dtype.name,
    )
    call = (f"keras.layers.BatchNormalization(axis=-1, momentum={momentum:g}, epsilon={layer.eps}, center=True, "
            "scale=True)")
    kw = {}
    if len(input_shape) == 4 and layer.stats == "activation":  # textbook: per activation over the batch
        chw = tuple(input_shape[1:])
        module = _seq(input_shape, keras.layers.Reshape((int(np.prod(chw)),), dtype=layer.dtype.name), bn,
                      keras.layers.Reshape(chw, dtype=layer.dtype.name))
        call = f"[keras.layers.Reshape(({int(np.prod(chw))},)), {call}, keras.layers.Reshape({chw})]"
    elif len(input_shape) == 4:
        module, kw = _built(bn, _nhwc(input_shape)), IMAGE
    else:
        module = _built(bn, input_shape)
    return KerasLayerTwin(module, {"gamma": (bn.gamma, _same), "beta": (bn.beta, _same)},
                          {"running_mean": (bn.moving_mean, _same), "running_var": (bn.moving_variance, _same)},
                          call=call, **kw)


@build.register
def _(layer: L.Dropout, input_shape):
    drop = frameworks.keras().layers.Dropout(layer.rate, noise_shape=None, seed=1234, dtype=layer.dtype.name)
    return KerasLayerTwin(drop, {}, call=f"keras.layers.Dropout({layer.rate}, noise_shape=None, seed=1234)",
                          harvest_mask=True)


# the convolution variants' twins; LayerNorm, GroupNorm, Embedding and the activations beyond the book
for _cls, _builder in {**keras_conv_layers.BUILDERS, **keras_normact.BUILDERS}.items():
    build.register(_cls)(_builder)
# the recurrent layers' and attention's twins
for _cls in (L.SimpleRNN, L.LSTM, L.GRU):
    build.register(_cls)(keras_recurrent.build_layer)
build.register(L.MultiHeadAttention)(keras_attention.build_layer)
