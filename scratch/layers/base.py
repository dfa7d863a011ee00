"""The layer protocol every scratch layer follows.

A layer holds three dicts of arrays with short canonical names:

* ``params``: trainable arrays (``W``, ``b``, ``gamma``, ``beta``);
* ``grads``: the gradient of the loss with respect to each param, same keys, written by
  ``backward`` (overwritten, not accumulated);
* ``buffers``: non-trainable state updated by a training forward (``running_mean``, ``running_var``).

``forward(x, *, training)`` returns a new array of the layer's dtype and caches what ``backward``
needs (references to its input where that suffices, never copies made just in case);
``backward(dy)`` returns ``dL/dx``. Neither writes into ``x`` or ``dy``.

Checks and work are split: the public ``forward`` / ``backward`` validate their argument in full
(type, dtype, shape, finite values: a clear ``ValueError`` for a layer called directly), then call
``_forward(x, training=...)`` / ``_backward(dy, need_dx=...)``, which do the arithmetic and the
cheap structural checks only. ``Sequential`` validates once at the model boundary and calls the
underscored methods, so a finiteness scan of every activation is not paid in every layer of every
step. ``_backward(dy, need_dx=False)`` writes the parameter gradients and skips dx (returns None):
what a model's first layer needs, since nothing consumes the gradient of the data.

A layer called directly also checks its result: a NaN or infinite output from finite input (an
overflow, e.g. W = 1e308) raises ``NonFiniteError`` naming the layer. And since ``forward`` keeps
references (no copies) to the arrays ``backward`` reads, a layer whose kept array is one the caller
holds (``_keeps``: its input, as in Dense, Conv2D, MaxPool2D, or the output it returned, as in
Sigmoid, Tanh, Softmax) records a ``fingerprint`` of it and ``backward`` raises ``RuntimeError`` if
the caller edited it in place in between (PyTorch's version counter does the same job). The cost
is one dot product over the array in ``forward`` and one in ``backward``. ``Sequential`` does this
at the model boundary only (its intermediate activations are never handed out).
"""

from __future__ import annotations

import numpy as np

from scratch._checks import as_float_dtype, check_array, check_finite_result, check_shape, fingerprint


class Layer:
    """Base class: the protocol plus the checks every layer shares.

    Class attribute ``_keeps``: which caller-visible arrays ``backward`` reads (``"input"``,
    ``"output"``); ``forward`` fingerprints them and ``backward`` checks they were not edited.

    Subclasses implement ``_forward`` and ``_backward``; ``forward``/``backward`` wrap them with
    the full argument checks.

    Traits: class attributes that say how a layer acts, declared by each layer class and read by
    tools that must know it (``scratch.fastgrad`` propagates a perturbation through a layer by them).
    ``per_sample`` is ``None`` here, "not declared": a tool that needs it raises an error naming it.

    Attributes:
        per_sample: in evaluation mode, output sample n depends on input sample n only.
        mixes_batch_in_training: a training forward mixes the samples of the batch (batch statistics).
        elementwise: each output element is a function of the same input element (same shape).
        per_channel: on (N, C, H, W), each output channel plane depends on its input plane only.
        has_randomness: a training forward draws a random multiplicative mask, and ``forward`` accepts
            ``mask=`` so a tool can inject a fixed one.

    Args:
        dtype: ``"float32"`` or ``"float64"``; inputs must have this dtype and outputs keep it.
    """

    per_sample: bool | None = None
    mixes_batch_in_training: bool = False
    elementwise: bool = False
    per_channel: bool = False
    has_randomness: bool = False

    def __init__(self, *, dtype: str | np.dtype = "float64") -> None:
        self.dtype = as_float_dtype(dtype)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self._out_shape: tuple[int, ...] | None = None
        self._guard: list[tuple[str, np.ndarray, float]] = []

    _keeps: tuple[str, ...] = ()

    # -- the protocol --------------------------------------------------------------------------
    def forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        """Check ``x`` (array, layer dtype, finite values) and return the layer's output.

        Raises:
            ValueError: a bad ``x``. NonFiniteError (a ValueError) if the output overflowed.
        """
        check_array(x, "x", dtype=self.dtype)
        self._guard = []
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow raises NonFiniteError below
            y = self._forward(x, training=training)
        check_finite_result(y, f"{type(self).__name__}.forward output",
                            "check the layer's parameters and the scale of x")
        kept = {"input": x, "output": y}
        self._guard = [(what, kept[what], fingerprint(kept[what])) for what in self._keeps]
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Check ``dy`` against the last forward's output; overwrite ``grads``; return dx.

        Raises:
            RuntimeError: no forward came first, or the input / output of that forward that
                backward reads was edited in place since.
            NonFiniteError: dx or a parameter gradient overflowed.
        """
        self._check_upstream(dy)
        for what, arr, print_ in self._guard:
            if fingerprint(arr) != print_:
                raise RuntimeError(
                    f"{type(self).__name__}.backward: the {what} of the last forward was modified in place "
                    f"since; backward reads it, so the gradients would be wrong. Edit a copy "
                    f"({'y = y.copy()' if what == 'output' else 'x.copy()'}) or call forward again"
                )
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow raises NonFiniteError below
            dx = self._backward(dy, need_dx=True)
        check_finite_result(dx, f"{type(self).__name__}.backward dx", "check the layer's parameters and dy")
        for name, g in self.grads.items():
            check_finite_result(g, f"{type(self).__name__}.grads[{name!r}]", "check the scale of x and dy")
        return dx

    def __call__(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        return self.forward(x, training=training)

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:  # pragma: no cover
        raise NotImplementedError

    # -- helpers for subclasses ----------------------------------------------------------------
    def _check_input(self, x: np.ndarray, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
        """Type, dtype and rank of ``x`` (cheap; finiteness is checked by ``forward``)."""
        return check_array(x, "x", dtype=self.dtype, ndim=ndim, finite=False)

    def _check_upstream(self, dy: np.ndarray) -> np.ndarray:
        """Check ``dy`` against the last forward's output; raise if no forward came first."""
        self._require_forward()
        check_array(dy, "dy", dtype=self.dtype)
        check_shape(dy, self._out_shape, "dy")
        return dy

    def _require_forward(self) -> None:
        if self._out_shape is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward called before forward: call forward(x, training=True) first"
            )

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
