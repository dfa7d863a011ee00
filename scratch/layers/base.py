"""The layer protocol every scratch layer follows.

A layer holds three dicts of arrays with short canonical names:

* ``params``: trainable arrays (``W``, ``b``, ``gamma``, ``beta``);
* ``grads``: the gradient of the loss with respect to each param, same keys, written by
  ``backward`` (overwritten, not accumulated);
* ``buffers``: non-trainable state updated by a training forward (``running_mean``, ``running_var``).

``forward(x, *, training)`` returns a new array of the layer's dtype and caches what ``backward``
needs; ``backward(dy)`` returns ``dL/dx``. Neither writes into ``x`` or ``dy``.
"""

from __future__ import annotations

import numpy as np

from scratch._checks import as_float_dtype, check_array, check_shape


class Layer:
    """Base class: the protocol plus the checks every layer shares.

    Args:
        dtype: ``"float32"`` or ``"float64"``; inputs must have this dtype and outputs keep it.
    """

    def __init__(self, *, dtype: str | np.dtype = "float64") -> None:
        self.dtype = as_float_dtype(dtype)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self._out_shape: tuple[int, ...] | None = None

    # -- the protocol --------------------------------------------------------------------------
    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def __call__(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        return self.forward(x, training=training)

    # -- helpers for subclasses ----------------------------------------------------------------
    def _check_input(self, x: np.ndarray, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
        return check_array(x, "x", dtype=self.dtype, ndim=ndim)

    def _check_upstream(self, dy: np.ndarray) -> np.ndarray:
        """Check ``dy`` against the last forward's output; raise if no forward came first."""
        if self._out_shape is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward called before forward: call forward(x, training=True) first"
            )
        check_array(dy, "dy", dtype=self.dtype)
        check_shape(dy, self._out_shape, "dy")
        return dy

    def _param(self, name: str, value: np.ndarray, shape: tuple[int, ...]) -> None:
        """Register a trainable array after checking its shape; stored as a copy in the layer dtype."""
        arr = np.asarray(value)
        check_shape(arr, shape, name)
        arr = arr.astype(self.dtype, copy=True)
        check_array(arr, name)
        self.params[name] = arr
        self.grads[name] = np.zeros_like(arr)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes}{', ' if shapes else ''}dtype={self.dtype.name})"
