"""Checkpoints of a training group: written so that a crash never leaves half a file, tied to the exact run they
belong to, never able to block a sweep (a damaged one is moved aside and its job starts over), and resumed under
this run's own optimizer flags."""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ddd_utils.engine.provenance import environment
from ddd_utils.files import write_atomically

if TYPE_CHECKING:
    from ddd_utils.engine.recipe import Recipe, TrainData
    from ddd_utils.models.stacked import Stacks


def fingerprint(models: Sequence[torch.nn.Module], datas: Sequence[TrainData], seeds: Sequence[int],
                eval_epochs: Sequence[int], recipe: Recipe) -> dict:
    """What a checkpoint must agree with to be resumed by this call: the recipe, seeds, evaluation epochs, every
    model's layout, and a hash of every model's inputs and labels."""
    digests: dict[int, str] = {}

    def digest(tensor: torch.Tensor) -> str:
        if id(tensor) not in digests:
            data = tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy()
            digests[id(tensor)] = f"{tuple(tensor.shape)}:{tensor.dtype}:{hashlib.sha256(data).hexdigest()[:16]}"
        return digests[id(tensor)]

    return {"recipe": asdict(recipe), "seeds": [int(seed) for seed in seeds],
            "eval_epochs": sorted(int(epoch) for epoch in eval_epochs),
            "models": [[type(model).__name__, *(f"{name}{tuple(t.shape)}" for name, t in model.state_dict().items())]
                       for model in models],
            "data": [[digest(getattr(data, field.name)) for field in fields(data)] for data in datas]}


def check_fingerprint(path: Path, saved: dict | None, expected: dict) -> None:
    """Refuse, naming what differs, a checkpoint written by another run (other seeds, data, models or recipe)."""
    differ = [name for name in expected if (saved or {}).get(name) != expected[name]]
    if differ:
        raise ValueError(f"checkpoint {path} belongs to another run (it differs from this call in: "
                         f"{', '.join(differ)}); pass another checkpoint path, or delete the file to start afresh")


def save_atomically(state: dict, path: Path) -> None:
    """Write a checkpoint (`torch.save`) so that a crash leaves either the old file or the new one."""
    write_atomically(path, lambda file: torch.save(state, file), binary=True)


def load_or_set_aside(path: Path) -> dict | None:
    """The checkpoint at `path` on the CPU (whatever device wrote it), or None if there is none. A file that cannot
    be read (truncated, empty, not a checkpoint) is moved aside, with a warning naming both paths, and None is
    returned, so its job starts over instead of failing at every restart."""
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many kinds (OSError, EOFError, UnpicklingError, KeyError...)
        aside = path.with_name(f"{path.name}.damaged-{time.time_ns()}")
        os.replace(path, aside)
        warnings.warn(f"checkpoint {path} cannot be read ({type(error).__name__}: {error}); moved it to {aside.name} "
                      f"and starting its run over", stacklevel=3)
        return None


def save_group(path: Path, stacks: Stacks, optimizer: torch.optim.Optimizer, generators: list[torch.Generator],
               histories: list[dict], epoch: int, seconds: float, run_fingerprint: dict) -> None:
    """Save a training group after `epoch`: its stacks, optimizer, shuffling generators and histories, the seconds
    spent, its `fingerprint` and where it was written."""
    save_atomically({
        "stacks": [stack.state_dict() for _, stack in stacks], "optimizer": optimizer.state_dict(),
        "generators": [generator.get_state() for generator in generators], "histories": histories, "epoch": epoch,
        "seconds": seconds, "fingerprint": run_fingerprint, "provenance": environment()}, path)


def resume(state: dict, stacks: Stacks, optimizer: torch.optim.Optimizer, generators: list[torch.Generator]
           ) -> tuple[list[dict], int, float]:
    """Load a checkpoint's state (read on the CPU) into the stacks, optimizer and generators; return (histories,
    first epoch to train, seconds already spent)."""
    for (_, stack), stack_state in zip(stacks, state["stacks"], strict=True):
        stack.load_state_dict(stack_state)
    load_optimizer_state(optimizer, state["optimizer"])
    for generator, generator_state in zip(generators, state["generators"], strict=True):
        generator.set_state(generator_state)
    return state["histories"], state["epoch"] + 1, state["seconds"]


def load_optimizer_state(optimizer: torch.optim.Optimizer, saved: dict) -> None:
    """Load a checkpoint's optimizer state under this run's `capturable` flags, not its writer's (which
    `load_state_dict` would restore): a graphed run's checkpoint then resumes eagerly, on a CPU say, and an eager
    one resumes graphed. Adam's step count goes where the flag wants it: beside the parameters when capturable (as
    torch moves it), else it stays on the CPU, where checkpoints are read. The saved learning rate takes this run's
    form too: a tensor on this run's device where a graphed step reads it from one, else a float."""
    groups = [{**saved_group, **_own_form(group, saved_group)}
              for group, saved_group in zip(optimizer.param_groups, saved["param_groups"], strict=True)]
    optimizer.load_state_dict({**saved, "param_groups": groups})


def _own_form(group: dict, saved_group: dict) -> dict:
    """This run's `capturable` flag, and the saved learning rate in the form this run's `group` keeps it."""
    lr = float(saved_group["lr"])
    form = {"lr": group["lr"].new_tensor(lr) if torch.is_tensor(group["lr"]) else lr}
    return form | ({"capturable": group["capturable"]} if "capturable" in group else {})
