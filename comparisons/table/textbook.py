"""The book's classes (``scratch.textbook.layers`` and ``scratch.textbook.optimizer``) in the case table.

Each case runs the book's class itself (its ``forward`` / ``backward`` and attributes, through
``comparisons.table.book.BookLayer``) against the Keras and PyTorch twins of the core layer it holds, so
the chain book class == core layer == Keras == PyTorch is one run. Covers name the book's class as
``textbook.<name>`` first, then its core component.
"""

from __future__ import annotations

import numpy as np

from comparisons.table import known as K
from comparisons.table import optimizers as O
from comparisons.table import optimizers_adam as OA
from comparisons.table.book import BookLayer, BookOptimizer
from comparisons.table.layers import (
    EVAL_AFTER_TRAIN,
    TRAIN3,
    classification,
    layer,
    loss,
    normal,
    tied,
)
from scratch.textbook import layers as T
from scratch.textbook import optimizer as TB


def _arrays(*shapes, scale=0.5, seed=0):
    """Fixed random arrays of ``shapes`` (float64 draws, then the case's dtype)."""
    def make(dtype):
        rng = np.random.default_rng(seed)
        return [(scale * rng.standard_normal(s)).astype(dtype) for s in shapes]
    return make


def book(id, cls, core, summary, build, inputs, script=("train",), known=()):
    """A case of the book's class ``cls`` (core component ``core``); ``build(dtype)`` makes the book object."""
    return layer(f"textbook/{id}", (f"textbook.{cls}", core), summary,
                 lambda dtype: BookLayer(build(dtype), dtype), inputs, script, known)


def _affine(n_in, n_out):
    arrays = _arrays((n_in, n_out), (n_out,))
    return lambda dtype: T.Affine(*arrays(dtype))


def _conv(fn, c, fh, fw, stride, pad):
    arrays = _arrays((fn, c, fh, fw), (fn,))
    return lambda dtype: T.Convolution(*arrays(dtype), stride=stride, pad=pad)


def _bn(d, momentum=0.9):
    arrays = _arrays((d,), (d,), seed=1)
    def make(dtype):
        gamma, beta = arrays(dtype)
        return T.BatchNormalization(1.0 + gamma, beta, momentum=momentum)
    return make


def _bn_cases(id, summary, shape, d):
    inputs = normal(shape, steps=3, scale=2.0, shift=0.5)
    known = [K.running_var_estimator("torch", scratch_estimator="biased", keep=0.9, stats="activation")]
    return [book(f"{id}/{mode}", "BatchNormalization", "BatchNorm", f"{summary} ({mode})", _bn(d), inputs, script,
                 known)
            for mode, script in (("train", TRAIN3), ("eval", EVAL_AFTER_TRAIN))]


def _dropout(mode, script, ratio=0.3):
    what = "mask harvested from the framework" if mode == "train" else "x * (1 - ratio)"
    return book(f"dropout/{mode}", "Dropout", "Dropout", f"Dropout(dropout_ratio={ratio}), {what}",
                lambda dtype: T.Dropout(dropout_ratio=ratio), normal((16, 20)), script,
                [K.textbook_dropout("keras", ratio), K.textbook_dropout("torch", ratio)])


def _rounded(shape):
    return lambda rng, dt: {"xs": [np.round(rng.standard_normal(shape), 1).astype(dt)]}


