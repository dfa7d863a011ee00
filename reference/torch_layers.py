"""Scratch layers rebuilt as PyTorch modules, every argument explicit, scratch weights copied in.

``build(layer, input_shape)`` returns a ``TorchLayerTwin``. PyTorch shares scratch's NCHW layout
and (c, h, w) flatten order; only the Linear weight is transposed (``layouts``).
"""

from __future__ import annotations

from functools import singledispatch

from reference import frameworks, layouts, torch_attention, torch_conv_layers, torch_normact, torch_recurrent
from reference.torch_helpers import _stateless, _t, _tdtype
from reference.twin import TorchLayerTwin, _same
from scratch import layers as L


@singledispatch
def build(layer: L.Layer, input_shape: tuple[int, ...]) -> TorchLayerTwin:
    """Return the PyTorch twin of a scratch layer for inputs of ``input_shape``."""
    raise NotImplementedError(f"layer: no PyTorch twin for {type(layer).__name__}")


@build.register
def _(layer: L.Dense, input_shape):
    nn = frameworks.torch().nn
    lin = nn.Linear(layer.in_features, layer.units, bias=True, dtype=_tdtype(layer))
    with frameworks.torch().no_grad():
        lin.weight.copy_(_t(layouts.dense_to_torch(layer.params["W"])))
        lin.bias.copy_(_t(layer.params["b"]))
    call = f"nn.Linear({layer.in_features}, {layer.units}, bias=True)"
    module = lin
    if len(input_shape) > 2:  # the textbook's Affine flattens N-D input; nn.Linear acts on the last axis
        module = nn.Sequential(nn.Flatten(start_dim=1, end_dim=-1), lin)
        call = f"nn.Sequential(nn.Flatten(start_dim=1, end_dim=-1), {call})"
    return TorchLayerTwin(module, {"W": (lin.weight, layouts.dense_from_torch), "b": (lin.bias, _same)},
                          call=call)


@build.register
def _(layer: L.ReLU, input_shape):
    return _stateless(frameworks.torch().nn.ReLU(inplace=False), "nn.ReLU(inplace=False)")


@build.register
def _(layer: L.Sigmoid, input_shape):
    return _stateless(frameworks.torch().nn.Sigmoid(), "nn.Sigmoid()")


@build.register
def _(layer: L.Tanh, input_shape):
    return _stateless(frameworks.torch().nn.Tanh(), "nn.Tanh()")


@build.register
def _(layer: L.Softmax, input_shape):
    return _stateless(frameworks.torch().nn.Softmax(dim=-1), "nn.Softmax(dim=-1)")


@build.register
def _(layer: L.Flatten, input_shape):
    return _stateless(frameworks.torch().nn.Flatten(start_dim=1, end_dim=-1), "nn.Flatten(start_dim=1, end_dim=-1)")


def _padded(module, pads, value: float, call: str):
    """Prepend an explicit (possibly asymmetric) pad: ``nn.ConstantPad2d((left, right, top, bottom))``."""
    nn = frameworks.torch().nn
    top, bottom, left, right = pads
    pad = nn.ConstantPad2d((left, right, top, bottom), value)
    text = f"nn.Sequential(nn.ConstantPad2d(({left}, {right}, {top}, {bottom}), {value}), {call})"
    return nn.Sequential(pad, module), text


@build.register
def _(layer: L.Conv2D, input_shape):
    nn = frameworks.torch().nn
    pads = layer.pads_for(input_shape[2:])
    symmetric = pads[0] == pads[1] and pads[2] == pads[3]
    padding = (pads[0], pads[2]) if symmetric else (0, 0)
    conv = nn.Conv2d(layer.in_channels, layer.filters, layer.kernel_size, stride=layer.stride, padding=padding,
                     dilation=layer.dilation, groups=layer.groups, bias=True, padding_mode="zeros",
                     dtype=_tdtype(layer))
    with frameworks.torch().no_grad():
        conv.weight.copy_(_t(layer.params["W"]))
        conv.bias.copy_(_t(layer.params["b"]))
    call = (f"nn.Conv2d({layer.in_channels}, {layer.filters}, kernel_size={layer.kernel_size}, "
            f"stride={layer.stride}, padding={padding}, dilation={layer.dilation}, groups={layer.groups}, bias=True, "
            "padding_mode='zeros')")
    module = conv
    if not symmetric:  # TF 'same' puts the odd row/column bottom/right: pad explicitly
        module, call = _padded(conv, pads, 0.0, call.replace(f"padding={padding}", "padding=0"))
    return TorchLayerTwin(module, {"W": (conv.weight, _same), "b": (conv.bias, _same)}, call=call)


def _pool_geometry(layer, input_shape):
    pads = layer.pads_for(input_shape[2:])
    return pads, pads[0] == pads[1] and pads[2] == pads[3]


