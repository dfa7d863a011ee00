"""Check your own textbook-style layers against PyTorch and Keras, one call each.

Affine, Convolution and BatchNormalization written the way the book teaches them (forward/backward,
weights and gradients as attributes), checked forward and backward in float64 and float32 against
``torch.nn`` and ``keras.layers``; then a layer with a slip in its backward, caught with the index of
the worst element. Run: ``python examples/check_textbook_layers.py``.
"""

import keras
import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

import dlparity


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.dW = self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Convolution:
    """W (FN, C, FH, FW), stride 1, zero padding ``pad``; windows by sliding_window_view."""

    def __init__(self, W, b, pad=0):
        self.W, self.b, self.pad = W, b, pad
        self.dW = self.db = None

    def forward(self, x):
        p = self.pad
        self.xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        self.win = sliding_window_view(self.xp, self.W.shape[2:], axis=(2, 3))  # (N, C, OH, OW, FH, FW)
        return np.einsum("nchwij,fcij->nfhw", self.win, self.W) + self.b[:, None, None]

    def backward(self, dout):
        self.dW = np.einsum("nfhw,nchwij->fcij", dout, self.win)
        self.db = dout.sum(axis=(0, 2, 3))
        dxp = np.zeros_like(self.xp)
        oh, ow = dout.shape[2:]
        for i in range(self.W.shape[2]):
            for j in range(self.W.shape[3]):
                dxp[:, :, i:i + oh, j:j + ow] += np.einsum("nfhw,fc->nchw", dout, self.W[:, :, i, j])
        p = self.pad
        return dxp[:, :, p:dxp.shape[2] - p, p:dxp.shape[3] - p]


class BatchNormalization:
    """(N, D) input; momentum weights the running value (as in the book), eps 1e-6."""

    def __init__(self, gamma, beta, momentum=0.9):
        self.gamma, self.beta, self.momentum, self.eps = gamma, beta, momentum, 1e-6
        self.running_mean = self.running_var = None
        self.dgamma = self.dbeta = None

    def forward(self, x, train_flg=True):
        if self.running_mean is None:
            self.running_mean, self.running_var = np.zeros(x.shape[1]), np.zeros(x.shape[1])
        self.train = train_flg
        if train_flg:
            mu = x.mean(axis=0)
            self.xc = x - mu
            var = (self.xc ** 2).mean(axis=0)
            self.std = np.sqrt(var + self.eps)
            m = self.momentum
            self.running_mean = m * self.running_mean + (1 - m) * mu
            self.running_var = m * self.running_var + (1 - m) * var
        else:
            self.xc = x - self.running_mean
            self.std = np.sqrt(self.running_var + self.eps)
        self.xn = self.xc / self.std
        return self.gamma * self.xn + self.beta

    def backward(self, dout):
        self.dbeta = dout.sum(axis=0)
        self.dgamma = (self.xn * dout).sum(axis=0)
        dxn = self.gamma * dout
        if not self.train:  # after an evaluation forward the statistics are constants
            return dxn / self.std
        n = dout.shape[0]
        return (dxn - dxn.mean(axis=0) - self.xn * (dxn * self.xn).sum(axis=0) / n) / self.std


class SlippedAffine(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.x.T @ dout[::-1]  # the upstream rows reversed: a wrong dW
        return dx


def main():
    rng = np.random.default_rng(0)

    x = rng.standard_normal((8, 5))
    affine = Affine(rng.standard_normal((5, 3)), rng.standard_normal(3))
    result = dlparity.check_layer(affine, [torch.nn.Linear(5, 3), keras.layers.Dense(3)], x)
    print(result)
    assert result.ok

    images = rng.standard_normal((2, 3, 6, 6))
    conv = Convolution(rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4), pad=1)
    references = [torch.nn.Conv2d(3, 4, 3, padding=1), keras.layers.Conv2D(4, 3, padding="same")]
    result = dlparity.check_layer(conv, references, images)
    print(result)
    assert result.ok

    bn = BatchNormalization(rng.uniform(0.5, 1.5, 5), rng.standard_normal(5))
    references = [torch.nn.BatchNorm1d(5, eps=1e-6, momentum=0.1),  # PyTorch's momentum weights the batch statistic,
                  keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-6)]  # Keras's the running value
    result = dlparity.check_layer(bn, references, x)
    print(result)  # PyTorch's running variance is the unbiased one: a known difference, with the relation checked
    assert result.ok

    result = dlparity.check_layer(SlippedAffine(affine.W, affine.b), torch.nn.Linear(5, 3), x)
    worst = result.failures[0]
    print(f"caught: {worst.quantity} ({worst.dtype}) max rel error {worst.max_rel:.2g} at index {worst.where}")
    assert not result.ok and worst.quantity == "grad:W"


if __name__ == "__main__":
    main()
