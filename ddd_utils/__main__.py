"""Command line: `python -m ddd_utils list` (experiments, presets and the chapters' page times),
`python -m ddd_utils run <experiment> --preset ... --out DIR`, and `python -m ddd_utils estimate <experiment>`
(a preset's time on a GPU, estimated from the kernels and FLOPs of its steps counted on the CPU).

A run writes one record per finished run under DIR/records (a restart skips them and resumes the rest from
DIR/checkpoints), notes its own start and seconds under DIR/calls, and, when the sweep is complete, writes
DIR/<experiment>.json with every run and its provenance, and the wall time of every call that worked on it.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

from ddd_utils.engine.call_log import read_calls, timed_call, total_seconds
from ddd_utils.engine.gpu_estimate import GPUS, expected_time
from ddd_utils.engine.provenance import device_name, provenance
from ddd_utils.engine.sweep import EXECUTORS, JobResources, run_sweep
from ddd_utils.experiments import grokking, mnist1d_cnn, mnist1d_sweep, translation_sweep, vision_sweep
from ddd_utils.notebook.chapter_times import chapter_lines
from ddd_utils.notebook.presets import PRESETS, resolve_preset

# Experiments that run as sweeps of independent trainings: name -> module with PRESETS, PRESET_TIMES, run_configs()
# and run().
SWEEPS = {"mnist1d_sweep": mnist1d_sweep, "mnist1d_cnn": mnist1d_cnn, "vision_sweep": vision_sweep,
          "translation_sweep": translation_sweep, "grokking": grokking}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ddd_utils", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the experiments and their presets")
    estimate = commands.add_parser("estimate", help="estimate a preset's time on a GPU (counted on the CPU)")
    estimate.add_argument("experiment", choices=sorted(SWEEPS))
    estimate.add_argument("--preset", default="full", choices=PRESETS)
    estimate.add_argument("--gpu", default="h200", choices=sorted(GPUS), help="whose costs to assume")
    run = commands.add_parser("run", help="run (or resume) an experiment's sweep")
    run.add_argument("experiment", choices=sorted(SWEEPS))
    run.add_argument("--preset", default="auto", choices=(*PRESETS, "auto"))
    run.add_argument("--out", required=True, type=Path, help="folder for records, checkpoints and the result")
    run.add_argument("--executor", default="inprocess", choices=EXECUTORS)
    run.add_argument("--workers", type=int, default=2, help="processes for --executor process")
    run.add_argument("--cluster", default=None, help="submitit cluster ('local', 'slurm'); default: auto")
    run.add_argument("--runs-per-job", type=int, default=None,
                     help="runs trained together in one job (default: all in-process, else split over --workers)")
    cluster = run.add_argument_group("what each submitit job asks for")
    defaults = JobResources()
    cluster.add_argument("--gpus-per-job", type=int, default=defaults.gpus, help="0 on a CPU-only cluster")
    cluster.add_argument("--cpus-per-job", type=int, default=defaults.cpus)
    cluster.add_argument("--mem-gb", type=int, default=defaults.mem_gb)
    cluster.add_argument("--timeout-min", type=int, default=defaults.timeout_min,
                         help="wall-time limit of a job; run the same command again to resume what a limit stopped")
    cluster.add_argument("--partition", default=defaults.partition, help="SLURM partition (default: the cluster's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "list":
        for name, module in SWEEPS.items():
            print(f"{name}: {module.__doc__.strip().splitlines()[0]}")
            for preset, config in module.PRESETS.items():
                print(f"  --preset {preset}: {len(module.run_configs(config))} runs; {module.PRESET_TIMES[preset]}")
        print("chapter pages (papermill on 2 CPU cores, one at a time; ddd_utils/notebook/chapter_times.py):")
        print("\n".join(chapter_lines()))
        return 0
    module = SWEEPS[args.experiment]
    if args.command == "estimate":
        costs = GPUS[args.gpu]
        estimate = module.gpu_estimate(module.PRESETS[args.preset], costs)
        print(f"{args.experiment} --preset {args.preset}: about {estimate.seconds / 60:.1f} min on {costs.name} "
              f"(estimated, unmeasured); basis: {costs.basis}")
        print("\n".join(f"  {part}" for part in estimate.basis.split("; ")))
        return 0
    preset = resolve_preset(args.preset, uses_gpu=True)
    config = module.PRESETS[preset]
    print(expected_time(module, preset, config), flush=True)  # before a long run starts, as the chapters do
    command = shlex.join(["python", "-m", "ddd_utils", *(sys.argv[1:] if argv is None else argv)])
    resources = JobResources(gpus=args.gpus_per_job, cpus=args.cpus_per_job, mem_gb=args.mem_gb,
                             timeout_min=args.timeout_min, partition=args.partition)
    # The device this process sees (the submitting machine's, for submitit: each run records where it trained).
    call = {"command": command, "preset": preset, "executor": args.executor, "device": device_name()}
    with timed_call(args.out, call):
        runs = run_sweep(module.run, module.run_configs(config), args.out, executor=args.executor,
                         workers=args.workers, cluster=args.cluster, runs_per_job=args.runs_per_job,
                         resources=resources)
    # The top-level provenance is this process's (the one that assembled the result); every run carries the
    # provenance of the process that trained it, and "trained_on" lists their devices. "wall_seconds" counts every
    # call on this folder, an earlier one killed before the sweep was complete included.
    calls = read_calls(args.out)
    result = {"experiment": args.experiment, **provenance(command, preset), "wall_seconds": total_seconds(calls),
              "calls": calls, "config": asdict(config),
              "trained_on": sorted({run["provenance"]["device"] for run in runs}), "runs": runs}
    path = args.out / f"{args.experiment}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"{len(runs)} runs recorded in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
