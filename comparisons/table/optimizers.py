"""Cases of the table for optimizers (kind "optimizer"): 100-step trajectories of W (5, 4) and b (4,),
compared after every step. This module holds the vocabulary (``case``, tolerances, the known
differences of momentum and epsilon forms) and the SGD and AdaGrad cases; ``optimizers_adam`` the
RMSprop and Adam families (comparisons/table/optimizer_relations.py has the inputs and the relations,
comparisons/harness/optimizers.py the runner).

Comparisons without a known difference use fed-back gradients (minibatch least squares at each
side's own parameters). Where a framework's form differs from the scratch configuration, the case
records a ``Known`` whose relation re-derives the scratch form from the framework's trajectory on a
shared fixed gradient sequence; every form is also compared at exact parity, with feedback, in the
case where scratch is configured like that framework.
"""

from __future__ import annotations

import math

from comparisons.table import optimizer_relations as R
from comparisons.table.links import KERAS_SRC, TEXTBOOK, TORCH_DOCS
from comparisons.table.spec import FRAMEWORKS, Case, Known, Tolerance
from scratch import optimizers as O

STEPS = 100


def visible(eps: float) -> float:
    """Gradient scale of the fixed sequence where an epsilon placement inside or outside a root is
    recorded: with entries of size sqrt(10 eps) the accumulated square is ~10 eps and eps moves the
    denominator by ~5%, which shows in float32 too (with gradients of order 1 the placements
    differ by ~eps relative, below float32 resolution), while the ratio of the two denominators
    stays near 1 and so does not magnify the rounding of the framework's float32 steps."""
    return math.sqrt(10.0 * eps)


# Adam: eps enters as eps / sqrt(v); gradients of size 1e-5 make eps = 1e-7 a 1% effect.
ADAM_SCALE = 1e-5
TOL = {
    "float64": Tolerance(1e-12, "float64: 100 steps of a few roundings each (eps 1.1e-16) on trajectories that do "
                                "not amplify errors, relations summed in float64; worst measured 7e-15, so 1e-12 is "
                                "margin, not slack"),
    "float32": Tolerance(1e-5, "float32: eps 6e-8 per operation over 100 steps (worst measured against PyTorch "
                               "2.4e-6); Keras also computes Adam's bias corrections from betas rounded to float32 "
                               "(0.999 -> 0.99900001: 1 - beta_2 off by 1.3e-5 relative, the step by ~6e-6 of "
                               "itself), worst measured 6.4e-6; with the same rounded betas in scratch it is 1.9e-7"),
}
Q = ("param:W", "param:b")
FW_NAME = {"keras": "Keras", "torch": "PyTorch"}


def case(id: str, covers: tuple[str, ...], summary: str, make, *, lrs, known=(), scale: float = 1.0,
         frameworks=FRAMEWORKS) -> Case:
    return Case(id=id, kind="optimizer", covers=("Optimizer", *covers), summary=summary,
                make=lambda dtype: make(), inputs=R.trajectory(lrs, sequence_scale=scale), tolerance=TOL,
                known=tuple(known), frameworks=tuple(frameworks), params={"steps": len(lrs)})


# -- known differences ----------------------------------------------------------------------------
def momentum_form(framework: str, *, momentum: float, nesterov: bool = False, dampening: float = 0.0,
                  family: str = "SGD", normalise=None) -> Known:
    """The framework's momentum form is the other one than the scratch configuration's."""
    scratch_form = "torch" if framework == "keras" else "keras"
    u, u_is = ("g", "") if normalise is None else ("u", ", u_k = g_k / sqrt(v_k) (eps 0)")
    if dampening:
        what = (f"Keras SGD has no dampening; PyTorch's buffer adds (1 - {dampening}) * g after an undamped "
                "first step.")
    else:
        what = (f"Under a changing learning rate Keras's {family} momentum keeps each step at the rate it was "
                f"taken with (lr inside the velocity); PyTorch multiplies its whole buffer by the current rate.")
    return Known(
        framework=framework, quantities=Q, what=what,
        why=("keras/src/optimizers: m <- mu*m - lr*g (SGD), m <- mu*m + lr*g/d (RMSprop); torch.optim: "
             "b <- mu*b + (1-dampening)*g, p <- p - lr*b. Equal at a constant rate without dampening."),
        link=f"{TORCH_DOCS}/torch.optim.{family}.html",
        holds=(f"for one gradient sequence: keras_t - torch_t = sum_k (lr_k * B_k - M_k){' * mu' if nesterov else ''}"
               f", B_k = mu*B_(k-1) + w_k*{u}_k (w_1 = 1, else 1 - dampening), M_k = mu*M_(k-1) + lr_k*{u}_k{u_is}"),
        relation=R.momentum_form_shift(momentum=momentum, nesterov=nesterov, scratch_form=scratch_form,
                                       dampening=dampening, normalise=normalise),
    )


