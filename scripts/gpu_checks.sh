#!/usr/bin/env bash
# Every GPU check of the deep engine in one command, for a machine with a CUDA GPU: the GPU tests, the ResNet18-k and
# CNN5 benchmarks, the MNIST-1D `full` preset through the command line, and chapter 5's sweep on its offline `cpu`
# preset (its `full` preset needs CIFAR-10, which a machine without a network cannot download), and chapter 6's
# Transformer sweep on its offline `cpu` preset (likewise: `full` needs IWSLT'14), and chapter 7's grokking sweep on
# its `full` preset (generated data: the published modulus and horizon). Each step runs under its own timeout
# (seconds below) and logs to $OUT/<step>.log (default ./gpu-logs); a step that fails does not stop the others.
#   bash scripts/gpu_checks.sh [step ...]  # steps: tests resnet18 cnn5 stacking mnist1d_full vision_cpu
#                                          #   translation_cpu grokking_full (default: all)
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-logs}"
mkdir -p "$out"
python="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
runs="${DDD_GPU_RUNS:-/tmp/ddd-gpu-runs}"

step() {  # step NAME SECONDS COMMAND...
  local name=$1 seconds=$2
  shift 2
  echo "== $name (at most $seconds s)"
  local start=$SECONDS
  timeout "$seconds" "$@" > "$out/$name.log" 2>&1
  local status=$?
  tail -n 25 "$out/$name.log"
  echo "== $name: exit $status after $((SECONDS - start)) s"
}

run_step() {
  case "$1" in
    tests) step tests 150 "$python" -m pytest tests/test_gpu.py --noconftest -q -p no:cacheprovider -rs ;;
    resnet18) step resnet18 200 "$python" benchmarks/resnet18_sweep.py --widths 1 16 64 ;;
    cnn5) step cnn5 120 "$python" benchmarks/cnn5_sweep.py ;;
    stacking) step stacking 120 "$python" benchmarks/cnn5_sweep.py --stacking --widths 4 16 64 --images 5000 ;;
    mnist1d_full)
      rm -rf "$runs/mnist1d_full"
      step mnist1d_full 360 "$python" -m ddd_utils run mnist1d_sweep --preset full --out "$runs/mnist1d_full"
      "$python" - "$runs/mnist1d_full" <<'EOF' 2>&1 | tee -a "$out/mnist1d_full.log"
import json, sys
from pathlib import Path
import torch
folder = Path(sys.argv[1])
result = folder / "mnist1d_sweep.json"
if result.exists():
    print("finished: wall_seconds", json.loads(result.read_text())["wall_seconds"])
for checkpoint in sorted(folder.glob("checkpoints/*.pt")):  # unfinished: how far it got
    print(checkpoint.name, "reached epoch", torch.load(checkpoint, map_location="cpu", weights_only=True)["epoch"])
EOF
      ;;
    vision_cpu)
      rm -rf "$runs/vision_cpu"
      step vision_cpu 300 "$python" -m ddd_utils run vision_sweep --preset cpu --out "$runs/vision_cpu"
      ;;
    translation_cpu)
      rm -rf "$runs/translation_cpu"
      step translation_cpu 300 "$python" -m ddd_utils run translation_sweep --preset cpu --out "$runs/translation_cpu"
      ;;
    grokking_full)
      rm -rf "$runs/grokking_full"
      step grokking_full 420 "$python" -m ddd_utils run grokking --preset full --out "$runs/grokking_full"
      ;;
    *) echo "unknown step $1" >&2; return 2 ;;
  esac
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
"$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/gpu.txt"
for name in "${@:-tests resnet18 cnn5 stacking mnist1d_full vision_cpu translation_cpu grokking_full}"; do
  for each in $name; do run_step "$each"; done
done
