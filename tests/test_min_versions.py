"""The declared lower bounds are the versions CI runs with: pyproject.toml's bounds for the numpy stack equal the
pins of .ci/min-versions.txt, which scripts/check_min_versions.sh installs for chapters 1-3 (run by .ci/run), where
chapter 3 leaves out only its cells tagged needs-torch."""

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


def test_the_cells_left_out_without_torch_are_chapter_3s_network_section_alone():
    import json

    script = (ROOT / "scripts" / "check_min_versions.sh").read_text()
    assert "01_polynomial_regression 02_linear_regression 03_random_features" in script
    tagged = {}
    for chapter in ("01_polynomial_regression", "02_linear_regression", "03_random_features"):
        cells = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text())["cells"]
        tagged[chapter] = ["".join(cell["source"]) for cell in cells
                           if "needs-torch" in cell.get("metadata", {}).get("tags", [])]
    assert not tagged["01_polynomial_regression"] and not tagged["02_linear_regression"]
    network = tagged["03_random_features"]
    assert len(network) == 2 and "network_vs_min_norm" in network[0] and all("network" in s for s in network)
