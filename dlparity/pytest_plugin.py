"""pytest plugin: the ``parity`` fixture (registered as the ``pytest11`` entry point of dlparity).

After ``pip install "dlparity[frameworks]"`` a test suite writes::

    def test_my_conv(parity):
        parity.check_layer(MyConv(W, b), torch.nn.Conv2d(3, 4, 3), x)

A failing check fails the test with an assertion naming the quantity, the framework, the dtype, the
max absolute and relative errors and the index of the worst element. dlparity itself is imported on
first use, so the plugin costs nothing in a test run that does not use it. Without the entry point
(a checkout, not installed), ``pytest -p dlparity.pytest_plugin`` loads it.
"""

from __future__ import annotations

import pytest


class Parity:
    """``check_layer`` / ``check_port`` that assert; each returns the ``Result`` when it passes.

    Attributes:
        results: every result of the test, in order (to print or inspect in the test).
    """

    def __init__(self) -> None:
        self.results: list = []

    def check_layer(self, layer, reference, x, **kwargs):
        """``dlparity.check_layer(...)`` then ``assert_ok()``."""
        __tracebackhide__ = True
        from dlparity import check_layer

        result = check_layer(layer, reference, x, **kwargs)
        self.results.append(result)
        return result.assert_ok()

    def check_port(self, model_a, model_b, x, **kwargs):
        """``dlparity.check_port(...)`` then ``assert_ok()``."""
        __tracebackhide__ = True
        from dlparity import check_port

        result = check_port(model_a, model_b, x, **kwargs)
        self.results.append(result)
        return result.assert_ok()


@pytest.fixture
def parity() -> Parity:
    """Checks that fail the test like an assertion: ``parity.check_layer(...)``, ``parity.check_port(...)``."""
    return Parity()
