"""The training loop behind the deep chapters: data on the device, batches by index, many models at once, a
per-epoch history, and checkpoints that resume bit for bit on the CPU.

No DataLoader and no `.item()` in the step loop: batches are index tensors into tensors that already live on the
device, and losses stay on the device until an evaluation epoch. Small models are overhead-bound, so the seeds and
noise levels of a sweep train together as stacked models (`train_many`), one optimizer step for all of them.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ddd_utils._checks import check_nonnegative, check_positive_int
from ddd_utils.models.stacked import Single, stack_models

OPTIMIZERS = ("adam", "sgd")
WARMUP_STEPS = 3  # eager steps (then undone) before a CUDA graph is captured: they allocate what the step needs

log = logging.getLogger(__name__)


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


def _make_optimizer(parameters: list[torch.nn.Parameter], recipe: Recipe, capturable: bool
                    ) -> torch.optim.Optimizer:
    """The recipe's optimizer; `capturable` keeps Adam's step count on the GPU, as a CUDA graph needs."""
    if recipe.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=recipe.lr, weight_decay=recipe.weight_decay, foreach=True,
                                capturable=capturable)
    return torch.optim.SGD(parameters, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay,
                           foreach=True)


def _epoch_table(generators: list[torch.Generator], n: int, augment: bool, device: torch.device) -> torch.Tensor:
    """Every random draw of one epoch, made on the CPU from each model's generator and moved once: a (K, M, n) table
    of the batch order and, with augmentation, each position's crop offsets (0..8) and flip (0/1). Steps slice it,
    so no step waits on a host-to-device copy (and a CUDA graph can replay them)."""
    rows = []
    for generator in generators:
        draws = [torch.randperm(n, generator=generator)]
        if augment:
            draws += [torch.randint(0, 9, (n,), generator=generator), torch.randint(0, 9, (n,), generator=generator),
                      (torch.rand(n, generator=generator) < 0.5).long()]
        rows.append(torch.stack(draws))
    table = torch.stack(rows, dim=1)
    if device.type == "cuda":
        table = table.pin_memory()
    return table.to(device, non_blocking=True)


def _augment(images: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
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


@torch.no_grad()
def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example (wrong, loss) of one `model` in eval mode, as device tensors."""
    wrong, losses = _evaluate_stack(Single([model]), x, y.unsqueeze(0), per_model=False, batch_size=batch_size)
    return wrong[0], losses[0]


