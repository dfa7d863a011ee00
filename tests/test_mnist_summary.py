"""The MNIST summary (reports/mnist/README.md): every difference column is the difference of the two
columns it names, no column is empty, and the committed page is what the writer makes of the runs on
disk."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from comparisons.paths import REPORTS
from comparisons.studies.mnist import summary

MNIST = REPORTS / "mnist"
DIFF = re.compile(r"^(?P<a>.+) - (?P<b>.+) \(points\)$")


@pytest.fixture(scope="module")
def found():
    return summary.runs_on_disk(MNIST)


def _tables(text: str) -> dict[str, pd.DataFrame]:
    """Each section's first pipe table, by section title (cells as text)."""
    out = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        title = section.splitlines()[0].strip()
        rows = [line for line in section.splitlines() if line.startswith("|")]
        if rows:
            split = [[c.strip() for c in re.split(r"(?<!\\)\|", r)[1:-1]] for r in rows]
            out[title] = pd.DataFrame(split[2:], columns=split[0])
    return out


def test_difference_columns_equal_the_difference_of_the_columns_they_name():
    table = _tables((MNIST / "README.md").read_text(encoding="utf-8"))["Test accuracy"]
    diffs = [(c, DIFF.match(c)) for c in table.columns if DIFF.match(c)]
    assert len(diffs) == 4  # Keras and PyTorch, each against its own-form and the textbook scratch run
    for col, m in diffs:
        a, b = table[m["a"]].astype(float), table[m["b"]].astype(float)
        got = table[col].astype(float)
        assert ((100 * (a - b) - got).abs() <= 0.0051).all(), col


def test_the_keras_adagrad_port_cost_is_stated(found):
    text = (MNIST / "README.md").read_text(encoding="utf-8")
    assert "Keras's AdaGrad puts epsilon inside the square root" in text
    assert "porting costs -0.88 points" in text  # simple_convnet float64, full recipe
    assert "0.1927" in text  # mlp4x32 Keras: fit's running mean of the epoch-5 batch losses


def test_no_column_is_empty_and_budgets_are_whole(found):
    records, shorts = found
    for df in (summary.accuracy_table(records, shorts), summary.agreement_table(records, shorts),
               summary.published_table(records, shorts)):
        assert not df.isna().all().any() and not (df == "").all().any()
    for rec in records:
        assert re.match(r"^(full recipe|short): [\d,]+ (epochs?|steps of \d+) on [\d,]+ images$", summary.budget(rec))


def test_committed_summary_is_the_writer_output_of_the_runs_on_disk(found, tmp_path):
    summary.write(found, tmp_path)
    assert (tmp_path / "README.md").read_text() == (MNIST / "README.md").read_text()


def test_terminal_summaries_fit_100_columns(found):
    from comparisons.paths import REPORTS
    from comparisons.studies.small_tasks.cli import terminal_table

    records, _ = found
    convnet = next(r for r in records if r.config.model == "simple_convnet" and r.config.dtype == "float64")
    text = summary.terminal_summary(convnet)
    assert "Keras vs scratch@keras: max rel. step-loss diff 2.8e-12" in text and "-0.88 points vs scratch" in text
    tasks = terminal_table(pd.read_csv(REPORTS / "small_tasks" / "summary.csv"))
    for out in (text, tasks):
        assert max(len(line) for line in out.splitlines()) <= 100
