"""Defaults and conventions of LayerNorm, GroupNorm, Embedding and the activations beyond the
textbook (rows appended to ``settings.ROWS``), with the probes that read them off the installed
Keras and PyTorch. The textbook has none of these layers ("-")."""

from __future__ import annotations

import numpy as np

from comparisons.studies.defaults import probes as P
from reference import frameworks


def _sig(path: str, name: str):
    def read() -> object:
        root, *attrs = path.split(".")
        obj = frameworks.keras() if root == "keras" else frameworks.torch()
        for a in attrs:
            obj = getattr(obj, a)
        return P.default(obj if not isinstance(obj, type) else obj.__init__, name)
    read.__doc__ = f"inspect.signature({path}).parameters[{name!r}].default"
    return read


# -- probes ----------------------------------------------------------------------------------------
X_ACT = np.array([-2.0, 1.0])


def _keras_act(fn, x: np.ndarray = X_ACT) -> np.ndarray:
    return np.asarray(fn(frameworks.tf().constant(x)))


def keras_leaky_slope_float64() -> str:
    keras = frameworks.keras()
    y = _keras_act(keras.layers.LeakyReLU(negative_slope=0.2, dtype="float64"))
    return P.match_form(y[0] / X_ACT[0], {"float32(slope)": float(np.float32(0.2)), "slope as given": 0.2}, rtol=1e-12)


def torch_leaky_slope_float64() -> str:
    torch = frameworks.torch()
    y = torch.nn.LeakyReLU(negative_slope=0.2)(torch.from_numpy(X_ACT)).numpy()
    return P.match_form(y[0] / X_ACT[0], {"float32(slope)": float(np.float32(0.2)), "slope as given": 0.2}, rtol=1e-12)


HARD_SIGMOID_FORMS = {"relu6(x + 3) / 6": 4 / 6, "clip(0.2 x + 0.5, 0, 1)": 0.7}


def keras_hard_sigmoid_form() -> str:
    y = _keras_act(frameworks.keras().activations.hard_sigmoid)
    return P.match_form(float(y[1]), HARD_SIGMOID_FORMS)


def torch_hard_sigmoid_form() -> str:
    torch = frameworks.torch()
    return P.match_form(float(torch.nn.Hardsigmoid()(torch.from_numpy(X_ACT))[1]), HARD_SIGMOID_FORMS)


def _emb_ids() -> np.ndarray:
    return np.array([[0, 1, 0]])


def keras_embedding_padding_gradient() -> str:
    keras, tf = frameworks.keras(), frameworks.tf()
    emb = keras.layers.Embedding(3, 2, mask_zero=True, dtype="float64")
    emb.build((1, 3))
    with tf.GradientTape() as tape:
        y = emb(tf.constant(_emb_ids()))
    g = tf.convert_to_tensor(tape.gradient(y, emb.embeddings, output_gradients=tf.ones_like(y))).numpy()
    return "row 0 gets its gradient" if g[0].any() else "row 0 gradient zeroed"


def torch_embedding_padding_gradient() -> str:
    torch = frameworks.torch()
    emb = torch.nn.Embedding(3, 2, padding_idx=0, dtype=torch.float64)
    y = emb(torch.from_numpy(_emb_ids()))
    y.backward(torch.ones_like(y))
    return "row 0 gets its gradient" if emb.weight.grad[0].any() else "row 0 gradient zeroed"


def keras_embedding_negative_id() -> str:
    keras = frameworks.keras()
    emb = keras.layers.Embedding(3, 2, dtype="float64")
    emb.build((1, 1))
    try:
        y = np.asarray(emb(frameworks.tf().constant([[-1]])))
    except Exception as err:  # noqa: BLE001 - the probe names whatever the library raises
        return f"raises {type(err).__name__}"
    return "wraps: -1 is the last row" if np.array_equal(y[0, 0], emb.embeddings.numpy()[-1]) else "other"


def torch_embedding_negative_id() -> str:
    torch = frameworks.torch()
    try:
        torch.nn.Embedding(3, 2)(torch.tensor([[-1]]))
    except Exception as err:  # noqa: BLE001
        return f"raises {type(err).__name__}"
    return "accepts -1"