@torch.no_grad()
def _evaluate_stack(stack: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, per_model: bool,
                    batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-model, per-example (wrong, loss), each of shape (M, N), of a stack in eval mode, on inputs shared by
    every model (N, ...) or one set per model (M, N, ...) if `per_model`, with labels `y` (M, N)."""
    stack.eval()
    num_models, n = y.shape
    wrong, losses = [], []
    for start in range(0, n, batch_size):
        if per_model:
            inputs = x[:, start:start + batch_size]
        else:
            part = x[start:start + batch_size]
            inputs = part.unsqueeze(0).expand(num_models, *part.shape)
        with _full_precision(x.device):
            logits = stack(inputs).float()
        target = y[:, start:start + batch_size]
        wrong.append(logits.argmax(dim=-1) != target)
        losses.append(F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none").view(target.shape))
    return torch.cat(wrong, dim=1), torch.cat(losses, dim=1)


def _autocast(device: torch.device):
    """bf16 autocast for training steps on a GPU (tensor cores); plain fp32 elsewhere (CPUs gain little and lose
    bit-exactness). No weight-cast cache: it would not survive a CUDA graph's capture."""
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda", cache_enabled=False)


def _full_precision(device: torch.device):
    """Evaluations in true fp32 on every device (no bf16, no TF32 convolutions), so that a record's errors do not
    depend on where it was trained."""
    if device.type != "cuda":
        return contextlib.nullcontext()
    cudnn = torch.backends.cudnn
    return cudnn.flags(enabled=cudnn.enabled, benchmark=cudnn.benchmark, deterministic=cudnn.deterministic,
                       allow_tf32=False)


def _save_atomically(state: dict, path: Path) -> None:
    """Write a checkpoint so that a crash leaves either the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)


def _shared_or_stacked(tensors: list[torch.Tensor]) -> tuple[torch.Tensor, bool]:
    """(x, per_model): one tensor if every model's copy is equal (the usual case: the same inputs with different
    labels), else the copies stacked (M, ...)."""
    first = tensors[0]
    if all(t is first or (t.shape == first.shape and torch.equal(t, first)) for t in tensors[1:]):
        return first, False
    if any(t.shape != first.shape for t in tensors):
        raise ValueError("every model's data must have the same shapes (the same n and input size)")
    return torch.stack(tensors), True


HISTORY_KEYS = ("epoch", "train_error", "train_loss", "corrupted_error", "test_error", "test_loss", "seconds")


def train(model: torch.nn.Module, data: TrainData, recipe: Recipe, seed: int, eval_epochs: Sequence[int] | None = None,
          checkpoint: Path | None = None, checkpoint_every: int = 0, progress: bool = False, cuda_graphs: bool = True
          ) -> dict[str, list]:
    """Train `model` on `data` with `recipe`; return its history at `eval_epochs` (default: every epoch).

    The history holds, per evaluated epoch: train error and loss on the (noisy) training labels, the train error on
    the corrupted examples alone (how much noise is memorised), test error and loss, and wall time. With
    `checkpoint`, the state (model, optimizer, shuffling RNG, history) is saved every `checkpoint_every` epochs and
    at the end, and a run that finds a checkpoint resumes from it: on the CPU the result is bit-for-bit the same as
    an uninterrupted run.
    """
    return train_many([model], [data], recipe, [seed], eval_epochs, checkpoint, checkpoint_every, progress,
                      cuda_graphs)[0]


class _Steps:
    """The optimizer steps of one group of stacks. On the CPU each step runs eagerly; on a GPU each batch size's
    step (forward, backward and optimizer, for every stack at once) is captured once as a CUDA graph and replayed,
    which removes the per-kernel launch cost that dominates small models. Eager and graphed steps compute the same
    thing; a graph is captured again when the learning rate changes, and if capture fails training goes on eagerly."""

    def __init__(self, stacks, x_train: torch.Tensor, per_model: bool, y_train: torch.Tensor, recipe: Recipe,
                 images: bool, use_graphs: bool):
        self.stacks, self.x_train, self.per_model, self.recipe = stacks, x_train, per_model, recipe
        self.device = y_train.device
        self.augment = recipe.augment and images
        self.rows = [torch.tensor(indices, device=self.device) for indices, _ in stacks]  # each stack's models
        # torch.cat(logits) below puts the models in stack order: the labels are gathered in that order too.
        self.stacked_order = torch.cat(self.rows)
        self.labels = y_train[self.stacked_order]
        self.parameters = [p for _, stack in stacks for p in stack.parameters()]
        self.optimizer = _make_optimizer(self.parameters, recipe, capturable=use_graphs)
        self.use_graphs = use_graphs
        self.graphs: dict[int, tuple] = {}  # batch size -> (graph, static step table, learning rate)

    def __call__(self, table: torch.Tensor) -> None:
        """One step on the (K, M, B) slice of the epoch table."""
        if not self.use_graphs:
            return self._compute(table)
        size, lr = table.shape[-1], self.optimizer.param_groups[0]["lr"]
        if size not in self.graphs or self.graphs[size][2] != lr:
            self._capture(table)
        if not self.use_graphs:  # capture failed
            return self._compute(table)
        graph, static, _ = self.graphs[size]
        static.copy_(table)
        graph.replay()

    def _compute(self, table: torch.Tensor) -> None:
        batch = table[0]  # (M, B): model m's examples for this step
        logits = []
        for (_, stack), rows in zip(self.stacks, self.rows, strict=True):
            inputs = self.x_train[rows[:, None], batch[rows]] if self.per_model else self.x_train[batch[rows]]
            if self.augment:
                dy, dx, flip = (table[k][rows].flatten() for k in (1, 2, 3))
                inputs = _augment(inputs.flatten(0, 1), dy, dx, flip).view(inputs.shape)
            with _autocast(self.device):
                logits.append(stack(inputs))
        labels = self.labels.gather(1, batch[self.stacked_order])
        # Summed over models, each model's loss is its own batch mean: the gradients stay independent.
        loss = F.cross_entropy(torch.cat(logits).flatten(0, 1).float(), labels.flatten(),
                               reduction="sum") / batch.shape[1]
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def _state_tensors(self) -> list[torch.Tensor]:
        """Everything a step changes: parameters, buffers (BatchNorm statistics) and the optimizer's state."""
        tensors = list(self.parameters) + [b for _, stack in self.stacks for b in stack.buffers()]
        return tensors + [t for state in self.optimizer.state.values() for t in state.values() if torch.is_tensor(t)]

    def _capture(self, table: torch.Tensor) -> None:
        """Warm up on a side stream, undo the warm-up, then record one step into a CUDA graph."""
        # detach(): a clone that autograd tracks would make each parameter's gradient accumulator now, on this
        # stream, and keep it alive into the capture, which it would then invalidate.
        before = {id(t): t.detach().clone() for t in self._state_tensors()}
        static = table.clone()
        # Warm-up and capture share one stream: autograd remembers the stream on which a parameter's gradient
        # accumulator was made, and capture fails if a backward pass has to reach back to another stream.
        stream = _capture_stream(self.device)
        try:
            stream.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(stream):
                for _ in range(WARMUP_STEPS):
                    self._compute(static)
            torch.cuda.current_stream(self.device).wait_stream(stream)
            self._restore(before)
            graph = torch.cuda.CUDAGraph()
            self.optimizer.zero_grad(set_to_none=True)  # the graph's own pool holds the gradients
            with torch.cuda.graph(graph, stream=stream):
                self._compute(static)
        except RuntimeError as error:  # e.g. an operation that cannot be captured: train eagerly instead
            log.warning("CUDA graph capture failed (%s); training eagerly", error)
            torch.cuda.synchronize(self.device)
            self._restore(before)
            self.use_graphs = False
            return
        self.graphs[table.shape[-1]] = (graph, static, self.optimizer.param_groups[0]["lr"])

    @torch.no_grad()
    def _restore(self, before: dict[int, torch.Tensor]) -> None:
        """Put back the state saved before a warm-up. Optimizer state the warm-up created is zeroed, which for
        Adam (zero moments, step 0) and SGD with momentum (zero buffer) is the same as not having it yet."""
        for tensor in self._state_tensors():
            saved = before.get(id(tensor))
            if saved is None:
                tensor.zero_()
            else:
                tensor.copy_(saved)


