"""Lazy, configured imports of TensorFlow/Keras and PyTorch.

Importing this module is free; ``keras()`` and ``torch()`` import on first call and configure
determinism once (Keras 3 on the TensorFlow backend; TensorFlow op determinism; PyTorch
deterministic algorithms, CPU only).
"""

from __future__ import annotations

import functools
import os
from types import ModuleType


@functools.cache
def keras() -> ModuleType:
    """Return the ``keras`` module on the TensorFlow backend, with deterministic TF ops."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    backend = os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if backend != "tensorflow":
        raise RuntimeError(f"KERAS_BACKEND: dlparity compares Keras on the TensorFlow backend, got {backend!r}")
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    import keras as k

    return k


@functools.cache
def tf() -> ModuleType:
    """Return ``tensorflow`` (imported through ``keras()`` so the configuration applies)."""
    keras()
    import tensorflow

    return tensorflow


@functools.cache
def torch() -> ModuleType:
    """Return ``torch`` with deterministic algorithms."""
    import torch as t

    t.use_deterministic_algorithms(True)
    return t


def versions() -> dict[str, str]:
    """Versions of the libraries a comparison ran against."""
    import numpy

    return {
        "numpy": numpy.__version__,
        "keras": keras().__version__,
        "tensorflow": tf().__version__,
        "torch": torch().__version__,
    }
