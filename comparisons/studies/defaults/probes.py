"""Small experiments that read a convention off the installed Keras and PyTorch: the layers'
conventions here, the optimizers', losses' and schedules' in ``probes_training``.

Each probe builds the framework object with its defaults (or with one explicit, distinguishing
value), runs it on a tiny input and returns a short phrase naming the convention it observed, in
the words ``comparisons/studies/defaults/settings.py`` documents. A probe never returns the documented phrase
unless the library behaves that way: it computes every candidate and names the one that matches,
or describes what it saw. Frameworks are imported lazily and no global state is left changed.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from reference import frameworks


def default(fn, name: str) -> object:
    """The default value of parameter ``name`` of ``fn``; ``"required"`` when it has none."""
    p = inspect.signature(fn).parameters[name]
    return "required" if p.default is inspect.Parameter.empty else p.default


def match_form(observed: float, candidates: dict[str, float], rtol: float = 1e-6) -> str:
    """The phrase of the first candidate value equal to ``observed`` (to ``rtol``), or what was seen."""
    for phrase, value in candidates.items():
        if math.isclose(observed, value, rel_tol=rtol, abs_tol=0.0):
            return phrase
    return f"none of the known forms (observed {observed:.6g})"


# -- batch normalization -------------------------------------------------------------------------
X_BN = np.array([[0.0], [1.0], [2.0], [5.0]])  # mean 2, biased variance 3.5, unbiased 14/3


def _keras_bn(**kw):
    keras = frameworks.keras()
    bn = keras.layers.BatchNormalization(dtype="float64", **kw)
    bn.build((None, 1))
    return bn


def _torch_bn(**kw):
    return frameworks.torch().nn.BatchNorm1d(1, dtype=frameworks.torch().float64, **kw)


def keras_bn_convention() -> str:
    bn = _keras_bn(momentum=0.25)
    bn(X_BN, training=True)
    return match_form(float(bn.moving_mean.numpy()[0]), {"weights the running value": 0.25 * 0 + 0.75 * 2.0,
                                                      "weights the batch value": 0.75 * 0 + 0.25 * 2.0})


def torch_bn_convention() -> str:
    bn = _torch_bn(momentum=0.25)
    bn.train()(frameworks.torch().from_numpy(X_BN))
    return match_form(float(bn.running_mean[0]), {"weights the running value": 0.25 * 0 + 0.75 * 2.0,
                                              "weights the batch value": 0.75 * 0 + 0.25 * 2.0})


def _variance_kind(running: float, initial: float, keep: float) -> str:
    return match_form(running, {"biased": keep * initial + (1 - keep) * 3.5,
                            "unbiased (n / (n - 1))": keep * initial + (1 - keep) * 14 / 3})


def keras_bn_running_variance() -> str:
    bn = _keras_bn(momentum=0.5)
    bn(X_BN, training=True)
    return _variance_kind(float(bn.moving_variance.numpy()[0]), 1.0, 0.5)


def torch_bn_running_variance() -> str:
    bn = _torch_bn(momentum=0.5)
    bn.train()(frameworks.torch().from_numpy(X_BN))
    return _variance_kind(float(bn.running_var[0]), 1.0, 0.5)


def _eps_place(y0: float, eps: float) -> str:
    """x = 0 of X_BN normalised: -2 / sqrt(3.5 + eps) (inside) or -2 / (sqrt(3.5) + eps) (outside)."""
    return match_form(y0, {"inside the root: sqrt(var + eps)": -2 / math.sqrt(3.5 + eps),
                       "outside the root: sqrt(var) + eps": -2 / (math.sqrt(3.5) + eps)})


def keras_bn_eps_placement() -> str:
    return _eps_place(float(np.asarray(_keras_bn(epsilon=0.5)(X_BN, training=True))[0, 0]), 0.5)


def torch_bn_eps_placement() -> str:
    y = _torch_bn(eps=0.5).train()(frameworks.torch().from_numpy(X_BN))
    return _eps_place(float(y[0, 0].detach()), 0.5)


def keras_bn_initial_variance() -> str:
    return f"{float(_keras_bn().moving_variance.numpy()[0]):g}"


def torch_bn_initial_variance() -> str:
    return f"{float(_torch_bn().running_var[0]):g}"


# -- dropout -------------------------------------------------------------------------------------
def _dropout_kind(kept: np.ndarray, rate: float) -> str:
    values = set(np.round(kept, 12).tolist())
    if values == {round(1 / (1 - rate), 12)}:
        return "inverted: kept x / (1 - rate) in training"
    if values == {1.0}:
        return "not inverted in training"
    return f"kept values {sorted(values)}"


def keras_dropout_scaling() -> str:
    y = np.asarray(frameworks.keras().layers.Dropout(0.5, seed=1)(np.ones((1, 400)), training=True))
    return _dropout_kind(y[y != 0], 0.5)


def torch_dropout_scaling() -> str:
    torch = frameworks.torch()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        y = torch.nn.Dropout(0.5)(torch.ones(1, 400, dtype=torch.float64)).numpy()
    return _dropout_kind(y[y != 0], 0.5)


def keras_dropout_without_training() -> str:
    y = np.asarray(frameworks.keras().layers.Dropout(0.5, seed=1)(np.ones((1, 400))))
    return "identity (inference) unless training=True" if np.all(y == 1) else "drops"


def torch_dropout_without_training() -> str:
    return "drops: a new module is in train mode" if frameworks.torch().nn.Dropout(0.5).training else "identity"


# -- dense / conv / flatten ----------------------------------------------------------------------
def _torch_uniform_bound(sample: np.ndarray, fan_in: int) -> str:
    bound = 1 / math.sqrt(fan_in)
    m = float(np.abs(sample).max())
    return "U(+-1/sqrt(fan_in))" if 0.99 * bound < m <= bound else f"max |w| = {m:.4g} (1/sqrt(fan_in) = {bound:.4g})"


def torch_module_default(module: str, attr: str) -> str:
    """The law of a fresh module's weight or bias, from one large draw (fan_in 400)."""
    torch = frameworks.torch()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        m = torch.nn.Linear(400, 500) if module == "Linear" else torch.nn.Conv2d(16, 500, 5)
    return _torch_uniform_bound(getattr(m, attr).detach().numpy(), 400)


