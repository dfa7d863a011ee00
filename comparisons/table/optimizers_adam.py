"""Cases of the table for the RMSprop and Adam families (kind "optimizer"), in the vocabulary of
``comparisons.table.optimizers``."""

from __future__ import annotations

from comparisons.table import optimizer_relations as R
from comparisons.table.optimizers import ADAM_SCALE, MU, STEPS, case, epsilon, momentum_form, visible
from scratch import optimizers as O

# -- RMSprop -----------------------------------------------------------------------------------------
RMS_LR = 0.01
RMS_COVERS = ("RMSprop", "rmsprop_update")


def rmsprop(rho, eps, placement, centered=False, momentum=0.0, form="keras"):
    return lambda: O.RMSprop(rho=rho, eps=eps, eps_placement=placement, centered=centered, momentum=momentum,
                             momentum_form=form, weight_decay=0.0, weight_decay_mode="coupled",
                             exclude_from_weight_decay=())


def rmsprop_eps(framework, *, rho, eps, centered=False):
    inside_, outside_ = R.inside(eps), R.outside(eps)
    fw, mine = (inside_, outside_) if framework == "keras" else (outside_, inside_)
    return epsilon(framework, "RMSprop", R.mean_square(rho, centered=centered), fw, mine,
                   fw_form="inside the root, sqrt(v + eps)" if framework == "keras" else "outside, sqrt(v) + eps",
                   scratch_form="outside the root" if framework == "keras" else "inside the root")


def rms_normalise(rho):
    """u_k = g_k / sqrt(v_k): RMSprop's normalised gradient with eps = 0."""
    stat = R.mean_square(rho)
    return lambda gs: [g / R.outside(0.0)(v, k) for k, (g, v) in enumerate(zip(gs, stat(gs), strict=True), 1)]


RMSPROP_CASES = [
    case("rmsprop/eps-inside", RMS_COVERS, "rho 0.9, eps 1e-7 inside the root (Keras)",
         rmsprop(0.9, 1e-7, "inside"), lrs=R.constant(RMS_LR, STEPS), scale=visible(1e-7),
         known=[rmsprop_eps("torch", rho=0.9, eps=1e-7)]),
    case("rmsprop/eps-outside", RMS_COVERS, "rho 0.99, eps 1e-8 outside the root (PyTorch)",
         rmsprop(0.99, 1e-8, "outside"), lrs=R.constant(RMS_LR, STEPS), scale=visible(1e-8),
         known=[rmsprop_eps("keras", rho=0.99, eps=1e-8)]),
    case("rmsprop/textbook", RMS_COVERS, "the textbook's RMSprop: lr 0.01, decay 0.99, 1e-7 outside the root",
         rmsprop(0.99, 1e-7, "outside"), lrs=R.constant(0.01, STEPS), scale=visible(1e-7),
         known=[rmsprop_eps("keras", rho=0.99, eps=1e-7)]),
    case("rmsprop/centered", RMS_COVERS, "centered, rho 0.9, eps 1e-7 inside the root (Keras)",
         rmsprop(0.9, 1e-7, "inside", centered=True), lrs=R.constant(RMS_LR, STEPS), scale=visible(1e-7),
         known=[rmsprop_eps("torch", rho=0.9, eps=1e-7, centered=True)]),
    case("rmsprop/centered-momentum", RMS_COVERS, "centered, momentum 0.9, eps 0 (placement irrelevant), constant "
         "lr: equal to both", rmsprop(0.9, 0.0, "inside", centered=True, momentum=MU), lrs=R.constant(RMS_LR, STEPS)),
    case("rmsprop/momentum/keras-form/changing-lr", RMS_COVERS, "momentum 0.9 with lr inside the buffer (Keras), "
         "eps 0, lr 0.01 * 0.97^t", rmsprop(0.9, 0.0, "inside", momentum=MU),
         lrs=R.decaying(RMS_LR, 0.97, STEPS),
         known=[momentum_form("torch", momentum=MU, family="RMSprop", normalise=rms_normalise(0.9))]),
    case("rmsprop/momentum/torch-form/changing-lr", RMS_COVERS, "momentum 0.9 with lr outside the buffer (PyTorch), "
         "eps 0, lr 0.01 * 0.97^t", rmsprop(0.9, 0.0, "outside", momentum=MU, form="torch"),
         lrs=R.decaying(RMS_LR, 0.97, STEPS),
         known=[momentum_form("keras", momentum=MU, family="RMSprop", normalise=rms_normalise(0.9))]),
]

# -- Adam, AMSGrad, AdamW -----------------------------------------------------------------------------
ADAM_LR = 0.01
ADAM_COVERS = ("Adam", "adam_update")
B1, B2 = 0.9, 0.999


def adam(eps, placement, amsgrad=False, wd=0.0, mode="coupled"):
    return lambda: O.Adam(beta_1=B1, beta_2=B2, eps=eps, eps_placement=placement, amsgrad=amsgrad, weight_decay=wd,
                          weight_decay_mode=mode, exclude_from_weight_decay=())


