"""Benchmark: each chapter's heaviest computation on a quiet machine and with busy processes competing for the cores.

For every chapter it prints the median seconds quiet and busy and the slowdown (busy / quiet), twice: with
ddd_utils's thread policy (`ddd_utils.blas`: one BLAS and torch thread for small problems, every core but one for
CPU training) and, as the named baseline, with every library at its default thread count (what the package did
before the policy). The goal is no slowdown above 2.5x with one busy process on 2 cores, the situation of a CI
machine or a laptop doing other work.

    .venv/bin/python benchmarks/contention.py [--busy 1] [--repeats 3] [--chapters 1 2 3 4]

Each chapter's cell runs on its `cpu` preset, except chapter 4, whose 500-epoch sweep is cut to `--epochs` (the
per-step cost is what contention changes).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
from dataclasses import replace

from timing import median_time

from ddd_utils import blas
from ddd_utils.experiments import linear_regression, mnist1d_sweep, polynomial, random_features


def chapter_cells(epochs: int) -> dict[str, object]:
    """The heaviest cell of each chapter (the one that computes its main figure), as a function of no arguments."""
    mnist1d = replace(mnist1d_sweep.PRESETS["cpu"], epochs=epochs, eval_count=2, checkpoint_every=0)
    return {
        "1": ("polynomial.sweep, cpu", lambda: polynomial.sweep(polynomial.PRESETS["cpu"])),
        "2": ("linear_regression.samplewise, cpu",
              lambda: linear_regression.samplewise(linear_regression.PRESETS["cpu"])),
        "3": ("random_features.sweep, cpu", lambda: random_features.sweep(random_features.PRESETS["cpu"])),
        "4": (f"mnist1d_sweep.run, cpu grid, {epochs} epochs",
              lambda: mnist1d_sweep.run(mnist1d_sweep.run_configs(mnist1d))),
    }


def spin() -> None:
    while True:
        pass


def timed(cell, repeats: int, busy: int) -> float:
    """Median seconds of `cell()` with `busy` spinning processes running meanwhile."""
    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(busy)]
    for process in spinners:
        process.start()
    try:
        return median_time(cell, repeats)[0]
    finally:
        for process in spinners:
            process.terminate()
            process.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busy", type=int, default=1, help="spinning processes during the busy runs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10, help="epochs of chapter 4's sweep")
    parser.add_argument("--chapters", nargs="*", default=["1", "2", "3", "4"])
    args = parser.parse_args()
    cells = chapter_cells(args.epochs)
    policy = blas.ONE_THREAD_BELOW, blas.SPARE_CORES
    print(f"{os.cpu_count()} cores, {args.busy} busy process(es), median of {args.repeats}")
    print(f"{'chapter':44s} {'threads':8s} {'quiet s':>8s} {'busy s':>8s} {'slowdown':>9s}")
    for chapter in args.chapters:
        name, cell = cells[chapter]
        cell()  # warm-up: imports, data generation caches, torch's first-call costs
        for label, (threshold, spare) in (("policy", policy), ("default", (0, 0))):
            blas.ONE_THREAD_BELOW, blas.SPARE_CORES = threshold, spare  # (0, 0): every library keeps its threads
            quiet = timed(cell, args.repeats, 0)
            busy = timed(cell, args.repeats, args.busy)
            print(f"{chapter + '. ' + name:44s} {label:8s} {quiet:8.2f} {busy:8.2f} {busy / quiet:8.2f}x", flush=True)
        blas.ONE_THREAD_BELOW, blas.SPARE_CORES = policy


if __name__ == "__main__":
    main()
