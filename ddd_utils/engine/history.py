"""A run's history: what each evaluated epoch records for each model of a group (errors and losses on the noisy
training labels, on the corrupted ones, on the clean test set, the weight norm, wall time), and where the run
trained: on which device, and whether its steps were replayed from CUDA graphs."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ddd_utils.engine.evaluation import Outcome, evaluate_stack
from ddd_utils.engine.group import GroupData
from ddd_utils.engine.provenance import device_name

if TYPE_CHECKING:
    from ddd_utils.models.stacked import Stacks

HISTORY_KEYS = ("epoch", "train_error", "train_loss", "corrupted_error", "test_error", "test_loss", "weight_norm",
                "seconds")


def empty_histories(count: int) -> list[dict[str, list]]:
    """One history per model, before its first epoch."""
    return [{name: [] for name in HISTORY_KEYS} | {"devices": []} for _ in range(count)]


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


def record_evaluation(histories: list[dict], epoch: int, seconds: float, stacks: Stacks, group: GroupData, loss: str,
                      models: Sequence[torch.nn.Module]) -> None:
    """Evaluate every stack on its models' training and test sets and append the epoch to each model's history,
    with each model's weight norm (read from `models`, into which the stacks' weights are copied first)."""
    for indices, stack in stacks:
        x_train, y_train, x_test, y_test = group.for_models(torch.tensor(indices, device=group.y_train.device))
        train = evaluate_stack(stack, x_train, y_train, group.train_per_model, loss=loss)
        test = evaluate_stack(stack, x_test, y_test, group.test_per_model, loss=loss)
        stack.unstack_into([models[m] for m in indices])
        for j, m in enumerate(indices):
            row = _metrics(Outcome(train.wrong[j], train.loss[j]), Outcome(test.wrong[j], test.loss[j]),
                           group.corrupted[m])
            row["weight_norm"] = _weight_norm(models[m])
            for name, value in {"epoch": epoch, **row, "seconds": seconds}.items():
                histories[m][name].append(value)


def note_graphs(histories: list[dict], epoch: int, graphed: bool) -> None:
    """Add [epoch, graphed] to every history whose steps start to run from CUDA graphs, or eagerly, at `epoch` (a
    step, for a run that counts steps): an eager fallback shows in the record, not only in the log."""
    for history in histories:
        segments = history.setdefault("graphed_steps", [])  # made here (older checkpoints lack it)
        if not segments or segments[-1][1] != graphed:
            segments.append([epoch, graphed])


def note_device(histories: list[dict], first_epoch: int, device: torch.device, checkpoint: Path | None,
                unit: str = "epoch") -> None:
    """Add [first epoch (or step: `unit`), device] to every history when training starts, or resumes on another
    device; warn when a run resumes on another kind of device (bf16 steps on most GPUs, fp32 on a CPU: the numbers
    will differ)."""
    here = device_name(device)
    for history in histories:
        if history["devices"] and history["devices"][-1][1] == here:
            continue
        if history["devices"] and history["devices"][-1][1].split(" ")[0] != here.split(" ")[0]:
            warnings.warn(f"checkpoint {checkpoint} was written on {history['devices'][-1][1]} and resumes on "
                          f"{here}: the run's numerics change at {unit} {first_epoch} (its history says so)",
                          stacklevel=4)
        history["devices"].append([first_epoch, here])
