"""Cases of the table for initializers (kind "initializer")."""

from __future__ import annotations

from comparisons.spec import Case

INITIALIZERS: list[Case] = []
