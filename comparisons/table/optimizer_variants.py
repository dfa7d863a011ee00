"""Cases of the table for Adamax, Nadam and gradient clipping (kind "optimizer"): 100-step
trajectories of W (5, 4) and b (4,), compared after every step, as in ``optimizers.py``.

Where the frameworks' forms differ (Adamax's epsilon inside or outside the max, Nadam's momentum
schedule, PyTorch's 1e-6 in the clipping factor) the case with scratch in one framework's form
compares with the other through a ``Known`` whose relation re-derives the scratch trajectory from
the framework's on a shared fixed gradient sequence.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from comparisons.table import optimizer_relations as R
from comparisons.table.links import KERAS_SRC, TORCH_DOCS
from comparisons.table.optimizers import ADAM_SCALE, STEPS, case, epsilon
from comparisons.table.spec import Context, Known
from scratch import optimizers as O
from scratch.optimizers.clipping import TORCH_CLIP_NORM_EPS
from scratch.optimizers.nadam import KERAS_MOMENTUM_DECAY, TORCH_MOMENTUM_DECAY

Q = ("param:W", "param:b")
LR = 0.01
B1, B2 = 0.9, 0.999


# -- Adamax --------------------------------------------------------------------------------------------
ADAMAX_COVERS = ("Adamax", "adamax_update")


def adamax(eps, placement):
    return lambda: O.Adamax(beta_1=B1, beta_2=B2, eps=eps, eps_placement=placement, weight_decay=0.0,
                            weight_decay_mode="coupled", exclude_from_weight_decay=())


def infinity_norms(eps: float) -> R.Stat:
    """q_k = (u_k of Keras, u_k of PyTorch): max(beta_2 * u, |g|) and max(beta_2 * u, |g| + eps), from 0."""
    def stat(gs):
        uk = ut = np.zeros_like(gs[0])
        out = []
        for g in gs:
            uk, ut = np.maximum(B2 * uk, np.abs(g)), np.maximum(B2 * ut, np.abs(g) + eps)
            out.append(np.stack([uk, ut]))
        return out
    return stat


def adamax_eps(framework: str, eps: float) -> Known:
    keras_den, torch_den = (lambda q, k: q[0] + eps), (lambda q, k: q[1])
    fw, mine = (keras_den, torch_den) if framework == "keras" else (torch_den, keras_den)
    return epsilon(framework, "Adamax", infinity_norms(eps), fw, mine,
                   fw_form="outside the max, u + eps" if framework == "keras" else "inside the max, "
                   "max(beta_2 * u, |g| + eps)",
                   scratch_form="inside the max" if framework == "keras" else "outside the max")


ADAMAX_CASES = [
    case("adamax/eps-outside", ADAMAX_COVERS, "betas 0.9/0.999, eps 1e-7 added to the infinity norm (Keras)",
         adamax(1e-7, "outside"), lrs=R.constant(LR, STEPS), scale=ADAM_SCALE, known=[adamax_eps("torch", 1e-7)]),
    case("adamax/eps-inside", ADAMAX_COVERS, "betas 0.9/0.999, eps 1e-8 inside the max (PyTorch)",
         adamax(1e-8, "inside"), lrs=R.constant(LR, STEPS), scale=ADAM_SCALE, known=[adamax_eps("keras", 1e-8)]),
    case("adamax/eps-zero/changing-lr", ADAMAX_COVERS, "eps 0 (the placements coincide), lr halved every 20 steps: "
         "equal to both", adamax(0.0, "outside"), lrs=R.halving(LR, 20, STEPS)),
]


# -- Nadam ---------------------------------------------------------------------------------------------
NADAM_COVERS = ("Nadam", "nadam_update")


def nadam(eps, momentum_decay, wd=0.0, mode="coupled"):
    return lambda: O.Nadam(beta_1=B1, beta_2=B2, eps=eps, momentum_decay=momentum_decay, weight_decay=wd,
                           weight_decay_mode=mode, exclude_from_weight_decay=())


#: Keras computes u_t = beta_1 * (1 - 0.5 * decay**t) with decay = ops.cast(0.96, dtype), which goes through a
#: float32 tensor (0.9599999785423279) even in float64, while its product u_product uses the exact 0.96.
KERAS_DECAY = float(np.float32(0.96))


def _mu(k: int, psi: float, decay: float = 0.96) -> float:
    return B1 * (1.0 - 0.5 * decay ** (k * psi))


def schedule_coefficients(psi: float):
    """(a_k, b_k) of the Nadam step a_k * g_k / d_k + b_k * m_k / d_k (over eta) for schedule psi."""
    @functools.cache
    def coef(k: int) -> tuple[float, float]:
        p_k = float(np.prod([_mu(i, psi) for i in range(1, k + 1)]))
        return (1.0 - _mu(k, psi)) / (1.0 - p_k), _mu(k + 1, psi) / (1.0 - p_k * _mu(k + 1, psi))
    return coef


@functools.cache
def keras_coefficients(k: int) -> tuple[float, float]:
    """Keras Nadam's (a_k, b_k): u_k and u_(k+1) from the float32-rounded 0.96, the product from the exact one."""
    p_k = float(np.prod([_mu(i, 1.0) for i in range(1, k + 1)]))
    u, u_next = _mu(k, 1.0, KERAS_DECAY), _mu(k + 1, 1.0, KERAS_DECAY)
    return (1.0 - u) / (1.0 - p_k), u_next / (1.0 - p_k * u_next)


