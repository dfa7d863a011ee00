"""Every committed report is valid: Markdown tables a code host renders (one cell count per table,
'|' in cells escaped) and HTML pages with no Markdown left over and no broken relative link (links
between pages point at the HTML twins)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from comparisons.paths import REPORTS

MD = sorted(REPORTS.rglob("*.md"))
HTML = sorted(REPORTS.rglob("*.html"))
PIPE = re.compile(r"(?<!\\)\|")  # a cell border; "\|" is a pipe inside a cell
DELIMITER = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


def tables(text: str) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of every pipe table of a Markdown text, code blocks skipped."""
    found, current, start, fenced = [], [], 0, False
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("|"):
            if not current:
                start = n
            current.append(line)
            continue
        if current:
            found.append((start, current))
            current = []
    if current:
        found.append((start, current))
    return found


def test_table_parser_counts_escaped_pipes_as_text():
    (_, rows), = tables("x\n\n| a \\| b | c |\n|---|---|\n| 1 | 2 |\n")
    assert [len(PIPE.findall(r)) for r in rows] == [3, 3, 3]


@pytest.mark.parametrize("path", MD, ids=[str(p.relative_to(REPORTS)) for p in MD])
def test_markdown_tables_have_one_cell_count(path):
    for start, rows in tables(path.read_text(encoding="utf-8")):
        assert len(rows) >= 2 and DELIMITER.match(rows[1]), f"{path.name}:{start}: no delimiter row"
        counts = {len(PIPE.findall(r)) for r in rows}
        assert len(counts) == 1, f"{path.name}:{start}: rows with {sorted(counts)} cell borders"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.sources: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self._skip = 0  # inside code, pre, style, script: Markdown-like text is content there

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img" and a.get("src"):
            self.sources.append(a["src"])
        if tag in ("code", "pre", "style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("code", "pre", "style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


LEFTOVER = [re.compile(r"\]\("), re.compile(r"\*\*[^\s*][^*]*?[^\s*]\*\*"), re.compile(r"^#{1,6} ", re.M),
            re.compile(r"^\|.*\|$", re.M)]


@pytest.mark.parametrize("path", HTML, ids=[str(p.relative_to(REPORTS)) for p in HTML])
def test_html_page_has_no_markdown_left_and_working_links(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    text = "".join(page.text)
    for pattern in LEFTOVER:
        m = pattern.search(text)
        assert m is None, f"{path.name}: literal Markdown {text[max(m.start() - 40, 0):m.end() + 40]!r}"
    for target in page.links + page.sources:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # an external link
        file, _, fragment = target.partition("#")
        if not file:
            assert fragment in page.ids, f"{path.name}: no anchor {target}"
            continue
        resolved = (path.parent / unquote(file)).resolve()
        assert resolved.exists(), f"{path.name}: {target} does not exist"
        assert not file.endswith(".md") or target in page.sources, f"{path.name}: links Markdown {target}"
