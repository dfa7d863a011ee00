"""Callbacks: the protocol, hand-worked examples of each callback, the Keras <-> PyTorch plateau
mapping and its limits, Keras findings, atomic checkpoints, bad input.

Parity with the real callbacks on hundreds of random loss sequences runs through the case table.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from scratch import callbacks as C


def drive(cb: C.Callback, losses, *, lr: float = 0.1, params=None) -> tuple[list[float], C.TrainState]:
    """Run ``cb`` through the protocol; the params hold the epoch they come from. Returns lrs after each epoch."""
    state = C.TrainState(lr=lr, params=params if params is not None else {"marker": np.array([-1.0])})
    cbs = C.CallbackList([cb])
    cbs.on_train_begin(state)
    lrs = []
    for epoch, loss in enumerate(losses):
        cbs.on_epoch_begin(epoch, state)
        np.copyto(state.params["marker"], float(epoch))
        cbs.on_epoch_end(epoch, {"loss": float(loss)}, state)
        lrs.append(state.lr)
        if state.stop:
            break
    cbs.on_train_end(state)
    return lrs, state


def keras_plateau(**kw) -> C.ReduceLROnPlateau:
    base = {"monitor": "loss", "factor": 0.5, "patience": 2, "min_delta": 0.0, "cooldown": 0, "min_lr": 0.0}
    return C.ReduceLROnPlateau.keras(**{**base, **kw})


def random_losses(n=200, epochs=25, seed=0):
    rng = np.random.default_rng(seed)
    return np.exp(np.cumsum(rng.normal(-0.01, 0.03, (n, epochs)), axis=1))


# -- protocol -------------------------------------------------------------------------------------


def test_callback_list_applies_each_decision_before_the_next_callback():
    seen = []

    class Halve(C.Callback):
        def on_epoch_end(self, epoch, logs, state):
            return C.Decision(lr=state.lr / 2)

    class Record(C.Callback):
        def on_epoch_end(self, epoch, logs, state):
            seen.append(state.lr)
            return C.Decision(stop=epoch == 1)

    state = C.TrainState(lr=0.4)
    cbs = C.CallbackList([Halve(), Record()])
    cbs.on_epoch_end(0, {}, state)
    assert seen == [0.2] and not state.stop
    cbs.on_epoch_end(1, {}, state)
    assert seen == [0.2, 0.1] and state.stop and state.lr == 0.1


# -- ReduceLROnPlateau ----------------------------------------------------------------------------


def test_keras_plateau_by_hand():
    """Flat losses, patience 2: wait 1, 2 -> reduce at epoch 2; cooldown 3 ignores epochs 3-4, reduce at 6."""
    lrs, _ = drive(keras_plateau(patience=2, cooldown=0), [1.0] * 7)
    assert lrs == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125]
    lrs, _ = drive(keras_plateau(patience=2, cooldown=3), [1.0] * 8)
    assert lrs == [0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025]


def test_torch_plateau_by_hand():
    """Flat losses, PyTorch patience 1: bad epochs 1, 2 > 1 -> reduce at epoch 2; cooldown 2 ignores epochs 3-4."""
    cb = C.ReduceLROnPlateau.torch(monitor="loss", factor=0.5, patience=1, threshold=0.0, threshold_mode="abs",
                                   cooldown=2, min_lr=0.0, eps=1e-8)
    lrs, _ = drive(cb, [1.0] * 8)
    assert lrs == [0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025]


def test_keras_patience_0_acts_as_1_and_cooldown_1_as_0():
    for row in random_losses(n=100):
        assert drive(keras_plateau(patience=0), row)[0] == drive(keras_plateau(patience=1), row)[0]
        assert drive(keras_plateau(cooldown=1), row)[0] == drive(keras_plateau(cooldown=0), row)[0]
    assert any(drive(keras_plateau(cooldown=2), r)[0] != drive(keras_plateau(cooldown=0), r)[0]
               for r in random_losses(n=100))


def test_mapping_needs_the_shifts_and_the_max_for_patience_0():
    """Unshifted settings differ from Keras; PyTorch patience -1 (p - 1 for p = 0) reduces on improving epochs."""
    from reference.torch_callbacks import plateau_lrs

    losses = random_losses(n=100)
    cbs = [keras_plateau(patience=2, cooldown=2) for _ in losses]
    ours = np.array([drive(cb, row)[0] for cb, row in zip(cbs, losses, strict=True)])
    assert np.array_equal(ours, plateau_lrs(cbs, losses, 0.1))  # mapped: (1, 1, abs)
    unshifted = [C.ReduceLROnPlateau.torch(monitor="loss", factor=0.5, patience=2, threshold=0.0, threshold_mode="abs",
                                           cooldown=2, min_lr=0.0, eps=0.0) for _ in losses]
    assert not np.array_equal(ours, plateau_lrs(unshifted, losses, 0.1))

    from reference import frameworks

    torch = frameworks.torch()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=-1, threshold=0.0,
                                                       threshold_mode="abs", cooldown=0, min_lr=0.0, eps=0.0)
    for loss in (1.0, 0.9, 0.8):  # always improving
        sched.step(loss)
    assert opt.param_groups[0]["lr"] == 0.1 * 0.5**3
    assert drive(keras_plateau(patience=0), [1.0, 0.9, 0.8])[0] == [0.1, 0.1, 0.1]


def test_scale_effect_of_the_relative_threshold():
    """Loss near 0.01 falling 1e-5 per epoch: Keras (min_delta=1e-4) reduces, PyTorch 'rel' 1e-4 never does."""
    losses = [0.01 - 1e-5 * e for e in range(8)]
    keras_lrs, _ = drive(keras_plateau(patience=1, min_delta=1e-4), losses)
    torch_rel = C.ReduceLROnPlateau.torch(monitor="loss", factor=0.5, patience=0, threshold=1e-4,
                                          threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8)
    torch_lrs, _ = drive(torch_rel, losses)
    assert keras_lrs[-1] == 0.1 * 0.5**7 and torch_lrs == [0.1] * 8


def test_keras_compares_python_float_logs_in_float32():
    """The finding recorded in callback/reduce-lr-on-plateau/sub-float32-improvements."""
    from reference.keras_callbacks import plateau_lrs

    losses = np.array([[1.0 - 1e-9 * e for e in range(6)]])  # improves every epoch, below float32 resolution
    cb = [keras_plateau(patience=1)]
    assert plateau_lrs(cb, losses, 0.1, "float64", feed="python")[0, -1] == 0.1 * 0.5**5
    assert plateau_lrs(cb, losses, 0.1, "float64", feed="numpy")[0, -1] == 0.1
    assert drive(cb[0], losses[0])[0][-1] == 0.1


def test_stub_optimizer_rounds_like_a_keras_learning_rate_variable():
    from reference.keras_callbacks import StubOptimizer
    from reference.keras_schedules import sgd_with_lr_variable

    for dtype in ("float32", "float64"):
        real, stub = sgd_with_lr_variable(0.1, dtype), StubOptimizer(0.1, dtype)
        for value in (0.1 * 0.3, 1 / 3, 2e-7, 0.05):
            real.learning_rate, stub.learning_rate = value, value
            assert float(real.learning_rate) == float(stub.learning_rate)


# -- EarlyStopping --------------------------------------------------------------------------------

LOSSES = [1.0, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05]


@pytest.mark.parametrize(("kw", "stop_epoch", "final"), [
    ({"patience": 0}, 2, 2),
    ({"patience": 2}, 3, 3),
    ({"patience": 2, "restore_best_weights": True}, 3, 1),
    ({"patience": 2, "baseline": 0.5}, 2, 2),
    ({"patience": 2, "min_delta": 0.3}, 2, 2),
    ({"patience": 2, "start_from_epoch": 2}, 4, 4),
    ({"patience": 10, "restore_best_weights": True}, None, 1),  # restored although training did not stop early
])
def test_early_stopping_by_hand(kw, stop_epoch, final):
    lrs, state = drive(C.EarlyStopping(monitor="loss", mode="min", **kw), LOSSES)
    assert (len(lrs) - 1 if state.stop else None) == stop_epoch
    assert state.params["marker"][0] == final


def test_early_stopping_restores_in_place():
    marker = np.array([-1.0])
    _, state = drive(C.EarlyStopping(monitor="loss", mode="min", patience=1, restore_best_weights=True), LOSSES,
                     params={"marker": marker})
    assert state.params["marker"] is marker and marker[0] == 1


# -- ModelCheckpoint ------------------------------------------------------------------------------


def test_checkpoint_saves_best_with_1_based_epoch(tmp_path):
    cb = C.ModelCheckpoint(str(tmp_path / "ckpt-{epoch:02d}-{loss:.2f}.npz"), monitor="loss", mode="min",
                           save_best_only=True, initial_value_threshold=None)
    drive(cb, [1.0, 0.8, 0.9, 0.7, 0.75])
    assert [e for e, _ in cb.saved] == [0, 1, 3]
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01-1.00.npz", "ckpt-02-0.80.npz", "ckpt-04-0.70.npz"]
    with np.load(tmp_path / "ckpt-04-0.70.npz") as f:
        assert f["marker"][0] == 3


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "best.npz"
    cb = C.ModelCheckpoint(str(path), monitor="loss", mode="min", save_best_only=False)
    drive(cb, [1.0])
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        drive(cb, [0.5])
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["best.npz"]


# -- LearningRateScheduler ------------------------------------------------------------------------


def test_lr_scheduler_sets_the_lr_at_epoch_start():
    lrs, _ = drive(C.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)), [1.0] * 3)
    assert lrs == [0.1, 0.05, 0.1 / 3]
    lrs, _ = drive(C.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr), [1.0] * 3)
    assert lrs == [0.1, 0.05, 0.025]


def test_keras_documentation_schedule_raises_in_keras():
    """Keras's docstring example returns lr * ops.exp(-0.1), a tensor: Keras rejects it at epoch 10."""
    from reference import frameworks
    from reference.keras_schedules import epoch_lrs

    ops = frameworks.keras().ops
    with pytest.raises(ValueError, match="should be a float"):
        epoch_lrs(lambda epoch, lr: lr if epoch < 10 else lr * ops.exp(-0.1), 11, 0.1, "float32")
    assert len(epoch_lrs(lambda epoch, lr: lr if epoch < 10 else lr * math.exp(-0.1), 11, 0.1, "float32")) == 11


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "name"), [
    (lambda: keras_plateau(factor=1.0), "factor"),
    (lambda: keras_plateau(factor=0.0), "factor"),
    (lambda: keras_plateau(factor=1.5), "factor"),
    (lambda: keras_plateau(patience=-1), "patience"),
    (lambda: keras_plateau(cooldown=-2), "cooldown"),
    (lambda: keras_plateau(min_lr=-1e-3), "min_lr"),
    (lambda: keras_plateau(mode="auto"), "mode"),
    (lambda: C.ReduceLROnPlateau(monitor="loss", mode="min", factor=0.5, patience=1, cooldown=0, min_lr=0.0,
                                 threshold=1e-4, threshold_mode="rel", semantics="keras", eps=0.0), "threshold_mode"),
    (lambda: C.ReduceLROnPlateau.torch(threshold_mode="relative"), "threshold_mode"),
    (lambda: C.ReduceLROnPlateau(monitor="loss", mode="min", factor=0.5, patience=1, cooldown=0, min_lr=0.0,
                                 threshold=0.0, threshold_mode="abs", semantics="tf", eps=0.0), "semantics"),
    (lambda: C.EarlyStopping(patience=-1), "patience"),
    (lambda: C.EarlyStopping(start_from_epoch=-1), "start_from_epoch"),
    (lambda: C.ModelCheckpoint("best.keras"), "filepath"),
    (lambda: C.LearningRateScheduler(0.1), "schedule"),
    (lambda: C.TrainState(lr=-0.1), "lr"),
    (lambda: drive(C.LearningRateScheduler(lambda epoch: -1.0), [1.0]), "schedule"),
    (lambda: drive(C.EarlyStopping(monitor="val_loss"), [1.0]), "logs"),
])
def test_bad_input_names_the_argument(make, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        make()


def test_plateau_mapping_data_matches_its_text_and_cases():
    from comparisons.table import BY_ID
    from comparisons.table.callbacks import PLATEAU_MAPPING as M

    assert M["to_torch"](0, 0, 0.01) == {"patience": 0, "cooldown": 0, "threshold": 0.01, "threshold_mode": "abs"}
    assert M["to_torch"](3, 2, 0.01) == {"patience": 2, "cooldown": 1, "threshold": 0.01, "threshold_mode": "abs"}
    back = M["to_keras"](2, 1, 0.01, "abs")
    assert (back["patience"], back["cooldown"], back["min_delta"]) == (3, 2, 0.01)
    assert M["to_keras"](0, 0, 1e-4, "rel")["min_delta"] == pytest.approx(-math.log(1 - 1e-4), rel=1e-15)
    assert all(case_id in BY_ID for case_id in M["verified_by"])


def test_max_mode_matches_the_frameworks_on_accuracy_like_values():
    """The table runs min mode; max mode on rising values (1 - loss) against the real callbacks here."""
    from comparisons.harness.callbacks import scratch_early_stopping, scratch_plateau_lrs
    from reference import keras_callbacks, torch_callbacks

    values = 1.0 - random_losses(n=40, epochs=20, seed=3) / 2
    settings = zip([0, 1, 2, 3] * 10, [0, 2] * 20, [0.0, 1e-3, 1e-2, 0.0] * 10, strict=True)
    kcbs = [C.ReduceLROnPlateau.keras(monitor="loss", mode="max", factor=0.5, patience=p, min_delta=d,
                                      cooldown=c, min_lr=0.0) for p, c, d in settings]
    ours = scratch_plateau_lrs(kcbs, values, 0.1)
    assert len(np.unique(ours[:, -1])) > 2  # reductions happened, at different times
    assert np.array_equal(ours, keras_callbacks.plateau_lrs(kcbs, values, 0.1, "float64"))
    assert np.array_equal(ours, torch_callbacks.plateau_lrs(kcbs, values, 0.1))
    ecbs = [C.EarlyStopping(monitor="loss", mode="max", patience=p, min_delta=1e-3, restore_best_weights=True)
            for p in [0, 1, 3, 5] * 10]
    ours_es, keras_es = scratch_early_stopping(ecbs, values), keras_callbacks.early_stopping_run(ecbs, values)
    assert all(np.array_equal(ours_es[k], keras_es[k]) for k in ours_es)
    assert (ours_es["stop_epoch"] >= 0).any() and (ours_es["stop_epoch"] < 0).any()


def test_case_inputs_exercise_the_logic():
    """The table's random sequences must make the callbacks act, or their agreement proves little."""
    from comparisons.harness.callbacks import _callbacks, scratch_early_stopping, scratch_plateau_lrs
    from comparisons.table import BY_ID

    case = BY_ID["callback/reduce-lr-on-plateau/keras"]
    LR0 = case.params["lr0"]  # noqa: N806
    losses = case.inputs(np.random.default_rng(case.seed), "float64")["losses"]
    assert losses.shape[0] >= 300
    lrs = scratch_plateau_lrs(_callbacks(case, len(losses)), losses, LR0)
    reductions = (np.diff(np.hstack([np.full((len(lrs), 1), LR0), lrs]), axis=1) < 0).sum(axis=1)
    assert (reductions > 0).mean() > 0.6 and (reductions >= 3).sum() > 50
    case = BY_ID["callback/early-stopping"]
    losses = case.inputs(np.random.default_rng(case.seed), "float64")["losses"]
    out = scratch_early_stopping(_callbacks(case, len(losses)), losses)
    stopped = out["stop_epoch"] >= 0
    assert 0.5 < stopped.mean() < 0.9 and (out["final_params_epoch"][stopped] < out["stop_epoch"][stopped]).any()
