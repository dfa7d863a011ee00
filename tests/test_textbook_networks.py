"""The book's networks (scratch.textbook): a worked example, gradients, numerical gradients (fast and the
book's loop), the pickle format, the book's randomness, bad input."""

# The book draws from NumPy's global generator (np.random.seed / randn / rand / choice); the tests do too.
# ruff: noqa: NPY002
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from scratch.textbook.ch04 import TwoLayerNet as TwoLayerNet4
from scratch.textbook.ch05 import TwoLayerNet
from scratch.textbook.deep_convnet import DeepConvNet
from scratch.textbook.multi_layer_net import MultiLayerNet
from scratch.textbook.multi_layer_net_extend import MultiLayerNetExtend
from scratch.textbook.simple_convnet import SimpleConvNet

EPS = np.finfo(np.float64).eps
H = 1e-4


# -- a worked example: 1 input, 2 hidden ReLU units, 2 classes -------------------------------------------
def _tiny(net):
    # x = 2; a1 = 2 * (1, -1) + (0, 0.5) = (2, -1.5); relu -> (2, 0); scores = (2, 0) @ I = (2, 0)
    net.set_params({"W1": np.array([[1.0, -1.0]]), "b1": np.array([0.0, 0.5]), "W2": np.eye(2), "b2": np.zeros(2)})
    return np.array([[2.0]]), np.array([0])


def test_two_layer_net_by_hand():
    net = TwoLayerNet(1, 2, 2)
    x, t = _tiny(net)
    p0 = math.exp(2) / (math.exp(2) + 1)          # softmax of (2, 0) at class 0 = 0.8807970779778823
    assert net.loss(x, t) == pytest.approx(-math.log(p0 + 1e-7), rel=1e-15)
    assert net.loss(x, t) == pytest.approx(0.1269279, abs=1e-7)
    g = net.gradient(x, t)
    d = p0 - 1.0                                  # dL/dscore_0 = p0 - 1 = -0.1192029..., dL/dscore_1 = 1 - p0
    np.testing.assert_allclose(g["W2"], [[2 * d, -2 * d], [0.0, 0.0]], rtol=1e-14)   # relu out (2, 0) times d
    np.testing.assert_allclose(g["b2"], [d, -d], rtol=1e-14)
    np.testing.assert_allclose(g["W1"], [[2 * d, 0.0]], rtol=1e-14)                  # unit 2 is off: no gradient
    np.testing.assert_allclose(g["b1"], [d, 0.0], rtol=1e-14)
    assert net.accuracy(x, t) == 1.0


def test_multi_layer_net_weight_decay_by_hand():
    net = MultiLayerNet(1, [2], 2, weight_decay_lambda=0.1)
    x, t = _tiny(net)
    # 0.5 * 0.1 * (sum W1**2 + sum W2**2) = 0.05 * (2 + 2) = 0.2; biases are not decayed
    assert net.loss(x, t) == pytest.approx(-math.log(math.exp(2) / (math.exp(2) + 1) + 1e-7) + 0.2, rel=1e-15)
    plain = TwoLayerNet(1, 2, 2)
    _tiny(plain)
    g, g0 = net.gradient(x, t), plain.gradient(x, t)
    np.testing.assert_array_equal(g["W1"], g0["W1"] + 0.1 * net.params["W1"])
    np.testing.assert_array_equal(g["W2"], g0["W2"] + 0.1 * net.params["W2"])
    np.testing.assert_array_equal(g["b1"], g0["b1"])


# -- backprop against numerical gradients ----------------------------------------------------------------
def _data(rng, n=12, d=6, k=3):
    return rng.standard_normal((n, d)), rng.integers(0, k, n)


