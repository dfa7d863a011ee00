"""Lazy, configured imports of TensorFlow/Keras and PyTorch.

Importing this module is free; ``keras()`` and ``torch()`` import on first call and configure
determinism once (Keras 3 on the TensorFlow backend; TensorFlow op determinism; PyTorch
deterministic algorithms, CPU only).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType


@functools.cache
def keras() -> ModuleType:
    """Return the ``keras`` module on the TensorFlow backend, with deterministic TF ops."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    backend = os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if backend != "tensorflow":
        raise RuntimeError(f"KERAS_BACKEND: dlparity compares Keras on the TensorFlow backend, got {backend!r}")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # Python-side TensorFlow and absl warnings off the terminal
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


@contextmanager
def interleaved() -> Iterator[None]:
    """PyTorch on one thread and TensorFlow's warnings off for the block (both restored after).

    For runs that interleave PyTorch with TensorFlow and NumPy step by step on a small machine:
    PyTorch's thread pool waits for cores the others hold. On 2 cores a 32-image MLP step took
    100-240 ms instead of 1 ms; a 250-step lock-step run of mlp4x128_bn_dropout 14.5 s with the
    default pool, 7.2 s with one PyTorch thread. Each Keras run compiles its own step, which
    TensorFlow reports as "retracing"."""
    t, tf_logger = torch(), tf().get_logger()
    old, level = t.get_num_threads(), tf_logger.level
    t.set_num_threads(1)
    tf_logger.setLevel("ERROR")
    try:
        yield
    finally:
        t.set_num_threads(old)
        tf_logger.setLevel(level)


def versions() -> dict[str, str]:
    """Versions of the libraries a comparison ran against."""
    import numpy

    return {
        "numpy": numpy.__version__,
        "keras": keras().__version__,
        "tensorflow": tf().__version__,
        "torch": torch().__version__,
    }
