"""The textbook's public API ("Deep Learning from Scratch", Saito), built on scratch's core components.

A reader can put this package in place of the book's ``common`` package and chapter networks::

    from common.layers import Affine            ->  from scratch.textbook.layers import Affine
    from common.optimizer import Adam           ->  from scratch.textbook.optimizer import Adam
    from common.multi_layer_net_extend import MultiLayerNetExtend
                                                ->  from scratch.textbook.multi_layer_net_extend import ...
    from ch05.two_layer_net import TwoLayerNet  ->  from scratch.textbook.ch05 import TwoLayerNet

or take every name from the package itself (``from scratch.textbook import Affine, Adam``; ``TwoLayerNet``
here is the chapter 5 network, the chapter 4 one is ``scratch.textbook.ch04.TwoLayerNet``).

Names, constructor signatures, defaults, attributes, the params dict and the pickle format are the book's;
the arithmetic is done by the core components (``scratch.layers``, ``scratch.losses``,
``scratch.optimizers``), so every parity proof of a core component covers the book's class too.
Randomness is drawn where and how the book draws it (NumPy's global generator), so after the same
``np.random.seed(s)`` a run reproduces the book's run.

Submodules are imported on first use: ``import scratch.textbook`` costs nothing.
"""

from __future__ import annotations

import importlib

#: public name -> submodule of ``scratch.textbook`` that defines it (the book's file names).
_WHERE = {
    **dict.fromkeys(
        ("identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu", "relu_grad", "softmax",
         "sum_squared_error", "cross_entropy_error", "softmax_loss"), "functions"),
    **dict.fromkeys(("conv_output_size", "im2col", "col2im", "smooth_curve", "shuffle_dataset"), "util"),
    **dict.fromkeys(("numerical_gradient", "numerical_gradient_2d"), "gradient"),
    **dict.fromkeys(
        ("Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout", "BatchNormalization", "Convolution",
         "Pooling"), "layers"),
    **dict.fromkeys(("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"), "optimizer"),
    "TwoLayerNet": "ch05",
    "MultiLayerNet": "multi_layer_net",
    "MultiLayerNetExtend": "multi_layer_net_extend",
    "SimpleConvNet": "simple_convnet",
    "DeepConvNet": "deep_convnet",
    "Trainer": "trainer",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'scratch.textbook' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"scratch.textbook.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
