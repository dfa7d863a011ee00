"""Progress bars on stderr, drawn by tqdm.

``progress(iterable, total=None, desc="")`` wraps an iterable; ``Progress`` is the manual form with
``update(n)``. Both draw nothing unless enabled: by default only when the stream is a terminal, so
logs, pipes and test runs stay clean. Leaving a ``with`` block by an exception ends the bar with
"failed".

Example:
    >>> for chunk in progress(chunks, desc="decoding"):        # doctest: +SKIP
    ...     handle(chunk)
    >>> with Progress(total=size, desc="download", unit="B", unit_scale=True) as bar:  # doctest: +SKIP
    ...     bar.update(len(block))
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")


class Progress:
    """A manual progress bar: ``update(n)`` after each piece of work, ``close()`` at the end.

    Args:
        total: the amount of work, or None when unknown (then only the count is shown).
        desc: a label drawn before the bar.
        unit: the unit of the count ("B" for bytes, "steps", ...).
        unit_scale: write counts with k/M/G prefixes.
        enabled: draw or not; None (default) draws only when ``file`` is a terminal.
        file: the stream to draw on; default ``sys.stderr``.
        min_interval: fewest seconds between two redraws.
    """

    def __init__(self, total: float | None = None, desc: str = "", *, unit: str = "",
                 unit_scale: bool = False, enabled: bool | None = None, file: TextIO | None = None,
                 min_interval: float = 0.1) -> None:
        self.closed = False
        self._bar = tqdm(total=total, desc=desc, unit=unit or "it", unit_scale=unit_scale,
                         disable=None if enabled is None else not enabled, file=sys.stderr if file is None else file,
                         mininterval=min_interval, dynamic_ncols=True, ascii=True)

    @property
    def n(self) -> float:
        return self._bar.n

    @property
    def total(self) -> float | None:
        """The amount of work; may grow while running (a download learns its length)."""
        return self._bar.total

    @total.setter
    def total(self, value: float | None) -> None:
        self._bar.total = value
        self._bar.refresh()

    @property
    def enabled(self) -> bool:
        return not self._bar.disable

    def update(self, n: float = 1) -> None:
        """Add ``n`` to the count and redraw (throttled)."""
        self._bar.update(n)

    def set_description(self, desc: str) -> None:
        """Change the label and redraw."""
        self._bar.set_description_str(desc)

    def close(self, status: str = "") -> None:
        """Draw the final state, followed by ``status`` if given, and end the line (once)."""
        if self.closed:
            return
        self.closed = True
        if status:
            self._bar.set_postfix_str(status, refresh=False)
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.close("failed" if exc_type is not None else "")


def progress(iterable: Iterable[T], total: float | None = None, desc: str = "", *,
             enabled: bool | None = None, file: TextIO | None = None, unit: str = "") -> Iterator[T]:
    """Yield the items of ``iterable`` while drawing a bar that counts them (``total`` defaults to
    ``len(iterable)`` when it has one)."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, desc, enabled=enabled, file=file, unit=unit) as bar:
        for item in iterable:
            yield item
            bar.update(1)
