"""Resumable sweeps: a grid of runs, each finished run written atomically as its own record keyed by its config.

Runs are done in jobs: a job is a list of runs trained together (small networks train many at once much faster than
one by one; see `ddd_utils.engine.training.train_many`) with one checkpoint. A restarted sweep skips runs whose
record is valid, and rebuilds every unfinished job from the run list stored next to its checkpoint, so it resumes
where it stopped: a killed process loses at most the work since its job's last checkpoint. A record that fails its
checksum (a crash while an old version wrote it, a disk error, a hand edit) is moved aside and its run is done again,
never silently used (the records and job files: `result_store`).
Executors: "inprocess" (default), "process" (a local process pool, each worker on its own GPU when there are
several) and "submitit" (SLURM clusters, or its local mode on one machine; each job asks for `JobResources`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from ddd_utils._checks import check_positive_int
from ddd_utils.engine import job_progress
from ddd_utils.engine.result_store import ResultStore, public_fields, run_key

EXECUTORS = ("inprocess", "process", "submitit")

# (a job's run configs, checkpoint path, show a per-epoch progress bar) -> their histories
RunFunction = Callable[[list[dict], Path, bool], list[dict]]


@dataclass(frozen=True)
class JobResources:
    """What each submitit job asks its cluster for. A job that asks for GPUs and sees none fails at once with a
    clear error instead of training on the CPU for days."""

    gpus: int = 1                  # GPUs per job (0 on a CPU-only cluster)
    cpus: int = 8                  # CPU cores per job
    mem_gb: int = 32               # memory per job, in GB
    timeout_min: int = 24 * 60     # wall-time limit per job, in minutes (a resumed job continues where it stopped)
    partition: str | None = None   # SLURM partition; None: the cluster's default

    def __post_init__(self):
        check_positive_int("gpus", self.gpus, minimum=0)
        for name in ("cpus", "mem_gb", "timeout_min"):
            check_positive_int(name, getattr(self, name))

    def submitit_parameters(self) -> dict:
        """The same, in submitit's AutoExecutor names (the partition applies to SLURM only)."""
        parameters = {"gpus_per_node": self.gpus, "cpus_per_task": self.cpus, "mem_gb": self.mem_gb,
                      "timeout_min": self.timeout_min, "tasks_per_node": 1}
        if self.partition:
            parameters["slurm_partition"] = self.partition
        return parameters


def shared_settings(job: list[dict], names: tuple[str, ...]) -> dict:
    """The values of `names` in a job's configs, which every run of the job must share (its runs train together,
    with one recipe); a job whose runs differ in them is refused."""
    shared = {name: job[0][name] for name in names}
    if any({name: config[name] for name in names} != shared for config in job):
        raise ValueError(f"the runs of one job must share {names}")
    return shared


def _run_job(run: RunFunction, job: list[dict], root: str, progress: bool = False, gpus: int = 0) -> None:
    """Run (or resume) one job and record those of its runs that have no record yet (a job re-formed after its
    process died while writing records resumes from its finished checkpoint, so nothing trains again); runs in
    whichever process the executor chose. `gpus`: how many GPUs the job asked its cluster for; asking and seeing
    none is an error."""
    if gpus:
        _check_gpu_visible(gpus)
    from ddd_utils.engine.provenance import environment

    store = ResultStore(root)
    checkpoint = store.start_job(job)
    with job_progress.reported_to(checkpoint.with_suffix(job_progress.SUFFIX)):  # read by a waiting executor
        histories = run(job, checkpoint, progress)
    if len(histories) != len(job):
        raise RuntimeError(f"the run function returned {len(histories)} histories for a job of {len(job)} runs")
    trained_here = environment()
    for config, history in zip(job, histories, strict=True):
        if store.read_key(run_key(config)) is None:
            store.write(config, history, trained_here)
    store.finish_job([run_key(config) for config in job])


def _check_gpu_visible(gpus: int) -> None:
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError(f"this job asked for {gpus} GPU(s) but sees none (CUDA_VISIBLE_DEVICES="
                           f"{os.environ.get('CUDA_VISIBLE_DEVICES')!r}); on a CPU-only cluster pass --gpus-per-job 0")


