"""Cases of the table for callbacks (kind "callback").

Each case drives the scratch callbacks and the real framework ones through the same random loss
sequences (one setting of a grid per sequence, cycling) and compares the decisions as arrays over
all sequences: ``lr_per_epoch`` (S, E) = the lr after each epoch end, ``stop_epoch`` (-1 = never),
``final_params_epoch`` (whose weights the model holds after training), ``saved_epochs`` (S, E) 0/1,
``checkpoint_name_epoch`` (the 1-based ``{epoch}`` of the last file) and ``checkpoint_content``.
Keras callbacks run on a stub model (``reference.keras_callbacks``) and get Python-float logs, as
``fit`` gives them. float32 runs round the losses to float32 and keep Keras's lr in a float32
variable. EarlyStopping and ModelCheckpoint exist only in Keras; LearningRateScheduler's
PyTorch counterpart is MultiplicativeLR.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np

from comparisons.table.links import KERAS_SRC, TORCH_DOCS
from comparisons.table.spec import Case, Context, Known, Tolerance
from reference.keras_callbacks import keras_from_torch
from reference.torch_callbacks import torch_from_keras
from scratch import callbacks as C

LR0 = 0.1
SEQUENCES = 300
EPOCHS = 20

TOLERANCE = {
    "float64": Tolerance(1e-12, "float64: decisions are integers and every side computes lr0 * factor**k in the "
                                "same order, so the sequences are equal; 1e-12 is the table's schedule tolerance"),
    "float32": Tolerance(4e-6, "float32: Keras keeps the lr in a float32 variable and rounds it after each of up "
                               "to ~20 changes (<= 6e-8 each); decisions themselves are exact"),
}

#: The Keras <-> PyTorch ReduceLROnPlateau mapping, as data: verified (not assumed) by the cases
#: ``reduce-lr-on-plateau/keras`` (Keras -> PyTorch) and ``.../torch-abs``, ``.../torch-rel`` (PyTorch -> Keras).
PLATEAU_MAPPING = {
    "keras": "ReduceLROnPlateau(patience=p, cooldown=c, min_delta=d)",
    "torch": "ReduceLROnPlateau(patience=max(p-1, 0), cooldown=max(c-1, 0), threshold=d, threshold_mode='abs', "
             "eps=0)",
    "to_torch": torch_from_keras,
    "to_keras": keras_from_torch,
    "limits": "p = 0 needs the max (Keras patience 0 acts as 1; PyTorch patience -1 would also reduce on improving "
              "epochs); Keras cooldown 0 and 1 are the same; PyTorch threshold_mode='rel' maps to Keras monitoring "
              "log(loss) with min_delta = -log(1 - threshold); eps only matters for lr changes below it; Keras "
              "compares Python-float logs in float32",
    "verified_by": ("callback/reduce-lr-on-plateau/keras", "callback/reduce-lr-on-plateau/torch-abs",
                    "callback/reduce-lr-on-plateau/torch-rel"),
}
MAPPING_TEXT = f"Keras {PLATEAU_MAPPING['keras']} == PyTorch {PLATEAU_MAPPING['torch']}"


# -- loss sequences ------------------------------------------------------------------------------
def curves(n_seq: int = SEQUENCES, n_epochs: int = EPOCHS, scales=(1.0,)):
    """Noisy decaying curves: scale * (floor + (1 - floor) exp(-e / tau)) * exp(sigma * noise).

    tau, floor and sigma are drawn per sequence (sigma log-uniform in [1e-3, 5e-2]), so some
    sequences improve steadily, some plateau early and some are dominated by noise.
    """
    def make(rng: np.random.Generator, dtype: str) -> dict:
        e = np.arange(n_epochs)
        tau = rng.uniform(1, 8, (n_seq, 1))
        floor = rng.uniform(0.2, 0.8, (n_seq, 1))
        sigma = np.exp(rng.uniform(np.log(1e-3), np.log(5e-2), (n_seq, 1)))
        scale = np.resize(np.asarray(scales, dtype=np.float64), n_seq)[:, None]
        noise = np.exp(sigma * rng.standard_normal((n_seq, n_epochs)))
        losses = scale * (floor + (1 - floor) * np.exp(-e / tau)) * noise
        return {"losses": losses.astype(dtype).astype(np.float64)}
    return make


def small_steps(n_seq: int, scale: float, step_range: tuple[float, float], n_epochs: int = EPOCHS):
    """Slowly falling sequences with occasional rises: relative steps in ``step_range``, at ``scale``."""
    def make(rng: np.random.Generator, dtype: str) -> dict:
        steps = rng.uniform(*step_range, (n_seq, n_epochs)) * rng.choice([-1.0, 1.0], (n_seq, n_epochs),
                                                                       p=[0.8, 0.2])
        losses = scale * np.exp(-np.cumsum(steps, axis=1))
        return {"losses": losses.astype(dtype).astype(np.float64)}
    return make


# -- the LearningRateScheduler case's schedule -----------------------------------------------
def _keep_until_10(epoch: int, lr: float) -> float:
    """The Keras documentation's schedule, with math.exp (its ops.exp version returns a tensor and raises)."""
    return lr if epoch < 10 else lr * math.exp(-0.1)


