"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _examples() -> list[tuple[str, str]]:
    """(section title, code) of every ```python block of the README."""
    text = README.read_text(encoding="utf-8")
    out = []
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        title = section.splitlines()[0].strip()
        out += [(title, code) for code in re.findall(r"^```python\n(.*?)^```", section, flags=re.M | re.S)]
    return out


EXAMPLES = [(t, c) for t, c in _examples() if not c.startswith("# examples/")]
#: blocks quoting a file of examples/ (first line ``# examples/NAME``): the file is what runs (tests/test_examples.py)
EXCERPTS = [(t, c) for t, c in _examples() if c.startswith("# examples/")]


def test_the_book_section_has_an_example():
    assert any(title == "Coming from the book" for title, _ in EXAMPLES)


@pytest.mark.parametrize(("title", "code"), EXAMPLES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(EXAMPLES)])
def test_readme_example_runs(title, code, capsys):
    exec(compile(code, f"README.md ({title})", "exec"), {"__name__": "__readme__"})  # its asserts are the test
    assert capsys.readouterr().out, "the example prints what it shows"


@pytest.mark.parametrize(("title", "code"), EXCERPTS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(EXCERPTS)])
def test_readme_excerpts_are_in_their_example_file(title, code):
    first, *lines = code.splitlines()
    text = (README.parent / first.removeprefix("# ")).read_text(encoding="utf-8")
    assert "\n".join(lines) in text, f"README.md ({title}): the excerpt is not in {first[2:]} as written"
