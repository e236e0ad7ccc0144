"""Evaluation of trained models: per-example mistakes and losses, in true fp32 on every device, for one model or a
stack of them, with the models' train/eval modes put back afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import torch

from ddd_utils.engine.recipe import per_example_loss
from ddd_utils.models.stacked import Single


class Outcome(NamedTuple):
    """Per-example results of an evaluation: whether each prediction is wrong, and its loss."""

    wrong: torch.Tensor
    loss: torch.Tensor


@torch.no_grad()
def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024,
             loss: str = "cross_entropy") -> Outcome:
    """Per-example (wrong, loss) of one `model` in eval mode, as device tensors; the model's modes are restored."""
    with modes_restored([model]):
        outcome = evaluate_stack(Single([model]), x, y.unsqueeze(0), per_model=False, batch_size=batch_size,
                                 loss=loss)
    return Outcome(outcome.wrong[0], outcome.loss[0])


@torch.no_grad()
def evaluate_stack(stack: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, per_model: bool,
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


@contextlib.contextmanager
def modes_restored(models: Sequence[torch.nn.Module]) -> Iterator[None]:
    """Put every submodule's train/eval mode back as it was."""
    modes = [[module.training for module in model.modules()] for model in models]
    try:
        yield
    finally:
        for model, model_modes in zip(models, modes, strict=True):
            for module, training in zip(model.modules(), model_modes, strict=True):
                module.training = training