def _nets():
    """(name, network, x, t): small networks of every kind, smooth where possible."""
    rng = np.random.default_rng(0)
    x, t = _data(rng)
    np.random.seed(0)
    out = [("ch04", TwoLayerNet4(6, 5, 3, weight_init_std=0.5), x, np.eye(3)[t]),
           ("ch05", TwoLayerNet(6, 5, 3, weight_init_std=0.5), x, t),
           ("mln-sigmoid-wd", MultiLayerNet(6, [5, 4], 3, activation="sigmoid", weight_init_std="xavier",
                                            weight_decay_lambda=0.1), x, t),
           ("mlne-bn-wd", MultiLayerNetExtend(6, [5, 4], 3, activation="sigmoid", weight_init_std="sigmoid",
                                              weight_decay_lambda=0.05, use_batchnorm=True), x, t),
           ("mlne-bn-dropout", MultiLayerNetExtend(6, [5, 4], 3, activation="sigmoid", use_dropout=True,
                                                   dropout_ration=0.3, use_batchnorm=True), x, t)]
    xi = rng.standard_normal((4, 1, 6, 6))
    out.append(("simple_convnet", SimpleConvNet((1, 6, 6), {"filter_num": 2, "filter_size": 3, "pad": 1,
                                                            "stride": 1}, 5, 3, 0.3), xi, rng.integers(0, 3, 4)))
    return out


NETS = _nets()


@pytest.mark.parametrize(("name", "net", "x", "t"), NETS, ids=[n[0] for n in NETS])
def test_gradient_matches_numerical_gradient(name, net, x, t):
    np.random.seed(5)
    numeric = net.numerical_gradient(x, t)
    np.random.seed(5)  # the same dropout masks in the loss that gradient differentiates
    grads = net.gradient(x, t)
    assert set(grads) == set(numeric) == set(net.params)
    scale = max(np.max(np.abs(g)) for g in grads.values())
    for key in grads:
        # Normwise against the largest gradient of the network (a bias before BatchNorm has gradient 0).
        # The book's backward is the gradient of the loss without its 1e-7 (the softmax's y - t), the
        # numerical one that of the loss with it: relative gap ~1e-7 / y_label (measured up to 1.3e-6
        # here, ch04 / ch05); central differences at h = 1e-4 add h^2 f''' / 6 (~1e-9) and ulp(L) / 2h.
        assert np.max(np.abs(numeric[key] - grads[key])) / scale < 1e-5, key


@pytest.mark.parametrize(("name", "net", "x", "t"), [n for n in NETS if "dropout" not in n[0]],
                         ids=[n[0] for n in NETS if "dropout" not in n[0]])
def test_fast_numerical_gradient_equals_the_book_loop(name, net, x, t):
    fast = net.numerical_gradient(x, t)
    loop = net.numerical_gradient(x, t, book_loop=True)
    bound = 16 * EPS * max(abs(float(net.loss(x, t))), 1.0) / H  # each quotient moves by ~ulp(L) / 2h
    for key in fast:
        assert np.max(np.abs(fast[key] - loop[key])) <= bound, key


def test_fast_numerical_gradient_draws_the_masks_of_one_loss_call_and_keeps_running_stats():
    _, net, x, t = next(n for n in NETS if n[0] == "mlne-bn-dropout")
    net.loss(x, t, train_flg=True)
    before = net.layers["BatchNorm1"].running_mean.copy()
    np.random.seed(11)
    net.numerical_gradient(x, t)
    after_numgrad = np.random.rand()
    np.testing.assert_array_equal(net.layers["BatchNorm1"].running_mean, before)
    np.random.seed(11)
    net.loss(x, t, train_flg=True)
    assert np.random.rand() == after_numgrad  # the generator advanced exactly as by one loss call
    assert not np.array_equal(net.layers["BatchNorm1"].running_mean, before)  # (a loss call moves them)


