"""Run an optimizer case: the scratch optimizer and its framework twin stepped side by side from the
same start, every parameter compared after every step.

The inputs (least-squares problem, fixed gradient sequence, learning rates) and the relations of the
known differences are case data: ``comparisons.table.optimizer_relations``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from comparisons.harness.runner import pair
from comparisons.table.book import core_of
from comparisons.table.spec import Case, Compared, Context


def _builder(framework: str):
    if framework == "keras":
        from reference import keras_optimizers

        return keras_optimizers.build
    from reference import torch_optimizers

    return torch_optimizers.build


def run_optimizer(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """Step the scratch optimizer and its framework twin side by side; compare every parameter
    after every step (``param:<name>``, step = updates applied, 1-based)."""
    inputs = case.inputs(np.random.default_rng(case.seed), dtype)
    opt = case.make(dtype)
    params = {k: v.copy() for k, v in inputs["params"].items()}
    twin = _builder(framework)(core_of(opt), params, dtype)  # a book optimizer: the twins of its core form
    fixed = any(case.known_for(framework, f"param:{n}", dtype) for n in params)
    problem, lrs = inputs["problem"], inputs["lrs"]
    path = {n: [p.astype(np.float64)] for n, p in params.items()}
    seen = {n: [] for n in params}
    for t, lr in enumerate(lrs, start=1):
        if fixed:
            g_scratch = g_fw = inputs["grads"][t - 1]
        else:
            g_scratch, g_fw = problem.grads(params, t - 1), problem.grads(twin.params(), t - 1)
        opt.step(params, g_scratch, lr)
        twin.step(g_fw, lr)
        fw = twin.params()
        for name, value in params.items():
            path[name].append(fw[name].astype(np.float64))
            seen[name].append(g_fw[name].astype(np.float64))
            ctx = Context(dtype, inputs={"name": name, "step": t, "lrs": lrs[:t], "grads": tuple(seen[name]),
                                         "path": tuple(path[name]), "all_grads": inputs["grads"][:t]})
            yield pair(case, framework, f"param:{name}", t, value.copy(), fw[name], ctx)
