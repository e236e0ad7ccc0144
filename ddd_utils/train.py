"""The training loop behind the deep chapters: data on the device, batches by index, many models at once, a
per-epoch history, and checkpoints that resume bit for bit on the CPU. The steps themselves are in `steps`, the
checkpoint files in `checkpoints`.

No DataLoader and no `.item()` in the step loop: batches are index tensors into tensors that already live on the
device, and losses stay on the device until an evaluation epoch. Small models are overhead-bound, so the seeds and
noise levels of a sweep train together as stacked models (`train_many`), one optimizer step for all of them.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch

from ddd_utils import checkpoints, job_progress
from ddd_utils._checks import check_nonnegative, check_positive_int
from ddd_utils.models import count_parameters
from ddd_utils.models.stacked import Single, stack_models
from ddd_utils.provenance import device_name, environment
from ddd_utils.steps import Steps, epoch_table, per_example_loss

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
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {self.optimizer!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}; got {self.loss!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr!r}")
        check_positive_int("batch_size", self.batch_size)
        check_positive_int("epochs", self.epochs)
        check_nonnegative("momentum", self.momentum)
        if len(self.betas) != 2 or not all(0.0 <= beta < 1.0 for beta in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1); got {self.betas!r}")
        check_nonnegative("weight_decay", self.weight_decay)


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


def log_spaced_epochs(epochs: int, count: int) -> list[int]:
    """About `count` evaluation epochs between 1 and `epochs`, log-spaced (long runs need few evaluations)."""
    check_positive_int("epochs", epochs)
    check_positive_int("count", count)
    grid = torch.logspace(0, torch.log10(torch.tensor(float(epochs))), count).round().int().tolist()
    return sorted(set(grid) | {epochs})


class Outcome(NamedTuple):
    """Per-example results of an evaluation: whether each prediction is wrong, and its cross-entropy loss."""

    wrong: torch.Tensor
    loss: torch.Tensor


@torch.no_grad()
def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024,
             loss: str = "cross_entropy") -> Outcome:
    """Per-example (wrong, loss) of one `model` in eval mode, as device tensors; the model's modes are restored."""
    with _modes_restored([model]):
        outcome = _evaluate_stack(Single([model]), x, y.unsqueeze(0), per_model=False, batch_size=batch_size,
                                  loss=loss)
    return Outcome(outcome.wrong[0], outcome.loss[0])


@torch.no_grad()
def _evaluate_stack(stack: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, per_model: bool,
                    batch_size: int = 1024, loss: str = "cross_entropy") -> Outcome:
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
        losses.append(per_example_loss(logits, target, loss))
    return Outcome(torch.cat(wrong, dim=1), torch.cat(losses, dim=1))


def _full_precision(device: torch.device):
    """Evaluations in true fp32 on every device (no bf16, no TF32 convolutions), so that a record's errors do not
    depend on where it was trained."""
    if device.type != "cuda":
        return contextlib.nullcontext()
    cudnn = torch.backends.cudnn
    return cudnn.flags(enabled=cudnn.enabled, benchmark=cudnn.benchmark, deterministic=cudnn.deterministic,
                       allow_tf32=False)


@dataclass
class _GroupData:
    """The data of a group of models as training needs it: inputs shared by every model (the usual case: the same
    inputs, different labels) or stacked (M, ...), and labels stacked (M, n)."""

    x_train: torch.Tensor
    train_per_model: bool
    y_train: torch.Tensor
    x_test: torch.Tensor
    test_per_model: bool
    y_test: torch.Tensor
    corrupted: list[torch.Tensor]

    @classmethod
    def of(cls, datas: Sequence[TrainData]) -> _GroupData:
        if len({data.y_train.device for data in datas}) != 1:
            raise ValueError("every model's data must be on one device")
        if len({tuple(data.x_train.shape) for data in datas}) != 1 or len({tuple(data.x_test.shape)
                                                                          for data in datas}) != 1:
            raise ValueError("every model's data must have the same shapes (the same n and input size)")
        x_train, train_per_model = _shared_or_stacked([data.x_train for data in datas])
        x_test, test_per_model = _shared_or_stacked([data.x_test for data in datas])
        return cls(x_train, train_per_model, torch.stack([data.y_train for data in datas]), x_test, test_per_model,
                   torch.stack([data.y_test for data in datas]), [data.corrupted for data in datas])

    def for_models(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x_train, y_train, x_test, y_test) of the models at `indices`, as `_evaluate_stack` takes them."""
        return (self.x_train[indices] if self.train_per_model else self.x_train, self.y_train[indices],
                self.x_test[indices] if self.test_per_model else self.x_test, self.y_test[indices])


def _shared_or_stacked(tensors: list[torch.Tensor]) -> tuple[torch.Tensor, bool]:
    """(x, per_model): one tensor if every model's copy is equal, else the copies stacked (M, ...)."""
    first = tensors[0]
    if all(t is first or torch.equal(t, first) for t in tensors[1:]):
        return first, False
    return torch.stack(tensors), True