TEXTBOOK = [
    book("affine/2d", "Affine", "Dense", "Affine(W (12, 7), b) on (8, 12)", _affine(12, 7), normal((8, 12), steps=3),
         TRAIN3),
    book("affine/images", "Affine", "Dense", "Affine on (4, 3, 4, 4): flattens per sample, dx back in image shape",
         _affine(48, 5), normal((4, 3, 4, 4))),
    book("relu", "Relu", "ReLU", "Relu, including exact zeros (gradient 0 there)", lambda dtype: T.Relu(),
         _rounded((6, 10))),
    book("sigmoid", "Sigmoid", "Sigmoid", "Sigmoid on N(0, 4^2) inputs", lambda dtype: T.Sigmoid(),
         normal((6, 10), scale=4)),
    _dropout("train", ("train",)),
    _dropout("eval", ("eval",)),
    *_bn_cases("batchnorm/2d", "BatchNormalization on (16, 6): momentum 0.9, eps 1e-6, running statistics from 0",
               (16, 6), 6),
    *_bn_cases("batchnorm/images", "BatchNormalization on (8, 2, 3, 3): one mean per activation (C*H*W = 18)",
               (8, 2, 3, 3), 18),
    book("convolution/simple-convnet", "Convolution", "Conv2D", "Convolution(W (30, 1, 5, 5), b, stride=1, pad=0): "
         "SimpleConvNet's layer", _conv(30, 1, 5, 5, 1, 0), normal((2, 1, 12, 12))),
    book("convolution/s2-pad1-truncate", "Convolution", "Conv2D", "Convolution(W (4, 3, 3, 3), b, stride=2, pad=1) "
         "on 8 x 8: (8 + 2 - 3) / 2 not whole, floored as the book does", _conv(4, 3, 3, 3, 2, 1),
         normal((2, 3, 8, 8))),
    book("pooling/2x2", "Pooling", "MaxPool2D", "Pooling(2, 2): the book's default stride 2",
         lambda dtype: T.Pooling(2, 2), normal((2, 3, 6, 6))),
    book("pooling/3x3-s1-ties", "Pooling", "MaxPool2D", "Pooling(3, 3, stride=1) (overlapping) on inputs with ties: "
         "first maximum wins", lambda dtype: T.Pooling(3, 3, stride=1, pad=0), tied((2, 2, 6, 6))),
    book("pooling/2x2-truncate", "Pooling", "MaxPool2D", "Pooling(2, 2, stride=2) on 7 x 7: the last row and column "
         "dropped, as the book does", lambda dtype: T.Pooling(2, 2, stride=2, pad=0), normal((2, 3, 7, 7))),
    loss("textbook/softmax-with-loss/int", ("textbook.SoftmaxWithLoss", "SoftmaxCrossEntropy"),
         "SoftmaxWithLoss, integer labels", lambda dtype: T.SoftmaxWithLoss(), classification(8, 5, "int", scale=2),
         known=[K.textbook_softmax_ce("keras"), K.textbook_softmax_ce("torch")]),
    loss("textbook/softmax-with-loss/onehot", ("textbook.SoftmaxWithLoss", "SoftmaxCrossEntropy"),
         "SoftmaxWithLoss, one-hot labels", lambda dtype: T.SoftmaxWithLoss(), classification(8, 5, "onehot", scale=2),
         known=[K.textbook_softmax_ce("keras"), K.textbook_softmax_ce("torch")]),
]


# -- the book's optimizer classes (scratch.textbook.optimizer) ------------------------------------------
def book_case(name: str, covers: tuple[str, ...], summary: str, book, core, lr: float, *, known=(), scale=1.0):
    """A case of the book's optimizer ``book()`` run through update() against the twins of ``core()``."""
    return O.case(f"textbook/optimizer/{name.lower()}", (f"textbook.{name}", *covers), summary,
                lambda: BookOptimizer(book(), core()), lrs=O.R.constant(lr, O.STEPS), known=known, scale=scale)


BOOK_OPTIMIZERS = [
    book_case("SGD", O.SGD_COVERS, "the book's SGD(lr=0.01): p -= lr * g", lambda: TB.SGD(lr=0.01), O.sgd(), 0.01),
    book_case("Momentum", O.SGD_COVERS, "the book's Momentum(lr=0.01, momentum=0.9) = the Keras form",
              lambda: TB.Momentum(lr=0.01, momentum=O.MU), O.sgd(O.MU, form="textbook"), 0.01),
    book_case("Nesterov", O.SGD_COVERS, "the book's Nesterov(lr=0.01, momentum=0.9): the previous v moves p, then v "
              "is updated; the Keras Nesterov rearranged", lambda: TB.Nesterov(lr=0.01, momentum=O.MU),
              O.sgd(O.MU, True, "textbook"), 0.01),
    book_case("AdaGrad", O.AG_COVERS, "the book's AdaGrad(lr=0.01): h from 0, 1e-7 outside the root",
              lambda: TB.AdaGrad(lr=0.01), O.adagrad(0.0, 1e-7, "outside"), 0.01, scale=O.visible(1e-7),
              known=[O.adagrad_eps("keras", init=0.0, eps=1e-7, scratch_placement="outside the root")]),
    book_case("RMSprop", OA.RMS_COVERS, "the book's RMSprop(lr=0.01, decay_rate=0.99): 1e-7 outside the root",
              lambda: TB.RMSprop(lr=0.01, decay_rate=0.99), OA.rmsprop(0.99, 1e-7, "outside"), 0.01,
              scale=O.visible(1e-7), known=[OA.rmsprop_eps("keras", rho=0.99, eps=1e-7)]),
    book_case("Adam", OA.ADAM_COVERS, "the book's Adam(lr=0.001, beta1=0.9, beta2=0.999): 1e-7 as epsilon hat = Keras",
              lambda: TB.Adam(lr=0.001, beta1=OA.B1, beta2=OA.B2), OA.adam(1e-7, "hat"), 0.001, scale=O.ADAM_SCALE,
              known=[OA.adam_eps("torch", eps=1e-7)]),
]
