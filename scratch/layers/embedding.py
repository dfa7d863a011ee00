"""Embedding: a lookup table of vectors, indexed by integer ids."""

from __future__ import annotations

import numpy as np

from scratch import initializers
from scratch._checks import NonFiniteError, check_array, check_positive_int
from scratch.layers.base import Layer

#: PyTorch ``nn.Embedding``'s default: ``normal_(0, 1)``.
TORCH_DEFAULT_INIT = initializers.random_normal(mean=0.0, std=1.0)
#: Keras ``Embedding``'s default ``"uniform"``: ``RandomUniform(minval=-0.05, maxval=0.05)``.
KERAS_DEFAULT_INIT = initializers.random_uniform(low=-0.05, high=0.05)


class Embedding(Layer):
    """A table W of shape (num_embeddings, dim); row i is the vector of id i (Bengio et al. 2003).

    Algorithm::

        y[n, ..., :] = W[ids[n, ...], :]                       ids (N, ...) -> y (N, ..., dim)
        dW[i, :] = sum of dy[n, ..., :] over the positions where ids[n, ...] == i
        padding_idx p set: dW[p, :] = 0                        (PyTorch's padding_idx)

    The ids carry no gradient: ``backward`` writes ``grads['W']`` and returns None. Ids are an
    integer array, or an array of the layer dtype holding whole numbers (so that a ``Sequential``,
    which checks its input's dtype, can start with an Embedding; Keras casts float ids too, with
    truncation, where scratch refuses a fractional id).

    Framework notes: PyTorch ``nn.Embedding(num, dim, padding_idx=p)`` zeroes the gradient of row p
    (and initialises that row to zeros); Keras ``Embedding(num, dim, mask_zero=True)`` only makes a
    mask (``ids != 0``) for the layers after it: row 0 is looked up and gets its gradient like any
    other row. Default initializers differ: Keras ``uniform`` is U(-0.05, 0.05), PyTorch N(0, 1).
    An id outside [0, num): PyTorch raises IndexError, Keras (TensorFlow, CPU) an
    InvalidArgumentError for id >= num but wraps a negative id to num + id; scratch raises ValueError
    for both.

    Args:
        num_embeddings: rows of the table (the vocabulary size).
        dim: the vector size.
        padding_idx: a row whose gradient is always zero (PyTorch semantics), or None.
        W: explicit initial table; otherwise drawn with ``weight_init``.
        weight_init: initializer name or callable (default ``TORCH_DEFAULT_INIT``, N(0, 1);
            ``KERAS_DEFAULT_INIT`` is Keras's U(-0.05, 0.05)).
        rng: generator for a random initializer.
        dtype: ``"float32"`` or ``"float64"``.
    """

    per_sample = True

    def __init__(self, num_embeddings: int, dim: int, *, padding_idx: int | None = None,
                 W: np.ndarray | None = None, weight_init=TORCH_DEFAULT_INIT, rng: np.random.Generator | None = None,
                 dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.num_embeddings = check_positive_int(num_embeddings, "num_embeddings")
        self.dim = check_positive_int(dim, "dim")
        if padding_idx is not None and (isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer))
                                        or not 0 <= padding_idx < self.num_embeddings):
            raise ValueError(f"padding_idx: expected None or an int in [0, {self.num_embeddings}), got {padding_idx!r}")
        self.padding_idx = None if padding_idx is None else int(padding_idx)
        shape = (self.num_embeddings, self.dim)
        if W is None:
            W = initializers.get(weight_init)(shape, fan_in=self.num_embeddings, fan_out=self.dim, rng=rng,
                                              dtype=self.dtype)
        self._param("W", W, shape)

    def ids(self, x: np.ndarray) -> np.ndarray:
        """``x`` as int64 ids, checked: integers (or whole numbers in the layer dtype) in [0, num)."""
        check_array(x, "x", finite=False)
        if x.dtype.kind in "iu":
            ids = x.astype(np.int64, copy=False)
        elif x.dtype == self.dtype:
            if not np.isfinite(x).all() or (x != np.round(x)).any():
                raise ValueError(f"x: expected integer ids (whole numbers), got fractional or non-finite values "
                                 f"in an array of {x.dtype.name}")
            ids = x.astype(np.int64)
        else:
            raise ValueError(f"x: expected an integer array of ids (or {self.dtype.name} whole numbers), "
                             f"got dtype {x.dtype.name}")
        if x.ndim < 1:
            raise ValueError("x: expected ids of shape (N, ...), got a 0-D array")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            bad = ids[(ids < 0) | (ids >= self.num_embeddings)]
            raise ValueError(f"x: expected ids in [0, {self.num_embeddings}) (num_embeddings={self.num_embeddings}), "
                             f"got {bad.size} outside, e.g. {int(bad.flat[0])}")
        return ids

    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        """Look the ids up. Raises ValueError for a non-integer id or one outside the table."""
        self._guard = []
        return self._forward(x, training=training)

    def backward(self, dy: np.ndarray) -> None:
        """Overwrite ``grads['W']``; the ids have no gradient, so None is returned."""
        self._check_upstream(dy)
        self._backward(dy, need_dx=False)
        g = self.grads["W"]
        if not np.isfinite(g).all():
            raise NonFiniteError("Embedding.grads['W']: NaN or infinite values although dy was finite")
        return None

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        self._ids = self.ids(x)
        y = self.params["W"][self._ids]  # (N, ...) -> (N, ..., dim), a copy
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> None:
        """Scatter-add dy into the rows of the ids (float64 sums), padding row zeroed."""
        g = np.zeros((self.num_embeddings, self.dim), dtype=np.float64)
        np.add.at(g, self._ids.reshape(-1), dy.reshape(-1, self.dim))  # (N*..., dim) rows added by id
        if self.padding_idx is not None:
            g[self.padding_idx] = 0
        self.grads["W"] = g.astype(self.dtype, copy=False)
        return None


__all__ = ["Embedding"]  # the init presets are not components