def adamw(eps, placement, wd=0.01, exclude=()):
    return lambda: O.AdamW(weight_decay=wd, beta_1=B1, beta_2=B2, eps=eps, eps_placement=placement, amsgrad=False,
                           exclude_from_weight_decay=exclude)


def adam_eps(framework, *, eps, amsgrad=False, decay=0.0, family="Adam"):
    hat, corrected = R.outside(eps), R.adam_corrected(eps, B2)
    fw, mine = (hat, corrected) if framework == "keras" else (corrected, hat)
    return epsilon(framework, family, R.mean_square(B2, amsgrad=amsgrad), fw, mine, decay=decay,
                   fw_form="on the uncorrected root (epsilon hat)" if framework == "keras" else
                   "on the bias-corrected root",
                   scratch_form="on the bias-corrected root" if framework == "keras" else "as epsilon hat")


ADAM_CASES = [
    case("adam/eps-hat", ADAM_COVERS, "betas 0.9/0.999, eps 1e-7 as epsilon hat (Keras)", adam(1e-7, "hat"),
         lrs=R.constant(ADAM_LR, STEPS), scale=ADAM_SCALE, known=[adam_eps("torch", eps=1e-7)]),
    case("adam/eps-corrected", ADAM_COVERS, "betas 0.9/0.999, eps 1e-8 on the bias-corrected root (PyTorch)",
         adam(1e-8, "corrected"), lrs=R.constant(ADAM_LR, STEPS), scale=ADAM_SCALE,
         known=[adam_eps("keras", eps=1e-8)]),
    case("adam/eps-zero/changing-lr", ADAM_COVERS, "eps 0 (the placements coincide), lr halved every 20 steps: "
         "equal to both", adam(0.0, "hat"), lrs=R.halving(ADAM_LR, 20, STEPS)),
    case("adam/textbook", ADAM_COVERS, "the textbook's Adam (lr 0.001, 0.9/0.999, 1e-7 hat) = Keras Adam",
         adam(1e-7, "hat"), lrs=R.constant(0.001, STEPS), scale=ADAM_SCALE, known=[adam_eps("torch", eps=1e-7)]),
    case("adam/amsgrad", ADAM_COVERS, "AMSGrad, eps 1e-7 hat (Keras)", adam(1e-7, "hat", amsgrad=True),
         lrs=R.constant(ADAM_LR, STEPS), scale=ADAM_SCALE, known=[adam_eps("torch", eps=1e-7, amsgrad=True)]),
    case("adam/amsgrad/eps-corrected", ADAM_COVERS, "AMSGrad, eps 1e-8 bias-corrected (PyTorch)",
         adam(1e-8, "corrected", amsgrad=True), lrs=R.constant(ADAM_LR, STEPS), scale=ADAM_SCALE,
         known=[adam_eps("keras", eps=1e-8, amsgrad=True)]),
    case("adam/weight-decay/coupled", (*ADAM_COVERS, "coupled_decay"), "coupled L2 decay 2^-5 (PyTorch Adam "
         "weight_decay; Keras: L2(2^-6) regularizer gradient), eps 0: equal to both",
         adam(0.0, "hat", wd=2.0**-5), lrs=R.constant(ADAM_LR, STEPS)),
    case("adam/weight-decay/decoupled", (*ADAM_COVERS, "decoupled_decay"), "decoupled decay 0.01, eps 1e-7 hat "
         "(Keras Adam(weight_decay); PyTorch Adam(decoupled_weight_decay=True))",
         adam(1e-7, "hat", wd=0.01, mode="decoupled"), lrs=R.constant(ADAM_LR, STEPS), scale=ADAM_SCALE,
         known=[adam_eps("torch", eps=1e-7, decay=0.01)]),
    case("adamw/decoupled", ("AdamW", *ADAM_COVERS), "AdamW, decay 0.01, eps 1e-7 hat (Keras AdamW)",
         adamw(1e-7, "hat"), lrs=R.constant(ADAM_LR, STEPS), scale=ADAM_SCALE,
         known=[adam_eps("torch", eps=1e-7, decay=0.01, family="AdamW")]),
    case("adamw/eps-corrected", ("AdamW", *ADAM_COVERS), "AdamW, decay 0.01, eps 1e-8 bias-corrected (PyTorch "
         "AdamW)", adamw(1e-8, "corrected"), lrs=R.constant(ADAM_LR, STEPS), scale=ADAM_SCALE,
         known=[adam_eps("keras", eps=1e-8, decay=0.01, family="AdamW")]),
    case("adamw/exclude-bias", ("AdamW", *ADAM_COVERS), "AdamW, decay 0.1 on W only, eps 0, lr halved every 20 "
         "steps: equal to both", adamw(0.0, "hat", wd=0.1, exclude=("b",)), lrs=R.halving(ADAM_LR, 20, STEPS)),
]
