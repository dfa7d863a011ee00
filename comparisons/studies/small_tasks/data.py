"""The small tasks' data, generated in NumPy from a seed (no dataset download, no scikit-learn).

- Logic gates: the four truth-table rows ``comparisons.studies.numgrad.train.GATE_INPUTS`` with the targets
  of ``GATES`` as a (4, 1) float column (a sigmoid output trained with the mean squared error);
  the four rows are both the training and the test set.
- Three blobs: three isotropic Gaussian clouds (standard deviation ``std``) centred on a circle of
  radius ``radius`` at 90, 210 and 330 degrees; integer labels 0, 1, 2; neighbouring clouds overlap
  a little, so no classifier reaches 100 %.
- Two moons: the upper half circle ``(cos a, sin a)`` (label 0) and the lower one
  ``(1 - cos a, 1/2 - sin a)`` (label 1), ``a`` evenly spaced in [0, pi], plus Gaussian noise of
  standard deviation ``noise``: what scikit-learn's ``make_moons(n, noise=noise)`` draws, with
  NumPy's generator (so not the same numbers).

Train and test sets are drawn independently from one generator (train first); rows are shuffled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from comparisons.studies.numgrad.train import GATE_INPUTS, GATES


@dataclass(frozen=True)
class Data:
    """A task's float64 data (cast to the run's dtype by ``astype``).

    Attributes:
        x_train, x_test: inputs (N, 2).
        t_train, t_test: integer labels (N,) or, for a sigmoid output, float targets (N, 1).
        n_classes: number of classes (2 for a single sigmoid output).
    """

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    n_classes: int

    def astype(self, dtype: str) -> Data:
        """Inputs (and float targets) in ``dtype``; integer labels unchanged."""
        def cast(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a, dtype=dtype) if a.dtype.kind == "f" else a
        return Data(cast(self.x_train), cast(self.t_train), cast(self.x_test), cast(self.t_test), self.n_classes)

    def labels(self, split: str = "train") -> np.ndarray:
        """Integer class labels (N,) of ``split`` (``"train"`` or ``"test"``), whatever the target form."""
        if split not in ("train", "test"):
            raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
        return class_labels(self.t_train if split == "train" else self.t_test)


def class_labels(t: np.ndarray) -> np.ndarray:
    """Integer labels (N,) from labels (N,) or 0/1 targets (N, 1)."""
    return (t[:, 0] > 0.5).astype(np.int64) if t.ndim == 2 else t


def _count(n: object, name: str, minimum: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {n!r}")
    return int(n)


def _nonnegative(v: object, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {v!r}")
    return float(v)


def gate(name: str) -> Data:
    """Logic gate ``name`` (AND, OR, NAND or XOR): inputs (4, 2), targets (4, 1) in {0, 1}."""
    if name not in GATES:
        raise ValueError(f"name: expected one of {', '.join(GATES)}, got {name!r}")
    t = np.array(GATES[name], dtype=np.float64)[:, None]  # (4,) -> (4, 1): one sigmoid output
    return Data(GATE_INPUTS.copy(), t, GATE_INPUTS.copy(), t.copy(), 2)


def blobs_sample(n: int, rng: np.random.Generator, *, radius: float = 2.0, std: float = 0.9):
    """``n`` points, as equal a share per class as ``n`` allows, shuffled: (x (n, 2), labels (n,))."""
    n = _count(n, "n", 3)
    radius, std = _nonnegative(radius, "radius"), _nonnegative(std, "std")
    labels = np.arange(n) % 3
    angles = np.pi / 2 + 2 * np.pi * np.arange(3) / 3  # 90, 210, 330 degrees
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (3, 2)
    x = centres[labels] + std * rng.standard_normal((n, 2))
    order = rng.permutation(n)
    return x[order], labels[order].astype(np.int64)


def moons_sample(n: int, rng: np.random.Generator, *, noise: float = 0.2):
    """``n`` points on two interleaved half circles (upper ``n // 2`` label 0), noisy, shuffled."""
    n = _count(n, "n", 2)
    noise = _nonnegative(noise, "noise")
    n_upper, n_lower = n // 2, n - n // 2
    a, b = np.linspace(0.0, np.pi, n_upper), np.linspace(0.0, np.pi, n_lower)
    x = np.concatenate([np.stack([np.cos(a), np.sin(a)], axis=1),
                        np.stack([1.0 - np.cos(b), 0.5 - np.sin(b)], axis=1)])  # (n, 2)
    labels = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    x = x + noise * rng.standard_normal(x.shape)
    order = rng.permutation(n)
    return x[order], labels[order]


def three_blobs(*, n_train: int = 300, n_test: int = 150, radius: float = 2.0, std: float = 0.9,
                seed: int = 0) -> Data:
    """Three Gaussian blobs (see the module docstring); train and test drawn from ``default_rng(seed)``."""
    n_train, n_test = _count(n_train, "n_train", 3), _count(n_test, "n_test", 3)
    rng = np.random.default_rng(seed)
    train = blobs_sample(n_train, rng, radius=radius, std=std)
    test = blobs_sample(n_test, rng, radius=radius, std=std)
    return Data(*train, *test, 3)


def two_moons(*, n_train: int = 200, n_test: int = 200, noise: float = 0.2, seed: int = 0) -> Data:
    """Two noisy moons (see the module docstring); train and test drawn from ``default_rng(seed)``."""
    n_train, n_test = _count(n_train, "n_train", 2), _count(n_test, "n_test", 2)
    rng = np.random.default_rng(seed)
    train = moons_sample(n_train, rng, noise=noise)
    test = moons_sample(n_test, rng, noise=noise)
    return Data(*train, *test, 2)
