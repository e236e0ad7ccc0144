"""The training loop behind the deep chapters: data on the device, batches by index, a per-epoch history, and
checkpoints that resume bit for bit on the CPU.

No DataLoader and no `.item()` in the step loop: batches are index tensors into tensors that already live on the
device, and losses are summed on the device until an evaluation epoch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ddd_utils._checks import check_nonnegative, check_positive_int

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class Recipe:
    """How a model is trained; the papers' recipes are named in RECIPES."""

    optimizer: str = "adam"     # "adam" or "sgd"
    lr: float = 1e-3            # learning rate
    batch_size: int = 128       # examples per step
    epochs: int = 100           # full passes over the training set
    momentum: float = 0.9       # SGD only
    weight_decay: float = 0.0   # L2 penalty folded into the optimizer
    lr_drop_every: int = 0      # SGD step schedule: divide lr by 10 every this many epochs (0: constant)
    augment: bool = False       # random crop (4-pixel padding) and horizontal flip, for images only

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {self.optimizer!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr!r}")
        check_positive_int("batch_size", self.batch_size)
        check_positive_int("epochs", self.epochs)
        check_nonnegative("momentum", self.momentum)
        check_nonnegative("weight_decay", self.weight_decay)
        check_positive_int("lr_drop_every", self.lr_drop_every, minimum=0)


RECIPES = {
    # Nakkiran et al. (2019), CNNs and ResNets: Adam, lr 1e-4, batch 128, no weight decay, 4K epochs.
    "nakkiran_adam": Recipe(optimizer="adam", lr=1e-4, batch_size=128, epochs=4000),
    # Nakkiran et al. (2019), SGD variant: lr 0.1 / sqrt(1 + epoch / 512) in the paper; a step schedule here.
    "sgd_step": Recipe(optimizer="sgd", lr=0.05, batch_size=128, epochs=500, momentum=0.9, lr_drop_every=200),
}


@dataclass
class TrainData:
    """Tensors on one device: training inputs with their (possibly noisy) labels, the mask of corrupted labels,
    and a clean test set."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    corrupted: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    def to(self, device: torch.device | str) -> TrainData:
        return TrainData(*(getattr(self, name).to(device) for name in
                           ("x_train", "y_train", "corrupted", "x_test", "y_test")))


def log_spaced_epochs(epochs: int, count: int) -> list[int]:
    """About `count` evaluation epochs between 1 and `epochs`, log-spaced (long runs need few evaluations)."""
    check_positive_int("epochs", epochs)
    check_positive_int("count", count)
    grid = torch.logspace(0, torch.log10(torch.tensor(float(epochs))), count).round().int().tolist()
    return sorted(set(grid) | {epochs})


def _make_optimizer(model: torch.nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    if recipe.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                           weight_decay=recipe.weight_decay)


def _augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random 4-pixel-padded crops and horizontal flips of an NCHW batch, on its own device."""
    n, _, height, width = images.shape
    padded = F.pad(images, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=generator).to(images.device)
    dx = torch.randint(0, 9, (n,), generator=generator).to(images.device)
    rows = (dy[:, None] + torch.arange(height, device=images.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(width, device=images.device))[:, None, None, :]
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    channels = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
    crops = padded[batch, channels, rows, cols]
    flip = (torch.rand(n, generator=generator) < 0.5).to(images.device)
    return torch.where(flip[:, None, None, None], crops.flip(-1), crops)


@torch.no_grad()
def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example (wrong, loss) of `model` in eval mode, as device tensors."""
    model.eval()
    wrong, losses = [], []
    for start in range(0, x.shape[0], batch_size):
        logits = model(x[start:start + batch_size])
        target = y[start:start + batch_size]
        wrong.append(logits.argmax(dim=1) != target)
        losses.append(F.cross_entropy(logits.float(), target, reduction="none"))
    return torch.cat(wrong), torch.cat(losses)


def _save_atomically(state: dict, path: Path) -> None:
    """Write a checkpoint so that a crash leaves either the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)


def train(model: torch.nn.Module, data: TrainData, recipe: Recipe, seed: int, eval_epochs: Sequence[int] | None = None,
          checkpoint: Path | None = None, checkpoint_every: int = 0, progress: bool = False) -> dict[str, list]:
    """Train `model` on `data` with `recipe`; return its history at `eval_epochs` (default: every epoch).

    The history holds, per evaluated epoch: train error and loss on the (noisy) training labels, the train error on
    the corrupted examples alone (how much noise is memorised), test error and loss, and wall time. With
    `checkpoint`, the state (model, optimizer, shuffling RNG, history) is saved every `checkpoint_every` epochs and
    at the end, and a run that finds a checkpoint resumes from it: on the CPU the result is bit-for-bit the same as
    an uninterrupted run.
    """
    from tqdm.auto import tqdm

    eval_epochs = set(range(1, recipe.epochs + 1) if eval_epochs is None else eval_epochs)
    optimizer = _make_optimizer(model, recipe)
    generator = torch.Generator().manual_seed(seed)  # batch order and augmentation; kept on the CPU for resuming
    history: dict[str, list] = {name: [] for name in ("epoch", "train_error", "train_loss", "corrupted_error",
                                                      "test_error", "test_loss", "seconds")}
    first_epoch, elapsed = 1, 0.0
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        history, first_epoch, elapsed = state["history"], state["epoch"] + 1, state["seconds"]
    images = data.x_train.ndim == 4
    n = data.x_train.shape[0]
    start = time.perf_counter() - elapsed
    for epoch in tqdm(range(first_epoch, recipe.epochs + 1), disable=not progress, desc="epochs"):
        if recipe.lr_drop_every:
            for group in optimizer.param_groups:
                group["lr"] = recipe.lr * 0.1 ** ((epoch - 1) // recipe.lr_drop_every)
        model.train()
        order = torch.randperm(n, generator=generator).to(data.x_train.device)
        for begin in range(0, n, recipe.batch_size):
            batch = order[begin:begin + recipe.batch_size]
            inputs = data.x_train[batch]
            if recipe.augment and images:
                inputs = _augment(inputs, generator)
            loss = F.cross_entropy(model(inputs), data.y_train[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if epoch in eval_epochs:
            train_wrong, train_loss = evaluate(model, data.x_train, data.y_train)
            test_wrong, test_loss = evaluate(model, data.x_test, data.y_test)
            corrupted = train_wrong[data.corrupted]
            history["epoch"].append(epoch)
            history["train_error"].append(train_wrong.float().mean().item())
            history["train_loss"].append(train_loss.mean().item())
            history["corrupted_error"].append(corrupted.float().mean().item() if corrupted.numel() else float("nan"))
            history["test_error"].append(test_wrong.float().mean().item())
            history["test_loss"].append(test_loss.mean().item())
            history["seconds"].append(time.perf_counter() - start)
        if checkpoint is not None and (epoch == recipe.epochs or (checkpoint_every and epoch % checkpoint_every == 0)):
            _save_atomically({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                              "generator": generator.get_state(), "history": history, "epoch": epoch,
                              "seconds": time.perf_counter() - start, "recipe": asdict(recipe)}, checkpoint)
    return history
