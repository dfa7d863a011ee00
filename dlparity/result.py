"""The result of a check: one row per compared quantity, printable, HTML, a DataFrame, an assertion.

A row's error is the project's one measure (``comparisons.harness.metrics``): normwise relative
``max|a - b| / max|b|`` with the index of the largest absolute difference and both values there.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from comparisons.harness.metrics import error
from comparisons.table.spec import DEFAULT_TOLERANCE, Tolerance

PASS, FAIL, KNOWN, NAN = "pass", "FAIL", "known difference", "FAIL (NaN)"
OK_VERDICTS = (PASS, KNOWN)


class ParityError(AssertionError):
    """A check found a quantity outside its tolerance (an AssertionError, so pytest reports it as one)."""


@dataclass
class Row:
    """One compared quantity of one run (reference or framework, dtype, mode).

    ``value`` / ``ref_value`` are the two values at ``where``, the index of the largest absolute
    difference (of the first NaN for a NaN row). ``known`` / ``holds`` / ``fix`` / ``link`` explain a
    recorded framework difference: what differs, the relation that holds, the setting that removes it.
    """

    layer: str
    reference: str
    framework: str
    dtype: str
    mode: str
    quantity: str
    max_abs: float
    max_rel: float
    rtol: float
    verdict: str
    where: tuple[int, ...] = ()
    value: float = float("nan")
    ref_value: float = float("nan")
    detail: str = ""
    known: str = ""
    holds: str = ""
    fix: str = ""
    link: str = ""
    sides: tuple[str, str] = ("layer", "reference")  # what value and ref_value are

    @property
    def ok(self) -> bool:
        return self.verdict in OK_VERDICTS

    def message(self) -> str:
        """The row as a sentence: quantity, framework, dtype, errors, worst index, both values."""
        where = f"{self.layer}: " if self.layer else ""
        head = f"{where}{self.quantity} vs {self.reference} ({self.dtype}, {self.mode}): {self.verdict}"
        if self.detail:
            body = self.detail
        else:
            body = (f"max abs error {self.max_abs:.3e}, max rel error {self.max_rel:.3e} (tolerance {self.rtol:g}) "
                    f"at index {self.where}: {self.sides[0]} {self.value:.17g}, {self.sides[1]} {self.ref_value:.17g}")
        text = f"{head}: {body}"
        if self.known:
            text += f"\n    known difference: {self.known}\n    relation that holds: {self.holds}"
        if self.fix:
            text += f"\n    to remove it: {self.fix}"
        if self.link:
            text += f"\n    see {self.link}"
        return text


def tolerances(tolerance) -> dict[str, Tolerance]:
    """Per-dtype tolerances: the project's defaults (with their reasons), or a number / mapping given."""
    if tolerance is None:
        return dict(DEFAULT_TOLERANCE)
    if isinstance(tolerance, (int, float)) and not isinstance(tolerance, bool) and tolerance > 0:
        return {dt: Tolerance(float(tolerance), "set by the caller") for dt in DEFAULT_TOLERANCE}
    if isinstance(tolerance, Mapping):
        out = dict(DEFAULT_TOLERANCE)
        for dt, t in tolerance.items():
            if dt not in DEFAULT_TOLERANCE:
                raise ValueError(f"tolerance: unknown dtype {dt!r}, expected one of {list(DEFAULT_TOLERANCE)}")
            out[dt] = t if isinstance(t, Tolerance) else Tolerance(float(t), "set by the caller")
        return out
    raise TypeError(f"tolerance: expected None, a positive number or a mapping dtype -> number, got {tolerance!r}")


def compare(quantity: str, value, ref_value, *, rtol: float, known=None, **labels) -> Row:
    """Compare the checked side ``value`` with the reference ``ref_value`` (already through a known
    difference's relation when ``known`` is given)."""
    a, b = np.asarray(value), np.asarray(ref_value)
    base = {"quantity": quantity, "rtol": rtol, **labels}
    if a.shape != b.shape:
        return Row(**base, max_abs=float("inf"), max_rel=float("inf"), verdict=FAIL,
                   detail=f"shape {a.shape} differs from the reference's {b.shape}")
    if a.dtype.kind == "f" and np.isnan(a).any():
        where = tuple(int(i) for i in np.argwhere(np.isnan(a))[0])
        return Row(**base, max_abs=float("nan"), max_rel=float("nan"), verdict=NAN, where=where,
                   value=float("nan"), ref_value=float(b[where]),
                   detail=f"{int(np.isnan(a).sum())} of {a.size} values are NaN, the first at index {where} "
                          f"(reference {float(b[where]):.17g})")
    e = error(a, b, quantity)
    ok = e.max_rel <= rtol
    verdict = (KNOWN if ok else FAIL) if known is not None else (PASS if ok else FAIL)
    row = Row(**base, max_abs=e.max_abs, max_rel=e.max_rel, verdict=verdict, where=e.where,
              value=e.scratch_value, ref_value=e.framework_value)
    if known is not None:
        row.known, row.holds, row.link = known.what, known.holds, known.link
        row.fix = getattr(known, "fix", "") or "no setting removes it; the relation above is what is checked"
    return row


