"""dlparity: check your own NumPy layers and your Keras <-> PyTorch ports, forward and backward.

    import dlparity
    result = dlparity.check_layer(my_affine, torch.nn.Linear(3, 4), x)   # a NumPy layer vs a reference
    result = dlparity.check_port(keras_model, torch_model, x)            # a model vs its port
    print(result); result.ok; result.assert_ok(); result.to_frame()

A thin facade: the components are ``scratch`` (NumPy), the framework twins and layouts ``reference``,
the error measure, tolerances and recorded framework differences ``comparisons``. ``pip install
dlparity`` gives ``scratch`` with NumPy only; the checks against Keras and PyTorch need
``pip install "dlparity[frameworks]"``. The pytest plugin (``dlparity.pytest_plugin``, registered as a
``pytest11`` entry point) gives a ``parity`` fixture.
"""

from __future__ import annotations

from comparisons.table.spec import DEFAULT_TOLERANCE as TOLERANCES
from comparisons.table.spec import Tolerance
from dlparity.layer import check_layer
from dlparity.port import check_port
from dlparity.result import ParityError, Result, Row

__all__ = ["TOLERANCES", "ParityError", "Result", "Row", "Tolerance", "check_layer", "check_port"]
