"""The book's classes in the case table: a ``scratch.textbook`` layer driven through the core protocol.

The harness runs layers through ``forward(x, *, training, mask=None)`` / ``backward(dy)`` and reads
``params`` / ``grads`` / ``buffers``; the book's classes speak ``forward(x[, train_flg])`` /
``backward(dout)`` and keep ``W``, ``dW``, ``running_mean``... as attributes. ``BookLayer`` translates
one into the other, calling the book's methods themselves, so a case built on it proves the book's
class, not only its core layer. The Keras and PyTorch twins are built from the core layer the book
class holds (``unwrap``), so book class, core layer and frameworks meet in one run.
"""

from __future__ import annotations

import numpy as np

#: core parameter name -> the book's gradient attribute
GRAD_ATTR = {"W": "dW", "b": "db", "gamma": "dgamma", "beta": "dbeta"}


class BookLayer:
    """Drive a ``scratch.textbook.layers`` object through the core layer protocol.

    Args:
        book: the book's layer (``Affine``, ``Relu``, ..., ``Pooling``).
        dtype: the dtype the case runs in (the book layer's core is built for it).

    Attributes:
        book: the book's layer; core: the core layer it computes with (the twins are built from it).
    """

    def __init__(self, book, dtype: str) -> None:
        self.book = book
        self.core = book.core_for(np.dtype(dtype))
        self.dtype = self.core.dtype
        self._train_flg = "train_flg" in type(book).forward.__code__.co_varnames

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The book's parameter attributes (the same arrays its core layer uses), core names."""
        return {name: getattr(self.book, name) for name in self.core.params}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """The book's gradient attributes (dW, db, dgamma, dbeta), core names."""
        return {name: getattr(self.book, GRAD_ATTR[name]) for name in self.core.params}

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """The book's running statistics (BatchNormalization), core names."""
        return {name: getattr(self.book, name) for name in self.core.buffers}

    @property
    def rate(self) -> float:
        """Dropout only: the book's dropout_ratio."""
        return self.book.dropout_ratio

    def forward(self, x: np.ndarray, *, training: bool, mask: np.ndarray | None = None) -> np.ndarray:
        if mask is not None:  # a Dropout mask drawn by a framework, injected
            return self.book.forward_with_mask(x, mask)
        if self._train_flg:
            return self.book.forward(x, train_flg=training)
        return self.book.forward(x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return self.book.backward(dy)


class BookOptimizer:
    """A book optimizer (``update(params, grads)`` with its own fixed lr) driven by the harness's
    ``step(params, grads, lr)``; ``core`` is the core optimizer of the same arithmetic, from which the
    Keras and PyTorch twins are built."""

    def __init__(self, book, core) -> None:
        self.book, self.core = book, core

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
        if lr != self.book.lr:
            raise ValueError(f"lr: the book's {type(self.book).__name__} has lr {self.book.lr}, the case gave {lr}")
        self.book.update(params, grads)


def unwrap(obj) -> tuple[object | None, object]:
    """(the book's object or None, the core component a twin is built from) for a case's object."""
    if isinstance(obj, (BookLayer, BookOptimizer)):
        return obj.book, obj.core
    if type(obj).__module__.startswith("scratch.textbook") and hasattr(obj, "core"):
        return obj, obj.core
    return None, obj


def core_of(obj) -> object:
    """The core component of a case's object (the object itself for a core component)."""
    return unwrap(obj)[1]
