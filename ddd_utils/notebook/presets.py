"""Presets: how big a chapter's experiments are. `smoke` for CI, `cpu` for a laptop, `full` for about ten minutes
on one big GPU, `paper` for the published settings (hours or more: for the command line and clusters).

`auto` resolves to the environment variable DDD_PRESET when it is set, non-empty and not itself `auto` (the CI book
build sets `smoke`). Otherwise it is `full` only where `full` is sized to run, a chapter that trains on the GPU on a
CUDA GPU with at least LARGE_GPU_GIB of memory, and `cpu` everywhere else: a reader who leaves `auto` never starts
an hours-long run unknowingly (on a Colab T4 the GPU chapters run `cpu` on the GPU; the numpy chapters always run
`cpu`).
`auto` never picks `paper`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

PRESETS = ("smoke", "cpu", "full", "paper")
ENV_VAR = "DDD_PRESET"
# `full` is sized for an A100 40 GB and larger. GPUs report less than their nominal size (an A100 40 GB about
# 39.4-39.6 GiB, a V100 32 GB about 31.7), so the threshold lies between the two.
LARGE_GPU_GIB = 36

ConfigT = TypeVar("ConfigT")


@dataclass(frozen=True)
class PresetChoice:
    """The preset a chapter runs and, in words, why (chapters print it under their parameters)."""

    name: str
    reason: str


def _check_name(preset: str, where: str) -> str:
    if preset not in PRESETS:
        raise ValueError(f"{where} must be one of {PRESETS} (or 'auto'); got {preset!r}")
    return preset


def _gpu() -> tuple[str, float] | None:
    """(name, memory in GiB) of CUDA device 0, or None without CUDA (or without torch: the linear chapters)."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    properties = torch.cuda.get_device_properties(0)
    return properties.name, properties.total_memory / 2**30


def choose_preset(preset: str = "auto", uses_gpu: bool = False) -> PresetChoice:
    """Turn a chapter's PRESET parameter into one of PRESETS, with the reason; an unknown name is a ValueError.
    `uses_gpu`: whether the chapter's experiments train on a GPU when there is one (the torch chapters)."""
    if preset != "auto":
        return PresetChoice(_check_name(preset, "PRESET"), f"PRESET = {preset!r}")
    from_env = os.environ.get(ENV_VAR)
    if from_env and from_env != "auto":  # DDD_PRESET=auto means what an unset variable means
        return PresetChoice(_check_name(from_env, f"the environment variable {ENV_VAR}"),
                            f"PRESET = 'auto': {ENV_VAR} is {from_env!r}")
    if not uses_gpu:
        return PresetChoice("cpu", "PRESET = 'auto': 'cpu', as this chapter computes on the CPU (set PRESET = "
                                   "'full' for the larger run)")
    gpu = _gpu()
    if gpu is None:
        return PresetChoice("cpu", "PRESET = 'auto': 'cpu' (no CUDA GPU)")
    name, gib = gpu
    if gib < LARGE_GPU_GIB:
        return PresetChoice("cpu", f"PRESET = 'auto': 'cpu' on the GPU ({name}, {gib:.0f} GiB; 'full' is sized "
                                   f"for 40 GB GPUs and larger, which report at least {LARGE_GPU_GIB} GiB: set "
                                   f"PRESET = 'full' to run it anyway)")
    return PresetChoice("full", f"PRESET = 'auto': 'full' on the GPU ({name}, {gib:.0f} GiB)")


def resolve_preset(preset: str = "auto", uses_gpu: bool = False) -> str:
    """The name `choose_preset` picks."""
    return choose_preset(preset, uses_gpu).name


def select(configs: Mapping[str, ConfigT], preset: str = "auto", uses_gpu: bool = False) -> ConfigT:
    """The config an experiment defines for `preset` (resolved first, so 'auto' works here too)."""
    name = resolve_preset(preset, uses_gpu)
    if name not in configs:
        raise ValueError(f"this experiment defines presets {tuple(configs)}; got {name!r}")
    return configs[name]
