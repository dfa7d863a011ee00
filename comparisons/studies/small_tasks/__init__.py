"""Small tasks trained in lock-step in scratch, Keras and PyTorch, with decision-boundary plots.

The logic gates AND / OR / NAND / XOR (2-2-1 sigmoid network), three Gaussian blobs (2-3-3 tanh
network, SGD with momentum) and two moons (2-3-2 tanh network), data generated in NumPy.

- ``data``: the generators (``gate``, ``three_blobs``, ``two_moons``).
- ``tasks``: the recipes (``TASKS``, ``get``).
- ``impls``: the lock-step implementations with the loss as a parameter.
- ``train``: ``run(name, dtype)`` -> ``TaskRun`` (per-step losses, final accuracies, parameter
  differences).
- ``report``: ``write_report(out, dtypes=..., progress=...)`` -> (paths, ok).
- ``cli``: ``add_commands(sub)`` registers ``small-tasks``.
"""

from comparisons.studies.small_tasks.cli import add_commands
from comparisons.studies.small_tasks.tasks import TASKS


def write_report(out, *, dtypes=("float64", "float32"), progress: bool = True, tasks=None):
    """See ``comparisons.studies.small_tasks.report.write_report`` (imported on use: it loads matplotlib)."""
    from comparisons.studies.small_tasks.report import write_report as write

    return write(out, dtypes=dtypes, progress=progress, tasks=tasks)


__all__ = ["TASKS", "add_commands", "write_report"]
