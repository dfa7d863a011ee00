"""Where the table's known differences point: the sources and documentation pages, defined once.

Every link of a known difference is built from these roots (a meta-test checks that each known
difference has one), so a moved documentation site is one edit.
"""

from __future__ import annotations

#: The textbook's published code (oreilly-japan/deep-learning-from-scratch), directory ``common/``.
TEXTBOOK = "https://github.com/oreilly-japan/deep-learning-from-scratch/blob/master/common"
#: Keras 3 sources.
KERAS_SRC = "https://github.com/keras-team/keras/blob/master/keras/src"
#: Keras documentation.
KERAS_DOCS = "https://keras.io/api"
#: PyTorch documentation, and its per-class pages.
TORCH_STABLE = "https://pytorch.org/docs/stable"
TORCH_DOCS = f"{TORCH_STABLE}/generated"
#: PyTorch sources.
TORCH_SRC = "https://github.com/pytorch/pytorch/blob/main/torch"
#: PyTorch's C++ operator sources (ATen native kernels).
TORCH_NATIVE = "https://github.com/pytorch/pytorch/blob/main/aten/src/ATen/native"
#: TensorFlow sources (Keras's TensorFlow backend calls into them).
TF_SRC = "https://github.com/tensorflow/tensorflow/blob/master/tensorflow"

__all__ = ["KERAS_DOCS", "KERAS_SRC", "TEXTBOOK", "TF_SRC", "TORCH_DOCS", "TORCH_NATIVE", "TORCH_SRC", "TORCH_STABLE"]
