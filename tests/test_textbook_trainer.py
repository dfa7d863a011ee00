"""The book's Trainer (scratch.textbook.trainer) on a tiny synthetic dataset."""

# The book draws its batches from NumPy's global generator (np.random.choice); the tests do too.
# ruff: noqa: NPY002
from __future__ import annotations

import numpy as np
import pytest

from scratch.textbook.multi_layer_net import MultiLayerNet
from scratch.textbook.optimizer import RMSprop
from scratch.textbook.trainer import Trainer


def _blobs(n, seed):
    """Three Gaussian blobs in 2-D: an easy 3-class problem."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, n)
    centres = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    return centres[t] + 0.5 * rng.standard_normal((n, 2)), t


def _trainer(optimizer="Adam", optimizer_param=None, epochs=4, batch=20, **kw):
    x, t = _blobs(100, 0)
    xt, tt = _blobs(40, 1)
    np.random.seed(0)
    net = MultiLayerNet(2, [8], 3)
    return Trainer(net, x, t, xt, tt, epochs=epochs, mini_batch_size=batch, optimizer=optimizer,
                   optimizer_param=optimizer_param or {"lr": 0.05}, verbose=False, **kw)


def test_trainer_learns_and_keeps_the_book_lists():
    tr = _trainer()
    tr.train()
    # 100 samples / 20 per batch = 5 steps per epoch, 4 epochs
    assert tr.max_iter == 20 and len(tr.train_loss_list) == 20
    assert len(tr.train_acc_list) == len(tr.test_acc_list) == 4   # evaluated at steps 0, 5, 10, 15
    assert tr.train_loss_list[-1] < 0.5 * tr.train_loss_list[0]
    assert tr.test_acc_list[-1] > 0.9


def test_batches_are_np_random_choice_with_replacement():
    tr = _trainer(epochs=1)
    seen = []
    tr.network.gradient = lambda x, t, g=tr.network.gradient: seen.append(x.copy()) or g(x, t)
    np.random.seed(7)
    tr.train_step()
    np.random.seed(7)
    np.testing.assert_array_equal(seen[0], tr.x_train[np.random.choice(100, 20)])


def test_same_seed_same_run_and_evaluation_sample():
    runs = []
    for _ in range(2):
        tr = _trainer(optimizer="nesterov", optimizer_param={"lr": 0.05, "momentum": 0.9},
                      evaluate_sample_num_per_epoch=10)
        np.random.seed(3)
        tr.train()
        runs.append((tr.train_loss_list, tr.train_acc_list, tr.test_acc_list))
    assert runs[0] == runs[1]
    assert all(round(a * 10) == a * 10 for a in runs[0][1])   # accuracies over 10 samples


def test_optimizer_names_any_case():
    assert isinstance(_trainer("RMSprop", {"lr": 0.01, "decay_rate": 0.9}).optimizer, RMSprop)
    for name in ("SGD", "momentum", "Nesterov", "AdaGrad", "rmsprop", "ADAM"):
        _trainer(name, {"lr": 0.01})
    with pytest.raises(ValueError, match="optimizer: expected one of sgd, momentum, nesterov, adagrad, rmsprop, "
                                         "adam \\(any case\\), got 'adadelta'"):
        _trainer("adadelta")


def test_bad_data_and_sizes():
    x, t = _blobs(10, 0)
    np.random.seed(0)
    net = MultiLayerNet(2, [4], 3)
    with pytest.raises(ValueError, match=r"t_train: expected one label \(or one-hot row\) per sample of x_train"):
        Trainer(net, x, t[:5], x, t, verbose=False)
    with pytest.raises(ValueError, match="mini_batch_size: expected a positive integer, got 0"):
        Trainer(net, x, t, x, t, mini_batch_size=0, verbose=False)
