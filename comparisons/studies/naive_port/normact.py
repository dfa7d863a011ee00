"""The naive-port settings of LayerNorm and LeakyReLU, and the MNIST variant they run on.

No MNIST spec has either layer, so ``mlp_ln_leaky`` is made for them: a Keras-native MLP (Flatten,
2 x (Dense 64, LayerNorm, LeakyReLU), Dense 10) with Keras's defaults, LayerNormalization
epsilon 1e-3 and LeakyReLU negative_slope 0.3. Keras applies that slope as float32(0.3) (its
TensorFlow kernel takes a float32 attribute), so the spec's slope is float32(0.3) = 0.30000001192...,
the slope the Keras model computes with, and the exact ports stay exact. The naive PyTorch port
leaves ``nn.LayerNorm(eps=1e-5)`` or ``nn.LeakyReLU(negative_slope=0.01)`` at its default.
"""

from __future__ import annotations

import numpy as np

from comparisons.studies import models
from scratch import layers as L
from scratch.model import Sequential

#: The slope Keras's LeakyReLU() computes with in any dtype: its default 0.3 rounded to float32.
KERAS_SLOPE = float(np.float32(0.3))
KERAS_LN_EPS = 1e-3
TORCH_LN_EPS, TORCH_SLOPE = 1e-5, 0.01


def _mlp_ln_leaky(rng, dtype):
    layers: list[L.Layer] = [L.Flatten(dtype=dtype)]
    for fan_in in (784, 64):
        layers += [L.Dense(fan_in, 64, weight_init="glorot_uniform", bias_init="zeros", rng=rng, dtype=dtype),
                   L.LayerNorm((64,), axes=(-1,), eps=KERAS_LN_EPS, dtype=dtype),
                   L.LeakyReLU(KERAS_SLOPE, dtype=dtype)]
    layers.append(L.Dense(64, 10, weight_init="glorot_uniform", bias_init="zeros", rng=rng, dtype=dtype))
    return Sequential(layers)


SPEC = models.ModelSpec(
    "mlp_ln_leaky", "variant with Keras's defaults: Flatten, 2 x (Dense 64, LayerNorm eps 1e-3, LeakyReLU 0.3), "
    "Dense 10", (784,), _mlp_ln_leaky, models.MODELS["mlp4x32"].recipe)
BUDGET = {"epochs": 1, "train_limit": 16_000, "test_limit": 2_000}

#: (key, title, exact, naive) of the two settings; ``port.Setting`` is built from them.
SETTINGS = [
    ("ln-eps-default", "LayerNorm epsilon", "eps 1e-3 (Keras's default, passed explicitly)",
     "PyTorch default nn.LayerNorm(eps=1e-5)"),
    ("leaky-slope-default", "LeakyReLU negative slope", "float32(0.3), the slope Keras's default computes with",
     "PyTorch default nn.LeakyReLU(negative_slope=0.01)"),
]
KEYS = tuple(s[0] for s in SETTINGS)
_LAYER = {"ln-eps-default": L.LayerNorm, "leaky-slope-default": L.LeakyReLU}


def applicable(key: str, framework: str, model: Sequential) -> str | None:
    """None if the naive setting occurs in the model for this framework, else why not."""
    cls = _LAYER[key]
    if not any(isinstance(x, cls) for x in model.layers):
        return f"no {cls.__name__} in this model (see {SPEC.name})"
    return None if framework == "torch" else "the spec uses Keras's values (Keras's defaults)"


def naive_model(key: str, model: Sequential) -> Sequential:
    """A copy of ``model`` with the setting ``key`` at PyTorch's default (the same weights)."""
    def swap(x: L.Layer) -> L.Layer:
        if key == "ln-eps-default" and isinstance(x, L.LayerNorm):
            return L.LayerNorm(x.shape, axes=x.axes, eps=TORCH_LN_EPS, gamma=x.params["gamma"],
                               beta=x.params["beta"], dtype=x.dtype.name)
        if key == "leaky-slope-default" and isinstance(x, L.LeakyReLU):
            return L.LeakyReLU(TORCH_SLOPE, dtype=x.dtype.name)
        return x
    return Sequential([swap(x) for x in model.layers], names=model.names)
