"""The formula of a component: the algorithm block of its scratch docstring, verbatim.

Rule: the paragraph that starts with ``Algorithm`` and the literal blocks that follow it (a
paragraph ending in ``::`` continues the block); a component whose own docstring has none takes
the block of the pure function it covers (``SGD`` -> ``sgd_update``). Without any algorithm block,
the summary paragraph and the ``Forward:`` / ``::`` paragraphs (with their literal blocks) are
the formula. The text is copied, never rewritten, so the atlas says what the code's docstring says
(``tests/test_atlas.py`` checks it is a substring of ``inspect.getdoc``).
"""

from __future__ import annotations

import importlib
import inspect

#: Modules whose ``__all__`` lists the public components (as tests/test_meta.py reads them). The book's
#: classes (``scratch.textbook.*``) are named ``textbook.<name>`` in the case table (``textbook.Affine``),
#: since some of their names are also core names (``Sigmoid``, ``Dropout``).
COMPONENT_MODULES = ("scratch.layers", "scratch.losses", "scratch.optimizers", "scratch.schedules",
                     "scratch.initializers", "scratch.callbacks", "scratch.textbook.layers",
                     "scratch.textbook.optimizer")
TEXTBOOK_PREFIX = "textbook."
STOP = ("Framework notes", "Args:", "Returns:", "Attributes:", "Raises:", "Example")


def resolve(name: str) -> tuple[str, object] | None:
    """(module name, object) of a public scratch component (``textbook.<name>``: the book's), or None."""
    book = name.startswith(TEXTBOOK_PREFIX)
    bare = name.removeprefix(TEXTBOOK_PREFIX)
    for modname in COMPONENT_MODULES:
        if modname.startswith("scratch.textbook") != book:
            continue
        module = importlib.import_module(modname)
        if bare in getattr(module, "__all__", ()):
            return modname, getattr(module, bare)
    return None


def _paragraphs(doc: str) -> list[str]:
    """Split on blank lines, keeping each paragraph's text exactly (indentation included)."""
    out, cur = [], []
    for line in doc.splitlines():
        if line.strip():
            cur.append(line)
        elif cur:
            out.append("\n".join(cur))
            cur = []
    if cur:
        out.append("\n".join(cur))
    return out


def _indented(p: str) -> bool:
    return p.startswith((" ", "\t"))


def _take_with_blocks(paras: list[str], i: int) -> tuple[list[str], int]:
    """Paragraph i, then literal blocks and the '::' paragraphs that introduce more of them."""
    taken = [paras[i]]
    j = i + 1
    while j < len(paras):
        p = paras[j]
        if _indented(p) and taken[-1].rstrip().endswith("::") or _indented(p) and _indented(taken[-1]):
            taken.append(p)
        elif not _indented(p) and p.rstrip().endswith("::") and not p.startswith(STOP):
            taken.append(p)
        else:
            break
        j += 1
    while taken and not _indented(taken[-1]) and taken[-1].rstrip().endswith("::") and len(taken) > 1:
        taken.pop()  # a trailing introduction without its block
    return taken, j


def algorithm_block(doc: str) -> str | None:
    """The ``Algorithm`` paragraph and its literal blocks, or None."""
    paras = _paragraphs(doc)
    for i, p in enumerate(paras):
        if p.startswith("Algorithm"):
            return "\n\n".join(_take_with_blocks(paras, i)[0])
    return None


def summary_block(doc: str) -> str:
    """The summary paragraph plus ``Forward:`` and ``::`` paragraphs (with their literal blocks)."""
    paras = _paragraphs(doc)
    taken = [paras[0]] if paras else []
    if paras and paras[0].rstrip().endswith("::"):
        more, i = _take_with_blocks(paras, 0)
        taken, start = more, i
    else:
        start = 1
    i = start
    while i < len(paras):
        p = paras[i]
        if p.startswith(STOP):
            break
        if p.startswith(("Forward:", "Forward ")) or (not _indented(p) and p.rstrip().endswith("::")):
            more, i = _take_with_blocks(paras, i)
            taken += more
            continue
        i += 1
    return "\n\n".join(taken)


def formula(name: str, related: tuple[str, ...] = ()) -> tuple[str, str]:
    """(formula text, where it comes from) for component ``name``; ``related`` are the other names a
    case covers (searched for an algorithm block when ``name``'s docstring has none)."""
    found = resolve(name)
    if found is None:
        return "", ""
    modname, obj = found
    doc = inspect.getdoc(obj) or ""
    block = algorithm_block(doc)
    source = f"{modname}.{name.removeprefix(TEXTBOOK_PREFIX)}"
    if block is not None:
        return block, source
    for other in related:
        hit = resolve(other)
        if hit is not None and other != name:
            other_block = algorithm_block(inspect.getdoc(hit[1]) or "")
            if other_block is not None:
                return other_block, f"{hit[0]}.{other}"
    return summary_block(doc), source
