"""Checkpoints of a training group: written so that a crash never leaves half a file, tied to the exact run they
belong to, and never able to block a sweep (a damaged one is moved aside and its job starts over)."""

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

from ddd_utils.files import write_atomically

if TYPE_CHECKING:
    from ddd_utils.train import Recipe, TrainData


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


def save_atomically(state, path: Path) -> None:
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
