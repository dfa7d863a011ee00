"""The public facade ``dlparity``: check_layer, check_port, the result object and its errors."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import dlparity
from dlparity.result import KNOWN, NAN

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fw():
    """The frameworks, imported once for the module."""
    from dlparity import _frameworks

    return _frameworks.torch(), _frameworks.keras()


@pytest.fixture(scope="module")
def book():
    """The textbook-style layers of examples/check_textbook_layers.py (its checks not run)."""
    spec = importlib.util.spec_from_file_location("textbook_example", ROOT / "examples" / "check_textbook_layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _affine(book, rng):
    return book.Affine(rng.standard_normal((4, 3)), rng.standard_normal(3))


# -- check_layer --------------------------------------------------------------------------------
def test_a_wrong_backward_is_caught_at_the_worst_element(fw, book):
    torch, _ = fw
    rng = np.random.default_rng(1)
    good, x = _affine(book, rng), rng.standard_normal((6, 4))

    class Slip(book.Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.db = self.db.copy()
            self.db[2] += 0.5  # one wrong element
            return dx

    result = dlparity.check_layer(Slip(good.W, good.b), torch.nn.Linear(4, 3), x, dtypes="float64")
    [bad] = result.failures
    assert (bad.quantity, bad.where, bad.framework) == ("grad:b", (2,), "torch")
    assert bad.max_abs == pytest.approx(0.5)
    with pytest.raises(AssertionError) as info:
        result.assert_ok()
    message = str(info.value)
    for part in ("grad:b", "torch.nn.Linear", "float64", "max abs error 5.000e-01", "max rel error", "index (2,)"):
        assert part in message


def test_the_result_prints_renders_and_converts(fw, book):
    torch, _ = fw
    rng = np.random.default_rng(2)
    result = dlparity.check_layer(_affine(book, rng), torch.nn.Linear(4, 3), rng.standard_normal((5, 4)))
    assert result.ok and result.assert_ok() is result
    text = str(result)
    assert "quantity" in text and "grad:W" in text and "OK (8 quantities)" in text
    assert "tolerance float64: 1e-10" in text
    assert "<table>" in result._repr_html_() and "grad:b" in result._repr_html_()
    frame = result.to_frame()
    assert len(frame) == 8 and {"quantity", "max_abs", "max_rel", "verdict", "where", "ok"} <= set(frame.columns)
    assert set(frame["dtype"]) == {"float64", "float32"}


def test_tolerance_can_be_set(fw, book):
    torch, _ = fw
    rng = np.random.default_rng(3)
    result = dlparity.check_layer(_affine(book, rng), torch.nn.Linear(4, 3), rng.standard_normal((5, 4)),
                                  dtypes=["float32"], tolerance=1e-12)
    assert not result.ok and all(r.rtol == 1e-12 for r in result.rows)


def test_a_nan_is_reported_with_its_index(fw):
    torch, _ = fw

    class Sqrt:  # a ReLU written as sqrt(x)^2: NaN wherever x < 0
        def forward(self, x):
            self.x = x
            with np.errstate(invalid="ignore"):
                return np.sqrt(x) ** 2

        def backward(self, dout):
            return dout

    x = np.array([[1.0, 2.0], [-3.0, 4.0]])
    result = dlparity.check_layer(Sqrt(), torch.nn.ReLU(), x, dtypes="float64")
    out = result.rows[0]
    assert out.verdict == NAN and out.where == (1, 0) and "NaN" in out.message() and "(1, 0)" in out.message()


def test_params_grads_dict_holder_and_a_names_map(fw):
    torch, _ = fw

    class Holder:  # a params/grads dict holder with its own key names
        def __init__(self, W, b):
            self.params, self.grads = {"kernel": W, "offset": b}, {}

        def forward(self, x):
            self.x = x
            return x @ self.params["kernel"] + self.params["offset"]

        def backward(self, dout):
            self.grads = {"kernel": self.x.T @ dout, "offset": dout.sum(0)}
            return dout @ self.params["kernel"].T

    rng = np.random.default_rng(4)
    layer = Holder(rng.standard_normal((3, 2)), rng.standard_normal(2))
    result = dlparity.check_layer(layer, torch.nn.Linear(3, 2), rng.standard_normal((4, 3)),
                                  names={"b": "offset"})  # "kernel" is found: an alias of W
    assert result.ok, str(result)


def test_scratch_references_and_keras_flatten_order(fw):
    _, keras = fw
    from scratch import layers as L
    from scratch.textbook.layers import Affine

    rng = np.random.default_rng(5)
    W, b, x = rng.standard_normal((4, 2)), rng.standard_normal(2), rng.standard_normal((3, 4))
    core = L.Dense(4, 2, W=np.zeros((4, 2)), b=np.zeros(2))
    assert dlparity.check_layer(Affine(W, b), [core, Affine(W * 0, b * 0)], x).ok  # weights come from the layer

    class Flat:
        def forward(self, x):
            self.shape = x.shape
            return x.reshape(x.shape[0], -1)

        def backward(self, dout):
            return dout.reshape(self.shape)

    result = dlparity.check_layer(Flat(), keras.layers.Flatten(), rng.standard_normal((2, 3, 2, 2)))
    assert result.ok and result.rows[0].verdict == KNOWN and "(h, w, c)" in result.rows[0].known


def test_batchnorm_conventions_are_explained(fw, book):
    torch, keras = fw
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 3)) * 2 + 1
    bn = book.BatchNormalization(np.ones(3), np.zeros(3), momentum=0.9)
    wrong = dlparity.check_layer(bn, torch.nn.BatchNorm1d(3, eps=1e-6, momentum=0.9), x, dtypes="float64")
    rows = {r.quantity: r for r in wrong.failures if r.mode == "train"}
    assert "keeps 0.9 of the running value" in rows["buffer:running_mean"].known
    assert "momentum=0.1" in rows["buffer:running_mean"].fix
    eps = dlparity.check_layer(bn, keras.layers.BatchNormalization(momentum=0.9), x, dtypes="float64")
    out = next(r for r in eps.failures if r.quantity == "output")
    assert "epsilon 1e-06" in out.known and "epsilon=1e-06" in out.fix


# -- bad input ------------------------------------------------------------------------------------
def test_a_layer_of_no_supported_shape_lists_the_shapes(fw, book):
    torch, _ = fw
    x = np.ones((2, 4))
    with pytest.raises(TypeError, match=r"no forward/backward.*accepted layer shapes: \(1\) the textbook's"):
        dlparity.check_layer(object(), torch.nn.Linear(4, 3), x)

    class NoWeights:
        def forward(self, x):
            return x

        def backward(self, d):
            return d

    with pytest.raises(TypeError, match=r"no parameter 'W' \(looked for W, weight, kernel, w and params\['W'\]\)"):
        dlparity.check_layer(NoWeights(), torch.nn.Linear(4, 3), x)


def test_a_weight_that_does_not_fit_names_both(fw, book):
    torch, _ = fw
    layer = book.Affine(np.ones((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"W: the layer's W has shape \(4, 3\), but torch.nn.Linear's weight needs "
                                         r"\(4, 5\)"):
        dlparity.check_layer(layer, torch.nn.Linear(4, 5), np.ones((2, 4)))


@pytest.mark.parametrize(("x", "error", "match"), [
    (np.ones((2, 3)), ValueError, r"x: torch.nn.Conv2d takes 4-D input \(images NCHW\), got shape \(2, 3\)"),
    (np.ones((2, 1, 3, 3), dtype=np.int64), ValueError, "x: expected a float32 or float64 array, got dtype int64"),
    ([[1.0]], TypeError, "x: expected a numpy.ndarray, got list"),
])
def test_bad_inputs(fw, book, x, error, match):
    torch, _ = fw
    conv = book.Convolution(np.ones((2, 1, 2, 2)), np.zeros(2))
    with pytest.raises(error, match=match):
        dlparity.check_layer(conv, torch.nn.Conv2d(1, 2, 2), x)


def test_a_reference_that_is_not_a_framework_object(book):
    with pytest.raises(TypeError, match=r"reference: expected a torch.nn.Module, a Keras layer, .* got builtins.str"):
        dlparity.check_layer(book.Affine(np.ones((2, 2)), np.zeros(2)), "torch.nn.Linear", np.ones((2, 2)))


def test_a_reference_without_a_weight_map(fw, book):
    torch, _ = fw
    with pytest.raises(TypeError, match=r"no weight map for torch.nn.LayerNorm"):
        dlparity.check_layer(book.Affine(np.ones((2, 2)), np.zeros(2)), torch.nn.LayerNorm(2), np.ones((2, 2)))


# -- check_port -----------------------------------------------------------------------------------
def test_port_pairs_and_directions(fw):
    torch, keras = fw
    nn = torch.nn
    km = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2)])
    tm = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = np.random.default_rng(7).standard_normal((5, 3)).astype("float32")
    result = dlparity.check_port(tm, km, x, dtypes="float64")  # PyTorch first: its weights go into Keras
    assert result.ok and result.parted_at == ""
    assert {r.layer for r in result.rows} >= {"layer 1 (Dense's activation 'tanh' | Tanh)", "whole model"}
    as_is = dlparity.check_port(km, tm, x, transfer=None, dtypes="float64")  # two independent initialisations
    assert not as_is.ok and as_is.parted_at.startswith("layer 0 (Dense | Linear)")
    with pytest.raises(ValueError, match=r"the Keras model has 3 steps .* the PyTorch model has 2"):
        dlparity.check_port(km, nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)), x)
    with pytest.raises(TypeError, match="expected one Keras model or layer and one torch.nn.Module"):
        dlparity.check_port(tm, tm, x)
    with pytest.raises(ValueError, match="transfer: expected one of"):
        dlparity.check_port(km, tm, x, transfer="both")
    with pytest.raises(ValueError, match=r"x: the Keras model takes inputs of shape \(N, 3\), x of shape \(5, 4\)"):
        dlparity.check_port(km, tm, np.ones((5, 4), dtype="float32"))
    with pytest.raises(ValueError, match=r"dtypes: expected some of \['float64', 'float32'\], got 'float16'"):
        dlparity.check_port(km, tm, x, dtypes="float16")
    with pytest.raises(ValueError, match="layer 0 .*: a Keras dense layer cannot be paired with a PyTorch conv"):
        dlparity.check_port(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]), nn.Conv2d(3, 2, 1), x)


def test_port_of_models_that_do_not_pair_is_checked_whole(fw):
    torch, keras = fw
    inputs = keras.Input((3,))
    km = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(4, activation="tanh")(inputs)))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)

        def forward(self, x):
            return self.b(torch.tanh(self.a(x)))

    tm = Net()
    with torch.no_grad():
        for module, layer in ((tm.a, km.layers[1]), (tm.b, km.layers[2])):
            module.weight.copy_(torch.from_numpy(layer.kernel.numpy().T))
            module.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    x = np.random.default_rng(9).standard_normal((4, 3)).astype("float32")
    result = dlparity.check_port(km, tm, x, transfer=None)
    assert result.ok and {r.quantity for r in result.rows} == {"output", "dx"} and len(result.rows) == 8
    with pytest.raises(ValueError, match="transfer: weights are copied layer by layer"):
        dlparity.check_port(km, tm, x)
    with torch.no_grad():
        tm.b.bias += 1e-3
    assert dlparity.check_port(km, tm, x, transfer=None).parted_at == "the whole model"


def test_port_layer_without_a_weight_map(fw):
    torch, keras = fw
    km = keras.Sequential([keras.Input((3,)), keras.layers.LayerNormalization(epsilon=1e-5)])
    x = np.ones((2, 3), dtype="float32")
    with pytest.raises(ValueError, match=r"layer 0 \(LayerNormalization \| LayerNorm\): dlparity has no weight map"):
        dlparity.check_port(km, torch.nn.LayerNorm(3), x)
    assert dlparity.check_port(km, torch.nn.LayerNorm(3), x, transfer=None, dtypes="float64").ok


def test_port_same_padding_explained(fw):
    torch, keras = fw
    km = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, strides=2, padding="same")])
    x = np.random.default_rng(8).standard_normal((2, 6, 6, 1)).astype("float32")
    result = dlparity.check_port(km, torch.nn.Conv2d(1, 2, 3, stride=2, padding=1), x, dtypes="float64")
    assert not result.ok and "nn.ZeroPad2d((0, 1, 0, 1))" in result.failures[0].fix
    pool = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.AveragePooling2D(3, strides=1, padding="same")])
    result = dlparity.check_port(pool, torch.nn.AvgPool2d(3, stride=1, padding=1), x, dtypes="float64")
    assert not result.ok and result.failures[0].fix == "set PyTorch count_include_pad=False"
    fixed = torch.nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    assert dlparity.check_port(pool, fixed, x, dtypes="float64").ok


# -- packaging ----------------------------------------------------------------------------------
def test_the_readme_shows_the_examples():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Check your own code", 1)[1].split("\n## ", 1)[0]
    for name in ("check_textbook_layers.py", "check_keras_port.py", "test_parity_fixture.py"):
        assert f"examples/{name}" in section
    assert re.search(r"dlparity\.check_layer\(", section) and "dlparity.check_port(" in section


def test_dropout_is_compared_in_evaluation_mode_with_the_textbook_scaling_known(fw):
    torch, keras = fw
    from scratch.textbook.layers import Dropout

    x = np.random.default_rng(10).standard_normal((4, 5))
    result = dlparity.check_layer(Dropout(0.3), [torch.nn.Dropout(0.3), keras.layers.Dropout(0.3)], x)
    assert result.ok and {r.mode for r in result.rows} == {"eval"}
    assert all(r.verdict == KNOWN and "not inverted" in r.known for r in result.rows)
    assert any("evaluation mode only" in n for n in result.notes)
