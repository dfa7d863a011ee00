"""Cases of the table for schedules (kind "schedule")."""

from __future__ import annotations

from comparisons.spec import Case

SCHEDULES: list[Case] = []