def _factor_after_10(epoch: int) -> float:
    """The same schedule as PyTorch MultiplicativeLR's factor: 1 before epoch 10, exp(-0.1) after."""
    return 1.0 if epoch < 10 else math.exp(-0.1)


# -- known differences ---------------------------------------------------------------------------
def _torch_exact(f: np.ndarray, ctx: Context) -> np.ndarray:
    from reference import torch_callbacks

    return torch_callbacks.plateau_lrs(ctx.inputs["callbacks"], ctx.inputs["losses"], ctx.inputs["lr0"],
                                       port="exact")


def _keras_float64_logs(f: np.ndarray, ctx: Context) -> np.ndarray:
    from reference import keras_callbacks

    return keras_callbacks.plateau_lrs(ctx.inputs["callbacks"], ctx.inputs["losses"], ctx.inputs["lr0"], ctx.dtype,
                                         feed="numpy")


RELATIVE_THRESHOLD = Known(
    framework="torch", quantities=("lr_per_epoch",),
    what="PyTorch's default threshold_mode='rel' scales the improvement threshold with the best loss: at loss "
         "0.01, threshold 1e-4 means 1e-6, so PyTorch counts improvements that Keras's absolute min_delta=1e-4 "
         "ignores and reduces later or never.",
    why="torch ReduceLROnPlateau: rel tests a < best * (1 - threshold); Keras tests current + min_delta < best.",
    link=f"{TORCH_DOCS}/torch.optim.lr_scheduler.ReduceLROnPlateau.html",
    holds=f"with threshold_mode='abs' the decisions are equal: {MAPPING_TEXT} (the relation re-runs PyTorch "
          "with threshold_mode='abs')",
    relation=_torch_exact,
)

FLOAT32_COMPARISON = Known(
    framework="keras", quantities=("lr_per_epoch",),
    what="Keras compares the monitored value in float32 when the logs hold Python floats (as fit passes them): "
         "an improvement below float32 resolution (~6e-8 relative) does not count, so Keras reduces the lr "
         "where scratch and PyTorch (float64) see improvements.",
    why="MonitorCallback._is_improvement calls ops.less(current + min_delta, best); ops.less converts Python "
        "floats with convert_to_tensor, which gives float32 tensors whatever floatx is.",
    link=f"{KERAS_SRC}/callbacks/monitor_callback.py",
    holds="fed np.float64 logs, Keras compares in float64 and decides like scratch (the relation re-runs Keras "
          "with np.float64 logs)",
    relation=_keras_float64_logs,
)
FLOAT32_COMPARISON = replace(FLOAT32_COMPARISON, dtypes=("float64",))  # float32 runs round the losses themselves


# -- cases ---------------------------------------------------------------------------------------
def _grid(**axes) -> list[dict]:
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*axes.values())]


def _keras_plateau(*, patience, cooldown, min_delta, factor_min_lr):
    factor, min_lr = factor_min_lr
    return C.ReduceLROnPlateau.keras(monitor="loss", mode="min", factor=factor, patience=patience,
                                     min_delta=min_delta, cooldown=cooldown, min_lr=min_lr)


def _torch_plateau(*, patience, cooldown, threshold, threshold_mode, factor_min_lr):
    factor, min_lr = factor_min_lr
    return C.ReduceLROnPlateau.torch(monitor="loss", mode="min", factor=factor, patience=patience,
                                     threshold=threshold, threshold_mode=threshold_mode, cooldown=cooldown,
                                     min_lr=min_lr, eps=1e-8)


FACTORS = [(0.5, 0.0), (0.2, 1e-3)]


def callback(id, covers, summary, check, inputs, *, frameworks=("keras", "torch"), known=(), **params) -> Case:
    """A callback case; ``check`` names the procedure (``plateau``, ``early-stopping``, ``checkpoint``,
    ``lr-scheduler``), ``params`` hold everything it needs (initial lr, epochs, the grid of settings
    and the factory that builds one scratch callback from a setting)."""
    return Case(id=f"callback/{id}", kind="callback", covers=covers, summary=summary, check=check,
                make=lambda dtype: None, inputs=inputs, tolerance=TOLERANCE, known=tuple(known),
                frameworks=tuple(frameworks), params={"lr0": LR0, "epochs": EPOCHS, **params})


