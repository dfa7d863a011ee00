"""Default hyperparameters and conventions of the textbook, Keras and PyTorch, side by side.

Each ``Default`` row documents a value for each of the three and, for Keras and PyTorch, a
reader that gets the installed library's value: a constructor signature
(``inspect.signature(keras.layers.BatchNormalization.__init__)``) where the library exposes the
default there, otherwise a small experiment (``comparisons/studies/defaults/probes.py``) that observes the
convention (which term BatchNorm's momentum weights, where Adam's epsilon enters, which rows
'same' padding adds...). The report shows what the readers return, so the table stays true when a
library changes; ``tests/test_defaults.py`` fails when a documented value no longer matches the
installed library. The textbook (oreilly-japan/deep-learning-from-scratch, ``common/*.py``) is not
installed: its column is documented from its source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from comparisons.studies.defaults import normact
from comparisons.studies.defaults import probes as P
from comparisons.studies.defaults import probes_recurrent as R
from comparisons.studies.defaults import probes_training as PT
from comparisons.studies.defaults import probes_variants as PV


@dataclass(frozen=True)
class Default:
    """One setting of one component.

    Attributes:
        component: the scratch component (section of the atlas) it belongs to.
        setting: what the row is about (a hyperparameter or a convention).
        textbook, keras, torch: the documented values (short phrases; ``"-"`` where there is none).
        read_keras, read_torch: readers of the installed library's value (``None``: not exposed).
        note: where a value comes from or what follows from it.
    """

    component: str
    setting: str
    textbook: str
    keras: str
    torch: str
    read_keras: Callable[[], object] | None = None
    read_torch: Callable[[], object] | None = None
    note: str = ""


def fmt(value: object) -> str:
    """The text a reader's value is compared as: floats with ``%g``, the rest with ``str``."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(fmt(v) for v in value) + ")"
    return str(value)


def _sig(path: str, name: str) -> Callable[[], object]:
    """A reader of the default of ``name`` in the constructor ``path`` ("keras.layers.Dense")."""
    def read() -> object:
        from reference import frameworks

        root, *attrs = path.split(".")
        obj = frameworks.keras() if root == "keras" else frameworks.torch()
        for a in attrs:
            obj = getattr(obj, a)
        return P.default(obj.__init__, name)
    read.__doc__ = f"inspect.signature({path}.__init__).parameters[{name!r}].default"
    return read


