"""Keras twins of the convolution variants (Conv1D, DepthwiseConv2D, Conv2DTranspose, global pooling),
every argument explicit (``BUILDERS``, registered on ``keras_layers.build``). Sequences run (N, L, C) and images
NHWC on the Keras side; the twin transposes at its boundary (``layouts``)."""

from __future__ import annotations

from reference import frameworks, layouts
from reference.keras_helpers import IMAGE, _built, _const, _keras_padding, _nhwc, _seq, _stateless
from reference.twin import KerasLayerTwin, _same
from scratch import layers as L

SEQUENCE = {"to_fw": layouts.ncl_to_nlc, "from_fw": layouts.nlc_to_ncl}


def conv1d(layer: L.Conv1D, input_shape):
    keras = frameworks.keras()
    n, c, length = input_shape
    padding, zp = layer.padding, None
    if not isinstance(padding, str):
        _, _, left, right = layer.pads_for(length)
        padding = "valid"
        if left or right:
            zp = keras.layers.ZeroPadding1D((left, right), dtype=layer.dtype.name)
    conv = keras.layers.Conv1D(
        layer.filters, layer.kernel_size[1], strides=layer.stride[1], padding=padding, data_format="channels_last",
        dilation_rate=layer.dilation[1], groups=layer.groups, activation=None, use_bias=True,
        kernel_initializer=_const(layouts.conv1d_to_keras(layer.params["W"])),
        bias_initializer=_const(layer.params["b"]), dtype=layer.dtype.name,
    )
    call = (f"keras.layers.Conv1D({layer.filters}, {layer.kernel_size[1]}, strides={layer.stride[1]}, "
            f"padding={padding!r}, data_format='channels_last', dilation_rate={layer.dilation[1]}, "
            f"groups={layer.groups}, use_bias=True)")
    if zp is not None:
        module = _seq((n, length, c), zp, conv)
        call = f"[keras.layers.ZeroPadding1D({zp.padding}), {call}]"
    else:
        module = _built(conv, (n, length, c))
    return KerasLayerTwin(module, {"W": (conv.kernel, layouts.conv1d_from_keras), "b": (conv.bias, _same)},
                          call=call, **SEQUENCE)


def depthwise(layer: L.DepthwiseConv2D, input_shape):
    keras = frameworks.keras()
    padding, zp = _keras_padding(layer, input_shape)
    conv = keras.layers.DepthwiseConv2D(
        layer.kernel_size, strides=layer.stride, padding=padding, depth_multiplier=layer.depth_multiplier,
        data_format="channels_last", dilation_rate=layer.dilation, activation=None, use_bias=True,
        depthwise_initializer=_const(layouts.depthwise_to_keras(layer.params["W"], layer.depth_multiplier)),
        bias_initializer=_const(layer.params["b"]), dtype=layer.dtype.name,
    )
    call = (f"keras.layers.DepthwiseConv2D({layer.kernel_size}, strides={layer.stride}, padding={padding!r}, "
            f"depth_multiplier={layer.depth_multiplier}, data_format='channels_last', "
            f"dilation_rate={layer.dilation}, use_bias=True)")
    if zp is not None:
        module = _seq(_nhwc(input_shape), zp, conv)
        call = f"[keras.layers.ZeroPadding2D({zp.padding}), {call}]"
    else:
        module = _built(conv, _nhwc(input_shape))
    return KerasLayerTwin(module, {"W": (conv.kernel, layouts.depthwise_from_keras), "b": (conv.bias, _same)},
                          call=call, **IMAGE)


def conv_transpose(layer: L.Conv2DTranspose, input_shape):
    keras = frameworks.keras()
    if layer.groups != 1:
        raise NotImplementedError("groups: keras.layers.Conv2DTranspose has no groups argument")
    if layer.dilation != (1, 1):  # tf.nn.conv2d_transpose on CPU raises InvalidArgumentError
        raise NotImplementedError("dilation: TensorFlow's CPU Conv2DBackpropInput does not support dilation rates "
                                  "larger than 1, so Keras Conv2DTranspose(dilation_rate > 1) fails on CPU")
    ct, cb, cl, cr = layer.crops_for(tuple(input_shape[2:]))
    if isinstance(layer.padding, str):
        padding, output_padding, crop = layer.padding, layer.output_padding, None
    else:  # PyTorch's integer padding: Keras 'valid' with the bottom/right extension, then a crop
        padding, output_padding = "valid", (max(-cb, 0), max(-cr, 0))
        crop = ((ct, max(cb, 0)), (cl, max(cr, 0)))
    if output_padding is not None and any(op >= s for op, s in zip(output_padding, layer.stride, strict=True)):
        raise NotImplementedError(f"output_padding: Keras needs it below the strides {layer.stride}")
    conv = keras.layers.Conv2DTranspose(
        layer.filters, layer.kernel_size, strides=layer.stride, padding=padding, output_padding=output_padding,
        data_format="channels_last", dilation_rate=layer.dilation, activation=None, use_bias=True,
        kernel_initializer=_const(layouts.conv_transpose_to_keras(layer.params["W"])),
        bias_initializer=_const(layer.params["b"]), dtype=layer.dtype.name,
    )
    call = (f"keras.layers.Conv2DTranspose({layer.filters}, {layer.kernel_size}, strides={layer.stride}, "
            f"padding={padding!r}, output_padding={output_padding}, data_format='channels_last', "
            f"dilation_rate={layer.dilation}, use_bias=True)")
    if crop is not None and any(v for pair in crop for v in pair):
        cropping = keras.layers.Cropping2D(crop, data_format="channels_last", dtype=layer.dtype.name)
        module = _seq(_nhwc(input_shape), conv, cropping)
        call = f"[{call}, keras.layers.Cropping2D({crop})]"
    else:
        module = _built(conv, _nhwc(input_shape))
    return KerasLayerTwin(module, {"W": (conv.kernel, layouts.conv_transpose_from_keras), "b": (conv.bias, _same)},
                          call=call, **IMAGE)


def global_avg(layer: L.GlobalAvgPool2D, input_shape):
    pool = frameworks.keras().layers.GlobalAveragePooling2D(data_format="channels_last", keepdims=layer.keepdims,
                                                            dtype=layer.dtype.name)
    call = f"keras.layers.GlobalAveragePooling2D(data_format='channels_last', keepdims={layer.keepdims})"
    return _stateless(pool, input_shape, call, **IMAGE)


def global_max(layer: L.GlobalMaxPool2D, input_shape):
    pool = frameworks.keras().layers.GlobalMaxPooling2D(data_format="channels_last", keepdims=layer.keepdims,
                                                        dtype=layer.dtype.name)
    call = f"keras.layers.GlobalMaxPooling2D(data_format='channels_last', keepdims={layer.keepdims})"
    return _stateless(pool, input_shape, call, **IMAGE)


#: scratch class -> twin builder, registered on ``keras_layers.build``.
BUILDERS = {L.Conv1D: conv1d, L.DepthwiseConv2D: depthwise, L.Conv2DTranspose: conv_transpose,
            L.GlobalAvgPool2D: global_avg, L.GlobalMaxPool2D: global_max}
