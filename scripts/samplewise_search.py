"""The documented search for sample-wise double descent on the CPU (chapter 5): Greydanus's MNIST-1D CNN with more
label noise and training sets closer in size than the shipped run's 15% at 1,000 and 4,000 sequences, so that the
peak might outgrow what the extra data gains; and the 1-D ResNet18 at 8,000 and 16,000 sequences, with 15% and 30%
of the labels redrawn.

Usage: python scripts/samplewise_search.py OUT   (resumable: finished runs are read back from OUT)
Prints, per setting, the widths where the larger set's mean test error is higher than the smaller set's by more
than twice the standard error of the difference, and where the two come closest; writes every run with its
provenance to OUT/samplewise_search.json, the file chapter 5 reads from `book/results/`.
"""

from __future__ import annotations

import dataclasses
import sys

from ddd_utils.analysis import sweep_curves
from ddd_utils.experiments import mnist1d_cnn
from ddd_utils.experiments.vision_sweep import VisionSweepConfig

BASE = dataclasses.replace(mnist1d_cnn.PRESETS["paper"], seeds=(0, 1), eval_count=20)
SETTINGS = {  # name -> changes to BASE
    "noise-0.3-n-4000-vs-2000": dict(noises=(0.3,), n_trains=(4000, 2000), widths=(12, 20, 24, 32, 56)),
    # Chapter 5's 1-D ResNet18 on mnist1d_16k (its 16,000-sequence runs are resnet_sweep.py's), against 8,000 of
    # the same sequences, around the larger set's peak at k = 8.
    "resnet18-16k-n-16000-vs-8000": dict(models=("resnet18",), dataset="mnist1d_16k", noises=(0.15,),
                                         n_trains=(16000, 8000), widths=(4, 5, 6, 8, 10, 12), seeds=(0, 1, 2),
                                         epochs=50),
    # The same at twice the noise (30% of labels redrawn, about 27% wrong): a taller peak, which the larger set
    # reaches at a larger width. Widths chosen after seed 0 at k = 8, 10, 12 and 16 (its runs are among these).
    "resnet18-16k-noise-0.3-n-16000-vs-8000": dict(models=("resnet18",), dataset="mnist1d_16k", noises=(0.3,),
                                                   n_trains=(16000, 8000), widths=(6, 8, 10, 12, 14, 16),
                                                   seeds=(0, 1, 2), epochs=50),
}


def config_of(name: str) -> VisionSweepConfig:
    """The sweep of one setting."""
    return dataclasses.replace(BASE, **SETTINGS[name])


def gap_lines(setting: dict) -> list[str]:
    """The setting's `sweep_curves.sample_wise_lines`: where (if anywhere) the larger set is worse."""
    noise, sizes = max(setting["config"]["noises"]), tuple(setting["config"]["n_trains"])
    large, small = (sweep_curves.final_curves(sweep_curves.select(setting["runs"], n_train=n), noise)
                    for n in sizes)
    knob = "k" if "resnet18" in setting["config"]["models"] else "channels"
    return sweep_curves.sample_wise_lines(sweep_curves.sample_wise_gap(small, large), sizes[::-1], knob)


def main(out: str) -> None:
    result = mnist1d_cnn.search("samplewise_search", BASE, SETTINGS, out, "scripts/samplewise_search.py")
    for name, setting in result["settings"].items():
        for line in gap_lines(setting):
            print(f"{name}, {line}")


if __name__ == "__main__":
    main(sys.argv[1])
