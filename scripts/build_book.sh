#!/usr/bin/env bash
# Build the book into _build/html: install requirements.txt into .venv, run every chapter, render HTML.
# Each chapter resolves PRESET = "auto" itself (DDD_PRESET if set; else `full` only for the GPU chapters on a large
# GPU, `cpu` everywhere else: see ddd_utils/notebook/presets.py); extra arguments go to `jupyter-book build`.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
resolve='import sys; from ddd_utils.notebook.presets import resolve_preset; print(resolve_preset("auto", sys.argv[1] == "gpu"))'
cpu_preset=$(python -c "$resolve" cpu)
gpu_preset=$(python -c "$resolve" gpu)
presets="$cpu_preset/$gpu_preset"  # what the CPU chapters and the GPU chapters run
out="${DDD_BUILD_DIR:-.}"
# The execution cache knows a notebook's source, not the preset it ran with: start over when the presets change.
if [ -f "$out/_build/.preset" ] && [ "$(cat "$out/_build/.preset")" != "$presets" ]; then
  rm -rf "$out/_build"
fi
# Long training sweeps run here, through the command line (resumable; a finished sweep is only read back), so the
# chapters that show them read finished runs instead of training inside the book build.
runs="${DDD_RUNS_DIR:-$PWD/book/runs}"
python -m ddd_utils run mnist1d_sweep --preset "$gpu_preset" --out "$runs/mnist1d_sweep-$gpu_preset"
# Chapter 5's CNNs: two processes of one thread each, each training half of the runs.
python -m ddd_utils run mnist1d_cnn --preset "$gpu_preset" --out "$runs/mnist1d_cnn-$gpu_preset" \
  --executor process --workers 2
# Chapter 6's Transformers are trained one at a time, not stacked: two processes of one thread each use two cores.
python -m ddd_utils run translation_sweep --preset "$gpu_preset" --out "$runs/translation_sweep-$gpu_preset" \
  --executor process --workers 2
# Chapter 7's grokking sweep: its AdamW steps of one weight decay stack, so two processes split the runs.
python -m ddd_utils run grokking --preset "$gpu_preset" --out "$runs/grokking-$gpu_preset" --executor process \
  --workers 2
export DDD_RUNS_DIR="$runs"
echo "building the book with presets '$presets' (CPU chapters/GPU chapters) into $out/_build/html"
# --all: re-render every page, so that each page's navigation lists chapters added since the last build (executed
# notebooks still come from the cache).
jupyter-book build . --path-output "$out" --all -W --keep-going "$@"
echo "$presets" > "$out/_build/.preset"
