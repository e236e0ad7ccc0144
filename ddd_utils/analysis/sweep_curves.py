"""Read a finished width sweep from its records: pick runs by their config, take each width's final errors, find
the interpolation threshold, lay the evaluated epochs out as a width x epoch table, and read a model-wise peak, each
run's bump over training and where more data hurts. The width is the config field `knob` ("width" by default;
chapter 6's Transformers use "d_model") and time the history field `time`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ddd_utils.analysis.curves import Bump, late_bump, locate_bump


def select(records: list[dict], **fields: object) -> list[dict]:
    """The records whose config has every given field at the given value, e.g. `select(records, noise=0.2)`."""
    chosen = [r for r in records if all(r["config"].get(name) == value for name, value in fields.items())]
    if not chosen:
        raise ValueError(f"no records with {fields}")
    return chosen


def config_values(records: list[dict], name: str) -> list:
    """The sorted distinct values of config field `name` over `records` (a sweep's widths, noises, sizes)."""
    return sorted({r["config"][name] for r in records})


def _by_seed_and_width(records: list[dict], knob: str = "width") -> tuple[list[int], list[int], dict]:
    widths, seeds = config_values(records, knob), config_values(records, "seed")
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


@dataclass(frozen=True)
class RunBump:
    """One run's bump over training (`curves.late_bump` of its test error): the run's width and seed, the bump, the
    epochs of its first low, top and second low, and the share of the corrupted labels fitted at each of the three."""

    width: int
    seed: int
    bump: Bump
    epochs: tuple[int, int, int]
    fitted: tuple[float, float, float]


def run_bumps(records: list[dict], knob: str = "width") -> list[RunBump]:
    """Every run's epoch-wise bump (a rise after the first descent that falls again), ordered by width then seed,
    with how many wrong labels the network had learned at its first low, top and second low: epoch-wise double
    descent's rise is expected while they are being fitted."""
    widths, seeds, by_key = _by_seed_and_width(records, knob)
    bumps = []
    for width in widths:
        for seed in seeds:
            history = by_key[seed, width]
            shape = late_bump(history["test_error"])
            points = (shape.before, shape.peak, shape.after)
            bumps.append(RunBump(width, seed, shape, tuple(history["epoch"][i] for i in points),
                                 tuple(1.0 - history["corrupted_error"][i] for i in points)))
    return bumps


def interpolation_width(widths: ArrayLike, train_error: ArrayLike, eps: float = 0.0) -> int | None:
    """The smallest width whose mean training error (on the noisy labels) is at most `eps`: with eps = 0 the
    interpolation threshold, with eps = 0.1 where the effective model complexity (Nakkiran et al.) reaches n.
    `train_error` has shape (widths,) or (seeds, widths)."""
    fitted = np.flatnonzero(np.asarray(train_error).reshape(-1, len(widths)).mean(axis=0) <= eps)
    return int(np.asarray(widths)[fitted[0]]) if fitted.size else None


@dataclass(frozen=True)
class ModelwisePeak:
    """The peak of a model-wise curve (mean over seeds), read as the largest rise that falls again (`locate_bump`):
    the peak's width and error, the best smaller width's, and the widest network's."""

    peak_width: int
    peak_error: float
    best_below_width: int
    best_below_error: float
    widest_width: int
    widest_error: float

    @property
    def above_best_below(self) -> float:
        return self.peak_error - self.best_below_error

    @property
    def above_widest(self) -> float:
        return self.peak_error - self.widest_error


def modelwise_peak(curves: dict) -> ModelwisePeak:
    """The peak of `final_curves`' mean test error against width."""
    widths, mean = curves["widths"], curves["test_error"].mean(axis=0)
    shape = locate_bump(mean)
    return ModelwisePeak(int(widths[shape.peak]), float(mean[shape.peak]), int(widths[shape.before]),
                         float(mean[shape.before]), int(widths[-1]), float(mean[-1]))


def peak_text(peak: ModelwisePeak, unit: str) -> str:
    """One line: the peak's error and width, and its height above the best smaller width and the widest network."""
    return (f"peak {peak.peak_error:.1%} at {peak.peak_width} {unit}: {100 * peak.above_best_below:.1f} points above "
            f"the best smaller width ({peak.best_below_error:.1%} at {peak.best_below_width}) and "
            f"{100 * peak.above_widest:.1f} above the widest ({peak.widest_error:.1%} at {peak.widest_width})")


def peak_claims(curves: dict, peak: ModelwisePeak, height: float = 0.03) -> dict[str, bool]:
    """What a page says of a resolved peak, as claims for `claims.check_claims`: at least `height` above the best
    smaller width and the widest network, and every seed at the peak worse than every seed at the best smaller
    width (the seeds' ranges apart)."""
    errors, widths = curves["test_error"], list(curves["widths"])
    at_peak, at_best = widths.index(peak.peak_width), widths.index(peak.best_below_width)
    points = f"{100 * height:g} points"
    return {f"the peak is at least {points} above the best smaller width": peak.above_best_below >= height,
            f"the peak is at least {points} above the widest network": peak.above_widest >= height,
            "every seed at the peak is worse than every seed at the best smaller width":
                bool(errors[:, at_peak].min() > errors[:, at_best].max())}


def sample_wise_gap(small: dict, large: dict, name: str = "test_error") -> dict[str, np.ndarray]:
    """Where more data hurts: at every width both curves (`final_values` of each size) share, the larger set's mean
    `name` minus the smaller set's ("gap", positive where more data hurts), the standard error of that difference
    of two means over seeds ("se"; nan with one seed), and "hurts": the widths where the gap exceeds twice its
    standard error."""
    if not np.array_equal(small["widths"], large["widths"]):
        raise ValueError("small and large must be curves over the same widths")
    gap = large[name].mean(axis=0) - small[name].mean(axis=0)
    se = np.hypot(*(curves[name].std(axis=0, ddof=1) / np.sqrt(len(curves[name])) if len(curves[name]) > 1
                    else np.full(gap.shape, np.nan) for curves in (small, large)))
    return {"widths": small["widths"], "gap": gap, "se": se, "hurts": gap > 2 * se}


def sample_wise_lines(gap: dict, sizes: tuple[int, int], knob: str = "channels") -> list[str]:
    """Two lines on `sample_wise_gap`: the widths where more data hurts (gap +- its standard error, in points),
    and the width (`knob`: "channels", or "k" for a ResNet) where the larger set comes closest to (or furthest
    above) the smaller one."""
    small_n, large_n = sizes
    hurts = [f"{w} (+{100 * g:.1f} +- {100 * s:.1f})" for w, g, s, h in
             zip(gap["widths"], gap["gap"], gap["se"], gap["hurts"], strict=True) if h]
    closest = int(np.argmax(gap["gap"]))
    return ["more data hurts, in points (the gap +- its standard error over seeds), at: "
            + (", ".join(hurts) if hurts else "no width"),
            f"where the curves come closest, {width_text(knob, gap['widths'][closest])}: n = {large_n:,} minus n = "
            f"{small_n:,} is {100 * gap['gap'][closest]:+.1f} +- {100 * gap['se'][closest]:.1f} points"]


def width_text(knob: str, width: float) -> str:
    """A width in words: '32 channels', or 'k = 10' for a knob named by a letter."""
    return f"{knob} = {width}" if len(knob) == 1 else f"{width} {knob}"


def loss_gap_lines(gap: dict, sizes: tuple[int, int], knob: str = "d_model") -> list[str]:
    """One line per width of a `sample_wise_gap` over a loss: the larger set minus the smaller (+- its standard
    error, where there are seeds to estimate it), and whether more data hurts there beyond twice that error."""
    small_n, large_n = sizes
    return [f"{knob} {w}: n = {large_n:,} minus n = {small_n:,} is {g:+.3f}"
            + (f" +- {s:.3f}" if np.isfinite(s) else " (one seed: no standard error)")
            + (" (more data hurts)" if h else "")
            for w, g, s, h in zip(gap["widths"], gap["gap"], gap["se"], gap["hurts"], strict=True)]


def size_gap(records: list[dict], sizes: Sequence[int], name: str = "test_loss", knob: str = "d_model"
             ) -> dict[str, np.ndarray]:
    """`sample_wise_gap` of `name` between the smallest and the largest of `sizes` (n_train values) in `records`,
    with each size's `final_values` as "small" and "large"."""
    small, large = (final_values(select(records, n_train=n), (name,), knob=knob) for n in (min(sizes), max(sizes)))
    return {**sample_wise_gap(small, large, name), "small": small, "large": large}