def _visible_gpus() -> list[str]:
    """The GPUs this process may use, as CUDA_VISIBLE_DEVICES entries (empty without CUDA)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [entry for entry in visible.split(",") if entry.strip()]
    try:
        import torch
    except ImportError:
        return []
    return [str(index) for index in range(torch.cuda.device_count())]


def _claim_gpu(slots, gpus: list[str]) -> None:
    """Process-pool initializer: take the next worker slot and make the slot's GPU this worker's only GPU (workers
    beyond the number of GPUs share them in turn). Runs before the worker touches CUDA."""
    slot = slots.get()
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus[slot % len(gpus)]


def plan_jobs(store: ResultStore, todo: list[dict], runs_per_job: int) -> list[list[dict]]:
    """Unfinished jobs from an earlier start first (exactly as they were, so they resume), then the remaining runs
    in chunks of `runs_per_job`, in config order."""
    check_positive_int("runs_per_job", runs_per_job)
    remaining = {run_key(config): config for config in todo}
    jobs = []
    for keys in store.unfinished_jobs():
        recorded = {key: store.read_key(key) for key in keys if key not in remaining}
        if not keys or any(record is None for record in recorded.values()):
            continue  # a job of another sweep sharing this folder, or of runs since dropped: leave it be
        if len(recorded) == len(keys):  # every run recorded, but killed before it cleaned up
            store.finish_job(keys)
        else:  # formed again exactly as it was, so it resumes from its checkpoint (a finished one: no training)
            jobs.append([remaining.pop(key) if key in remaining else recorded[key]["config"] for key in keys])
    rest = list(remaining.values())
    return jobs + [rest[i:i + runs_per_job] for i in range(0, len(rest), runs_per_job)]


def run_sweep(run: RunFunction, configs: list[dict], out: str | Path, executor: str = "inprocess",
              workers: int = 2, progress: bool = True, cluster: str | None = None,
              runs_per_job: int | None = None, resources: JobResources | None = None) -> list[dict]:
    """Run every config not yet recorded under `out` and return all records of this sweep, in config order.

    `run(job_configs, checkpoint_path, progress)` trains a job's runs (together or one by one) and returns their
    histories; it must be a module-level function (executors other than "inprocess" pickle it) that resumes from
    `checkpoint_path` (or from parts named `<its stem>-<part>.pt`) when it exists, and shows a per-epoch bar when
    `progress` (in-process only). `runs_per_job` defaults to all runs in one job in-process, and to an even split
    over `workers` jobs otherwise. With "process",
    each worker gets one of the visible GPUs (round robin) as its only one. `cluster` goes to submitit ("local" runs
    jobs as local processes; None lets submitit pick SLURM when it is available), and each submitit job asks for
    `resources` (default `JobResources()`: one GPU).
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
    bar = tqdm(total=len(configs), initial=len(configs) - len(todo), disable=not (progress and todo), desc="runs")
    if executor == "inprocess":
        for job in jobs:
            _run_job(run, job, str(store.root), progress)  # with an epoch bar under the runs bar
            bar.update(len(job))
    elif executor == "process":
        context, gpus = get_context("spawn"), _visible_gpus()
        slots = context.Queue()
        for slot in range(workers):
            slots.put(slot)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_claim_gpu if gpus else None,
                                 initargs=(slots, gpus) if gpus else ()) as pool:
            pending = {pool.submit(_run_job, run, job, str(store.root)): job for job in jobs}
            while pending:  # the workers' epochs beside the runs bar, so that a long job never looks hung
                finished, _ = wait(pending, timeout=job_progress.WRITE_EVERY_S, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    bar.update(len(pending.pop(future)))
                bar.set_postfix_str(job_progress.summary(store.checkpoints))
    else:
        import submitit

        resources = resources or JobResources()
        pool = submitit.AutoExecutor(folder=store.root / "submitit", cluster=cluster)
        pool.update_parameters(**resources.submitit_parameters())
        for job, handle in [(job, pool.submit(_run_job, run, job, str(store.root), False, resources.gpus))
                            for job in jobs]:
            handle.result()
            bar.update(len(job))
    bar.close()
    return [public_fields(record) for record in map(store.read, configs)]
