"""The report site: reports/index.html from the index entries, opened in headless Chromium.

Skipped, with the reason, only where no Chromium is installed (.ci/run installs the Debian package
chromium where apt is available).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from comparisons.paths import REPORTS
from comparisons.report import site  # noqa: E402

BROWSER = site.find_browser()
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine (Debian package chromium; "
                                   ".ci/run installs it where apt is available): the site's browser check is skipped")


def _png(path: Path) -> None:
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path)
    plt.close(fig)


@pytest.fixture()
def reports(tmp_path) -> tuple[Path, list[tuple[str, str]]]:
    """A small reports/ tree: a table report with a plot, a summary linking to a run with plots, a PNG."""
    (tmp_path / "runs" / "a").mkdir(parents=True)
    _png(tmp_path / "table.png")
    _png(tmp_path / "runs" / "a" / "curves.png")
    _png(tmp_path / "lr.png")
    (tmp_path / "table.md").write_text("# The table\n\n![plot](table.png)\n")
    (tmp_path / "table.html").write_text("<html><body>table</body></html>")
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    (tmp_path / "runs" / "README.md").write_text("# Runs\n\n[run a](a/side.md)\n")
    (tmp_path / "runs" / "a" / "side.md").write_text("# Run a\n\n![curves](curves.png)\n")
    entries = [("[table.md](table.md) ([CSV](table.csv))", "a table with a `code` word"),
               ("[runs/README.md](runs/README.md)", "the runs"),
               ("[lr.png](lr.png)", "a plot")]
    return tmp_path, entries


def test_entries_are_described_with_html_twins_and_plots(reports):
    out, entries = reports
    table, runs, lr = (site.describe(e, out) for e in entries)
    assert table["title"] == "The table"
    assert ("HTML", "table.html") in table["links"]
    assert not any(href.endswith(".md") for _, href in table["links"])  # the HTML index links HTML pages
    assert table["plots"] == ["table.png"]
    assert runs["plots"] == ["runs/a/curves.png"]  # one level down from the summary
    assert lr["plots"] == ["lr.png"]


def test_index_files_are_written_from_the_same_entries(reports):
    out, entries = reports
    paths = site.write_index(out, entries)
    md, page = (p.read_text() for p in paths)
    for cell, _ in entries:
        assert cell in md
    assert "![runs/a/curves.png](runs/a/curves.png)" in md
    assert '<img src="runs/a/curves.png"' in page and "<script" not in page and "<code>code</code>" in page


@needs_browser
def test_browser_loads_every_image_and_every_link_resolves(reports, tmp_path_factory):
    out, entries = reports
    index = site.write_index_html(out, entries)
    seen = site.check(index, BROWSER)
    assert len(seen["images"]) == 3 and all(i["width"] > 0 for i in seen["images"]), seen["images"]
    assert seen["links"] and not site.missing_local_links(seen["links"])
    # negative control: a missing plot and a missing page are caught
    (out / "lr.png").unlink()
    (out / "table.csv").unlink()
    seen = site.check(index, BROWSER)
    broken = [i["src"] for i in seen["images"] if i["width"] == 0]
    assert len(broken) == 1 and broken[0].endswith("/lr.png")
    assert any(link.endswith("/table.csv") for link in site.missing_local_links(seen["links"]))


@needs_browser
def test_committed_site_opens_in_chromium(tmp_path):
    index = REPORTS / "index.html"
    if not index.exists():
        pytest.skip("reports/index.html not generated yet: run `make report`")
    seen = site.check(index, BROWSER)
    unloaded = [i["src"] for i in seen["images"] if i["width"] == 0]
    assert not unloaded, f"images that did not load: {unloaded}"
    missing = site.missing_local_links(seen["links"])
    assert not missing, f"links to missing files: {missing}"
    shot = site.screenshot(index, tmp_path / "index.png", BROWSER)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_find_browser_honours_the_environment(monkeypatch):
    monkeypatch.setenv("DLPARITY_CHROMIUM", "/opt/x/chrome")
    assert site.find_browser() == "/opt/x/chrome"
    monkeypatch.delenv("DLPARITY_CHROMIUM")
    assert site.find_browser() == next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                                        if shutil.which(b)), None)
