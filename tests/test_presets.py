"""Tests for ddd_utils.presets: resolving a chapter's PRESET parameter and selecting its config."""

import sys
import types

import pytest

from ddd_utils import presets
from ddd_utils.presets import resolve_preset, select

NAMES = ("smoke", "cpu", "full")


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("DDD_PRESET", raising=False)
    return monkeypatch


def _fake_torch(cuda):
    return types.SimpleNamespace(cuda=types.SimpleNamespace(is_available=lambda: cuda))


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
    no_env.setattr(presets, "_cuda_available", lambda: name != "full")  # the variable must win over CUDA
    assert resolve_preset("auto") == name
    assert resolve_preset() == name


def test_auto_without_variable_and_without_cuda_is_cpu(no_env):
    no_env.setattr(presets, "_cuda_available", lambda: False)
    assert resolve_preset("auto") == "cpu"
    assert resolve_preset() == "cpu"


def test_auto_without_variable_and_with_cuda_is_full(no_env):
    no_env.setattr(presets, "_cuda_available", lambda: True)
    assert resolve_preset("auto") == "full"


def test_auto_without_torch_installed_is_cpu(no_env):
    no_env.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    assert resolve_preset("auto") == "cpu"


@pytest.mark.parametrize("cuda, expected", [(True, "full"), (False, "cpu")])
def test_auto_follows_torch_cuda_availability(no_env, cuda, expected):
    no_env.setitem(sys.modules, "torch", _fake_torch(cuda))
    assert resolve_preset("auto") == expected


@pytest.mark.parametrize("name", ["gpu", "Smoke", "FULL", "", " cpu", "none"])
def test_unknown_explicit_preset_raises_listing_allowed_names(no_env, name):
    with pytest.raises(ValueError, match="PRESET") as info:
        resolve_preset(name)
    for allowed in NAMES:
        assert allowed in str(info.value)


@pytest.mark.parametrize("name", ["gpu", "auto", "Full"])
def test_unknown_preset_from_environment_raises_naming_the_variable(no_env, name):
    no_env.setenv("DDD_PRESET", name)
    with pytest.raises(ValueError, match="DDD_PRESET") as info:
        resolve_preset("auto")
    for allowed in NAMES:
        assert allowed in str(info.value)


CONFIGS = {"smoke": {"size": 1}, "cpu": {"size": 10}, "full": {"size": 100}}


@pytest.mark.parametrize("name", NAMES)
def test_select_picks_the_config_of_the_preset(no_env, name):
    assert select(CONFIGS, name) is CONFIGS[name]


def test_select_resolves_auto_from_the_environment(no_env):
    no_env.setenv("DDD_PRESET", "smoke")
    assert select(CONFIGS) is CONFIGS["smoke"]
    assert select(CONFIGS, "auto") is CONFIGS["smoke"]


def test_select_resolves_auto_from_cuda(no_env):
    no_env.setattr(presets, "_cuda_available", lambda: True)
    assert select(CONFIGS, "auto") is CONFIGS["full"]
    no_env.setattr(presets, "_cuda_available", lambda: False)
    assert select(CONFIGS, "auto") is CONFIGS["cpu"]


def test_select_rejects_an_unknown_preset(no_env):
    with pytest.raises(ValueError, match="PRESET"):
        select(CONFIGS, "huge")


def test_select_rejects_a_preset_the_experiment_does_not_define(no_env):
    with pytest.raises(ValueError, match="full"):
        select({"smoke": 1, "cpu": 2}, "full")
