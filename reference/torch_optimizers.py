"""Scratch optimizers rebuilt as ``torch.optim`` optimizers, driven one step at a time.

``build(opt, params, dtype)`` returns a ``TorchOptimizerTwin``::

    twin.step(grads, lr)     # set every group's "lr", set .grad, optimizer.step()
    twin.params()            # current parameter values, keyed like scratch

Every constructor argument is passed explicitly, including ``foreach=False`` (the single-tensor
code path, whose arithmetic the scratch docstrings quote), ``maximize=False`` and
``differentiable=False``. Hyperparameters are Python floats (doubles): PyTorch has no float32
rounding of them; in float32 runs the scalar is rounded when it meets a float32 tensor.

Parameters excluded from weight decay go into a second parameter group with ``weight_decay=0``.
PyTorch has decoupled weight decay only in Adam/AdamW: for plain SGD (no momentum) decoupled and
coupled decay are the same update, ``p - lr * (g + wd * p)``; for SGD with momentum, Adagrad and
RMSprop ``build`` raises ``NotImplementedError`` (there is no PyTorch counterpart).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from reference import frameworks
from scratch import optimizers as O

_COMMON = {"maximize": False, "foreach": False, "differentiable": False}


@dataclass
class TorchOptimizerTwin:
    """A ``torch.optim`` optimizer with its parameters, behind ``step(grads, lr)`` / ``params()``."""

    optimizer: object
    tensors: dict[str, object]
    call: str
    framework: str = "torch"

    def step(self, grads: Mapping[str, np.ndarray] | None, lr: float) -> None:
        """Apply one update with learning rate ``lr`` (written into every parameter group), from
        ``grads`` or, when ``grads`` is None, from the ``.grad`` a ``backward()`` left."""
        torch = frameworks.torch()
        for group in self.optimizer.param_groups:
            group["lr"] = float(lr)
        if grads is not None:
            for name, p in self.tensors.items():
                p.grad = torch.from_numpy(np.array(grads[name], copy=True))
        self.optimizer.step()

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def params(self) -> dict[str, np.ndarray]:
        return {name: p.detach().numpy().copy() for name, p in self.tensors.items()}


def build(opt: O.Optimizer, params: Mapping[str, np.ndarray] | None, dtype: str, *,
          tensors: Mapping[str, object] | None = None) -> TorchOptimizerTwin:
    """The PyTorch twin of a scratch optimizer, holding copies of ``params`` as leaf tensors
    (or, with ``tensors``, driving existing parameters such as a module's, keyed like scratch).

    A scratch form PyTorch does not have (Keras momentum form, epsilon inside the root, "hat"
    Adam epsilon, the early textbook erratum Nesterov) is built as the nearest PyTorch optimizer with the same
    numbers; the case records the difference.
    """
    torch = frameworks.torch()
    if tensors is None:
        tensors = {n: torch.nn.Parameter(torch.from_numpy(np.array(p, dtype=dtype, copy=True)))
                   for n, p in params.items()}
    tensors = dict(tensors)
    cls_name, kwargs = _spec(opt)
    kwargs.update(_COMMON)
    wd = _weight_decay(opt)
    decayed = [n for n in tensors if opt.decays(n)]
    others = [n for n in tensors if not opt.decays(n)]
    groups = [{"params": [tensors[n] for n in decayed], "weight_decay": wd}] if decayed else []
    if others:
        groups.append({"params": [tensors[n] for n in others], "weight_decay": 0.0})
    optimizer = getattr(torch.optim, cls_name)(groups, lr=0.01, weight_decay=wd, **kwargs)
    call = f"torch.optim.{cls_name}(params, lr=<per step>, weight_decay={wd!r}, " + ", ".join(
        f"{k}={v!r}" for k, v in kwargs.items()) + ")"
    if decayed and others:
        call += f" with parameter groups {decayed} (weight_decay={wd!r}) and {others} (weight_decay=0.0)"
    return TorchOptimizerTwin(optimizer, tensors, call)


def _weight_decay(opt: O.Optimizer) -> float:
    if opt.weight_decay == 0 or opt.weight_decay_mode == "coupled" or isinstance(opt, O.Adam):
        return opt.weight_decay
    if isinstance(opt, O.SGD) and opt.momentum == 0:
        return opt.weight_decay  # plain SGD: p - lr*wd*p - lr*g == p - lr*(g + wd*p)
    raise NotImplementedError(f"optimizer: torch.optim.{type(opt).__name__} has no decoupled weight decay")


@singledispatch
def _spec(opt) -> tuple[str, dict]:
    raise NotImplementedError(f"optimizer: no PyTorch twin for {type(opt).__name__}")


@_spec.register
def _(opt: O.SGD):
    return "SGD", {"momentum": opt.momentum, "dampening": opt.dampening, "nesterov": opt.nesterov, "fused": False}


@_spec.register
def _(opt: O.Adagrad):
    return "Adagrad", {"lr_decay": 0.0, "initial_accumulator_value": opt.initial_accumulator_value,
                       "eps": opt.eps, "fused": False}


@_spec.register
def _(opt: O.RMSprop):
    return "RMSprop", {"alpha": opt.rho, "eps": opt.eps, "momentum": opt.momentum, "centered": opt.centered,
                       "capturable": False}


@_spec.register
def _(opt: O.Adam):
    kwargs = {"betas": (opt.beta_1, opt.beta_2), "eps": opt.eps, "amsgrad": opt.amsgrad, "capturable": False,
              "fused": False}
    if isinstance(opt, O.AdamW):
        return "AdamW", kwargs
    return "Adam", {**kwargs, "decoupled_weight_decay": opt.weight_decay_mode == "decoupled"}
