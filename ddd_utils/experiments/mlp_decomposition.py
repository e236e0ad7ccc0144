"""Yang et al. (2020)'s bias-variance decomposition on a network sweep that has a test-error peak: Greydanus's
MNIST-1D MLP recipe (chapter 4: 40-h-h-10, SGD lr 0.01 with momentum 0.9, batch 100, 500 epochs, 15% label noise)
trained on the two disjoint halves of the 4,000 training sequences, so that each half's threshold sits inside the
width grid and the spread of the two halves' predictions measures the variance over training sets.

A trial is one seed: every width on both halves (initialisation, batch order and label noise from the seed), all
trained together. It is kept under `out` when finished, so an interrupted run resumes at its first missing trial
(and inside a trial from the engine's checkpoint).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ddd_utils._checks import check_positive_int, check_probability
from ddd_utils.analysis import bias_variance, sweep_curves
from ddd_utils.blas import spare_one_core
from ddd_utils.data.digit_splits import one_hot
from ddd_utils.engine.provenance import environment
from ddd_utils.engine.recipe import Recipe
from ddd_utils.engine.training import train_width_sweep
from ddd_utils.experiments import mnist1d_sweep
from ddd_utils.files import write_atomically

HALVES = 2  # Yang et al.'s k: disjoint training sets per trial


@dataclass(frozen=True)
class MLPDecompositionConfig:
    widths: tuple[int, ...] = mnist1d_sweep.GREYDANUS_WIDTHS  # hidden units of both layers
    noise: float = 0.15                # probability a training label is replaced by a wrong class (chapter 4's kind)
    n_half: int = 2000                 # training sequences per half (2 * n_half <= 4,000)
    seeds: tuple[int, ...] = (0, 1, 2)  # trials
    epochs: int = 500
    lr: float = 0.01                   # SGD
    momentum: float = 0.9
    batch_size: int = 100
    eval_count: int = 30               # log-spaced epochs recorded in each history
    checkpoint_every: int = 50         # epochs between checkpoints of an unfinished trial

    def __post_init__(self):
        for width in self.widths:
            check_positive_int("widths", width)
        check_probability("noise", self.noise)
        for name in ("epochs", "batch_size", "eval_count"):
            check_positive_int(name, getattr(self, name))
        if not 1 <= self.n_half <= mnist1d_sweep.MNIST1D_TRAIN_SIZE // HALVES:
            raise ValueError(f"n_half must be in [1, {mnist1d_sweep.MNIST1D_TRAIN_SIZE // HALVES}] (two disjoint "
                             f"halves of MNIST-1D's training set); got {self.n_half!r}")
        if not self.seeds:
            raise ValueError("seeds must not be empty")


PRESETS = {
    "smoke": MLPDecompositionConfig(widths=(4, 32), n_half=200, seeds=(0,), epochs=3, eval_count=3,
                                    checkpoint_every=1),
    "paper": MLPDecompositionConfig(),
}


def _halves(config: MLPDecompositionConfig, seed: int) -> list:
    """The two disjoint halves with their label-noise draws (one per half and seed)."""
    return [mnist1d_sweep.training_data(config.n_half, config.noise, 1000 * half + seed, offset=half * config.n_half)
            for half in range(HALVES)]


def train_trial(config: MLPDecompositionConfig, seed: int, checkpoint: Path | None = None
                ) -> tuple[list[dict], dict[int, np.ndarray], np.ndarray]:
    """Every width on both halves: the histories (width-major, half-minor), each width's test log-probabilities,
    shape (halves, test sequences, classes), and the test labels."""
    datas = _halves(config, seed)
    keys = [(width, half) for width in config.widths for half in range(HALVES)]
    models = [mnist1d_sweep.initial_model("mlp2", width, seed) for width, _ in keys]
    recipe = Recipe(optimizer="sgd", lr=config.lr, momentum=config.momentum, batch_size=config.batch_size,
                    epochs=config.epochs)
    histories = train_width_sweep(models, [datas[half] for _, half in keys], recipe, [seed] * len(keys),
                                  config.eval_count, checkpoint, config.checkpoint_every)
    with torch.no_grad():
        log_probs = [torch.log_softmax(model.eval()(datas[0].x_test), dim=1).double().numpy() for model in models]
    return histories, {width: np.array(log_probs[HALVES * i: HALVES * (i + 1)])
                       for i, width in enumerate(config.widths)}, datas[0].y_test.numpy()


def decompose(log_probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """One width's decompositions over the halves: cross-entropy (exact for any k, uncorrected) and squared loss on
    the predicted probabilities (variance scaled by k / (k - 1), `bias_variance.variance_correction`)."""
    ce = bias_variance.cross_entropy(log_probs, labels)
    sq = bias_variance.variance_correction(bias_variance.squared_loss(np.exp(log_probs), one_hot(labels)),
                                           log_probs.shape[0])
    return {"ce_risk": ce.risk, "ce_bias": ce.bias, "ce_variance": ce.variance,
            "sq_risk": sq.risk, "sq_bias": sq.bias, "sq_variance": sq.variance}


@spare_one_core
def run(config: MLPDecompositionConfig, out: str | Path) -> list[dict]:
    """Every trial of `config`, trained or read back from `out` (trial-<seed>.json): per trial its seed, per width
    the decompositions, and the histories of both halves."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    trials = []
    for seed in config.seeds:
        path = out / f"trial-{seed}.json"
        wanted = {**dataclasses.asdict(config), "seed": seed}
        if path.exists() and (kept := json.loads(path.read_text()))["config"] == json.loads(json.dumps(wanted)):
            trials.append(kept)
            continue
        checkpoint = out / f"trial-{seed}.pt"
        histories, log_probs, labels = train_trial(config, seed, checkpoint)
        trial = {"config": wanted, "environment": environment(),
                 "widths": [{"width": width, **decompose(log_probs[width], labels),
                             "histories": histories[HALVES * i: HALVES * (i + 1)]}
                            for i, width in enumerate(config.widths)]}
        trial = json.loads(json.dumps(trial))  # as it reads back: lists, not tuples
        write_atomically(path, lambda f, trial=trial: f.write(json.dumps(trial)))
        checkpoint.unlink(missing_ok=True)
        trials.append(trial)
    return trials


PARTS = ("ce_risk", "ce_bias", "ce_variance", "sq_risk", "sq_bias", "sq_variance")


def summary(trials: list[dict]) -> dict[str, np.ndarray]:
    """The trials as arrays: widths, every decomposition part with one row per trial (trials, widths), and the
    final test and train errors of every model (trials * halves, widths)."""
    widths = [row["width"] for row in trials[0]["widths"]]
    if any([row["width"] for row in trial["widths"]] != widths for trial in trials):
        raise ValueError("trials must share their widths")
    out = {"widths": np.array(widths)}
    for name in PARTS:
        out[name] = np.array([[row[name] for row in trial["widths"]] for trial in trials])
    for name in ("test_error", "train_error"):
        out[name] = np.array([[row["histories"][half][name][-1] for row in trial["widths"]]
                              for trial in trials for half in range(HALVES)])
    return out


def peak_widths(values: dict[str, np.ndarray]) -> dict[str, int]:
    """Where each curve peaks: the mean test error's model-wise peak (the largest rise that falls again,
    `sweep_curves.modelwise_peak`), and the width where the mean risk and the mean variance of each loss are
    highest."""
    return {"test_error": sweep_curves.modelwise_peak(values).peak_width,
            **{name: int(values["widths"][np.argmax(values[name].mean(axis=0))])
               for name in ("ce_risk", "ce_variance", "sq_risk", "sq_variance")}}
