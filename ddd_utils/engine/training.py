"""The training loop behind the deep chapters: data on the device, batches by index, many models at once, a
per-epoch history, and checkpoints that resume bit for bit on the CPU.

No DataLoader and no `.item()` in the step loop: batches are index tensors into tensors that already live on the
device, and losses stay on the device until an evaluation epoch. Small models are overhead-bound, so the seeds and
noise levels of a sweep train together as stacked models (`train_many`), one optimizer step for all of them. Read
top-down: `train_many` draws each epoch's batches (`steps.epoch_draws`) and takes one `steps.GroupStep` per batch;
`history` records the evaluated epochs, `checkpoints` saves and resumes the group.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

from ddd_utils.engine import checkpoints, history, job_progress, stop_signal
from ddd_utils.engine.evaluation import modes_restored
from ddd_utils.engine.group import GroupData, check_labels_fit
from ddd_utils.engine.recipe import Recipe, TrainData, log_spaced_epochs
from ddd_utils.engine.steps import GroupStep, epoch_draws
from ddd_utils.models import count_parameters
from ddd_utils.models.stacked import stack_models


def train(model: torch.nn.Module, data: TrainData, recipe: Recipe, seed: int, eval_epochs: Sequence[int] | None = None,
          checkpoint: Path | None = None, checkpoint_every: int = 0, progress: bool = False, cuda_graphs: bool = True
          ) -> dict[str, list]:
    """Train `model` on `data` with `recipe`; return its history at `eval_epochs` (default: every epoch).

    The history holds, per evaluated epoch: train error and loss on the (noisy) training labels, the train error on
    the corrupted examples alone (how much noise is memorised), test error and loss, the weight norm of all
    parameters, and wall time; under "devices", [first epoch, device] for each device the run trained on; and under
    "graphed_steps", [first epoch, whether its steps ran from CUDA graphs] each time that changed (False on a CPU, and
    from the epoch where a GPU's capture failed and training went on eagerly). With `checkpoint`, the state (model,
    optimizer, shuffling RNG, history) is saved every `checkpoint_every` epochs, at the end, and when a SIGTERM
    arrives (at the end of that epoch, before the process dies of it: `stop_signal`), and a run that finds its
    checkpoint resumes from it: on the CPU the result is bit-for-bit the same as an uninterrupted run.
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
    `steps.autocast_dtype`), image models use channels_last, and with `cuda_graphs` each step is replayed from a
    CUDA graph (see `steps.GroupStep`); evaluations are fp32 everywhere.
    """
    from tqdm.auto import tqdm

    if not models or not len(models) == len(datas) == len(seeds):
        raise ValueError(f"models, datas and seeds must have one entry per model; got {len(models)}, {len(datas)} "
                         f"and {len(seeds)}")
    group = GroupData.of(datas)
    check_labels_fit(models, datas)
    device, n = group.y_train.device, group.y_train.shape[1]
    images = datas[0].x_train.ndim == 4
    eval_epochs = sorted(set(range(1, recipe.epochs + 1) if eval_epochs is None else eval_epochs))
    run_fingerprint = None if checkpoint is None else checkpoints.fingerprint(models, datas, seeds, eval_epochs,
                                                                              recipe)
    stacks = stack_models(models)
    with _training_scope(models, stacks, device, channels_last=device.type == "cuda" and images):
        step = GroupStep(stacks, group.x_train, group.train_per_model, group.y_train, recipe, images,
                         use_graphs=cuda_graphs and device.type == "cuda")
        generators = [torch.Generator().manual_seed(seed) for seed in seeds]  # batch order and augmentation (CPU)
        histories, first_epoch, elapsed = history.empty_histories(len(models)), 1, 0.0
        state = None if checkpoint is None else checkpoints.load_or_set_aside(checkpoint)
        if state is not None:
            checkpoints.check_fingerprint(checkpoint, state.get("fingerprint"), run_fingerprint)
            histories, first_epoch, elapsed = checkpoints.resume(state, stacks, step.optimizer, generators)
        history.note_device(histories, first_epoch, device, checkpoint)
        start = time.perf_counter() - elapsed
        with stop_signal.held_until_saved(checkpoint is not None) as stop:  # a SIGTERM waits for the epoch's save
            for epoch in tqdm(range(first_epoch, recipe.epochs + 1), initial=first_epoch - 1, total=recipe.epochs,
                              leave=False, disable=not progress, desc=f"epochs ({len(models)} models)"):
                _train_one_epoch(recipe, stacks, step, generators, n, images, device)
                job_progress.note(epoch, recipe.epochs)  # for a sweep that waits on this job from another process
                history.note_graphs(histories, epoch, step.use_graphs)
                if epoch in eval_epochs:
                    if device.type == "cuda":
                        torch.cuda.synchronize(device)  # the clock must not run ahead of the queued steps
                    history.record_evaluation(histories, epoch, time.perf_counter() - start, stacks, group,
                                              recipe.loss, models)
                stopping = stop.requested  # read once: a SIGTERM after this line is saved at the next epoch's end
                if checkpoint is not None and (stopping or epoch == recipe.epochs or
                                               (checkpoint_every and epoch % checkpoint_every == 0)):
                    checkpoints.save_group(checkpoint, stacks, step.optimizer, generators, histories, epoch,
                                           time.perf_counter() - start, run_fingerprint)
                if stopping:
                    break  # leaving the block delivers the SIGTERM
        for indices, stack in stacks:
            stack.unstack_into([models[i] for i in indices])
    return histories


def _train_one_epoch(recipe: Recipe, stacks, step: GroupStep, generators: list[torch.Generator], n: int,
                     images: bool, device: torch.device) -> None:
    """Draw the epoch's batch order (and augmentation) and take one step per batch."""
    for _, stack in stacks:
        stack.train()
    draws = epoch_draws(generators, n, recipe.augment and images, device)
    for begin in range(0, n, recipe.batch_size):
        step.take(draws[:, :, begin:begin + recipe.batch_size])


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
        with modes_restored(models):
            yield
    finally:
        torch.set_flush_denormal(flushing)
        if channels_last:
            for model in models:  # a Single stack trained the caller's model itself
                model.to(memory_format=torch.contiguous_format)


def train_width_sweep(models: Sequence[torch.nn.Module], datas: Sequence[TrainData], recipe: Recipe,
                      seeds: Sequence[int], eval_count: int, checkpoint: Path | None = None,
                      checkpoint_every: int = 0, progress: bool = False) -> list[dict[str, list]]:
    """`train_many` evaluated at `eval_count` log-spaced epochs, as the width sweeps record their runs; each history
    also gets its model's parameter count (the x-axis of a model-wise curve)."""
    histories = train_many(models, datas, recipe, seeds=seeds, eval_epochs=log_spaced_epochs(recipe.epochs, eval_count),
                           checkpoint=checkpoint, checkpoint_every=checkpoint_every, progress=progress)
    for record, model in zip(histories, models, strict=True):
        record["num_parameters"] = count_parameters(model)
    return histories
