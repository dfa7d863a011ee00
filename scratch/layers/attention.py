"""Multi-head attention (Vaswani et al. 2017, "Attention Is All You Need", section 3.2) in Keras's
per-head weight layout."""

from __future__ import annotations

import numpy as np

from scratch import initializers
from scratch._checks import (
    check_array,
    check_choice,
    check_finite_result,
    check_positive_int,
    check_probability,
    check_shape,
)
from scratch.layers.base import Layer


class MultiHeadAttention(Layer):
    """Scaled dot-product attention over H heads, with an optional mask and dropout on the weights.

    Algorithm (query Q (N, T, d), key K and value V (N, S, d); self-attention: K = V = Q)::

        q = Q Wq + bq,  k = K Wk + bk,  v = V Wv + bv       per head: (N, H, T, dk), (N, H, S, dk), (N, H, S, dv)
        s = (q / sqrt(dk)) k^T                              (N, H, T, S)
        s = -inf where attention_mask[n, t, j] is False     (the query at t does not see key j)
        p = softmax(s over j);  p' = p * dropout_mask / (1 - rate) in training
        y = sum_h (p' v)_h Wo_h + bo                        (N, T, d)

    Backward: the chain rule through each line, with the softmax's
    ds = p * (dp - sum_j dp * p); masked entries have p = 0 and get no gradient.

    Framework notes: Keras ``MultiHeadAttention(num_heads=H, key_dim=dk, value_dim=dv)`` keeps these
    per-head kernels: query/key/value (d, H, dk), biases (H, dk), output kernel (H, dv, d); its
    ``attention_mask`` is True where attention is allowed. PyTorch ``nn.MultiheadAttention(d, H)``
    packs in_proj_weight (3d, d) = [Wq; Wk; Wv] each (H*dk, d) (the transposed, flattened kernels),
    in_proj_bias (3d,), out_proj.weight (d, H*dv), and needs dk = dv = d / H; its boolean
    ``attn_mask`` is True where attention is *not* allowed, of shape (N*H, T, S) per head. Both
    apply dropout to the attention weights. Keras rounds the scale 1/sqrt(dk) to float32 even in a
    float64 model (``scale_rounding="float32"``; exact when dk is a power of 4). A query row that
    sees no key gives uniform weights in Keras (its masked scores are -1e9) and NaN in PyTorch; here it is a ValueError.

    Args:
        d_model: d, the features of the query (and of the output).
        num_heads: H.
        key_dim: dk per head (default d / H, which must then divide exactly).
        value_dim: dv per head (default key_dim).
        kv_dim: features of key and value (default d).
        dropout: rate of dropout on the attention weights, in [0, 1).
        scale_rounding: ``"exact"`` (default; PyTorch) uses 1/sqrt(dk) in the layer's dtype;
            ``"float32"`` rounds it to float32 first, as Keras 3 does even in a float64 model
            (measured: 5e-9 relative in the output for dk = 2 or 3; exact when dk is a power of 4).
        params: explicit initial values {"Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo"} (any subset);
            the rest drawn with ``weight_init`` (default ``"glorot_uniform"``, Keras's, with fans of
            the flattened kernels) and ``bias_init`` (default ``"zeros"``).
        rng: generator for random initializers and dropout masks (needed in training with dropout > 0
            unless ``forward`` gets ``dropout_mask``).
        dtype: ``"float32"`` or ``"float64"``.
    """

    per_sample = True  # in evaluation, sample n of the output attends within sample n only

    def __init__(self, d_model: int, num_heads: int, *, key_dim: int | None = None, value_dim: int | None = None,
                 kv_dim: int | None = None, dropout: float = 0.0, scale_rounding: str = "exact",
                 params: dict | None = None,
                 weight_init="glorot_uniform", bias_init="zeros", rng: np.random.Generator | None = None,
                 dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.d_model = check_positive_int(d_model, "d_model")
        self.num_heads = check_positive_int(num_heads, "num_heads")
        if key_dim is None and self.d_model % self.num_heads:
            raise ValueError(f"num_heads: expected a divisor of d_model = {self.d_model} (key_dim defaults to "
                             f"d_model / num_heads), got {num_heads}")
        self.key_dim = check_positive_int(self.d_model // self.num_heads if key_dim is None else key_dim, "key_dim")
        self.value_dim = check_positive_int(self.key_dim if value_dim is None else value_dim, "value_dim")
        self.kv_dim = check_positive_int(self.d_model if kv_dim is None else kv_dim, "kv_dim")
        self.dropout = check_probability(dropout, "dropout")
        self.scale_rounding = check_choice(scale_rounding, "scale_rounding", ("exact", "float32"))
        self.rng = rng
        h, dk, dv, d = self.num_heads, self.key_dim, self.value_dim, self.d_model
        shapes = {"Wq": (d, h, dk), "bq": (h, dk), "Wk": (self.kv_dim, h, dk), "bk": (h, dk),
                  "Wv": (self.kv_dim, h, dv), "bv": (h, dv), "Wo": (h, dv, d), "bo": (d,)}
        given = dict(params or {})
        unknown = set(given) - set(shapes)
        if unknown:
            raise ValueError(f"params: unknown names {sorted(unknown)}; expected some of {', '.join(shapes)}")
        for name, shape in shapes.items():
            value = given.get(name)
            if value is None:
                fan_in = shape[0] if name != "Wo" else h * dv  # Keras EinsumDense fans of the flattened kernel
                fan_out = int(np.prod(shape[1:])) if name != "Wo" else d
                init = initializers.get(weight_init if name.startswith("W") else bias_init)
                value = init(shape, fan_in=fan_in, fan_out=fan_out, rng=rng, dtype=self.dtype)
            self._param(name, value, shape)

    # -- public protocol -----------------------------------------------------------------------
    def forward(self, x: np.ndarray, *, training: bool, value: np.ndarray | None = None,
                key: np.ndarray | None = None, attention_mask: np.ndarray | None = None,
                dropout_mask: np.ndarray | None = None) -> np.ndarray:
        """Attention of query ``x`` (N, T, d) over ``key`` / ``value`` (N, S, kv_dim) (default: x).

        ``attention_mask`` (N, T, S) bool, True where query t may attend to key j;
        ``dropout_mask`` (N, H, T, S) bool, the kept attention weights (injected; else drawn).

        Raises:
            ValueError: wrong ranks or shapes, a mask of the wrong shape or dtype, a query that sees no key.
        """
        check_array(x, "x", dtype=self.dtype)
        for name, arr in (("value", value), ("key", key)):
            if arr is not None:
                check_array(arr, name, dtype=self.dtype)
        self._guard = []
        with np.errstate(over="ignore", invalid="ignore"):
            y = self._forward(x, training=training, value=value, key=key, attention_mask=attention_mask,
                              dropout_mask=dropout_mask)
        check_finite_result(y, "MultiHeadAttention.forward output", "check the weights and the scale of x")
        return y

    def _seq(self, a: np.ndarray, name: str, features: int, n: int | None = None) -> np.ndarray:
        if a.ndim != 3 or a.shape[2] != features or (n is not None and a.shape[0] != n):
            batch = "N" if n is None else str(n)
            raise ValueError(f"{name}: expected a sequence batch of shape ({batch}, length, {features}), "
                             f"got shape {a.shape}")
        return a

    def _forward(self, x, *, training, value=None, key=None, attention_mask=None, dropout_mask=None):
        q_in = self._seq(x, "x", self.d_model)
        n = len(q_in)
        v_in = q_in if value is None else self._seq(value, "value", self.kv_dim, n)
        k_in = v_in if key is None else self._seq(key, "key", self.kv_dim, n)
        if k_in.shape[1] != v_in.shape[1]:
            raise ValueError(f"key: expected the value's length {v_in.shape[1]}, got shape {k_in.shape}")
        t, s = q_in.shape[1], k_in.shape[1]
        P = self.params
        q = np.einsum("ntd,dhk->nhtk", q_in, P["Wq"], optimize=True) + P["bq"][:, None]  # (N, H, T, dk)
        k = np.einsum("nsd,dhk->nhsk", k_in, P["Wk"], optimize=True) + P["bk"][:, None]  # (N, H, S, dk)
        v = np.einsum("nsd,dhk->nhsk", v_in, P["Wv"], optimize=True) + P["bv"][:, None]  # (N, H, S, dv)
        scale = 1.0 / np.sqrt(self.key_dim)
        scale = self.dtype.type(np.float32(scale) if self.scale_rounding == "float32" else scale)
        qs = q * scale
        scores = qs @ k.transpose(0, 1, 3, 2)  # (N, H, T, S)
        if attention_mask is not None:
            check_array(attention_mask, "attention_mask", dtype=np.dtype(bool))
            check_shape(attention_mask, (n, t, s), "attention_mask")
            if not attention_mask.any(axis=2).all():
                raise ValueError("attention_mask: expected every query position to see at least one key, got a row "
                                 "of all False (its softmax has no entries)")
            scores = np.where(attention_mask[:, None], scores, -np.inf)
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        p = e / e.sum(axis=-1, keepdims=True)
        factor = None
        if training and self.dropout > 0:
            if dropout_mask is None:
                if self.rng is None:
                    raise ValueError("rng: MultiHeadAttention with dropout > 0 needs a numpy.random.Generator "
                                     "(or an explicit dropout_mask) in training")
                dropout_mask = self.rng.random(p.shape) >= self.dropout
            check_array(dropout_mask, "dropout_mask", dtype=np.dtype(bool))
            check_shape(dropout_mask, p.shape, "dropout_mask")
            factor = dropout_mask * self.dtype.type(1.0 / (1.0 - self.dropout))
        pd = p if factor is None else p * factor
        o = pd @ v  # (N, H, T, dv)
        y = np.einsum("nhtv,hvd->ntd", o, P["Wo"], optimize=True) + P["bo"]
        self._cache = (q_in, k_in, v_in, value is None, key is None, qs, k, v, p, factor, pd, o, scale)
        self._out_shape = y.shape
        return y

    def _backward(self, dy, *, need_dx):
        q_in, k_in, v_in, self_v, self_k, qs, k, v, p, factor, pd, o, scale = self._cache
        P, g = self.params, self.grads
        g["bo"] = dy.sum(axis=(0, 1))
        g["Wo"] = np.einsum("nhtv,ntd->hvd", o, dy, optimize=True)
        do = np.einsum("ntd,hvd->nhtv", dy, P["Wo"], optimize=True)
        dpd = do @ v.transpose(0, 1, 3, 2)  # (N, H, T, S)
        dv = pd.transpose(0, 1, 3, 2) @ do  # (N, H, S, dv)
        dp = dpd if factor is None else dpd * factor
        ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
        dq = (ds @ k) * scale  # (N, H, T, dk)
        dk = ds.transpose(0, 1, 3, 2) @ qs  # (N, H, S, dk)
        grads_in = {}
        for name, inp, d in (("q", q_in, dq), ("k", k_in, dk), ("v", v_in, dv)):
            g[f"W{name}"] = np.einsum("ntd,nhtk->dhk", inp, d, optimize=True)
            g[f"b{name}"] = d.sum(axis=(0, 2))
            grads_in[name] = np.einsum("nhtk,dhk->ntd", d, P[f"W{name}"], optimize=True)
        d_key = grads_in["k"]
        d_value = grads_in["v"] + (d_key if self_k else 0)  # key defaults to value
        dx = grads_in["q"] + (d_value if self_v else 0)  # value defaults to the query
        self.d_key = None if self_k else d_key
        self.d_value = None if self_v else d_value
        return dx if need_dx else None
