"""Cases of the table for optimizers (kind "optimizer")."""

from __future__ import annotations

from comparisons.spec import Case

OPTIMIZERS: list[Case] = []
