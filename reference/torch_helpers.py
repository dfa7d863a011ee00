"""What the PyTorch layer twins share: arrays to tensors, the layer's torch dtype, stateless twins."""

from __future__ import annotations

import numpy as np

from reference import frameworks
from reference.twin import TorchLayerTwin


def _t(a: np.ndarray):
    return frameworks.torch().from_numpy(np.array(a))


def _tdtype(layer):
    return getattr(frameworks.torch(), layer.dtype.name)


def _stateless(module, call: str) -> TorchLayerTwin:
    return TorchLayerTwin(module, {}, call=call)
