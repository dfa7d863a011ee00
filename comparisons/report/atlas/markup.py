"""A page of headings, prose, code blocks, lists, tables and images, rendered to Markdown and to a
self-contained HTML page (no scripts; opens offline). The report documents of
``comparisons.report.document`` have no code blocks or lists, which the atlas needs for formulas and calls.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import pandas as pd

from comparisons.report.document import CSS

PAGE_CSS = CSS + """
pre { background: #f6f8fa; padding: 0.6rem; overflow-x: auto; font-size: 0.82rem; }
h2 { border-top: 1px solid #ddd; padding-top: 1rem; margin-top: 2rem; }
nav ul { columns: 4; font-size: 0.9rem; }
img { max-width: 100%; }
"""


def slug(text: str) -> str:
    """The anchor a code host gives a Markdown heading: lower case, punctuation dropped, spaces -> '-'."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def inline(text: str) -> str:
    """Markdown inline markup (code, links, bold) -> HTML, everything else escaped."""
    out, pos = [], 0
    for m in re.finditer(r"`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*", text):
        out.append(html.escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append(f"<code>{html.escape(m.group(1))}</code>")
        elif m.group(2) is not None:
            out.append(f'<a href="{html.escape(m.group(3))}">{html.escape(m.group(2))}</a>')
        else:
            out.append(f"<strong>{html.escape(m.group(4))}</strong>")
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _md_cell(v: object) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def md_table(df: pd.DataFrame) -> str:
    """A pipe table (cells with '|' escaped, so code in a cell stays in its column)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(_md_cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def html_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{inline(str(v))}</td>" for v in row) + "</tr>"
                   for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass
class Page:
    title: str
    blocks: list[tuple] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(("h", level, text))

    def text(self, text: str) -> None:
        for para in [p for p in text.strip().split("\n\n") if p.strip()]:
            self.blocks.append(("p", " ".join(para.split())))

    def code(self, text: str) -> None:
        self.blocks.append(("code", text.rstrip("\n")))

    def bullets(self, items: list[str]) -> None:
        self.blocks.append(("list", items))

    def table(self, df: pd.DataFrame) -> None:
        self.blocks.append(("table", df))

    def image(self, path: str, alt: str) -> None:
        self.blocks.append(("img", path, alt))

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for b in self.blocks:
            kind = b[0]
            if kind == "h":
                out += ["#" * b[1] + " " + b[2], ""]
            elif kind == "p":
                out += [b[1], ""]
            elif kind == "code":
                out += ["```text", b[1], "```", ""]
            elif kind == "list":
                out += [f"- {item}" for item in b[1]] + [""]
            elif kind == "table":
                out += [md_table(b[1]), ""]
            elif kind == "img":
                out += [f"![{b[2]}]({b[1]})", ""]
        return "\n".join(out).rstrip() + "\n"

    def html(self) -> str:
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for b in self.blocks:
            kind = b[0]
            if kind == "h":
                body.append(f'<h{b[1]} id="{slug(b[2])}">{inline(b[2])}</h{b[1]}>')
            elif kind == "p":
                body.append(f"<p>{inline(b[1])}</p>")
            elif kind == "code":
                body.append(f"<pre><code>{html.escape(b[1])}</code></pre>")
            elif kind == "list":
                body.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in b[1]) + "</ul>")
            elif kind == "table":
                body.append(html_table(b[1]))
            elif kind == "img":
                body.append(f'<img src="{html.escape(b[1])}" alt="{html.escape(b[2])}">')
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(self.title)}'
                f"</title><style>{PAGE_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
