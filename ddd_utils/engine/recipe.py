"""What the training engine takes: a `Recipe` (how to train), `TrainData` (tensors on one device, checked when
made), the losses it knows, and the evaluation-epoch grid of the width sweeps. The bottom of the engine: every other
engine module, and the data modules that build `TrainData`, import from here."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ddd_utils._checks import check_nonnegative, check_positive_int

OPTIMIZERS = ("adam", "adamw", "sgd")
LOSSES = ("cross_entropy", "squared")


@dataclass(frozen=True)
class Recipe:
    """How a model is trained; the papers' recipes are named in RECIPES."""

    optimizer: str = "adam"     # "adam", "adamw" (decoupled weight decay) or "sgd"
    lr: float = 1e-3            # learning rate
    betas: tuple[float, float] = (0.9, 0.999)  # Adam's and AdamW's moment decay rates
    batch_size: int = 128       # examples per step
    epochs: int = 100           # full passes over the training set
    momentum: float = 0.9       # SGD only
    weight_decay: float = 0.0   # adam, sgd: an L2 penalty folded into the gradient; adamw: decoupled decay
    augment: bool = False       # random crop (4-pixel padding) and horizontal flip, for images only
    loss: str = "cross_entropy"  # or "squared": sum over classes of (output - one-hot label)^2 (Belkin et al.)

    def __post_init__(self):
        check_training_choices(self.optimizer, self.lr, self.loss)
        check_positive_int("batch_size", self.batch_size)
        check_positive_int("epochs", self.epochs)
        check_nonnegative("momentum", self.momentum)
        if len(self.betas) != 2 or not all(0.0 <= beta < 1.0 for beta in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1); got {self.betas!r}")
        check_nonnegative("weight_decay", self.weight_decay)


def check_training_choices(optimizer: str, lr: float, loss: str = "cross_entropy") -> None:
    """The checks a `Recipe` makes of its optimizer, learning rate and loss, for configs that build one later (a
    sweep's config is checked when made, not when its first run starts)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {optimizer!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0; got {lr!r}")


RECIPES = {
    # Nakkiran et al. (2019), CNNs and ResNets: Adam, lr 1e-4, batch 128, no weight decay, 4K epochs.
    "nakkiran_adam": Recipe(optimizer="adam", lr=1e-4, batch_size=128, epochs=4000),
}


@dataclass
class TrainData:
    """Tensors on one device: training inputs with their (possibly noisy) integer labels, the mask of corrupted
    labels, and a clean test set. Checked when made: a mistake here would otherwise train silently on a prefix, or
    fail an epoch later (or, on a GPU, break CUDA for the rest of the process)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    corrupted: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    def __post_init__(self):
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.dim() < 2 or x.shape[0] == 0:
                raise ValueError(f"x_{split} must hold at least one example, shape (n, ...); got shape "
                                 f"{tuple(x.shape)}")
            if y.shape != (x.shape[0],):
                raise ValueError(f"y_{split} must have one label per example of x_{split}, shape ({x.shape[0]},); "
                                 f"got shape {tuple(y.shape)}")
            if y.dtype != torch.int64:
                raise ValueError(f"y_{split} must hold class indices as torch.int64; got {y.dtype}")
            if y.min().item() < 0:
                raise ValueError(f"y_{split} must hold class indices >= 0; got {y.min().item()}")
        if self.corrupted.shape != self.y_train.shape or self.corrupted.dtype != torch.bool:
            raise ValueError(f"corrupted must be a torch.bool mask of shape {tuple(self.y_train.shape)}; got "
                             f"{self.corrupted.dtype} of shape {tuple(self.corrupted.shape)}")
        if self.x_test.shape[1:] != self.x_train.shape[1:]:
            raise ValueError(f"x_test's examples must have x_train's shape {tuple(self.x_train.shape[1:])}; got "
                             f"{tuple(self.x_test.shape[1:])}")
        devices = {getattr(self, name).device for name in _DATA_FIELDS}
        if len(devices) != 1:
            raise ValueError(f"every tensor must be on one device; got {sorted(map(str, devices))}")

    def to(self, device: torch.device | str) -> TrainData:
        return TrainData(*(getattr(self, name).to(device) for name in _DATA_FIELDS))


_DATA_FIELDS = ("x_train", "y_train", "corrupted", "x_test", "y_test")


def per_example_loss(logits: torch.Tensor, labels: torch.Tensor, loss: str) -> torch.Tensor:
    """The loss of each example (any leading shape): cross-entropy, or the squared distance of the outputs from the
    one-hot label (Belkin et al.'s loss)."""
    if loss == "squared":
        return (logits - F.one_hot(labels, logits.shape[-1]).to(logits.dtype)).square().sum(-1)
    return F.cross_entropy(logits.flatten(0, -2), labels.flatten(), reduction="none").view(labels.shape)


def log_spaced_epochs(epochs: int, count: int) -> list[int]:
    """About `count` evaluation epochs between 1 and `epochs`, log-spaced (long runs need few evaluations)."""
    check_positive_int("epochs", epochs)
    check_positive_int("count", count)
    grid = torch.logspace(0, torch.log10(torch.tensor(float(epochs))), count).round().int().tolist()
    return sorted(set(grid) | {epochs})
