"""The package's layout is its architecture (README, "Layout"): each room imports only the rooms below it, no module
imports itself back through others, no module outgrows a file a reader can hold in mind, every public function hints
its types, and the numpy half that chapters 1-3 run on never imports torch."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import ROOT

PACKAGE = ROOT / "ddd_utils"
HELPERS = {"_checks", "files", "blas"}  # the top level's tiny shared helpers, importable from every room
# Each room and the rooms it may import (besides HELPERS), from the bottom up.
MAY_IMPORT = {
    "linear": set(),
    "analysis": set(),
    "models": set(),
    "engine": {"models"},
    "data": {"engine", "models"},
    "experiments": {"linear", "analysis", "models", "engine", "data"},
    "notebook": {"linear", "analysis", "models", "engine", "data", "experiments"},
    "__main__": {"engine", "experiments", "notebook"},
}
TOP_LEVEL = HELPERS | {"__init__", "__main__"}
MAX_LINES = 330  # "about 300 lines at most" (the developers' guide)


def module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path) -> set[str]:
    """Every ddd_utils module `path` imports, at its top or inside a function (a lazy import is still a
    dependency), as dotted names; `from ddd_utils.x import y` counts y when y is itself a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ddd_utils":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                is_module = (ROOT / full.replace(".", "/")).with_suffix(".py").exists() or (
                    ROOT / full.replace(".", "/")).is_dir()
                found.add(full if is_module else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "ddd_utils"}
    return found


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "ddd_utils"


GRAPH = {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def test_every_room_imports_only_the_rooms_below_it():
    wrong = [f"{module} imports {target}" for module, targets in GRAPH.items() for target in targets
             if room(target) not in HELPERS | {room(module), "ddd_utils"}
             and room(target) not in MAY_IMPORT.get(room(module), set())]
    assert not wrong


def test_no_module_imports_itself_back_through_others():
    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for target in GRAPH.get(start, ()):
            if target == goal or (target not in seen and not seen.add(target) and reaches(target, goal, seen)):
                return True
        return False

    cycles = [module for module in GRAPH if reaches(module, module, set())]
    assert not cycles


def test_only_entry_points_and_tiny_helpers_sit_at_the_top_level_and_no_module_is_long():
    assert {path.stem for path in PACKAGE.glob("*.py")} == TOP_LEVEL
    long = {str(path.relative_to(ROOT)): lines for path in PACKAGE.rglob("*.py")
            if (lines := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long


def test_the_numpy_half_imports_no_torch():
    # What chapters 1-3 import (scripts/check_min_versions.sh runs them where torch is not installed at all; chapter
    # 3's network section, the one place it needs torch, imports experiments.random_features_network in its cell).
    numpy_half = ["ddd_utils.linear.features", "ddd_utils.linear.solvers", "ddd_utils.linear.theory",
                  "ddd_utils.linear.random_features", "ddd_utils.linear.prefix_fits", "ddd_utils.analysis.curves",
                  "ddd_utils.analysis.sweep_curves", "ddd_utils.analysis.pattern_speeds",
                  "ddd_utils.analysis.bias_variance",
                  "ddd_utils.experiments.polynomial", "ddd_utils.experiments.linear_regression",
                  "ddd_utils.experiments.diabetes_regression",
                  "ddd_utils.notebook.presets", "ddd_utils.notebook.plots", "ddd_utils.notebook.claims",
                  "ddd_utils.experiments.random_features", "ddd_utils.experiments.trees", "ddd_utils.data.digit_splits",
                  "ddd_utils.notebook.explorers.polynomial", "ddd_utils.notebook.explorers.linear",
                  "ddd_utils.notebook.explorers.random_features"]
    code = (f"import importlib, sys\nfor name in {numpy_half!r}:\n    importlib.import_module(name)\n"
            "from ddd_utils.notebook.presets import choose_preset\nchoose_preset('auto')\n"
            "print(sorted(name for name in sys.modules if name.split('.')[0] == 'torch'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def unhinted(path) -> list[str]:
    """The public functions and methods of `path` (module level, or in a public class) that leave a parameter or
    their return type without a hint (`__init__` returns nothing to hint)."""
    tree = ast.parse(path.read_text())
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    for cls in (node for node in tree.body if isinstance(node, ast.ClassDef) and not node.name.startswith("_")):
        functions += [node for node in cls.body if isinstance(node, ast.FunctionDef)]
    found = []
    for function in functions:
        if function.name.startswith("_") and function.name != "__init__":
            continue
        arguments = function.args.posonlyargs + function.args.args + function.args.kwonlyargs
        arguments += [extra for extra in (function.args.vararg, function.args.kwarg) if extra is not None]
        missing = [a.arg for a in arguments if a.annotation is None and a.arg not in ("self", "cls")]
        if function.returns is None and function.name != "__init__":
            missing.append("return")
        if missing:
            found.append(f"{path.relative_to(ROOT)}:{function.lineno} {function.name}: {', '.join(missing)}")
    return found


def test_every_public_function_hints_its_parameters_and_return():
    assert not [entry for path in sorted(PACKAGE.rglob("*.py")) for entry in unhinted(path)]
