"""Training callbacks with Keras (and, for ReduceLROnPlateau, PyTorch) semantics. NumPy only.

Protocol (the training loop calls, in order)::

    on_train_begin(state)
    for epoch in 0, 1, ...:                      # 0-based, like Keras's callbacks
        on_epoch_begin(epoch, state) -> Decision | None
        ... train the epoch with state.lr ...
        on_epoch_end(epoch, logs, state) -> Decision | None   # logs: {"loss": ..., "val_loss": ...}
        if state.stop: break
    on_train_end(state)

``state`` is a ``TrainState``: the current learning rate ``lr``, the model's ``params`` (a dict of
arrays the callbacks may snapshot and restore) and the ``stop`` flag. A callback never changes
``lr`` or ``stop`` itself: it returns a ``Decision`` (new lr, stop) and ``CallbackList`` applies
each decision before calling the next callback, so later callbacks see it, as Keras callbacks see
an optimizer lr changed by an earlier one. Only ``EarlyStopping.on_train_end`` writes into
``state.params`` (restoring the best weights in place). Each callback keeps its own counters in
an explicit state dataclass (``self.s``), reset by ``on_train_begin``.
"""


from scratch.callbacks.base import Callback, CallbackList, Decision, TrainState, apply  # noqa: F401
from scratch.callbacks.plateau import PlateauState, ReduceLROnPlateau  # noqa: F401
from scratch.callbacks.stopping import (  # noqa: F401
    EarlyStopping,
    EarlyStoppingState,
    LearningRateScheduler,
    ModelCheckpoint,
)

__all__ = ["Callback", "CallbackList", "Decision", "EarlyStopping", "LearningRateScheduler", "ModelCheckpoint",
           "ReduceLROnPlateau", "TrainState"]
