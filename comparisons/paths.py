"""Where things live on disk: the project root, the committed reports and the scratch output
directory, defined once, with the one output rule every command follows.

Every command writes a tree laid out like ``reports/`` (``parity.md``, ``mnist/DTYPE/NAME/``,
``small_tasks/``...) under one root: ``--out DIR`` when given, else ``out/`` (ignored by git;
``$DLPARITY_OUT`` moves it). Only ``report`` (``make report``) writes ``reports/`` by default, so
a short or filtered run never replaces a committed report; ``--out reports`` writes there on purpose.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The project root (the directory that holds ``comparisons/``, ``scratch/`` and ``reports/``).
ROOT = Path(__file__).resolve().parent.parent
#: The committed reports.
REPORTS = ROOT / "reports"
#: The rule, as every command's ``--out`` help states it.
OUTPUT_RULE = ("report tree root: files go where they go under reports/ (default out/, ignored by git, or "
               "$DLPARITY_OUT; only `report` writes reports/ unless --out reports is given)")


def scratch_root() -> Path:
    """The default output root of every command but ``report``: ``$DLPARITY_OUT`` or ``out/``."""
    return Path(os.environ.get("DLPARITY_OUT") or ROOT / "out")


def output_root(args) -> Path:
    """The root a parsed command writes under: ``--out`` if given, else :func:`scratch_root`."""
    out = getattr(args, "out", None)
    return Path(out).expanduser() if out else scratch_root()


def add_out_argument(parser) -> None:
    """``--out DIR`` with the one output rule in its help (default: the scratch root)."""
    parser.add_argument("--out", metavar="DIR", help=OUTPUT_RULE)