def textbook_nesterov_erratum(framework: str, momentum: float) -> Known:
    return Known(
        framework=framework, quantities=Q,
        what=f"The Nesterov of the book's early repository differs from {FW_NAME[framework]}'s Nesterov momentum: "
             "it updates v first and then adds mu^2 * v_new - (1 + mu) * lr * g (= mu^3 * v_old - (1 + mu + mu^2) "
             "* lr * g) instead of mu * v_new - lr * g; no setting of the framework equals it (matching the "
             "weights of g_t and g_(t-1) needs mu + mu^2 = 1 + mu + mu^2). The book's current Nesterov adds "
             "mu^2 * v_old - (1 + mu) * lr * g, which is the framework's step rearranged (case "
             "sgd/nesterov/textbook).",
        why="The two in-place velocity lines of common/optimizer.py Nesterov came before the parameter lines in "
            "the early version, after them in the current one.",
        link=f"{TEXTBOOK}/optimizer.py",
        holds="for one gradient sequence at a constant rate: x_t - p_0 = mu * (p_t - p_0) - sum_(k<=t) lr_k * g_k "
              "(erratum x, framework p; step for step dx_k = mu * dp_k - lr_k * g_k)",
        relation=R.textbook_nesterov_erratum(momentum=momentum),
    )


def epsilon(framework: str, family: str, statistic, den_fw, den_scratch, *, fw_form: str, scratch_form: str,
            decay: float = 0.0) -> Known:
    link = {"Adagrad": "adagrad.py", "RMSprop": "rmsprop.py", "Adam": "adam.py", "AdamW": "adam.py",
            "Adamax": "adamax.py"}[family]
    return Known(
        framework=framework, quantities=Q,
        what=f"{FW_NAME[framework]} {family} puts epsilon {fw_form}; this configuration {scratch_form}.",
        why="No constant epsilon converts one placement into the other: the gap depends on the second moment "
            "(and, for Adam, on the step t through sqrt(1 - beta_2^t)).",
        link=(f"{KERAS_SRC}/optimizers/{link}" if framework == "keras" else f"{TORCH_DOCS}/torch.optim.{family}.html"),
        holds="for one gradient sequence each step differs only by its denominator: scratch step k = framework "
              "step k * d_framework(q_k) / d_scratch(q_k), q_k the second-moment statistic of g_1..g_k"
              + (" (after the decoupled decay p * (1 - lr * wd), taken out of both steps)" if decay else ""),
        relation=R.denominator_ratio(statistic, den_fw, den_scratch, decay=decay),
    )


# -- SGD --------------------------------------------------------------------------------------------
SGD_LR = 0.05
CONST, HALVING, DECAYING = R.constant(SGD_LR, STEPS), R.halving(SGD_LR, 20, STEPS), R.decaying(SGD_LR, 0.97, STEPS)
SGD_COVERS = ("SGD", "sgd_update")


def sgd(momentum=0.0, nesterov=False, form="keras", dampening=0.0, wd=0.0, mode="coupled", exclude=()):
    return lambda: O.SGD(momentum=momentum, nesterov=nesterov, momentum_form=form, dampening=dampening,
                         weight_decay=wd, weight_decay_mode=mode, exclude_from_weight_decay=exclude)


