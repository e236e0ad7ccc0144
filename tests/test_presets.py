"""Tests for ddd_utils.notebook.presets: resolving a chapter's PRESET parameter and selecting its config."""

import sys
import types

import pytest

from ddd_utils.notebook import presets
from ddd_utils.notebook.presets import choose_preset, resolve_preset, select

NAMES = ("smoke", "cpu", "full", "paper")
H200 = ("NVIDIA H200", 139.8)
T4 = ("Tesla T4", 14.7)


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("DDD_PRESET", raising=False)
    return monkeypatch


def _fake_torch(cuda, gib=80.0):
    properties = types.SimpleNamespace(name="Fake GPU", total_memory=gib * 2**30)
    return types.SimpleNamespace(cuda=types.SimpleNamespace(is_available=lambda: cuda,
                                                            get_device_properties=lambda index: properties))


def test_preset_names_and_environment_variable():
    assert presets.PRESETS == NAMES
    assert presets.ENV_VAR == "DDD_PRESET"


@pytest.mark.parametrize("name", NAMES)
def test_explicit_name_passes_through(no_env, name):
    assert resolve_preset(name) == name


@pytest.mark.parametrize("name", NAMES)
def test_explicit_name_wins_over_the_environment(no_env, name):
    no_env.setenv("DDD_PRESET", "full" if name != "full" else "smoke")
    assert resolve_preset(name) == name


@pytest.mark.parametrize("name", NAMES)
def test_auto_uses_the_environment_variable(no_env, name):
    no_env.setenv("DDD_PRESET", name)
    no_env.setattr(presets, "_gpu", lambda: H200)  # the variable must win over the GPU
    for uses_gpu in (False, True):
        assert resolve_preset("auto", uses_gpu) == name
    assert resolve_preset() == name
    assert "DDD_PRESET" in choose_preset("auto").reason


@pytest.mark.parametrize("gpu, expected", [(None, "cpu"), (T4, "cpu"), (H200, "full")])
def test_ddd_preset_auto_means_what_an_unset_variable_means(no_env, gpu, expected):
    no_env.setenv("DDD_PRESET", "auto")
    no_env.setattr(presets, "_gpu", lambda: gpu)
    assert resolve_preset("auto", uses_gpu=True) == expected and resolve_preset("auto") == "cpu"


@pytest.mark.parametrize("gpu", [None, T4, H200])
def test_auto_is_cpu_for_a_chapter_that_computes_on_the_cpu_whatever_the_gpu(no_env, gpu):
    no_env.setattr(presets, "_gpu", lambda: gpu)
    choice = choose_preset("auto")
    assert choice.name == "cpu" and "computes on the CPU" in choice.reason


@pytest.mark.parametrize("gpu, expected", [
    (None, "cpu"), (T4, "cpu"), (("Tesla V100-SXM2-32GB", 31.7), "cpu"), (("NVIDIA A100-PCIE-40GB", 39.4), "full"),
    (("NVIDIA A100-SXM4-40GB", 39.5), "full"), (("NVIDIA A100-SXM4-80GB", 79.2), "full"), (H200, "full")])
def test_auto_picks_full_for_a_gpu_chapter_only_on_a_large_gpu(no_env, gpu, expected):
    # A GPU reports less memory than its nominal size: a 40 GB A100, the smallest `full` is sized for, is large.
    no_env.setattr(presets, "_gpu", lambda: gpu)
    choice = choose_preset("auto", uses_gpu=True)
    assert choice.name == expected
    if gpu is not None:
        assert gpu[0] in choice.reason  # the reader is told which GPU the choice was made for


def test_auto_never_picks_paper(no_env):
    no_env.setattr(presets, "_gpu", lambda: ("a huge GPU", 10_000.0))
    assert {resolve_preset("auto", uses_gpu) for uses_gpu in (False, True)} == {"cpu", "full"}


def test_auto_without_torch_installed_is_cpu(no_env):
    no_env.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    assert resolve_preset("auto", uses_gpu=True) == "cpu"


@pytest.mark.parametrize("cuda, gib, expected", [(True, 80.0, "full"), (True, 16.0, "cpu"), (False, 80.0, "cpu")])
def test_auto_follows_torch_cuda_availability_and_memory(no_env, cuda, gib, expected):
    no_env.setitem(sys.modules, "torch", _fake_torch(cuda, gib))
    assert resolve_preset("auto", uses_gpu=True) == expected


@pytest.mark.parametrize("name", ["gpu", "Smoke", "FULL", "", " cpu", "none"])
def test_unknown_explicit_preset_raises_listing_allowed_names(no_env, name):
    with pytest.raises(ValueError, match="PRESET") as info:
        resolve_preset(name)
    for allowed in NAMES:
        assert allowed in str(info.value)


@pytest.mark.parametrize("name", ["gpu", "Full", "AUTO"])
def test_unknown_preset_from_environment_raises_naming_the_variable(no_env, name):
    no_env.setenv("DDD_PRESET", name)
    with pytest.raises(ValueError, match="DDD_PRESET") as info:
        resolve_preset("auto")
    for allowed in NAMES:
        assert allowed in str(info.value)


CONFIGS = {"smoke": {"size": 1}, "cpu": {"size": 10}, "full": {"size": 100}, "paper": {"size": 1000}}


@pytest.mark.parametrize("name", NAMES)
def test_select_picks_the_config_of_the_preset(no_env, name):
    assert select(CONFIGS, name) is CONFIGS[name]


def test_select_resolves_auto_from_the_environment(no_env):
    no_env.setenv("DDD_PRESET", "smoke")
    assert select(CONFIGS) is CONFIGS["smoke"]
    assert select(CONFIGS, "auto") is CONFIGS["smoke"]


def test_select_resolves_auto_from_the_gpu(no_env):
    no_env.setattr(presets, "_gpu", lambda: H200)
    assert select(CONFIGS, "auto", uses_gpu=True) is CONFIGS["full"]
    assert select(CONFIGS, "auto") is CONFIGS["cpu"]
    no_env.setattr(presets, "_gpu", lambda: None)
    assert select(CONFIGS, "auto", uses_gpu=True) is CONFIGS["cpu"]


def test_select_rejects_an_unknown_preset(no_env):
    with pytest.raises(ValueError, match="PRESET"):
        select(CONFIGS, "huge")


def test_select_rejects_a_preset_the_experiment_does_not_define(no_env):
    with pytest.raises(ValueError, match="full"):
        select({"smoke": 1, "cpu": 2}, "full")
