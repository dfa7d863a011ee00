"""What a naive port costs, on a tiny budget: each naive setting parts from the exact port where it
should (and only there), the exact ports stay exact, and the report is written."""

from __future__ import annotations

import pandas as pd
import pytest

from comparisons.studies.naive_port import port as N
from comparisons.studies.naive_port.report import rows, run_model, write

TINY = {"epochs": 1, "train_limit": 96, "test_limit": 64}


def _by_impl(name, keys=None, budget=TINY):
    record, skipped = run_model(name, budget=budget, keys=keys)
    return {r["impl"]: r for r in rows(record, skipped) if r["impl"]}, skipped


@pytest.fixture(scope="module")
def bn_model():
    return _by_impl("mlp4x128_bn_dropout")


def test_exact_ports_stay_exact(bn_model):
    got, _ = bn_model
    for impl in ("keras", "torch"):
        assert got[impl]["first step |loss delta| > 1e-6"] == "none"
        assert got[impl]["max |step loss delta|"] < 1e-12


def test_each_setting_parts_where_it_should(bn_model):
    got, _ = bn_model
    assert got["torch:bn-defaults"]["first step |loss delta| > 1e-6"] == 0  # eps changes the forward pass
    copied = got["torch:bn-momentum-copied"]  # momentum touches only the running statistics
    assert copied["max |step loss delta|"] == 0.0 and copied["test loss delta"] != 0.0
    assert got["torch:optimizer-defaults"]["first step |loss delta| > 1e-6"] == 1  # step 0 is pre-update
    assert got["keras:init"]["first step |loss delta| > 1e-6"] == 0
    assert got["control:reseed"]["first step |loss delta| > 1e-6"] == 0
    assert got["scratch@torch"]["first step |loss delta| > 1e-6"] == 1  # Adam's epsilon placement


def test_settings_that_do_not_occur_are_reported_with_a_reason(bn_model):
    _, skipped = bn_model
    reasons = {(s["setting"], s["framework"]): s["reason"] for s in skipped}
    assert reasons[("flatten-order", "keras")] == "no Flatten after a conv"
    assert "Keras's defaults" in reasons[("bn-defaults", "keras")]
    assert "convnet_same_s2" in reasons[("same-padding", "torch")]


def test_conv_settings_and_the_same_padding_variant():
    got, _ = _by_impl("simple_convnet", keys=("flatten-order",), budget={**TINY, "train_limit": 200})
    assert got["keras:flatten-order"]["first step |loss delta| > 1e-6"] == 0
    assert got["keras"]["max |step loss delta|"] < 1e-12
    got, _ = _by_impl(N.VARIANT.name, budget={**TINY, "train_limit": 200})
    assert set(got) == {"torch", "control:reseed", "torch:same-padding"}
    assert got["torch:same-padding"]["first step |loss delta| > 1e-6"] == 0
    assert got["torch"]["max |step loss delta|"] < 1e-12


def test_applicability_follows_the_model():
    import numpy as np

    spec = N.SPECS["twolayer"]
    model = spec.build(np.random.default_rng(0), "float64")
    assert N.applicable("init", "torch", spec, model) is None
    assert N.applicable("optimizer-defaults", "keras", spec, model).startswith("plain SGD")
    with pytest.raises(ValueError, match="key"):
        N.applicable("nope", "torch", spec, model)


def test_report_files(tmp_path):
    paths = write(tmp_path, progress=False, models=[N.VARIANT.name], budgets={N.VARIANT.name: {**TINY,
                                                                                               "train_limit": 200}})
    for p in paths:
        assert p.stat().st_size > 0, p
    df = pd.read_csv(tmp_path / "naive_port.csv")
    assert "torch:same-padding" in set(df["impl"].dropna())
    md = (tmp_path / "naive_port.md").read_text()
    assert "![test accuracy difference per naive setting](naive_port.png)" in md and "Settings that do not occur" in md


def test_layernorm_and_leaky_relu_defaults_part_on_their_variant():
    got, skipped = _by_impl("mlp_ln_leaky", keys=("ln-eps-default", "leaky-slope-default"))
    for impl in ("keras", "torch"):  # the spec's slope is float32(0.3), what Keras computes with: exact
        assert got[impl]["max |step loss delta|"] < 1e-12, impl
    assert got["torch:ln-eps-default"]["first step |loss delta| > 1e-6"] == 0  # eps changes the forward pass
    assert got["torch:leaky-slope-default"]["first step |loss delta| > 1e-6"] == 0
    reasons = {(s["setting"], s["framework"]): s["reason"] for s in skipped}
    assert "Keras's defaults" in reasons[("ln-eps-default", "keras")]
