"""The declared lower bounds are the versions CI runs with: pyproject.toml's bounds for the numpy stack equal the
pins of .ci/min-versions.txt, which scripts/check_min_versions.sh installs for chapters 1 and 2 (run by .ci/run)."""

import re

import pytest
from conftest import ROOT

tomllib = pytest.importorskip("tomllib")


def lower_bounds() -> dict[str, str]:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return dict(re.fullmatch(r"([\w-]+)>=([\w.]+)", dependency).groups() for dependency in dependencies)


def min_pins() -> dict[str, str]:
    lines = (ROOT / ".ci" / "min-versions.txt").read_text().splitlines()
    return dict(line.split("==") for line in lines if line and not line.startswith("#"))


def test_every_pinned_minimum_is_the_declared_lower_bound():
    bounds, pins = lower_bounds(), min_pins()
    assert pins and set(pins) <= set(bounds)
    for name, version in pins.items():
        assert bounds[name] == version, f"{name}: pyproject.toml says >= {bounds[name]}, CI runs {version}"


def test_only_torch_and_mnist1d_are_declared_without_a_tested_minimum():
    assert set(lower_bounds()) - set(min_pins()) == {"torch", "mnist1d"}


def test_ci_runs_the_minimum_versions_check():
    assert "bash scripts/check_min_versions.sh" in (ROOT / ".ci" / "run").read_text()