def _check_labels_fit(models: Sequence[torch.nn.Module], datas: Sequence[TrainData]) -> None:
    """Every label must be a valid output index of its model (checked here, where the models are known)."""
    for m, (model, data) in enumerate(zip(models, datas, strict=True)):
        heads = [layer for layer in model.modules() if isinstance(layer, torch.nn.Linear)]
        if not heads:
            continue
        classes = heads[-1].out_features
        for name in ("y_train", "y_test"):
            largest = getattr(data, name).max().item()
            if largest >= classes:
                raise ValueError(f"datas[{m}].{name} holds label {largest}, but model {m} has {classes} outputs: "
                                 f"labels must be in [0, {classes})")


HISTORY_KEYS = ("epoch", "train_error", "train_loss", "corrupted_error", "test_error", "test_loss", "weight_norm",
                "seconds")


def _metrics(train: Outcome, test: Outcome, corrupted: torch.Tensor) -> dict[str, float]:
    """One model's evaluated epoch, by name."""
    wrong_on_corrupted = train.wrong[corrupted]
    return {"train_error": train.wrong.float().mean().item(), "train_loss": train.loss.mean().item(),
            "corrupted_error": (wrong_on_corrupted.float().mean().item() if wrong_on_corrupted.numel()
                                else float("nan")),
            "test_error": test.wrong.float().mean().item(), "test_loss": test.loss.mean().item()}


@torch.no_grad()
def _weight_norm(model: torch.nn.Module) -> float:
    """The L2 norm of all of a model's parameters (what weight decay shrinks)."""
    return torch.stack([parameter.float().square().sum() for parameter in model.parameters()]).sum().sqrt().item()


def _record_evaluation(histories: list[dict], epoch: int, seconds: float, stacks, group: _GroupData, loss: str,
                       models: Sequence[torch.nn.Module]) -> None:
    """Evaluate every stack on its models' training and test sets and append the epoch to each model's history,
    with each model's weight norm (read from `models`, into which the stacks' weights are copied first)."""
    for indices, stack in stacks:
        x_train, y_train, x_test, y_test = group.for_models(torch.tensor(indices, device=group.y_train.device))
        train = _evaluate_stack(stack, x_train, y_train, group.train_per_model, loss=loss)
        test = _evaluate_stack(stack, x_test, y_test, group.test_per_model, loss=loss)
        stack.unstack_into([models[m] for m in indices])
        for j, m in enumerate(indices):
            row = _metrics(Outcome(train.wrong[j], train.loss[j]), Outcome(test.wrong[j], test.loss[j]),
                           group.corrupted[m])
            row["weight_norm"] = _weight_norm(models[m])
            for name, value in {"epoch": epoch, **row, "seconds": seconds}.items():
                histories[m][name].append(value)


def train(model: torch.nn.Module, data: TrainData, recipe: Recipe, seed: int, eval_epochs: Sequence[int] | None = None,
          checkpoint: Path | None = None, checkpoint_every: int = 0, progress: bool = False, cuda_graphs: bool = True
          ) -> dict[str, list]:
    """Train `model` on `data` with `recipe`; return its history at `eval_epochs` (default: every epoch).

    The history holds, per evaluated epoch: train error and loss on the (noisy) training labels, the train error on
    the corrupted examples alone (how much noise is memorised), test error and loss, the weight norm of all
    parameters, and wall time; under "devices", [first epoch, device] for each device the run trained on; and under
    "graphed_steps", [first epoch, whether its steps ran from CUDA graphs] each time that changed (False on a CPU, and
    from the epoch where a GPU's capture failed and training went on eagerly). With `checkpoint`, the state (model,
    optimizer, shuffling RNG, history) is saved every `checkpoint_every` epochs and at the end, and a run that finds
    its checkpoint resumes from it: on the CPU the result is bit-for-bit the same as an uninterrupted run.
    """
    return train_many([model], [data], recipe, [seed], eval_epochs, checkpoint, checkpoint_every, progress,
                      cuda_graphs)[0]