MU = 0.9
#: the book decays the weight matrices only: biases, BatchNorm gamma and beta are excluded.
TEXTBOOK_NOT_DECAYED = ("b", "gamma", "beta")
SGD_CASES = [
    case("sgd/plain", SGD_COVERS, "lr 0.05, no momentum", sgd(), lrs=CONST),
    case("sgd/plain/changing-lr", SGD_COVERS, "lr 0.05 halved every 20 steps, no momentum", sgd(), lrs=HALVING),
    case("sgd/momentum/keras-form", SGD_COVERS, "momentum 0.9, Keras form (velocity of lr-scaled steps), "
         "constant lr: equal to both", sgd(MU), lrs=CONST),
    case("sgd/momentum/torch-form", SGD_COVERS, "momentum 0.9, PyTorch form (buffer of raw gradients), "
         "constant lr: equal to both", sgd(MU, form="torch"), lrs=CONST),
    case("sgd/momentum/textbook", SGD_COVERS, "the textbook's Momentum (lr 0.01, momentum 0.9) = the Keras form",
         sgd(MU, form="textbook"), lrs=R.constant(0.01, STEPS)),
    case("sgd/momentum/keras-form/changing-lr", SGD_COVERS, "momentum 0.9, Keras form, lr 0.05 * 0.97^t",
         sgd(MU), lrs=DECAYING, known=[momentum_form("torch", momentum=MU)]),
    case("sgd/momentum/torch-form/changing-lr", SGD_COVERS, "momentum 0.9, PyTorch form, lr 0.05 * 0.97^t",
         sgd(MU, form="torch"), lrs=DECAYING, known=[momentum_form("keras", momentum=MU)]),
    case("sgd/momentum/torch-form/dampening", SGD_COVERS, "momentum 0.9, dampening 0.3 (PyTorch only)",
         sgd(MU, form="torch", dampening=0.3), lrs=CONST, known=[momentum_form("keras", momentum=MU, dampening=0.3)]),
    case("sgd/nesterov/keras-form", SGD_COVERS, "Nesterov 0.9, Keras form, constant lr: equal to both",
         sgd(MU, True), lrs=CONST),
    case("sgd/nesterov/torch-form", SGD_COVERS, "Nesterov 0.9, PyTorch form, constant lr: equal to both",
         sgd(MU, True, "torch"), lrs=CONST),
    case("sgd/nesterov/keras-form/changing-lr", SGD_COVERS, "Nesterov 0.9, Keras form, lr 0.05 * 0.97^t",
         sgd(MU, True), lrs=DECAYING, known=[momentum_form("torch", momentum=MU, nesterov=True)]),
    case("sgd/nesterov/torch-form/changing-lr", SGD_COVERS, "Nesterov 0.9, PyTorch form, lr 0.05 * 0.97^t",
         sgd(MU, True, "torch"), lrs=DECAYING, known=[momentum_form("keras", momentum=MU, nesterov=True)]),
    case("sgd/nesterov/textbook", SGD_COVERS, "the textbook's Nesterov (lr 0.01, momentum 0.9): p moves with the "
         "previous velocity, mu^2 * v - (1 + mu) * lr * g, the Keras Nesterov rearranged: equal to both",
         sgd(MU, True, "textbook"), lrs=R.constant(0.01, STEPS)),
    case("sgd/nesterov/textbook/changing-lr", SGD_COVERS, "the textbook's Nesterov form, lr 0.05 * 0.97^t: equal "
         "to Keras for any rates", sgd(MU, True, "textbook"), lrs=DECAYING,
         known=[momentum_form("torch", momentum=MU, nesterov=True)]),
    case("sgd/nesterov/textbook-erratum", SGD_COVERS, "the Nesterov of the book's early repository (v updated "
         "first, then mu^2 * v_new - (1 + mu) * lr * g): equal to neither",
         sgd(MU, True, "textbook-erratum"), lrs=R.constant(0.01, STEPS),
         known=[textbook_nesterov_erratum("keras", MU), textbook_nesterov_erratum("torch", MU)]),
    case("sgd/weight-decay/plain", (*SGD_COVERS, "decoupled_decay"), "no momentum, decoupled decay 0.01 (Keras "
         "weight_decay; for plain SGD the same update as PyTorch's coupled weight_decay)",
         sgd(wd=0.01, mode="decoupled"), lrs=HALVING),
    case("sgd/weight-decay/coupled", (*SGD_COVERS, "coupled_decay"), "momentum 0.9 (PyTorch form), coupled L2 "
         "decay 2^-5 (PyTorch weight_decay; Keras: L2(2^-6) regularizer gradient, exact in float32 as Keras needs)",
         sgd(MU, form="torch", wd=2.0**-5), lrs=CONST),
    case("sgd/weight-decay/decoupled", (*SGD_COVERS, "decoupled_decay"), "momentum 0.9, Keras's decoupled "
         "weight_decay 0.01; Keras only: torch.optim.SGD has no decoupled weight decay",
         sgd(MU, wd=0.01, mode="decoupled"), lrs=CONST, frameworks=("keras",)),
    case("sgd/weight-decay/textbook", (*SGD_COVERS, "coupled_decay", "l2_penalty"), "the textbook's weight decay: "
         "SGD lr 0.01, gradient + lambda * W with lambda 0.1 on the weight matrix only (as the book: the bias, and "
         "gamma / beta where present, are never decayed; PyTorch: weight_decay on a weights-only parameter group; "
         "Keras: plain SGD, so the decoupled weight_decay with the bias excluded is the same update); the loss-side "
         "term 0.5 * lambda * sum(W**2) is l2_penalty, tested against Keras L2(lambda / 2)",
         sgd(wd=0.1, exclude=TEXTBOOK_NOT_DECAYED), lrs=R.constant(0.01, STEPS)),
]

