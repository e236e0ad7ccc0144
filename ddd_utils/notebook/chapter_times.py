"""How long each chapter's page takes to execute, per preset: the one source of the times that the README's table,
the instructor's page and `python -m ddd_utils list` print (a test checks both pages against it).

Measured with papermill on 2 CPU cores, one chapter at a time, the chapter's own folder of runs empty at the start
(the sweeps' CLI times, which `list` prints beside these, are each experiment's `PRESET_TIMES`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChapterTimes:
    """One chapter's page times; `cpu_rerun` is the time once its runs are on disk (chapters that keep them)."""

    number: int
    title: str
    smoke: str
    cpu: str
    cpu_rerun: str | None = None
    how_measured: str = ""

    @property
    def cpu_cell(self) -> str:
        """The `cpu` entry as the tables print it: the first run, then the rerun where there is one."""
        return self.cpu if self.cpu_rerun is None else f"{self.cpu}; {self.cpu_rerun} once its runs are on disk"


_SMOKE_2026_12_03 = "smoke: 2026-12-03, beside one training process"
CHAPTERS = (
    ChapterTimes(1, "Polynomial regression", "~12 s", "~40 s",
                 how_measured=f"{_SMOKE_2026_12_03}; cpu: 36 s in a review's build, 40 s beside a training process"),
    ChapterTimes(2, "Linear regression", "~14 s", "~30 s", how_measured=f"{_SMOKE_2026_12_03}; cpu: the same day"),
    ChapterTimes(3, "Random features, kernels and trees", "~18 s", "~40 s",
                 how_measured=f"{_SMOKE_2026_12_03}; cpu: when its preset was last sized"),
    ChapterTimes(4, "Small networks on MNIST-1D", "~13 s", "~4.5 min", "~12 s",
                 how_measured=f"{_SMOKE_2026_12_03}; cpu: 246 s of training on one thread beside another process"),
    ChapterTimes(5, "CNNs and ResNets", "~12 s", "~7.5 min", "~8 s",
                 how_measured=f"{_SMOKE_2026_12_03}; cpu: its sweep took 7.4 min as two processes"),
    ChapterTimes(6, "Transformers", "~24 s", "~10 min", "~10 s",
                 how_measured=f"{_SMOKE_2026_12_03}; cpu: 9.6 min in a review's build, 15.7 min beside four jobs"),
    ChapterTimes(7, "Grokking", "~26 s", "~5 min", "~20 s",
                 how_measured=f"{_SMOKE_2026_12_03}; cpu: about 5 min alone, 9.1 min beside four other jobs"),
    ChapterTimes(8, "Why it happens", "~20 s", "~5 min",
                 how_measured=f"{_SMOKE_2026_12_03}; cpu: 5.3 min beside three other jobs"),
)


def minutes(time: str) -> float:
    """A table time such as "~40 s" or "~4.5 min" in minutes."""
    value, unit = time.lstrip("~").split()
    if unit not in ("s", "min"):
        raise ValueError(f"time must end in 's' or 'min'; got {time!r}")
    return float(value) / (60 if unit == "s" else 1)


def cpu_build_minutes() -> int:
    """The `cpu` pages' times added up, in whole minutes: what the default book build spends running chapters."""
    return round(sum(minutes(chapter.cpu) for chapter in CHAPTERS))


def chapter_lines() -> list[str]:
    """One line per chapter for `python -m ddd_utils list`."""
    return [f"  {chapter.number}. {chapter.title}: smoke {chapter.smoke}, cpu {chapter.cpu_cell}"
            for chapter in CHAPTERS]