K, T = "keras", "torch"
BN_K, BN_T = "keras.layers.BatchNormalization", "torch.nn.BatchNorm2d"
ROWS: list[Default] = [
    # BatchNorm
    Default("BatchNorm", "momentum (default)", "0.9", "0.99", "0.1", _sig(BN_K, "momentum"), _sig(BN_T, "momentum")),
    Default("BatchNorm", "what momentum weights", "weights the running value", "weights the running value",
            "weights the batch value", P.keras_bn_convention, P.torch_bn_convention,
            "so PyTorch momentum = 1 - Keras momentum; copying 0.99 across is the classic porting error"),
    Default("BatchNorm", "epsilon (default)", "1e-06", "0.001", "1e-05", _sig(BN_K, "epsilon"), _sig(BN_T, "eps"),
            "the textbook writes 10e-7"),
    Default("BatchNorm", "where epsilon enters", "inside the root: sqrt(var + eps)",
            "inside the root: sqrt(var + eps)", "inside the root: sqrt(var + eps)", P.keras_bn_eps_placement,
            P.torch_bn_eps_placement),
    Default("BatchNorm", "running-variance estimator", "biased", "biased", "unbiased (n / (n - 1))",
            P.keras_bn_running_variance, P.torch_bn_running_variance, "no setting makes the two equal"),
    Default("BatchNorm", "initial running variance", "0", "1", "1", P.keras_bn_initial_variance,
            P.torch_bn_initial_variance),
    # Dropout
    Default("Dropout", "rate (default)", "0.5", "required", "0.5", _sig("keras.layers.Dropout", "rate"),
            _sig("torch.nn.Dropout", "p")),
    Default("Dropout", "scaling", "not inverted: x * (1 - rate) at evaluation",
            "inverted: kept x / (1 - rate) in training", "inverted: kept x / (1 - rate) in training",
            P.keras_dropout_scaling, P.torch_dropout_scaling),
    Default("Dropout", "a plain call", "train_flg=True drops", "identity (inference) unless training=True",
            "drops: a new module is in train mode", P.keras_dropout_without_training,
            P.torch_dropout_without_training, "PyTorch needs .eval() before evaluation"),
    # Dense
    Default("Dense", "kernel layout", "(in, out)", "(in, out)", "(out, in)", lambda: P.keras_kernel_shape("Dense"),
            lambda: P.torch_kernel_shape("Dense")),
    Default("Dense", "weight initializer (default)", "caller's choice (0.01 * randn in TwoLayerNet)", "glorot_uniform",
            "U(+-1/sqrt(fan_in))", _sig("keras.layers.Dense", "kernel_initializer"),
            lambda: P.torch_module_default("Linear", "weight"), "PyTorch: kaiming_uniform_(a=sqrt(5))"),
    Default("Dense", "bias initializer (default)", "zeros", "zeros", "U(+-1/sqrt(fan_in))",
            _sig("keras.layers.Dense", "bias_initializer"), lambda: P.torch_module_default("Linear", "bias")),
    # Conv2D
    Default("Conv2D", "kernel layout", "(out, in, kh, kw)", "(kh, kw, in, out)", "(out, in, kh, kw)",
            lambda: P.keras_kernel_shape("Conv2D"), lambda: P.torch_kernel_shape("Conv2D")),
    Default("Conv2D", "padding (default)", "0", "valid", "0", _sig("keras.layers.Conv2D", "padding"),
            _sig("torch.nn.Conv2d", "padding")),
    Default("Conv2D", "'same', kernel 3, stride 2, H = 8", "-", "pads (top, bottom) = (0, 1)",
            "padding='same' raises for stride > 1", P.keras_same_stride2_pads, P.torch_same_stride2,
            "PyTorch padding=1 gives the same shape with different numbers; pad (0, 1) explicitly"),
    Default("Conv2D", "weight initializer (default)", "caller's choice (0.01 * randn in SimpleConvNet)",
            "glorot_uniform", "U(+-1/sqrt(fan_in))", _sig("keras.layers.Conv2D", "kernel_initializer"),
            lambda: P.torch_module_default("Conv2d", "weight")),
    # Flatten
    Default("Flatten", "feature order after a conv", "(c, h, w)", "(h, w, c)", "(c, h, w)", P.keras_flatten_order,
            P.torch_flatten_order, "the Dense after a Keras Flatten needs its rows permuted (reference.layouts)"),
    # losses
    Default("CrossEntropy", "probabilities near 0", "log(p + 1e-07)", "clip p to [1e-07, 1 - 1e-07]",
            "no such loss: NLLLoss takes log-probabilities", PT.keras_probability_ce, None),
    Default("SoftmaxCrossEntropy", "reduction (default)", "mean over the batch", "sum_over_batch_size", "mean",
            _sig("keras.losses.CategoricalCrossentropy", "reduction"), _sig("torch.nn.CrossEntropyLoss", "reduction")),
    # optimizers
    Default("SGD", "learning rate (default)", "0.01", "0.01", "0.001", _sig("keras.optimizers.SGD", "learning_rate"),
            _sig("torch.optim.SGD", "lr")),
    Default("Adam", "learning rate (default)", "0.001", "0.001", "0.001",
            _sig("keras.optimizers.Adam", "learning_rate"), _sig("torch.optim.Adam", "lr")),
    Default("Adam", "epsilon (default)", "1e-07", "1e-07", "1e-08", _sig("keras.optimizers.Adam", "epsilon"),
            _sig("torch.optim.Adam", "eps")),
    Default("Adam", "where epsilon enters", "epsilon hat: lr_t * m / (sqrt(v) + eps)",
            "epsilon hat: lr_t * m / (sqrt(v) + eps)", "after bias correction: m_hat / (sqrt(v_hat) + eps)",
            PT.keras_adam_eps, PT.torch_adam_eps, "no constant epsilon converts one into the other"),
    Default("RMSprop", "learning rate (default)", "0.01", "0.001", "0.01",
            _sig("keras.optimizers.RMSprop", "learning_rate"), _sig("torch.optim.RMSprop", "lr")),
    Default("RMSprop", "decay rho / alpha (default)", "0.99", "0.9", "0.99", _sig("keras.optimizers.RMSprop", "rho"),
            _sig("torch.optim.RMSprop", "alpha")),
    Default("RMSprop", "epsilon (default)", "1e-07", "1e-07", "1e-08", _sig("keras.optimizers.RMSprop", "epsilon"),
            _sig("torch.optim.RMSprop", "eps")),
    Default("RMSprop", "where epsilon enters", "outside the root: sqrt(h) + eps", "inside the root: sqrt(h + eps)",
            "outside the root: sqrt(h) + eps", PT.keras_rmsprop_eps, PT.torch_rmsprop_eps),
    Default("Adagrad", "learning rate (default)", "0.01", "0.001", "0.01",
            _sig("keras.optimizers.Adagrad", "learning_rate"), _sig("torch.optim.Adagrad", "lr")),
    Default("Adagrad", "initial accumulator (default)", "0", "0.1", "0",
            _sig("keras.optimizers.Adagrad", "initial_accumulator_value"),
            _sig("torch.optim.Adagrad", "initial_accumulator_value")),
    Default("Adagrad", "epsilon (default)", "1e-07", "1e-07", "1e-10", _sig("keras.optimizers.Adagrad", "epsilon"),
            _sig("torch.optim.Adagrad", "eps")),
    Default("Adagrad", "where epsilon enters", "outside the root: sqrt(h) + eps", "inside the root: sqrt(h + eps)",
            "outside the root: sqrt(h) + eps", PT.keras_adagrad_eps, PT.torch_adagrad_eps),
    Default("SGD", "weight decay (default)", "0 (L2 on weights only when set)", "None", "0",
            _sig("keras.optimizers.SGD", "weight_decay"), _sig("torch.optim.SGD", "weight_decay"),
            "Keras's is decoupled and applies to every variable; PyTorch's is coupled L2"),
    Default("Adamax", "learning rate (default)", "-", "0.001", "0.002",
            _sig("keras.optimizers.Adamax", "learning_rate"), _sig("torch.optim.Adamax", "lr")),
    Default("Adamax", "epsilon (default)", "-", "1e-07", "1e-08", _sig("keras.optimizers.Adamax", "epsilon"),
            _sig("torch.optim.Adamax", "eps")),
    Default("Adamax", "where epsilon enters", "-", "added to the norm: m / (u + eps)",
            "inside the max: u = max(beta_2 * u, |g| + eps)", PV.keras_adamax_eps, PV.torch_adamax_eps,
            "equal at the first step; with eps = 0 equal always (case adamax/eps-zero/changing-lr)"),
    Default("Nadam", "learning rate (default)", "-", "0.001", "0.002",
            _sig("keras.optimizers.Nadam", "learning_rate"), _sig("torch.optim.NAdam", "lr")),
    Default("Nadam", "epsilon (default)", "-", "1e-07", "1e-08", _sig("keras.optimizers.Nadam", "epsilon"),
            _sig("torch.optim.NAdam", "eps")),
    Default("Nadam", "momentum schedule psi in 0.96^(t * psi)", "-", "1 (fixed: 0.96^t)", "0.004",
            None, _sig("torch.optim.NAdam", "momentum_decay"),
            "Keras Nadam = torch NAdam(momentum_decay=1.0); the defaults are 2.8e-2 apart after 100 steps"),
    Default("ClipGradients", "norm clipping factor", "-", "min(c / N, 1) (clipnorm per variable, global_clipnorm)",
            "min(c / (N + 1e-6), 1) (clip_grad_norm_)", None, None,
            "torch/nn/utils/clip_grad.py; PyTorch has no per-parameter form: call clip_grad_norm_ per parameter"),
    Default("ClipGradients", "norm type (default)", "-", "2 (fixed)", "2",
            None, PV.torch_clip_norm_type),
    Default("Conv2DTranspose", "kernel layout", "-", "(kh, kw, out, in)", "(in, out / groups, kh, kw)",
            PV.keras_transpose_kernel_shape, PV.torch_transpose_kernel_shape),
    Default("Conv2DTranspose", "padding (default)", "-", "valid", "0", _sig("keras.layers.Conv2DTranspose", "padding"),
            _sig("torch.nn.ConvTranspose2d", "padding")),
    Default("Conv2DTranspose", "'same', kernel 3, stride 2", "-", "crops (top, bottom) = (0, 1)",
            "padding=1, output_padding=1 crops (1, 0): shifted one row", None, None,
            "no PyTorch setting crops (0, 1): padding 0 and an explicit crop (tests/test_conv_variants.py)"),
    Default("DepthwiseConv2D", "depth multiplier (default)", "-", "1", "out_channels / groups",
            _sig("keras.layers.DepthwiseConv2D", "depth_multiplier"), None,
            "PyTorch: nn.Conv2d(C, C * M, k, groups=C); outputs ordered c * M + m on both sides"),
    Default("GlobalAvgPool2D", "output rank", "-", "2-D", "4-D", PV.keras_global_pool_rank, PV.torch_global_pool_rank,
            "Keras keepdims=False gives (N, C); PyTorch AdaptiveAvgPool2d(1) gives (N, C, 1, 1)"),
    Default("GlobalMaxPool2D", "gradient at a tied maximum", "-", "split equally among the maxima",
            "all to the first maximum", PV.keras_global_max_ties, PV.torch_global_max_ties,
            "Keras MaxPooling2D picks one cell; Keras's global max (tf.reduce_max) splits"),
    # schedules
    Default("ExponentialDecay", "what a schedule counts", "-", "optimizer updates applied, from 0: schedule(0) for "
            "the first", "scheduler.step() calls, from 0 (step once per epoch or batch, by hand)",
            PT.keras_schedule_count, PT.torch_schedule_count),
    Default("CosineDecay", "after decay_steps / T_max", "-", "held at alpha * lr0", "rises again (period 2 T_max)",
            PT.keras_cosine_after_decay, PT.torch_cosine_after_decay),
    Default("PolynomialDecay", "end value (default)", "-", "0.0001", "0 (PolynomialLR has no end value)",
            _sig("keras.optimizers.schedules.PolynomialDecay", "end_learning_rate"), None),
    # ReduceLROnPlateau
    Default("ReduceLROnPlateau", "patience (default)", "-", "10", "10", _sig("keras.callbacks.ReduceLROnPlateau",
            "patience"), _sig("torch.optim.lr_scheduler.ReduceLROnPlateau", "patience")),
    Default("ReduceLROnPlateau", "how patience counts", "-", "patience=2: after 2 epochs without improvement",
            "patience=2: after 3 epochs without improvement", PT.keras_plateau_first_reduction,
            PT.torch_plateau_first_reduction, "Keras(patience=p) = PyTorch(patience=p - 1, threshold_mode='abs')"),
    Default("ReduceLROnPlateau", "improvement threshold (default)", "-", "0.0001", "0.0001",
            _sig("keras.callbacks.ReduceLROnPlateau", "min_delta"),
            _sig("torch.optim.lr_scheduler.ReduceLROnPlateau", "threshold")),
    Default("ReduceLROnPlateau", "threshold mode (default)", "-", "absolute (min_delta)", "rel",
            PT.keras_plateau_threshold_mode, _sig("torch.optim.lr_scheduler.ReduceLROnPlateau", "threshold_mode"),
            "Keras has no relative mode; at loss 0.01 PyTorch's 1e-4 means 1e-6"),
    # recurrent layers (in = features, u = units)
    Default("SimpleRNN", "weights", "-", "kernel (in, u), recurrent_kernel (u, u), bias (u,)",
            "weight_ih (u, in), weight_hh (u, u), bias_ih (u,), bias_hh (u,)", lambda: R.keras_weights("SimpleRNN"),
            lambda: R.torch_weights("SimpleRNN"), "PyTorch's two biases enter only as their sum"),
    Default("LSTM", "weights", "-", "kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,)",
            "weight_ih (4u, in), weight_hh (4u, u), bias_ih (4u,), bias_hh (4u,)", lambda: R.keras_weights("LSTM"),
            lambda: R.torch_weights("LSTM"), "same gate order i, f, c/g, o: transpose; bias_ih + bias_hh = bias"),
    Default("LSTM", "unit_forget_bias (default)", "-", "True", "- (no such option)",
            _sig("keras.layers.LSTM", "unit_forget_bias"), None,
            "Keras adds 1 to the forget-gate bias at initialisation; PyTorch draws it from U(+-1/sqrt(u))"),
    Default("LSTM", "recurrent kernel initializer (default)", "-", "orthogonal", "U(+-1/sqrt(u))",
            _sig("keras.layers.LSTM", "recurrent_initializer"), None, "PyTorch: every weight and bias U(+-1/sqrt(u))"),
    Default("GRU", "weights", "-", "kernel (in, 3u), recurrent_kernel (u, 3u), bias (2, 3u)",
            "weight_ih (3u, in), weight_hh (3u, u), bias_ih (3u,), bias_hh (3u,)", lambda: R.keras_weights("GRU"),
            lambda: R.torch_weights("GRU"), "Keras bias row 0 = input bias, row 1 = recurrent bias (reset_after)"),
    Default("GRU", "gate order of the weight blocks", "-", "update, reset, candidate", "reset, update, candidate",
            R.keras_gru_gate_order, R.torch_gru_gate_order,
            "Keras z, r, h vs PyTorch r, z, n: a copy that only transposes trains, and is another network"),
    Default("GRU", "reset_after (default)", "-", "True", "- (always after: no reset-before form)",
            _sig("keras.layers.GRU", "reset_after"), None),
]

