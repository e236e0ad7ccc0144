"""Model-wise double descent of small networks on MNIST-1D, with label noise: a resumable width sweep.

Every run of the sweep is one (width, noise, seed): the same training subset and, for a given (noise, seed), the
same corrupted labels at every width, so the widths differ only in the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import product
from pathlib import Path

import numpy as np
import torch

from ddd_utils._checks import check_positive_int, check_probability
from ddd_utils.data.mnist1d import make_mnist1d
from ddd_utils.data.noise import corrupt_labels
from ddd_utils.models import MODELS, build_model
from ddd_utils.train import Recipe, TrainData, log_spaced_epochs, train

NUM_CLASSES = 10
MNIST1D_TRAIN_SIZE = 4000  # the published MNIST-1D split: 4000 training and 1000 test sequences of length 40


@dataclass(frozen=True)
class MNIST1DSweepConfig:
    model: str = "mlp"                 # name in ddd_utils.models.MODELS
    widths: tuple[int, ...] = (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256)  # hidden units (mlp) or k (cnn5)
    noises: tuple[float, ...] = (0.0, 0.2)  # probability a training label is replaced by a wrong class
    seeds: tuple[int, ...] = (0,)      # model initialisation, batch order and label-noise draw
    n_train: int = 4000                # training sequences (a prefix of the MNIST-1D training set)
    epochs: int = 300                  # full passes over the training set
    lr: float = 1e-3                   # Adam learning rate
    batch_size: int = 128              # sequences per step
    eval_count: int = 25               # log-spaced epochs at which the history is recorded
    checkpoint_every: int = 50         # epochs between checkpoints of an unfinished run

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {tuple(MODELS)}; got {self.model!r}")
        for width in self.widths:
            check_positive_int("width", width)
        for noise in self.noises:
            check_probability("noise", noise)
        for name in ("epochs", "batch_size", "eval_count"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("checkpoint_every", self.checkpoint_every, minimum=0)
        if not 1 <= self.n_train <= MNIST1D_TRAIN_SIZE:
            raise ValueError(f"n_train must be in [1, {MNIST1D_TRAIN_SIZE}] (the MNIST-1D training set); "
                             f"got {self.n_train!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr!r}")


PRESETS = {
    "smoke": MNIST1DSweepConfig(widths=(2, 16), noises=(0.2,), n_train=400, epochs=3, eval_count=3,
                                checkpoint_every=1),
    "cpu": MNIST1DSweepConfig(),
    "full": MNIST1DSweepConfig(widths=tuple(range(1, 33)) + tuple(range(36, 257, 8)), noises=(0.0, 0.1, 0.2),
                               seeds=(0, 1, 2), epochs=2000, eval_count=40, checkpoint_every=100),
}


def run_configs(config: MNIST1DSweepConfig) -> list[dict]:
    """One plain dict per run (JSON-serialisable: it names the run's record)."""
    shared = {name: value for name, value in asdict(config).items() if name not in ("widths", "noises", "seeds")}
    return [{**shared, "width": width, "noise": noise, "seed": seed}
            for noise, seed, width in product(config.noises, config.seeds, config.widths)]


def training_data(n_train: int, noise: float, seed: int) -> TrainData:
    """The MNIST-1D training prefix with its label-noise draw, which depends on (noise, seed) and not the width."""
    data = make_mnist1d()
    noisy, corrupted = corrupt_labels(data["y_train"][:n_train], noise, NUM_CLASSES, seed=seed)
    as_tensor = torch.from_numpy
    return TrainData(as_tensor(np.ascontiguousarray(data["x_train"][:n_train], dtype=np.float32)),
                     as_tensor(noisy.astype(np.int64)), as_tensor(corrupted),
                     as_tensor(np.ascontiguousarray(data["x_test"], dtype=np.float32)),
                     as_tensor(data["y_test"].astype(np.int64)))


def run(run_config: dict, checkpoint: Path | None = None) -> dict:
    """Train one width of the sweep (resuming from `checkpoint` if it exists) and return its history."""
    torch.manual_seed(run_config["seed"])  # the initial weights
    data = training_data(run_config["n_train"], run_config["noise"], run_config["seed"])
    model = build_model(run_config["model"], run_config["width"], tuple(data.x_train.shape[1:]), NUM_CLASSES)
    recipe = Recipe(optimizer="adam", lr=run_config["lr"], batch_size=run_config["batch_size"],
                    epochs=run_config["epochs"])
    history = train(model, data, recipe, seed=run_config["seed"],
                    eval_epochs=log_spaced_epochs(run_config["epochs"], run_config["eval_count"]),
                    checkpoint=checkpoint, checkpoint_every=run_config["checkpoint_every"])
    history["num_parameters"] = sum(p.numel() for p in model.parameters())
    return history
