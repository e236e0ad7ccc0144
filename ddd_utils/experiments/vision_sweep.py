"""Deep double descent in CNN5 and ResNet18 (Nakkiran et al.): width x label noise x training-set size sweeps.

A resumable sweep whose histories hold log-spaced epochs, so that one sweep gives the model-wise, epoch-wise and
sample-wise curves.

CIFAR-10 on a GPU (read through the real loader, downloaded on the reader's machine); offline stand-ins on a CPU:
scikit-learn's 8x8 digits (2-D CNN5) and MNIST-1D (1-D CNN5). Every run is one (model, width, noise, n_train,
seed). Training sets are nested and class-balanced (a smaller one is a prefix of a larger one), and a (noise, seed)
corrupts the same labels at every width and every n_train, so the runs of one curve differ only in what it varies.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import asdict, dataclass
from itertools import product
from pathlib import Path

import numpy as np
import torch

from ddd_utils._checks import check_nonnegative, check_positive_int, check_probability
from ddd_utils.blas import spare_one_core
from ddd_utils.data.digits import digits
from ddd_utils.data.noise import NOISE_KINDS, corrupt_labels
from ddd_utils.data.subsets import nested_stratified_order
from ddd_utils.engine.gpu_estimate import H200, Estimate, GpuCosts, train_many_estimate
from ddd_utils.engine.recipe import Recipe, TrainData, check_training_choices, log_spaced_epochs
from ddd_utils.engine.sweep import shared_settings
from ddd_utils.engine.training import train_width_sweep
from ddd_utils.models import build_model, count_parameters

NUM_CLASSES = 10
# MNIST-1D datasets: Greydanus's 4,000 training sequences, or 16,000 from a larger run of the generator (thresholds
# at larger widths: the 1-D ResNet18 of chapter 5); each with `test_size` test sequences from the same run.
MNIST1D_POOLS = {"mnist1d": 4000, "mnist1d_16k": 16000}
DATASETS = ("cifar10", "digits", *MNIST1D_POOLS)
VISION_MODELS = ("cnn5", "strided_cnn", "resnet18")
DIGITS_TEST_SIZE = 497  # scikit-learn's 1,797 digits: 1,300 to train on, 497 held out (class-balanced)
SUBSET_SEED = 0  # the order of the nested training subsets: one fixed order, shared by every run
POOL_SIZES = {"cifar10": 50000, "digits": 1797 - DIGITS_TEST_SIZE, **MNIST1D_POOLS}  # training images available
MNIST1D_TEST_SIZE = 1000  # the published split's test sequences; Greydanus's double-descent notebook makes 12,000
INPUT_SHAPES = {"cifar10": (3, 32, 32), "digits": (1, 8, 8)} | {name: (40,) for name in MNIST1D_POOLS}  # one example
TEST_SIZES = {"cifar10": 10000, "digits": DIGITS_TEST_SIZE}  # MNIST-1D's is the config's test_size


@dataclass(frozen=True)
class VisionSweepConfig:
    dataset: str = "cifar10"           # "cifar10" (GPU), "digits", "mnist1d" or "mnist1d_16k" (offline CPU stand-ins)
    models: tuple[str, ...] = ("cnn5",)  # "cnn5" and/or "resnet18" (width k: k, 2k, 4k, 8k channels; 1-D on
    #                                      MNIST-1D), or
    #                                      "strided_cnn" (MNIST-1D only; width: channels of each of its 3 layers)
    widths: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)  # k
    noises: tuple[float, ...] = (0.0, 0.1, 0.2)  # probability a training label is redrawn
    noise_kind: str = "wrong_class"    # redrawn as a wrong class, or "any_class" (Greydanus: possibly the same)
    n_trains: tuple[int, ...] = (50000,)  # training-set sizes: every noise at the first; the others (sample-wise)
    #                                       at the largest noise only
    seeds: tuple[int, ...] = (0,)      # model initialisation, batch order, augmentation and label-noise draw
    epochs: int = 4000                 # full passes over the training set
    optimizer: str = "adam"            # "adam" or "sgd"
    lr: float = 1e-4                   # learning rate
    momentum: float = 0.9              # SGD only
    batch_size: int = 128              # images per step
    augment: bool = True               # random crop (4-pixel padding) and horizontal flip (2-D images only)
    eval_count: int = 30               # log-spaced epochs at which the history is recorded (the heatmap's columns)
    test_size: int = MNIST1D_TEST_SIZE  # MNIST-1D only: test sequences generated beside the training ones
    checkpoint_every: int = 100        # epochs between checkpoints of an unfinished job
    data_root: str = "data"            # where CIFAR-10 is read from (and downloaded to, when missing)

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}; got {self.dataset!r}")
        if not self.models or any(model not in VISION_MODELS for model in self.models):
            raise ValueError(f"models must be a non-empty tuple of {VISION_MODELS}; got {self.models!r}")
        if "strided_cnn" in self.models and self.dataset not in MNIST1D_POOLS:
            raise ValueError(f"strided_cnn is Greydanus's 1-D network: it needs a dataset of {tuple(MNIST1D_POOLS)}")
        if self.noise_kind not in NOISE_KINDS:
            raise ValueError(f"noise_kind must be one of {NOISE_KINDS}; got {self.noise_kind!r}")
        if self.test_size != MNIST1D_TEST_SIZE and self.dataset not in MNIST1D_POOLS:
            raise ValueError(f"test_size can be changed for the datasets {tuple(MNIST1D_POOLS)} only (the "
                             f"{self.dataset} test set is fixed); got {self.test_size!r}")
        check_positive_int("test_size", self.test_size, minimum=NUM_CLASSES)
        if self.test_size % NUM_CLASSES:
            raise ValueError(f"test_size must be a multiple of {NUM_CLASSES} (MNIST-1D makes as many of each digit); "
                             f"got {self.test_size!r}")
        check_nonnegative("momentum", self.momentum)
        if self.augment and self.dataset in MNIST1D_POOLS:
            raise ValueError("augment crops and flips images; set augment=False for the 1-D MNIST-1D signals")
        for name in ("widths", "noises", "n_trains", "seeds"):
            if not getattr(self, name):
                raise ValueError(f"{name} must not be empty")
        for width in self.widths:
            check_positive_int("width", width)
        for noise in self.noises:
            check_probability("noise", noise)
        largest = POOL_SIZES[self.dataset]
        for n_train in self.n_trains:
            if not 1 <= n_train <= largest:
                raise ValueError(f"n_train must be in [1, {largest}] (the {self.dataset} training set); "
                                 f"got {n_train!r}")
        for name in ("epochs", "batch_size", "eval_count"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("checkpoint_every", self.checkpoint_every, minimum=0)
        check_training_choices(self.optimizer, self.lr)
        self._check_the_widest_can_interpolate()

    def _check_the_widest_can_interpolate(self) -> None:
        """A model-wise sweep must reach its interpolation threshold: a widest network with fewer parameters than
        a quarter of the largest training set cannot fit its noisy labels (the thresholds measured here lie at
        0.7-1.4 parameters per example), so its curve would stop before the peak."""
        largest = max(self.n_trains)
        for model in self.models:
            with torch.device("meta"):  # the shapes only: no memory, no random initialisation
                parameters = count_parameters(build_model(model, max(self.widths), INPUT_SHAPES[self.dataset],
                                                          NUM_CLASSES))
            if parameters < largest / 4:
                raise ValueError(f"widths must reach a width that can fit n_train = {largest} noisy labels: the widest "
                                 f"{model} (width {max(self.widths)}) has {parameters} parameters, fewer than "
                                 f"n_train / 4 = {largest // 4}; add wider widths")


# Nakkiran et al. (2019): CNN5 and pre-activation ResNet18 with k = 1..64 on CIFAR-10, label noise 0, 10% and 20%,
# Adam (lr 1e-4, batch 128) for 4K epochs with crop-and-flip augmentation; sample-wise at n = 5K..50K.
NAKKIRAN_PUBLISHED = {  # (what, value): printed beside ours, never drawn as if measured
    "ResNet18, 20% noise, epoch 400 (released data)": {"k = 3": 0.296, "k = 64": 0.219},
    "ResNet18, heatmap (released data)": "test error falls for k below about 5, rises, falls again beyond about 15",
}
MNIST1D_PUBLISHED = {  # Greydanus (2020), MNIST-1D's CNN width sweep with label noise: test error by channels
    "CNN with label noise": {"10 channels": 0.196, "peak, 18 channels": 0.338, "100 channels": 0.277},
}

PRESETS = {
    "smoke": VisionSweepConfig(dataset="mnist1d", models=("cnn5",), widths=(1, 4), noises=(0.2,), n_trains=(200, 100),
                               epochs=3, lr=1e-3, augment=False, eval_count=3, checkpoint_every=1),
    # The CPU stand-in: the 1-D CNN5 on MNIST-1D, chosen over the 2-D CNN5 on scikit-learn's digits by measuring
    # both (issue 13's note): the same shape of curve at about 2.7x less time per epoch.
    "cpu": VisionSweepConfig(dataset="mnist1d", models=("cnn5",), widths=(1, 2, 3, 4, 6, 8, 12, 16, 24),
                             noises=(0.0, 0.1, 0.2), n_trains=(1000, 500), seeds=(0, 1), epochs=100, lr=1e-3,
                             augment=False, eval_count=20, checkpoint_every=25),
    "full": VisionSweepConfig(dataset="cifar10", models=("cnn5",),
                              widths=(1, 2, 3, 4, 6, 8, 10, 12, 16, 24, 32, 48, 64),
                              noises=(0.0, 0.1, 0.2), n_trains=(10000, 5000), seeds=(0,), epochs=300, lr=1e-3,
                              augment=False, eval_count=25, checkpoint_every=50),
    "paper": VisionSweepConfig(dataset="cifar10", models=("cnn5", "resnet18"), widths=tuple(range(1, 65)),
                               noises=(0.0, 0.1, 0.2), n_trains=(50000, 25000, 10000, 5000), seeds=(0,),
                               epochs=4000, lr=1e-4, augment=True, eval_count=40, checkpoint_every=50),
}

# Wall time of each preset through the command line, and where it was measured; "unmeasured" where it was not.
PRESET_TIMES = {
    "smoke": "a few seconds on 2 CPU cores",
    "cpu": "about 9 min on 2 CPU cores (8.8 min of training in the chapter); seconds once its runs are on disk",
    "full": ("estimated 8.0 min on one H200 from kernels and FLOPs counted on the CPU (python -m ddd_utils "
             "estimate vision_sweep); unmeasured on a GPU"),
    "paper": "unmeasured: days on one GPU (4,000 epochs of 2 x 64 widths x 3 noises, plus 3 more training sizes)",
}


def run_configs(config: VisionSweepConfig) -> list[dict]:
    """One plain dict per run (JSON-serialisable: it names the run's record). All noises at the first n_train, the
    largest noise at the others."""
    shared = {name: value for name, value in asdict(config).items()
              if name not in ("models", "widths", "noises", "n_trains", "seeds")}
    settings = [(config.n_trains[0], noise) for noise in config.noises]
    settings += [(n_train, max(config.noises)) for n_train in config.n_trains[1:]]
    return [{**shared, "model": model, "width": width, "noise": noise, "n_train": n_train, "seed": seed}
            for model, (n_train, noise), seed, width in product(config.models, settings, config.seeds,
                                                                 config.widths)]


@functools.lru_cache(maxsize=4)
def _pool(dataset: str, data_root: str, test_size: int = MNIST1D_TEST_SIZE
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(training images in nested class-balanced order, their labels, test images, test labels) as float32 arrays,
    images standardised with the training set's statistics: (N, C, H, W) for images, (N, L) for MNIST-1D, whose
    training sequences (MNIST1D_POOLS) come with `test_size` test sequences from the same generator run."""
    if dataset == "cifar10":
        from ddd_utils.data.vision import CIFAR10_MEAN, CIFAR10_STD, load_cifar10, to_tensor_dataset

        train = to_tensor_dataset(*load_cifar10(data_root, train=True, download=True), CIFAR10_MEAN, CIFAR10_STD)
        test = to_tensor_dataset(*load_cifar10(data_root, train=False, download=True), CIFAR10_MEAN, CIFAR10_STD)
        x, y = train.tensors[0].numpy(), train.tensors[1].numpy()
        x_test, y_test = test.tensors[0].numpy(), test.tensors[1].numpy()
    elif dataset == "digits":
        images, labels = digits()
        split = nested_stratified_order(labels, seed=SUBSET_SEED)
        test, train = split[:DIGITS_TEST_SIZE], split[DIGITS_TEST_SIZE:]
        images = images.reshape(-1, 1, 8, 8)
        mean, std = images[train].mean(), images[train].std()
        x, y = (images[train] - mean) / std, labels[train]
        x_test, y_test = (images[test] - mean) / std, labels[test]
    else:
        from ddd_utils.data.mnist1d import make_mnist1d

        pool = MNIST1D_POOLS[dataset]
        total = pool + test_size  # Greydanus's larger test set: 16,000 made, a quarter to train
        data = make_mnist1d(num_samples=total, train_split=pool / total)
        if len(data["y_train"]) != pool:
            raise ValueError(f"test_size {test_size} does not split MNIST-1D into {pool:,} training sequences")
        x, y, x_test, y_test = data["x_train"], data["y_train"], data["x_test"], data["y_test"]
    order = nested_stratified_order(y, seed=SUBSET_SEED)
    as_float = functools.partial(np.ascontiguousarray, dtype=np.float32)
    return as_float(x[order]), y[order].astype(np.int64), as_float(x_test), np.asarray(y_test, dtype=np.int64)


def noisy_labels(dataset: str, n_train: int, noise: float, seed: int, data_root: str = "data", *,
                 noise_kind: str = "wrong_class", test_size: int = MNIST1D_TEST_SIZE
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """The labels of the first `n_train` images after the (noise, seed) draw over the whole training set, and the
    mask of the corrupted ones: the same corrupted images at every width and, within the prefix, every n_train."""
    labels = _pool(dataset, data_root, test_size)[1]
    if not 1 <= n_train <= len(labels):
        raise ValueError(f"n_train must be in [1, {len(labels)}] (the {dataset} training set); got {n_train!r}")
    noisy, corrupted = corrupt_labels(labels, noise, NUM_CLASSES, seed=seed, kind=noise_kind)
    return torch.from_numpy(noisy[:n_train].copy()), torch.from_numpy(corrupted[:n_train].copy())


def training_data(dataset: str, n_train: int, noise: float, seed: int, data_root: str = "data",
                  inputs: TrainData | None = None, *, noise_kind: str = "wrong_class",
                  test_size: int = MNIST1D_TEST_SIZE) -> TrainData:
    """The first `n_train` images of the nested order with their `noisy_labels`, and the test set. Pass `inputs`
    (a TrainData of the same images) to share its image tensors instead of copying them: one copy of CIFAR-10 on
    the GPU for every noise level and seed."""
    y_train, corrupted = noisy_labels(dataset, n_train, noise, seed, data_root, noise_kind=noise_kind,
                                      test_size=test_size)
    if inputs is None:
        x, _, x_test, y_test = _pool(dataset, data_root, test_size)
        inputs = TrainData(torch.from_numpy(x[:n_train].copy()), y_train, corrupted, torch.from_numpy(x_test),
                           torch.from_numpy(y_test))
    device = inputs.x_train.device
    return TrainData(inputs.x_train, y_train.to(device), corrupted.to(device), inputs.x_test, inputs.y_test)


def input_shape(dataset: str) -> tuple[int, ...]:
    """One example's shape (no batch dimension)."""
    return INPUT_SHAPES[dataset]


def _initial_model(config: dict) -> torch.nn.Module:
    """A run's initial network, drawn on the CPU from its own seed (as if trained alone); the global random state
    is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config["seed"])
        return build_model(config["model"], config["width"], input_shape(config["dataset"]), NUM_CLASSES)


# Config fields every run of one training group shares: the recipe and the data set. Runs of one job may differ in
# n_train; each training-set size trains as its own group (train_many needs one size per call).
_JOB_FIELDS = ("dataset", "noise_kind", "epochs", "optimizer", "lr", "momentum", "batch_size", "augment", "eval_count",
               "checkpoint_every", "data_root", "test_size")


def _recipe(shared: dict) -> Recipe:
    """The sweep's training recipe, from a run's (or the config's) settings."""
    return Recipe(optimizer=shared["optimizer"], lr=shared["lr"], momentum=shared["momentum"],
                  batch_size=shared["batch_size"], epochs=shared["epochs"], augment=shared["augment"])


def gpu_estimate(config: VisionSweepConfig, costs: GpuCosts = H200) -> Estimate:
    """Estimated time of the whole sweep as one in-process job on a GPU (`ddd_utils.engine.gpu_estimate`): each
    training-set size one `train_many` group, as `run` trains them."""
    runs, shape = run_configs(config), INPUT_SHAPES[config.dataset]
    n_test = TEST_SIZES.get(config.dataset, config.test_size)
    evaluations = len(log_spaced_epochs(config.epochs, config.eval_count))
    estimates = []
    for n_train in sorted({run["n_train"] for run in runs}):
        with torch.device("meta"):
            models = [build_model(run["model"], run["width"], shape, NUM_CLASSES) for run in runs
                      if run["n_train"] == n_train]
        estimates.append(train_many_estimate(models, shape, n_train, n_test, _recipe(asdict(config)), evaluations,
                                             costs, f"{len(models)} networks on {n_train:,} examples"))
    return functools.reduce(operator.add, estimates)


@spare_one_core
def run(job: list[dict], checkpoint: Path | None = None, progress: bool = False) -> list[dict]:
    """Train a job's runs, each training-set size as one `train_many` group (models of one width stack), resuming
    each group from its own checkpoint next to `checkpoint`; return the histories in job order. Uses the GPU when
    there is one; `progress` shows a bar per epoch."""
    shared = shared_settings(job, _JOB_FIELDS)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    recipe = _recipe(shared)
    histories: list[dict | None] = [None] * len(job)
    for n_train in sorted({config["n_train"] for config in job}):
        members = [i for i, config in enumerate(job) if config["n_train"] == n_train]
        datas, inputs = {}, None
        for i in members:
            key = (job[i]["noise"], job[i]["seed"])
            if key not in datas:
                datas[key] = training_data(shared["dataset"], n_train, *key, shared["data_root"], inputs,
                                           noise_kind=shared["noise_kind"], test_size=shared["test_size"])
                if inputs is None:  # the first draw's images go to the device once; the others share them
                    datas[key] = inputs = datas[key].to(device)
        models = [_initial_model(job[i]).to(device) for i in members]
        group_checkpoint = None if checkpoint is None else checkpoint.with_name(f"{checkpoint.stem}-n{n_train}.pt")
        trained = train_width_sweep(models, [datas[job[i]["noise"], job[i]["seed"]] for i in members], recipe,
                                    [job[i]["seed"] for i in members], shared["eval_count"], group_checkpoint,
                                    shared["checkpoint_every"], progress)
        for i, history in zip(members, trained, strict=True):
            histories[i] = history
    return histories
