#!/usr/bin/env bash
# Every GPU check of the deep engine in one run that fits a short GPU lease: scripts/gpu_probe.py (read its docstring).
cd "$(dirname "$0")/.." && exec "${PYTHON:-python3}" scripts/gpu_probe.py --out "${OUT:-gpu-logs}" "$@"
