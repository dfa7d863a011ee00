"""What a naive port costs: each MNIST model trained in lock-step as the exact equivalent and with
one framework default left in place of the converted setting, one setting at a time.

For every model spec, one lock-step run (``comparisons.studies.trainer.lockstep.run``: the same batches,
dropout masks and learning rates for all) holds scratch, the exact Keras and PyTorch ports
(``runner.build_impls``) and one more framework implementation per applicable naive setting,
built from a modified copy of the scratch model (or a post-edited twin):

- ``init``: the framework's default initializers (Keras glorot_uniform / zeros, PyTorch's
  U(+-1/sqrt(fan_in)) for weight and bias), drawn by the framework, instead of the spec's weights;
- ``bn-defaults``: PyTorch BatchNorm with its defaults momentum=0.1, eps=1e-5 instead of the
  converted 0.01 and 1e-3; ``bn-momentum-copied``: Keras's momentum 0.99 copied unconverted;
- ``optimizer-defaults``: the framework's default epsilon (and Keras Adagrad's initial
  accumulator 0.1) instead of the recipe's;
- ``flatten-order``: the Keras Dense after a channels-last Flatten without its row permutation;
- ``same-padding``: PyTorch ``padding=1`` for a Keras ``'same'`` stride-2 conv (no spec has one: it
  runs on the variant ``convnet_same_s2``, a SimpleConvNet whose conv is 3x3, stride 2, 'same');
- ``ln-eps-default``, ``leaky-slope-default``: PyTorch's LayerNorm eps=1e-5 and LeakyReLU
  negative_slope=0.01 left in a port of Keras's 1e-3 and 0.3 (on the variant ``mlp_ln_leaky``,
  ``comparisons/studies/naive_port/normact.py``).

A naive run is compared with the exact run of the same framework; the exact runs are compared with
scratch (with the scratch run in the framework's own optimizer form where no setting can match:
Adam's epsilon in PyTorch, Adagrad's in Keras). Reported after a fixed budget: final test accuracy
and loss deltas, and the first step whose pre-update batch loss differs by more than 1e-6.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from comparisons.studies import models
from comparisons.studies.mnist import optim
from comparisons.studies.naive_port import normact
from comparisons.studies.trainer.impls import KerasDriver, KerasImpl, TorchDriver, TorchImpl
from comparisons.studies.trainer.lockstep import RunConfig
from reference import frameworks
from scratch import initializers
from scratch import layers as L
from scratch import optimizers as O
from scratch.model import Sequential

LOSS_GAP = 1e-6  # |naive - exact| pre-update batch loss above which a step counts as differing

#: Default budget (1.5 to 2.5 minutes on 2 cores for all five runs) and the --full one.
BUDGET: dict[str, dict] = {
    "mlp4x32": {"epochs": 1, "train_limit": 16_000, "test_limit": 2_000},
    "mlp4x128_bn_dropout": {"epochs": 1, "train_limit": 6_400, "test_limit": 2_000},
    "twolayer": {"epochs": 1, "train_limit": 60_000, "test_limit": 2_000},
    "simple_convnet": {"epochs": 1, "train_limit": 5_000, "test_limit": 1_000},
    "convnet_same_s2": {"epochs": 1, "train_limit": 5_000, "test_limit": 1_000},
    "row_gru": {"epochs": 1, "train_limit": 6_000, "test_limit": 1_000},
    normact.SPEC.name: normact.BUDGET,
}
FULL_BUDGET: dict[str, dict] = {name: {"epochs": 3, "train_limit": 60_000, "test_limit": 10_000} for name in BUDGET}


def _convnet_same_s2(rng, dtype):
    init = initializers.normal(0.01)
    return Sequential([
        L.Conv2D(1, 30, 3, stride=2, padding="same", weight_init=init, bias_init="zeros", rng=rng, dtype=dtype),
        L.ReLU(dtype=dtype), L.MaxPool2D(2, stride=2, padding=0, dtype=dtype), L.Flatten(dtype=dtype),
        L.Dense(30 * 7 * 7, 100, weight_init=init, bias_init="zeros", rng=rng, dtype=dtype), L.ReLU(dtype=dtype),
        L.Dense(100, 10, weight_init=init, bias_init="zeros", rng=rng, dtype=dtype),
    ])


#: A variant of SimpleConvNet with a Keras-'same', stride-2 conv (28 -> 14: TF pads rows (0, 1)).
VARIANT = models.ModelSpec(
    "convnet_same_s2", "variant of simple_convnet: conv 30x3x3 stride 2 'same', ReLU, max-pool 2, Dense 100, ReLU, "
    "Dense 10", (1, 28, 28), _convnet_same_s2, models.MODELS["simple_convnet"].recipe)
#: The models with a naive-port budget (of the row-by-row sequence models, the GRU: its gate order).
SPECS: dict[str, models.ModelSpec] = {**{n: m for n, m in models.MODELS.items() if n in BUDGET}, VARIANT.name: VARIANT,
                                      normact.SPEC.name: normact.SPEC}


@dataclass(frozen=True)
class Setting:
    """A setting a naive port leaves at the framework's default."""

    key: str
    title: str
    exact: str
    naive: str


