"""What the Keras layer twins share: weights as constant initializers, building, Sequential stacks,
NCHW <-> NHWC at the boundary, and Keras padding for a scratch padding argument."""

from __future__ import annotations

import numpy as np

from reference import frameworks, layouts
from reference.twin import KerasLayerTwin

IMAGE = {"to_fw": layouts.nchw_to_nhwc, "from_fw": layouts.nhwc_to_nchw}


def _const(a: np.ndarray):
    return frameworks.keras().initializers.Constant(np.array(a))


def _built(layer, fw_input_shape: tuple[int, ...]):
    layer.build((None, *fw_input_shape[1:]))
    return layer


def _seq(fw_input_shape: tuple[int, ...], *layers):
    keras = frameworks.keras()
    model = keras.Sequential([keras.Input(shape=fw_input_shape[1:], dtype=layers[-1].dtype_policy.name), *layers])
    return model


def _stateless(layer, input_shape, call, **kw) -> KerasLayerTwin:
    return KerasLayerTwin(layer, {}, call=call, **kw)


def _keras_padding(layer, input_shape):
    """Keras padding string plus an explicit ZeroPadding2D for integer (PyTorch/textbook) padding."""
    if isinstance(layer.padding, str):
        return layer.padding, None
    top, bottom, left, right = layer.pads_for(input_shape[2:])
    if not (top or bottom or left or right):
        return "valid", None
    zp = frameworks.keras().layers.ZeroPadding2D(((top, bottom), (left, right)), data_format="channels_last",
                                                 dtype=layer.dtype.name)
    return "valid", zp


def _nhwc(input_shape):
    n, c, h, w = input_shape
    return (n, h, w, c)
