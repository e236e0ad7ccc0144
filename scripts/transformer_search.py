"""The documented search for "more data hurts" in Transformers on the CPU (chapter 6): the generated translation
task with token noise, two training sets 4.5x apart (Nakkiran et al.'s 4K and 18K), budgets matched in epochs,
the peak learning rate scaled as d_model^-0.5 and label smoothing 0.1, as in the paper's recipe.

Usage: python scripts/transformer_search.py OUT [SETTING ...]   (resumable: finished runs are read back from OUT)
With SETTING names only those train, so that settings can run side by side; without, every setting runs (finished
ones are read back) and the file chapter 6 reads from `book/results/`, OUT/transformer_search.json, is written.
Prints per setting and d_model the final test loss of each size (mean over seeds) and their difference.
"""

from __future__ import annotations

import dataclasses
import sys

from ddd_utils.analysis import sweep_curves
from ddd_utils.engine.searches import run_search
from ddd_utils.experiments import translation_sweep

BASE = dataclasses.replace(translation_sweep.PRESETS["cpu"], batch_size=128, lr=2e-3, lr_d_model=32, warmup=200,
                           label_smoothing=0.1, token_noise=0.2, eval_count=12, checkpoint_every=500)
SETTINGS = {  # name -> changes to BASE
    "n-200-vs-900-300-epochs": dict(n_trains=(200, 900), epochs=300, d_models=(8, 16, 32, 64, 128, 256)),
    # two more seeds where the sizes' curves come closest, one setting each so that they can train side by side
    **{f"n-200-vs-900-300-epochs-seed-{seed}": dict(n_trains=(200, 900), epochs=300, d_models=(64, 128, 256),
                                                    seeds=(seed,)) for seed in (1, 2)},
    # twice the widest d_model above, where the sizes' lead had shrunk to the seeds' spread: one setting per seed
    **{f"n-200-vs-900-300-epochs-seed-{seed}-d-512": dict(n_trains=(200, 900), epochs=300, d_models=(512,),
                                                          seeds=(seed,)) for seed in (0, 1, 2)},
    # half the vocabulary, so that a few hundred pairs teach the lexicon and what more data adds is mostly noise
    "small-grammar-n-400-vs-1800-200-epochs": dict(n_trains=(400, 1800), epochs=200, d_models=(8, 16, 32, 64, 128),
                                                   nouns=6, verbs=3, adjectives=3),
}


def gap_lines(setting: dict) -> list[str]:
    """Per d_model, the larger set's mean final test loss minus the smaller set's (`sweep_curves.loss_gap_lines`)."""
    sizes = setting["config"]["n_trains"]
    return sweep_curves.loss_gap_lines(sweep_curves.size_gap(setting["runs"], sizes), (min(sizes), max(sizes)))


def main(out: str, only: list[str]) -> None:
    unknown = sorted(set(only) - set(SETTINGS))
    if unknown:
        raise ValueError(f"SETTING must be among {tuple(SETTINGS)}; got {unknown}")
    settings = {name: SETTINGS[name] for name in only} if only else SETTINGS
    name = "transformer_search" if not only else f"transformer_search-{'-'.join(only)}"
    result = run_search(name, translation_sweep.run, translation_sweep.run_configs, BASE, settings, out,
                        "scripts/transformer_search.py")
    for setting_name, setting in result["settings"].items():
        for line in gap_lines(setting):
            print(f"{setting_name}, {line}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
