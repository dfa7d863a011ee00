"""Atomic file writes: a report or cache is either the old file or the complete new one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it over ``path``.

    The rename is atomic on POSIX; on any error the temporary file is removed and ``path`` is
    untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; reports and caches are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write UTF-8 text."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


#: Significant digits of the figures stored in the study CSVs: the last digits of a rounding-level
#: result differ between machines (BLAS blocking, instruction sets), so a regenerated file keeps the
#: rows whose conclusion did not change byte-identical. Timings are stored apart, in their own files.
STORED_DIGITS = 4


def write_csv(path: str | os.PathLike, df, digits: int = STORED_DIGITS) -> Path:
    """Atomically write ``df`` as CSV with every float to ``digits`` significant digits."""
    return write_text(path, df.to_csv(index=False, float_format=f"%.{digits}g"))


def save_figure(fig, path: str | os.PathLike, **kwargs) -> Path:
    """Atomically save a matplotlib figure (format from the suffix of ``path``)."""
    fmt = Path(path).suffix.lstrip(".") or "png"
    return atomic_write(path, lambda p: fig.savefig(p, format=fmt, **kwargs))