SETTINGS = [
    Setting("init", "initializers", "the spec's weights, transferred", "the framework's default initializers"),
    Setting("bn-defaults", "BatchNorm momentum and epsilon", "momentum 0.01 (PyTorch convention), eps 1e-3",
            "PyTorch defaults momentum=0.1, eps=1e-5"),
    Setting("bn-momentum-copied", "BatchNorm momentum copied unconverted", "momentum 0.01 (= 1 - 0.99)",
            "momentum=0.99 in PyTorch's convention (eps 1e-3 kept)"),
    Setting("optimizer-defaults", "optimizer epsilon (and accumulator) defaults", "the recipe's values",
            "the framework's defaults"),
    Setting("flatten-order", "Dense after Flatten without the row permutation", "rows permuted (c,h,w)->(h,w,c)",
            "the scratch kernel as is"),
    Setting("same-padding", "'same' stride-2 conv as padding=1", "ConstantPad2d((0, 1, 0, 1)) + padding=0",
            "Conv2d(padding=1)"),
    Setting("gru-gates", "GRU weights transposed without reordering the gates",
            "gate blocks reordered: Keras z, r, h -> PyTorch r, z, n", "kernels and biases transposed only"),
    *(Setting(*s) for s in normact.SETTINGS),  # LayerNorm epsilon, LeakyReLU slope (on mlp_ln_leaky)
]
BY_KEY = {s.key: s for s in SETTINGS}


# -- which settings occur in a model ----------------------------------------------------------------
def _has(model: Sequential, cls) -> bool:
    return any(isinstance(layer, cls) for layer in model.layers)


def _image_flatten_dense(model: Sequential, spec: models.ModelSpec) -> str | None:
    """Name of the Dense right after a Flatten of an image, if any."""
    x = np.zeros((1, *spec.input_shape), dtype=model.dtype)
    for i, layer in enumerate(model.layers):
        if isinstance(layer, L.Flatten) and x.ndim == 4 and i + 1 < len(model.layers):
            return model.names[i + 1]
        x = layer.forward(x, training=False)
    return None


def _same_s2(model: Sequential) -> bool:
    return any(isinstance(x, L.Conv2D) and x.padding == "same" and max(x.stride) > 1 for x in model.layers)


def applicable(key: str, framework: str, spec: models.ModelSpec, model: Sequential) -> str | None:
    """None if the naive setting occurs in the model for this framework, else why not."""
    opt = optim.scratch_optimizer(spec.recipe)
    if key == "init":
        if any(isinstance(x, (L.SimpleRNN, L.LSTM, L.GRU)) for x in model.layers):
            return "recurrent layers: their framework initializers are not modelled here"
        return None
    if key == "gru-gates":
        if not _has(model, L.GRU):
            return "no GRU in this model"
        return None if framework == "torch" else "Keras keeps scratch's layout"
    if key in normact.KEYS:
        return normact.applicable(key, framework, model)
    if key.startswith("bn-"):
        if not _has(model, L.BatchNorm):
            return "no BatchNorm in this model"
        return None if framework == "torch" else "the spec uses Keras's values (Keras's defaults)"
    if key == "optimizer-defaults":
        if isinstance(opt, O.SGD):
            return "plain SGD with an explicit learning rate: no default differs"
        if isinstance(opt, O.Adam) and framework == "keras":
            return "the recipe's Adam is Keras's default (epsilon 1e-7)"
        return None
    if key == "flatten-order":
        if _image_flatten_dense(model, spec) is None:
            return "no Flatten after a conv"
        return None if framework == "keras" else "PyTorch flattens (c, h, w) like scratch"
    if key == "same-padding":
        if not _same_s2(model):
            return "no 'same' conv with stride 2 (see convnet_same_s2)"
        return None if framework == "torch" else "the spec's 'same' is Keras's own"
    raise ValueError(f"key: unknown setting {key!r}")


