"""What the book's layer networks share: backward through the layers, accuracy, the pickle format and
the numerical gradient (fast, or the book's loop).

A network subclass sets ``params`` (the book's dict: ``W1``, ``b1``, ... and ``gamma1``, ``beta1``),
the layers (an OrderedDict or a list, as the book), the last layer, and ``_slots``: param key ->
(layer, attribute), the layer attribute that holds the very same array. ``_layer_seq`` gives the
layers in order, ``_last`` the loss layer.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping

import numpy as np

from scratch.fastgrad import fast_numerical_gradient
from scratch.model import Sequential
from scratch.optimizers import coupled_decay
from scratch.textbook.gradient import numerical_gradient as book_numerical_gradient
from scratch.textbook.layers import BatchNormalization, Dropout

#: the book's numerical-gradient step (common/gradient.py).
H = 1e-4


def check_labels(x: np.ndarray, t: np.ndarray, name: str = "t") -> None:
    """t must be labels (N,) or rows (N, K) for the N samples of x."""
    if not isinstance(x, np.ndarray) or not isinstance(t, np.ndarray):
        raise ValueError(f"x, {name}: expected numpy.ndarrays, got {type(x).__name__} and {type(t).__name__}")
    if t.ndim not in (1, 2) or x.ndim == 0 or t.shape[0] != x.shape[0]:
        raise ValueError(f"{name}: expected labels of shape ({x.shape[0] if x.ndim else '?'},) or one-hot rows "
                         f"(N, K) for the samples of x of shape {x.shape}, got shape {t.shape}")


def accuracy_whole(y: np.ndarray, t: np.ndarray, n: int) -> float:
    """The book's MultiLayerNet / TwoLayerNet accuracy: argmax(y) == labels over all n samples."""
    y = np.argmax(y, axis=1)
    if t.ndim != 1:
        t = np.argmax(t, axis=1)
    return np.sum(y == t) / float(n)


