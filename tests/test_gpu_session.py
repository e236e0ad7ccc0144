"""scripts/gpu_session.sh, the one command of a call on a lent GPU machine, here on the CPU with the smoke preset:
what comes back fits that machine's limits (at most 8 files of at most 16 MiB), the finished run carries the
commit the copy was packed from, and a run returned by one call resumes in the next instead of starting over."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "mnist1d_sweep-smoke"


def call(tmp: Path, gpu: Path, out: Path, session_s: int = 300) -> str:
    """One call of the session script, its probe skipped (tests/test_gpu_probe.py runs it); return its log."""
    env = {**os.environ, "OUT": str(out), "DDD_GPU_DIR": str(gpu), "DDD_SESSION_RUNS": str(tmp / "runs"),
           "PYTHON": sys.executable, "DDD_SESSION_RUN": "mnist1d_sweep smoke", "DDD_PROBE_S": "0",
           "DDD_SESSION_S": str(session_s)}
    done = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_session.sh")], env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert len(list(out.iterdir())) <= 8 and all(path.stat().st_size <= 16 * 2**20 for path in out.iterdir())
    return (out / "gpu_session.log").read_text()


def unpack(out: Path) -> dict[str, bytes]:
    """The files of the run's folder in the returned parts, by their path inside it."""
    parts = b"".join(path.read_bytes() for path in sorted(out.glob(f"{NAME}.tgz.*")))
    with tarfile.open(fileobj=io.BytesIO(parts), mode="r:gz") as archive:
        return {member.name: archive.extractfile(member).read() for member in archive.getmembers() if member.isfile()}


def test_a_call_returns_the_run_and_a_later_call_resumes_what_it_returned(tmp_path):
    gpu = tmp_path / "gpu"
    gpu.mkdir()
    (gpu / "source_commit").write_text("abc1234\n")
    first = call(tmp_path, gpu, tmp_path / "out1")
    assert f"{NAME} finished" in first and "source abc1234" in first
    assert sorted(path.name for path in (tmp_path / "out1").iterdir()) == [
        "gpu_session.log", f"{NAME}.json", f"{NAME}.tgz.00"]
    result = json.loads((tmp_path / "out1" / f"{NAME}.json").read_text())
    assert len(result["runs"]) == 2 and result["preset"] == "smoke"
    assert result["command"].endswith(f"--out {tmp_path / 'runs' / NAME}")
    files = unpack(tmp_path / "out1")
    records = sorted(name for name in files if "/records/" in name)
    assert len(records) == 2 and f"{NAME}/mnist1d_sweep.json" in files

    # Hand back a run with one record missing, as if the call had stopped before that run finished.
    kept, lost = records
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            if name not in (lost, f"{NAME}/mnist1d_sweep.json"):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    whole = buffer.getvalue()
    (gpu / f"{NAME}.tgz.00").write_bytes(whole[: len(whole) // 2])  # in two parts, as a large run comes back
    (gpu / f"{NAME}.tgz.01").write_bytes(whole[len(whole) // 2:])
    second = call(tmp_path, gpu, tmp_path / "out2")
    assert "resuming the run an earlier call returned (1 runs finished)" in second and f"{NAME} finished" in second
    again = unpack(tmp_path / "out2")
    assert again[kept] == files[kept], "a finished run is not trained again"
    assert lost in again and len(json.loads(again[f"{NAME}/mnist1d_sweep.json"])["runs"]) == 2
    resumed = json.loads((tmp_path / "out2" / f"{NAME}.json").read_text())
    assert [call["finished"] for call in resumed["calls"]] == [True, True], "the returned call's time is counted"
    assert resumed["wall_seconds"] == round(sum(call["seconds"] for call in resumed["calls"]), 1)


def test_a_call_with_no_time_left_trains_nothing_and_says_so(tmp_path):
    log = call(tmp_path, tmp_path / "gpu", tmp_path / "out", session_s=10)
    assert f"no time left for {NAME}" in log
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["gpu_session.log"]
