"""The fast numerical gradient against the textbook's loop, gradient_check, training with numerical
gradients, the precision finding and the commands (no MNIST: small random batches).

Tolerances. Fast path and textbook loop compute the same difference quotient of the same loss;
they differ only in how each perturbed loss is rounded, which moves a quotient by about
ulp(L) / 2h. At h = 1e-2 that is ~1e-14, far below 1e-10 of the gradients here (>= 1e-3), so the
two must agree to 1e-10 normwise; at the textbook's h = 1e-4 the bound is checked directly:
max abs difference <= 16 eps max(|L|, 1) / h.
"""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from comparisons.harness.metrics import error
from comparisons.studies import models
from comparisons.studies.numgrad import check as numgrad
from comparisons.studies.numgrad import cli as numgrad_cli
from comparisons.studies.numgrad import train as numgrad_train
from comparisons.studies.numgrad.study import precision_study, worst_table
from scratch import gradcheck as gc
from scratch import layers as L
from scratch import losses as S
from scratch.fastgrad import fast_numerical_gradient
from scratch.model import Sequential

RTOL_AGREE, H_AGREE = 1e-10, 1e-2
EPS = np.finfo(np.float64).eps


def _naive_views(model, limit: int = 3000) -> dict[str, np.ndarray]:
    """Every parameter array; for one larger than ``limit``, a block of its leading-axis slices (a
    view, so the textbook loop perturbs the model's own array)."""
    out = {}
    for name, p in model.params.items():
        if p.size <= limit:
            out[name] = p
        else:
            k = max(1, limit // int(np.prod(p.shape[1:])))
            s = p.shape[0] // 2
            out[name] = p[s:s + k]
    return out


def _agree(model, x, t, *, h, training=True, loss=None, masks=None, method="central", limit=3000):
    """(fast, naive) gradients on the entries the textbook loop covers, the loss value, and the fast
    gradient of every whole array (whose largest entry is the scale of a normwise error)."""
    fast = fast_numerical_gradient(model, x, t, training=training, loss=loss, masks=masks, h=h, method=method)
    saved = {k: v.copy() for k, v in model.buffers.items()}  # a training forward updates them
    f = gc.loss_function(model, x, t, training=training, loss=loss, masks=masks)
    value = f()
    views = _naive_views(model, limit)
    naive = {k: gc.numerical_gradient(f, v, h=h, method=method) for k, v in views.items()}
    gc._restore_buffers(model, saved)
    pairs = {}
    for name, v in views.items():
        p = model.params[name]
        start = 0 if v.shape == p.shape else p.shape[0] // 2
        pairs[name] = (fast[name][start:start + len(v)] if v.shape != p.shape else fast[name], naive[name])
    return pairs, value, fast


def _batch(shape, n=3, seed=0, k=10):
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape)), rng.integers(0, k, n)


# simple_convnet: with h = 1e-5 a max-pool window's two largest values (weights ~0.01) swap within the
# step, a kink that no difference quotient follows; h = 1e-6 avoids it on this batch, and at that
# step the rounding floor eps |L| / h = 5e-10 is 6e-7 of dense4.W's largest gradient entry: rtol 1e-5.
CHECK = {"twolayer": (1e-5, 1e-6), "mlp4x32": (1e-5, 1e-6), "simple_convnet": (1e-6, 1e-5)}
LIMIT = {"twolayer": 1200, "mlp4x32": 1200, "simple_convnet": 400}  # textbook-loop entries per array (time)


# simple_convnet's check (430,000 parameters, a minute on two cores) runs with the slow set; the fast
# set covers every convolution and pooling layer on a small network (test_every_layer_type_...).
@pytest.mark.parametrize("name", ["twolayer", "mlp4x32", pytest.param("simple_convnet", marks=pytest.mark.slow)])
def test_fast_equals_textbook_loop_and_backprop_on_model_specs(name):
    model = models.build(name, seed=1, dtype="float64")
    x, t = _batch(models.get(name).input_shape)
    pairs, _, full = _agree(model, x, t, h=H_AGREE, limit=LIMIT[name])
    for pname, (fast, naive) in pairs.items():
        e = error(fast, naive, pname)
        rel = e.max_abs / np.abs(full[pname]).max()  # normwise over the whole array, of which a block is checked
        assert rel < RTOL_AGREE, f"{name} {pname}: {e.describe()}"
    h, rtol = CHECK[name]
    df = numgrad.gradient_check(model, x, t, h=h, rtol=rtol)
    assert (df["verdict"] == "pass").all(), df.to_string()
    assert list(df["parameter"]) == list(model.params)