def nadam_shift(*, eps: float, coef_fw, coef_scratch, decay: float = 0.0) -> R.Relation:
    """Two Nadam forms that share m_k and d_k = sqrt(v_k / (1 - beta_2^k)) + eps and differ in the coefficients
    of the step: with D_0 = 0 and D_k = (1 - eta_k * decay) * D_(k-1) + eta_k * ((a_k - a'_k) g_k + (b_k - b'_k) m_k)
    / d_k, scratch_t = fw_t - D_t (decay: decoupled weight decay, applied before each step on both sides)."""
    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        m = v = shift = np.zeros(f.shape)
        for k, (eta, g) in enumerate(zip(ctx.inputs["lrs"], ctx.inputs["grads"], strict=True), start=1):
            m, v = B1 * m + (1 - B1) * g, B2 * v + (1 - B2) * g * g
            d = np.sqrt(v / (1 - B2**k)) + eps
            (a_s, b_s), (a_f, b_f) = coef_scratch(k), coef_fw(k)
            shift = (1.0 - eta * decay) * shift + eta * ((a_s - a_f) * g + (b_s - b_f) * m) / d
        return (f.astype(np.float64) - shift).astype(f.dtype)
    return relation


NADAM_HOLDS = ("for one gradient sequence: scratch_t = keras_t - D_t, D_k = (1 - eta_k * wd) * D_(k-1) + eta_k * "
               "((a_k - a'_k) * g_k + (b_k - b'_k) * m_k) / d_k, a_k = (1 - mu_k) / (1 - P_k), b_k = mu_(k+1) / "
               "(1 - P_k * mu_(k+1)), d_k = sqrt(v_k / (1 - beta_2^k)) + eps; a', b' Keras's")
NADAM_SCHEDULE = Known(
    framework="keras", quantities=Q,
    what="Keras Nadam's momentum schedule is beta_1 * (1 - 0.5 * 0.96^t); this configuration PyTorch's default "
         "beta_1 * (1 - 0.5 * 0.96^(t * 0.004)) (Dozat 2016's 0.96^(t / 250)). Keras has no momentum_decay argument.",
    why="keras/src/optimizers/nadam.py: u_t = beta_1 * (1 - 0.5 * 0.96^(iterations + 1)); torch.optim.NAdam: "
        "mu_t = beta1 * (1 - 0.5 * 0.96^(step * momentum_decay)). Everything else (moments, eps on the bias-corrected "
        "root, the Nesterov combination) is the same, so Keras Nadam = torch NAdam(momentum_decay=1.0).",
    link=f"{KERAS_SRC}/optimizers/nadam.py",
    holds=NADAM_HOLDS,
    relation=nadam_shift(eps=1e-8, coef_fw=keras_coefficients,
                         coef_scratch=schedule_coefficients(TORCH_MOMENTUM_DECAY)),
)


