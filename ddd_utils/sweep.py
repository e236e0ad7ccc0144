"""Resumable sweeps: a grid of runs, each finished run written atomically as its own record keyed by its config.

A restarted sweep skips runs whose record is valid and resumes the others from their checkpoints, so a killed
process loses at most the work since its last checkpoint. A record that fails its checksum (a crash while an old
version wrote it, a disk error, a hand edit) is moved aside and its run is done again, never silently used.
Executors: "inprocess" (default), "process" (a local process pool) and "submitit" (SLURM clusters, or its local
mode on one machine).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

EXECUTORS = ("inprocess", "process", "submitit")

RunFunction = Callable[[dict, Path], dict]  # (run config, checkpoint path) -> history


def run_key(config: dict) -> str:
    """A short stable name for a run: the hash of its config (JSON, sorted keys)."""
    return hashlib.sha256(_canonical(config).encode()).hexdigest()[:20]


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class ResultStore:
    """One folder: records/<key>.json for finished runs, checkpoints/<key>.pt for unfinished ones."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.records = self.root / "records"
        self.checkpoints = self.root / "checkpoints"

    def checkpoint_path(self, config: dict) -> Path:
        return self.checkpoints / f"{run_key(config)}.pt"

    def write(self, config: dict, history: dict) -> Path:
        """Write a run's record atomically (temporary file, fsync, rename) with a checksum of its content."""
        payload = {"config": config, "history": history}
        record = {**payload, "key": run_key(config), "sha256": hashlib.sha256(_canonical(payload).encode()).hexdigest()}
        self.records.mkdir(parents=True, exist_ok=True)
        path = self.records / f"{record['key']}.json"
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with open(temporary, "w") as file:
            json.dump(record, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        return path

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


def _valid_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
        payload = {"config": record["config"], "history": record["history"]}
    except (ValueError, KeyError, TypeError):
        return None
    if record.get("sha256") != hashlib.sha256(_canonical(payload).encode()).hexdigest():
        return None
    if record.get("key") != path.stem:
        return None
    return record


def load_results(path: str | Path) -> list[dict]:
    """Every intact record under a sweep folder, as dicts with "config" and "history", in a stable order."""
    records = ResultStore(path).records
    results = []
    for file in sorted(records.glob("*.json")):
        record = _valid_record(file)
        if record is None:
            warnings.warn(f"skipping damaged record {file}", stacklevel=2)
            continue
        results.append({"config": record["config"], "history": record["history"]})
    return results


def _run_one(run: RunFunction, config: dict, root: str) -> dict:
    """Run (or resume) one config and record it; runs in whichever process the executor chose."""
    store = ResultStore(root)
    store.checkpoints.mkdir(parents=True, exist_ok=True)
    checkpoint = store.checkpoint_path(config)
    history = run(config, checkpoint)
    store.write(config, history)
    checkpoint.unlink(missing_ok=True)
    return {"config": config, "history": history}


def run_sweep(run: RunFunction, configs: list[dict], out: str | Path, executor: str = "inprocess",
              workers: int = 2, progress: bool = True, cluster: str | None = None) -> list[dict]:
    """Run every config not yet recorded under `out` and return all records of this sweep, in config order.

    `run(config, checkpoint_path)` must be a module-level function (executors other than "inprocess" pickle it)
    that resumes from `checkpoint_path` when it exists. `cluster` goes to submitit ("local" runs jobs as local
    processes; None lets submitit pick SLURM when it is available).
    """
    from tqdm.auto import tqdm

    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}; got {executor!r}")
    store = ResultStore(out)
    keys = [run_key(config) for config in configs]
    if len(set(keys)) != len(keys):
        raise ValueError("configs must be distinct: two runs of this sweep have the same config")
    todo = [config for config in configs if store.read(config) is None]
    bar = tqdm(total=len(configs), initial=len(configs) - len(todo), disable=not progress, desc="runs")
    if executor == "inprocess":
        for config in todo:
            _run_one(run, config, str(store.root))
            bar.update()
    elif executor == "process":
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            for future in [pool.submit(_run_one, run, config, str(store.root)) for config in todo]:
                future.result()
                bar.update()
    else:
        import submitit

        jobs_folder = store.root / "submitit"
        pool = submitit.AutoExecutor(folder=jobs_folder, cluster=cluster)
        pool.update_parameters(timeout_min=24 * 60)
        jobs = [pool.submit(_run_one, run, config, str(store.root)) for config in todo]
        for job in jobs:
            job.result()
            bar.update()
    bar.close()
    return [{"config": record["config"], "history": record["history"]} for record in map(store.read, configs)]
