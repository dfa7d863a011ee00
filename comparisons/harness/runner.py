"""Run a layer or loss case against one framework in one dtype, and turn what any runner compared
into result rows (``rows_from``). ``comparisons.harness.registry`` picks the runner by kind.

Data flows one way: case -> scratch object + framework twin -> the same inputs -> Compared pairs
-> ``Row``s (one per quantity, worst step) -> tests and reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

import numpy as np

from comparisons.harness.metrics import error
from comparisons.table.book import core_of
from comparisons.table.spec import Case, Compared, Context

PASS, FAIL, KNOWN, KNOWN_BROKEN = "pass", "FAIL", "known difference", "FAIL (known difference: relation broken)"


def _twin_builder(kind: str, framework: str):
    """The reference builder for a kind of case (imported lazily: frameworks are heavy)."""
    if kind == "layer":
        from reference import keras_layers, torch_layers

        return {"keras": keras_layers.build, "torch": torch_layers.build}[framework]
    if kind == "loss":
        from reference import keras_losses, torch_losses

        return {"keras": keras_losses.build, "torch": torch_losses.build}[framework]
    raise ValueError(f"kind: no builder for {kind!r}")


def pair(case: Case, framework: str, quantity: str, step: int, s, f, ctx: Context) -> Compared:
    """One compared quantity: scratch ``s`` against framework ``f``, through the case's known
    difference for this framework, quantity and dtype when there is one."""
    known = case.known_for(framework, quantity, ctx.dtype)
    if known is None:
        return Compared(quantity, step, np.asarray(s), np.asarray(f))
    return Compared(quantity, step, np.asarray(s), np.asarray(known.relation(np.asarray(f), ctx)),
                    raw_framework=np.asarray(f), known=known)


def upstream_rng(case: Case) -> np.random.Generator:
    """Generator for upstream gradients, separate from the input stream and the same for all runs."""
    return np.random.default_rng([case.seed, 1])


def run_layer(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """Forward and backward (random upstream gradient) for each step of ``case.script``.

    Compares the output, dx, every parameter gradient and, after training steps, every buffer.
    Dropout masks drawn by the framework are injected into scratch. Before an evaluation step,
    if the case records a difference in running statistics for this framework, the scratch
    statistics are copied into the framework so evaluation compares like with like (the buffer
    difference itself is compared, through its relation, after each training step).
    """
    inputs = case.inputs(np.random.default_rng(case.seed), dtype)
    xs = inputs["xs"]
    if len(xs) < len(case.script):
        raise ValueError(f"case {case.id}: {len(case.script)} script steps but only {len(xs)} input batches")
    layer = case.make(dtype)
    twin = _twin_builder("layer", framework)(core_of(layer), xs[0].shape)  # a book class: its core's twin
    up = upstream_rng(case)
    history: list[np.ndarray] = []
    for step, mode in enumerate(case.script):
        x = xs[step]
        training = mode == "train"
        if not training and any(case.known_for(framework, f"buffer:{k}", dtype) for k in layer.buffers):
            twin.set_buffers(layer.buffers)
        y_fw, extras = twin.forward(x, training=training)
        y = layer.forward(x, training=training, **({"mask": extras["mask"]} if "mask" in extras else {}))
        if training:
            history.append(x)
        dy = up.standard_normal(y.shape).astype(dtype)
        ctx = Context(dtype, tuple(history), {"x": x, "dy": dy})
        known_out = case.known_for(framework, "output", dtype)
        dx_fw, grads_fw = twin.backward(known_out.upstream(dy, ctx) if known_out and known_out.upstream else dy)
        dx = layer.backward(dy)
        yield pair(case, framework, "output", step, y, y_fw, ctx)
        if dx is not None:  # None: the input carries no gradient (Embedding's integer ids)
            yield pair(case, framework, "dx", step, dx, dx_fw, ctx)
        for name in layer.params:
            yield pair(case, framework, f"grad:{name}", step, layer.grads[name], grads_fw[name], ctx)
        if training:
            fw_buffers = twin.buffers()
            for name, value in layer.buffers.items():
                yield pair(case, framework, f"buffer:{name}", step, value, fw_buffers[name], ctx)


def run_loss(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """Loss value and its gradient under a random upstream scalar."""
    inputs = case.inputs(np.random.default_rng(case.seed), dtype)
    y, t = inputs["y"], inputs["t"]
    loss = case.make(dtype)
    twin = _twin_builder("loss", framework)(core_of(loss), t, dtype)
    dout = np.asarray(upstream_rng(case).standard_normal() + 2.0, dtype=dtype)  # random, away from 0
    ctx = Context(dtype, (), {**inputs, "dout": dout})
    value_fw = twin.forward(y, t)
    value = loss.forward(y, t)
    dy_fw = twin.backward(dout)
    dy = loss.backward(dout)
    yield pair(case, framework, "loss", 0, value, value_fw, ctx)
    yield pair(case, framework, "dy", 0, dy, dy_fw, ctx)


@dataclass
class Row:
    """One case x framework x dtype x quantity, worst over the steps."""

    case: str
    kind: str
    framework: str
    dtype: str
    quantity: str
    steps: int
    worst_step: int
    max_abs: float
    max_rel: float
    rtol: float
    verdict: str
    where: str
    detail: str
    raw_max_rel: float | None = None  # known differences: the size of the difference itself
    known_what: str = ""
    known_holds: str = ""
    known_link: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict in (PASS, KNOWN)

    def as_dict(self) -> dict:
        return asdict(self)


def rows_from(case: Case, framework: str, dtype: str, compared: Iterable[Compared]) -> list[Row]:
    """Collapse Compared pairs into one Row per quantity (the worst step decides)."""
    tol = case.tolerance[dtype].rtol
    worst: dict[str, tuple] = {}
    counts: dict[str, int] = {}
    raw_worst: dict[str, float] = {}  # known differences: the largest raw difference over all steps
    for c in compared:
        err = error(c.scratch, c.framework, c.quantity)
        if c.known is not None:
            raw = error(c.scratch, c.raw_framework, c.quantity).max_rel
            raw_worst[c.quantity] = max(raw, raw_worst.get(c.quantity, 0.0))
        counts[c.quantity] = counts.get(c.quantity, 0) + 1
        if c.quantity not in worst or err.max_rel > worst[c.quantity][1].max_rel:
            worst[c.quantity] = (c, err)
    rows = []
    for quantity, (c, err) in worst.items():
        raw = raw_worst.get(quantity)
        ok = err.max_rel <= tol
        verdict = (KNOWN if ok else KNOWN_BROKEN) if c.known else (PASS if ok else FAIL)
        rows.append(Row(
            case=case.id, kind=case.kind, framework=framework, dtype=dtype, quantity=quantity,
            steps=counts[quantity], worst_step=c.step, max_abs=err.max_abs, max_rel=err.max_rel, rtol=tol,
            verdict=verdict, where=str(err.where), detail=err.describe(), raw_max_rel=raw,
            known_what=c.known.what if c.known else "", known_holds=c.known.holds if c.known else "",
            known_link=c.known.link if c.known else "",
        ))
    return rows
