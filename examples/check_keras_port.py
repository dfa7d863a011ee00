"""Check a Keras CNN against its PyTorch port, layer by layer, forward and backward.

The port is written by hand (weights copied with NumPy) and checked as it is (``transfer=None``); then
two classic slips are caught at the layer where they happen, with the known difference that explains
them and the setting that removes it: the Dense kernel copied without permuting its rows for PyTorch's
(c, h, w) flatten order, and Keras's BatchNorm momentum copied as is (PyTorch's momentum is 1 - Keras's).
Run: ``python examples/check_keras_port.py``.
"""

import keras
import numpy as np
import torch
from torch import nn

import dlparity

keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((8, 8, 2)),
    keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
    keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3),
    keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(),
    keras.layers.Dense(3),
])
x = np.random.default_rng(0).standard_normal((4, 8, 8, 2)).astype("float32")  # NHWC, as Keras takes it


def port(flatten_rows=True, momentum=0.1):
    """The PyTorch port; each argument left at its default is the right choice."""
    conv, bn, dense = model.layers[0], model.layers[1], model.layers[4]
    ported = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(4, eps=1e-3, momentum=momentum),
                           nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3))
    kernel, bias = (w.numpy() for w in dense.weights)
    if flatten_rows:  # Keras flattened (h, w, c) = (4, 4, 4); PyTorch flattens (c, h, w)
        kernel = kernel.reshape(4, 4, 4, 3).transpose(2, 0, 1, 3).reshape(64, 3)
    with torch.no_grad():
        ported[0].weight.copy_(torch.from_numpy(conv.kernel.numpy().transpose(3, 2, 0, 1)))
        ported[0].bias.copy_(torch.from_numpy(conv.bias.numpy()))
        ported[2].weight.copy_(torch.from_numpy(bn.gamma.numpy()))
        ported[2].bias.copy_(torch.from_numpy(bn.beta.numpy()))
        ported[5].weight.copy_(torch.from_numpy(kernel.T.copy()))
        ported[5].bias.copy_(torch.from_numpy(bias))
    return ported


result = dlparity.check_port(model, port(), x, transfer=None)
print(result)
assert result.ok

wrong = dlparity.check_port(model, port(flatten_rows=False), x, transfer=None, dtypes=["float32"])
print(f"\nwrong Flatten order: the models part at {wrong.parted_at}\n{wrong.failures[0].message()}")
assert wrong.parted_at.startswith("layer 5 (Dense | Linear)") and "Flatten order" in wrong.failures[0].known

wrong = dlparity.check_port(model, port(momentum=0.9), x, transfer=None, dtypes=["float32"])
print(f"\nmomentum copied as is: the models part at {wrong.parted_at}\n{wrong.failures[0].message()}")
assert wrong.parted_at.startswith("layer 2 (BatchNormalization") and "momentum" in wrong.failures[0].known
