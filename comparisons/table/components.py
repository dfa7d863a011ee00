"""The registry of public scratch components: the modules whose ``__all__`` lists them.

The coverage meta-test (every component has a case) and the atlas (one section per component)
read the same list from here. The book's classes (``scratch.textbook.*``) are named
``textbook.<name>`` in the case table (``textbook.Affine``), since some of their names are also
core names (``Sigmoid``, ``Dropout``).
"""

from __future__ import annotations

import importlib

#: Modules whose ``__all__`` lists public components; each component needs at least one case.
COMPONENT_MODULES = ("scratch.layers", "scratch.losses", "scratch.optimizers", "scratch.schedules",
                     "scratch.initializers", "scratch.callbacks", "scratch.textbook.layers",
                     "scratch.textbook.optimizer")
#: Names in those ``__all__`` that are protocols, not components.
NOT_COMPONENTS = frozenset({"Layer"})
#: The prefix of the book's classes in ``Case.covers``.
TEXTBOOK_PREFIX = "textbook."


def _prefix(modname: str) -> str:
    return TEXTBOOK_PREFIX if modname.startswith("scratch.textbook") else ""


def public_components(modules: tuple[str, ...] | None = None) -> dict[str, str]:
    """Public component name (``textbook.<name>`` for the book's) -> the module that exports it
    (``modules`` default: ``COMPONENT_MODULES``, read at call time)."""
    names: dict[str, str] = {}
    for modname in COMPONENT_MODULES if modules is None else modules:
        module = importlib.import_module(modname)
        for name in getattr(module, "__all__", ()):
            if name not in NOT_COMPONENTS:
                names.setdefault(_prefix(modname) + name, modname)
    return names


def uncovered(cases, modules: tuple[str, ...] | None = None) -> list[str]:
    """``module.name`` of every public component that no case covers (the meta-test wants none)."""
    covered = {name for case in cases for name in case.covers}
    return sorted(f"{mod}.{name}" for name, mod in public_components(modules).items() if name not in covered)


def resolve(name: str, modules: tuple[str, ...] | None = None) -> tuple[str, object] | None:
    """(module name, object) of a public scratch component (``textbook.<name>``: the book's), or None."""
    book = name.startswith(TEXTBOOK_PREFIX)
    bare = name.removeprefix(TEXTBOOK_PREFIX)
    for modname in COMPONENT_MODULES if modules is None else modules:
        if bool(_prefix(modname)) != book:
            continue
        module = importlib.import_module(modname)
        if bare in getattr(module, "__all__", ()):
            return modname, getattr(module, bare)
    return None


__all__ = ["COMPONENT_MODULES", "NOT_COMPONENTS", "TEXTBOOK_PREFIX", "public_components", "resolve", "uncovered"]