# -- the book's pickle format -------------------------------------------------------------------------------
def test_save_load_round_trip_and_plain_pickle(tmp_path):
    np.random.seed(1)
    a = SimpleConvNet((1, 6, 6), {"filter_num": 2, "filter_size": 3, "pad": 1, "stride": 1}, 5, 3, 0.3)
    np.random.seed(2)
    b = SimpleConvNet((1, 6, 6), {"filter_num": 2, "filter_size": 3, "pad": 1, "stride": 1}, 5, 3, 0.3)
    x = np.random.default_rng(3).standard_normal((4, 1, 6, 6))
    a.save_params(tmp_path / "params.pkl")
    with open(tmp_path / "params.pkl", "rb") as f:
        stored = pickle.load(f)
    assert type(stored) is dict and sorted(stored) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    b.load_params(tmp_path / "params.pkl")
    np.testing.assert_array_equal(b.predict(x), a.predict(x))
    assert b.layers["Conv1"].W is b.params["W1"] and b.layers["Affine2"].b is b.params["b3"]
    # a pickle written by plain pickle.dump of a dict of arrays (the book's save_params does this)
    np.random.seed(4)
    mln = MultiLayerNet(3, [4], 2)
    weights = {"W1": np.full((3, 4), 0.5), "b1": np.arange(4.0), "W2": np.ones((4, 2)), "b2": np.array([1.0, -1.0])}
    with open(tmp_path / "plain.pkl", "wb") as f:
        pickle.dump(weights, f)
    mln.load_params(tmp_path / "plain.pkl")
    for key, val in weights.items():
        np.testing.assert_array_equal(mln.params[key], val)
    # x = (1, 1, 1): hidden 1.5 + (0, 1, 2, 3) = (1.5, 2.5, 3.5, 4.5), relu, sum 12 -> scores 12 + (1, -1)
    np.testing.assert_array_equal(mln.predict(np.ones((1, 3))), [[13.0, 11.0]])


def test_load_params_bad_input(tmp_path):
    np.random.seed(0)
    net = TwoLayerNet(3, 4, 2)
    for bad, match in (({"W9": np.ones(2)}, "unknown key 'W9'"), ({"W1": np.ones((4, 3))}, r"\['W1'\]: expected shape"),
                       ([1, 2], "expected a dict of arrays")):
        with open(tmp_path / "bad.pkl", "wb") as f:
            pickle.dump(bad, f)
        with pytest.raises(ValueError, match=match):
            net.load_params(tmp_path / "bad.pkl")


# -- the book's randomness ------------------------------------------------------------------------------------
def test_weights_are_drawn_as_the_book_draws_them():
    np.random.seed(42)
    net = MultiLayerNetExtend(3, [4], 2, weight_init_std="he", use_batchnorm=True)
    np.random.seed(42)
    w1 = math.sqrt(2.0 / 3) * np.random.randn(3, 4)
    w2 = math.sqrt(2.0 / 4) * np.random.randn(4, 2)
    np.testing.assert_array_equal(net.params["W1"], w1)
    np.testing.assert_array_equal(net.params["W2"], w2)
    assert list(net.params) == ["W1", "b1", "W2", "b2", "gamma1", "beta1"]
    np.random.seed(42)
    net = TwoLayerNet(3, 4, 2)
    np.random.seed(42)
    np.testing.assert_array_equal(net.params["W1"], 0.01 * np.random.randn(3, 4))
    np.testing.assert_array_equal(net.params["W2"], 0.01 * np.random.randn(4, 2))


def test_dropout_masks_are_np_random_rand():
    np.random.seed(0)
    net = MultiLayerNetExtend(3, [4, 4], 2, use_dropout=True, dropout_ration=0.3)
    x = np.ones((5, 3))
    np.random.seed(9)
    net.predict(x, train_flg=True)
    np.random.seed(9)
    m1, m2 = np.random.rand(5, 4) > 0.3, np.random.rand(5, 4) > 0.3
    np.testing.assert_array_equal(net.layers["Dropout1"].mask, m1)
    np.testing.assert_array_equal(net.layers["Dropout2"].mask, m2)


def test_same_seed_same_run():
    rng = np.random.default_rng(1)
    x, t = _data(rng, n=40)
    runs = []
    for _ in range(2):
        np.random.seed(3)
        net = MultiLayerNetExtend(6, [5], 3, use_dropout=True, use_batchnorm=True)
        losses = []
        for _ in range(5):
            idx = np.random.choice(40, 8)
            grads = net.gradient(x[idx], t[idx])
            for key in net.params:
                net.params[key] -= 0.1 * grads[key]
            losses.append(net.loss(x[idx], t[idx], train_flg=True))
        runs.append(losses)
    assert runs[0] == runs[1]


