"""Two models that do not pair layer by layer (a Keras functional model, a PyTorch module with its own
``forward``), compared whole: output and input gradient, with their own weights, in one dtype."""

from __future__ import annotations

import copy

import numpy as np

from dlparity import _frameworks
from dlparity.result import Row, compare
from reference import layouts


def keras_copy(model, dtype: str):
    """``model`` rebuilt with every layer in ``dtype`` and its weights cast (the original is not changed)."""
    keras = _frameworks.keras()

    def clone(layer):
        return type(layer).from_config({**layer.get_config(), "dtype": dtype})

    if len(model.inputs) != 1:
        raise ValueError(f"model: dlparity compares models of one input, this one has {len(model.inputs)}")
    # a new Input in dtype too: a float32 Input would round the input gradient of a float64 model
    inputs = keras.Input(shape=tuple(model.inputs[0].shape[1:]), dtype=dtype)
    twin = keras.models.clone_model(model, input_tensors=inputs, clone_function=clone)
    twin.set_weights([np.asarray(w, dtype=dtype) for w in model.get_weights()])
    return twin


def whole_models(km, tm, x0: np.ndarray, dtype: str, rtol: float, *, keras_is_a: bool, seed: int,
                 sides: dict) -> list[Row]:
    """Training then evaluation call of both models on ``x0`` (scratch layout, NCHW images), under one
    random upstream gradient each: output and input gradient, model_a's against model_b's."""
    tf, torch = _frameworks.tf(), _frameworks.torch()
    kmodel, tmodel = keras_copy(km, dtype), copy.deepcopy(tm).to(getattr(torch, dtype))
    rng = np.random.default_rng([seed, 3])
    rows = []
    for mode in ("train", "eval"):
        training = mode == "train"
        kx = tf.constant(layouts.nchw_to_nhwc(x0))
        with tf.GradientTape() as tape:
            tape.watch(kx)
            ky = kmodel(kx, training=training)
        tx = torch.from_numpy(np.array(x0)).requires_grad_(True)
        ty = tmodel.train(training)(tx)
        t_out = ty.detach().numpy()
        k_out = layouts.nhwc_to_nchw(ky.numpy())
        dy = rng.standard_normal(t_out.shape).astype(dtype)
        if k_out.shape != t_out.shape:
            raise ValueError(f"model_a, model_b: output shapes differ: Keras {k_out.shape}, PyTorch {t_out.shape} "
                             "(in NCHW)")
        kdx = tape.gradient(ky, kx, output_gradients=tf.constant(layouts.nchw_to_nhwc(dy)))
        ty.backward(torch.from_numpy(dy))
        pairs = {"output": (t_out, k_out), "dx": (tx.grad.numpy(), layouts.nhwc_to_nchw(kdx.numpy()))}
        for quantity, (t_val, k_val) in pairs.items():
            a_val, b_val = (k_val, t_val) if keras_is_a else (t_val, k_val)
            rows.append(compare(quantity, a_val, b_val, rtol=rtol, layer="whole model", dtype=dtype, mode=mode,
                                **sides))
    return rows
