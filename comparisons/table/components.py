"""The registry of public scratch components: the modules whose ``__all__`` lists them.

The coverage meta-test (every component has a case) and the atlas (one section per component)
read the same list from here.
"""

from __future__ import annotations

import importlib

#: Modules whose ``__all__`` lists public components; each component needs at least one case.
COMPONENT_MODULES = ("scratch.layers", "scratch.losses", "scratch.optimizers", "scratch.schedules",
                     "scratch.initializers", "scratch.callbacks")
#: Names in those ``__all__`` that are protocols, not components.
NOT_COMPONENTS = frozenset({"Layer"})


def public_components(modules=COMPONENT_MODULES) -> dict[str, str]:
    """Public component name -> the module that exports it (first module wins)."""
    names: dict[str, str] = {}
    for modname in modules:
        module = importlib.import_module(modname)
        for name in getattr(module, "__all__", ()):
            if name not in NOT_COMPONENTS:
                names.setdefault(name, modname)
    return names


def resolve(name: str, modules=COMPONENT_MODULES) -> tuple[str, object] | None:
    """(module name, object) of a public scratch component, or None."""
    for modname in modules:
        module = importlib.import_module(modname)
        if name in getattr(module, "__all__", ()):
            return modname, getattr(module, name)
    return None


__all__ = ["COMPONENT_MODULES", "NOT_COMPONENTS", "public_components", "resolve"]
