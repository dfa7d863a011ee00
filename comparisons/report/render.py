"""Markdown -> HTML, the one path: markdown-it-py (CommonMark with tables) for the body, a Jinja2
template for the page. Every report is written once, as Markdown; its HTML twin is rendered from
that Markdown, and the site reads links and images out of the same parse (``links``, ``images``).
"""

from __future__ import annotations

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


@cache
def parser() -> MarkdownIt:
    """CommonMark with pipe tables; raw HTML in the Markdown is escaped, never passed through."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("heading_open", _heading_with_id)
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


__all__ = ["CSS", "body", "images", "inline", "links", "page", "parser", "template"]
