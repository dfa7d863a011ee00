"""Cases of the table for callbacks (kind "callback")."""

from __future__ import annotations

from comparisons.spec import Case

CALLBACKS: list[Case] = []
