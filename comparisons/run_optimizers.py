"""Run an optimizer case: same start, same gradients, parameters compared after every step.

Two gradient sources:

- feedback (every comparison without a known difference): the gradient of a minibatch least-squares
  loss at each side's *own* current parameters, computed in NumPy in the run's dtype, so each
  trajectory feeds back into its gradients and a difference would grow, not average out;
- a fixed sequence of random gradients (comparisons through a known difference): two forms of an
  update differ by a closed-form function of the gradient sequence only when both see the same
  gradients; with fed-back gradients their trajectories see different gradients and no closed
  form exists. The relations are below.

A relation receives the framework's value after step t and a ``Context`` whose ``inputs`` hold
``step`` (t), ``lrs`` (eta_1..eta_t), ``grads`` (g_1..g_t of this parameter) and ``path`` (the
framework's values p_0..p_t of this parameter), all float64.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from comparisons.book import core_of
from comparisons.run import _pair
from comparisons.spec import Case, Compared, Context

Relation = Callable[[np.ndarray, Context], np.ndarray]
Stat = Callable[[Sequence[np.ndarray]], list[np.ndarray]]
Den = Callable[[np.ndarray, int], np.ndarray]


# -- learning-rate sequences ----------------------------------------------------------------------
def constant(lr: float, steps: int = 100) -> tuple[float, ...]:
    return (float(lr),) * steps


def halving(lr: float, every: int = 20, steps: int = 100) -> tuple[float, ...]:
    """lr * 0.5 ** (t // every) for t = 0 .. steps - 1 (a step schedule)."""
    return tuple(float(lr) * 0.5 ** (t // every) for t in range(steps))


def decaying(lr: float, rate: float = 0.97, steps: int = 100) -> tuple[float, ...]:
    """lr * rate ** t for t = 0 .. steps - 1 (exponential decay, a new rate every step)."""
    return tuple(float(lr) * rate**t for t in range(steps))


# -- the function whose gradients feed back -----------------------------------------------------
@dataclass(frozen=True)
class LeastSquares:
    """L_t(W, b) = 1 / (2 B) * ||X_t W + b - Y_t||^2 on minibatch t (cycling through the data)."""

    x: np.ndarray  # (N, 5)
    y: np.ndarray  # (N, 4)
    batch: int

    def grads(self, params: dict[str, np.ndarray], step: int) -> dict[str, np.ndarray]:
        i = step % (self.x.shape[0] // self.batch)
        xb, yb = self.x[i * self.batch:(i + 1) * self.batch], self.y[i * self.batch:(i + 1) * self.batch]
        r = xb @ params["W"] + params["b"] - yb  # (B, 4)
        return {"W": xb.T @ r / self.batch, "b": r.sum(axis=0) / self.batch}


def trajectory(lrs: Sequence[float], *, sequence_scale: float = 1.0) -> Callable[[np.random.Generator, str], dict]:
    """Inputs of an optimizer case: W (5, 4) and b (4,), the least-squares data, a gradient
    sequence of N(0, sequence_scale^2) entries, and the learning rate of every step."""
    def make(rng: np.random.Generator, dtype: str) -> dict:
        x = rng.standard_normal((64, 5))
        y = x @ rng.standard_normal((5, 4)) + 0.5 * rng.standard_normal((64, 4)) + 0.3
        params = {"W": rng.standard_normal((5, 4)), "b": rng.standard_normal(4)}
        grads = [{"W": sequence_scale * rng.standard_normal((5, 4)), "b": sequence_scale * rng.standard_normal(4)}
                 for _ in lrs]
        return {"params": {k: v.astype(dtype) for k, v in params.items()},
                "problem": LeastSquares(x.astype(dtype), y.astype(dtype), 8),
                "grads": [{k: v.astype(dtype) for k, v in g.items()} for g in grads],
                "lrs": tuple(lrs)}
    return make


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
                                         "path": tuple(path[name])})
            yield _pair(case, framework, f"param:{name}", t, value.copy(), fw[name], ctx)


# -- relations between forms, for one gradient sequence ------------------------------------------
def _out(s: np.ndarray, f: np.ndarray) -> np.ndarray:
    return s.astype(f.dtype)


def momentum_form_shift(*, momentum: float, nesterov: bool, scratch_form: str, dampening: float = 0.0,
                        normalise: Stat | None = None) -> Relation:
    """Keras-form minus PyTorch-form momentum trajectory, for the same gradients u_s.

    keras_t - torch_t = c_t = sum_{k<=t} (eta_k * B_k - M_k)      (times mu for Nesterov)
    B_k = mu * B_{k-1} + w_k * u_k (w_1 = 1, else 1 - dampening),  M_k = mu * M_{k-1} + eta_k * u_k,
    i.e. sum_k sum_{s<=k} mu^(k-s) (eta_k - eta_s) u_s without dampening: zero when eta is constant.
    u = g for SGD; u_k = g_k / d_k for RMSprop (``normalise``).
    """
    sign = 1.0 if scratch_form == "keras" else -1.0

    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        us = ctx.inputs["grads"] if normalise is None else normalise(ctx.inputs["grads"])
        c = b = m = np.zeros_like(us[0])
        for k, (eta, u) in enumerate(zip(ctx.inputs["lrs"], us, strict=True)):
            b = momentum * b + (1.0 if k == 0 else 1.0 - dampening) * u
            m = momentum * m + eta * u
            c = c + eta * b - m
        return _out(f + sign * (momentum * c if nesterov else c), f)

    return relation


def textbook_nesterov_erratum(*, momentum: float) -> Relation:
    """The early textbook Nesterov (v updated first) from a framework Nesterov trajectory (same gradients):
    x_t - p_0 = mu * (p_t - p_0) - sum_{k<=t} eta_k * g_k   (step for step: dx_k = mu * dp_k - eta_k g_k)."""
    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        p0 = ctx.inputs["path"][0]
        drift = sum(eta * g for eta, g in zip(ctx.inputs["lrs"], ctx.inputs["grads"], strict=True))
        return _out(p0 + momentum * (f - p0) - drift, f)

    return relation


def denominator_ratio(statistic: Stat, den_fw: Den, den_scratch: Den, *, decay: float = 0.0) -> Relation:
    """Two forms that differ only in the denominator d(q_k, k) of each step (q_k: a second-moment
    statistic of the gradients, the same on both sides):

        s_k = a_k * s_{k-1} + r_k * (p_k - a_k * p_{k-1}),   r_k = d_fw(q_k, k) / d_scratch(q_k, k),

    with s_0 = p_0 and a_k = 1 - eta_k * decay for decoupled weight decay (else 1).
    """
    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        path = (*ctx.inputs["path"][:-1], f.astype(np.float64))
        qs = statistic(ctx.inputs["grads"])
        s = path[0]
        for k, (eta, q) in enumerate(zip(ctx.inputs["lrs"], qs, strict=True), start=1):
            a = 1.0 - eta * decay
            s = a * s + den_fw(q, k) / den_scratch(q, k) * (path[k] - a * path[k - 1])
        return _out(s, f)

    return relation


# statistics q_k of a gradient sequence ------------------------------------------------------------
def sum_of_squares(initial: float) -> Stat:
    """AdaGrad: q_k = initial + sum_{s<=k} g_s^2."""
    def stat(gs):
        return list(initial + np.cumsum(np.square(np.stack(gs)), axis=0))
    return stat


def mean_square(rho: float, *, centered: bool = False, amsgrad: bool = False) -> Stat:
    """RMSprop / Adam: v_k = rho * v_{k-1} + (1 - rho) * g_k^2 (v_0 = 0); centered: minus the square
    of the same average of g; amsgrad: the running maximum of v."""
    def stat(gs):
        v = a = top = np.zeros_like(gs[0])
        out = []
        for g in gs:
            v = rho * v + (1.0 - rho) * g * g
            a = rho * a + (1.0 - rho) * g
            top = np.maximum(top, v)
            out.append(v - a * a if centered else top if amsgrad else v)
        return out
    return stat


# denominators d(q, k) ---------------------------------------------------------------------------------
def inside(eps: float) -> Den:
    return lambda q, k: np.sqrt(q + eps)


def outside(eps: float) -> Den:
    return lambda q, k: np.sqrt(q) + eps


def adam_corrected(eps: float, beta_2: float) -> Den:
    """PyTorch's Adam step written over the "hat" step size: sqrt(v) + eps * sqrt(1 - beta_2^k)."""
    return lambda q, k: np.sqrt(q) + eps * np.sqrt(1.0 - beta_2**k)