@functools.cache
def _capture_stream(device: torch.device) -> torch.cuda.Stream:
    """One side stream per GPU for every warm-up and capture of the process."""
    return torch.cuda.Stream(device)


def train_many(models: Sequence[torch.nn.Module], datas: Sequence[TrainData], recipe: Recipe, seeds: Sequence[int],
               eval_epochs: Sequence[int] | None = None, checkpoint: Path | None = None, checkpoint_every: int = 0,
               progress: bool = False, cuda_graphs: bool = True) -> list[dict[str, list]]:
    """Train independent models together, model m on `datas[m]` with seed `seeds[m]`; return their histories.

    Models of one shape (MLPs or CNN5s of one width) are stacked into one module (`ddd_utils.models.stacked`) and
    every stack takes its step at once, while each model keeps its own batch order, augmentation and labels: the
    result equals `train` on each model alone up to float rounding, for a fraction of the per-step overhead. The
    histories are `train`'s, with "seconds" the wall time of the whole group; checkpoints cover the whole group.
    On a GPU, training steps run under bf16 autocast, image models use channels_last, and with `cuda_graphs` each
    step is replayed from a CUDA graph (see `_Steps`); evaluations are fp32 everywhere.
    """
    from tqdm.auto import tqdm

    if not models or not len(models) == len(datas) == len(seeds):
        raise ValueError(f"models, datas and seeds must have one entry per model; got {len(models)}, {len(datas)} "
                         f"and {len(seeds)}")
    x_train, train_per_model = _shared_or_stacked([data.x_train for data in datas])
    x_test, test_per_model = _shared_or_stacked([data.x_test for data in datas])
    y_train = torch.stack([data.y_train for data in datas])  # (M, n): each model's (possibly noisy) labels
    y_test = torch.stack([data.y_test for data in datas])
    corrupted = [data.corrupted for data in datas]
    device, n = y_train.device, y_train.shape[1]
    images = datas[0].x_train.ndim == 4
    eval_epochs = set(range(1, recipe.epochs + 1) if eval_epochs is None else eval_epochs)
    if device.type == "cpu":
        # Late in training, memorised examples give softmax probabilities (and gradients) below float32's normal
        # range; x86 CPUs compute on such denormal numbers up to ~100 times slower. Flushing them to zero changes
        # nothing visible and keeps long runs fast (a process-wide setting; it stays on after training).
        torch.set_flush_denormal(True)
    stacks = stack_models(models)
    if device.type == "cuda" and images:
        for _, stack in stacks:
            stack.to(memory_format=torch.channels_last)
    steps = _Steps(stacks, x_train, train_per_model, y_train, recipe, images,
                   use_graphs=cuda_graphs and device.type == "cuda")
    optimizer = steps.optimizer
    generators = [torch.Generator().manual_seed(seed) for seed in seeds]  # batch order and augmentation, on the CPU
    histories: list[dict[str, list]] = [{name: [] for name in HISTORY_KEYS} for _ in models]
    first_epoch, elapsed = 1, 0.0
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True)
        if state["recipe"] != asdict(recipe) or len(state["stacks"]) != len(stacks):
            raise ValueError(f"checkpoint {checkpoint} belongs to a different recipe or set of models")
        for (_, stack), stack_state in zip(stacks, state["stacks"], strict=True):
            stack.load_state_dict(stack_state)
        optimizer.load_state_dict(state["optimizer"])
        for generator, generator_state in zip(generators, state["generators"], strict=True):
            generator.set_state(generator_state)
        histories, first_epoch, elapsed = state["histories"], state["epoch"] + 1, state["seconds"]
    start = time.perf_counter() - elapsed
    for epoch in tqdm(range(first_epoch, recipe.epochs + 1), disable=not progress, desc="epochs"):
        if recipe.lr_drop_every:
            for group in optimizer.param_groups:
                group["lr"] = recipe.lr * 0.1 ** ((epoch - 1) // recipe.lr_drop_every)
        for _, stack in stacks:
            stack.train()
        table = _epoch_table(generators, n, recipe.augment and images, device)
        for begin in range(0, n, recipe.batch_size):
            steps(table[:, :, begin:begin + recipe.batch_size])
        if epoch in eval_epochs:
            if device.type == "cuda":
                torch.cuda.synchronize(device)  # the clock must not run ahead of the queued steps
            seconds = time.perf_counter() - start
            for (indices, stack), rows in zip(stacks, steps.rows, strict=True):
                train_outcome = _evaluate_stack(stack, x_train[rows] if train_per_model else x_train, y_train[rows],
                                                train_per_model)
                test_outcome = _evaluate_stack(stack, x_test[rows] if test_per_model else x_test, y_test[rows],
                                               test_per_model)
                for j, m in enumerate(indices):
                    _append(histories[m], epoch, seconds, *(t[j] for t in (*train_outcome, *test_outcome)),
                            corrupted[m])
        if checkpoint is not None and (epoch == recipe.epochs or (checkpoint_every and epoch % checkpoint_every == 0)):
            _save_atomically({"stacks": [stack.state_dict() for _, stack in stacks],
                              "optimizer": optimizer.state_dict(),
                              "generators": [generator.get_state() for generator in generators],
                              "histories": histories, "epoch": epoch, "seconds": time.perf_counter() - start,
                              "recipe": asdict(recipe)}, checkpoint)
    for indices, stack in stacks:
        stack.unstack_into([models[i] for i in indices])
    return histories


def _append(history: dict[str, list], epoch: int, seconds: float, train_wrong: torch.Tensor, train_loss: torch.Tensor,
            test_wrong: torch.Tensor, test_loss: torch.Tensor, corrupted: torch.Tensor) -> None:
    """Append one evaluated epoch of one model to its history."""
    wrong_on_corrupted = train_wrong[corrupted]
    history["epoch"].append(epoch)
    history["train_error"].append(train_wrong.float().mean().item())
    history["train_loss"].append(train_loss.mean().item())
    history["corrupted_error"].append(wrong_on_corrupted.float().mean().item()
                                      if wrong_on_corrupted.numel() else float("nan"))
    history["test_error"].append(test_wrong.float().mean().item())
    history["test_loss"].append(test_loss.mean().item())
    history["seconds"].append(seconds)
