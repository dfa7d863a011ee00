"""README's "Adding a component", walked with a toy layer defined here: the scratch class (traits
declared on it), its two twins registered next to the others, one table entry. The route must reach
the parity run, the coverage meta-test, the atlas and the fast numerical gradient without editing
anything else; a layer that declares no traits gets an error naming the trait."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest

from comparisons.harness.registry import run_case
from comparisons.report.atlas.page import section
from comparisons.report.document import Page
from comparisons.table import CASES, components
from comparisons.table.layers import layer, normal
from comparisons.table.spec import DTYPES
from reference import frameworks, keras_layers, torch_layers
from reference.twin import KerasLayerTwin, TorchLayerTwin
from scratch import layers as L
from scratch import losses as S
from scratch.fastgrad import fast_numerical_gradient
from scratch.gradcheck import model_numerical_gradient
from scratch.layers.base import Layer
from scratch.model import Sequential

SLOPE = 0.25  # exact in float32, so no known difference arises from Keras storing the slope as float32


# -- step 1: the scratch class, traits declared on it ---------------------------------------------
class ToyLeakyReLU(Layer):
    """y = x if x > 0 else slope * x; dx = dy * (1 if x > 0 else slope).

    Algorithm: y = max(x, 0) + slope * min(x, 0).
    """

    per_sample = True
    elementwise = True
    per_channel = True

    def __init__(self, slope: float = SLOPE, *, dtype: str = "float64") -> None:
        super().__init__(dtype=dtype)
        self.slope = slope

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._check_input(x)
        self._pos = x > 0
        self._out_shape = x.shape
        return np.where(self._pos, x, x * self.dtype.type(self.slope))

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        return np.where(self._pos, dy, dy * self.dtype.type(self.slope)) if need_dx else None


class Undeclared(Layer):
    """A layer that declares no traits."""

    def _forward(self, x, *, training):
        self._out_shape = x.shape
        return x * 2

    def _backward(self, dy, *, need_dx):
        return dy * 2


# -- step 2: its two twins, registered on the builders' singledispatch -------------------------------
@keras_layers.build.register
def _(layer: ToyLeakyReLU, input_shape):
    keras = frameworks.keras()
    module = keras.layers.LeakyReLU(negative_slope=layer.slope, dtype=layer.dtype.name)
    return KerasLayerTwin(module, {}, call=f"keras.layers.LeakyReLU(negative_slope={layer.slope})")


@torch_layers.build.register
def _(layer: ToyLeakyReLU, input_shape):
    module = frameworks.torch().nn.LeakyReLU(negative_slope=layer.slope, inplace=False)
    return TorchLayerTwin(module, {}, call=f"nn.LeakyReLU(negative_slope={layer.slope}, inplace=False)")


# -- step 3: one table entry --------------------------------------------------------------------------
CASE = layer("toy-leaky-relu", ("ToyLeakyReLU",), "a toy LeakyReLU, slope 0.25",
             lambda dtype: ToyLeakyReLU(SLOPE, dtype=dtype), normal((6, 5), steps=2), ("train", "eval"))


@pytest.fixture
def toy_module(monkeypatch):
    """A module exporting the toy component, registered as a component module."""
    module = types.ModuleType("toy_components")
    module.__all__ = ["ToyLeakyReLU"]
    module.ToyLeakyReLU = ToyLeakyReLU
    monkeypatch.setitem(sys.modules, "toy_components", module)
    monkeypatch.setattr(components, "COMPONENT_MODULES", (*components.COMPONENT_MODULES, "toy_components"))
    return module


@pytest.mark.parametrize("framework", ["keras", "torch"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_parity_run_reaches_the_toy(framework, dtype):
    rows = run_case(CASE, framework, dtype)
    assert {r.quantity for r in rows} == {"output", "dx"} and all(r.ok for r in rows), rows


def test_the_meta_test_sees_the_toy(toy_module):
    assert components.uncovered(CASES) == ["toy_components.ToyLeakyReLU"]  # the table must cover it
    assert components.uncovered([*CASES, CASE]) == []


def test_the_atlas_shows_the_toy(toy_module):
    rows = [r.as_dict() for fw in CASE.frameworks for dt in DTYPES for r in run_case(CASE, fw, dt)]
    page = Page("toy")
    section(page, "ToyLeakyReLU", [CASE], pd.DataFrame(rows))
    text = page.markdown()
    for expected in ("toy_components.ToyLeakyReLU", "y = max(x, 0) + slope * min(x, 0)", "`toy-leaky-relu`",
                     "keras.layers.LeakyReLU(negative_slope=0.25)", "nn.LeakyReLU(negative_slope=0.25"):
        assert expected in text, expected


def _model(middle: Layer) -> Sequential:
    rng = np.random.default_rng(0)
    return Sequential([L.Dense(4, 6, rng=rng), middle, L.Dense(6, 3, rng=rng)])


def test_the_fast_numerical_gradient_reads_the_traits():
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    model = _model(ToyLeakyReLU())
    fast = fast_numerical_gradient(model, x, t, loss=S.SoftmaxCrossEntropy(), training=False, h=1e-5)
    slow = model_numerical_gradient(model, x, t, loss=S.SoftmaxCrossEntropy(), training=False, h=1e-5)
    assert fast.keys() == slow.keys()
    for name in fast:
        np.testing.assert_allclose(fast[name], slow[name], rtol=0, atol=1e-9)


def test_an_undeclared_layer_gets_an_error_naming_the_trait():
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    with pytest.raises(ValueError, match=r"\(Undeclared\) does not declare the trait `per_sample`"):
        fast_numerical_gradient(_model(Undeclared()), x, t, loss=S.SoftmaxCrossEntropy(), training=False)


class ToyBatchCenter(Layer):
    """Training: y = x - mean over the batch (mixes the samples); evaluation: y = x. Backward:
    dx = dy - mean(dy) in training, dy in evaluation."""

    per_sample = True
    mixes_batch_in_training = True

    def _forward(self, x, *, training):
        self._training, self._out_shape = training, x.shape
        return x - x.mean(axis=0) if training else x.copy()

    def _backward(self, dy, *, need_dx):
        return (dy - dy.mean(axis=0) if self._training else dy) if need_dx else None


def test_the_fast_numerical_gradient_follows_a_declared_batch_mix():
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    model = _model(ToyBatchCenter())
    fast = fast_numerical_gradient(model, x, t, loss=S.SoftmaxCrossEntropy(), training=True, h=1e-5)
    slow = model_numerical_gradient(model, x, t, loss=S.SoftmaxCrossEntropy(), training=True, h=1e-5)
    for name in fast:
        np.testing.assert_allclose(fast[name], slow[name], rtol=0, atol=1e-9)
    assert np.abs(fast["dense0.W"]).max() > 1e-3  # the gradient is not trivially zero
