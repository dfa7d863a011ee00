"""The one document model of the reports: a page of blocks (headings, prose, code, lists, tables,
images) written once as Markdown; its HTML twin is that Markdown rendered by ``report.render``
(markdown-it-py and a Jinja2 template). ``Document`` is the same page built as titled sections of
prose, a table and an image each, the form the study reports use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from comparisons.report import files as io
from comparisons.report import render
from comparisons.report.slug import slug

CSS = render.CSS


def _md_cell(v: object) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def md_table(df: pd.DataFrame) -> str:
    """A pipe table (cells with '|' escaped, so code in a cell stays in its column)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(_md_cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _escape_pipes(df: pd.DataFrame) -> pd.DataFrame:
    """'|' in a text cell or header escaped, so a pipe table keeps its columns (numbers untouched)."""
    def esc(v):
        return v.replace("|", "\\|") if isinstance(v, str) else v

    if not any("|" in str(c) for c in df.columns) and not df.map(lambda v: isinstance(v, str) and "|" in v).any().any():
        return df
    return df.map(esc).rename(columns=esc)


@dataclass
class Page:
    """A report page; ``markdown()`` is the document, ``html()`` its rendering."""

    title: str
    blocks: list[tuple] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(("h", level, text))

    def text(self, text: str) -> None:
        """Prose; each paragraph joined onto one line."""
        for para in [p for p in text.strip().split("\n\n") if p.strip()]:
            self.blocks.append(("md", " ".join(para.split())))

    def markdown_block(self, text: str) -> None:
        """Markdown kept as written (line breaks included)."""
        self.blocks.append(("md", text.strip()))

    def code(self, text: str) -> None:
        self.blocks.append(("md", "```text\n" + text.rstrip("\n") + "\n```"))

    def bullets(self, items: list[str]) -> None:
        self.blocks.append(("md", "\n".join(f"- {item}" for item in items)))

    def table(self, df: pd.DataFrame) -> None:
        self.blocks.append(("md", md_table(df)))

    def image(self, path: str, alt: str) -> None:
        self.blocks.append(("md", f"![{alt}]({path})"))

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for b in self.blocks:
            out += ["#" * b[1] + " " + b[2], ""] if b[0] == "h" else [b[1], ""]
        return "\n".join(out).rstrip() + "\n"

    def html(self) -> str:
        return render.page(self.title, self.markdown())

    def write(self, stem: str | Path) -> list[Path]:
        """Write ``stem.md`` and ``stem.html`` atomically; return the paths."""
        stem = Path(stem)
        return [io.write_text(stem.with_suffix(".md"), self.markdown()),
                io.write_text(stem.with_suffix(".html"), self.html())]


class Document(Page):
    """A page of titled sections: prose as written, an optional image and an optional table
    (``DataFrame.to_markdown``)."""

    def __init__(self, title: str, intro: str = "") -> None:
        super().__init__(title)
        self.markdown_block(intro)

    def add(self, title: str, text: str = "", table: pd.DataFrame | None = None, image: str | None = None,
            numparse: bool = True) -> None:
        """A section; ``numparse=False`` keeps the table's text cells as written (``+0.00`` stays)."""
        self.heading(title)
        if text:
            self.markdown_block(text)
        if image:
            self.image(image, title)
        if table is not None:
            self.blocks.append(("md", _escape_pipes(table).to_markdown(index=False, disable_numparse=not numparse)))


__all__ = ["CSS", "Document", "Page", "md_table", "slug"]
