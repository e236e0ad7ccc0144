"""Presets: how big a chapter's experiments are. `smoke` for CI, `cpu` for a laptop, `full` for a GPU.

`auto` resolves to the environment variable DDD_PRESET when it is set and non-empty (the CI book build sets
`smoke`), otherwise to `full` when CUDA is available and `cpu` when it is not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

PRESETS = ("smoke", "cpu", "full")
ENV_VAR = "DDD_PRESET"

ConfigT = TypeVar("ConfigT")


def _check_name(preset: str, where: str) -> str:
    if preset not in PRESETS:
        raise ValueError(f"{where} must be one of {PRESETS} (or 'auto'); got {preset!r}")
    return preset


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # the linear chapters do not need torch
        return False
    return torch.cuda.is_available()


def resolve_preset(preset: str = "auto") -> str:
    """Turn a chapter's PRESET parameter into one of PRESETS; an unknown name is a ValueError."""
    if preset != "auto":
        return _check_name(preset, "PRESET")
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return _check_name(from_env, f"the environment variable {ENV_VAR}")
    return "full" if _cuda_available() else "cpu"


def select(configs: Mapping[str, ConfigT], preset: str = "auto") -> ConfigT:
    """The config an experiment defines for `preset` (resolved first, so 'auto' works here too)."""
    name = resolve_preset(preset)
    if name not in configs:
        raise ValueError(f"this experiment defines presets {tuple(configs)}; got {name!r}")
    return configs[name]