def test_fast_equals_textbook_loop_at_textbook_step_within_rounding():
    model = models.build("twolayer", seed=2, dtype="float64")
    x, t = _batch((784,), n=5)
    pairs, value, _ = _agree(model, x, t, h=1e-4, limit=1200)
    bound = 16 * EPS * max(abs(value), 1) / 1e-4
    for pname, (fast, naive) in pairs.items():
        assert np.abs(fast - naive).max() <= bound, pname


def _conv_zoo(rng, bn):
    return Sequential([
        L.Conv2D(2, 3, 3, padding=1, rng=rng), bn, L.ReLU(), L.MaxPool2D(2),
        L.Conv2D(3, 4, 3, padding="same", weight_init="keras.he_normal", rng=rng), L.Sigmoid(), L.AvgPool2D(2),
        L.Dropout(0.3, rng=rng), L.Flatten(), L.Dense(16, 5, bias_init="glorot_uniform", rng=rng), L.Tanh(),
        L.Dense(5, 4, rng=rng), L.Softmax(),
    ])


def _dense_zoo(rng):
    return Sequential([L.Dense(6, 7, rng=rng), L.BatchNorm.keras(7), L.ReLU(), L.Dropout(0.25, rng=rng),
                       L.Dense(7, 5, bias_init="glorot_uniform", rng=rng), L.Sigmoid(), L.Dense(5, 3, rng=rng)])


ZOO = {
    "conv-bn-channel": (lambda rng: _conv_zoo(rng, L.BatchNorm.torch(3)), (2, 8, 8), S.SoftmaxCrossEntropy()),
    "conv-bn-activation": (lambda rng: _conv_zoo(rng, L.BatchNorm.textbook(3 * 8 * 8)), (2, 8, 8),
                           S.CrossEntropy("textbook")),
    "dense-textbook-softmax-loss": (_dense_zoo, (6,), S.SoftmaxCrossEntropy(semantics="textbook")),
    "dense-mse": (_dense_zoo, (6,), S.MeanSquaredError()),
    "dense-sse": (_dense_zoo, (6,), S.SumSquaredError()),
}


def _zoo(key, seed=0, n=5):
    build, shape, loss = ZOO[key]
    rng = np.random.default_rng(seed)
    model = build(rng)
    x = rng.standard_normal((n, *shape))
    k = model.forward(x, training=False).shape[1]
    t = rng.integers(0, k, n) if isinstance(loss, (S.SoftmaxCrossEntropy, S.CrossEntropy)) else rng.random((n, k))
    return model, x, t, loss


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("key", list(ZOO))
def test_every_layer_type_fast_equals_loop_and_backprop(key, training):
    model, x, t, loss = _zoo(key)
    if not training:  # non-trivial running statistics
        model.forward(np.random.default_rng(9).standard_normal(x.shape) * 2 + 0.5, training=True)
    masks = gc.fixed_masks(model, x) if training else None
    before = {k: v.copy() for k, v in model.buffers.items()}
    pairs, _, _ = _agree(model, x, t, h=H_AGREE, training=training, loss=loss, masks=masks)
    for pname, (fast, naive) in pairs.items():
        scale = max(np.abs(naive).max(), 1e-3)  # a bias before BatchNorm has a zero gradient
        assert np.abs(fast - naive).max() / scale < RTOL_AGREE, f"{key} {pname}"
    assert all(np.array_equal(before[k], v) for k, v in model.buffers.items()), "buffers changed"
    df = numgrad.gradient_check(model, x, t, training=training, loss=loss, masks=masks)
    assert set(df["verdict"]) <= {"pass", "pass (zero)"}, df.to_string()
    assert len(df) == len(model.params)


