"""PyTorch twins of LayerNorm, GroupNorm, Embedding and the element-wise activations beyond the
textbook (``BUILDERS``, registered by ``reference.torch_layers``); every argument explicit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reference import frameworks, layouts
from reference.twin import TorchLayerTwin, _same
from scratch import layers as L

#: scratch layer class -> builder(layer, input_shape); ``reference.torch_layers`` registers them on its
#: ``build`` (this module does not import it, so the two stay free of an import cycle).
BUILDERS: dict[type, Callable] = {}


def _register(cls: type) -> Callable[[Callable], Callable]:
    def record(fn: Callable) -> Callable:
        BUILDERS[cls] = fn
        return fn
    return record


def _t(a: np.ndarray):
    return frameworks.torch().from_numpy(np.array(a))


def _tdtype(layer: L.Layer):
    return getattr(frameworks.torch(), layer.dtype.name)


def _stateless(module, call: str) -> TorchLayerTwin:
    return TorchLayerTwin(module, {}, call=call)


@_register(L.LeakyReLU)
def _(layer: L.LeakyReLU, input_shape):
    s = layer.negative_slope
    return _stateless(frameworks.torch().nn.LeakyReLU(negative_slope=s, inplace=False),
                      f"nn.LeakyReLU(negative_slope={s!r}, inplace=False)")


@_register(L.ELU)
def _(layer: L.ELU, input_shape):
    return _stateless(frameworks.torch().nn.ELU(alpha=layer.alpha, inplace=False),
                      f"nn.ELU(alpha={layer.alpha!r}, inplace=False)")


@_register(L.GELU)
def _(layer: L.GELU, input_shape):
    return _stateless(frameworks.torch().nn.GELU(approximate=layer.approximate),
                      f"nn.GELU(approximate={layer.approximate!r})")


@_register(L.SiLU)
def _(layer: L.SiLU, input_shape):
    return _stateless(frameworks.torch().nn.SiLU(inplace=False), "nn.SiLU(inplace=False)")


#: PyTorch Softplus's cut-off when the scratch layer has none (the exact function): the default 20,
#: whose difference the case table records.
TORCH_SOFTPLUS_THRESHOLD = 20.0


@_register(L.Softplus)
def _(layer: L.Softplus, input_shape):
    threshold = TORCH_SOFTPLUS_THRESHOLD if layer.threshold is None else layer.threshold
    return _stateless(frameworks.torch().nn.Softplus(beta=1.0, threshold=threshold),
                      f"nn.Softplus(beta=1.0, threshold={threshold!r})")


@_register(L.HardSigmoid)
def _(layer: L.HardSigmoid, input_shape):
    return _stateless(frameworks.torch().nn.Hardsigmoid(inplace=False), "nn.Hardsigmoid(inplace=False)")


def _moved(inner, perm: tuple[int, ...], inverse: tuple[int, ...]):
    """``inner`` applied with the axes of ``perm`` moved to the end, and moved back after."""
    nn = frameworks.torch().nn

    class MovedAxes(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x.permute(*perm)).permute(*inverse)

    return MovedAxes()


@_register(L.LayerNorm)
def _(layer: L.LayerNorm, input_shape):
    torch = frameworks.torch()
    ndim = len(input_shape)
    axes = layer.resolved_axes(ndim)
    ln = torch.nn.LayerNorm(layer.shape, eps=layer.eps, elementwise_affine=True, bias=True, dtype=_tdtype(layer))
    with torch.no_grad():
        ln.weight.copy_(_t(layer.params["gamma"]))
        ln.bias.copy_(_t(layer.params["beta"]))
    call = f"nn.LayerNorm({layer.shape}, eps={layer.eps!r}, elementwise_affine=True, bias=True)"
    module = ln
    if axes != tuple(range(ndim - len(axes), ndim)):  # not the trailing axes in order: move them there
        perm, inverse = layouts.axes_to_end_permutation(ndim, axes)
        module = _moved(ln, perm, inverse)
        call = f"{call}  # on x.permute{perm}, result .permute{inverse}"
    return TorchLayerTwin(module, {"gamma": (ln.weight, _same), "beta": (ln.bias, _same)}, call=call)


@_register(L.GroupNorm)
def _(layer: L.GroupNorm, input_shape):
    torch = frameworks.torch()
    gn = torch.nn.GroupNorm(layer.groups, layer.num_channels, eps=layer.eps, affine=True, dtype=_tdtype(layer))
    with torch.no_grad():
        gn.weight.copy_(_t(layer.params["gamma"]))
        gn.bias.copy_(_t(layer.params["beta"]))
    call = f"nn.GroupNorm({layer.groups}, {layer.num_channels}, eps={layer.eps!r}, affine=True)"
    return TorchLayerTwin(gn, {"gamma": (gn.weight, _same), "beta": (gn.bias, _same)}, call=call)


@dataclass
class TorchIdsTwin(TorchLayerTwin):
    """A module whose input is integer ids (``nn.Embedding``): no input gradient (dx is None)."""

    def forward(self, x: np.ndarray, *, training: bool) -> tuple[np.ndarray, dict]:
        torch = frameworks.torch()
        self.module.train(training)
        for p, _ in self.params.values():
            p.grad = None
        self._y = self.module(torch.from_numpy(np.asarray(x).astype(np.int64)))
        return self._y.detach().numpy().copy(), {}

    def backward(self, dy: np.ndarray) -> tuple[None, dict[str, np.ndarray]]:
        torch = frameworks.torch()
        self._y.backward(torch.from_numpy(np.array(dy)))
        return None, {k: conv(p.grad.detach().numpy().copy()) for k, (p, conv) in self.params.items()}


@_register(L.Embedding)
def _(layer: L.Embedding, input_shape):
    torch = frameworks.torch()
    emb = torch.nn.Embedding(layer.num_embeddings, layer.dim, padding_idx=layer.padding_idx, max_norm=None,
                             norm_type=2.0, scale_grad_by_freq=False, sparse=False, dtype=_tdtype(layer))
    with torch.no_grad():
        emb.weight.copy_(_t(layer.params["W"]))  # also over the padding row, which PyTorch initialised to zeros
    call = (f"nn.Embedding({layer.num_embeddings}, {layer.dim}, padding_idx={layer.padding_idx}, max_norm=None, "
            "norm_type=2.0, scale_grad_by_freq=False, sparse=False)")
    return TorchIdsTwin(emb, {"W": (emb.weight, _same)}, call=call)
