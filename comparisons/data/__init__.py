"""MNIST for the end-to-end runs: ``load_mnist`` with the textbook's options, verified and cached.

See ``comparisons.data.mnist`` for the sources and their order.
"""

from comparisons.data.mnist import (
    MNIST_SHA256,
    Digests,
    Fetched,
    MnistUnavailableError,
    MnistWarning,
    cache_path,
    fetch_mnist,
    load_mnist,
    verify,
)
from comparisons.data.sources import MnistArrays

__all__ = ["MNIST_SHA256", "Digests", "Fetched", "MnistArrays", "MnistUnavailableError", "MnistWarning",
           "cache_path", "fetch_mnist", "load_mnist", "verify"]