def test_deep_convnet_layout_and_init():
    np.random.seed(0)
    net = DeepConvNet()
    assert len(net.layers) == 20 and sorted(net.params) == sorted([f"{p}{i}" for p in "Wb" for i in range(1, 9)])
    np.random.seed(0)
    np.testing.assert_array_equal(net.params["W1"], math.sqrt(2.0 / 9) * np.random.randn(16, 1, 3, 3))
    assert net.params["W7"].shape == (1024, 50) and net.params["W8"].shape == (50, 10)
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28))
    assert net.predict(x).shape == (3, 10)
    # the book's batched accuracy drops the samples after the last whole batch: 3 samples, batch 2
    t = np.argmax(net.predict(x), axis=1)
    assert net.accuracy(x, t, batch_size=2) == pytest.approx(2 / 3)


# -- bad input -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("make", "match"), [
    (lambda: MultiLayerNet(3, [4], 2, activation="tanh"), "activation: expected 'relu' or 'sigmoid', got 'tanh'"),
    (lambda: MultiLayerNet(3, [4], 2, weight_init_std="glorot"), "weight_init_std: expected 'relu', 'he'"),
    (lambda: MultiLayerNet(3, 4, 2), "hidden_size_list: expected a list of positive integers, got 4"),
    (lambda: MultiLayerNet(3, [4], 2, weight_decay_lambda=-1), "weight_decay: expected a finite number >= 0"),
    (lambda: MultiLayerNetExtend(3, [4], 2, use_dropout="yes"), "use_dropout: expected True or False"),
    (lambda: SimpleConvNet((1, 7, 7), {"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1}),
     "conv_param: the convolution gives 5.0 x 5.0 outputs"),
    (lambda: SimpleConvNet(conv_param={"filter_num": 2}), "conv_param: expected a dict with keys"),
])
def test_bad_constructor_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_labels_that_do_not_match_the_batch():
    np.random.seed(0)
    net = TwoLayerNet(3, 4, 2)
    with pytest.raises(ValueError, match=r"t: expected labels of shape \(5,\)"):
        net.loss(np.ones((5, 3)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"t: expected labels of shape \(5,\)"):
        net.accuracy(np.ones((5, 3)), np.zeros((5, 2, 1)))


def test_chapter4_net_save_load(tmp_path):
    np.random.seed(0)
    a = TwoLayerNet4(3, 4, 2)
    np.random.seed(1)
    b = TwoLayerNet4(3, 4, 2)
    a.save_params(tmp_path / "p.pkl")
    b.load_params(tmp_path / "p.pkl")
    x = np.ones((2, 3))
    np.testing.assert_array_equal(b.predict(x), a.predict(x))


def test_float32_images_meet_float64_weights_as_in_the_book():
    # the book's MNIST images are float32, its weights float64: NumPy promotes, so do the layers
    np.random.seed(0)
    net = TwoLayerNet(4, 3, 2, weight_init_std=0.5)
    x, t = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32), np.array([0, 1, 1, 0, 1])
    fast = net.numerical_gradient(x, t)
    grads = net.gradient(x.astype(np.float64), t)
    for key in grads:
        assert fast[key].dtype == np.float64
        assert np.max(np.abs(fast[key] - grads[key])) < 1e-5 * max(np.max(np.abs(g)) for g in grads.values())


def test_deep_convnet_gradient_at_a_few_entries():
    # DeepConvNet's loss draws new dropout masks at every call: reseeding before each call fixes them
    np.random.seed(0)
    net = DeepConvNet()
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((2, 1, 28, 28)), np.array([3, 7])

    def loss():
        np.random.seed(5)
        return net.loss(x, t)

    np.random.seed(5)
    grads = net.gradient(x, t)
    h = 1e-6  # small: a step of 1e-4 on W1 moves thousands of ReLU and max-pool inputs, some across a kink
    for key in ("W1", "b3", "W7", "W8", "b8"):
        idx = np.unravel_index(np.argmax(np.abs(grads[key])), grads[key].shape)  # (dropout zeroes many)
        assert grads[key][idx] != 0
        p = net.params[key]
        old = p[idx]
        p[idx] = old + h
        up = loss()
        p[idx] = old - h
        down = loss()
        p[idx] = old
        numeric = (up - down) / (2 * h)
        # rounding ulp(L) / 2h ~ 3e-10; the 1e-7 in the book's loss moves the slope by ~1e-7 / y (2e-6 measured)
        assert abs(numeric - grads[key][idx]) <= 1e-8 + 1e-5 * abs(grads[key][idx]), key
