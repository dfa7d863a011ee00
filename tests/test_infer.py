"""Sequential.infer: the evaluation forward without the backward guard."""

import numpy as np
import pytest

from comparisons.studies import models
from scratch._checks import NonFiniteError


@pytest.mark.parametrize("name", ["mlp4x128_bn_dropout", "simple_convnet"])
def test_infer_equals_the_evaluation_forward(name):
    model = models.build(name, seed=3, dtype="float32")
    x = np.random.default_rng(0).random((7, *models.get(name).input_shape)).astype("float32")
    expected = model.forward(x, training=False)
    assert np.array_equal(model.infer(x), expected)
    assert np.array_equal(model.predict(x), expected)  # one batch: a smaller one may round differently in BLAS


def test_backward_after_infer_raises_as_after_no_forward():
    model = models.build("twolayer", dtype="float64")
    x = np.random.default_rng(0).random((4, 784))
    model.forward(x, training=True)
    model.infer(x)
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(np.ones((4, 10)))


def test_infer_checks_its_input():
    model = models.build("twolayer", dtype="float64")
    x = np.random.default_rng(0).random((4, 784))
    x[1, 5] = np.nan
    with pytest.raises(NonFiniteError, match="x: expected finite values"):
        model.infer(x)
    with pytest.raises(ValueError, match="dtype float64"):
        model.infer(x.astype("float32"))