ROWS += normact.rows(Default)  # LayerNorm, GroupNorm, Embedding, activations beyond the book


def read(row: Default) -> dict[str, str | None]:
    """The installed libraries' values of ``row`` (``None`` where there is no reader)."""
    return {fw: None if reader is None else fmt(reader())
            for fw, reader in ((K, row.read_keras), (T, row.read_torch))}


def mismatches(rows: list[Default] = ROWS) -> list[str]:
    """One line per documented value that the installed library contradicts."""
    out = []
    for row in rows:
        for fw, value in read(row).items():
            documented = getattr(row, fw)
            if value is not None and value != documented:
                out.append(f"{row.component} / {row.setting} [{fw}]: documented {documented!r}, installed {value!r}")
    return out


def _cell(row: Default, fw: str, value: str | None) -> str:
    documented = getattr(row, fw)
    if value is None:
        return f"{documented} (documented)"
    return value if value == documented else f"{value} (documented: {documented}; MISMATCH)"


def table(rows: list[Default] = ROWS) -> pd.DataFrame:
    """The defaults table as the report shows it: the installed values, read now."""
    records = []
    for row in rows:
        got = read(row)
        records.append({"component": row.component, "setting": row.setting, "textbook": row.textbook,
                        "Keras (installed)": _cell(row, K, got[K]), "PyTorch (installed)": _cell(row, T, got[T]),
                        "note": row.note})
    return pd.DataFrame(records)


def components(rows: list[Default] = ROWS) -> list[str]:
    return list(dict.fromkeys(r.component for r in rows))
