"""Markdown -> HTML, the one path: markdown-it-py (CommonMark with tables) for the body, a Jinja2
template for the page. Every report is written once, as Markdown; its HTML twin is rendered from
that Markdown, and the site reads links and images out of the same parse (``links``, ``images``).
"""

from __future__ import annotations

import re
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from comparisons.report.slug import slug

CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; position: sticky; top: 0; }
tr:nth-child(even) td { background: #fafafa; }
code { background: #f4f4f4; padding: 0 0.2rem; }
pre { background: #f6f8fa; padding: 0.6rem; overflow-x: auto; font-size: 0.82rem; }
h2 { border-top: 1px solid #ddd; padding-top: 1rem; margin-top: 2rem; }
nav ul { columns: 4; font-size: 0.9rem; }
img { max-width: 100%; }
.FAIL { color: #b00020; font-weight: bold; }
"""


def _heading_with_id(self, tokens: list[Token], idx: int, options, env) -> str:
    """Headings carry the anchor a code host gives them, so in-page links work in the HTML too."""
    tokens[idx].attrSet("id", slug(tokens[idx + 1].content))
    return self.renderToken(tokens, idx, options, env)


def html_target(href: str) -> str:
    """A relative link to a Markdown page as its HTML twin (``a/b.md#x`` -> ``a/b.html#x``); other
    links unchanged. Every report page is written as both, so HTML pages link HTML pages."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I) or href.startswith(("#", "/")):
        return href
    path, sep, fragment = href.partition("#")
    return (path[:-3] + ".html" if path.endswith(".md") else path) + sep + fragment


def _link_to_html(self, tokens: list[Token], idx: int, options, env) -> str:
    href = tokens[idx].attrGet("href")
    if href is not None:
        tokens[idx].attrSet("href", html_target(str(href)))
    return self.renderToken(tokens, idx, options, env)


@cache
def parser() -> MarkdownIt:
    """CommonMark with pipe tables; raw HTML in the Markdown is escaped, never passed through."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("heading_open", _heading_with_id)
    md.add_render_rule("link_open", _link_to_html)
    return md


@cache
def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("comparisons.report", "templates"), autoescape=select_autoescape(),
                       keep_trailing_newline=True)


def body(markdown: str) -> str:
    """The HTML of a Markdown text (block level)."""
    return parser().render(markdown)


def inline(markdown: str) -> str:
    """The HTML of one line of Markdown (code, links, emphasis), without a paragraph around it."""
    return parser().renderInline(markdown)


def title_of(markdown: str, fallback: str = "") -> str:
    """The text of the first level-1 heading of a Markdown document."""
    return next((line[2:].strip() for line in markdown.splitlines() if line.startswith("# ")), fallback)


def rerender(root) -> list:
    """Rewrite every ``.html`` twin under ``root`` from its ``.md`` (no computation: the Markdown on
    disk is the document); a Markdown page without a twin gets one. ``README.md`` at the root is the
    index's Markdown twin (``index.html``, written by the site) and is skipped."""
    from pathlib import Path

    from comparisons.report import files as io

    root = Path(root)
    written = []
    for md in sorted(root.rglob("*.md")):
        if md == root / "README.md":
            continue
        text = md.read_text(encoding="utf-8")
        written.append(io.write_text(md.with_suffix(".html"), page(title_of(text, md.stem), text)))
    return written


def page(title: str, markdown: str, *, css: str = CSS) -> str:
    """A self-contained HTML page (no scripts; opens offline) of a Markdown document."""
    from markupsafe import Markup

    return _environment().get_template("page.html.j2").render(title=title, css=css, body=Markup(body(markdown)))


def template(name: str, **context) -> str:
    """Render one of the report templates (``comparisons/report/templates``)."""
    return _environment().get_template(name).render(css=context.pop("css", CSS), **context)


def _inline_tokens(markdown: str):
    for block in parser().parse(markdown):
        yield from block.children or ()


def links(markdown: str) -> list[tuple[str, str]]:
    """(text, href) of every link of a Markdown text, images excluded."""
    out, open_href, text = [], None, []
    for tok in _inline_tokens(markdown):
        if tok.type == "link_open":
            open_href, text = tok.attrGet("href"), []
        elif tok.type == "link_close" and open_href is not None:
            out.append(("".join(text), str(open_href)))
            open_href = None
        elif open_href is not None and tok.type in ("text", "code_inline"):
            text.append(tok.content)
    return out


def images(markdown: str) -> list[tuple[str, str]]:
    """(alt, src) of every image of a Markdown text."""
    return [(tok.content, str(tok.attrGet("src"))) for tok in _inline_tokens(markdown) if tok.type == "image"]


__all__ = ["CSS", "body", "html_target", "images", "inline", "links", "page", "parser", "rerender", "template",
           "title_of"]
