"""One test body over the whole case table: case x framework x dtype."""

from __future__ import annotations

import pytest

from comparisons.harness.registry import run_case
from comparisons.harness.runner import KNOWN
from comparisons.table import CASES
from comparisons.table.spec import DTYPES

#: Cases whose ``params`` say ``slow`` (more configurations of a component another case already covers
#: in the fast set) run with ``-m slow``; the reports run every case.
PARAMS = [
    pytest.param(case, fw, dtype, id=f"{case.id}-{fw}-{dtype}",
                 marks=(pytest.mark.slow,) if case.params.get("slow") else ())
    for case in CASES
    for fw in case.frameworks
    for dtype in DTYPES
]


@pytest.mark.parametrize(("case", "framework", "dtype"), PARAMS)
def test_parity(case, framework, dtype):
    rows = run_case(case, framework, dtype)
    assert rows, f"{case.id}: the run compared nothing"
    failures = [
        f"{case.id} [{framework}, {dtype}] {r.quantity} (step {r.worst_step} of {r.steps}): {r.verdict}: "
        f"{r.detail}; tolerance {r.rtol:g}" + (f"; known difference: {r.known_holds}" if r.known_what else "")
        for r in rows
        if not r.ok
    ]
    assert not failures, "\n".join(failures)
    # A recorded difference must still be a difference in float64 (in float32 a small one, like the
    # textbook's 1e-7 inside the log, can be below resolution); otherwise the entry is stale.
    stale = [r.quantity for r in rows if dtype == "float64" and r.verdict == KNOWN and r.raw_max_rel <= r.rtol]
    assert not stale, f"{case.id} [{framework}, {dtype}]: known difference no longer differs for {stale}"
