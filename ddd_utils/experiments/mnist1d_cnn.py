"""Greydanus's MNIST-1D CNN with label noise: model-wise and sample-wise deep double descent, a resumable sweep.

The network, data and recipe of the deep double-descent notebook of the MNIST-1D repository (Greydanus 2020;
Greydanus and Kobak 2024): three strided 1-D convolutions of `width` channels and a linear head (`StridedCNN`),
the 4,000 training sequences with 12,000 test sequences from the same generator run, 15% of the training labels
redrawn uniformly from all ten classes (about 13.5% end up wrong), SGD with momentum for 500 epochs. The runs are
the vision sweep's (`vision_sweep.run`): nested class-balanced training sets, so the sample-wise sizes differ only
in how many sequences they hold, and one label-noise draw per (noise, seed) at every width and size.
"""

from __future__ import annotations

from pathlib import Path

from ddd_utils.engine.searches import run_search
from ddd_utils.experiments.vision_sweep import VisionSweepConfig, gpu_estimate, run, run_configs

# Greydanus's channel grid: 2 to 28 in steps of 2, then 30 to 100 in steps of 5.
GREYDANUS_CHANNELS = (*range(2, 30, 2), *range(30, 101, 5))
GREYDANUS_PUBLISHED = {  # his notebook's printed test errors with label noise, one seed; never drawn as measured
    "minimum below the peak": (10, 0.1964), "peak": (18, 0.3380), "widest": (100, 0.2766)}


def _greydanus(**changes) -> VisionSweepConfig:
    """His recipe, with `changes` (the presets below change sizes only)."""
    recipe = dict(dataset="mnist1d", models=("strided_cnn",), widths=GREYDANUS_CHANNELS, noises=(0.15,),
                  noise_kind="any_class", n_trains=(4000, 1000), seeds=(0, 1, 2), epochs=500, optimizer="sgd",
                  lr=0.01, momentum=0.9, batch_size=100, augment=False, eval_count=40, checkpoint_every=25,
                  test_size=12000)
    return VisionSweepConfig(**(recipe | changes))


PRESETS = {
    "smoke": _greydanus(widths=(2, 8), n_trains=(200, 100), seeds=(0,), epochs=3, eval_count=3, checkpoint_every=1,
                        test_size=1000),
    # The reader's run: his 4,000 sequences, two seeds and the widths around his peak, without the sample-wise size
    # (the shipped `paper` run has it): about 8 minutes on 2 CPU cores.
    "cpu": _greydanus(widths=(6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 30, 50), n_trains=(4000,), seeds=(0, 1)),
    "full": _greydanus(seeds=(0, 1, 2, 3, 4)),
    "paper": _greydanus(),
}

# Wall time of each preset through the command line, and where it was measured; "unmeasured" where it was not.
PRESET_TIMES = {
    "smoke": "a few seconds on 2 CPU cores",
    "cpu": ("7.4 min through the command line on 2 CPU cores (--executor process --workers 2, as the book build runs "
            "it); seconds once its runs are on disk"),
    "full": ("estimated 1.7 min on one H200 from kernels and FLOPs counted on the CPU (python -m ddd_utils "
             "estimate mnist1d_cnn); unmeasured on a GPU"),
    "paper": ("72 min through the command line on 2 CPU cores (--executor process --workers 2 --runs-per-job 29; "
              "sharing the cores with other work part of the time); unmeasured on a GPU"),
}


def search(name: str, base: VisionSweepConfig, settings: dict[str, dict], out: str | Path, script: str) -> dict:
    """A documented search over settings of this CNN (`searches.run_search` with the vision sweep's runs)."""
    return run_search(name, run, run_configs, base, settings, out, script)


__all__ = ["GREYDANUS_CHANNELS", "GREYDANUS_PUBLISHED", "PRESETS", "PRESET_TIMES", "gpu_estimate", "run", "run_configs",
           "search"]
