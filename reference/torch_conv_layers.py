"""PyTorch twins of the convolution variants (Conv1D, DepthwiseConv2D through the Conv2D twin,
Conv2DTranspose, global pooling), every argument explicit (``BUILDERS``, registered on ``torch_layers.build``)."""

from __future__ import annotations

from reference import frameworks
from reference.torch_helpers import _stateless, _t, _tdtype
from reference.twin import TorchLayerTwin, _same
from scratch import layers as L


def conv1d(layer: L.Conv1D, input_shape):
    nn = frameworks.torch().nn
    _, _, left, right = layer.pads_for(input_shape[2])
    padding = left if left == right else 0
    conv = nn.Conv1d(layer.in_channels, layer.filters, layer.kernel_size[1], stride=layer.stride[1], padding=padding,
                     dilation=layer.dilation[1], groups=layer.groups, bias=True, padding_mode="zeros",
                     dtype=_tdtype(layer))
    with frameworks.torch().no_grad():
        conv.weight.copy_(_t(layer.params["W"]))
        conv.bias.copy_(_t(layer.params["b"]))
    call = (f"nn.Conv1d({layer.in_channels}, {layer.filters}, kernel_size={layer.kernel_size[1]}, "
            f"stride={layer.stride[1]}, padding={padding}, dilation={layer.dilation[1]}, groups={layer.groups}, "
            "bias=True, padding_mode='zeros')")
    module = conv
    if left != right:  # Keras 'same' (odd extra zero on the right) or 'causal' (left only): pad explicitly
        module = nn.Sequential(nn.ConstantPad1d((left, right), 0.0), conv)
        call = f"nn.Sequential(nn.ConstantPad1d(({left}, {right}), 0.0), {call})"
    return TorchLayerTwin(module, {"W": (conv.weight, _same), "b": (conv.bias, _same)}, call=call)


def conv_transpose(layer: L.Conv2DTranspose, input_shape):
    nn = frameworks.torch().nn
    ct, cb, cl, cr = layer.crops_for(tuple(input_shape[2:]))
    ops = (ct - cb, cl - cr)
    native = all(0 <= op < max(s, d) for op, s, d in zip(ops, layer.stride, layer.dilation, strict=True))
    if native:  # crop p on both sides, output_padding at the bottom/right
        padding, output_padding, crop = (ct, cl), ops, None
    else:  # e.g. Keras 'same' with an odd total: no setting; the full output, then an explicit crop
        padding, output_padding = (0, 0), (max(-cb, 0), max(-cr, 0))
        crop = (ct, max(cb, 0), cl, max(cr, 0))
    conv = nn.ConvTranspose2d(layer.in_channels, layer.filters, layer.kernel_size, stride=layer.stride,
                              padding=padding, output_padding=output_padding, groups=layer.groups, bias=True,
                              dilation=layer.dilation, padding_mode="zeros", dtype=_tdtype(layer))
    with frameworks.torch().no_grad():
        conv.weight.copy_(_t(layer.params["W"]))
        conv.bias.copy_(_t(layer.params["b"]))
    call = (f"nn.ConvTranspose2d({layer.in_channels}, {layer.filters}, kernel_size={layer.kernel_size}, "
            f"stride={layer.stride}, padding={padding}, output_padding={output_padding}, groups={layer.groups}, "
            f"bias=True, dilation={layer.dilation}, padding_mode='zeros')")
    module = conv
    if crop is not None and any(crop):
        top, bottom, left, right = crop
        module = nn.Sequential(conv, nn.ZeroPad2d((-left, -right, -top, -bottom)))
        call = f"nn.Sequential({call}, nn.ZeroPad2d(({-left}, {-right}, {-top}, {-bottom})))  # a crop"
    return TorchLayerTwin(module, {"W": (conv.weight, _same), "b": (conv.bias, _same)}, call=call)


def _global(pool, layer, call: str):
    nn = frameworks.torch().nn
    if layer.keepdims:
        return _stateless(pool, call)
    return _stateless(nn.Sequential(pool, nn.Flatten(start_dim=1, end_dim=-1)),
                      f"nn.Sequential({call}, nn.Flatten(start_dim=1, end_dim=-1))")


def global_avg(layer: L.GlobalAvgPool2D, input_shape):
    return _global(frameworks.torch().nn.AdaptiveAvgPool2d(output_size=1), layer, "nn.AdaptiveAvgPool2d(output_size=1)")


def global_max(layer: L.GlobalMaxPool2D, input_shape):
    pool = frameworks.torch().nn.AdaptiveMaxPool2d(output_size=1, return_indices=False)
    return _global(pool, layer, "nn.AdaptiveMaxPool2d(output_size=1, return_indices=False)")


#: scratch class -> twin builder, registered on ``torch_layers.build`` (DepthwiseConv2D: the Conv2D twin).
BUILDERS = {L.Conv1D: conv1d, L.Conv2DTranspose: conv_transpose, L.GlobalAvgPool2D: global_avg,
            L.GlobalMaxPool2D: global_max}