@build.register
def _(layer: L.MaxPool2D, input_shape):
    nn = frameworks.torch().nn
    pads, symmetric = _pool_geometry(layer, input_shape)
    padding = (pads[0], pads[2]) if symmetric else (0, 0)
    pool = nn.MaxPool2d(layer.pool_size, stride=layer.stride, padding=padding, dilation=1,
                        return_indices=False, ceil_mode=False)
    call = (f"nn.MaxPool2d({layer.pool_size}, stride={layer.stride}, padding={padding}, dilation=1, "
            "return_indices=False, ceil_mode=False)")
    module = pool
    if not symmetric:  # pad with -inf so that padding never wins, as TF 'same' does
        module, call = _padded(pool, pads, float("-inf"), call)
    return _stateless(module, call)


@build.register
def _(layer: L.AvgPool2D, input_shape):
    nn = frameworks.torch().nn
    pads, symmetric = _pool_geometry(layer, input_shape)
    if symmetric:
        padding, ceil_mode = (pads[0], pads[2]), False
    elif pads == (0, 1, 0, 1) and not layer.count_include_pad and all(
            -(-(size - k) // st) + 1 == -(-size // st)
            for size, k, st in zip(input_shape[2:], layer.pool_size, layer.stride, strict=True)):
        # TF 'same' with one extra bottom/right cell: PyTorch's ceil_mode adds the partial edge window
        # and averages only its real cells, which is what excluding the padding means; only where
        # ceil_mode's output size ceil((H - k) / s) + 1 is TF's ceil(H / s) (e.g. not k = 2, s = 1).
        padding, ceil_mode = (0, 0), True
    else:
        raise NotImplementedError(f"padding: no PyTorch AvgPool2d for pads {pads} with "
                                  f"count_include_pad={layer.count_include_pad}")
    pool = nn.AvgPool2d(layer.pool_size, stride=layer.stride, padding=padding, ceil_mode=ceil_mode,
                        count_include_pad=layer.count_include_pad, divisor_override=None)
    call = (f"nn.AvgPool2d({layer.pool_size}, stride={layer.stride}, padding={padding}, ceil_mode={ceil_mode}, "
            f"count_include_pad={layer.count_include_pad}, divisor_override=None)")
    return _stateless(pool, call)


@build.register
def _(layer: L.BatchNorm, input_shape):
    torch = frameworks.torch()
    nn = torch.nn
    # PyTorch's momentum weights the batch statistic: convert from scratch's convention.
    momentum = layer.momentum if layer.momentum_of == "batch" else 1.0 - layer.momentum
    per_activation = len(input_shape) == 4 and layer.stats == "activation"
    cls = nn.BatchNorm2d if len(input_shape) == 4 and not per_activation else nn.BatchNorm1d
    bn = cls(layer.num_features, eps=layer.eps, momentum=momentum, affine=True, track_running_stats=True,
             dtype=_tdtype(layer))
    with torch.no_grad():
        bn.weight.copy_(_t(layer.params["gamma"]))
        bn.bias.copy_(_t(layer.params["beta"]))
        bn.running_mean.copy_(_t(layer.buffers["running_mean"]))
        bn.running_var.copy_(_t(layer.buffers["running_var"]))
    call = (f"nn.{cls.__name__}({layer.num_features}, eps={layer.eps}, momentum={momentum:g}, affine=True, "
            "track_running_stats=True)")
    module = bn
    if per_activation:  # the textbook normalises each of the C*H*W activations over the batch
        module = nn.Sequential(nn.Flatten(1, -1), bn, nn.Unflatten(1, tuple(input_shape[1:])))
        call = f"nn.Sequential(nn.Flatten(1, -1), {call}, nn.Unflatten(1, {tuple(input_shape[1:])}))"
    return TorchLayerTwin(module, {"gamma": (bn.weight, _same), "beta": (bn.bias, _same)},
                          {"running_mean": (bn.running_mean, _same), "running_var": (bn.running_var, _same)},
                          call=call)


@build.register
def _(layer: L.Dropout, input_shape):
    nn = frameworks.torch().nn
    call = f"nn.Dropout(p={layer.rate}, inplace=False)"
    return TorchLayerTwin(nn.Dropout(p=layer.rate, inplace=False), {}, call=call,
                          harvest_mask=True, seed=1234)


# the convolution variants' twins; LayerNorm, GroupNorm, Embedding and the activations beyond the book
for _cls, _builder in {**torch_conv_layers.BUILDERS, **torch_normact.BUILDERS}.items():
    build.register(_cls)(_builder)
# the recurrent layers' and attention's twins
for _cls in (L.SimpleRNN, L.LSTM, L.GRU):
    build.register(_cls)(torch_recurrent.build_layer)
build.register(L.MultiHeadAttention)(torch_attention.build_layer)
