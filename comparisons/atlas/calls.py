"""The three calls of a case, written out: scratch, Keras and PyTorch, every argument explicit.

The framework calls come from the same builders the parity run uses (``reference``): layer, loss,
optimizer and initializer twins carry a ``call`` string; Keras schedules are written from
``get_config()``; PyTorch schedulers from the constructor calls ``reference.torch_schedules.build``
makes (recorded while it builds); callbacks from the settings functions of
``reference.keras_callbacks`` / ``reference.torch_callbacks``. The scratch call is written from the
object the case's factory makes: its ``repr`` where it has one with arguments, otherwise its
constructor signature with the values the object holds.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from comparisons.book import unwrap
from comparisons.spec import Case
from reference import frameworks

NOT_COMPARED = "- (no such component: not compared)"
_ALIASES = {"running_var": "running_var_estimator"}
_SKIP = {"self", "rng", "weight_init", "bias_init", "mask"}


def _value(v: object) -> str:
    if isinstance(v, np.ndarray):
        return f"<array {v.shape}>"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if callable(v) and not isinstance(v, type):
        return getattr(v, "__name__", type(v).__name__)
    return repr(v)


def _held(obj: object, name: str) -> tuple[bool, object]:
    """The value ``obj`` holds for constructor argument ``name``."""
    if name in ("W", "b", "gamma", "beta") and name in getattr(obj, "params", {}):
        return True, obj.params[name]  # type: ignore[attr-defined]
    if name in ("running_mean_init", "running_var_init"):
        buf = obj.buffers[name.removesuffix("_init")]  # type: ignore[attr-defined]
        return True, float(buf.flat[0]) if np.all(buf == buf.flat[0]) else buf
    attr = _ALIASES.get(name, name)
    if hasattr(obj, attr):
        return True, getattr(obj, attr)
    return False, None


def scratch_call(obj: object, module: str) -> str:
    """``module.Class(arg=value, ...)`` for a scratch object (or ``module.name`` for an initializer)."""
    if callable(obj) and inspect.isfunction(obj):
        return f"{module}.{obj.__name__}  # called as init(shape, fan_in=..., fan_out=..., rng=..., dtype=...)"
    from scratch.layers import Layer

    cls = type(obj)
    if not isinstance(obj, Layer) and cls.__repr__ is not object.__repr__ and "=" in repr(obj):
        return f"{module}.{repr(obj)}"
    args = []
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name in _SKIP or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        ok, v = _held(obj, name)
        if ok:
            args.append(f"{name}={_value(v.name if name == 'dtype' and hasattr(v, 'name') else v)}")
    return f"{module}.{cls.__name__}({', '.join(args)})"


# -- PyTorch schedulers: the constructor calls ``build`` makes ------------------------------------
@contextmanager
def recorded_inits(classes: list[type]) -> Iterator[list[tuple[object, str, tuple, dict]]]:
    """Record the outermost constructor calls of ``classes`` made inside the block; the classes'
    own ``__init__`` is restored afterwards, whatever happens."""
    calls: list[tuple[object, str, tuple, dict]] = []
    depth = [0]
    saved = {cls: cls.__dict__["__init__"] for cls in classes if "__init__" in cls.__dict__}

    def wrap(init):
        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            if depth[0] == 0:
                calls.append((self, type(self).__name__, args, kwargs))
            depth[0] += 1
            try:
                init(self, *args, **kwargs)
            finally:
                depth[0] -= 1
        return __init__

    try:
        for cls, init in saved.items():
            cls.__init__ = wrap(init)
        yield calls
    finally:
        for cls, init in saved.items():
            cls.__init__ = init


def _lambda_text(fn) -> str:
    """A readable description of an ``lr_lambda`` with the values it closes over."""
    cv = inspect.getclosurevars(fn)
    bound = ", ".join(f"{k}={_value(v)}" for k, v in sorted(cv.nonlocals.items()))
    name = fn.__qualname__.replace(".<locals>", "")
    return f"<{name}{' with ' + bound if bound else ''}>"


def _render(obj, calls) -> str:
    for o, name, args, kwargs in calls:
        if o is obj:
            parts = ["optimizer", *[_render(a, calls) for a in args[1:]]]
            parts += [f"{k}={_render(v, calls)}" for k, v in kwargs.items()]
            return f"torch.optim.lr_scheduler.{name}({', '.join(parts)})"
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(_render(o, calls) for o in obj) + "]"
    if inspect.isfunction(obj):
        return _lambda_text(obj)
    return _value(obj)


def torch_schedule_call(schedule) -> str:
    from reference import torch_schedules

    torch = frameworks.torch()
    sch = torch.optim.lr_scheduler
    classes = [c for c in vars(sch).values() if isinstance(c, type) and issubclass(c, sch.LRScheduler)]
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=torch_schedules.optimizer_lr(schedule))
    with recorded_inits(classes) as calls:
        built = torch_schedules.build(schedule, opt)
    lr = torch_schedules.optimizer_lr(schedule)
    return f"{_render(built, calls)}  # optimizer lr={lr!r}, scheduler.step() once per " + (
        "epoch" if type(schedule).__name__ == "WarmupCosineEpochs" else "update")


def keras_schedule_call(schedule) -> str:
    from reference import keras_schedules

    if type(schedule).__name__ == "WarmupCosineEpochs":
        fn = keras_schedules.warmup_cosine_function(schedule)
        return f"keras.callbacks.LearningRateScheduler({_lambda_text(fn)}, verbose=0)"
    built = keras_schedules.build(schedule, "float64")
    cfg = {k: v for k, v in built.get_config().items() if k != "name"}
    return f"keras.optimizers.schedules.{type(built).__name__}({', '.join(f'{k}={_value(v)}' for k, v in cfg.items())})"


# -- callbacks -------------------------------------------------------------------------------------
def _kw(d: dict) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in d.items())


def callback_calls(case: Case) -> dict[str, str]:
    from reference import keras_callbacks, torch_callbacks

    grid = case.params.get("grid")
    if grid is None:  # LearningRateScheduler
        return {"scratch": "callbacks.LearningRateScheduler(schedule=_keep_until_10)",
                "keras": "keras.callbacks.LearningRateScheduler(_keep_until_10, verbose=0)",
                "torch": "torch.optim.lr_scheduler.MultiplicativeLR(optimizer, lr_lambda=<1 before epoch 10, "
                         "exp(-0.1) after>), step() once per epoch"}
    extra = {"filepath": "run000-ckpt-{epoch:03d}.npz"} if case.id.endswith("model-checkpoint") else {}
    cb = case.params["factory"](**extra, **grid[0])
    note = f"  # first of {len(grid)} settings in the case's grid" if len(grid) > 1 else ""
    out = {"scratch": scratch_call(cb, "callbacks") + note, "torch": NOT_COMPARED}
    name = type(cb).__name__
    if name == "ReduceLROnPlateau":
        k = keras_callbacks.plateau_settings(cb)
        log = " on log(loss)" if k.pop("log_monitor") else ""
        out["keras"] = f"keras.callbacks.ReduceLROnPlateau(monitor='loss', verbose=0, {_kw(k)}){log}{note}"
        t = torch_callbacks.plateau_settings(cb, port=str(case.params.get("torch_port", "exact")))
        out["torch"] = f"torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, {_kw(t)}){note}"
    elif name == "EarlyStopping":
        out["keras"] = ("keras.callbacks.EarlyStopping(monitor='loss', verbose=0, " + _kw(
            {k: getattr(cb, k) for k in ("min_delta", "patience", "mode", "baseline", "restore_best_weights",
                                         "start_from_epoch")}) + ")" + note)
    else:
        out["keras"] = ("keras.callbacks.ModelCheckpoint('run000-ckpt-{epoch:03d}.keras', monitor='loss', verbose=0, "
                        + _kw({"save_best_only": cb.save_best_only, "save_weights_only": False, "mode": cb.mode,
                               "save_freq": "epoch", "initial_value_threshold": cb.initial_value_threshold})
                        + ")" + note)
    return out


# -- every kind ------------------------------------------------------------------------------------
MODULES = {"layer": "layers", "loss": "losses", "optimizer": "optimizers", "schedule": "schedules",
           "initializer": "initializers", "callback": "callbacks"}


def _framework_call(build, *args) -> str:
    try:
        return build(*args).call
    except NotImplementedError as err:  # the framework has no counterpart of this configuration
        return f"- (no counterpart: {err})"


def case_calls(case: Case, dtype: str = "float64") -> dict[str, str]:
    """``{"scratch": ..., "keras": ..., "torch": ...}`` for one case (and ``"book"`` first for a case of
    one of the book's classes); a framework the case is not compared with gets ``NOT_COMPARED``."""
    if case.kind == "callback":
        out = callback_calls(case)
    else:
        inputs = case.inputs(np.random.default_rng(case.seed), dtype)
        book, obj = unwrap(case.make(dtype))
        out = {"scratch": scratch_call(obj, MODULES[case.kind])}
        if book is not None:
            out = {"book": scratch_call(book, type(book).__module__.removeprefix("scratch.")), **out}
        for fw in ("keras", "torch"):
            if fw not in case.frameworks:
                out[fw] = NOT_COMPARED
            elif case.kind == "layer":
                from reference import keras_layers, torch_layers

                build = {"keras": keras_layers.build, "torch": torch_layers.build}[fw]
                out[fw] = _framework_call(build, obj, inputs["xs"][0].shape)
            elif case.kind == "loss":
                from reference import keras_losses, torch_losses

                build = {"keras": keras_losses.build, "torch": torch_losses.build}[fw]
                out[fw] = _framework_call(build, obj, inputs["t"], dtype)
            elif case.kind == "optimizer":
                from reference import keras_optimizers, torch_optimizers

                build = {"keras": keras_optimizers.build, "torch": torch_optimizers.build}[fw]
                out[fw] = _framework_call(build, obj, inputs["params"], dtype)
            elif case.kind == "initializer":
                from scratch import initializers as I

                fan_in, fan_out = case.params["fans"] or I.fans(case.params["shape"])
                out[fw] = case.params["twins"][fw].call(fan_in, fan_out)
            elif case.kind == "schedule":
                out[fw] = keras_schedule_call(obj) if fw == "keras" else torch_schedule_call(obj)
            else:
                raise ValueError(f"case.kind: no call writer for {case.kind!r}")
    for fw in ("keras", "torch"):
        if fw not in case.frameworks:
            out[fw] = NOT_COMPARED
    return out