@dataclass
class Result:
    """What a check found: ``rows`` (one per quantity), ``.ok``, ``assert_ok()``, a table.

    Attributes:
        title: what was checked against what.
        rows: every compared quantity.
        notes: what the run did that a reader should know (copied statistics, layers run as identity).
        tolerance: the per-dtype tolerances used, with their reasons.
        parted_at: for a layer-by-layer port check, the first layer where the two models part.
    """

    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tolerance: Mapping[str, Tolerance] = field(default_factory=lambda: dict(DEFAULT_TOLERANCE))
    parted_at: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def failures(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __bool__(self) -> bool:
        return self.ok

    def assert_ok(self) -> Result:
        """Raise ``ParityError`` (an AssertionError) naming every failing quantity; return self if ok."""
        __tracebackhide__ = True
        if not self.rows:
            raise ParityError(f"{self.title}: nothing was compared")
        bad = self.failures
        if bad:
            lines = [f"{self.title}: {len(bad)} of {len(self.rows)} quantities outside tolerance"]
            if self.parted_at:
                lines.append(f"the models part at {self.parted_at}")
            lines += [r.message() for r in bad[:8]]
            if len(bad) > 8:
                lines.append(f"... and {len(bad) - 8} more (result.failures)")
            raise ParityError("\n".join(lines))
        return self

    # -- views ----------------------------------------------------------------------------------
    COLUMNS = ("layer", "reference", "dtype", "mode", "quantity", "max_abs", "max_rel", "rtol", "verdict", "where")

    def _cells(self, r: Row) -> list[str]:
        return [r.layer, r.reference, r.dtype, r.mode, r.quantity, f"{r.max_abs:.2e}", f"{r.max_rel:.2e}",
                f"{r.rtol:g}", r.verdict, str(r.where)]

    def _columns(self) -> list[int]:
        return [i for i, c in enumerate(self.COLUMNS) if c != "layer" or any(r.layer for r in self.rows)]

    def __str__(self) -> str:
        keep = self._columns()
        table = [[self.COLUMNS[i] for i in keep]] + [[self._cells(r)[i] for i in keep] for r in self.rows]
        widths = [max(len(row[j]) for row in table) for j in range(len(keep))]
        lines = [self.title, ""] + ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                                    for row in table]
        lines.insert(3, "  ".join("-" * w for w in widths))
        lines.append("")
        lines.append(("OK" if self.ok else f"{len(self.failures)} FAILED") + f" ({len(self.rows)} quantities)"
                     + (f"; the models part at {self.parted_at}" if self.parted_at else ""))
        lines += self._explained()
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"tolerance {dt}: {t.rtol:g} ({t.reason})" for dt, t in self.tolerance.items()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<dlparity.Result {self.title!r}: {'OK' if self.ok else 'FAILED'}, {len(self.rows)} quantities>"

    def _explained(self, limit: int = 8) -> list[str]:
        """Each failure (up to ``limit``), then each recorded difference once."""
        out = [r.message() for r in self.failures[:limit]]
        if len(self.failures) > limit:
            out.append(f"... and {len(self.failures) - limit} more failures (result.failures)")
        seen = set()
        for r in self.rows:
            if r.verdict == KNOWN and (r.layer, r.quantity, r.known) not in seen:
                seen.add((r.layer, r.quantity, r.known))
                where = f"{r.layer}: " if r.layer else ""
                out.append(f"{where}{r.quantity}: known difference, the relation holds: {r.known}\n"
                           f"    relation: {r.holds}\n    to remove it: {r.fix}\n    see {r.link}")
        return out

    def _repr_html_(self) -> str:
        keep = self._columns()
        head = "".join(f"<th>{self.COLUMNS[i]}</th>" for i in keep)
        body = []
        for r in self.rows:
            colour = "" if r.verdict == PASS else ("#fff3cd" if r.ok else "#f8d7da")
            style = f' style="background:{colour}"' if colour else ""
            cells = self._cells(r)
            tip = html.escape(r.message(), quote=True)
            body.append(f'<tr{style} title="{tip}">' + "".join(f"<td>{html.escape(cells[i])}</td>" for i in keep)
                        + "</tr>")
        verdict = "OK" if self.ok else f"{len(self.failures)} FAILED"
        notes = "".join(f"<li>{html.escape(m)}</li>" for m in self._explained())
        notes += "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<div><p><b>{html.escape(self.title)}</b>: {verdict}</p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>" + (f"<ul>{notes}</ul>" if notes else "") + "</div>")

    def to_frame(self):
        """The rows as a ``pandas.DataFrame`` (one row per quantity, every field a column)."""
        try:
            import pandas as pd
        except ImportError as err:
            raise ImportError('Result.to_frame needs pandas: pip install "dlparity[reports]"') from err
        return pd.DataFrame([{**asdict(r), "where": str(r.where), "ok": r.ok} for r in self.rows])
