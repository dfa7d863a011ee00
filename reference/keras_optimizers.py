"""Scratch optimizers rebuilt as Keras 3 optimizers, driven one step at a time.

``build(opt, params, dtype)`` returns a ``KerasOptimizerTwin``::

    twin.step(grads, lr)     # set the learning rate variable, then optimizer.apply(grads, variables)
    twin.params()            # current variable values, keyed like scratch

Every constructor argument is passed explicitly. float64 exactness needs care (framework notes
section 13, confirmed in keras/src/optimizers and keras/src/regularizers, Keras 3.15):

- The learning-rate variable is created with ``dtype=backend.floatx()`` (base_optimizer.__init__),
  so the optimizer is constructed and built under ``floatx = dtype``, restored afterwards.
- SGD ``momentum``, Adam ``beta_1``/``beta_2`` and ``weight_decay`` reach the arithmetic through
  ``ops.cast(value, variable.dtype)``; a Python float is first converted to a float32 tensor (0.9 ->
  0.8999999761581421). ``np.float64`` values (a ``float`` subclass, accepted by Keras's checks)
  convert exactly, so every float hyperparameter is passed as ``np.float64``.
- ``keras.regularizers.L2`` turns its factor into a Python float (``validate_float_arg``) and then
  casts it the same way, so an L2 penalty is exact in float64 only when its factor is exactly
  representable in float32; ``build`` refuses other factors for float64 rather than compare a
  rounded one.

Coupled weight decay (PyTorch's ``weight_decay``, the textbook's L2) is not an optimizer option in
Keras; its Keras equivalent is the penalty ``keras.regularizers.L2(weight_decay / 2)`` on each
decayed parameter, whose gradient ``weight_decay * p`` Keras adds to the loss gradient. The twin
computes that gradient with Keras (a ``GradientTape`` over the regularizer) before ``apply``.
For plain SGD (no momentum) coupled and decoupled decay are the same update, and Keras's own
``weight_decay`` is used instead.

A scratch ``ClipGradients`` becomes its wrapped optimizer built with the matching Keras
argument (``clipnorm``, ``global_clipnorm`` or ``clipvalue``); Keras clips before the weight decay
and the update, as scratch does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import singledispatch

import numpy as np

from reference import frameworks
from scratch import optimizers as O

F64 = np.float64
# Base-optimizer arguments, all explicit and all off (the scratch optimizers have none of these).
_BASE = {"clipnorm": None, "clipvalue": None, "global_clipnorm": None, "use_ema": False, "ema_momentum": F64(0.99),
         "ema_overwrite_frequency": None, "loss_scale_factor": None, "gradient_accumulation_steps": None}


@contextmanager
def floatx(dtype: str) -> Iterator[None]:
    """Set ``keras.config.floatx`` for the duration of the block, restoring it afterwards."""
    keras = frameworks.keras()
    old = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(old)


@dataclass
class KerasOptimizerTwin:
    """A Keras optimizer with its variables, behind ``step(grads, lr)`` / ``params()``.

    One step (assign the learning rate, add the L2 gradient if any, ``optimizer.apply``) runs as a
    ``tf.function`` traced once per twin, as ``model.fit`` runs it inside its train function; it is
    several times faster than eager execution and gives the same numbers (tests/test_optimizers.py
    checks eager and traced steps agree bit for bit).

    Attributes:
        optimizer: the built ``keras.optimizers.Optimizer``.
        variables: scratch name -> ``keras.Variable``.
        call: the construction written out, for reports.
        l2: scratch name -> ``keras.regularizers.L2`` whose gradient is added (coupled decay).
        compiled: run the step as a ``tf.function`` (else eagerly).
    """

    optimizer: object
    variables: dict[str, object]
    call: str
    l2: dict[str, object] = field(default_factory=dict)
    compiled: bool = True
    framework: str = "keras"

    def __post_init__(self) -> None:
        tf = frameworks.tf()
        self._names = list(self.variables)
        self._values: dict[str, np.ndarray] | None = None
        self._apply = tf.function(self._apply_eager) if self.compiled else self._apply_eager

    def _apply_eager(self, grads: list, lr) -> list:
        tf = frameworks.tf()
        self.optimizer.learning_rate.assign(lr)
        gs = []
        for name, g in zip(self._names, grads, strict=True):
            if name in self.l2:
                var = self.variables[name].value
                with tf.GradientTape() as tape:
                    penalty = self.l2[name](var)
                g = g + tape.gradient(penalty, var)
            gs.append(g)
        self.optimizer.apply(gs, [self.variables[n] for n in self._names])
        return [self.variables[n].value.read_value() for n in self._names]

    def step(self, grads: Mapping[str, np.ndarray], lr: float) -> None:
        """Apply one update with learning rate ``lr`` (assigned to the learning-rate variable, so in
        a float32 run it is rounded to float32 as Keras rounds it)."""
        tf = frameworks.tf()
        lr_t = tf.constant(lr, dtype=self.optimizer.learning_rate.dtype)
        values = self._apply([tf.constant(np.asarray(grads[n])) for n in self._names], lr_t)
        self._values = {n: v.numpy() for n, v in zip(self._names, values, strict=True)}

    def params(self) -> dict[str, np.ndarray]:
        """Current values (read back with the step that produced them)."""
        if self._values is None:
            self._values = {name: np.array(v.numpy()) for name, v in self.variables.items()}
        return {name: value.copy() for name, value in self._values.items()}


def _fmt(kwargs: dict) -> str:
    def show(v):
        return repr(float(v)) if isinstance(v, np.floating) else repr(v)
    return ", ".join(f"{k}={show(v)}" for k, v in kwargs.items())


def build(opt: O.Optimizer, params: Mapping[str, np.ndarray] | None, dtype: str, *,
          compiled: bool = True, variables: Mapping[str, object] | None = None) -> KerasOptimizerTwin:
    """The Keras twin of a scratch optimizer, holding copies of ``params`` as Keras variables
    (or, with ``variables``, driving existing variables such as a model's, keyed like scratch).

    The learning rate passed at construction is a placeholder: ``step`` assigns each step's rate.
    A scratch form Keras does not have (PyTorch momentum form, epsilon outside the root,
    "corrected" Adam epsilon, dampening, the early textbook erratum Nesterov) is built as the nearest Keras
    optimizer with the same numbers; the case records the difference.
    """
    keras = frameworks.keras()
    clip = opt if isinstance(opt, O.ClipGradients) else None
    opt = opt.optimizer if clip is not None else opt
    cls_name, kwargs = _spec(opt)
    decoupled = opt.weight_decay > 0 and opt.weight_decay_mode == "decoupled"
    coupled = opt.weight_decay > 0 and opt.weight_decay_mode == "coupled"
    if coupled and isinstance(opt, O.SGD) and opt.momentum == 0:
        decoupled, coupled = True, False  # plain SGD: p - lr*(g + wd*p) == p - lr*wd*p - lr*g
    if cls_name != "AdamW":
        kwargs["weight_decay"] = F64(opt.weight_decay) if decoupled else None
    kwargs.update(_BASE)
    if clip is not None:
        kwargs[clip.mode] = float(clip.threshold)  # a Python float: Keras mixes it with float32 tensors too
    if cls_name == "Nadam" and dtype != "float64":  # its u_product (float32) * beta_1 refuses a float64 scalar
        kwargs = {k: float(v) if isinstance(v, np.floating) else v for k, v in kwargs.items()}
    with floatx(dtype):
        optimizer = getattr(keras.optimizers, cls_name)(learning_rate=F64(0.01), name=None, **kwargs)
        if variables is None:
            variables = {n: keras.Variable(np.array(p), dtype=dtype, name=n) for n, p in params.items()}
        variables = dict(variables)
        excluded = [v for n, v in variables.items() if not opt.decays(n)]
        if decoupled:
            optimizer.exclude_from_weight_decay(var_list=excluded)
        optimizer.build(list(variables.values()))
    _check_dtypes(optimizer, dtype)
    call = f"keras.optimizers.{cls_name}(learning_rate=<per step>, {_fmt(kwargs)})"
    if decoupled and excluded:
        call += f".exclude_from_weight_decay(var_list=[{', '.join(v.name for v in excluded)}])"
    l2 = {}
    if coupled:
        factor = opt.weight_decay / 2
        if dtype == "float64" and float(np.float32(factor)) != factor:
            raise ValueError(f"weight_decay: keras.regularizers.L2 rounds its factor through float32, so "
                             f"weight_decay / 2 = {factor!r} cannot be compared exactly in float64; use a factor "
                             "exact in float32 (e.g. a power of 2)")
        l2 = {n: keras.regularizers.L2(factor) for n in variables if opt.decays(n)}
        call += f" on the gradient of loss + keras.regularizers.L2({factor!r}) on {sorted(l2)}"
    return KerasOptimizerTwin(optimizer, variables, call, l2, compiled)


def _check_dtypes(optimizer, dtype: str) -> None:
    """The learning rate and every slot variable must be in ``dtype`` (else float64 is not float64)."""
    lr_dtype = optimizer.learning_rate.dtype  # the learning-rate variable itself
    slots = {v.path: v.dtype for v in optimizer.variables if "iteration" not in v.path}
    bad = {k: d for k, d in {"learning_rate": lr_dtype, **slots}.items() if d != dtype}
    if bad:
        raise RuntimeError(f"Keras optimizer variables not in {dtype}: {bad}")


@singledispatch
def _spec(opt) -> tuple[str, dict]:
    raise NotImplementedError(f"optimizer: no Keras twin for {type(opt).__name__}")


@_spec.register
def _(opt: O.SGD):
    return "SGD", {"momentum": F64(opt.momentum), "nesterov": opt.nesterov}


@_spec.register
def _(opt: O.Adagrad):
    return "Adagrad", {"initial_accumulator_value": F64(opt.initial_accumulator_value), "epsilon": F64(opt.eps)}


@_spec.register
def _(opt: O.RMSprop):
    return "RMSprop", {"rho": F64(opt.rho), "momentum": F64(opt.momentum), "epsilon": F64(opt.eps),
                       "centered": opt.centered}


@_spec.register
def _(opt: O.Adam):
    kwargs = {"beta_1": F64(opt.beta_1), "beta_2": F64(opt.beta_2), "epsilon": F64(opt.eps), "amsgrad": opt.amsgrad}
    if isinstance(opt, O.AdamW):
        return "AdamW", {"weight_decay": F64(opt.weight_decay), **kwargs}
    return "Adam", kwargs


@_spec.register
def _(opt: O.Adamax):
    # eps "inside" the max (PyTorch) has no Keras setting: the nearest Adamax; the case records it
    return "Adamax", {"beta_1": F64(opt.beta_1), "beta_2": F64(opt.beta_2), "epsilon": F64(opt.eps)}


@_spec.register
def _(opt: O.Nadam):
    # Keras's schedule is momentum_decay = 1; another value has no Keras setting: the case records it
    return "Nadam", {"beta_1": F64(opt.beta_1), "beta_2": F64(opt.beta_2), "epsilon": F64(opt.eps)}