def keras_rounded_decay(eps: float, decay: float = 0.0) -> Known:
    return Known(
        framework="keras", quantities=Q,
        what="Keras Nadam in float64 computes u_t and u_(t+1) with 0.96 rounded to float32 (ops.cast(0.96, "
             "'float64') = 0.9599999785423279) but multiplies its product u_product by u_t from the exact 0.96: "
             "the coefficients move by ~1e-8 relative.",
        why="keras/src/optimizers/nadam.py update_step: decay = ops.cast(0.96, var_dtype) (a Python float becomes a "
            "float32 tensor first); _backend_update_step: ops.power(0.96, ...) (exact). No argument reaches the "
            "constant.",
        link=f"{KERAS_SRC}/optimizers/nadam.py",
        holds=NADAM_HOLDS + " (u from 0.9599999785423279, the product from 0.96)",
        relation=nadam_shift(eps=eps, coef_fw=keras_coefficients, coef_scratch=schedule_coefficients(1.0),
                             decay=decay),
        dtypes=("float64",),  # in float32 every factor is float32 on both sides of the comparison's resolution
    )


NADAM_CASES = [
    case("nadam/keras", NADAM_COVERS, "Keras's schedule (momentum_decay 1.0), eps 1e-7 on the corrected root: equal "
         "to torch NAdam(momentum_decay=1.0) and, up to Keras's float32 0.96 in float64, to Keras Nadam",
         nadam(1e-7, KERAS_MOMENTUM_DECAY), lrs=R.constant(LR, STEPS), known=[keras_rounded_decay(1e-7)]),
    case("nadam/torch", NADAM_COVERS, "PyTorch's schedule (momentum_decay 0.004), eps 1e-8",
         nadam(1e-8, TORCH_MOMENTUM_DECAY), lrs=R.constant(LR, STEPS), known=[NADAM_SCHEDULE]),
    case("nadam/keras/decoupled-decay/changing-lr", (*NADAM_COVERS, "decoupled_decay"), "Keras's schedule, eps 1e-7, "
         "decoupled weight decay 0.01 (Keras weight_decay; torch NAdam(decoupled_weight_decay=True)), lr halved "
         "every 20 steps", nadam(1e-7, KERAS_MOMENTUM_DECAY, wd=0.01, mode="decoupled"),
         lrs=R.halving(LR, 20, STEPS), known=[keras_rounded_decay(1e-7, decay=0.01)]),
]


# -- gradient clipping ---------------------------------------------------------------------------------
CLIP_COVERS = ("ClipGradients",)
SGD_LR, MU = 0.05, 0.9
#: Clipping bounds exact in float32 (Keras casts them to the variable dtype).
BOUND = 0.5


def clipped(inner, **kw):
    return lambda: O.ClipGradients(inner(), **kw)


def sgd(momentum=0.0):
    return lambda: O.SGD(momentum=momentum, nesterov=False, momentum_form="keras", dampening=0.0, weight_decay=0.0,
                         weight_decay_mode="coupled", exclude_from_weight_decay=())


def _scales(gs: dict[str, np.ndarray], mode: str, bound: float, eps: float) -> dict[str, float]:
    if mode == "global_clipnorm":
        n = np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in gs.values()))
        return dict.fromkeys(gs, min(bound / (n + eps), 1.0))
    return {k: min(bound / (float(np.sqrt(np.sum(g.astype(np.float64) ** 2))) + eps), 1.0) for k, g in gs.items()}


def clip_shift(*, mode: str, eps_fw: float, eps_scratch: float) -> R.Relation:
    """Plain SGD on clipped gradients: scratch_t = fw_t - sum_k eta_k * (c_k - c'_k) * g_k, c_k the scratch
    clipping factor min(bound / (N_k + eps), 1) and c'_k the framework's."""
    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        shift = np.zeros(f.shape)
        for eta, gs in zip(ctx.inputs["lrs"], ctx.inputs["all_grads"], strict=True):
            mine, theirs = _scales(gs, mode, BOUND, eps_scratch), _scales(gs, mode, BOUND, eps_fw)
            name = ctx.inputs["name"]
            shift += eta * (mine[name] - theirs[name]) * gs[name].astype(np.float64)
        return (f.astype(np.float64) - shift).astype(f.dtype)
    return relation