# -- AdaGrad ---------------------------------------------------------------------------------------------
AG_LR = 0.1
AG_COVERS = ("Adagrad", "adagrad_update")


def adagrad(init, eps, placement):
    return lambda: O.Adagrad(initial_accumulator_value=init, eps=eps, eps_placement=placement, weight_decay=0.0,
                             weight_decay_mode="coupled", exclude_from_weight_decay=())


def adagrad_eps(framework, *, init, eps, scratch_placement):
    inside_, outside_ = R.inside(eps), R.outside(eps)
    fw, mine = (inside_, outside_) if framework == "keras" else (outside_, inside_)
    return epsilon(framework, "Adagrad", R.sum_of_squares(init), fw, mine, scratch_form=scratch_placement,
                   fw_form="inside the root, sqrt(h + eps)" if framework == "keras" else "outside, sqrt(h) + eps")


ADAGRAD_CASES = [
    case("adagrad/initial-accumulator/changing-lr", AG_COVERS, "initial accumulator 0.1, eps 0 (placement "
         "irrelevant), lr 0.1 halved every 20 steps: equal to both", adagrad(0.1, 0.0, "inside"),
         lrs=R.halving(AG_LR, 20, STEPS)),
    case("adagrad/eps-inside", AG_COVERS, "eps 1e-7 inside the root (Keras), accumulator from 0",
         adagrad(0.0, 1e-7, "inside"), lrs=R.constant(AG_LR, STEPS), scale=visible(1e-7),
         known=[adagrad_eps("torch", init=0.0, eps=1e-7, scratch_placement="inside the root")]),
    case("adagrad/eps-outside", AG_COVERS, "eps 1e-10 outside the root (PyTorch), accumulator from 0",
         adagrad(0.0, 1e-10, "outside"), lrs=R.constant(AG_LR, STEPS), scale=visible(1e-10),
         known=[adagrad_eps("keras", init=0.0, eps=1e-10, scratch_placement="outside the root")]),
    case("adagrad/textbook", AG_COVERS, "the textbook's AdaGrad: lr 0.01, h from 0, 1e-7 outside the root",
         adagrad(0.0, 1e-7, "outside"), lrs=R.constant(0.01, STEPS), scale=visible(1e-7),
         known=[adagrad_eps("keras", init=0.0, eps=1e-7, scratch_placement="outside the root")]),
]