CALLBACKS: list[Case] = [
    callback("reduce-lr-on-plateau/keras", ("ReduceLROnPlateau", "Callback", "CallbackList", "Decision", "TrainState"),
             "Keras semantics (absolute min_delta, wait >= patience) on 300 sequences x patience 0-3 x cooldown 0-3 "
             f"x min_delta 0/1e-3/1e-2 x factor; PyTorch configured by the mapping: {MAPPING_TEXT}",
             "plateau", curves(), factory=_keras_plateau,
             grid=_grid(patience=[0, 1, 2, 3], cooldown=[0, 1, 2, 3], min_delta=[0.0, 1e-3, 1e-2],
                        factor_min_lr=FACTORS)),
    callback("reduce-lr-on-plateau/torch-abs", ("ReduceLROnPlateau",),
             "PyTorch semantics, threshold_mode='abs' (bad epochs > patience), patience 0-3, cooldown 0-3; Keras "
             "configured with patience + 1, cooldown + 1 (0 stays 0), min_delta = threshold",
             "plateau", curves(), factory=_torch_plateau,
             grid=_grid(patience=[0, 1, 2, 3], cooldown=[0, 1, 2, 3], threshold=[0.0, 1e-3, 1e-2],
                        threshold_mode=["abs"], factor_min_lr=FACTORS)),
    callback("reduce-lr-on-plateau/torch-rel", ("ReduceLROnPlateau",),
             "PyTorch semantics, threshold_mode='rel' (PyTorch's default), losses at scales 0.01 / 1 / 100; Keras "
             "has no relative threshold: it monitors log(loss) with min_delta = -log(1 - threshold)",
             "plateau", curves(scales=(0.01, 1.0, 100.0)), factory=_torch_plateau,
             grid=_grid(patience=[0, 1, 2, 3], cooldown=[0, 1, 2, 3], threshold=[1e-4, 1e-2],
                        threshold_mode=["rel"], factor_min_lr=FACTORS)),
    callback("reduce-lr-on-plateau/scale-effect", ("ReduceLROnPlateau",),
             "Keras semantics, min_delta=1e-4, on losses near 0.01 falling by 1e-4 to 2e-3 relative per epoch; "
             "PyTorch ported with threshold=1e-4 but its default threshold_mode='rel'",
             "plateau", small_steps(100, 0.01, (1e-4, 2e-3)), factory=_keras_plateau, torch_port="naive",
             known=[RELATIVE_THRESHOLD],
             grid=_grid(patience=[1, 2, 3], cooldown=[0, 2], min_delta=[1e-4], factor_min_lr=FACTORS)),
    callback("reduce-lr-on-plateau/sub-float32-improvements", ("ReduceLROnPlateau",),
             "Keras semantics, min_delta=0, losses 1 +- a few 1e-9 (improvements below float32 resolution)",
             "plateau", small_steps(100, 1.0, (1e-9, 5e-9)), factory=_keras_plateau, known=[FLOAT32_COMPARISON],
             grid=_grid(patience=[1, 2, 3], cooldown=[0, 2], min_delta=[0.0], factor_min_lr=FACTORS)),
    callback("early-stopping", ("EarlyStopping",),
             "300 sequences x patience 0/1/2/4 x min_delta 0/5e-3 x baseline none/0.45 x restore_best_weights x "
             "start_from_epoch 0/3 (Keras only: PyTorch has no early stopping)",
             "early-stopping", curves(), frameworks=("keras",),
             factory=lambda **kw: C.EarlyStopping(monitor="loss", mode="min", **kw),
             grid=_grid(patience=[0, 1, 2, 4], min_delta=[0.0, 5e-3], baseline=[None, 0.45],
                        restore_best_weights=[False, True], start_from_epoch=[0, 3])),
    callback("model-checkpoint", ("ModelCheckpoint",),
             "150 sequences x save_best_only with initial_value_threshold none/0.9/0.6/0.45, or every epoch; "
             "files 'run<i>-ckpt-{epoch:03d}.npz' (Keras only: PyTorch has no checkpoint callback)",
             "checkpoint", curves(n_seq=150), frameworks=("keras",),
             factory=lambda **kw: C.ModelCheckpoint(monitor="loss", mode="min", **kw),
             grid=[{"save_best_only": True, "initial_value_threshold": None},
                   {"save_best_only": True, "initial_value_threshold": 0.9},
                   {"save_best_only": True, "initial_value_threshold": 0.6},
                   {"save_best_only": True, "initial_value_threshold": 0.45},
                   {"save_best_only": False, "initial_value_threshold": None}]),
    callback("lr-scheduler/multiplicative", ("LearningRateScheduler",),
             "schedule(epoch, lr) = lr before epoch 10, lr * exp(-0.1) after (the Keras documentation's example), "
             "20 epochs; PyTorch MultiplicativeLR stepped per epoch",
             "lr-scheduler", lambda rng, dtype: {}, schedule=_keep_until_10,
             torch_factor=_factor_after_10),
]
