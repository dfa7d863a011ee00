"""Experiments that observe conventions of the convolution variants (global max pooling's gradient
at a tie), for the defaults table. Each returns the phrase the table documents."""

from __future__ import annotations

import numpy as np

TIED = np.array([[[[1.0], [5.0]], [[5.0], [0.0]]]])  # NHWC (1, 2, 2, 1): two maxima


def _phrase(grad: np.ndarray) -> str:
    g = np.asarray(grad).ravel()
    if np.allclose(g, [0, 0.5, 0.5, 0]):
        return "split equally among the maxima"
    if np.allclose(g, [0, 1, 0, 0]):
        return "all to the first maximum"
    return f"another rule ({g.tolist()})"


def keras_global_max_ties() -> str:
    from reference import frameworks

    tf, keras = frameworks.tf(), frameworks.keras()
    x = tf.constant(TIED)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = keras.layers.GlobalMaxPooling2D(data_format="channels_last", keepdims=False, dtype="float64")(x)
    return _phrase(tape.gradient(y, x).numpy())


def torch_global_max_ties() -> str:
    from reference import frameworks

    torch = frameworks.torch()
    x = torch.tensor(TIED.transpose(0, 3, 1, 2).copy(), requires_grad=True)  # NCHW
    torch.nn.AdaptiveMaxPool2d(1)(x).sum().backward()
    return _phrase(x.grad.numpy())


def keras_global_pool_rank() -> str:
    from reference import frameworks

    y = frameworks.keras().layers.GlobalAveragePooling2D(data_format="channels_last", dtype="float64")(TIED)
    return f"{len(y.shape)}-D"


def torch_global_pool_rank() -> str:
    from reference import frameworks

    torch = frameworks.torch()
    return f"{torch.nn.AdaptiveAvgPool2d(1)(torch.tensor(TIED.transpose(0, 3, 1, 2).copy())).dim()}-D"


def keras_transpose_kernel_shape() -> str:
    from reference import frameworks

    c = frameworks.keras().layers.Conv2DTranspose(5, (2, 3))
    c.build((None, 8, 8, 4))
    return "(kh, kw, out, in)" if tuple(c.kernel.shape) == (2, 3, 5, 4) else str(tuple(c.kernel.shape))


def torch_transpose_kernel_shape() -> str:
    from reference import frameworks

    w = frameworks.torch().nn.ConvTranspose2d(4, 6, (2, 3), groups=2).weight
    return "(in, out / groups, kh, kw)" if tuple(w.shape) == (4, 3, 2, 3) else str(tuple(w.shape))


def torch_clip_norm_type() -> object:
    import inspect

    from reference import frameworks

    return inspect.signature(frameworks.torch().nn.utils.clip_grad_norm_).parameters["norm_type"].default


#: Adamax with lr 1, betas 0.5 / 0.5, eps 0.5, from p = 0: gradient 1, then 0. Step 1 is the same in
#: both forms (-2/3); after step 2, eps added to the norm gives -1, eps inside the max -10/9.
ADAMAX_FORMS = {"added to the norm: m / (u + eps)": -1.0, "inside the max: u = max(beta_2 * u, |g| + eps)": -10 / 9}


def _adamax_phrase(p2: float) -> str:
    return next((k for k, v in ADAMAX_FORMS.items() if abs(p2 - v) < 1e-9), f"another form (p = {p2!r})")


def keras_adamax_eps() -> str:
    from reference import frameworks

    keras = frameworks.keras()
    v = keras.Variable(np.zeros(1), dtype="float64")
    f64 = np.float64  # exact in the float64 arithmetic (a Python float passes through float32)
    opt = keras.optimizers.Adamax(learning_rate=f64(1.0), beta_1=f64(0.5), beta_2=f64(0.5), epsilon=f64(0.5))
    for g in (1.0, 0.0):
        opt.apply([np.array([g])], [v])
    return _adamax_phrase(float(v.numpy()[0]))


def torch_adamax_eps() -> str:
    from reference import frameworks

    torch = frameworks.torch()
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.Adamax([p], lr=1.0, betas=(0.5, 0.5), eps=0.5, foreach=False)
    for g in (1.0, 0.0):
        p.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
    return _adamax_phrase(float(p.detach()[0]))
