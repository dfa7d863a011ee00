"""Scratch optimizers: a pure update function per family, wrapped by a class with ``step(params, grads, lr)``."""

from scratch.optimizers.adagrad import Adagrad, adagrad_update
from scratch.optimizers.adam import Adam, AdamW, adam_update
from scratch.optimizers.adamax import Adamax, adamax_update
from scratch.optimizers.base import Optimizer, coupled_decay, decoupled_decay, l2_penalty
from scratch.optimizers.clipping import ClipGradients, clip_by_global_norm, clip_by_norm, clip_by_value
from scratch.optimizers.nadam import Nadam, nadam_update
from scratch.optimizers.rmsprop import RMSprop, rmsprop_update
from scratch.optimizers.sgd import SGD, sgd_update

__all__ = [
    "SGD", "Adagrad", "Adam", "AdamW", "Adamax", "ClipGradients", "Nadam", "Optimizer", "RMSprop", "adagrad_update",
    "adam_update", "adamax_update", "clip_by_global_norm", "clip_by_norm", "clip_by_value", "coupled_decay",
    "decoupled_decay", "l2_penalty", "nadam_update", "rmsprop_update", "sgd_update",
]
