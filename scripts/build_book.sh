#!/usr/bin/env bash
# Build the book into _build/html: install requirements.txt into .venv, run every chapter, render HTML.
# The preset is DDD_PRESET if set, else full with CUDA and cpu without; extra arguments go to `jupyter-book build`.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
preset=$(python -c 'from ddd_utils.presets import resolve_preset; print(resolve_preset("auto"))')
export DDD_PRESET="$preset"
out="${DDD_BUILD_DIR:-.}"
# The execution cache knows a notebook's source, not the preset it ran with: start over when the preset changes.
if [ -f "$out/_build/.preset" ] && [ "$(cat "$out/_build/.preset")" != "$preset" ]; then
  rm -rf "$out/_build"
fi
# Long training sweeps run here, through the command line (resumable; a finished sweep is only read back), so the
# chapters that show them read finished runs instead of training inside the book build.
runs="${DDD_RUNS_DIR:-$PWD/book/runs}"
python -m ddd_utils run mnist1d_sweep --preset "$preset" --out "$runs/mnist1d_sweep-$preset"
export DDD_RUNS_DIR="$runs"
echo "building the book with preset '$preset' into $out/_build/html"
# --all: re-render every page, so that each page's navigation lists chapters added since the last build (executed
# notebooks still come from the cache).
jupyter-book build . --path-output "$out" --all -W --keep-going "$@"
echo "$preset" > "$out/_build/.preset"
