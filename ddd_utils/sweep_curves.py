"""Read a finished width sweep from its records: pick runs by their config, take each width's final errors, find
the interpolation threshold, and lay the evaluated epochs out as a width x epoch table. The width is the config
field `knob` ("width" by default; chapter 6's Transformers use "d_model") and time the history field `time`."""

from __future__ import annotations

import numpy as np


def select(records: list[dict], **fields) -> list[dict]:
    """The records whose config has every given field at the given value, e.g. `select(records, noise=0.2)`."""
    chosen = [r for r in records if all(r["config"].get(name) == value for name, value in fields.items())]
    if not chosen:
        raise ValueError(f"no records with {fields}")
    return chosen


def _by_seed_and_width(records: list[dict], knob: str = "width") -> tuple[list[int], list[int], dict]:
    widths = sorted({r["config"][knob] for r in records})
    seeds = sorted({r["config"]["seed"] for r in records})
    by_key = {(r["config"]["seed"], r["config"][knob]): r["history"] for r in records}
    if len(by_key) != len(records):
        raise ValueError(f"records must hold one run per (seed, {knob}): select one setting of the other fields first")
    missing = [(seed, width) for seed in seeds for width in widths if (seed, width) not in by_key]
    if missing:
        raise ValueError(f"the records miss (seed, {knob}) = {missing[:5]}: the sweep is not finished")
    return widths, seeds, by_key


def final_values(records: list[dict], names: tuple[str, ...], knob: str = "width") -> dict[str, np.ndarray]:
    """The last evaluated value of each history field in `names` for every width of `records` (one setting of
    the other fields): widths (sorted), parameter counts, and one row per seed (shape (seeds, widths))."""
    widths, seeds, by_key = _by_seed_and_width(records, knob)
    values = {"widths": np.array(widths), "num_parameters": np.array([by_key[seeds[0], w]["num_parameters"]
                                                                       for w in widths])}
    for name in names:
        values[name] = np.array([[by_key[seed, w][name][-1] for w in widths] for seed in seeds])
    return values


def final_curves(records: list[dict], noise: float) -> dict[str, np.ndarray]:
    """The last evaluated epoch of every width at one noise level: widths (sorted), parameter counts, and train,
    corrupted-subset and test errors with one row per seed (shape (seeds, widths))."""
    return final_values(select(records, noise=noise), ("train_error", "corrupted_error", "test_error"))


def epoch_table(records: list[dict], name: str = "test_error", knob: str = "width", time: str = "epoch"
                ) -> dict[str, np.ndarray]:
    """`name` at every evaluated epoch (history field `time`) of every width, averaged over seeds: widths (sorted),
    epochs, and a table of shape (widths, epochs). The records must share their evaluated epochs (one setting of
    the other fields)."""
    widths, seeds, by_key = _by_seed_and_width(records, knob)
    epochs = by_key[seeds[0], widths[0]][time]
    if any(history[time] != epochs for history in by_key.values()):
        raise ValueError(f"the records were evaluated at different {time}s: select one recipe first")
    table = np.array([[by_key[seed, w][name] for w in widths] for seed in seeds]).mean(axis=0)
    return {"widths": np.array(widths), "epochs": np.array(epochs), name: table}


def interpolation_width(widths, train_error, eps: float = 0.0) -> int | None:
    """The smallest width whose mean training error (on the noisy labels) is at most `eps`: with eps = 0 the
    interpolation threshold, with eps = 0.1 where the effective model complexity (Nakkiran et al.) reaches n.
    `train_error` has shape (widths,) or (seeds, widths)."""
    fitted = np.flatnonzero(np.asarray(train_error).reshape(-1, len(widths)).mean(axis=0) <= eps)
    return int(np.asarray(widths)[fitted[0]]) if fitted.size else None
