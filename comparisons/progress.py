"""A small dependency-free text progress bar on stderr.

``progress(iterable, total=None, desc="")`` wraps an iterable; ``Progress`` is the manual form with
``update(n)``. Both draw nothing unless enabled: by default only when the stream is a terminal, so
logs, pipes and test runs stay clean. Redraws are throttled to ``min_interval`` seconds.

Example:
    >>> for chunk in progress(chunks, desc="decoding"):        # doctest: +SKIP
    ...     handle(chunk)
    >>> with Progress(total=size, desc="download", unit="B", unit_scale=True) as bar:  # doctest: +SKIP
    ...     bar.update(len(block))
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")

BAR_WIDTH = 24  # characters between the bars of |#####     |


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed or replaced streams
        return False


def _scaled(n: float) -> str:
    """12345678 -> '12.3M' (decimal prefixes, as download sizes are quoted)."""
    for prefix in ("", "k", "M", "G"):
        if abs(n) < 1000 or prefix == "G":
            return f"{n:.0f}{prefix}" if prefix == "" else f"{n:.1f}{prefix}"
        n /= 1000
    raise AssertionError("unreachable")


class Progress:
    """A manual progress bar: ``update(n)`` after each piece of work, ``close()`` at the end.

    Args:
        total: the amount of work, or None when unknown (then only the count is shown).
        desc: a label drawn before the bar.
        unit: the unit of the count ("B" for bytes, "rows", ...).
        unit_scale: write counts with k/M/G prefixes.
        enabled: draw or not; None (default) draws only when ``file`` is a terminal.
        file: the stream to draw on; default ``sys.stderr``.
        min_interval: fewest seconds between two redraws.
    """

    def __init__(self, total: float | None = None, desc: str = "", *, unit: str = "",
                 unit_scale: bool = False, enabled: bool | None = None, file: TextIO | None = None,
                 min_interval: float = 0.1) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.unit_scale = unit_scale
        self.file = sys.stderr if file is None else file
        self.enabled = _isatty(self.file) if enabled is None else bool(enabled)
        self.min_interval = min_interval
        self.n: float = 0
        self.closed = False
        self._start = time.monotonic()
        self._last_draw = -float("inf")
        self._drawn_width = 0
        self._draw(force=True)

    def _count(self, n: float) -> str:
        return _scaled(n) if self.unit_scale else f"{n:g}"

    def render(self) -> str:
        """The current line, without carriage return: ``desc: 42%|##########   | 4.2M/10.0MB [1.3s]``."""
        elapsed = time.monotonic() - self._start
        unit = self.unit if self.unit_scale else f" {self.unit}" if self.unit else ""  # 4.2MB, 7 rows
        head = f"{self.desc}: " if self.desc else ""
        if not self.total:
            return f"{head}{self._count(self.n)}{unit} [{elapsed:.1f}s]"
        frac = min(max(self.n / self.total, 0.0), 1.0)
        filled = int(frac * BAR_WIDTH)
        bar = "#" * filled + " " * (BAR_WIDTH - filled)
        return (f"{head}{frac * 100:3.0f}%|{bar}| {self._count(self.n)}/{self._count(self.total)}{unit} "
                f"[{elapsed:.1f}s]")

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        line = self.render()
        pad = " " * max(self._drawn_width - len(line), 0)  # wipe the rest of a longer previous line
        self.file.write("\r" + line + pad)
        self.file.flush()
        self._drawn_width = len(line)

    def update(self, n: float = 1) -> None:
        """Add ``n`` to the count and redraw (throttled)."""
        self.n += n
        self._draw(force=self.total is not None and self.n >= self.total)

    def set_description(self, desc: str) -> None:
        """Change the label and redraw."""
        self.desc = desc
        self._draw(force=True)

    def close(self, status: str = "") -> None:
        """Draw the final state, followed by ``status`` if given, and end the line.

        Calling it again does nothing. Leaving a ``with`` block by an exception closes with "failed".
        """
        if self.closed:
            return
        self.closed = True
        if self.enabled:
            self._draw(force=True)
            self.file.write(f" {status}\n" if status else "\n")
            self.file.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.close("failed" if exc_type is not None else "")


def progress(iterable: Iterable[T], total: float | None = None, desc: str = "", *,
             enabled: bool | None = None, file: TextIO | None = None, unit: str = "") -> Iterator[T]:
    """Yield the items of ``iterable`` while drawing a bar that counts them.

    Args:
        iterable: the items.
        total: how many there are; default ``len(iterable)`` when it has one.
        desc: a label drawn before the bar.
        enabled: draw or not; None (default) draws only when the stream is a terminal.
        file: the stream to draw on; default ``sys.stderr``.
        unit: the unit of the count.
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, desc, enabled=enabled, file=file, unit=unit) as bar:
        for item in iterable:
            yield item
            bar.update(1)