def train_many(models: Sequence[torch.nn.Module], datas: Sequence[TrainData], recipe: Recipe, seeds: Sequence[int],
               eval_epochs: Sequence[int] | None = None, checkpoint: Path | None = None, checkpoint_every: int = 0,
               progress: bool = False, cuda_graphs: bool = True) -> list[dict[str, list]]:
    """Train independent models together, model m on `datas[m]` with seed `seeds[m]`; return their histories.

    Models of one shape (MLPs or CNN5s of one width) are stacked into one module (`ddd_utils.models.stacked`) and
    every stack takes its step at once, while each model keeps its own batch order, augmentation and labels: the
    result equals `train` on each model alone up to float rounding, for a fraction of the per-step overhead. The
    histories are `train`'s, with "seconds" the wall time of the whole group; checkpoints cover the whole group and
    are refused if they were written for other models, data, seeds or evaluation epochs.
    On a GPU, training steps run under bf16 autocast where the GPU computes bf16 natively (fp32 on older ones:
    `ddd_utils.steps.autocast_dtype`), image models use channels_last, and with `cuda_graphs` each step is replayed
    from a CUDA graph (see `ddd_utils.steps.Steps`); evaluations are fp32 everywhere.
    """
    from tqdm.auto import tqdm

    if not models or not len(models) == len(datas) == len(seeds):
        raise ValueError(f"models, datas and seeds must have one entry per model; got {len(models)}, {len(datas)} "
                         f"and {len(seeds)}")
    group = _GroupData.of(datas)
    _check_labels_fit(models, datas)
    device, n = group.y_train.device, group.y_train.shape[1]
    images = datas[0].x_train.ndim == 4
    eval_epochs = sorted(set(range(1, recipe.epochs + 1) if eval_epochs is None else eval_epochs))
    identity = None if checkpoint is None else checkpoints.fingerprint(models, datas, seeds, eval_epochs, recipe)
    stacks = stack_models(models)
    with _training_scope(models, stacks, device, channels_last=device.type == "cuda" and images):
        steps = Steps(stacks, group.x_train, group.train_per_model, group.y_train, recipe, images,
                      use_graphs=cuda_graphs and device.type == "cuda")
        generators = [torch.Generator().manual_seed(seed) for seed in seeds]  # batch order and augmentation (CPU)
        histories = [{name: [] for name in HISTORY_KEYS} | {"devices": []} for _ in models]
        first_epoch, elapsed = 1, 0.0
        state = None if checkpoint is None else checkpoints.load_or_set_aside(checkpoint)
        if state is not None:
            checkpoints.check_fingerprint(checkpoint, state.get("fingerprint"), identity)
            histories, first_epoch, elapsed = _resume(state, stacks, steps.optimizer, generators)
        _note_device(histories, first_epoch, device, checkpoint)
        start = time.perf_counter() - elapsed
        for epoch in tqdm(range(first_epoch, recipe.epochs + 1), initial=first_epoch - 1, total=recipe.epochs,
                          leave=False, disable=not progress, desc=f"epochs ({len(models)} models)"):
            _train_one_epoch(recipe, stacks, steps, generators, n, images, device)
            job_progress.note(epoch, recipe.epochs)  # for a sweep that waits on this job from another process
            _note_graphs(histories, epoch, steps.use_graphs)
            if epoch in eval_epochs:
                if device.type == "cuda":
                    torch.cuda.synchronize(device)  # the clock must not run ahead of the queued steps
                _record_evaluation(histories, epoch, time.perf_counter() - start, stacks, group, recipe.loss,
                                   models)
            if checkpoint is not None and (epoch == recipe.epochs or (checkpoint_every and
                                                                      epoch % checkpoint_every == 0)):
                checkpoints.save_atomically({
                    "stacks": [stack.state_dict() for _, stack in stacks], "optimizer": steps.optimizer.state_dict(),
                    "generators": [generator.get_state() for generator in generators], "histories": histories,
                    "epoch": epoch, "seconds": time.perf_counter() - start, "fingerprint": identity,
                    "provenance": environment()}, checkpoint)
        for indices, stack in stacks:
            stack.unstack_into([models[i] for i in indices])
    return histories


def _train_one_epoch(recipe: Recipe, stacks, steps: Steps, generators: list[torch.Generator], n: int, images: bool,
                     device: torch.device) -> None:
    """Draw the epoch's batch order (and augmentation) and take its steps."""
    for _, stack in stacks:
        stack.train()
    table = epoch_table(generators, n, recipe.augment and images, device)
    for begin in range(0, n, recipe.batch_size):
        steps(table[:, :, begin:begin + recipe.batch_size])


def _resume(state: dict, stacks, optimizer: torch.optim.Optimizer, generators: list[torch.Generator]
            ) -> tuple[list[dict], int, float]:
    """Load a checkpoint's state (read on the CPU) into the stacks, optimizer and generators; return (histories,
    first epoch to train, seconds already spent)."""
    for (_, stack), stack_state in zip(stacks, state["stacks"], strict=True):
        stack.load_state_dict(stack_state)
    _load_optimizer_state(optimizer, state["optimizer"])
    for generator, generator_state in zip(generators, state["generators"], strict=True):
        generator.set_state(generator_state)
    return state["histories"], state["epoch"] + 1, state["seconds"]


