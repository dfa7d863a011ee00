"""The book's training loop (``common/trainer.py``): mini-batches drawn with replacement, per-epoch accuracy."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from scratch.textbook import optimizer as book_optimizers

#: the book's optimizer names (lower case) -> class. The book's own table spells RMSprop's key
#: "rmsprpo", so ``optimizer='RMSprop'`` fails there with a KeyError; here it selects RMSprop.
OPTIMIZERS = MappingProxyType({
    "sgd": book_optimizers.SGD, "momentum": book_optimizers.Momentum, "nesterov": book_optimizers.Nesterov,
    "adagrad": book_optimizers.AdaGrad, "rmsprop": book_optimizers.RMSprop, "adam": book_optimizers.Adam,
})
_DEFAULT_OPTIMIZER_PARAM = MappingProxyType({"lr": 0.01})


def _check_data(x: object, t: object, name: str) -> None:
    if not isinstance(x, np.ndarray) or not isinstance(t, np.ndarray):
        raise ValueError(f"x_{name}, t_{name}: expected numpy.ndarrays, got {type(x).__name__} and "
                         f"{type(t).__name__}")
    if x.ndim == 0 or t.ndim == 0 or x.shape[0] != t.shape[0] or x.shape[0] == 0:
        raise ValueError(f"t_{name}: expected one label (or one-hot row) per sample of x_{name} "
                         f"({x.shape[0] if x.ndim else 0} samples, at least 1), got shape {t.shape}")


class Trainer:
    """Train a book network with a book optimizer, as ``common/trainer.py`` does.

    Each step draws ``mini_batch_size`` indices with replacement, ``np.random.choice(train_size,
    batch_size)`` from NumPy's global generator, takes ``network.gradient``, updates
    ``network.params`` with the optimizer, and appends ``network.loss`` on the same batch (after the
    update) to ``train_loss_list``. At the steps where ``current_iter % iter_per_epoch == 0``
    (``iter_per_epoch = max(train_size / mini_batch_size, 1)``, a float as in the book, so with a
    batch size that does not divide the data the test fires less often) it appends the accuracy on
    the training and test data (their first ``evaluate_sample_num_per_epoch`` samples if given) to
    ``train_acc_list`` and ``test_acc_list``. ``train()`` runs ``int(epochs * iter_per_epoch)`` steps
    and ends with the accuracy on the whole test set. After the same ``np.random.seed`` it draws the
    same batches as the book's Trainer.

    Args:
        network: a book network (``params``, ``gradient``, ``loss``, ``accuracy``).
        x_train, t_train, x_test, t_test: data and labels (class indices or one-hot), NumPy arrays.
        epochs: number of epochs (default 20).
        mini_batch_size: samples per step (default 100).
        optimizer: the book's name, any case: sgd, momentum, nesterov, adagrad, rmsprop, adam.
        optimizer_param: keyword arguments of the optimizer (default ``{'lr': 0.01}``).
        evaluate_sample_num_per_epoch: evaluate on this many leading samples (default all).
        verbose: print the loss of every step and the accuracies of every epoch, as the book.

    Raises:
        ValueError: on an unknown optimizer name (the message lists the names), labels that do not
            match the data, or a batch size or epoch count that is not a positive integer.
    """

    def __init__(self, network, x_train: np.ndarray, t_train: np.ndarray, x_test: np.ndarray, t_test: np.ndarray,
                 epochs: int = 20, mini_batch_size: int = 100, optimizer: str = "SGD",
                 optimizer_param: Mapping[str, float] = _DEFAULT_OPTIMIZER_PARAM,
                 evaluate_sample_num_per_epoch: int | None = None, verbose: bool = True) -> None:
        if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {', '.join(OPTIMIZERS)} (any case), got {optimizer!r}")
        for name, value in (("epochs", epochs), ("mini_batch_size", mini_batch_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        _check_data(x_train, t_train, "train")
        _check_data(x_test, t_test, "test")
        self.network = network
        self.verbose = verbose
        self.x_train = x_train
        self.t_train = t_train
        self.x_test = x_test
        self.t_test = t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.optimizer = OPTIMIZERS[optimizer.lower()](**optimizer_param)

        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0

        self.train_loss_list: list[float] = []
        self.train_acc_list: list[float] = []
        self.test_acc_list: list[float] = []

    def train_step(self) -> None:
        """One mini-batch step, and the per-epoch evaluation when an epoch starts."""
        batch_mask = np.random.choice(self.train_size, self.batch_size)  # noqa: NPY002 (the book's global generator)
        x_batch = self.x_train[batch_mask]
        t_batch = self.t_train[batch_mask]

        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)

        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(loss)
        if self.verbose:
            print("train loss:" + str(loss))

        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            x_train_sample, t_train_sample = self.x_train, self.t_train
            x_test_sample, t_test_sample = self.x_test, self.t_test
            if self.evaluate_sample_num_per_epoch is not None:
                n = self.evaluate_sample_num_per_epoch
                x_train_sample, t_train_sample = self.x_train[:n], self.t_train[:n]
                x_test_sample, t_test_sample = self.x_test[:n], self.t_test[:n]
            train_acc = self.network.accuracy(x_train_sample, t_train_sample)
            test_acc = self.network.accuracy(x_test_sample, t_test_sample)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            if self.verbose:
                print(f"=== epoch:{self.current_epoch}, train acc:{train_acc}, test acc:{test_acc} ===")
        self.current_iter += 1

    def train(self) -> None:
        """Run ``max_iter`` steps, then print (if verbose) the accuracy on the whole test set."""
        for _ in range(self.max_iter):
            self.train_step()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))
