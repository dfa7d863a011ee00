"""Plot every schedule case: scratch, Keras and PyTorch learning rates on one axis per schedule.

Uses matplotlib's Agg canvas through the object API (``Figure`` + ``FigureCanvasAgg``), so no
global backend or pyplot state is touched. The PNG is written to a temporary file in the target
directory and moved into place with ``os.replace``.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence

import numpy as np

from comparisons.table.schedules import SCHEDULES
from comparisons.table.spec import Case

STYLES = {"scratch": {"color": "black", "lw": 2.2, "alpha": 0.45},
          "keras": {"color": "tab:red", "lw": 1.0, "ls": "--"},
          "torch": {"color": "tab:blue", "lw": 1.0, "ls": ":"}}


def sequences(case: Case) -> dict[str, np.ndarray]:
    """The float64 lr sequences of one case: scratch and each framework it is compared with."""
    from reference import keras_schedules, torch_schedules

    schedule = case.make("float64")
    n = int(case.params.get("steps", 1200))  # type: ignore[call-overload]
    out = {"scratch": schedule.sequence(n)}
    if "keras" in case.frameworks:
        out["keras"] = keras_schedules.lr_sequence(schedule, n, "float64",
                                                   python_floats=bool(case.params.get("python_floats")))
    if "torch" in case.frameworks:
        out["torch"] = torch_schedules.sequences(schedule, n)["lr"]
    return out


def plot_lr_schedules(path: str = "reports/lr_schedules.png", cases: Sequence[Case] | None = None) -> str:
    """Write the figure to ``path`` (atomically) and return ``path``.

    Args:
        path: the PNG to write; its directory is created if needed.
        cases: the schedule cases to draw (default: every case in ``SCHEDULES``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cases = list(SCHEDULES if cases is None else cases)
    cols = min(4, len(cases))
    rows = math.ceil(len(cases) / cols)
    fig = Figure(figsize=(4.2 * cols, 2.9 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    for i, case in enumerate(cases):
        ax = fig.add_subplot(rows, cols, i + 1)
        for name, lr in sequences(case).items():
            ax.plot(np.arange(len(lr)), lr, label=name, **STYLES[name])
        ax.set_title(case.id.removeprefix("schedule/"), fontsize=9)
        ax.set_xlabel("step (updates applied)", fontsize=7)
        ax.set_ylabel("learning rate", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="upper right")
    fig.suptitle("Learning-rate schedules: scratch vs Keras vs PyTorch (float64)", fontsize=11)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=110)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a report is for everyone to read
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path
