"""One document model: a report is written once as Markdown and its HTML is rendered from it."""

from __future__ import annotations

import pandas as pd

from comparisons.report import render
from comparisons.report.document import Document, Page


def test_a_page_renders_its_own_markdown():
    page = Page("Atlas")
    page.heading("Dense layer")
    page.text("Formula of `Dense`, see [the table](parity.md).")
    page.code("y = x @ W + b")
    page.bullets(["**Keras**: a | b"])
    page.table(pd.DataFrame({"case": ["dense/2d"], "calls": ["f(x) | g(x)"]}))
    page.image("lr.png", "learning rates")
    out = page.html()
    assert out == render.page("Atlas", page.markdown())
    for expected in ('<h2 id="dense-layer">Dense layer</h2>', "<code>Dense</code>",
                     '<a href="parity.html">the table</a>',
                     '<pre><code class="language-text">y = x @ W + b\n</code></pre>', "<strong>Keras</strong>: a | b",
                     "<td>f(x) | g(x)</td>", '<img src="lr.png" alt="learning rates" />', "<title>Atlas</title>"):
        assert expected in out, expected
    assert "<script" not in out


def test_links_to_markdown_pages_point_at_their_html_twins():
    assert render.html_target("a/b.md#x") == "a/b.html#x" and render.html_target("c.csv") == "c.csv"
    assert render.html_target("https://host/x.md") == "https://host/x.md" and render.html_target("#x.md") == "#x.md"
    assert '<a href="../s.html#top">' in render.body("[s](../s.md#top)")


def test_raw_html_in_markdown_is_escaped():
    assert "&lt;script&gt;" in render.body("<script>alert(1)</script>")


def test_document_sections_keep_their_markdown_form():
    doc = Document("T", "Intro.")
    doc.add("Sec", "Some text.", pd.DataFrame({"a": [1.5]}), "p.png")
    assert doc.markdown() == "# T\n\nIntro.\n\n## Sec\n\nSome text.\n\n![Sec](p.png)\n\n|   a |\n|----:|\n| 1.5 |\n"
    assert "<th style=\"text-align:right\">a</th>" in doc.html()


def test_links_and_images_come_from_the_same_parse():
    text = "[parity.md](parity.md) ([CSV](parity.csv)) ![plot](lr.png) `[not](a.md)`"
    assert render.links(text) == [("parity.md", "parity.md"), ("CSV", "parity.csv")]
    assert render.images(text) == [("plot", "lr.png")]
