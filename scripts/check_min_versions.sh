#!/usr/bin/env bash
# The lowest versions pyproject.toml declares for the numpy half of ddd_utils, in use: a scratch virtualenv with
# exactly .ci/min-versions.txt (no torch, no mnist1d) runs chapters 1, 2 and 3 on the smoke preset. Chapter 3's one
# torch section (its cells tagged needs-torch: a network trained by autograd) is left out there and runs in the
# full environment. About 2.5 minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$python" -m venv "$scratch/venv"
install=("$scratch/venv/bin/python" -m pip install --quiet --disable-pip-version-check)
"${install[@]}" -r .ci/min-versions.txt papermill ipykernel
mkdir "$scratch/src" && cp -r pyproject.toml README.md ddd_utils "$scratch/src"  # built there, not in this tree
"${install[@]}" --no-deps "$scratch/src"  # ddd_utils itself, without torch and mnist1d
# Every pin in force (pip may not have resolved to another version), and torch absent:
"$scratch/venv/bin/python" - .ci/min-versions.txt <<'CHECK'
import importlib.metadata, importlib.util, sys
pins = [line.split("==") for line in open(sys.argv[1]) if "==" in line and not line.startswith("#")]
for name, version in pins:
    found = importlib.metadata.version(name)
    assert found == version.strip(), f"{name}: installed {found}, pinned {version.strip()}"
    print(f"{name} {found}")
assert importlib.util.find_spec("torch") is None, "torch is installed: chapters 1-3 must run without it"
CHECK
for chapter in 01_polynomial_regression 02_linear_regression 03_random_features; do
  # Every cell but those tagged needs-torch (chapters 1 and 2 have none).
  "$scratch/venv/bin/python" - "book/$chapter.ipynb" "$scratch/$chapter-in.ipynb" <<'STRIP'
import sys, nbformat
notebook = nbformat.read(sys.argv[1], as_version=4)
kept = [cell for cell in notebook.cells if "needs-torch" not in cell.metadata.get("tags", [])]
print(f"{sys.argv[1]}: {len(notebook.cells) - len(kept)} cells tagged needs-torch left out")
notebook.cells = kept
nbformat.write(notebook, sys.argv[2])
STRIP
  DDD_RUNS_DIR="$scratch/runs" "$scratch/venv/bin/papermill" --log-level WARNING --no-progress-bar \
    "$scratch/$chapter-in.ipynb" "$scratch/$chapter.ipynb" -p PRESET smoke -k python3 --cwd book
  echo "chapter $chapter ran on smoke with the minimum versions"
done