def accuracy_batched(predict, x: np.ndarray, t: np.ndarray, batch_size: int) -> float:
    """The book's ConvNet accuracy: argmax(predict(batch)) == labels over int(N / batch_size) whole
    batches, divided by N. As in the book, the samples after the last whole batch are not predicted
    and count as misses (N = 150, batch_size = 100: at most 100 / 150 correct)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    if t.ndim != 1:
        t = np.argmax(t, axis=1)
    acc = 0.0
    for i in range(int(x.shape[0] / batch_size)):
        tx = x[i * batch_size:(i + 1) * batch_size]
        tt = t[i * batch_size:(i + 1) * batch_size]
        acc += np.sum(np.argmax(predict(tx), axis=1) == tt)
    return acc / x.shape[0]


class LayerNet:
    """Base of the book's networks built from layers (ch05 TwoLayerNet, MultiLayerNet(Extend),
    SimpleConvNet, DeepConvNet)."""

    params: dict[str, np.ndarray]
    _slots: dict[str, tuple[object, str]]

    # -- subclasses -------------------------------------------------------------------------------
    def _layer_seq(self) -> list:
        layers = self.layers  # type: ignore[attr-defined]
        return list(layers.values()) if isinstance(layers, Mapping) else list(layers)

    def _last(self):
        return self.last_layer  # type: ignore[attr-defined]

    def _loss_train_flg(self) -> bool | None:
        """The train_flg the book's numerical_gradient passes to loss (None: loss has no train_flg)."""
        return None

    def _extra_loss(self) -> float:
        """A term the loss adds to the last layer's loss (MultiLayerNet's weight decay)."""
        return 0.0

    def _decay(self) -> tuple[float, list[str]]:
        """(lambda, the decayed keys) of the loss's L2 term."""
        return 0.0, []

    # -- forward and backward -------------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Scores before the softmax: x through every layer in order, (N, ...) -> (N, output_size).

        The networks whose layers behave differently in training (dropout, batch norm) override it
        with the book's ``predict(x, train_flg=False)``.
        """
        for layer in self._layer_seq():
            x = layer.forward(x)
        return x

    def _backward(self) -> None:
        """dout = 1 through the last layer and the layers in reverse order (each sets its grads)."""
        dout = self._last().backward(1)
        for layer in reversed(self._layer_seq()):
            dout = layer.backward(dout)

    # -- the book's pickle format ---------------------------------------------------------------
    def save_params(self, file_name: str | os.PathLike = "params.pkl") -> None:
        """Write ``params`` as the book does: ``pickle.dump`` of a plain dict {key: numpy array}."""
        params = {key: val for key, val in self.params.items()}
        with open(file_name, "wb") as f:
            pickle.dump(params, f)

    def load_params(self, file_name: str | os.PathLike = "params.pkl") -> None:
        """Read a pickled dict {key: array} (the book's ``save_params`` or any ``pickle.dump(dict)``),
        put its arrays in ``params`` and hand the same arrays to the layers, as the book does.

        Raises:
            ValueError: not a dict, a key this network does not have, or an array of another shape.
        """
        with open(file_name, "rb") as f:
            params = pickle.load(f)  # noqa: S301 (the book's format is a pickle)
        self.set_params(params, source=str(file_name))

    def set_params(self, params: Mapping[str, np.ndarray], *, source: str = "params") -> None:
        """Take the arrays of ``params`` (a subset of the keys is allowed) into the network."""
        if not isinstance(params, Mapping):
            raise ValueError(f"{source}: expected a dict of arrays named like {sorted(self.params)}, got "
                             f"{type(params).__name__}")
        for key, val in params.items():
            if key not in self.params:
                raise ValueError(f"{source}: unknown key {key!r}; this network's params are {sorted(self.params)}")
            arr = np.asarray(val)
            if arr.shape != self.params[key].shape:
                raise ValueError(f"{source}[{key!r}]: expected shape {self.params[key].shape}, got {arr.shape}")
        for key, val in params.items():
            self.params[key] = np.asarray(val)
            if key in self._slots:  # (the chapter 4 network has no layers)
                layer, attr = self._slots[key]
                setattr(layer, attr, self.params[key])

    # -- numerical gradient -----------------------------------------------------------------------
    def numerical_gradient(self, x: np.ndarray, t: np.ndarray, *, book_loop: bool = False) -> dict[str, np.ndarray]:
        """dL/dparam for every key of ``params`` by central differences (h = 1e-4), as the book.

        ``book_loop=True`` runs the book's loop: each entry moved by +h and -h in place and the whole
        ``loss`` evaluated twice (2 * size of params forward passes), with every side effect of
        ``loss`` (BatchNormalization running statistics updated at every call, a new dropout mask
        drawn at every call, so the quotients of a network with dropout are noise).

        The default (fast) computes the same quotients with the vectorised ``scratch.fastgrad`` on
        the core layers: dropout masks are drawn once, where and as a ``loss`` call would draw them
        (so the result is the gradient of that ``loss`` call, which ``gradient`` differentiates too),
        BatchNormalization running statistics are left as they were, and the weight-decay term
        contributes its exact derivative lambda * W. Both agree to the rounding of the loss, about
        ulp(L) / 2h per entry (see tests/test_textbook_networks.py).

        Args:
            x: the batch; t: its labels (N,) or one-hot rows (N, K).
            book_loop: run the book's loop instead.

        Returns:
            {key: gradient of params[key]'s shape}.
        """
        check_labels(x, t)
        if book_loop:
            return self._book_numerical_gradient(x, t)
        return self._fast_numerical_gradient(x, t)

    def _book_numerical_gradient(self, x, t) -> dict[str, np.ndarray]:
        train_flg = self._loss_train_flg()
        if train_flg is None:
            def loss_w(_):
                return self.loss(x, t)  # type: ignore[attr-defined]
        else:
            def loss_w(_):
                return self.loss(x, t, train_flg=True)  # type: ignore[attr-defined]
        return {key: book_numerical_gradient(loss_w, self.params[key]) for key in self._numgrad_keys()}

    def _numgrad_keys(self) -> list[str]:
        return list(self.params)

    def _fast_numerical_gradient(self, x, t) -> dict[str, np.ndarray]:
        layers = self._layer_seq()
        bn = [(layer, layer.running_mean, layer.running_var) for layer in layers
              if isinstance(layer, BatchNormalization)]
        saved = [(layer, None if m is None else m.copy(), None if v is None else v.copy()) for layer, m, v in bn]
        try:  # one loss call, as the book's loss would run it: draws the dropout masks, builds the cores
            if self._loss_train_flg() is None:
                self.loss(x, t)  # type: ignore[attr-defined]
            else:
                self.loss(x, t, train_flg=True)  # type: ignore[attr-defined]
        finally:
            for layer, m, v in saved:
                layer.running_mean, layer.running_var = m, v
        names = [f"l{i}" for i in range(len(layers))]
        model = Sequential([layer.core for layer in layers], names=names)
        x = np.asarray(x).astype(model.dtype, copy=False)  # the layers compute in their parameters' dtype
        model.commute_relu_maxpool = False
        masks = {n: layer.mask for n, layer in zip(names, layers, strict=True) if isinstance(layer, Dropout)}
        key_of = self._qualified_keys(layers)
        keys = self._numgrad_keys()
        grads = fast_numerical_gradient(model, x, t, training=True, loss=self._last().core, masks=masks, h=H,
                                        method="central", params=[key_of[k] for k in keys])
        out = {k: grads[key_of[k]] for k in keys}
        lam, decayed = self._decay()
        for k in decayed:  # d/dW of 0.5 * lambda * sum(W**2)
            out[k] = coupled_decay(out[k], self.params[k], lam)
        return out

    def _qualified_keys(self, layers: list) -> dict[str, str]:
        """param key -> the qualified name of the same array in the Sequential of the core layers."""
        where = {id(layer): f"l{i}" for i, layer in enumerate(layers)}
        return {key: f"{where[id(layer)]}.{attr}" for key, (layer, attr) in self._slots.items()}


def fast_gradient_of(model: Sequential, x: np.ndarray, t: np.ndarray, loss, keys: Mapping[str, str],
                     masks: dict | None = None, training: bool = True) -> dict[str, np.ndarray]:
    """{book key: fast numerical gradient (h = 1e-4) of the core parameter named ``keys[book key]``}."""
    grads = fast_numerical_gradient(model, x, t, training=training, loss=loss, masks=masks, h=H,
                                    method="central", params=list(keys.values()))
    return {k: grads[q] for k, q in keys.items()}
