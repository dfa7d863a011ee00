"""The real Keras callbacks, driven by hand epoch by epoch on a stub model.

What the callbacks need of a model (keras/src/callbacks/*.py): ``ReduceLROnPlateau`` and
``LearningRateScheduler`` read and set ``model.optimizer.learning_rate`` (``StubOptimizer``: a
scalar in the run's dtype, as the optimizer's variable; ``LearningRateScheduler`` runs on a real
SGD in ``reference.keras_schedules.epoch_lrs``); ``EarlyStopping`` sets
``model.stop_training`` and calls ``get_weights`` / ``set_weights``; ``ModelCheckpoint`` calls
``save(filepath, overwrite=True)``. The stub's only weight is an epoch marker, so restored or saved
weights tell which epoch they came from. No model is built and nothing is written to disk.

Logs are passed as Python floats, as ``fit`` passes them (``feed="python"``): Keras's
``_is_improvement`` then compares float32 tensors. ``feed="numpy"`` passes ``np.float64`` values,
which Keras compares in float64.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence

import numpy as np

from reference import frameworks
from scratch import callbacks as C


class StubOptimizer:
    """A Keras optimizer's ``learning_rate`` and nothing else: a scalar of ``dtype``, rounded on assignment.

    Assigning a Python float to a Keras optimizer's ``learning_rate`` variable converts it to the
    variable's dtype (``floatx()`` when the optimizer was built), a correctly rounded conversion
    like ``np.float32(value)``; reading gives that value. A real variable costs ~0.3 ms per read
    and the plateau cases read it 20,000 times; tests check the stub against a real SGD.
    """

    def __init__(self, learning_rate: float, dtype: str):
        self._type = np.dtype(dtype).type
        self.learning_rate = learning_rate

    @property
    def learning_rate(self):
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._lr = self._type(value)


class StubModel:
    """Just enough of a ``keras.Model`` for the callbacks: optimizer, stop flag, weights, save."""

    def __init__(self, optimizer=None):
        self.optimizer = optimizer
        self.stop_training = False
        self.marker = np.array([-1.0])
        self.saves: list[tuple[str, float]] = []

    def get_weights(self) -> list[np.ndarray]:
        return [self.marker.copy()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        self.marker = np.array(weights[0], copy=True)

    def save(self, filepath: str, overwrite: bool = True) -> None:
        self.saves.append((filepath, float(self.marker[0])))


def keras_from_torch(patience: int, cooldown: int, threshold: float, threshold_mode: str) -> dict:
    """Keras settings that reproduce PyTorch's ReduceLROnPlateau counting.

    PyTorch patience p reduces on the (p+1)-th bad epoch: Keras patience p + 1. PyTorch ignores
    c epochs after a reduction, Keras c - 1: Keras cooldown c + 1 (0 stays 0). A relative
    threshold t on the loss is an absolute one on its logarithm: a < b (1 - t) <=> log a <
    log b - (-log(1 - t)), so Keras monitors log(loss) with min_delta = -log1p(-t).
    """
    if threshold_mode == "rel":
        return {"patience": patience + 1, "cooldown": cooldown + 1 if cooldown else 0,
                "min_delta": -math.log1p(-threshold), "log_monitor": True}
    return {"patience": patience + 1, "cooldown": cooldown + 1 if cooldown else 0, "min_delta": threshold,
            "log_monitor": False}


def plateau_settings(cb: C.ReduceLROnPlateau) -> dict:
    """The Keras ``ReduceLROnPlateau`` arguments equal to a scratch callback (either semantics)."""
    if cb.semantics == "keras":
        s = {"patience": cb.patience, "cooldown": cb.cooldown, "min_delta": cb.threshold, "log_monitor": False}
    else:
        s = keras_from_torch(cb.patience, cb.cooldown, cb.threshold, cb.threshold_mode)
    return {**s, "factor": cb.factor, "min_lr": cb.min_lr, "mode": cb.mode}


def _feed(value: float, feed: str):
    return np.float64(value) if feed == "numpy" else float(value)


def plateau_lrs(callbacks: Sequence[C.ReduceLROnPlateau], losses: np.ndarray, lr0: float, dtype: str,
                *, feed: str = "python") -> np.ndarray:
    """(S, E) learning rates after each epoch end; sequence i uses ``callbacks[i]``'s settings."""
    k = frameworks.keras()
    opt = StubOptimizer(lr0, dtype)
    model = StubModel(opt)
    out = np.empty(losses.shape)
    for i, (cb, row) in enumerate(zip(callbacks, losses, strict=True)):
        s = plateau_settings(cb)
        kcb = k.callbacks.ReduceLROnPlateau(monitor="loss", factor=s["factor"], patience=s["patience"], verbose=0,
                                            mode=s["mode"], min_delta=s["min_delta"], cooldown=s["cooldown"],
                                            min_lr=s["min_lr"])
        kcb.set_model(model)
        opt.learning_rate = float(lr0)
        kcb.on_train_begin()
        for epoch, loss in enumerate(row):
            kcb.on_epoch_end(epoch, {"loss": _feed(math.log(loss) if s["log_monitor"] else loss, feed)})
            out[i, epoch] = float(opt.learning_rate)
    return out