# -- building the naive implementations -------------------------------------------------------------
def _fans(layer) -> tuple[int, int, tuple]:
    if isinstance(layer, L.Dense):
        return layer.in_features, layer.units, layer.params["W"].shape
    w = layer.params["W"].shape  # (F, C, KH, KW)
    return w[1] * w[2] * w[3], w[0] * w[2] * w[3], w


def _default_weights(model: Sequential, framework: str, seed: int) -> None:
    """Overwrite every Dense/Conv2D weight and bias in place with the framework's default init."""
    from reference.keras_initializers import KerasInit
    from reference.torch_initializers import TorchInit

    dtype = model.dtype.name
    for i, layer in enumerate(model.layers):
        if not isinstance(layer, (L.Dense, L.Conv2D)):
            continue
        fan_in, fan_out, shape = _fans(layer)
        b_shape = layer.params["b"].shape
        if framework == "keras":
            w = KerasInit("GlorotUniform").draw(shape, fan_in=fan_in, fan_out=fan_out, seed=seed + i, dtype=dtype)
            b = np.zeros(b_shape, dtype=dtype)
        else:
            if isinstance(layer, L.Dense):
                module, kw = "nn.Linear", {"in_features": fan_in, "out_features": layer.units, "bias": True}
            else:
                module, kw = "nn.Conv2d", {"in_channels": shape[1], "out_channels": shape[0],
                                           "kernel_size": tuple(shape[2:]), "bias": True}
            fans = {"fan_in": fan_in, "fan_out": fan_out, "seed": seed + i, "dtype": dtype}
            w = TorchInit(f"{module}.weight", kw).draw(shape, **fans)
            b = TorchInit(f"{module}.bias", kw).draw(b_shape, **fans)
        np.copyto(layer.params["W"], w)
        np.copyto(layer.params["b"], b)


def _with_batchnorm(model: Sequential, *, momentum: float, eps: float) -> Sequential:
    """A copy of ``model`` whose BatchNorm layers use PyTorch's convention with these numbers."""
    layers = [L.BatchNorm(x.num_features, momentum=momentum, momentum_of="batch", eps=eps, running_var="unbiased",
                          stats=x.stats, dtype=x.dtype.name) if isinstance(x, L.BatchNorm) else x
              for x in model.layers]
    return Sequential(layers, names=model.names)


def _default_optimizer(opt: O.Optimizer, framework: str) -> O.Optimizer:
    if isinstance(opt, O.Adam):  # PyTorch Adam(eps=1e-8), its own placement
        return O.Adam(beta_1=opt.beta_1, beta_2=opt.beta_2, eps=1e-8, eps_placement="corrected",
                      amsgrad=opt.amsgrad, weight_decay=0.0)
    if isinstance(opt, O.Adagrad) and framework == "keras":  # Keras Adagrad(initial_accumulator_value=0.1)
        return O.Adagrad(initial_accumulator_value=0.1, eps=1e-7, eps_placement="inside", weight_decay=0.0)
    if isinstance(opt, O.Adagrad):  # PyTorch Adagrad(eps=1e-10)
        return O.Adagrad(initial_accumulator_value=0.0, eps=1e-10, eps_placement="outside", weight_decay=0.0)
    raise ValueError(f"optimizer: no naive default for {type(opt).__name__}")


def _impl(framework: str, model: Sequential, spec: models.ModelSpec, dtype: str, opt: O.Optimizer):
    from reference.model_twin import build_keras, build_torch

    if framework == "keras":
        twin = build_keras(model, spec.input_shape)
        return twin, KerasImpl(twin, KerasDriver(opt, twin, dtype), dtype)
    twin = build_torch(model, spec.input_shape)
    return twin, TorchImpl(twin, TorchDriver(opt, twin, dtype))


