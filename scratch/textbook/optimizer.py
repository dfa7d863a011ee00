"""The book's optimizers (``common/optimizer.py``): ``update(params, grads)`` on the params dict, in place.

Each class keeps the book's constructor, defaults and state attributes (``v``, ``h``, ``m``, ``iter``:
dicts keyed like ``params``, created on the first ``update``), and runs the update of a core
function of :mod:`scratch.optimizers`, whose arithmetic is the book's operation for operation, so the
result is bit-identical to the book's in float64:

=============  ==============================================================================
the book       the core update
=============  ==============================================================================
SGD            ``sgd_update(momentum=0)``
Momentum       ``sgd_update(momentum=mu, momentum_form="textbook")`` (= the Keras form)
Nesterov       ``sgd_update(momentum=mu, nesterov=True, momentum_form="textbook")``
AdaGrad        ``adagrad_update(eps=1e-7, eps_placement="outside")``, h from 0
RMSprop        the book's mean square, then the AdaGrad step on it (see :class:`RMSprop`)
Adam           ``adam_update(eps=1e-7, eps_placement="hat")``, t = ``iter``
=============  ==============================================================================

Parameters are updated in place (``params[key][...] = new``), so layers holding the same arrays see
the new values, as with the book's ``params[key] -= ...``. In float32 the core computes in float32
throughout; the book's Adam multiplies by a NumPy float64 ``lr_t`` and so computes in float64 and
rounds back: float32 results agree to float32 rounding, not bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

import numpy as np

from scratch.optimizers import adagrad_update, adam_update, sgd_update

__all__ = ["SGD", "AdaGrad", "Adam", "Momentum", "Nesterov", "RMSprop"]

#: the book's epsilon of AdaGrad, RMSprop and Adam, outside the square root.
BOOK_EPS = 1e-7


def _check_update(params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray],
                  state: Mapping[str, np.ndarray] | None) -> None:
    """What the book would fail on with a KeyError or a broadcasting error, as a ValueError naming the key."""
    for key, p in params.items():
        if key not in grads:
            raise ValueError(f"grads: no gradient for params key {key!r}; expected a gradient for every key of "
                             f"params {sorted(params)}, got keys {sorted(grads)}")
        if not isinstance(p, np.ndarray):
            raise ValueError(f"params[{key!r}]: expected a numpy.ndarray (updated in place), got {type(p).__name__}")
        g = np.asarray(grads[key])
        if g.shape != p.shape:
            raise ValueError(f"grads[{key!r}]: expected shape {p.shape} (the parameter's), got {g.shape}")
        if state is not None and key not in state:
            raise ValueError(f"params: key {key!r} was not in params at the first update; the optimizer state "
                             f"holds {sorted(state)}")


def _zeros_like(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: np.zeros_like(val) for key, val in params.items()}


class SGD:
    """Stochastic gradient descent: ``p <- p - lr * g``.

    Args:
        lr: learning rate (the book's default 0.01).
    """

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place from ``grads`` (same keys and shapes)."""
        _check_update(params, grads, None)
        for key in params.keys():
            params[key][...] = sgd_update(params[key], grads[key], None, lr=self.lr)[0]


class Momentum:
    """Momentum SGD: ``v <- momentum * v - lr * g;  p <- p + v`` (v starts at 0; the Keras form).

    Args:
        lr: learning rate (default 0.01).
        momentum: mu (default 0.9).

    Attributes:
        v: the velocity per key, ``None`` before the first update.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr = lr
        self.momentum = momentum
        self.v: dict[str, np.ndarray] | None = None

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place; ``v`` is created on the first call."""
        _check_update(params, grads, self.v)
        if self.v is None:
            self.v = _zeros_like(params)
        for key in params.keys():
            new, self.v[key] = sgd_update(params[key], grads[key], self.v[key], lr=self.lr, momentum=self.momentum,
                                          momentum_form="textbook")
            params[key][...] = new


class Nesterov:
    """Nesterov's accelerated gradient in the book's form (Bengio, Boulanger-Lewandowski & Pascanu 2012)::

        p <- p + momentum**2 * v - (1 + momentum) * lr * g     (v of the previous step, 0 at first)
        v <- momentum * v - lr * g

    the Keras Nesterov ``v_new = mu * v - lr * g; p <- p + mu * v_new - lr * g`` rearranged (equal to
    rounding). An early version of the book's repository updated v first; that order is
    ``momentum_form="textbook-erratum"`` of :func:`scratch.optimizers.sgd_update`.

    Args:
        lr: learning rate (default 0.01).
        momentum: mu (default 0.9).

    Attributes:
        v: the velocity per key, ``None`` before the first update.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr = lr
        self.momentum = momentum
        self.v: dict[str, np.ndarray] | None = None

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place; ``v`` is created on the first call and updated in place."""
        _check_update(params, grads, self.v)
        if self.v is None:
            self.v = _zeros_like(params)
        for key in params.keys():
            new, v = sgd_update(params[key], grads[key], self.v[key], lr=self.lr, momentum=self.momentum,
                                nesterov=True, momentum_form="textbook")
            params[key][...] = new
            self.v[key][...] = v


class AdaGrad:
    """AdaGrad: ``h <- h + g * g;  p <- p - lr * g / (sqrt(h) + 1e-7)`` (h starts at 0).

    Args:
        lr: learning rate (default 0.01).

    Attributes:
        h: the sum of squared gradients per key, ``None`` before the first update.
    """

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr
        self.h: dict[str, np.ndarray] | None = None

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place; ``h`` is created on the first call and updated in place."""
        _check_update(params, grads, self.h)
        if self.h is None:
            self.h = _zeros_like(params)
        for key in params.keys():
            new, h = adagrad_update(params[key], grads[key], self.h[key], lr=self.lr, eps=BOOK_EPS,
                                    eps_placement="outside")
            params[key][...] = new
            self.h[key][...] = h


class RMSprop:
    """RMSprop in the book's form::

        h <- decay_rate * h + (1 - decay_rate) * g * g        (h starts at 0)
        p <- p - lr * g / (sqrt(h) + 1e-7)

    PyTorch's ``RMSprop(alpha=decay_rate, eps=1e-7)`` and the core ``RMSprop(rho=decay_rate,
    eps=1e-7, eps_placement="outside")``. The book rounds the mean square as
    ``((1 - decay_rate) * g) * g``, the core (as Keras) as ``(g * g) * (1 - rho)``: one rounding apart,
    so ``h`` is accumulated here in the book's order (bit-identical to the book; the core is 4.4e-16
    away after 50 steps of lr 0.01 on weights of order 1), and the step is the one of
    ``adagrad_update(eps_placement="outside")`` on that ``h``, in the same operation order.

    Args:
        lr: learning rate (default 0.01).
        decay_rate: the decay of the mean square (default 0.99).

    Attributes:
        h: the mean square per key, ``None`` before the first update.
    """

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99) -> None:
        self.lr = lr
        self.decay_rate = decay_rate
        self.h: dict[str, np.ndarray] | None = None

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place; ``h`` is created on the first call and updated in place."""
        _check_update(params, grads, self.h)
        if self.h is None:
            self.h = _zeros_like(params)
        for key in params.keys():
            g, h = grads[key], self.h[key]
            h *= self.decay_rate
            h += (1 - self.decay_rate) * g * g
            # the step of adagrad_update(eps_placement="outside") on this h, in the core's operation order
            params[key][...] = params[key] - g * params[key].dtype.type(self.lr) / (np.sqrt(h) + BOOK_EPS)


