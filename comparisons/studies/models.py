"""The model specs: each name builds a scratch Sequential (the others receive its weights) and
carries its training recipe.

Every model ends in logits; the softmax lives in the loss (``SoftmaxCrossEntropy``), which is what
Keras's ``Dense(10, activation="softmax")`` + cross-entropy computes too (it reads the logits behind
the softmax on the TensorFlow backend) and what PyTorch's ``CrossEntropyLoss`` expects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from scratch import initializers
from scratch import layers as L
from scratch.model import Sequential


@dataclass(frozen=True)
class Recipe:
    """How a model is trained: optimizer name and hyperparameters, batch size, budget."""

    optimizer: str
    optimizer_args: dict = field(default_factory=dict)
    batch_size: int = 100
    epochs: int | None = None
    iterations: int | None = None
    schedule: str | None = None
    notes: str = ""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    input_shape: tuple[int, ...]  # one sample, e.g. (784,) or (1, 28, 28)
    build: Callable[[np.random.Generator, str], Sequential]
    recipe: Recipe
    reference: str = ""  # published figures for this recipe


def _mlp4x32(rng, dtype):
    sizes = [784, 32, 32, 32, 32]
    layers: list[L.Layer] = [L.Flatten(dtype=dtype)]
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [L.Dense(fan_in, fan_out, weight_init="glorot_uniform", bias_init="zeros", rng=rng, dtype=dtype),
                   L.ReLU(dtype=dtype)]
    layers.append(L.Dense(32, 10, weight_init="glorot_uniform", bias_init="zeros", rng=rng, dtype=dtype))
    return Sequential(layers)


def _mlp4x128_bn_dropout(rng, dtype):
    he = initializers.get("keras.he_normal")
    layers: list[L.Layer] = [L.Flatten(dtype=dtype)]
    fan_in = 784
    for _ in range(4):
        layers += [L.Dense(fan_in, 128, weight_init=he, bias_init="zeros", rng=rng, dtype=dtype),
                   L.BatchNorm.keras(128, momentum=0.99, eps=1e-3, dtype=dtype), L.ReLU(dtype=dtype),
                   L.Dropout(0.2, inverted=True, rng=rng, dtype=dtype)]
        fan_in = 128
    layers.append(L.Dense(128, 10, weight_init="glorot_uniform", bias_init="zeros", rng=rng, dtype=dtype))
    return Sequential(layers)


def _twolayer(rng, dtype):
    init = initializers.normal(0.01)
    return Sequential([
        L.Dense(784, 50, weight_init=init, bias_init="zeros", rng=rng, dtype=dtype), L.Sigmoid(dtype=dtype),
        L.Dense(50, 10, weight_init=init, bias_init="zeros", rng=rng, dtype=dtype),
    ])


def _simple_convnet(rng, dtype):
    init = initializers.normal(0.01)
    return Sequential([
        L.Conv2D(1, 30, 5, stride=1, padding=0, weight_init=init, bias_init="zeros", rng=rng, dtype=dtype),
        L.ReLU(dtype=dtype), L.MaxPool2D(2, stride=2, padding=0, dtype=dtype), L.Flatten(dtype=dtype),
        L.Dense(30 * 12 * 12, 100, weight_init=init, bias_init="zeros", rng=rng, dtype=dtype), L.ReLU(dtype=dtype),
        L.Dense(100, 10, weight_init=init, bias_init="zeros", rng=rng, dtype=dtype),
    ])


def _row_rnn(cls):
    """A recurrent layer reading an image row by row (28 steps of 28 pixels), its last hidden state
    into Dense 10. Keras's initializers: glorot_uniform kernels and zero biases; the recurrent kernel
    is glorot_uniform too (Keras's default is orthogonal; the weights are transferred anyway)."""
    def build(rng, dtype):
        return Sequential([
            cls(28, 64, return_sequences=False, weight_init="glorot_uniform", recurrent_init="glorot_uniform",
                bias_init="zeros", rng=rng, dtype=dtype),
            L.Dense(64, 10, weight_init="glorot_uniform", bias_init="zeros", rng=rng, dtype=dtype),
        ])
    return build


MODELS: dict[str, ModelSpec] = {m.name: m for m in [
    ModelSpec("mlp4x32", "Flatten, 4 x (Dense 32, ReLU), Dense 10, softmax", (784,), _mlp4x32,
              Recipe("sgd", {"learning_rate": 0.01}, batch_size=32, epochs=5),
              "Keras: train accuracy 0.9474, loss 0.1801 after epoch 5"),
    ModelSpec("mlp4x128_bn_dropout", "4 x (Dense 128 He-normal, BatchNorm, ReLU, Dropout 0.2), Dense 10, softmax",
              (784,), _mlp4x128_bn_dropout,
              Recipe("adam", {}, batch_size=32, epochs=30, schedule="warmup_cosine(3 epochs to 0.01, to epoch 30)")),
    ModelSpec("twolayer", "the textbook's TwoLayerNet 784-50-10, sigmoid, softmax with cross-entropy",
              (784,), _twolayer, Recipe("sgd", {"learning_rate": 0.1}, batch_size=100, iterations=10_000)),
    ModelSpec("simple_convnet", "the textbook's SimpleConvNet: conv 30x5x5, ReLU, max-pool 2, Dense 100, ReLU, "
              "Dense 10", (1, 28, 28), _simple_convnet,
              Recipe("adagrad", {"learning_rate": 0.06}, batch_size=100, iterations=6_000),
              "NumPy: test accuracy 0.9860, train 0.9972"),
    ModelSpec("row_lstm", "LSTM 64 reading the image row by row (28 steps x 28 pixels), last state, Dense 10",
              (28, 28), _row_rnn(L.LSTM), Recipe("sgd", {"learning_rate": 0.1}, batch_size=100, epochs=1)),
    ModelSpec("row_gru", "GRU 64 (reset_after=True) reading the image row by row (28 x 28), last state, Dense 10",
              (28, 28), _row_rnn(L.GRU), Recipe("sgd", {"learning_rate": 0.1}, batch_size=100, epochs=1)),
]}


def get(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ValueError(f"model: unknown name {name!r}; expected one of {', '.join(MODELS)}")
    return MODELS[name]


def build(name: str, *, seed: int = 0, dtype: str = "float64") -> Sequential:
    """The scratch model ``name`` with initial weights drawn from ``default_rng(seed)``."""
    return get(name).build(np.random.default_rng(seed), dtype)
