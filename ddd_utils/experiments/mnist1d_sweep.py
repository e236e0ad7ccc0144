"""Model-wise double descent of small networks on MNIST-1D, with label noise: a resumable width sweep.

Every run of the sweep is one (width, noise, seed): the same training subset and, for a given (noise, seed), the
same corrupted labels at every width, so the widths differ only in the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from itertools import product
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ddd_utils._checks import check_nonnegative, check_positive_int, check_probability
from ddd_utils.blas import spare_one_core
from ddd_utils.data.mnist1d import make_mnist1d
from ddd_utils.data.noise import corrupt_labels
from ddd_utils.engine.checkpoints import save_atomically
from ddd_utils.engine.gpu_estimate import H200, Estimate, GpuCosts, train_many_estimate
from ddd_utils.engine.provenance import environment
from ddd_utils.engine.recipe import Recipe, TrainData, check_training_choices, log_spaced_epochs
from ddd_utils.engine.result_store import ResultStore, run_key
from ddd_utils.engine.sweep import shared_settings
from ddd_utils.engine.training import train_width_sweep
from ddd_utils.models import MODELS, build_model, count_parameters, grow_from

NUM_CLASSES = 10
SMALL_INIT_STD = 0.1  # Belkin et al.'s small random weights, N(0, 0.01), for fresh networks (grow_from uses the same)
SIGNAL_LENGTH = 40  # MNIST-1D sequences have 40 samples
MNIST1D_TRAIN_SIZE, MNIST1D_TEST_SIZE = 4000, 1000  # the published MNIST-1D split: sequences of length 40


@dataclass(frozen=True)
class MNIST1DSweepConfig:
    model: str = "mlp"                 # name in ddd_utils.models.MODELS ("mlp": 40-h-10, "mlp2": 40-h-h-10)
    widths: tuple[int, ...] = (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256)  # hidden units (mlp) or k (cnn5)
    noises: tuple[float, ...] = (0.0, 0.2)  # probability a training label is replaced by a wrong class
    seeds: tuple[int, ...] = (0,)      # model initialisation, batch order and label-noise draw
    n_train: int = 4000                # training sequences (a prefix of the MNIST-1D training set)
    epochs: int = 300                  # full passes over the training set
    optimizer: str = "adam"            # "adam" or "sgd" (ddd_utils.engine.recipe.OPTIMIZERS)
    lr: float = 1e-3                   # learning rate
    momentum: float = 0.9              # SGD only
    loss: str = "cross_entropy"        # or "squared" (ddd_utils.engine.recipe.LOSSES)
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
        check_training_choices(self.optimizer, self.lr, self.loss)
        check_nonnegative("momentum", self.momentum)


# Greydanus (2020)'s deep double descent on MNIST-1D: an MLP 40-h-h-10 with h on a geometric grid from 2 to 300,
# 15% label noise (and clean labels), all 4,000 training sequences, SGD (lr 0.01, momentum 0.9, batch 100) for 500
# epochs. Published: with noise, 47.2% test error at h = 16, a peak of 54.1% at h = 47-61, 45.5% at h = 300.
GREYDANUS_PUBLISHED = {  # test error: (hidden units, error); printed beside ours, never drawn as if measured
    0.15: {"minimum below the peak": (16, 0.472), "peak": ("47-61", 0.541), "largest width": (300, 0.455)},
    0.0: {"largest width": (300, 0.373)},
}
GREYDANUS_WIDTHS = (2, 3, 4, 5, 7, 9, 12, 16, 19, 24, 31, 40, 47, 52, 61, 67, 86, 110, 141, 182, 234, 300)

GREYDANUS = MNIST1DSweepConfig(model="mlp2", widths=GREYDANUS_WIDTHS, noises=(0.0, 0.15), seeds=(0, 1, 2, 3, 4),
                               n_train=4000, epochs=500, optimizer="sgd", lr=0.01, momentum=0.9, batch_size=100,
                               eval_count=30, checkpoint_every=50)

PRESETS = {
    "smoke": MNIST1DSweepConfig(widths=(2, 16), noises=(0.2,), n_train=400, epochs=3, eval_count=3,
                                checkpoint_every=1),
    # The reader's own run of Greydanus's recipe: the widths around his peak and three seeds.
    "cpu": replace(GREYDANUS, widths=(12, 16, 19, 24, 31, 40, 47, 61, 86, 141), seeds=(0, 1, 2)),
    "full": replace(GREYDANUS, seeds=tuple(range(10))),  # his whole grid, ten seeds: for a GPU
    "paper": GREYDANUS,
}

# Wall time of each preset through the command line, and where it was measured; "unmeasured" where it was not.
PRESET_TIMES = {
    "smoke": "about 5 s on 2 CPU cores",
    "cpu": ("4.3 min in the chapter on 2 CPU cores (246 s of training on one thread, beside another process); "
            "seconds once its runs are on disk"),
    "full": ("estimated 0.8 min on one H200 from kernels and FLOPs counted on the CPU (python -m ddd_utils "
             "estimate mnist1d_sweep); unmeasured on a GPU"),
    "paper": ("38 min through the command line on 2 CPU cores (sharing them with other jobs part of the time); "
              "unmeasured on a GPU"),
}


def run_configs(config: MNIST1DSweepConfig) -> list[dict]:
    """One plain dict per run (JSON-serialisable: it names the run's record)."""
    shared = {name: value for name, value in asdict(config).items() if name not in ("widths", "noises", "seeds")}
    return [{**shared, "width": width, "noise": noise, "seed": seed}
            for noise, seed, width in product(config.noises, config.seeds, config.widths)]


def training_data(n_train: int, noise: float, seed: int, offset: int = 0) -> TrainData:
    """`n_train` MNIST-1D training sequences from `offset` on (the prefix by default) with their label-noise draw,
    which depends on (noise, seed) and not the width."""
    data = make_mnist1d()
    if not 0 <= offset <= MNIST1D_TRAIN_SIZE - n_train:
        raise ValueError(f"offset must be in [0, {MNIST1D_TRAIN_SIZE - n_train}] (n_train = {n_train} sequences "
                         f"from it must fit in MNIST-1D's {MNIST1D_TRAIN_SIZE}); got {offset!r}")
    part = slice(offset, offset + n_train)
    noisy, corrupted = corrupt_labels(data["y_train"][part], noise, NUM_CLASSES, seed=seed)
    as_tensor = torch.from_numpy
    return TrainData(as_tensor(np.ascontiguousarray(data["x_train"][part], dtype=np.float32)),
                     as_tensor(noisy.astype(np.int64)), as_tensor(corrupted),
                     as_tensor(np.ascontiguousarray(data["x_test"], dtype=np.float32)),
                     as_tensor(data["y_test"].astype(np.int64)))


# Config fields every run of one job must share: they make up the training recipe and the training set's size.
_JOB_FIELDS = ("n_train", "epochs", "optimizer", "lr", "momentum", "loss", "batch_size", "eval_count",
               "checkpoint_every")


@spare_one_core
def run(job: list[dict], checkpoint: Path | None = None, progress: bool = False) -> list[dict]:
    """Train a job's runs together (`train_many`: the models of one width stack), resuming from `checkpoint` if it
    exists; return their histories in job order. Uses the GPU when there is one; `progress` shows a bar per epoch."""
    shared = shared_settings(job, _JOB_FIELDS)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    datas = {(config["noise"], config["seed"]): training_data(shared["n_train"], config["noise"], config["seed"]
                                                              ).to(device) for config in job}
    models = [initial_model(config["model"], config["width"], config["seed"]).to(device) for config in job]
    return _train_together(models, [datas[config["noise"], config["seed"]] for config in job],
                           [config["seed"] for config in job], shared, checkpoint, progress)


def initial_model(name: str, width: int, seed: int, grow_from_model: torch.nn.Module | None = None,
                   small: bool = False) -> torch.nn.Module:
    """A run's initial network, drawn on the CPU from its own seed (as if the run were trained alone): PyTorch's
    default initialisation, or with `small` every weight and bias ~ N(0, 0.01), or for weight reuse grown from a
    trained narrower one. The global random state is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(name, width, (SIGNAL_LENGTH,), NUM_CLASSES)
        if small:
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.normal_(0.0, SMALL_INIT_STD)
        if grow_from_model is not None:
            grow_from(model, grow_from_model)
    return model


def belkin_threshold_width(config: MNIST1DSweepConfig) -> int:
    """The smallest width of `config` whose network has at least n_train * classes parameters: the interpolation
    threshold as Belkin et al. count it (for squared loss, one parameter per fitted target value)."""
    targets = config.n_train * NUM_CLASSES
    for width in sorted(config.widths):
        if count_parameters(build_model(config.model, width, (SIGNAL_LENGTH,), NUM_CLASSES)) >= targets:
            return width
    return max(config.widths)


def _recipe(settings: dict) -> Recipe:
    """The sweep's training recipe, from a run's (or the config's) settings."""
    return Recipe(optimizer=settings["optimizer"], lr=settings["lr"], momentum=settings["momentum"],
                  loss=settings["loss"], batch_size=settings["batch_size"], epochs=settings["epochs"])


def _train_together(models: list, datas: list[TrainData], seeds: list[int], settings: dict,
                    checkpoint: Path | None = None, progress: bool = False) -> list[dict]:
    """`train_width_sweep` with the sweep's recipe."""
    return train_width_sweep(models, datas, _recipe(settings), seeds, settings["eval_count"], checkpoint,
                             settings["checkpoint_every"], progress)


def gpu_estimate(config: MNIST1DSweepConfig, costs: GpuCosts = H200) -> Estimate:
    """Estimated time of the whole sweep as one in-process job on a GPU (`ddd_utils.engine.gpu_estimate`)."""
    with torch.device("meta"):
        models = [build_model(run["model"], run["width"], (SIGNAL_LENGTH,), NUM_CLASSES) for run in run_configs(config)]
    evaluations = len(log_spaced_epochs(config.epochs, config.eval_count))
    return train_many_estimate(models, (SIGNAL_LENGTH,), config.n_train, MNIST1D_TEST_SIZE, _recipe(asdict(config)),
                               evaluations, costs, f"{len(models)} MLPs in one job")


@spare_one_core
def weight_reuse_sweep(config: MNIST1DSweepConfig, noise: float, out: str | Path | None = None,
                       progress: bool = False, reuse_up_to: int | None = None) -> list[dict]:
    """Weight reuse for the MLP: train the widths in increasing order, each starting from the previous width's
    trained weights (new weights ~ N(0, 0.01)), instead of from scratch. With `reuse_up_to`, only widths up to it
    do so, and wider ones start afresh from small random weights (every weight and bias ~ N(0, 0.01)): Belkin et
    al.'s protocol, with the threshold from `belkin_threshold_width`. Every seed of `config` follows its own chain;
    the seeds of one width train together, on the GPU if there is one. Returns one record per (seed, width).

    `progress` shows a bar over the widths. With `out`, each finished width is kept there (its records, and its
    trained weights to grow the next width from), so a second call reads them back instead of training again, and
    an interrupted chain resumes at the first width not yet kept."""
    if not config.model.startswith("mlp"):
        raise ValueError(f"weight reuse is defined here for the MLPs ('mlp', 'mlp2') only; got {config.model!r}")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    store = None if out is None else ResultStore(out)
    shared = run_configs(config)[0]
    datas = None
    records, previous = [], None
    for width in tqdm(sorted(config.widths), disable=not progress, desc="weight reuse: widths"):
        reuse = reuse_up_to is None or width <= reuse_up_to
        configs = [{**shared, "width": width, "noise": noise, "seed": seed, "weight_reuse": True,
                    "reuse_up_to": reuse_up_to} for seed in config.seeds]
        kept = _kept_width(store, configs, width, config.model)
        if kept is not None:
            histories, models = kept
        else:
            datas = datas or [training_data(config.n_train, noise, seed).to(device) for seed in config.seeds]
            models = [initial_model(config.model, width, seed, previous[i] if reuse and previous else None,
                                     small=not reuse).to(device) for i, seed in enumerate(config.seeds)]
            histories = _train_together(models, datas, list(config.seeds), shared)
            if store is not None:
                _keep_width(store, configs, histories, models)
        records += [{"config": run, "history": history} for run, history in zip(configs, histories, strict=True)]
        previous = [model.cpu() for model in models]
    return records


def _weights_path(store: ResultStore, configs: list[dict]) -> Path:
    return store.root / "weights" / f"{run_key([run_key(config) for config in configs])}.pt"


def _keep_width(store: ResultStore, configs: list[dict], histories: list[dict], models: list) -> None:
    """Save one width's trained weights (first, so that kept records always have their weights), then its records."""
    save_atomically([model.state_dict() for model in models], _weights_path(store, configs))
    trained_here = environment()
    for config, history in zip(configs, histories, strict=True):
        store.write(config, history, trained_here)


def _kept_width(store: ResultStore | None, configs: list[dict], width: int, model: str
                ) -> tuple[list[dict], list] | None:
    """(histories, trained models on the CPU) of a width kept by an earlier call, or None if any part is missing."""
    if store is None or not _weights_path(store, configs).exists():
        return None
    stored = [store.read(config) for config in configs]
    if any(record is None for record in stored):
        return None
    models = []
    for state in torch.load(_weights_path(store, configs), map_location="cpu", weights_only=True):
        models.append(build_model(model, width, (SIGNAL_LENGTH,), NUM_CLASSES))
        models[-1].load_state_dict(state)
    return [record["history"] for record in stored], models