def keras_kernel_shape(layer: str) -> str:
    keras = frameworks.keras()
    if layer == "Dense":
        d = keras.layers.Dense(5)
        d.build((None, 3))
        return "(in, out)" if tuple(d.kernel.shape) == (3, 5) else str(tuple(d.kernel.shape))
    c = keras.layers.Conv2D(5, (2, 3))
    c.build((None, 8, 8, 4))
    return "(kh, kw, in, out)" if tuple(c.kernel.shape) == (2, 3, 4, 5) else str(tuple(c.kernel.shape))


def torch_kernel_shape(layer: str) -> str:
    nn = frameworks.torch().nn
    if layer == "Dense":
        return "(out, in)" if tuple(nn.Linear(3, 5).weight.shape) == (5, 3) else "other"
    return "(out, in, kh, kw)" if tuple(nn.Conv2d(4, 5, (2, 3)).weight.shape) == (5, 4, 2, 3) else "other"


def keras_flatten_order() -> str:
    x = np.arange(2 * 3 * 4, dtype="float32").reshape(1, 3, 4, 2)  # NHWC, value = index
    y = np.asarray(frameworks.keras().layers.Flatten()(x))[0]
    return "(h, w, c)" if np.array_equal(y, x.reshape(-1)) else "other"


def torch_flatten_order() -> str:
    torch = frameworks.torch()
    x = torch.arange(24.0).reshape(1, 2, 3, 4)  # NCHW
    return "(c, h, w)" if torch.equal(torch.nn.Flatten()(x)[0], x.reshape(-1)) else "other"


def keras_same_stride2_pads() -> str:
    """Pads of Keras 'same', k=3, stride 2 on H=8: a ones kernel on ones counts the real cells."""
    keras = frameworks.keras()
    conv = keras.layers.Conv2D(1, 3, strides=2, padding="same", use_bias=False, kernel_initializer="ones")
    y = np.asarray(conv(np.ones((1, 8, 8, 1), dtype="float32")))[0, :, :, 0]
    top = 3 - int(round(y[0, 1] / 3))  # rows of the first output row's window that are padding
    bottom = 3 - int(round(y[-1, 1] / 3))  # and of the last one's
    return f"pads (top, bottom) = ({top}, {bottom})"


def torch_same_stride2() -> str:
    nn = frameworks.torch().nn
    try:
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    except ValueError:
        return "padding='same' raises for stride > 1"
    return "padding='same' accepted with stride 2"
