"""The ``parity`` pytest fixture, in a test file of your own project.

After ``pip install "dlparity[frameworks]"`` the fixture is there (a ``pytest11`` entry point); from a
checkout, ``pytest -p dlparity.pytest_plugin examples/test_parity_fixture.py``. A failing check fails
the test with the quantity, framework, dtype, max abs and relative error and the worst index.
"""

import numpy as np
import pytest
import torch


class MyReLU:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x).astype(x.dtype)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout).astype(dout.dtype)


class MyLeakyReLU(MyReLU):  # meant to be a ReLU, but leaks
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.01 * x, x).astype(x.dtype)


def test_my_relu(parity):
    x = np.random.default_rng(0).standard_normal((4, 6))
    result = parity.check_layer(MyReLU(), torch.nn.ReLU(), x)
    assert result.ok


def test_a_wrong_layer_fails_like_an_assertion(parity):
    x = np.random.default_rng(0).standard_normal((4, 6))
    with pytest.raises(AssertionError, match=r"output vs torch.nn.ReLU \(float64, train\): FAIL: max abs error"):
        parity.check_layer(MyLeakyReLU(), torch.nn.ReLU(), x)
