"""Probes (see ``probes``) of the optimizers', losses', schedules' and ReduceLROnPlateau's conventions."""

from __future__ import annotations

import inspect
import math

import numpy as np

from comparisons.studies.defaults.probes import match_form
from reference import frameworks

# -- optimizers ----------------------------------------------------------------------------------
G, EPS, LR = 1e-6, 1e-6, 0.1  # one step from p = 0 with a gradient the size of eps tells the forms apart


def _keras_step(name: str, **kw) -> float:
    keras = frameworks.keras()
    v = keras.Variable(np.zeros(1), dtype="float64")
    opt = getattr(keras.optimizers, name)(learning_rate=np.float64(LR), **kw)
    opt.apply([np.full(1, G)], [v])
    return -float(v.numpy()[0])


def _torch_step(name: str, **kw) -> float:
    torch = frameworks.torch()
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    p.grad = torch.full((1,), G, dtype=torch.float64)
    getattr(torch.optim, name)([p], lr=LR, **kw).step()
    return -float(p.detach()[0])


def _adam_forms(b2: float = 0.999) -> dict[str, float]:
    c2 = math.sqrt(1 - b2)
    return {"epsilon hat: lr_t * m / (sqrt(v) + eps)": LR * c2 * G / (c2 * G + EPS),
            "after bias correction: m_hat / (sqrt(v_hat) + eps)": LR * G / (G + EPS)}


def keras_adam_eps() -> str:
    return match_form(_keras_step("Adam", beta_1=np.float64(0.9), beta_2=np.float64(0.999), epsilon=np.float64(EPS)),
                  _adam_forms())


def torch_adam_eps() -> str:
    return match_form(_torch_step("Adam", eps=EPS), _adam_forms())


def _root_forms(h: float) -> dict[str, float]:
    """After one step the accumulator is h; the step is lr * g / den."""
    return {"inside the root: sqrt(h + eps)": LR * G / math.sqrt(h + EPS),
            "outside the root: sqrt(h) + eps": LR * G / (math.sqrt(h) + EPS)}


def keras_rmsprop_eps() -> str:
    return match_form(_keras_step("RMSprop", rho=np.float64(0.9), epsilon=np.float64(EPS)), _root_forms(0.1 * G * G))


def torch_rmsprop_eps() -> str:
    return match_form(_torch_step("RMSprop", alpha=0.9, eps=EPS), _root_forms(0.1 * G * G))


def keras_adagrad_eps() -> str:
    return match_form(_keras_step("Adagrad", initial_accumulator_value=np.float64(0.0), epsilon=np.float64(EPS)),
                  _root_forms(G * G))


def torch_adagrad_eps() -> str:
    return match_form(_torch_step("Adagrad", initial_accumulator_value=0.0, eps=EPS), _root_forms(G * G))


# -- losses ----------------------------------------------------------------------------------------
def keras_probability_ce() -> str:
    """Categorical cross-entropy on probabilities with p = 1e-7 at the label: clipping gives
    -log(1e-7) = 16.118, adding 1e-7 inside the log -log(2e-7) = 15.425."""
    keras = frameworks.keras()
    eps = keras.config.epsilon()
    loss = float(keras.losses.CategoricalCrossentropy()(np.array([[1.0, 0.0]]), np.array([[eps, 1 - eps]])))
    forms = {f"clip p to [{eps:g}, 1 - {eps:g}]": -math.log(eps), f"log(p + {eps:g})": -math.log(2 * eps)}
    return match_form(loss, forms, rtol=1e-4)


# -- schedules and ReduceLROnPlateau ---------------------------------------------------------------
def keras_schedule_count() -> str:
    """The rate an optimizer with a schedule uses for its first update."""
    keras = frameworks.keras()
    sched = keras.optimizers.schedules.ExponentialDecay(1.0, 1, 0.5)
    opt = keras.optimizers.SGD(learning_rate=sched)
    opt.build([keras.Variable(np.zeros(1))])
    first = float(opt.learning_rate)
    return "optimizer updates applied, from 0: schedule(0) for the first" if first == 1.0 else f"first lr {first}"


def torch_schedule_count() -> str:
    torch = frameworks.torch()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    first, count = opt.param_groups[0]["lr"], sched.last_epoch
    if first == 1.0 and count == 0:
        return "scheduler.step() calls, from 0 (step once per epoch or batch, by hand)"
    return f"first lr {first}, last_epoch {count}"


def keras_cosine_after_decay() -> str:
    sched = frameworks.keras().optimizers.schedules.CosineDecay(1.0, 2, alpha=0.0)
    return "held at alpha * lr0" if float(sched(4)) == 0.0 else "rises again"


def torch_cosine_after_decay() -> str:
    torch = frameworks.torch()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2, eta_min=0.0)
    for _ in range(3):
        opt.step()
        sched.step()
    return "rises again (period 2 T_max)" if opt.param_groups[0]["lr"] > 1e-9 else "held at eta_min"


CONSTANT = [1.0] * 8  # a plateau from the start: the first epoch sets best, every later one is bad


def keras_plateau_first_reduction(patience: int = 2) -> str:
    from reference.keras_callbacks import StubModel, StubOptimizer

    opt = StubOptimizer(1.0, "float64")
    cb = frameworks.keras().callbacks.ReduceLROnPlateau(monitor="loss", patience=patience, verbose=0)
    cb.set_model(StubModel(opt))
    cb.on_train_begin()
    for epoch, loss in enumerate(CONSTANT):
        cb.on_epoch_end(epoch, {"loss": loss})
        if float(opt.learning_rate) < 1.0:
            return f"patience={patience}: after {epoch} epochs without improvement"
    return "no reduction"


def keras_plateau_threshold_mode() -> str:
    params = inspect.signature(frameworks.keras().callbacks.ReduceLROnPlateau.__init__).parameters
    return "has threshold_mode" if "threshold_mode" in params else "absolute (min_delta)"


def torch_plateau_first_reduction(patience: int = 2) -> str:
    torch = frameworks.torch()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=patience)
    for epoch, loss in enumerate(CONSTANT):
        sched.step(loss)
        if opt.param_groups[0]["lr"] < 1.0:
            return f"patience={patience}: after {epoch} epochs without improvement"
    return "no reduction"
