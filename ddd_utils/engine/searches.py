"""Documented searches: several settings of one experiment, each a resumable sweep, written together with their
provenance to one file that a chapter reads from `book/results/` (the evidence behind "we tried these")."""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Callable
from pathlib import Path

from ddd_utils.engine.provenance import provenance
from ddd_utils.engine.sweep import RunFunction, run_sweep


def run_search(name: str, run: RunFunction, run_configs: Callable[[object], list[dict]], base: object,
               settings: dict[str, dict], out: str | Path, script: str) -> dict:
    """Each setting (name -> changes to the config `base`) run by `run` as a resumable sweep under out/<setting>,
    and the whole written with its provenance to out/<name>.json. `script` is the command's script, recorded with
    `out` as the command that made the file."""
    found = {}
    for setting, changes in settings.items():
        config = dataclasses.replace(base, **changes)
        records = run_sweep(run, run_configs(config), Path(out) / setting, progress=False)
        found[setting] = {"changes": changes, "config": dataclasses.asdict(config), "runs": records}
    command = shlex.join(["python", script, str(out)])
    result = {"experiment": name, **provenance(command, "search"), "settings": found}
    (Path(out) / f"{name}.json").write_text(json.dumps(result, indent=1))
    return result


def seed_settings(result: dict, name: str) -> list[str]:
    """The settings that add runs to setting `name` of a search file, more seeds or the same seeds at more values
    of its knob: those named '<name>-seed-<k>' (and '<name>-seed-<k>-<what>')."""
    return [other for other in result["settings"] if other.startswith(f"{name}-seed-")]


def with_extra_seeds(result: dict, name: str, knob: str) -> list[dict]:
    """Setting `name`'s runs at the `knob` values its extra-seed settings cover, with those settings' runs: every
    seed at each of those values, ready for `sweep_curves.final_values`."""
    extra = [run for other in seed_settings(result, name) for run in result["settings"][other]["runs"]]
    covered = {run["config"][knob] for run in extra}
    return [run for run in result["settings"][name]["runs"] if run["config"][knob] in covered] + extra
