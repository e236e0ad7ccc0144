"""A ResNet curve on the CPU (chapter 5): the pre-activation ResNet18 layout ([k, 2k, 4k, 8k] channels), in its
1-D form, on Greydanus's MNIST-1D data, labels and recipe, at the small widths where its threshold falls.

Usage: python scripts/resnet_sweep.py OUT   (resumable: finished runs are read back from OUT)
Prints the mean test and train error per width and the peak's height (`sweep_curves.peak_text`); writes every run
with its provenance to OUT/resnet_sweep.json, the file chapter 5 reads from `book/results/`. The budget is 200
epochs, not his 500: a step of the 1-D ResNet18 took 10-19 ms on one core (k = 1 to 8, batches of 100), so its 21
networks would take about 1.5 hours for 500 epochs.
"""

from __future__ import annotations

import dataclasses
import sys

from ddd_utils.analysis import sweep_curves
from ddd_utils.analysis.curves import series_text
from ddd_utils.experiments import mnist1d_cnn

BASE = dataclasses.replace(mnist1d_cnn.PRESETS["paper"], models=("resnet18",), n_trains=(4000,), eval_count=20)
SETTINGS = {  # name -> changes to BASE
    "resnet18-noise-0.15": dict(widths=(1, 2, 3, 4, 5, 6, 8), epochs=200),
    # 16,000 sequences put the threshold near k = 8 (a probe of one seed at k = 3-16 first); 50 epochs are as many
    # steps as 200 on 4,000.
    "resnet18-16k-noise-0.15": dict(dataset="mnist1d_16k", n_trains=(16000,), widths=(2, 3, 4, 5, 6, 8, 10, 12, 16),
                                    epochs=50),
}


def main(out: str) -> None:
    result = mnist1d_cnn.search("resnet_sweep", BASE, SETTINGS, out, "scripts/resnet_sweep.py")
    for name, setting in result["settings"].items():
        curves = sweep_curves.final_curves(setting["runs"], max(setting["config"]["noises"]))
        print(name)
        for error in ("test_error", "train_error"):
            print(series_text(f"  mean {error.replace('_', ' ')}", curves["widths"], curves[error].mean(axis=0)))
        print(f"  {sweep_curves.peak_text(sweep_curves.modelwise_peak(curves), 'k')}")


if __name__ == "__main__":
    main(sys.argv[1])
