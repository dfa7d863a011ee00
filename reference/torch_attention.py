"""Scratch ``MultiHeadAttention`` rebuilt as ``torch.nn.MultiheadAttention``, weights converted.

PyTorch packs the three input projections into in_proj_weight (3d, d) (``layouts.mha_in_proj``)
and needs dk = dv = d / H and key/value of the query's width. Its boolean ``attn_mask`` is True
where attention is *not* allowed, one (T, S) slice per batch entry and head (N*H, T, S).
Dropout on the attention weights goes through ``torch.nn.functional.dropout``, which the twin
replaces, for the forward, by the injected mask (the project's injected-mask approach).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference import frameworks, layouts
from reference.torch_recurrent import _t, _tdtype
from scratch.layers.attention import MultiHeadAttention


@dataclass
class TorchAttentionTwin:
    module: object
    params: dict
    num_heads: int
    rate: float
    call: str = ""
    framework: str = "torch"

    def forward(self, x, value=None, attention_mask=None, dropout_mask=None, *, training: bool) -> np.ndarray:
        torch = frameworks.torch()
        F = torch.nn.functional
        self.module.train(training)
        self.module.zero_grad(set_to_none=True)
        self._x = torch.from_numpy(np.array(x)).requires_grad_(True)
        self._v = None if value is None else torch.from_numpy(np.array(value)).requires_grad_(True)
        kv = self._x if self._v is None else self._v
        mask = None
        if attention_mask is not None:  # (N, T, S) allowed -> (N*H, T, S) not allowed
            mask = torch.from_numpy(np.repeat(~attention_mask, self.num_heads, axis=0))
        original = F.dropout
        if training and self.rate > 0:
            keep = torch.from_numpy(np.ascontiguousarray(dropout_mask.reshape(-1, *dropout_mask.shape[2:])))
            scale = 1.0 / (1.0 - self.rate)
            F.dropout = lambda a, p=0.5, training=True, inplace=False: a * keep.to(a.dtype) * scale
        try:
            self._y, _ = self.module(self._x, kv, kv, key_padding_mask=None, need_weights=True, attn_mask=mask,
                                     average_attn_weights=False, is_causal=False)
        finally:
            F.dropout = original
        return self._y.detach().numpy().copy()

    def backward(self, dy: np.ndarray):
        torch = frameworks.torch()
        self._y.backward(torch.from_numpy(np.array(dy)))
        grads = {k: conv(p.grad.detach().numpy().copy()) for k, (p, conv) in self.params.items()}
        dv = None if self._v is None else self._v.grad.numpy().copy()
        return self._x.grad.numpy().copy(), dv, grads


def build_layer(layer: MultiHeadAttention, input_shape: tuple[int, ...],
                kv_length: int | None = None) -> TorchAttentionTwin:
    """The twin ``torch_layers.build`` returns for MultiHeadAttention (registered there)."""
    torch = frameworks.torch()
    d, h = layer.d_model, layer.num_heads
    if layer.key_dim * h != d or layer.value_dim * h != d or layer.kv_dim != d:
        raise NotImplementedError("key_dim: nn.MultiheadAttention needs key_dim = value_dim = d_model / num_heads and "
                                  "key/value of width d_model")
    mha = torch.nn.MultiheadAttention(d, h, dropout=layer.dropout, bias=True, add_bias_kv=False, add_zero_attn=False,
                                      kdim=None, vdim=None, batch_first=True, dtype=_tdtype(layer))
    P = layer.params
    w, b = layouts.mha_in_proj(P["Wq"], P["Wk"], P["Wv"], P["bq"], P["bk"], P["bv"])
    with torch.no_grad():
        mha.in_proj_weight.copy_(_t(w))
        mha.in_proj_bias.copy_(_t(b))
        mha.out_proj.weight.copy_(_t(layouts.mha_out_to_torch(P["Wo"])))
        mha.out_proj.bias.copy_(_t(P["bo"]))
    params = {f"W{n}": (mha.in_proj_weight, (lambda j: lambda g: layouts.mha_in_proj_block(g, j, h, "W"))(i))
              for i, n in enumerate("qkv")}
    params.update({f"b{n}": (mha.in_proj_bias, (lambda j: lambda g: layouts.mha_in_proj_block(g, j, h, "b"))(i))
                   for i, n in enumerate("qkv")})
    params["Wo"] = (mha.out_proj.weight, lambda g: layouts.mha_out_from_torch(g, h))
    params["bo"] = (mha.out_proj.bias, lambda g: g)
    call = (f"nn.MultiheadAttention({d}, {h}, dropout={layer.dropout}, bias=True, add_bias_kv=False, "
            "add_zero_attn=False, kdim=None, vdim=None, batch_first=True)  # mha(q, kv, kv, need_weights=True, "
            "attn_mask=~mask per head, average_attn_weights=False)")
    return TorchAttentionTwin(mha, params, h, layer.dropout, call=call)
