"""Sequential: a list of layers with qualified parameter names, summary, save and load."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from scratch._checks import NonFiniteError, check_array, fingerprint
from scratch.layers.activations import ReLU
from scratch.layers.base import Layer
from scratch.layers.dropout import Dropout
from scratch.layers.pooling import MaxPool2D


class Sequential:
    """Layers applied in order; parameters are addressed as ``"<layer name>.<param>"``.

    Layer names default to the lower-case class name and the position (``dense0``, ``relu1``).
    ``params``, ``grads`` and ``buffers`` are fresh dicts on each access whose arrays are the
    layers' own (an optimizer updating ``params`` in place updates the layers).

    Args:
        layers: the layers, all of one dtype.
        names: optional layer names (unique).
    """

    def __init__(self, layers: Sequence[Layer], *, names: Sequence[str] | None = None) -> None:
        layers = list(layers)
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            raise ValueError("layers: expected a non-empty sequence of scratch layers")
        dtypes = {layer.dtype for layer in layers}
        if len(dtypes) != 1:
            raise ValueError(f"layers: expected one dtype for all layers, got {sorted(d.name for d in dtypes)}")
        self.dtype = dtypes.pop()
        names = list(names) if names is not None else [f"{type(x).__name__.lower()}{i}" for i, x in enumerate(layers)]
        if len(names) != len(layers) or len(set(names)) != len(names):
            raise ValueError(f"names: expected {len(layers)} unique names, got {names}")
        self.layers = layers
        self.names = names
        self._complete = False  # the last forward ran through every layer (backward may follow)
        #: Run each ReLU -> MaxPool2D pair (non-overlapping, unpadded pool) as MaxPool2D -> ReLU: the
        #: same outputs and gradients bit for bit for finite activations, with the ReLU on the pooled
        #: array (a quarter of the elements for 2 x 2 pooling). The ReLU layer then holds the state of
        #: the pooled array (its mask has the pool's output shape). False runs the layers as given.
        self.commute_relu_maxpool = True
        self._order: list[int] = list(range(len(layers)))  # layer indices as the last forward ran them
        self._guard: list[tuple[str, np.ndarray, float]] = []  # (what, array, fingerprint) at the boundary

    # -- state ---------------------------------------------------------------------------------
    def _collect(self, attr: str) -> dict[str, np.ndarray]:
        return {f"{n}.{k}": v for n, layer in zip(self.names, self.layers, strict=True)
                for k, v in getattr(layer, attr).items()}

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self._collect("params")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self._collect("grads")

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return self._collect("buffers")

    def layer(self, name: str) -> Layer:
        if name not in self.names:
            raise ValueError(f"name: no layer {name!r}; layers are {self.names}")
        return self.layers[self.names.index(name)]

    # -- computation ---------------------------------------------------------------------------
    def forward(self, x: np.ndarray, *, training: bool, masks: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Run every layer; ``masks`` maps Dropout layer names to masks to inject.

        ``x`` is checked once here (array, dtype, finite values); the layers then run without
        re-scanning each intermediate activation (see ``scratch.layers.base``). The output is
        checked once too: NaN or infinite values (an overflow inside) raise ``NonFiniteError``
        naming the first layer whose output is not finite. A fingerprint of ``x`` and of the output
        (the arrays the caller holds that backward may read) lets ``backward`` refuse to run after
        either was edited in place.
        """
        y = self._run(x, training=training, masks=masks or {})
        y = y.copy() if np.may_share_memory(y, x) else y
        self._guard = [("input x", x, fingerprint(x)), ("output", y, fingerprint(y))]
        self._complete = True
        return y

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Evaluation-mode forward with no backward to follow: ``forward(x, training=False)``
        without the fingerprints of ``x`` and of the output that guard a backward (two passes over
        each), so a ``backward`` after it raises as after no forward. Same checks and outputs."""
        y = self._run(x, training=False, masks={})
        return y.copy() if np.may_share_memory(y, x) else y

    def _run(self, x: np.ndarray, *, training: bool, masks: dict[str, np.ndarray]) -> np.ndarray:
        """Check ``x`` and ``masks``, run the layers, check the output; leaves ``_complete`` False."""
        unknown = set(masks) - {n for n, layer in zip(self.names, self.layers, strict=True)
                                if isinstance(layer, Dropout)}
        if unknown:
            raise ValueError(f"masks: {sorted(unknown)} are not Dropout layers of this model")
        check_array(x, "x", dtype=self.dtype)
        self._complete = False
        self._order = self._execution_order()
        self._guard = []
        for layer in self.layers:
            layer._guard = []  # a direct call's record does not describe this forward
        y = x
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow raises NonFiniteError below
            for i in self._order:
                name, layer = self.names[i], self.layers[i]
                if name in masks:
                    y = layer._forward(y, training=training, mask=masks[name])
                else:
                    y = layer._forward(y, training=training)
        if not np.isfinite(y).all():
            raise NonFiniteError(f"Sequential.forward: the output holds NaN or infinite values although x is "
                                 f"finite (an overflow); {self._first_non_finite(x)}")
        return y

    def _first_non_finite(self, x: np.ndarray) -> str:
        """Name the first layer whose output is not finite, replaying the layers in evaluation mode."""
        y = x
        with np.errstate(all="ignore"):
            for i in self._order:
                y = self.layers[i]._forward(y, training=False)
                if not np.isfinite(y).all():
                    return (f"the first non-finite output is that of layer {self.names[i]!r} "
                            f"({type(self.layers[i]).__name__}); check its parameters")
        return "no layer overflows in evaluation mode; check the batch statistics and dropout scaling"

    def _execution_order(self) -> list[int]:
        """Layer indices in the order forward runs them: each commuting ReLU -> MaxPool2D pair swapped.

        relu(max(a, b)) == max(relu(a), relu(b)) exactly (ReLU is monotone and rounds nothing), and the
        gradient reaching the pool's input is the same too: a window whose maximum is positive sends
        dy to the same first maximum either way; a window whose maximum is not positive sends nothing
        (ReLU's gradient there is 0, also at exactly 0). Only pools whose windows neither overlap nor
        reach into padding are swapped: overlapping windows sum their shares, and a zero's sign could
        then differ; a window of padding alone could win in one order and not the other. A NaN made
        inside the network (an overflow) is the one other case that can tell the orders apart.
        """
        order = list(range(len(self.layers)))
        if self.commute_relu_maxpool:
            for i in range(len(self.layers) - 1):
                relu, pool = self.layers[i], self.layers[i + 1]
                if (type(relu) is ReLU and type(pool) is MaxPool2D and pool.padding in (0, (0, 0), "valid")
                        and all(s >= k for s, k in zip(pool.stride, pool.pool_size, strict=True))
                        and order[i] == i):
                    order[i], order[i + 1] = i + 1, i
        return order

    def backward(self, dy: np.ndarray, *, need_dx: bool = True) -> np.ndarray | None:
        """Backpropagate through every layer (overwrites every layer's grads); return dx.

        ``dy`` is checked once here against the output of the last forward. With
        ``need_dx=False`` None is returned and no layer up to the first one with parameters
        computes an input gradient (nothing would read it): a training loop never uses the
        gradient of its data, and for a first convolution it is the costliest product of the
        backward pass.
        """
        if not self._complete:
            raise RuntimeError("Sequential.backward called before forward: call forward(x, training=True) first")
        self.layers[-1]._check_upstream(dy)
        for what, arr, print_ in self._guard:
            if fingerprint(arr) != print_:
                raise RuntimeError(f"Sequential.backward: the {what} of the last forward was modified in place "
                                   "since; backward reads it, so the gradients would be wrong. Edit a copy or "
                                   "call forward again")
        # a layer needs dx if the caller wants it or a layer that ran before it has parameters to train
        layers = [self.layers[i] for i in self._order]
        wanted = [need_dx]
        for layer in layers[:-1]:
            wanted.append(wanted[-1] or bool(layer.params))
        grad = dy
        for layer, want in zip(reversed(layers), reversed(wanted), strict=True):
            grad = layer._backward(grad, need_dx=want)
        return grad.copy() if grad is not None and np.may_share_memory(grad, dy) else grad

    def predict(self, x: np.ndarray, *, batch_size: int = 1000) -> np.ndarray:
        """Evaluation-mode forward in batches (bounded memory)."""
        if len(x) == 0:
            raise ValueError("x: expected at least one sample")
        return np.concatenate([self.infer(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])

    # -- inspection and persistence -----------------------------------------------------------
    def summary(self, input_shape: tuple[int, ...]) -> str:
        """A table of layers, output shapes and parameter counts for inputs of ``input_shape``."""
        x = np.zeros((1, *input_shape[1:]), dtype=self.dtype)
        lines = [f"{'layer':<14}{'type':<12}{'output shape':<20}{'params':>10}"]
        total = 0
        for name, layer in zip(self.names, self.layers, strict=True):
            x = layer.forward(x, training=False)
            count = sum(p.size for p in layer.params.values())
            total += count
            lines.append(f"{name:<14}{type(layer).__name__:<12}{str(('N', *x.shape[1:])):<20}{count:>10,}")
        lines.append(f"{'total':<46}{total:>10,}")
        return "\n".join(lines)

    def state(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, by qualified name."""
        return {k: v.copy() for k, v in {**self.params, **self.buffers}.items()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Overwrite parameters and buffers from ``state`` (names and shapes must match exactly)."""
        ours = {**self.params, **self.buffers}
        if set(state) != set(ours):
            raise ValueError(f"state: names differ; missing {sorted(set(ours) - set(state))}, "
                             f"unexpected {sorted(set(state) - set(ours))}")
        for key, value in state.items():
            if value.shape != ours[key].shape:
                raise ValueError(f"state: {key} has shape {value.shape}, expected {ours[key].shape}")
        for name, layer in zip(self.names, self.layers, strict=True):
            for k in layer.params:
                layer.params[k][...] = state[f"{name}.{k}"]
            for k in layer.buffers:
                layer.buffers[k] = np.array(state[f"{name}.{k}"], dtype=self.dtype)

    def save(self, path: str | os.PathLike) -> Path:
        """Write parameters and buffers to a compressed ``.npz``, atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".npz", dir=path.parent)
        os.close(fd)
        try:
            np.savez_compressed(tmp, **self.state())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def load(self, path: str | os.PathLike) -> None:
        """Load parameters and buffers saved by ``save``."""
        try:
            with np.load(path) as data:
                state = {k: data[k] for k in data.files}
        except (OSError, ValueError) as err:
            raise ValueError(f"path: cannot read a saved model from {path}: {err}") from err
        self.load_state(state)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={layer!r}" for n, layer in zip(self.names, self.layers, strict=True))
        return f"Sequential({inner})"
