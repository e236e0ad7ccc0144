"""The declared dependencies are complete and their lower bounds are the versions CI runs with: every package
ddd_utils imports on import is declared in pyproject.toml, and the bounds for the numpy stack equal the pins of
.ci/min-versions.txt, which scripts/check_min_versions.sh installs for chapters 1-3 (run by .ci/run), where chapter 3
leaves out only its cells tagged needs-torch."""

import ast
import importlib.metadata
import re
import sys

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


# Imported at the top of the papermill engine's module (ddd_utils.notebook.reply_guard), which only papermill loads,
# and papermill brings them: the book's build tooling, pinned in requirements.txt rather than declared.
BUILD_TOOLING = {"papermill", "nbclient", "jupyter-client", "pyzmq"}


def normalized(distribution: str) -> str:
    """A distribution's name as packaging compares them (PEP 503): lower case, runs of '-', '_', '.' as one '-'."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def top_level_imports(path) -> set[str]:
    """The top-level names of the modules `path` imports when it is imported (not inside a function, nor under
    `if TYPE_CHECKING:`, which only a type checker reads)."""
    names, pending = set(), list(ast.parse(path.read_text()).body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
        pending.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
    return names


def test_every_package_ddd_utils_imports_on_import_is_declared():
    declared = {normalized(name) for name in lower_bounds()}
    for extra in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"].values():
        declared |= {normalized(re.match(r"[\w-]+", dependency).group()) for dependency in extra}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for path in (ROOT / "ddd_utils").rglob("*.py"):
        for name in top_level_imports(path) - set(sys.stdlib_module_names) - {"__future__", "ddd_utils"}:
            packages = {normalized(package) for package in distributions.get(name, [name])}
            if not packages & (declared | BUILD_TOOLING):
                undeclared[f"{path.relative_to(ROOT)}: {name}"] = sorted(packages)
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