def keras_embedding_init() -> str:
    cfg = frameworks.keras().layers.Embedding(3, 2).embeddings_initializer.get_config()
    return f"U({cfg['minval']:g}, {cfg['maxval']:g})"


def torch_embedding_init() -> str:
    torch = frameworks.torch()
    torch.manual_seed(0)
    w = torch.nn.Embedding(200, 100, dtype=torch.float64).weight.detach().numpy()
    mean, std = float(w.mean()), float(w.std())
    return "N(0, 1)" if abs(mean) < 0.02 and abs(std - 1) < 0.02 else f"mean {mean:.3g}, std {std:.3g}"


# -- rows ------------------------------------------------------------------------------------------
def rows(Default) -> list:
    """The rows, built with ``settings.Default`` (passed in: this module is imported by settings)."""
    return [
        Default("LayerNorm", "epsilon (default)", "-", "0.001", "1e-05",
                _sig("keras.layers.LayerNormalization", "epsilon"), _sig("torch.nn.LayerNorm", "eps"),
                "100x apart: pass it explicitly when porting"),
        Default("LayerNorm", "normalised axes (default)", "-", "-1", "required",
                _sig("keras.layers.LayerNormalization", "axis"), _sig("torch.nn.LayerNorm", "normalized_shape"),
                "Keras takes any list of axes; PyTorch the trailing len(normalized_shape) axes only"),
        Default("GroupNorm", "groups (default)", "-", "32", "required",
                _sig("keras.layers.GroupNormalization", "groups"), _sig("torch.nn.GroupNorm", "num_groups")),
        Default("GroupNorm", "epsilon (default)", "-", "0.001", "1e-05",
                _sig("keras.layers.GroupNormalization", "epsilon"), _sig("torch.nn.GroupNorm", "eps")),
        Default("GroupNorm", "channel axis (default)", "-", "-1", "1 (input (N, C, ...))",
                _sig("keras.layers.GroupNormalization", "axis"), None),
        Default("Embedding", "initializer (default)", "-", "U(-0.05, 0.05)", "N(0, 1)", keras_embedding_init,
                torch_embedding_init, "Keras 'uniform'; PyTorch normal_(0, 1), the padding row then zeroed"),
        Default("Embedding", "gradient of the padding row (mask_zero=True / padding_idx=0)", "-",
                "row 0 gets its gradient", "row 0 gradient zeroed", keras_embedding_padding_gradient,
                torch_embedding_padding_gradient, "mask_zero only masks the layers after the embedding"),
        Default("Embedding", "id -1", "-", "wraps: -1 is the last row", "raises IndexError",
                keras_embedding_negative_id, torch_embedding_negative_id, "scratch raises ValueError"),
        Default("LeakyReLU", "negative slope (default)", "-", "0.3", "0.01",
                _sig("keras.layers.LeakyReLU", "negative_slope"), _sig("torch.nn.LeakyReLU", "negative_slope"),
                "keras.ops.leaky_relu and keras.activations.leaky_relu default to 0.2"),
        Default("LeakyReLU", "slope in a float64 model", "-", "float32(slope)", "slope as given",
                keras_leaky_slope_float64, torch_leaky_slope_float64, "0.2 -> 0.20000000298023224 in Keras"),
        Default("ELU", "alpha (default)", "-", "1", "1", _sig("keras.layers.ELU", "alpha"),
                _sig("torch.nn.ELU", "alpha")),
        Default("GELU", "approximation (default)", "-", "False", "none",
                _sig("keras.activations.gelu", "approximate"), _sig("torch.nn.GELU", "approximate"),
                "the tanh form: Keras approximate=True (bool), PyTorch approximate='tanh' (str)"),
        Default("GELU", "keras.ops.gelu approximation (default)", "-", "True", "-",
                _sig("keras.ops.gelu", "approximate"), None, "ops.gelu differs from activations.gelu"),
        Default("Softplus", "linear cut-off threshold (default)", "-", "none (tf.math.softplus)", "20",
                None, _sig("torch.nn.Softplus", "threshold"), "PyTorch returns x, gradient 1, above it"),
        Default("HardSigmoid", "formula", "-", "relu6(x + 3) / 6", "relu6(x + 3) / 6",
                keras_hard_sigmoid_form, torch_hard_sigmoid_form, "Keras 2 computed clip(0.2 x + 0.5, 0, 1)"),
    ]
