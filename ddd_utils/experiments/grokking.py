"""Grokking on modular arithmetic (Power et al. 2022), model-wise too (Davies et al. 2023): a resumable sweep.

Every run trains one model to answer a o b mod p with AdamW for a fixed number of steps (full batch, or in
batches), and records at log-spaced steps its train and test error and loss and its weight norm. The model is an
MLP on one-hot pairs (width: hidden units) or the papers' decoder-only Transformer on the tokens "a o b ="
(width: d_model). Two kinds of run:
the width grid at `weight_decay` (model-wise grokking: which widths generalise within the budget), and control runs
at one width with each of `control_decays` (what weight decay does). A seed fixes the split of the table and the
initialisation, so that the widths of one seed see the same training equations.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import asdict, dataclass
from itertools import product
from pathlib import Path

import numpy as np
import torch

from ddd_utils._checks import check_nonnegative, check_positive_int
from ddd_utils.analysis.curves import first_reached
from ddd_utils.blas import spare_one_core
from ddd_utils.data.modular import OPERATIONS, modular_data
from ddd_utils.engine.gpu_estimate import H200, Estimate, GpuCosts, train_many_estimate
from ddd_utils.engine.recipe import Recipe, TrainData, log_spaced_epochs
from ddd_utils.engine.sweep import shared_settings
from ddd_utils.engine.training import train_width_sweep
from ddd_utils.models import MLP
from ddd_utils.models.arithmetic_transformer import ArithmeticTransformer

GROKKED = 0.9  # test accuracy that counts as generalised: the step where it is first reached is the grokking step
MODELS = ("mlp", "transformer")


@dataclass(frozen=True)
class GrokkingConfig:
    modulus: int = 59                   # p: labels are residues mod p
    operation: str = "add"              # "add", "subtract" or "divide" (data.modular.OPERATIONS)
    train_fraction: float = 0.5         # share of the p^2 equations trained on
    model: str = "mlp"                  # "mlp": 2p-h-p on one-hot pairs; "transformer": ArithmeticTransformer
    widths: tuple[int, ...] = (32, 64, 128, 256, 512)  # hidden units h, or d_model (the model-wise grid)
    weight_decay: float = 1.0           # AdamW's decoupled weight decay for the width grid
    control_width: int = 256            # the width of the control runs
    control_decays: tuple[float, ...] = (0.0,)  # weight decays of the control runs
    seeds: tuple[int, ...] = (0,)       # split of the table and initialisation
    steps: int = 3000                   # AdamW steps
    batch_size: int = 0                 # equations per step; 0: the whole training set (full batch)
    layers: int = 2                     # transformer only: blocks
    heads: int = 4                      # transformer only: attention heads (every width a multiple of it)
    lr: float = 1e-3                    # AdamW's learning rate, constant
    betas: tuple[float, float] = (0.9, 0.98)  # AdamW's moment decay rates (Power et al.)
    eval_count: int = 60                # log-spaced steps at which the history is recorded
    checkpoint_every: int = 500         # steps between checkpoints of an unfinished job

    def __post_init__(self):
        check_positive_int("modulus", self.modulus, minimum=2)
        if self.operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {OPERATIONS}; got {self.operation!r}")
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}; got {self.model!r}")
        if not 0.0 < self.train_fraction < 1.0:
            raise ValueError(f"train_fraction must be in (0, 1); got {self.train_fraction!r}")
        for width in (*self.widths, self.control_width):
            check_positive_int("width", width)
        for decay in (self.weight_decay, *self.control_decays):
            check_nonnegative("weight_decay", decay)
        for name in ("steps", "eval_count", "layers", "heads"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("batch_size", self.batch_size, minimum=0)
        if self.model == "transformer":
            for width in (*self.widths, self.control_width):
                if width % self.heads:
                    raise ValueError(f"width (d_model) must be a multiple of heads = {self.heads}; got {width}")
        check_positive_int("checkpoint_every", self.checkpoint_every, minimum=0)
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr!r}")
        if not self.seeds:
            raise ValueError("seeds must hold at least one seed")


# Power et al. (2022) and Davies et al. (2023): p = 97, a 2-layer decoder-only Transformer (d_model 128, 4 heads),
# AdamW lr 1e-3, betas (0.9, 0.98), weight decay 1, batch 512, up to 1e5 steps. `paper` is that recipe with
# d_model as the model-wise knob; `full` the same with a shorter horizon; `cpu` an MLP stand-in (see the chapter).
PRESETS = {
    "smoke": GrokkingConfig(modulus=11, widths=(16, 64), control_width=64, steps=40, eval_count=8,
                            checkpoint_every=10),
    # p = 59 and 3x the published learning rate: wide MLPs generalise within 3,000 steps on 2 cores.
    "cpu": GrokkingConfig(modulus=59, widths=(16, 32, 64, 128, 256, 512), seeds=(0, 1, 2), steps=3000, lr=3e-3),
    "full": GrokkingConfig(modulus=97, model="transformer", widths=(8, 16, 32, 64, 128, 256), control_width=128,
                           seeds=(0, 1, 2), steps=20000, batch_size=512, eval_count=80, checkpoint_every=2000),
    "paper": GrokkingConfig(modulus=97, model="transformer", widths=(8, 16, 32, 64, 128, 256, 512),
                            control_width=128, seeds=(0, 1, 2, 3, 4), steps=100000, batch_size=512, eval_count=100,
                            checkpoint_every=5000),
}

# Wall time of each preset through the command line, and where it was measured; "unmeasured" where it was not.
PRESET_TIMES = {
    "smoke": "about 5 s on 2 CPU cores",
    "cpu": ("about 5 min on 2 CPU cores as two processes of one thread (the chapter's way), 8.6 min in one process; "
            "unmeasured on a GPU"),
    "full": ("estimated 4.7 min on one H200 from kernels and FLOPs counted on the CPU (python -m ddd_utils "
             "estimate grokking); unmeasured on a GPU"),
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


# Config fields every run of one job must share: the task, the model family and the training recipe (bar the
# weight decay).
_JOB_FIELDS = ("modulus", "operation", "train_fraction", "model", "steps", "batch_size", "layers", "heads", "lr",
               "betas", "eval_count", "checkpoint_every")


def initial_model(settings: dict, width: int, seed: int) -> torch.nn.Module:
    """A run's model (`settings` holds the config's model, modulus, layers and heads) with PyTorch's default
    initialisation, drawn from its own seed (the global random state is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if settings["model"] == "transformer":
            return ArithmeticTransformer(settings["modulus"], width, settings["layers"], settings["heads"])
        return MLP(2 * settings["modulus"], width, settings["modulus"])


def _steps_per_pass(n_train: int, batch_size: int) -> int:
    """Optimizer steps in one pass over `n_train` examples (the last batch may be short)."""
    return -(-n_train // batch_size)


def grokking_recipe(settings: dict, weight_decay: float, n_train: int) -> Recipe:
    """AdamW with the config's learning rate and betas. The engine counts passes over the training set ("epochs");
    with full batches (batch_size 0) a pass is one step, in batches `steps` is rounded up to whole passes."""
    batch = settings["batch_size"] or n_train
    passes = -(-settings["steps"] // _steps_per_pass(n_train, batch))
    return Recipe(optimizer="adamw", lr=settings["lr"], betas=tuple(settings["betas"]), weight_decay=weight_decay,
                  batch_size=batch, epochs=passes)


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
                datas[seed] = modular_data(shared["modulus"], shared["operation"], shared["train_fraction"], seed,
                                           inputs="tokens" if shared["model"] == "transformer" else "one_hot"
                                           ).to(device)
        n_train = len(datas[job[members[0]]["seed"]].y_train)
        recipe = grokking_recipe(shared, decay, n_train)
        steps_per_pass = _steps_per_pass(n_train, recipe.batch_size)
        models = [initial_model(shared, job[i]["width"], job[i]["seed"]).to(device) for i in members]
        trained = train_width_sweep(models, [datas[job[i]["seed"]] for i in members], recipe,
                                    [job[i]["seed"] for i in members], shared["eval_count"],
                                    None if checkpoint is None else checkpoint.with_name(
                                        f"{checkpoint.stem}-decay{part}.pt"),
                                    -(-shared["checkpoint_every"] // steps_per_pass), progress)
        for i, history in zip(members, trained, strict=True):
            history["step"] = [epoch * steps_per_pass for epoch in history["epoch"]]  # optimizer steps taken
            histories[i] = history
    return histories


def gpu_estimate(config: GrokkingConfig, costs: GpuCosts = H200) -> Estimate:
    """Estimated time of the whole sweep as one in-process job on a GPU (`ddd_utils.engine.gpu_estimate`): each weight
    decay one `train_many` group, as `run` trains them."""
    runs, settings = run_configs(config), asdict(config)
    tokens = config.model == "transformer"
    data = modular_data(config.modulus, config.operation, config.train_fraction, config.seeds[0],
                        inputs="tokens" if tokens else "one_hot")
    n_train, n_test = len(data.y_train), len(data.y_test)
    estimates = []
    for decay in sorted({run["weight_decay"] for run in runs}):
        with torch.device("meta"):
            models = [initial_model(settings, run["width"], run["seed"]) for run in runs
                      if run["weight_decay"] == decay]
        recipe = grokking_recipe(settings, decay, n_train)
        estimates.append(train_many_estimate(
            models, tuple(data.x_train.shape[1:]), n_train, n_test, recipe,
            len(log_spaced_epochs(recipe.epochs, config.eval_count)), costs,
            f"{len(models)} networks at weight decay {decay:g}", classes=config.modulus,
            tokens=config.modulus + 2 if tokens else None))
    return functools.reduce(operator.add, estimates)


def grokking_step(history: dict, level: float = GROKKED) -> float:
    """The first recorded step at which test accuracy reaches `level` (nan if it never does)."""
    return first_reached(history["step"], 1.0 - np.asarray(history["test_error"]), level)


def memorised_step(history: dict, level: float = 0.99) -> float:
    """The first recorded step at which training accuracy reaches `level` (nan if it never does)."""
    return first_reached(history["step"], 1.0 - np.asarray(history["train_error"]), level)