def test_bn_dropout_spec_in_training_mode_with_fixed_masks():
    model = models.build("mlp4x128_bn_dropout", seed=0, dtype="float64")
    x, t = _batch((784,), n=4)
    masks = gc.fixed_masks(model, x)
    small = ["batchnorm2.gamma", "batchnorm2.beta", "dense1.b", "batchnorm14.gamma", "dense17.W", "dense17.b"]
    fast = fast_numerical_gradient(model, x, t, training=True, masks=masks, h=H_AGREE, params=small)
    naive = gc.model_numerical_gradient(model, x, t, training=True, masks=masks, h=H_AGREE, params=small)
    for name in small:
        assert np.abs(fast[name] - naive[name]).max() / max(np.abs(naive[name]).max(), 1e-3) < RTOL_AGREE, name
    df = numgrad.gradient_check(model, x, t, masks=masks, params=small)
    assert df.set_index("parameter").loc["dense1.b", "verdict"] == "pass (zero)"  # BatchNorm cancels it
    assert set(df["verdict"]) <= {"pass", "pass (zero)"}, df.to_string()


def test_forward_difference_and_tiny_chunks_agree():
    model, x, t, loss = _zoo("dense-mse")
    masks = gc.fixed_masks(model, x)
    pairs, _, _ = _agree(model, x, t, h=H_AGREE, loss=loss, masks=masks, method="forward")
    for pname, (fast, naive) in pairs.items():
        assert np.abs(fast - naive).max() / max(np.abs(naive).max(), 1e-3) < RTOL_AGREE, pname
    big = fast_numerical_gradient(model, x, t, training=True, loss=loss, masks=masks)
    tiny = fast_numerical_gradient(model, x, t, training=True, loss=loss, masks=masks, max_bytes=1)
    assert all(np.abs(big[k] - tiny[k]).max() <= 16 * EPS * 10 / 1e-4 for k in big)


def test_caches_and_buffers_left_as_after_a_base_forward():
    model, x, t, loss = _zoo("conv-bn-channel")
    masks = gc.fixed_masks(model, x)
    _, bp = gc.backprop_gradient(model, x, t, training=True, loss=loss, masks=masks)
    buffers = {k: v.copy() for k, v in model.buffers.items()}
    fast_numerical_gradient(model, x, t, training=True, loss=loss, masks=masks, params=["conv2d0.b"])
    loss.forward(model.forward(x, training=True, masks=masks), t)
    model.backward(loss.backward(1.0))
    assert all(np.allclose(model.grads[k], bp[k], rtol=0, atol=1e-15) for k in bp)
    assert not all(np.array_equal(buffers[k], v) for k, v in model.buffers.items())  # that forward did update
    model.load_state({**model.params, **buffers})
    fast_numerical_gradient(model, x, t, training=True, loss=loss, masks=masks)
    assert all(np.array_equal(buffers[k], v) for k, v in model.buffers.items())


class _VectorLoss:
    def forward(self, y, t):
        return (y - 0.0).sum(axis=1)


class _NanLoss:
    def forward(self, y, t):
        return np.float64("nan")


