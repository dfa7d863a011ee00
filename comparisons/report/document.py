"""A small report document: titled sections of prose and pandas tables, rendered to Markdown
and to a self-contained HTML page (tables and text only; no scripts, opens offline)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from comparisons.report import files as io

CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; position: sticky; top: 0; }
tr:nth-child(even) td { background: #fafafa; }
code { background: #f4f4f4; padding: 0 0.2rem; }
.FAIL { color: #b00020; font-weight: bold; }
"""


@dataclass
class Section:
    title: str
    text: str = ""
    table: pd.DataFrame | None = None
    image: str | None = None  # path relative to the document


@dataclass
class Document:
    title: str
    intro: str = ""
    sections: list[Section] = field(default_factory=list)

    def add(self, title: str, text: str = "", table: pd.DataFrame | None = None, image: str | None = None) -> None:
        self.sections.append(Section(title, text, table, image))

    def markdown(self) -> str:
        out = [f"# {self.title}", "", self.intro.strip(), ""]
        for s in self.sections:
            out += [f"## {s.title}", ""]
            if s.text:
                out += [s.text.strip(), ""]
            if s.image:
                out += [f"![{s.title}]({s.image})", ""]
            if s.table is not None:
                out += [s.table.to_markdown(index=False), ""]
        return "\n".join(out).rstrip() + "\n"

    def html(self) -> str:
        def prose(text: str) -> str:
            paras = [p for p in text.strip().split("\n\n") if p]
            rendered = []
            for p in paras:
                p = html.escape(p)
                p = re.sub(r"`([^`]+)`", r"<code>\1</code>", p)
                p = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', p)
                rendered.append(f"<p>{p}</p>")
            return "\n".join(rendered)

        body = [f"<h1>{html.escape(self.title)}</h1>", prose(self.intro)]
        for s in self.sections:
            body.append(f"<h2>{html.escape(s.title)}</h2>")
            if s.text:
                body.append(prose(s.text))
            if s.image:
                body.append(f'<img src="{html.escape(s.image)}" alt="{html.escape(s.title)}" style="max-width:100%">')
            if s.table is not None:
                body.append(s.table.to_html(index=False, escape=True, border=0, na_rep=""))
        return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(self.title)}"
                f"</title><style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")

    def write(self, stem: str | Path) -> list[Path]:
        """Write ``stem.md`` and ``stem.html`` atomically; return the paths."""
        stem = Path(stem)
        return [io.write_text(stem.with_suffix(".md"), self.markdown()),
                io.write_text(stem.with_suffix(".html"), self.html())]