def naive_impl(key: str, framework: str, spec: models.ModelSpec, config: RunConfig):
    """The framework implementation with setting ``key`` left at the framework's default."""
    model = spec.build(np.random.default_rng(config.seed), config.dtype)  # the spec's weights
    recipe_opt = optim.scratch_optimizer(spec.recipe)
    opt = optim.framework_form(recipe_opt, framework) or recipe_opt  # what the exact port uses
    if key == "init":
        _default_weights(model, framework, seed=config.seed + 1000)
    elif key == "bn-defaults":
        model = _with_batchnorm(model, momentum=0.1, eps=1e-5)
    elif key == "bn-momentum-copied":
        model = _with_batchnorm(model, momentum=0.99, eps=1e-3)
    elif key == "optimizer-defaults":
        opt = _default_optimizer(recipe_opt, framework)
    elif key in normact.KEYS:
        model = normact.naive_model(key, model)
    twin, impl = _impl(framework, model, spec, config.dtype, opt)
    if key == "flatten-order":  # Keras: put the unpermuted scratch kernel back
        dense = _image_flatten_dense(model, spec)
        twin.params[f"{dense}.W"][0].assign(model.layer(dense).params["W"])
    elif key == "gru-gates":  # PyTorch: the Keras-layout weights transposed, gate blocks left in z, r, h order
        torch = frameworks.torch()
        grus = iter([x for x in model.layers if isinstance(x, L.GRU)])
        for module in twin.model.modules():
            if isinstance(module, torch.nn.GRU):
                gru = next(grus)
                with torch.no_grad():
                    module.weight_ih_l0.copy_(torch.from_numpy(gru.params["W"].T.copy()))
                    module.weight_hh_l0.copy_(torch.from_numpy(gru.params["U"].T.copy()))
                    module.bias_ih_l0.copy_(torch.from_numpy(gru.params["b"][0].copy()))
                    module.bias_hh_l0.copy_(torch.from_numpy(gru.params["b"][1].copy()))
    elif key == "same-padding":  # PyTorch: the padded conv becomes Conv2d(padding=1)
        nn = frameworks.torch().nn
        for i, module in enumerate(twin.model):
            if isinstance(module, nn.Sequential) and isinstance(module[0], nn.ConstantPad2d):
                conv = module[1]
                conv.padding = (1, 1)
                twin.model[i] = conv
    return impl


def control_impl(spec: models.ModelSpec, config: RunConfig):
    """Scratch from another seed's initial weights (the spec's law): the scale of run-to-run noise."""
    from comparisons.studies.trainer.impls import ScratchImpl

    model = spec.build(np.random.default_rng(config.seed + 1), config.dtype)
    return ScratchImpl(model, optim.scratch_optimizer(spec.recipe))


def naive_impls(spec: models.ModelSpec, config: RunConfig, keys=None) -> tuple[dict, list[dict]]:
    """``{"control:reseed": impl, "keras:init": impl, ...}``: the control and the applicable
    settings, and a row per (setting, framework) that does not apply, with the reason."""
    model = spec.build(np.random.default_rng(config.seed), config.dtype)
    impls, skipped = {"control:reseed": control_impl(spec, config)}, []
    for s in SETTINGS:
        if keys is not None and s.key not in keys:
            continue
        for fw in ("keras", "torch"):
            if fw not in config.impls:
                continue
            why = applicable(s.key, fw, spec, model)
            if why is None:
                impls[f"{fw}:{s.key}"] = naive_impl(s.key, fw, spec, config)
            else:
                skipped.append({"setting": s.key, "framework": fw, "reason": why})
    return impls, skipped


def run_config(name: str, *, full: bool, dtype: str = "float64", seed: int = 0, progress: bool = False,
               budget: dict | None = None) -> RunConfig:
    b = budget or (FULL_BUDGET if full else BUDGET)[name]
    impls = ("scratch", "torch") if name == VARIANT.name else ("scratch", "keras", "torch")
    return replace(RunConfig(name, impls, dtype, seed=seed, progress=progress), **b)
