"""scripts/gpu_probe.py in tiny mode, as CI runs it: every step runs (or says why not) in seconds on whatever device
is there, exactly two files come out, and a deadline too short for the steps skips them instead of overrunning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ["environment", "capture", "graphed_vs_eager", "resume", "timings", "gpu_tests"]


def run_probe(out: Path, *options: str) -> dict:
    """Run the tiny probe into `out` (at most 90 s, the whole of its budget in CI); return its report."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_probe.py"), "--tiny", "--out", str(out),
                           *options], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(path.name for path in out.iterdir()) == ["gpu_probe.json", "gpu_probe.log"]
    return json.loads((out / "gpu_probe.json").read_text())


def test_the_tiny_probe_runs_every_step_and_writes_one_report_and_one_log(tmp_path):
    report = run_probe(tmp_path)
    statuses = {name: step["status"] for name, step in report["steps"].items()}
    assert list(statuses) == STEPS
    assert all(statuses[name] == "pass" for name in STEPS[:-1]), statuses
    assert statuses["gpu_tests"] == "pass" or statuses["gpu_tests"].startswith("skipped: mnist1d"), statuses
    timings = report["steps"]["timings"]["result"]
    assert all(timings[name]["result"]["projected_s"] >= 0 for name in timings["checks"]), timings
    if report["steps"]["environment"]["result"]["device"].startswith("cpu"):
        checks = report["steps"]["capture"]["result"]["checks"]
        assert set(checks.values()) == {"skipped: no CUDA"}, checks  # GPU-only: neither passed nor failed here
    log = (tmp_path / "gpu_probe.log").read_text()
    assert all(f"== {name}: " in log for name in STEPS)


def test_a_deadline_too_short_for_the_steps_skips_them_and_still_writes_the_report(tmp_path):
    report = run_probe(tmp_path, "--deadline-s", "1")
    statuses = [step["status"] for step in report["steps"].values()]
    assert len(statuses) == len(STEPS) and all("before the deadline" in status for status in statuses[1:]), statuses
