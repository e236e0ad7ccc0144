"""Resumable sweeps: a grid of runs, each finished run written atomically as its own record keyed by its config.

Runs are done in jobs: a job is a list of runs trained together (small networks train many at once much faster than
one by one; see `ddd_utils.train.train_many`) with one checkpoint. A restarted sweep skips runs whose record is
valid, and rebuilds every unfinished job from the run list stored next to its checkpoint, so it resumes where it
stopped: a killed process loses at most the work since its job's last checkpoint. A record that fails its checksum
(a crash while an old version wrote it, a disk error, a hand edit) is moved aside and its run is done again, never
silently used.
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

from ddd_utils._checks import check_positive_int

EXECUTORS = ("inprocess", "process", "submitit")

RunFunction = Callable[[list[dict], Path], list[dict]]  # (a job's run configs, checkpoint path) -> their histories


def run_key(config: dict) -> str:
    """A short stable name for a run: the hash of its config (JSON, sorted keys)."""
    return hashlib.sha256(_canonical(config).encode()).hexdigest()[:20]


def _canonical(value) -> str:
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
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        members = checkpoint.with_suffix(".json")
        temporary = members.with_name(f"{members.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"runs": [run_key(config) for config in job]}))
        os.replace(temporary, members)
        return checkpoint

    def finish_job(self, keys: list[str]) -> None:
        """Forget a job (given by its run keys) whose records are all written."""
        checkpoint = self._checkpoint_of(keys)
        checkpoint.unlink(missing_ok=True)
        checkpoint.with_suffix(".json").unlink(missing_ok=True)

    def unfinished_jobs(self) -> list[list[str]]:
        """The run keys of every job that was started and not finished, oldest first."""
        jobs = []
        for members in sorted(self.checkpoints.glob("*.json"), key=lambda path: path.stat().st_mtime):
            try:
                jobs.append(list(json.loads(members.read_text())["runs"]))
            except (ValueError, KeyError, TypeError):
                warnings.warn(f"ignoring damaged job file {members}", stacklevel=2)
        return jobs

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


def _run_job(run: RunFunction, job: list[dict], root: str) -> list[dict]:
    """Run (or resume) one job and record each of its runs; runs in whichever process the executor chose."""
    store = ResultStore(root)
    histories = run(job, store.start_job(job))
    if len(histories) != len(job):
        raise RuntimeError(f"the run function returned {len(histories)} histories for a job of {len(job)} runs")
    for config, history in zip(job, histories, strict=True):
        store.write(config, history)
    store.finish_job([run_key(config) for config in job])
    return [{"config": config, "history": history} for config, history in zip(job, histories, strict=True)]


def plan_jobs(store: ResultStore, todo: list[dict], runs_per_job: int) -> list[list[dict]]:
    """Unfinished jobs from an earlier start first (exactly as they were, so they resume), then the remaining runs
    in chunks of `runs_per_job`, in config order."""
    check_positive_int("runs_per_job", runs_per_job)
    remaining = {run_key(config): config for config in todo}
    jobs = []
    for keys in store.unfinished_jobs():
        if keys and all(key in remaining for key in keys):
            jobs.append([remaining.pop(key) for key in keys])
        elif all(store.read_key(key) is not None for key in keys):  # recorded, but killed before it cleaned up
            store.finish_job(keys)
    rest = list(remaining.values())
    return jobs + [rest[i:i + runs_per_job] for i in range(0, len(rest), runs_per_job)]


def run_sweep(run: RunFunction, configs: list[dict], out: str | Path, executor: str = "inprocess",
              workers: int = 2, progress: bool = True, cluster: str | None = None,
              runs_per_job: int | None = None) -> list[dict]:
    """Run every config not yet recorded under `out` and return all records of this sweep, in config order.

    `run(job_configs, checkpoint_path)` trains a job's runs (together or one by one) and returns their histories;
    it must be a module-level function (executors other than "inprocess" pickle it) that resumes from
    `checkpoint_path` when it exists. `runs_per_job` defaults to all runs in one job in-process, and to an even
    split over `workers` jobs otherwise. `cluster` goes to submitit ("local" runs jobs as local processes; None lets
    submitit pick SLURM when it is available).
    """
    from tqdm.auto import tqdm

    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}; got {executor!r}")
    workers = check_positive_int("workers", workers)
    store = ResultStore(out)
    keys = [run_key(config) for config in configs]
    if len(set(keys)) != len(keys):
        raise ValueError("configs must be distinct: two runs of this sweep have the same config")
    todo = [config for config in configs if store.read(config) is None]
    if runs_per_job is None:
        runs_per_job = max(1, len(todo) if executor == "inprocess" else -(-len(todo) // workers))
    jobs = plan_jobs(store, todo, runs_per_job)
    bar = tqdm(total=len(configs), initial=len(configs) - len(todo), disable=not progress, desc="runs")
    if executor == "inprocess":
        for job in jobs:
            _run_job(run, job, str(store.root))
            bar.update(len(job))
    elif executor == "process":
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            for job, future in [(job, pool.submit(_run_job, run, job, str(store.root))) for job in jobs]:
                future.result()
                bar.update(len(job))
    else:
        import submitit

        jobs_folder = store.root / "submitit"
        pool = submitit.AutoExecutor(folder=jobs_folder, cluster=cluster)
        pool.update_parameters(timeout_min=24 * 60)
        for job, handle in [(job, pool.submit(_run_job, run, job, str(store.root))) for job in jobs]:
            handle.result()
            bar.update(len(job))
    bar.close()
    return [{"config": record["config"], "history": record["history"]} for record in map(store.read, configs)]
