"""Cases of the table for schedules (kind "schedule").

Each case compares the whole learning-rate sequence of the first ``steps`` optimizer updates
(quantity ``"lr"``, one array; the report gives the worst step as its index) between the scratch
schedule and the framework: Keras's ``optimizer.learning_rate`` read inside a ``tf.function`` at
``iterations = 0..steps-1`` (how ``fit`` reads it), PyTorch's group lr stepped once per batch (or
per epoch). Step convention: scratch ``lr_at(k)`` = Keras ``schedule(k)`` = PyTorch's lr after
``k`` ``scheduler.step()`` calls. float64 compares the float64 sequences; float32 compares both
sequences cast to float32 (Keras then computes in float32 itself; PyTorch's Python floats and
scratch are rounded once).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from comparisons.table.links import KERAS_SRC, TORCH_DOCS
from comparisons.table.spec import Case, Context, Known, Tolerance
from scratch import schedules as S

STEPS = 1200

TOLERANCE = {
    "float64": Tolerance(1e-12, "float64: closed forms are a handful of roundings (~1e-16); PyTorch's recursive "
                                "schedulers accumulate one rounding per step, measured <= 2e-13 over 1,200 steps"),
    "float32": Tolerance(2e-6, "float32: Keras computes in float32; the completed fraction step / D (up to ~10) "
                               "rounds to ~10 * 6e-8 absolute and the cosine amplifies it by <= pi / 2, so <= 1e-6"),
}


# -- known differences ---------------------------------------------------------------------------
def cosine_not_clamped(decay_steps: int) -> Known:
    return Known(
        framework="torch", quantities=("lr",),
        what=f"CosineAnnealingLR is not clamped: after T_max={decay_steps} it rises again (period 2 T_max); "
             "Keras CosineDecay holds alpha * lr0.",
        why="CosineAnnealingLR follows eta_min + (base - eta_min)(1 + cos(pi k / T_max)) / 2 for every k.",
        link=f"{TORCH_DOCS}/torch.optim.lr_scheduler.CosineAnnealingLR.html",
        holds="CosineDecay(k) = CosineAnnealingLR(min(k, T_max))",
        relation=lambda f, ctx: f[np.minimum(ctx.inputs["steps"], decay_steps)],
    )


def cosine_clamped(decay_steps: int) -> Known:
    def reflect(steps: np.ndarray) -> np.ndarray:
        r = steps % (2 * decay_steps)
        return np.where(r > decay_steps, 2 * decay_steps - r, r)

    return Known(
        framework="keras", quantities=("lr",),
        what=f"Keras CosineDecay holds alpha * lr0 after decay_steps={decay_steps}; the periodic cosine "
             "(PyTorch CosineAnnealingLR) rises again.",
        why="CosineDecay clamps the step: min(step, decay_steps).",
        link=f"{KERAS_SRC}/optimizers/schedules/learning_rate_schedule.py",
        holds="periodic(k) = CosineDecay(reflect(k)), reflect(k) = r if r <= D else 2D - r, r = k mod 2D",
        relation=lambda f, ctx: f[reflect(ctx.inputs["steps"])],
    )


def sgdr_missed_restart(schedule: S.CosineDecayRestarts) -> Known:
    """Keras finds the period with floor(log(...) / log(t_mul)); in a float64 graph it can round down."""
    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        out = f.copy()
        for step in ctx.inputs["steps"]:
            i, frac = schedule.period(int(step))
            if frac == 0 and i > 0:  # a restart step
                peak = schedule.initial_lr * (schedule.m_mul**i * (1 - schedule.alpha) + schedule.alpha)
                end_prev = schedule.initial_lr * schedule.alpha
                if abs(f[step] - end_prev) <= 1e-12 * peak:  # Keras stayed at the end of period i - 1
                    out[step] = peak
        return out

    return Known(
        framework="keras", quantities=("lr",),
        what="Keras CosineDecayRestarts misses the restart at the start of period 3 (step 700 for D=100, "
             "t_mul=2) in float64 inside a tf.function (how fit runs the optimizer): lr = alpha * lr0 there "
             "instead of lr0. Eager evaluation and float32 are right.",
        why="i_restart = floor(log(1 - f (1 - t_mul)) / log(t_mul)); the graph evaluates log(8) / log(2) as "
            "2.9999999999999996, so floor gives 2 and the fraction of period 2 is 1.0.",
        link=f"{KERAS_SRC}/optimizers/schedules/learning_rate_schedule.py",
        holds="equal at every step except restart steps where Keras returns alpha * lr0 (the end of the "
              "previous period) in place of the restart value lr0 * m_mul**i",
        relation=relation,
    )


def python_float_rate(schedule: S.ExponentialDecay) -> Known:
    rate32 = float(np.float32(schedule.decay_rate))
    return Known(
        framework="keras", quantities=("lr",),
        what=f"decay_rate={schedule.decay_rate} given as a Python float is rounded to float32 ({rate32!r}) before "
             "the float64 computation (np.float64 initial_learning_rate).",
        why="ExponentialDecay does ops.cast(decay_rate, dtype); ops.cast converts a Python float to a float32 "
            "tensor first. Passing np.float64(decay_rate) gives the exact float64 schedule.",
        link=f"{KERAS_SRC}/optimizers/schedules/learning_rate_schedule.py",
        holds="Keras(k) = lr0 * float32(rate) ** (k / D), so scratch(k) = Keras(k) * (rate / float32(rate)) ** (k / D)",
        relation=lambda f, ctx: f * (schedule.decay_rate / rate32) ** (ctx.inputs["steps"] / schedule.decay_steps),
    )


# -- cases ---------------------------------------------------------------------------------------
def schedule(id: str, summary: str, make, *, known=(), frameworks=("keras", "torch"), **params) -> Case:
    return Case(id=f"schedule/{id}", kind="schedule", covers=(type(make).__name__,), summary=summary,
                make=lambda dtype, _s=make: _s, inputs=lambda rng, dtype: {},
                tolerance=TOLERANCE, known=tuple(known), frameworks=tuple(frameworks),
                params={"steps": STEPS, **params})


_EXP = S.ExponentialDecay(initial_lr=0.1, decay_steps=100, decay_rate=0.3, staircase=False)
_COS_HOLD = S.CosineDecay(initial_lr=0.1, decay_steps=400, alpha=0.1, after_decay="hold")
_COS_PERIODIC = S.CosineDecay(initial_lr=0.1, decay_steps=400, alpha=0.1, after_decay="periodic")
_SGDR2 = S.CosineDecayRestarts(initial_lr=0.1, first_decay_steps=100, t_mul=2.0, m_mul=1.0, alpha=0.0)
_PYFLOAT = python_float_rate(_EXP)
_MISSED = sgdr_missed_restart(_SGDR2)
_PYFLOAT = replace(_PYFLOAT, dtypes=("float64",))  # in float32 Keras computes in float32 anyway
_MISSED = replace(_MISSED, dtypes=("float64",))  # float32 graphs find every restart (checked for D in 10..100)

SCHEDULES: list[Case] = [
    schedule("step-decay", "staircase exponential (step decay) x0.7 every 100 steps; PyTorch StepLR",
             S.ExponentialDecay(initial_lr=0.1, decay_steps=100, decay_rate=0.7, staircase=True)),
    schedule("exponential", "smooth exponential 0.3 ** (k / 100); PyTorch ExponentialLR(gamma=0.3 ** 0.01) per batch",
             _EXP),
    schedule("exponential/python-float-rate", "as 'exponential', Keras built with np.float64 lr0 but a Python "
             "float decay_rate (the common way of writing it)", _EXP, known=[_PYFLOAT], python_floats=True),
    schedule("piecewise-constant", "0.1 / 0.03 / 0.009 with Keras boundaries (300, 700) = PyTorch MultiStepLR "
             "milestones (301, 701)", S.PiecewiseConstant(boundaries=(300, 700), values=(0.1, 0.03, 0.009))),
    schedule("polynomial", "power 2 to 0 over 800 steps, then held; PyTorch PolynomialLR (decays to 0 only)",
             S.PolynomialDecay(initial_lr=0.1, decay_steps=800, end_lr=0.0, power=2.0, cycle=False)),
    schedule("polynomial/cycle", "power 0.5 to 1e-3, cycling every 300 steps (Keras only: PolynomialLR has no "
             "end value or cycle)", S.PolynomialDecay(initial_lr=0.1, decay_steps=300, end_lr=1e-3, power=0.5,
                                                      cycle=True), frameworks=("keras",)),
    schedule("inverse-time", "0.1 / (1 + 0.5 k / 100); PyTorch LambdaLR",
             S.InverseTimeDecay(initial_lr=0.1, decay_steps=100, decay_rate=0.5, staircase=False)),
    schedule("inverse-time/staircase", "0.1 / (1 + 0.5 floor(k / 100)); PyTorch LambdaLR",
             S.InverseTimeDecay(initial_lr=0.1, decay_steps=100, decay_rate=0.5, staircase=True)),
    schedule("cosine/hold", "cosine 0.1 -> 0.01 over 400 steps, held after (Keras CosineDecay)", _COS_HOLD,
             known=[cosine_not_clamped(400)]),
    schedule("cosine/periodic", "cosine 0.1 -> 0.01 over 400 steps, periodic after (PyTorch CosineAnnealingLR)",
             _COS_PERIODIC, known=[cosine_clamped(400)]),
    schedule("cosine/warmup", "linear warm-up 0.001 -> 0.1 over 100 steps, cosine to 0.005 over 1100; PyTorch "
             "SequentialLR(LinearLR, CosineAnnealingLR)",
             S.CosineDecay(initial_lr=0.001, decay_steps=1100, alpha=0.05, warmup_target=0.1, warmup_steps=100)),
    schedule("warmup-cosine/epochs", "epoch function: warm-up 3 epochs to 0.01, cosine to epoch 30, 40 steps per "
             "epoch; Keras LearningRateScheduler, PyTorch LambdaLR stepped per epoch",
             S.WarmupCosineEpochs(max_lr=0.01, warmup_epochs=3, total_epochs=30, steps_per_epoch=40, min_lr=0.0)),
    schedule("sgdr/t_mul=2", "SGDR, first period 100 steps, doubling (restarts 100, 300, 700); PyTorch "
             "CosineAnnealingWarmRestarts(T_0=100, T_mult=2)", _SGDR2, known=[_MISSED]),
    schedule("sgdr/t_mul=1", "SGDR, fixed 150-step periods, alpha 0.05",
             S.CosineDecayRestarts(initial_lr=0.1, first_decay_steps=150, t_mul=1.0, m_mul=1.0, alpha=0.05)),
    schedule("sgdr/m_mul", "SGDR, t_mul=3, peaks x0.8 per restart (Keras only: PyTorch has no m_mul)",
             S.CosineDecayRestarts(initial_lr=0.1, first_decay_steps=100, t_mul=3.0, m_mul=0.8, alpha=0.01),
             frameworks=("keras",)),
    schedule("one-cycle", "OneCycleLR 0.004 -> 0.1 -> 4e-7, cosine, two phases, momentum 0.95 <-> 0.85 "
             "(PyTorch only: Keras has no one-cycle schedule)",
             S.OneCycle(max_lr=0.1, total_steps=STEPS, pct_start=0.3, anneal_strategy="cos", div_factor=25.0,
                        final_div_factor=1e4, three_phase=False, base_momentum=0.85, max_momentum=0.95),
             frameworks=("torch",)),
    schedule("one-cycle/three-phase-linear", "OneCycleLR, linear, three phases (PyTorch only)",
             S.OneCycle(max_lr=0.1, total_steps=STEPS, pct_start=0.25, anneal_strategy="linear", div_factor=10.0,
                        final_div_factor=100.0, three_phase=True, base_momentum=0.8, max_momentum=0.9),
             frameworks=("torch",)),
]