def test_bad_arguments_raise_value_errors_naming_them():
    model = models.build("twolayer", seed=0, dtype="float64")
    x, t = _batch((784,), n=2)
    fns = [fast_numerical_gradient, gc.model_numerical_gradient]
    for fn in fns:
        for h in (0, -1e-4, float("nan"), True):
            with pytest.raises(ValueError, match="h:"):
                fn(model, x, t, training=True, h=h)
        with pytest.raises(ValueError, match="scalar"):
            fn(model, x, t, training=True, loss=_VectorLoss())
        with pytest.raises(ValueError, match="non-finite"):
            fn(model, x, t, training=True, loss=_NanLoss())
        with pytest.raises(ValueError, match="method"):
            fn(model, x, t, training=True, method="backward")
        with pytest.raises(ValueError, match="params"):
            fn(model, x, t, training=True, params=["dense9.W"])
    with pytest.raises(ValueError, match="h:"):
        numgrad.gradient_check(model, x, t, h=0.0)
    with pytest.raises(ValueError, match="non-finite"):
        numgrad.gradient_check(model, x, t, loss=_NanLoss())
    with pytest.raises(ValueError, match="loss: expected a scalar"):
        numgrad.gradient_check(model, x, t, loss=_VectorLoss())
    drop = models.build("mlp4x128_bn_dropout", seed=0, dtype="float64")
    with pytest.raises(ValueError, match="dropout4"):  # a Dropout in training mode needs its mask
        fast_numerical_gradient(drop, *_batch((784,), n=2), training=True, params=["dense17.b"])

    class Odd(L.Layer):  # declares no traits: the fast gradient cannot know whether it mixes samples
        def _forward(self, x, *, training):
            self._out_shape = x.shape
            return x

    odd = Sequential([L.Dense(784, 3, rng=np.random.default_rng(0)), Odd()], names=["d", "odd"])
    with pytest.raises(ValueError, match="'odd'.*`per_sample`"):
        fast_numerical_gradient(odd, x, t % 3, training=True)

    class Relu2(L.ReLU):  # a subclass inherits the traits declared on ReLU
        pass
    inherits = Sequential([L.Dense(784, 3, rng=np.random.default_rng(0)), Relu2()], names=["d", "relu"])
    assert fast_numerical_gradient(inherits, x, t % 3, training=True, params=["d.b"])["d.b"].shape == (3,)


def test_float32_gradient_check_warns_and_opt_in_silences():
    model = models.build("twolayer", seed=0, dtype="float32")
    x, t = _batch((784,), n=2)
    x = x.astype(np.float32)
    with pytest.warns(gc.PrecisionWarning, match="float32.*2h"):
        numgrad.gradient_check(model, x, t, params=["dense2.b"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        numgrad.gradient_check(model, x, t, params=["dense2.b"], allow_low_precision=True)


@pytest.mark.slow  # the full numerical gradient of a 784-50-10 network, four times (the report job reruns it)
def test_precision_float32_useless_float64_close_at_textbook_step():
    rng = np.random.default_rng(0)
    x = rng.random((100, 784)) * (rng.random((100, 784)) < 0.2)
    long = precision_study(x, rng.integers(0, 10, 100), hs=(1e-4,), progress=False)
    worst = worst_table(long).iloc[0]
    # float32: the rounding of the loss over 2h is as large as the first layer's gradient
    assert worst["float32, textbook loop"] > 0.5 and worst["float32, fast"] > 0.5
    assert worst["float64, textbook loop"] < 1e-6 and worst["float64, fast"] < 1e-6


def test_xor_learned_with_numerical_gradients_tracks_backprop():
    df = numgrad_train.train_side_by_side(numgrad_train.gate_problem("XOR"), iters=1500, lr=2.0, eval_every=500,
                                    progress=False, log=None)
    last = df.iloc[-1]
    assert last["train_acc_numerical"] == 1.0 and last["loss_numerical"] < 0.05
    assert last["weights_rel_diff"] < 1e-6  # the same trajectory as backprop, up to the difference error


def _run(tmp_path, *argv):
    p = argparse.ArgumentParser()
    numgrad_cli.add_commands(p.add_subparsers(dest="command", required=True))
    args = p.parse_args([*argv, "--out", str(tmp_path), "-q"])
    assert args.func(args) == 0


def test_commands_run_on_tiny_settings(tmp_path):
    _run(tmp_path, "numgrad-train", "--model", "gates", "--gates", "XOR,NAND", "--iters", "40", "--eval-every", "20")
    assert (tmp_path / "numgrad" / "gates_lr1_40iters.csv").read_text().count("XOR") == 3  # iterations 0, 20, 40
    assert (tmp_path / "numgrad" / "gates_lr1_40iters.png").stat().st_size > 0
    _run(tmp_path, "numgrad-train", "--model", "twolayer", "--synthetic", "60", "--iters", "2", "--batch-size", "10")
    assert "learning rate 0.1" in (tmp_path / "numgrad" / "twolayer_lr0p1_2iters.md").read_text()
    _run(tmp_path, "bench-numgrad", "--synthetic", "--naive-entries", "40", "--train-iters", "1", "--repeats", "1")
    text = (tmp_path / "numgrad_speed.md").read_text()
    assert "extrapolated" in text and "fast, central" in text