def _load_optimizer_state(optimizer: torch.optim.Optimizer, saved: dict) -> None:
    """Load a checkpoint's optimizer state under this run's `capturable` flags, not its writer's (which
    `load_state_dict` would restore): a graphed run's checkpoint then resumes eagerly, on a CPU say, and an eager
    one resumes graphed. Adam's step count goes where the flag wants it: beside the parameters when capturable (as
    torch moves it), else it stays on the CPU, where checkpoints are read."""
    flags = [{"capturable": group["capturable"]} if "capturable" in group else {} for group in optimizer.param_groups]
    groups = [{**saved_group, **flag} for saved_group, flag in zip(saved["param_groups"], flags, strict=True)]
    optimizer.load_state_dict({**saved, "param_groups": groups})


def _note_graphs(histories: list[dict], epoch: int, graphed: bool) -> None:
    """Add [epoch, graphed] to every history whose steps start to run from CUDA graphs, or eagerly, at `epoch`: an
    eager fallback shows in the record, not only in the log."""
    for history in histories:
        segments = history.setdefault("graphed_steps", [])  # made here (older checkpoints lack it)
        if not segments or segments[-1][1] != graphed:
            segments.append([epoch, graphed])


def _note_device(histories: list[dict], first_epoch: int, device: torch.device, checkpoint: Path | None) -> None:
    """Add [first epoch, device] to every history when training starts, or resumes on another device; warn when a
    run resumes on another kind of device (bf16 steps on most GPUs, fp32 on a CPU: the numbers will differ)."""
    here = device_name(device)
    for history in histories:
        if history["devices"] and history["devices"][-1][1] == here:
            continue
        if history["devices"] and history["devices"][-1][1].split(" ")[0] != here.split(" ")[0]:
            warnings.warn(f"checkpoint {checkpoint} was written on {history['devices'][-1][1]} and resumes on "
                          f"{here}: the run's numerics change at epoch {first_epoch} (its history says so)",
                          stacklevel=4)
        history["devices"].append([first_epoch, here])


def _flush_denormal_is_on() -> bool:
    """Whether denormal floats are flushed to zero now (torch has no getter: a denormal times one shows it)."""
    return (torch.tensor([1e-40]) * 1.0).item() == 0.0


@contextlib.contextmanager
def _training_scope(models: Sequence[torch.nn.Module], stacks, device: torch.device, channels_last: bool
                    ) -> Iterator[None]:
    """Process-wide settings and changes to the caller's models that training needs, undone on exit: denormals
    flushed on the CPU, channels_last on a GPU, and each model's train/eval modes."""
    flushing = _flush_denormal_is_on()
    if device.type == "cpu":
        # Late in training, memorised examples give softmax probabilities (and gradients) below float32's normal
        # range; x86 CPUs compute on such denormal numbers up to ~100 times slower. Flushing them to zero changes
        # nothing visible and keeps long runs fast.
        torch.set_flush_denormal(True)
    if channels_last:
        for _, stack in stacks:
            stack.to(memory_format=torch.channels_last)
    try:
        with _modes_restored(models):
            yield
    finally:
        torch.set_flush_denormal(flushing)
        if channels_last:
            for model in models:  # a Single stack trained the caller's model itself
                model.to(memory_format=torch.contiguous_format)


@contextlib.contextmanager
def _modes_restored(models: Sequence[torch.nn.Module]) -> Iterator[None]:
    """Put every submodule's train/eval mode back as it was."""
    modes = [[module.training for module in model.modules()] for model in models]
    try:
        yield
    finally:
        for model, model_modes in zip(models, modes, strict=True):
            for module, training in zip(model.modules(), model_modes, strict=True):
                module.training = training


def train_width_sweep(models: Sequence[torch.nn.Module], datas: Sequence[TrainData], recipe: Recipe,
                      seeds: Sequence[int], eval_count: int, checkpoint: Path | None = None,
                      checkpoint_every: int = 0, progress: bool = False) -> list[dict[str, list]]:
    """`train_many` evaluated at `eval_count` log-spaced epochs, as the width sweeps record their runs; each history
    also gets its model's parameter count (the x-axis of a model-wise curve)."""
    histories = train_many(models, datas, recipe, seeds=seeds, eval_epochs=log_spaced_epochs(recipe.epochs, eval_count),
                           checkpoint=checkpoint, checkpoint_every=checkpoint_every, progress=progress)
    for history, model in zip(histories, models, strict=True):
        history["num_parameters"] = count_parameters(model)
    return histories
