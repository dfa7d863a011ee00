"""Build the three implementations of a model spec and run them in lock-step on MNIST."""

from __future__ import annotations

import contextlib
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from comparisons.studies import models
from comparisons.studies.mnist import optim
from comparisons.studies.mnist.outputs import write_all, write_csvs
from comparisons.studies.trainer.impls import KerasDriver, KerasImpl, ScratchImpl, TorchDriver, TorchImpl
from comparisons.studies.trainer.lockstep import IMPLS, RunConfig, RunRecord, run
from reference import frameworks

#: ``make report`` default: a short version of every model (a few minutes in total on 2 cores).
SHORT: dict[str, dict] = {
    "mlp4x32": {"epochs": 1, "train_limit": 12_000, "test_limit": 2_000},
    "mlp4x128_bn_dropout": {"epochs": 2, "train_limit": 4_000, "test_limit": 2_000},
    "twolayer": {"epochs": 1, "train_limit": 20_000, "test_limit": 2_000},
    "simple_convnet": {"epochs": 1, "train_limit": 2_000, "test_limit": 1_000},
    "row_lstm": {"epochs": 1, "train_limit": 4_000, "test_limit": 1_000},
    "row_gru": {"epochs": 1, "train_limit": 4_000, "test_limit": 1_000},
}


def full_epochs(spec: models.ModelSpec, n_train: int = 60_000) -> float:
    """The recipe's budget in epochs (iteration recipes: iterations * batch / train size)."""
    r = spec.recipe
    return float(r.epochs) if r.epochs is not None else r.iterations * r.batch_size / n_train


def load(spec: models.ModelSpec, config: RunConfig, *, mnist_dir=None, cache_dir=None):
    """MNIST in the spec's input layout and the run's dtype, limited to the configured sizes."""
    from comparisons.data import load_mnist

    flat = len(spec.input_shape) == 1
    (xtr, ttr), (xte, tte) = load_mnist(normalize=True, flatten=flat, one_hot_label=False, dtype=config.dtype,
                                        idx_dir=mnist_dir, cache_dir=cache_dir, progress=config.progress)
    if config.train_limit:
        xtr, ttr = xtr[:config.train_limit], ttr[:config.train_limit]
    if config.test_limit:
        xte, tte = xte[:config.test_limit], tte[:config.test_limit]
    if len(spec.input_shape) == 2:  # a sequence model: (N, 1, 28, 28) -> (N, 28 rows as steps, 28 pixels)
        xtr, xte = xtr.reshape(len(xtr), *spec.input_shape), xte.reshape(len(xte), *spec.input_shape)
    return (np.ascontiguousarray(xtr), ttr), (np.ascontiguousarray(xte), tte)


def build_impls(spec: models.ModelSpec, config: RunConfig) -> dict:
    """scratch, Keras and PyTorch models with identical initial weights and optimizers."""
    from reference.model_twin import build_keras, build_torch

    unknown = set(config.impls) - set(IMPLS)
    if unknown:
        raise ValueError(f"impl: unknown {sorted(unknown)}; expected a subset of {', '.join(IMPLS)}")
    def fresh_model():
        return spec.build(np.random.default_rng(config.seed), config.dtype)  # the same weights every time

    model = fresh_model()
    impls: dict = {}
    scratch_opt = optim.scratch_optimizer(spec.recipe)
    # scratch always runs: it is the reference the others are compared with, and it draws the weights.
    impls["scratch"] = ScratchImpl(model, scratch_opt)
    for fw, build_twin, make_impl in (
        ("keras", build_keras, lambda twin, opt: KerasImpl(twin, KerasDriver(opt, twin, config.dtype),
                                                           config.dtype)),
        ("torch", build_torch, lambda twin, opt: TorchImpl(twin, TorchDriver(opt, twin, config.dtype))),
    ):
        if fw not in config.impls:
            continue
        own = optim.framework_form(scratch_opt, fw)
        if own is not None:  # a convention no setting equalises: a scratch run in the framework's form
            impls[f"scratch@{fw}"] = ScratchImpl(fresh_model(), own)
        impls[fw] = make_impl(build_twin(model, spec.input_shape), own or scratch_opt)
    return impls


def train(name: str, *, impls=IMPLS, dtype: str = "float64", epochs: float | None = None,
          train_limit: int | None = None, test_limit: int | None = None, seed: int = 0, progress: bool = True,
          out: str | os.PathLike | None = None, mnist_dir=None, cache_dir=None) -> RunRecord:
    """Run model ``name`` in lock-step and write its reports into ``out/NAME`` (if ``out`` is given)."""
    spec = models.get(name)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype: expected 'float32' or 'float64', got {dtype!r}")
    config = RunConfig(name, tuple(impls), dtype, epochs, train_limit, test_limit, seed, progress)
    data = load(spec, config, mnist_dir=mnist_dir, cache_dir=cache_dir)
    if config.epochs is None:
        config = replace(config, epochs=full_epochs(spec, len(data[0][0])))
    target = Path(out) / name if out is not None else None
    on_epoch = (lambda rec: write_csvs(rec, target)) if target is not None else None
    built = build_impls(spec, config)
    with frameworks.interleaved() if len(built) > 1 else contextlib.nullcontext():  # scratch alone needs neither
        try:
            record = run(config, spec, data, built, optim.lr_function(spec, len(data[0][0])), on_epoch=on_epoch)
        except KeyboardInterrupt as err:  # write the pages of what was done, then stop
            if target is not None and getattr(err, "record", None) is not None:
                write_pages(err.record, target)
            raise
    if target is not None:
        write_pages(record, target)
    return record


def write_pages(record: RunRecord, target: Path) -> list[Path]:
    """The tables and plots of a run (also from a record read back by ``outputs.load_record``)."""
    config = record.config
    return write_all(record, target, f"MNIST lock-step: {config.model} ({config.dtype})",
                     _notes(models.get(config.model), config, record.n_train, record.n_test))


def _notes(spec: models.ModelSpec, config: RunConfig, n_train: int, n_test: int) -> str:
    r = spec.recipe
    budget = f"{config.epochs:g} epoch(s)"
    return (f"{spec.description}. Recipe: {r.optimizer} {r.optimizer_args or ''} "
            f"{'schedule ' + r.schedule if r.schedule else ''}, batch {r.batch_size}; this run: {budget} on "
            f"{n_train:,} training and {n_test:,} test images, {config.dtype}, seed {config.seed}. "
            f"Implementations: {', '.join(config.impls)}. Same initial weights, batches, dropout masks and learning "
            "rate in all of them. " + optim.NOTES.get(r.optimizer, ""))