def early_stopping_run(callbacks: Sequence[C.EarlyStopping], losses: np.ndarray,
                       *, feed: str = "python") -> dict[str, np.ndarray]:
    """``stop_epoch`` (-1 = never) and ``final_params_epoch`` (the marker after on_train_end) per sequence."""
    k = frameworks.keras()
    stop, final = np.full(len(losses), -1.0), np.empty(len(losses))
    for i, (cb, row) in enumerate(zip(callbacks, losses, strict=True)):
        model = StubModel()
        kcb = k.callbacks.EarlyStopping(monitor="loss", min_delta=cb.min_delta, patience=cb.patience, verbose=0,
                                        mode=cb.mode, baseline=cb.baseline,
                                        restore_best_weights=cb.restore_best_weights,
                                        start_from_epoch=cb.start_from_epoch)
        kcb.set_model(model)
        kcb.on_train_begin()
        for epoch, loss in enumerate(row):
            model.marker = np.array([float(epoch)])
            kcb.on_epoch_end(epoch, {"loss": _feed(loss, feed)})
            if model.stop_training:
                stop[i] = epoch
                break
        kcb.on_train_end()
        final[i] = model.marker[0]
    return {"stop_epoch": stop, "final_params_epoch": final}


_EPOCH_IN_NAME = re.compile(r"ckpt-(\d+)\.")


def checkpoint_run(callbacks: Sequence[C.ModelCheckpoint], losses: np.ndarray,
                   *, feed: str = "python") -> dict[str, np.ndarray]:
    """Which epochs ``ModelCheckpoint`` saves, the ``{epoch}`` of its last file name and that file's marker.

    The Keras file name is the scratch file's base name with ``.keras`` for ``.npz`` (Keras
    requires it; without a directory Keras creates none).
    """
    k = frameworks.keras()
    n_seq, n_epochs = losses.shape
    saved, name_epoch, content = np.zeros((n_seq, n_epochs)), np.full(n_seq, -1.0), np.full(n_seq, -1.0)
    for i, (cb, row) in enumerate(zip(callbacks, losses, strict=True)):
        model = StubModel()
        name = os.path.basename(cb.filepath).removesuffix(".npz") + ".keras"
        kcb = k.callbacks.ModelCheckpoint(name, monitor="loss", verbose=0,
                                          save_best_only=cb.save_best_only, save_weights_only=False, mode=cb.mode,
                                          save_freq="epoch", initial_value_threshold=cb.initial_value_threshold)
        kcb.set_model(model)
        kcb.on_train_begin()
        for epoch, loss in enumerate(row):
            model.marker = np.array([float(epoch)])
            before = len(model.saves)
            kcb.on_epoch_begin(epoch)
            kcb.on_epoch_end(epoch, {"loss": _feed(loss, feed)})
            saved[i, epoch] = len(model.saves) > before
        if model.saves:
            path, marker = model.saves[-1]
            name_epoch[i], content[i] = int(_EPOCH_IN_NAME.search(path).group(1)), marker  # type: ignore[union-attr]
    return {"saved_epochs": saved, "checkpoint_name_epoch": name_epoch, "checkpoint_content": content}
