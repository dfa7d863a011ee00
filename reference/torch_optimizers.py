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

A scratch ``ClipGradients`` becomes the twin of its wrapped optimizer with a ``clip`` hook run
between setting ``.grad`` and ``step()``: ``torch.nn.utils.clip_grad_norm_`` over all parameters
(global norm), once per parameter (per-parameter norm) or ``clip_grad_value_``. NAdam keeps its
``mu_product`` in ``torch.get_default_dtype()``: a float64 twin steps under a float64 default dtype
(``default_dtype``), as a float64 PyTorch model is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import contextmanager, nullcontext
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
    clip: Callable[[], None] | None = None
    default_dtype: str | None = None

    def step(self, grads: Mapping[str, np.ndarray] | None, lr: float) -> None:
        """Apply one update with learning rate ``lr`` (written into every parameter group), from
        ``grads`` or, when ``grads`` is None, from the ``.grad`` a ``backward()`` left."""
        torch = frameworks.torch()
        for group in self.optimizer.param_groups:
            group["lr"] = float(lr)
        if grads is not None:
            for name, p in self.tensors.items():
                p.grad = torch.from_numpy(np.array(grads[name], copy=True))
        if self.clip is not None:
            self.clip()
        with _default_dtype(self.default_dtype):
            self.optimizer.step()

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def params(self) -> dict[str, np.ndarray]:
        return {name: p.detach().numpy().copy() for name, p in self.tensors.items()}


def _default_dtype(dtype: str | None):
    """``torch.set_default_dtype`` for the block (restored after); nothing when ``dtype`` is None."""
    if dtype is None:
        return nullcontext()

    @contextmanager
    def block():
        torch = frameworks.torch()
        old = torch.get_default_dtype()
        torch.set_default_dtype(getattr(torch, dtype))
        try:
            yield
        finally:
            torch.set_default_dtype(old)

    return block()


def _clip_hook(clip: O.ClipGradients, tensors: dict) -> tuple[Callable[[], None], str]:
    """The clipping PyTorch runs between backward() and step(), and its call written out."""
    utils = frameworks.torch().nn.utils
    ps = list(tensors.values())
    if clip.mode == "clipvalue":
        return (lambda: utils.clip_grad_value_(ps, clip_value=clip.threshold, foreach=False),
                f"torch.nn.utils.clip_grad_value_(params, clip_value={clip.threshold!r}, foreach=False)")
    kw = {"max_norm": clip.threshold, "norm_type": 2.0, "error_if_nonfinite": True, "foreach": False}
    text = ", ".join(f"{k}={v!r}" for k, v in kw.items())
    if clip.mode == "global_clipnorm":
        return lambda: utils.clip_grad_norm_(ps, **kw), f"torch.nn.utils.clip_grad_norm_(params, {text})"

    def per_parameter() -> None:
        for p in ps:
            utils.clip_grad_norm_([p], **kw)

    return per_parameter, f"for p in params: torch.nn.utils.clip_grad_norm_([p], {text})"


def build(opt: O.Optimizer, params: Mapping[str, np.ndarray] | None, dtype: str, *,
          tensors: Mapping[str, object] | None = None) -> TorchOptimizerTwin:
    """The PyTorch twin of a scratch optimizer, holding copies of ``params`` as leaf tensors
    (or, with ``tensors``, driving existing parameters such as a module's, keyed like scratch).

    A scratch form PyTorch does not have (Keras momentum form, epsilon inside the root, "hat"
    Adam epsilon, the early textbook erratum Nesterov) is built as the nearest PyTorch optimizer with the same
    numbers; the case records the difference.
    """
    torch = frameworks.torch()
    clip = opt if isinstance(opt, O.ClipGradients) else None
    opt = opt.optimizer if clip is not None else opt
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
    hook = None
    if clip is not None:
        hook, text = _clip_hook(clip, tensors)
        call = f"{text}; then {call}.step()"
    default = dtype if isinstance(opt, O.Nadam) and dtype == "float64" else None
    if default:
        call += "  # stepped under torch.set_default_dtype(torch.float64): NAdam's mu_product has the default dtype"
    return TorchOptimizerTwin(optimizer, tensors, call, clip=hook, default_dtype=default)


def _weight_decay(opt: O.Optimizer) -> float:
    if opt.weight_decay == 0 or opt.weight_decay_mode == "coupled" or isinstance(opt, (O.Adam, O.Nadam)):
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


@_spec.register
def _(opt: O.Adamax):
    # eps "outside" (Keras) has no PyTorch setting: the nearest Adamax (eps inside the max); the case records it
    return "Adamax", {"betas": (opt.beta_1, opt.beta_2), "eps": opt.eps, "capturable": False}


@_spec.register
def _(opt: O.Nadam):
    return "NAdam", {"betas": (opt.beta_1, opt.beta_2), "eps": opt.eps, "momentum_decay": opt.momentum_decay,
                     "decoupled_weight_decay": opt.weight_decay_mode == "decoupled", "capturable": False}
