"""Weight reuse against training from scratch in Greydanus's MNIST-1D setting (chapter 4): the `paper` preset's
widths, seeds and recipe at its label noise, grown width by width (reuse at every width, cross-entropy) and with
Belkin et al.'s protocol (reuse up to n x classes parameters, afresh from small weights beyond, squared loss), and
the control that separates Belkin et al.'s two changes: every width from scratch with the squared loss.

Usage: python scripts/weight_reuse.py OUT [PROTOCOL]   (resumable: finished widths are read back from OUT)
With PROTOCOL ("reuse", "belkin" or "scratch_squared") only that one trains, so they can run side by side; the file
chapter 4 reads from `book/results/`, OUT/weight_reuse.json, is written once all are in OUT.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from pathlib import Path

from ddd_utils.engine.provenance import provenance
from ddd_utils.engine.sweep import run_sweep
from ddd_utils.experiments import mnist1d_sweep

CONFIG = mnist1d_sweep.PRESETS["paper"]
NOISE = max(CONFIG.noises)
PROTOCOLS = ("reuse", "belkin", "scratch_squared")


def protocol_runs(name: str, out: Path) -> tuple[list[dict], dict, float]:
    """The records of one protocol (trained, or read back from `out`), what it changes in CONFIG, and how long it
    trained: a chain's widths train one after another, the widths from scratch together."""
    if name == "reuse":
        runs = mnist1d_sweep.weight_reuse_sweep(CONFIG, NOISE, out / name)
        return runs, {}, chain_seconds(runs)
    squared = dataclasses.replace(CONFIG, loss="squared")
    if name == "scratch_squared":
        runs = run_sweep(mnist1d_sweep.run, mnist1d_sweep.run_configs(dataclasses.replace(squared, noises=(NOISE,))),
                         out / name, progress=False)
        return runs, {"loss": "squared"}, max(run["history"]["seconds"][-1] for run in runs)
    threshold = mnist1d_sweep.belkin_threshold_width(squared)
    runs = mnist1d_sweep.weight_reuse_sweep(squared, NOISE, out / name, reuse_up_to=threshold)
    return runs, {"loss": "squared", "reuse_up_to": threshold}, chain_seconds(runs)


def chain_seconds(runs: list[dict]) -> float:
    """A chain's training time: its widths train one after another, the seeds of a width together."""
    by_width: dict[int, float] = {}
    for run in runs:
        width = run["config"]["width"]
        by_width[width] = max(by_width.get(width, 0.0), run["history"]["seconds"][-1])
    return round(sum(by_width.values()), 1)


def main(out: str, only: str | None = None) -> None:
    if only is not None and only not in PROTOCOLS:
        raise ValueError(f"PROTOCOL must be one of {PROTOCOLS}; got {only!r}")
    protocols = {}
    for name in (only,) if only else PROTOCOLS:
        runs, changes, seconds = protocol_runs(name, Path(out))
        protocols[name] = {"changes": changes, "training_seconds": round(seconds, 1), "runs": runs}
        print(f"{name}: {len(runs)} runs", flush=True)
    if only is not None:
        return
    command = shlex.join(["python", "scripts/weight_reuse.py", out])
    result = {"experiment": "weight_reuse", **provenance(command, "paper"), "config": dataclasses.asdict(CONFIG),
              "noise": NOISE, "protocols": protocols}
    (Path(out) / "weight_reuse.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:3])
