"""The runners of the case table, looked up by a case's kind: the one place a kind meets its code.

A runner is ``runner(case, framework, dtype) -> Iterable[Compared]`` (pairs that ``rows_from``
judges at the case's tolerance); a judge is ``judge(case, framework, dtype) -> list[Row]``, for
checks that are not array comparisons (distribution tests of random initializers). Kinds with
several procedures are keyed ``"kind/check"`` (``Case.check``). A new kind adds its runner here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from comparisons.harness import attention, callbacks, initializers, optimizers, recurrent, schedules
from comparisons.harness.runner import Row, rows_from, run_layer, run_loss
from comparisons.table.spec import Case, Compared

Runner = Callable[[Case, str, str], Iterable[Compared]]
Judge = Callable[[Case, str, str], list[Row]]

RUNNERS: dict[str, Runner] = {
    "layer": run_layer,
    "loss": run_loss,
    "optimizer": optimizers.run_optimizer,
    "schedule": schedules.run_schedule,
    "initializer": initializers.run_initializer,
    "callback/plateau": callbacks.run_plateau,
    "callback/early-stopping": callbacks.run_early_stopping,
    "callback/checkpoint": callbacks.run_checkpoint,
    "callback/lr-scheduler": callbacks.run_lr_scheduler,
    "layer/stateful": recurrent.run_stateful,
    "layer/attention": attention.run_attention,
}
JUDGES: dict[str, Judge] = {"initializer": initializers.initializer_rows}


def key(case: Case) -> str:
    """The registry key of a case: its kind, or ``kind/check``."""
    return f"{case.kind}/{case.check}" if case.check else case.kind


def runner_for(case: Case) -> Runner:
    """The runner of a case, or a ValueError naming the kind to register."""
    k = key(case)
    if k not in RUNNERS:
        raise ValueError(f"case {case.id}: no runner for kind {k!r}; registered: {', '.join(sorted(RUNNERS))} "
                         "(add one to comparisons.harness.registry.RUNNERS)")
    return RUNNERS[k]


def run_case(case: Case, framework: str, dtype: str) -> list[Row]:
    """All result rows of one case against one framework in one dtype."""
    judge = JUDGES.get(key(case))
    if judge is not None:
        return judge(case, framework, dtype)
    return rows_from(case, framework, dtype, runner_for(case)(case, framework, dtype))


__all__ = ["JUDGES", "RUNNERS", "key", "run_case", "runner_for"]
