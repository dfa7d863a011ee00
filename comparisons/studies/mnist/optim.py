"""Optimizers and learning rates of the MNIST recipes, in the three implementations.

Each recipe's optimizer is one scratch object with every hyperparameter explicit; the Keras and
PyTorch optimizers are built from it by ``reference.keras_optimizers`` / ``torch_optimizers`` on the
models' own variables. Conventions no setting can equalise are kept and explained in the run's
report (``NOTES``).
"""

from __future__ import annotations

from collections.abc import Callable

from comparisons.studies.models import ModelSpec, Recipe
from scratch import optimizers as O
from scratch.schedules import WarmupCosineEpochs

NOTES = {
    "sgd": "Plain SGD, p -= lr * g: the same update in all three.\n\n"
           "float32: the step losses agree to float32 rounding until a rounding difference flips one ReLU "
           "decision (a pre-activation within about 1e-7 of zero changes sign for one image); from then on the "
           "runs drift apart slowly, and they are compared by their final figures. A network without ReLU (the "
           "sigmoid TwoLayerNet) has no such kink and stays within rounding; see "
           "[sensitivity](../../sensitivity.md).",
    "adagrad": "AdaGrad follows the textbook: h += g^2, p -= lr * g / (sqrt(h) + 1e-7), h starting at 0; PyTorch "
               "Adagrad(eps=1e-7, initial_accumulator_value=0) is the same update. Keras Adagrad puts epsilon inside "
               "the square root, p -= lr * g / sqrt(h + 1e-7), and no setting gives the textbook's update: with the "
               "tiny gradients of a 0.01 * randn init, h << 1e-7 and the two differ at once. The Keras run is "
               "therefore compared with a second scratch run in Keras's form ('scratch@keras'); the two scratch "
               "runs side by side show what the epsilon placement itself costs (optimizer cases adagrad/eps-*).\n\n"
               "float32: AdaGrad's first steps divide by |g| + 1e-7 with |g| near 1e-7 (the 0.01 * randn init), "
               "which amplifies rounding, and the ReLU decisions flip as in every ReLU network; the runs are "
               "compared by their final figures ([sensitivity](../../sensitivity.md)).",
    "adam": "Adam in the Keras/textbook form (epsilon-hat, eps 1e-7). PyTorch adds eps after the bias correction, "
            "which no constant setting reproduces; the PyTorch run is compared with a second scratch run in "
            "PyTorch's form ('scratch@torch'), and the two scratch runs show the effect of the placement "
            "(optimizer cases adam/eps-*). BatchNorm uses Keras conventions (momentum 0.99, eps 1e-3; PyTorch "
            "momentum 0.01): training steps are equal, but PyTorch keeps the unbiased running variance, so its "
            "evaluation differs slightly (case table: batchnorm1d/keras).\n\n"
            "float32: the step losses agree to float32 rounding (1e-7 to 1e-6) until a rounding difference flips "
            "one ReLU decision (a pre-activation within about 1e-7 of zero changes sign for one image), which "
            "switches that unit's gradient path on or off; Adam + BatchNorm at learning rates up to 0.01 amplifies "
            "the flip into O(1) loss differences within a few hundred steps. Scratch alone does the same once a "
            "decision flips: copies whose initial weights differ by 1e-7 (about one float32 rounding) part in 2 of "
            "4 seeds within 250 steps ([sensitivity](../../sensitivity.md)), so the float32 comparison is of final "
            "accuracy, not of steps. The Dense biases before each BatchNorm have a zero "
            "gradient in exact arithmetic and receive pure rounding noise (1e-8 in float32, 1e-17 in float64), "
            "but freezing them changes none of this.",
}


def framework_form(opt: O.Optimizer, framework: str) -> O.Optimizer | None:
    """The scratch optimizer in ``framework``'s own form, when the recipe's form differs from it."""
    if framework == "keras" and isinstance(opt, O.Adagrad) and opt.eps_placement == "outside":
        return O.Adagrad(initial_accumulator_value=opt.initial_accumulator_value, eps=opt.eps,
                         eps_placement="inside", weight_decay=0.0)
    if framework == "torch" and isinstance(opt, O.Adam) and opt.eps_placement == "hat":
        return O.Adam(beta_1=opt.beta_1, beta_2=opt.beta_2, eps=opt.eps, eps_placement="corrected",
                      amsgrad=opt.amsgrad, weight_decay=0.0)
    return None


def scratch_optimizer(recipe: Recipe) -> O.Optimizer:
    """The recipe's optimizer in scratch, every hyperparameter explicit."""
    if recipe.optimizer == "sgd":
        return O.SGD(momentum=0.0, nesterov=False, momentum_form="keras", dampening=0.0, weight_decay=0.0)
    if recipe.optimizer == "adagrad":
        return O.Adagrad(initial_accumulator_value=0.0, eps=1e-7, eps_placement="outside", weight_decay=0.0)
    if recipe.optimizer == "adam":
        return O.Adam(beta_1=0.9, beta_2=0.999, eps=1e-7, eps_placement="hat", amsgrad=False, weight_decay=0.0)
    raise ValueError(f"optimizer: no recipe optimizer {recipe.optimizer!r}")


def lr_function(spec: ModelSpec, n_train: int) -> Callable[[int, int], float]:
    """``lr_at(step, epoch)`` for the recipe (constant, or the epoch-based warm-up + cosine)."""
    r = spec.recipe
    if r.schedule is None:
        lr = float(r.optimizer_args["learning_rate"])
        return lambda step, epoch: lr
    sched = WarmupCosineEpochs(max_lr=0.01, warmup_epochs=3, total_epochs=30, steps_per_epoch=1, min_lr=0.0)
    return lambda step, epoch: sched.lr_at_epoch(epoch)
