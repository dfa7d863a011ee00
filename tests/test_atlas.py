"""The equivalents atlas: coverage of the case table, formulas copied from the docstrings, calls,
measurements and known differences on the page, anchors, and the committed page."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pandas as pd
import pytest

from comparisons import atlas
from comparisons.atlas import formula as F
from comparisons.atlas.calls import NOT_COMPARED, case_calls
from comparisons.atlas.markup import slug
from comparisons.cases import BY_ID, CASES
from comparisons.spec import DTYPES

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def fake_rows(value: float = 4e-16) -> pd.DataFrame:
    """One row per case x framework x dtype, as parity.run_table returns them (fixed error)."""
    rows = []
    for c in CASES:
        for fw in c.frameworks:
            for dt in DTYPES:
                k = c.known_for(fw, next(iter(c.known[0].quantities)) if c.known else "", dt) if c.known else None
                rows.append({"case": c.id, "framework": fw, "dtype": dt, "quantity": "q", "max_rel": value,
                             "raw_max_rel": 0.125 if k else float("nan"), "verdict": "known difference" if k else
                             "pass", "known_what": k.what if k else ""})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def page():
    defaults = pd.DataFrame([{"component": "BatchNorm", "setting": "momentum", "textbook": "0.9",
                              "Keras (installed)": "0.99", "PyTorch (installed)": "0.1", "note": ""}])
    return atlas.build(CASES, fake_rows(), defaults, {"numpy": "x"}, "test rows")


def test_every_component_of_the_case_table_has_a_section(page):
    md = page.markdown()
    headings = set(re.findall(r"^## (.+)$", md, re.M))
    for name in atlas.components(CASES):
        assert name in headings, name
    covered = {n for c in CASES for n in c.covers}
    missing = [n for n in covered if f"## {n}\n" not in md and f"`{n}`" not in md]
    assert not missing, f"covered names not on the page: {missing}"
    for c in CASES:
        assert f"`{c.id}`" in md, c.id


def test_formulas_are_copied_verbatim_from_the_docstrings():
    for name, cases in atlas.components(CASES).items():
        related = tuple(n for c in cases for n in c.covers if n != name)
        text, source = F.formula(name, related)
        assert text, f"{name}: no formula"
        modname, _, objname = source.rpartition(".")
        obj = getattr(__import__(modname, fromlist=[objname]), objname)
        doc = inspect.getdoc(obj)
        for para in text.split("\n\n"):  # paragraphs of the docstring, in its order, never rewritten
            assert para in doc, f"{name}: formula paragraph not in the docstring of {source}: {para[:60]!r}"


def test_algorithm_block_is_preferred_and_follows_the_update_function():
    text, source = F.formula("SGD", ("Optimizer", "sgd_update"))
    assert source == "scratch.optimizers.sgd_update" and text.startswith("Algorithm")
    assert '"torch" form' in text and "Framework notes" not in text
    text, _ = F.formula("Dropout")
    assert "Inverted" in text and "Non-inverted" in text and "Args:" not in text


def test_measured_errors_and_known_differences_are_on_the_page(page):
    md = page.markdown()
    assert "| 4.0e-16 |" in md  # the fake measurement, formatted
    assert "4.0e-16 known" in md
    bn = md[md.index("## BatchNorm"):md.index("## Dropout")]
    assert "unbiased batch variance" in bn
    assert "https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html" in bn
    assert "Measured (worst over dtypes): difference 1.25e-01" in bn
    sgd = md[md.index("## SGD"):md.index("## Adagrad")]
    assert "| sgd/weight-decay/decoupled |" in sgd and "| - |" in sgd  # PyTorch not compared there


def test_calls_carry_the_converted_arguments():
    calls = case_calls(BY_ID["batchnorm2d/keras/train"])
    assert "momentum=0.99" in calls["keras"] and "momentum=0.01" in calls["torch"]
    assert "momentum_of='running'" in calls["scratch"]
    assert "ConstantPad2d((0, 1, 0, 1)" in case_calls(BY_ID["conv2d/same-s2-even"])["torch"]
    sched = case_calls(BY_ID["schedule/piecewise-constant"])
    assert "milestones=[301, 701]" in sched["torch"] and "boundaries=[300, 700]" in sched["keras"]
    assert case_calls(BY_ID["schedule/one-cycle"])["keras"] == NOT_COMPARED
    plateau = case_calls(BY_ID["callback/reduce-lr-on-plateau/torch-abs"])
    assert "patience=1" in plateau["keras"] and "patience=0" in plateau["torch"]


def test_a_book_class_section_starts_with_the_books_call(page):
    calls = case_calls(BY_ID["textbook/pooling/2x2"])
    assert calls["book"] == "textbook.layers.Pooling(pool_h=2, pool_w=2, stride=2, pad=0)"
    assert calls["scratch"].startswith("layers.MaxPool2D(pool_size=(2, 2), stride=(2, 2), padding=0, truncate=True")
    assert "strides=(2, 2)" in calls["keras"] and "stride=(2, 2)" in calls["torch"]
    assert case_calls(BY_ID["textbook/softmax-with-loss/int"])["scratch"] == \
        "losses.SoftmaxCrossEntropy(semantics='textbook')"
    md = page.markdown()
    section = md[md.index("## textbook.Pooling"):]
    assert "`scratch.textbook.layers.Pooling`" in section and "book:    textbook.layers.Pooling(" in section
    assert F.formula("textbook.BatchNormalization")[1] == "scratch.textbook.layers.BatchNormalization"


def test_in_page_links_resolve_to_anchors(page):
    doc = page.html()
    ids = set(re.findall(r' id="([^"]+)"', doc))
    targets = set(re.findall(r'href="#([^"]+)"', doc))
    assert targets and targets <= ids, sorted(targets - ids)
    assert slug("Defaults side by side") == "defaults-side-by-side"


def test_measure_reuses_a_covering_parity_csv(tmp_path):
    fake_rows().to_csv(tmp_path / "parity.csv", index=False)
    df, source = atlas.measure(CASES, tmp_path, progress=False)
    assert "parity.csv" in source and set(df["case"]) == {c.id for c in CASES}


def test_committed_atlas_matches_the_case_table():
    md_path = REPORTS / "equivalents.md"
    if not md_path.exists():
        pytest.skip("reports/equivalents.md not generated yet: run `make report` or `python -m comparisons atlas`")
    md = md_path.read_text(encoding="utf-8")
    missing = [c.id for c in CASES if f"`{c.id}`" not in md]
    assert not missing, f"reports/equivalents.md is stale (regenerate it): missing {missing[:5]}"
    assert "; MISMATCH)" not in md, "a documented default no longer matches the installed library"
    assert not re.search(r"\d FAIL \|", md), "a case failed when the page was generated"
    assert (REPORTS / "equivalents.html").exists()
