"""Where things live on disk: the project root and the committed reports, defined once.

Every command's default output directory is built from ``REPORTS`` here, so moving a module never
moves where it writes.
"""

from __future__ import annotations

from pathlib import Path

#: The project root (the directory that holds ``comparisons/``, ``scratch/`` and ``reports/``).
ROOT = Path(__file__).resolve().parent.parent
#: The committed reports.
REPORTS = ROOT / "reports"
