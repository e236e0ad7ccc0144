"""One optimizer step for a whole group of stacked models: the epoch's random draws, augmentation, and the step
itself, taken eagerly on the CPU and replayed from CUDA graphs on a GPU (see `GroupStep`)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from ddd_utils.engine import graphs
from ddd_utils.engine.recipe import per_example_loss

if TYPE_CHECKING:
    from ddd_utils.engine.recipe import Recipe
    from ddd_utils.models.stacked import Stacks


def make_optimizer(parameters: list[torch.nn.Parameter], recipe: Recipe, capturable: bool
                    ) -> torch.optim.Optimizer:
    """The recipe's optimizer; `capturable` keeps Adam's step count on the GPU, as a CUDA graph needs."""
    if recipe.optimizer in ("adam", "adamw"):
        kind = torch.optim.Adam if recipe.optimizer == "adam" else torch.optim.AdamW
        return kind(parameters, lr=recipe.lr, betas=recipe.betas, weight_decay=recipe.weight_decay, foreach=True,
                    capturable=capturable)
    return torch.optim.SGD(parameters, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay,
                           foreach=True)


def epoch_draws(generators: list[torch.Generator], n: int, augment: bool, device: torch.device) -> torch.Tensor:
    """Every random draw of one epoch, made on the CPU from each model's generator and moved once: a (K, M, n) table
    of the batch order and, with augmentation, each position's crop offsets (0..8) and flip (0/1). Each step takes
    a slice of it, so no step waits on a host-to-device copy (and a CUDA graph can replay them)."""
    per_model = []
    for generator in generators:
        draws = [torch.randperm(n, generator=generator)]
        if augment:
            draws += [torch.randint(0, 9, (n,), generator=generator), torch.randint(0, 9, (n,), generator=generator),
                      (torch.rand(n, generator=generator) < 0.5).long()]
        per_model.append(torch.stack(draws))
    table = torch.stack(per_model, dim=1)
    if device.type == "cuda":
        table = table.pin_memory()
    return table.to(device, non_blocking=True)


def augment(images: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """4-pixel-padded crops at offsets (dy, dx) and horizontal flips where `flip`, of an NCHW batch (all on one
    device; the offsets are per image)."""
    n, _, height, width = images.shape
    padded = F.pad(images, (4, 4, 4, 4))
    rows = (dy[:, None] + torch.arange(height, device=images.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(width, device=images.device))[:, None, None, :]
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    channels = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
    crops = padded[batch, channels, rows, cols]
    return torch.where(flip.bool()[:, None, None, None], crops.flip(-1), crops)


def device_capability(device: torch.device) -> tuple[int, int] | None:
    """The CUDA compute capability of `device`, or None for any other kind of device."""
    return torch.cuda.get_device_capability(device) if device.type == "cuda" else None


def autocast_dtype(capability: tuple[int, int] | None) -> torch.dtype | None:
    """The autocast dtype of training steps on a GPU of compute `capability`, or None for plain fp32.

    bf16 where the tensor cores compute it natively (capability 8.0 and above: A100, H100, RTX 30xx and later).
    Below 8.0 (a Colab T4 is 7.5, a V100 7.0) bf16 is emulated and cuDNN has no bf16 convolutions, so steps run in
    fp32: fp16 would need a GradScaler, whose check for overflowed gradients reads a value back to the host at
    every step, which a CUDA graph cannot capture. On the CPU (None) fp32 too: CPUs gain little and lose
    bit-exactness.
    """
    return torch.bfloat16 if capability is not None and capability >= (8, 0) else None


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """Autocast to `dtype` on `device`, or no autocast for None (on any device, `meta` included). No weight-cast
    cache: it would not survive a CUDA graph's capture."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype, cache_enabled=False)


class GroupStep:
    """The optimizer step of one group of stacks. On the CPU each step runs eagerly; on a GPU each batch size's
    step (forward, backward and optimizer, for every stack at once) is captured once as a CUDA graph and replayed,
    which removes the per-kernel launch cost that dominates small models. Eager and graphed steps compute the same
    thing (a graph holds the learning rate it was captured with: the recipes keep it constant); if capture fails,
    training goes on eagerly and `use_graphs` turns False (the history records it)."""

    def __init__(self, stacks: Stacks, x_train: torch.Tensor, per_model: bool, y_train: torch.Tensor, recipe: Recipe,
                 images: bool, use_graphs: bool):
        self.stacks, self.x_train, self.per_model, self.recipe = stacks, x_train, per_model, recipe
        self.device = y_train.device
        self.augment = recipe.augment and images
        # Model indices of each stack's models, and of the rows of torch.cat(logits) in `_step_eagerly` (the stacks in
        # order, each stack's models in its order): labels are gathered in that order so that row r's logits meet
        # the labels of model logit_models[r].
        self.model_indices = [torch.tensor(indices, device=self.device) for indices, _ in stacks]
        self.logit_models = torch.cat(self.model_indices)
        self.labels = y_train[self.logit_models]
        self.parameters = [p for _, stack in stacks for p in stack.parameters()]
        self.optimizer = make_optimizer(self.parameters, recipe, capturable=use_graphs)
        self.use_graphs = use_graphs
        self.precision = autocast_dtype(device_capability(self.device))  # None: fp32, no autocast
        self.graphs: dict[int, tuple] = {}  # batch size -> (graph, its static copy of the draws)

    def take(self, draws: torch.Tensor) -> None:
        """One step on a batch: the (K, M, B) slice of the epoch's draws (`epoch_draws`)."""
        if not self.use_graphs:
            return self._step_eagerly(draws)
        size = draws.shape[-1]
        if size not in self.graphs:
            self._capture(draws)
        if not self.use_graphs:  # capture failed
            return self._step_eagerly(draws)
        graph, static = self.graphs[size]
        static.copy_(draws)
        graph.replay()

    def _step_eagerly(self, draws: torch.Tensor) -> None:
        """Forward every stack on its models' batches, add the models' losses, backward, and step the optimizer."""
        batch = draws[0]  # (M, B): model m's examples for this step
        logits = []
        for (_, stack), models in zip(self.stacks, self.model_indices, strict=True):
            inputs = self.x_train[models[:, None], batch[models]] if self.per_model else self.x_train[batch[models]]
            if self.augment:
                dy, dx, flip = (draws[k][models].flatten() for k in (1, 2, 3))
                inputs = augment(inputs.flatten(0, 1), dy, dx, flip).view(inputs.shape)
            with autocast(self.device, self.precision):
                logits.append(stack(inputs))
        labels = self.labels.gather(1, batch[self.logit_models])
        # Summed over models, each model's loss is its own batch mean: the gradients stay independent.
        loss = per_example_loss(torch.cat(logits).float(), labels, self.recipe.loss).sum() / batch.shape[1]
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def _state_tensors(self) -> list[torch.Tensor]:
        """Everything a step changes: parameters, buffers (BatchNorm statistics) and the optimizer's state."""
        return graphs.state_tensors([stack for _, stack in self.stacks], self.optimizer)

    def _capture(self, draws: torch.Tensor) -> None:
        """Record this batch size's step into a CUDA graph (`graphs.capture_step`); on failure, step eagerly."""
        static = draws.clone()
        graph = graphs.capture_step(lambda: self._step_eagerly(static), self._state_tensors, self.optimizer,
                                    self.device)
        if graph is None:
            self.use_graphs = False
        else:
            self.graphs[draws.shape[-1]] = (graph, static)
