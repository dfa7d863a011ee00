"""The reports index opens with the verdict dashboard; every plot and title appears once."""

from __future__ import annotations

import re

from comparisons import jobs
from comparisons.paths import REPORTS
from comparisons.report import dashboard, site


def test_dashboard_lines_link_their_reports_and_count_verdicts():
    lines = dashboard.lines(REPORTS)
    assert [re.match(r"\*\*([^*]+)\*\*", line)[1] for line in lines] == [
        "Parity", "MNIST lock-step", "Benchmarks", "Numerical gradient"]
    assert "0 FAIL" in lines[0] and "[layer](parity_layer.md)" in lines[0]
    assert "simple_convnet float64: Keras 2.8e-12, -0.88 points" in lines[1]


def test_committed_index_opens_with_the_dashboard():
    page = (REPORTS / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<h2>([^<]*)</h2>", page)[0] == "Verdicts"
    assert (REPORTS / "README.md").read_text(encoding="utf-8").split("\n## ")[1].startswith("Verdicts")


def test_every_plot_and_title_once():
    items = site.items(jobs.index_entries(REPORTS), REPORTS)
    plots = [p for d in items for p in d["plots"]]
    titles = [d["title"] for d in items]
    assert len(plots) == len(set(plots)) and len(titles) == len(set(titles))
    assert not any(t.endswith(".png") for t in titles)


def test_benchmark_line_names_the_fastest_peer(tmp_path):
    import pandas as pd

    pd.DataFrame([{"model": "simple_convnet", "impl": "scratch", "dtype": "float32", "epoch / torch": 0.8,
                   "fastest peer": "keras_loop", "epoch / fastest peer": 1.25},
                  {"model": "simple_convnet", "impl": "torch", "dtype": "float32", "epoch / torch": 1.0,
                   "fastest peer": "keras_loop", "epoch / fastest peer": 1.5}]).to_csv(tmp_path / "benchmarks.csv")
    (line,) = dashboard.bench_lines(tmp_path)
    assert "simple_convnet 1.25x (Keras loop)" in line and "fastest framework" in line
