"""THE case table: every scratch component against Keras and PyTorch, as data.

One module per kind: ``layers`` (layers and losses), ``optimizers`` and ``optimizers_adam``,
``schedules``, ``callbacks``, ``initializers``, and ``textbook`` (the book's classes, through
``book.BookLayer``); ``spec`` is the vocabulary (Case, Known, Tolerance), ``known`` the recorded
framework differences, ``links`` their link roots and ``components`` the registry of public scratch
components. The harness (``comparisons.harness``) runs the entries; the table never imports it.
``CASES`` is the whole table in report order, ``BY_ID`` indexes it and ``get`` looks one case up
with a helpful error.
"""

from __future__ import annotations

from comparisons.table.attention import ATTENTION
from comparisons.table.callbacks import CALLBACKS
from comparisons.table.conv_variants import CONV_VARIANTS
from comparisons.table.initializers import INITIALIZERS
from comparisons.table.layers import ACTIVATIONS, BATCHNORM, CONV, DENSE, DROPOUT, LOSSES, POOLING
from comparisons.table.normact import NORM_ACT
from comparisons.table.optimizer_variants import OPTIMIZER_VARIANTS
from comparisons.table.optimizers import ADAGRAD_CASES, SGD_CASES
from comparisons.table.optimizers_adam import ADAM_CASES, RMSPROP_CASES
from comparisons.table.recurrent import RECURRENT
from comparisons.table.schedules import SCHEDULES
from comparisons.table.spec import Case, Tolerance
from comparisons.table.textbook import BOOK_OPTIMIZERS, TEXTBOOK

CASES: list[Case] = [*DENSE, *ACTIVATIONS, *CONV, *POOLING, *CONV_VARIANTS, *BATCHNORM, *DROPOUT, *RECURRENT,
                     *ATTENTION, *LOSSES, *NORM_ACT, *INITIALIZERS, *SGD_CASES, *ADAGRAD_CASES, *RMSPROP_CASES,
                     *ADAM_CASES, *OPTIMIZER_VARIANTS, *BOOK_OPTIMIZERS, *SCHEDULES, *CALLBACKS, *TEXTBOOK]
BY_ID: dict[str, Case] = {c.id: c for c in CASES}


def get(case_id: str) -> Case:
    """Look a case up by id, with a helpful error."""
    if case_id not in BY_ID:
        import difflib

        close = difflib.get_close_matches(case_id, BY_ID, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `python -m comparisons list` shows all ids"
        raise ValueError(f"case: unknown id {case_id!r}{hint}")
    return BY_ID[case_id]


__all__ = ["BY_ID", "CASES", "Tolerance", "get"]
