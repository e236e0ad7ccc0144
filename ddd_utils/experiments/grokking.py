"""Grokking on modular arithmetic (Power et al. 2022), model-wise too (Davies et al. 2023): a resumable sweep.

Every run trains one MLP on one-hot pairs (a, b) -> a o b mod p, full batch with AdamW, for a fixed number of
steps, and records at log-spaced steps its train and test error and loss and its weight norm. Two kinds of run:
the width grid at `weight_decay` (model-wise grokking: which widths generalise within the budget), and control runs
at one width with each of `control_decays` (what weight decay does). A seed fixes the split of the table and the
initialisation, so that the widths of one seed see the same training equations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import product
from pathlib import Path

import numpy as np
import torch

from ddd_utils._checks import check_nonnegative, check_positive_int
from ddd_utils.blas import spare_one_core
from ddd_utils.data.modular import OPERATIONS, modular_data
from ddd_utils.models import MLP
from ddd_utils.sweep import shared_settings
from ddd_utils.train import Recipe, TrainData, train_width_sweep

GROKKED = 0.9  # test accuracy that counts as generalised: the step where it is first reached is the grokking step


@dataclass(frozen=True)
class GrokkingConfig:
    modulus: int = 59                   # p: labels are residues mod p
    operation: str = "add"              # "add", "subtract" or "divide" (data.modular.OPERATIONS)
    train_fraction: float = 0.5         # share of the p^2 equations trained on
    widths: tuple[int, ...] = (32, 64, 128, 256, 512)  # hidden units of the MLP 2p-h-p (the model-wise grid)
    weight_decay: float = 1.0           # AdamW's decoupled weight decay for the width grid
    control_width: int = 256            # the width of the control runs
    control_decays: tuple[float, ...] = (0.0,)  # weight decays of the control runs
    seeds: tuple[int, ...] = (0,)       # split of the table and initialisation
    steps: int = 3000                   # full-batch AdamW steps
    lr: float = 1e-3                    # AdamW's learning rate, constant
    betas: tuple[float, float] = (0.9, 0.98)  # AdamW's moment decay rates (Power et al.)
    eval_count: int = 60                # log-spaced steps at which the history is recorded
    checkpoint_every: int = 500         # steps between checkpoints of an unfinished job

    def __post_init__(self):
        check_positive_int("modulus", self.modulus, minimum=2)
        if self.operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {OPERATIONS}; got {self.operation!r}")
        if not 0.0 < self.train_fraction < 1.0:
            raise ValueError(f"train_fraction must be in (0, 1); got {self.train_fraction!r}")
        for width in (*self.widths, self.control_width):
            check_positive_int("width", width)
        for decay in (self.weight_decay, *self.control_decays):
            check_nonnegative("weight_decay", decay)
        for name in ("steps", "eval_count"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("checkpoint_every", self.checkpoint_every, minimum=0)
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr!r}")
        if not self.seeds:
            raise ValueError("seeds must hold at least one seed")


# Power et al. (2022) and Davies et al. (2023): p = 97, a 2-layer Transformer (width 128, 4 heads), AdamW lr 1e-3,
# betas (0.9, 0.98), weight decay 1, batch 512, 1e5 steps. This sweep keeps their modulus, optimizer and horizon
# but trains an MLP on one-hot pairs, full batch (see the chapter).
PRESETS = {
    "smoke": GrokkingConfig(modulus=11, widths=(16, 64), control_width=64, steps=40, eval_count=8,
                            checkpoint_every=10),
    # p = 59 and 3x the published learning rate: wide MLPs generalise within 3,000 steps on 2 cores.
    "cpu": GrokkingConfig(modulus=59, widths=(16, 32, 64, 128, 256, 512), seeds=(0, 1, 2), steps=3000, lr=3e-3),
    "full": GrokkingConfig(modulus=97, widths=(16, 32, 64, 128, 256, 512, 1024), seeds=(0, 1, 2), steps=20000,
                           eval_count=80, checkpoint_every=2000),
    "paper": GrokkingConfig(modulus=97, widths=(16, 32, 64, 128, 256, 512, 1024, 2048), seeds=(0, 1, 2, 3, 4),
                            steps=100000, eval_count=100, checkpoint_every=5000),
}

# Wall time of each preset through the command line, and where it was measured; "unmeasured" where it was not.
PRESET_TIMES = {
    "smoke": "about 5 s on 2 CPU cores",
    "cpu": ("about 5 min on 2 CPU cores as two processes of one thread (the chapter's way), 8.6 min in one process; "
            "unmeasured on a GPU"),
    "full": "unmeasured (no GPU was available to this book's authors for it)",
    "paper": "unmeasured",
}


def run_configs(config: GrokkingConfig) -> list[dict]:
    """One plain dict per run (JSON-serialisable: it names the run's record): the width grid at `weight_decay`,
    then the control runs (a control that repeats a grid run is left out)."""
    shared = {name: value for name, value in asdict(config).items()
              if name not in ("widths", "weight_decay", "control_width", "control_decays", "seeds")}
    runs = [(width, config.weight_decay, seed) for seed, width in product(config.seeds, config.widths)]
    runs += [(config.control_width, decay, seed) for decay, seed in product(config.control_decays, config.seeds)
             if (config.control_width, decay, seed) not in runs]
    return [{**shared, "width": width, "weight_decay": decay, "seed": seed} for width, decay, seed in runs]


# Config fields every run of one job must share: the task and the training recipe (bar the weight decay).
_JOB_FIELDS = ("modulus", "operation", "train_fraction", "steps", "lr", "betas", "eval_count", "checkpoint_every")


def initial_model(modulus: int, width: int, seed: int) -> MLP:
    """A run's MLP 2p-width-p with PyTorch's default initialisation, drawn from its own seed (the global random
    state is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MLP(2 * modulus, width, modulus)


@spare_one_core
def run(job: list[dict], checkpoint: Path | None = None, progress: bool = False) -> list[dict]:
    """Train a job's runs, those of one weight decay together (`train_many` stacks the same-width models), each
    decay with its own checkpoint part next to `checkpoint` (`<stem>-decay<i>.pt`); return the histories in job
    order. Uses the GPU when there is one."""
    shared = shared_settings(job, _JOB_FIELDS)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    datas: dict[int, TrainData] = {}
    histories: list[dict | None] = [None] * len(job)
    for part, decay in enumerate(sorted({config["weight_decay"] for config in job})):
        members = [i for i, config in enumerate(job) if config["weight_decay"] == decay]
        for i in members:
            seed = job[i]["seed"]
            if seed not in datas:
                datas[seed] = modular_data(shared["modulus"], shared["operation"], shared["train_fraction"],
                                           seed).to(device)
        recipe = Recipe(optimizer="adamw", lr=shared["lr"], betas=tuple(shared["betas"]), weight_decay=decay,
                        batch_size=len(datas[job[members[0]]["seed"]].y_train), epochs=shared["steps"])
        models = [initial_model(shared["modulus"], job[i]["width"], job[i]["seed"]).to(device) for i in members]
        trained = train_width_sweep(models, [datas[job[i]["seed"]] for i in members], recipe,
                                    [job[i]["seed"] for i in members], shared["eval_count"],
                                    None if checkpoint is None else checkpoint.with_name(
                                        f"{checkpoint.stem}-decay{part}.pt"),
                                    shared["checkpoint_every"], progress)
        for i, history in zip(members, trained, strict=True):
            histories[i] = history
    return histories


def grokking_step(history: dict, level: float = GROKKED) -> float:
    """The first recorded step at which test accuracy reaches `level` (nan if it never does)."""
    accuracy = 1.0 - np.asarray(history["test_error"])
    reached = np.flatnonzero(accuracy >= level)
    return float(history["epoch"][reached[0]]) if reached.size else float("nan")


def memorised_step(history: dict, level: float = 0.99) -> float:
    """The first recorded step at which training accuracy reaches `level` (nan if it never does)."""
    accuracy = 1.0 - np.asarray(history["train_error"])
    reached = np.flatnonzero(accuracy >= level)
    return float(history["epoch"][reached[0]]) if reached.size else float("nan")