def clip_eps(framework: str, mode: str) -> Known:
    torch_fw = framework == "torch"
    eps_fw, eps_scratch = (TORCH_CLIP_NORM_EPS, 0.0) if torch_fw else (0.0, TORCH_CLIP_NORM_EPS)
    per = "each parameter's norm N" if mode == "clipnorm" else "the global norm N"
    return Known(
        framework=framework, quantities=Q,
        what=f"PyTorch clip_grad_norm_ scales by min(c / (N + 1e-6), 1), Keras {mode} by min(c / N, 1) ({per}); "
             f"this configuration has {'Keras' if torch_fw else 'PyTorch'}'s factor, a clipped step "
             "(N + 1e-6) / N apart.",
        why="torch/nn/utils/clip_grad.py: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1; keras "
            "base_optimizer: tf.clip_by_norm (g * c / max(N, c)) per variable, clip_by_global_norm "
            "c * min(1 / N, 1 / c). No setting removes the 1e-6.",
        link=f"{TORCH_DOCS}/torch.nn.utils.clip_grad_norm_.html",
        holds="plain SGD, one gradient sequence: scratch_t = framework_t - sum_k eta_k * (c_k - c'_k) * g_k, "
              "c_k = min(c / (N_k + eps_scratch), 1), c'_k = min(c / (N_k + eps_framework), 1)",
        relation=clip_shift(mode=mode, eps_fw=eps_fw, eps_scratch=eps_scratch),
        dtypes=("float64",),  # (N + 1e-6) / N - 1 ~ 2e-7 with N ~ 5: below float32 trajectory resolution
    )


TORCH_EPS = TORCH_CLIP_NORM_EPS
CLIP_CASES = [
    case("clip/value", (*CLIP_COVERS, "clip_by_value"), f"clipvalue {BOUND} around SGD momentum 0.9 (Keras form), "
         "constant lr: equal to both (Keras clipvalue; torch clip_grad_value_)",
         clipped(sgd(MU), clipvalue=BOUND), lrs=R.constant(SGD_LR, STEPS)),
    case("clip/global-norm/keras", (*CLIP_COVERS, "clip_by_global_norm"), f"global norm {BOUND}, Keras's factor "
         "min(c / N, 1), plain SGD", clipped(sgd(), global_clipnorm=BOUND, norm_eps=0.0),
         lrs=R.constant(SGD_LR, STEPS), known=[clip_eps("torch", "global_clipnorm")]),
    case("clip/global-norm/torch", (*CLIP_COVERS, "clip_by_global_norm"), f"global norm {BOUND}, PyTorch's factor "
         "min(c / (N + 1e-6), 1), plain SGD", clipped(sgd(), global_clipnorm=BOUND, norm_eps=TORCH_EPS),
         lrs=R.constant(SGD_LR, STEPS), known=[clip_eps("keras", "global_clipnorm")]),
    case("clip/norm/keras", (*CLIP_COVERS, "clip_by_norm"), f"per-parameter norm {BOUND} (Keras clipnorm; torch: "
         "clip_grad_norm_ once per parameter), plain SGD", clipped(sgd(), clipnorm=BOUND, norm_eps=0.0),
         lrs=R.constant(SGD_LR, STEPS), known=[clip_eps("torch", "clipnorm")]),
    case("clip/norm/torch", (*CLIP_COVERS, "clip_by_norm"), f"per-parameter norm {BOUND}, PyTorch's factor, plain "
         "SGD", clipped(sgd(), clipnorm=BOUND, norm_eps=TORCH_EPS), lrs=R.constant(SGD_LR, STEPS),
         known=[clip_eps("keras", "clipnorm")]),
    case("clip/global-norm/momentum", (*CLIP_COVERS, "clip_by_global_norm"), f"global norm {BOUND} around SGD "
         "momentum 0.9 with fed-back gradients, Keras's factor: equal to Keras",
         clipped(sgd(MU), global_clipnorm=BOUND),
         lrs=R.constant(SGD_LR, STEPS), frameworks=("keras",)),
    case("clip/global-norm/momentum/torch", (*CLIP_COVERS, "clip_by_global_norm"), f"global norm {BOUND} around SGD "
         "momentum 0.9 with fed-back gradients, PyTorch's factor: equal to PyTorch",
         clipped(sgd(MU), global_clipnorm=BOUND, norm_eps=TORCH_EPS), lrs=R.constant(SGD_LR, STEPS),
         frameworks=("torch",)),
]

#: In the fast test set: one case per form and framework relation; the rest run with ``-m slow`` (each
#: Keras trajectory traces its own step function, ~1-3 s).
FAST = {"adamax/eps-outside", "nadam/torch", "clip/global-norm/keras"}
OPTIMIZER_VARIANTS = [c if c.id in FAST else dataclasses.replace(c, params={**c.params, "slow": True})
                      for c in [*ADAMAX_CASES, *NADAM_CASES, *CLIP_CASES]]

__all__ = ["OPTIMIZER_VARIANTS"]
