"""Scratch optimizers: a pure update function per family, wrapped by a class with ``step(params, grads, lr)``."""

from scratch.optimizers.adagrad import Adagrad, adagrad_update
from scratch.optimizers.adam import Adam, AdamW, adam_update
from scratch.optimizers.base import Optimizer, coupled_decay, decoupled_decay, l2_penalty
from scratch.optimizers.rmsprop import RMSprop, rmsprop_update
from scratch.optimizers.sgd import SGD, sgd_update

__all__ = [
    "SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "adagrad_update", "adam_update", "coupled_decay",
    "decoupled_decay", "l2_penalty", "rmsprop_update", "sgd_update",
]
