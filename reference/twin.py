"""The twin interface: a framework layer or loss driven exactly like its scratch original.

Layer twins::

    y, extras = twin.forward(x, training=...)   # x, y in scratch layout (NCHW, (c,h,w) order)
    dx, grads = twin.backward(dy)               # grads keyed and laid out like scratch params
    twin.buffers()                              # running statistics, scratch names

``extras`` carries what the framework drew, e.g. ``{"mask": ...}`` for Dropout, so that the
scratch layer can be given the same randomness.

Loss twins::

    loss = twin.forward(y, t)                   # 0-d array
    dy = twin.backward(dout)                    # dL/dy scaled by the upstream scalar

``call`` is the framework call written out (every argument explicit) for the reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from reference import frameworks

Convert = Callable[[np.ndarray], np.ndarray]


def _same(a: np.ndarray) -> np.ndarray:
    return a


@dataclass
class TorchLayerTwin:
    """A ``torch.nn.Module`` behind the layer-twin interface (NCHW like scratch).

    Args:
        module: the module, already in the right dtype with the scratch weights copied in.
        params: canonical name -> (parameter, converter to scratch layout).
        buffers: canonical name -> (buffer tensor, converter to scratch layout).
        call: the construction written out for reports.
        harvest_mask: return the dropout mask (entries the module kept) in ``extras``.
        seed: ``torch.manual_seed`` before each training forward (dropout masks).
    """

    module: object
    params: dict[str, tuple[object, Convert]]
    buffers_: dict[str, tuple[object, Convert]] = field(default_factory=dict)
    call: str = ""
    harvest_mask: bool = False
    seed: int = 0
    framework: str = "torch"

    def forward(self, x: np.ndarray, *, training: bool) -> tuple[np.ndarray, dict]:
        torch = frameworks.torch()
        self.module.train(training)
        for p, _ in self.params.values():
            p.grad = None
        if training:
            torch.manual_seed(self.seed)
        self._x = torch.from_numpy(np.array(x)).requires_grad_(True)
        self._y = self.module(self._x)
        y = self._y.detach().numpy().copy()
        extras = {"mask": y != 0} if self.harvest_mask and training else {}
        return y, extras

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        torch = frameworks.torch()
        self._y.backward(torch.from_numpy(np.array(dy)))
        dx = self._x.grad.numpy().copy()
        grads = {k: conv(p.grad.detach().numpy().copy()) for k, (p, conv) in self.params.items()}
        return dx, grads

    def buffers(self) -> dict[str, np.ndarray]:
        return {k: conv(b.detach().numpy().copy()) for k, (b, conv) in self.buffers_.items()}

    def set_buffers(self, values: dict[str, np.ndarray]) -> None:
        """Overwrite running statistics (scratch names and layout; all buffers are 1-D)."""
        torch = frameworks.torch()
        with torch.no_grad():
            for k, (b, _) in self.buffers_.items():
                b.copy_(torch.from_numpy(np.array(values[k])))


@dataclass
class KerasLayerTwin:
    """A Keras layer behind the layer-twin interface.

    Keras image layers work on NHWC: ``to_fw`` / ``from_fw`` convert inputs and outputs (and,
    in reverse, upstream and input gradients) between scratch's NCHW and the layer's layout.

    Args:
        layer: the built Keras layer (or Sequential) holding the scratch weights.
        params: canonical name -> (variable, converter to scratch layout).
        buffers: canonical name -> (variable, converter to scratch layout).
        to_fw, from_fw: input/output layout converters (identity for non-image layers).
        call: the construction written out for reports.
        harvest_mask: return the dropout mask in ``extras``.
    """

    layer: object
    params: dict[str, tuple[object, Convert]]
    buffers_: dict[str, tuple[object, Convert]] = field(default_factory=dict)
    to_fw: Convert = _same
    from_fw: Convert = _same
    call: str = ""
    harvest_mask: bool = False
    framework: str = "keras"

    def forward(self, x: np.ndarray, *, training: bool) -> tuple[np.ndarray, dict]:
        tf = frameworks.tf()
        self._x = tf.constant(self.to_fw(x))
        with tf.GradientTape() as tape:
            tape.watch(self._x)
            self._y = self.layer(self._x, training=training)
        self._tape = tape
        y = self.from_fw(self._y.numpy())
        extras = {"mask": y != 0} if self.harvest_mask and training else {}
        return y, extras

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        tf = frameworks.tf()
        names = list(self.params)
        sources = [self._x] + [self.params[k][0] for k in names]
        upstream = tf.constant(self.to_fw(dy) if dy.ndim >= 3 else dy)  # images (N, C, H, W), sequences (N, C, L)
        out = self._tape.gradient(self._y, sources, output_gradients=upstream)
        dx = self.from_fw(out[0].numpy())
        grads = {k: self.params[k][1](g.numpy()) for k, g in zip(names, out[1:], strict=True)}
        return dx, grads

    def buffers(self) -> dict[str, np.ndarray]:
        return {k: conv(v.numpy().copy()) for k, (v, conv) in self.buffers_.items()}

    def set_buffers(self, values: dict[str, np.ndarray]) -> None:
        """Overwrite running statistics (scratch names and layout; all buffers are 1-D)."""
        for k, (v, _) in self.buffers_.items():
            v.assign(np.array(values[k]))


@dataclass
class LossTwin:
    """A framework loss behind the loss-twin interface.

    Args:
        fn: ``fn(y_tensor, t) -> scalar tensor`` in the framework (t already converted).
        framework: ``"keras"`` or ``"torch"``.
        dtype: the NumPy dtype of predictions.
        call: the loss call written out for reports.
    """

    fn: Callable
    framework: str
    call: str = ""

    def forward(self, y: np.ndarray, t: np.ndarray) -> np.ndarray:
        if self.framework == "torch":
            torch = frameworks.torch()
            self._y = torch.from_numpy(np.array(y)).requires_grad_(True)
            self._loss = self.fn(self._y, t)
            return self._loss.detach().numpy().copy()
        tf = frameworks.tf()
        self._y = tf.constant(y)
        with tf.GradientTape() as tape:
            tape.watch(self._y)
            self._loss = self.fn(self._y, t)
        self._tape = tape
        return self._loss.numpy()

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self.framework == "torch":
            torch = frameworks.torch()
            self._loss.backward(torch.tensor(dout, dtype=self._loss.dtype))
            return self._y.grad.numpy().copy()
        tf = frameworks.tf()
        g = self._tape.gradient(self._loss, self._y, output_gradients=tf.constant(dout, dtype=self._loss.dtype))
        return g.numpy()
