"""Run a schedule case: the learning-rate sequence of the first ``steps`` updates (and OneCycle's
momentum sequence on PyTorch), scratch against the framework; the conventions are in
``comparisons.table.schedules``."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from comparisons.harness.runner import pair
from comparisons.table.spec import Case, Compared, Context


def run_schedule(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """Compare the lr sequence (and OneCycle's momentum sequence on PyTorch) over ``steps`` updates."""
    schedule = case.make(dtype)
    n = int(case.params["steps"])  # type: ignore[call-overload]
    ours = {"lr": schedule.sequence(n)}
    if framework == "keras":
        from reference import keras_schedules

        theirs = {"lr": keras_schedules.lr_sequence(schedule, n, dtype,
                                                    python_floats=bool(case.params.get("python_floats")))}
    else:
        from reference import torch_schedules

        theirs = torch_schedules.sequences(schedule, n)
        if "momentum" in theirs:
            ours["momentum"] = np.array([schedule.momentum_at(k) for k in range(n)])
    ctx = Context(dtype, (), {"steps": np.arange(n)})
    for quantity, value in theirs.items():
        s, f = ours[quantity], value
        if dtype == "float32":
            s, f = s.astype(np.float32), f.astype(np.float32)
        yield pair(case, framework, quantity, 0, s, f, ctx)