class Adam:
    """Adam in the book's form (Kingma & Ba 2015, the "epsilon hat" form of section 2)::

        iter <- iter + 1
        lr_t = lr * sqrt(1 - beta2**iter) / (1 - beta1**iter)
        m <- m + (1 - beta1) * (g - m);  v <- v + (1 - beta2) * (g**2 - v)     (m, v start at 0)
        p <- p - lr_t * m / (sqrt(v) + 1e-7)

    Keras ``Adam(epsilon=1e-7)`` and the core ``Adam(eps=1e-7, eps_placement="hat")``.

    Args:
        lr: learning rate (default 0.001).
        beta1, beta2: the moment decays (defaults 0.9, 0.999).

    Attributes:
        iter: updates done so far.
        m, v: first and second moments per key, ``None`` before the first update.
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m: dict[str, np.ndarray] | None = None
        self.v: dict[str, np.ndarray] | None = None

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place; ``m`` and ``v`` are created on the first call."""
        _check_update(params, grads, self.m)
        if self.m is None:
            self.m, self.v = _zeros_like(params), _zeros_like(params)
        self.iter += 1
        for key in params.keys():
            new, m, v, _ = adam_update(params[key], grads[key], self.m[key], self.v[key], self.iter, lr=self.lr,
                                       beta_1=self.beta1, beta_2=self.beta2, eps=BOOK_EPS, eps_placement="hat")
            params[key][...] = new
            self.m[key][...] = m
            self.v[key][...] = v
