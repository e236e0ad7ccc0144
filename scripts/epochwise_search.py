"""The documented search for epoch-wise double descent on the CPU (chapter 5): a few recipes of Greydanus's
MNIST-1D CNN trained long at a few widths, each run's test error read for a fall, a rise and a second fall.

Usage: python scripts/epochwise_search.py OUT   (resumable: finished runs are read back from OUT)
Prints one line per (setting, width): the lowest test error before the largest bump, the bump's top, the lowest
error after it, and the bump's height (the smaller of the rise and the second fall, `curves.late_bump`); writes
every run with its provenance to OUT/epochwise_search.json, the file chapter 5 reads from `book/results/`.
"""

from __future__ import annotations

import dataclasses
import sys

from ddd_utils.analysis.curves import bump_text, late_bump
from ddd_utils.experiments import mnist1d_cnn

BASE = dataclasses.replace(mnist1d_cnn.PRESETS["paper"], widths=(10, 24, 64), n_trains=(1000,), seeds=(0,),
                           eval_count=40, checkpoint_every=250)
SETTINGS = {  # name -> changes to BASE
    "sgd-0.01-noise-0.15-2000ep": dict(epochs=2000),
    "adam-1e-4-noise-0.2-2000ep": dict(optimizer="adam", lr=1e-4, noises=(0.2,), noise_kind="wrong_class",
                                       epochs=2000),
    "adam-1e-3-noise-0.2-1000ep": dict(optimizer="adam", lr=1e-3, noises=(0.2,), noise_kind="wrong_class",
                                       epochs=1000),
    "sgd-0.01-noise-0.3-2000ep": dict(noises=(0.3,), epochs=2000),
    "sgd-0.001-noise-0.15-3000ep": dict(lr=1e-3, epochs=3000),
}


def late_bump_text(history: dict) -> str:
    """One line: where the test error first bottoms out, rises to, and falls back to, and the final train error."""
    shape = late_bump(history["test_error"])
    text = bump_text(history["epoch"], history["test_error"], shape)
    return f"{text}; final train error {history['train_error'][-1]:.3f}"


def main(out: str) -> None:
    result = mnist1d_cnn.search("epochwise_search", BASE, SETTINGS, out, "scripts/epochwise_search.py")
    for name, setting in result["settings"].items():
        for record in sorted(setting["runs"], key=lambda r: r["config"]["width"]):
            print(f"{name}, width {record['config']['width']}: {late_bump_text(record['history'])}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
