"""parity.csv stores error figures to a few significant digits, so a report regenerated on another
machine (other BLAS blocking, other last digits) keeps the rows whose verdict did not change."""

from __future__ import annotations

import math

import pandas as pd

from comparisons.report.parity import rounded, stored


def test_rounded_keeps_three_significant_digits():
    assert rounded(2.8801233926691234e-16) == 2.88e-16
    assert rounded(1.625297908323464e-16) == 1.63e-16
    assert rounded(0.0) == 0.0 and math.isnan(rounded(float("nan"))) and rounded(math.inf) == math.inf


def test_two_machines_store_the_same_row():
    def row(max_abs, max_rel, scratch, framework):
        detail = (f"max abs {max_abs:.3e}, max rel {max_rel:.3e} at index (1, 6) "
                  f"(scratch {scratch:.17g}, framework {framework:.17g})")
        return {"case": "dense/2d", "max_abs": max_abs, "max_rel": max_rel, "raw_max_rel": float("nan"),
                "detail": detail, "summary": "x"}

    a = pd.DataFrame([row(6.661338147750939e-16, 2.8801233926691234e-16, 1.8767342877985531, 1.8767342877985538)])
    b = pd.DataFrame([row(6.661338147750941e-16, 2.8801233926691301e-16, 1.8767342877985529, 1.8767342877985536)])
    assert a.to_csv() != b.to_csv()
    assert stored(a).to_csv(index=False) == stored(b).to_csv(index=False)
    assert stored(a)["detail"][0] == "max abs 6.66e-16, max rel 2.88e-16 at index (1, 6) (scratch 1.88, framework 1.88)"
    assert "summary" not in stored(a)
