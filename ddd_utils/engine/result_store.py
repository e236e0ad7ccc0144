"""A sweep's results on disk: one record per finished run, written atomically and keyed by its config, with a
checksum, so that a damaged record is never used; and the job files that let an unfinished job be formed again."""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from pathlib import Path

from ddd_utils.files import write_atomically


def run_key(config: dict) -> str:
    """A short stable name for a run: the hash of its config (JSON, sorted keys)."""
    return hashlib.sha256(_canonical(config).encode()).hexdigest()[:20]


def _canonical(value) -> str:
    """JSON with sorted keys and no spaces: the same text for equal configs, whatever their key order."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class ResultStore:
    """One folder: records/<run key>.json for finished runs; for unfinished jobs, checkpoints/<job key>.pt and
    checkpoints/<job key>.json (the job's run keys, so a restart forms the same job again)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.records = self.root / "records"
        self.checkpoints = self.root / "checkpoints"

    def checkpoint_path(self, job: list[dict]) -> Path:
        """Where the job made of these runs keeps its checkpoint."""
        return self._checkpoint_of([run_key(config) for config in job])

    def _checkpoint_of(self, keys: list[str]) -> Path:
        return self.checkpoints / f"{run_key(keys)}.pt"

    def start_job(self, job: list[dict]) -> Path:
        """Note the job's runs next to its checkpoint (atomically) and return the checkpoint path."""
        checkpoint = self.checkpoint_path(job)
        write_atomically(checkpoint.with_suffix(".json"),
                         lambda file: json.dump({"runs": [run_key(config) for config in job]}, file))
        return checkpoint

    def finish_job(self, keys: list[str]) -> None:
        """Forget a job (given by its run keys) whose records are all written: its checkpoint, the checkpoints of
        its parts (`<checkpoint stem>-<part>.pt`, for run functions that train a job in several groups) and its
        job file."""
        checkpoint = self._checkpoint_of(keys)
        checkpoint.unlink(missing_ok=True)
        for part in checkpoint.parent.glob(f"{checkpoint.stem}-*.pt"):
            part.unlink(missing_ok=True)
        checkpoint.with_suffix(".json").unlink(missing_ok=True)

    def unfinished_jobs(self) -> list[list[str]]:
        """The run keys of every job that was started and not finished, oldest first."""
        jobs = []
        for job_file in sorted(self.checkpoints.glob("*.json"), key=lambda path: path.stat().st_mtime):
            try:
                jobs.append(list(json.loads(job_file.read_text())["runs"]))
            except (ValueError, KeyError, TypeError):
                warnings.warn(f"ignoring damaged job file {job_file}", stacklevel=2)
        return jobs

    def write(self, config: dict, history: dict, provenance: dict | None = None) -> Path:
        """Write a run's record atomically (temporary file, fsync, rename) with a checksum of its content, and with
        the provenance of the process that trained it (device, host, versions, commit, date)."""
        payload = {"config": config, "history": history, "provenance": provenance}
        record = {**payload, "key": run_key(config), "sha256": _checksum(payload)}
        path = self.records / f"{record['key']}.json"
        write_atomically(path, lambda file: json.dump(record, file))
        return path

    def read_key(self, key: str) -> dict | None:
        """The intact record with this run key, or None; never moves anything."""
        path = self.records / f"{key}.json"
        return _valid_record(path) if path.exists() else None

    def read(self, config: dict) -> dict | None:
        """The run's record if it exists and is intact; a damaged one is moved aside (with a warning) and None."""
        path = self.records / f"{run_key(config)}.json"
        if not path.exists():
            return None
        record = _valid_record(path)
        if record is None or _canonical(record["config"]) != _canonical(config):
            aside = path.with_name(f"{path.name}.corrupt-{time.time_ns()}")
            os.replace(path, aside)
            warnings.warn(f"record {path} is damaged or does not match its run; moved to {aside.name}, rerunning",
                          stacklevel=2)
            return None
        return record


def _checksum(payload: dict) -> str:
    """The SHA-256 of a record's payload (config, history, provenance), stored beside it."""
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def _valid_record(path: Path) -> dict | None:
    """The record in `path` if it parses, its checksum holds and its key matches its file name; else None."""
    try:
        record = json.loads(path.read_text())
        payload = {"config": record["config"], "history": record["history"], "provenance": record["provenance"]}
    except (ValueError, KeyError, TypeError):
        return None
    if record.get("sha256") != _checksum(payload) or record.get("key") != path.stem:
        return None
    return record


def load_results(path: str | Path) -> list[dict]:
    """Every intact record under a sweep folder, as dicts with "config", "history" and "provenance", in a stable
    order."""
    records = ResultStore(path).records
    results = []
    for file in sorted(records.glob("*.json")):
        record = _valid_record(file)
        if record is None:
            warnings.warn(f"skipping damaged record {file}", stacklevel=2)
            continue
        results.append(public_fields(record))
    return results


def public_fields(record: dict) -> dict:
    """What a sweep returns of a record: its config, history and provenance."""
    return {name: record[name] for name in ("config", "history", "provenance")}
