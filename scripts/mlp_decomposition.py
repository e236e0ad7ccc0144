"""Yang et al.'s bias-variance decomposition of Greydanus's MNIST-1D MLP recipe on two disjoint halves of the
training set (chapter 8; `ddd_utils.experiments.mlp_decomposition`, preset `paper`).

Usage: python scripts/mlp_decomposition.py OUT   (resumable: finished trials are read back from OUT)
Prints per width the mean test error and the cross-entropy risk, bias and variance (means over trials), and writes
the trials with their provenance to OUT/mlp_decomposition.json, the file chapter 8 reads from `book/results/`.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import numpy as np

from ddd_utils.engine.provenance import provenance
from ddd_utils.experiments import mlp_decomposition


def main(out: str, preset: str = "paper") -> None:
    config = mlp_decomposition.PRESETS[preset]
    trials = mlp_decomposition.run(config, out)
    command = shlex.join(["python", "scripts/mlp_decomposition.py", out] + ([preset] if preset != "paper" else []))
    result = {"experiment": "mlp_decomposition", **provenance(command, preset), "trials": trials}
    (Path(out) / "mlp_decomposition.json").write_text(json.dumps(result))
    for i, width in enumerate(config.widths):
        rows = [trial["widths"][i] for trial in trials]
        error = np.mean([h["test_error"][-1] for row in rows for h in row["histories"]])
        means = {name: np.mean([row[name] for row in rows]) for name in ("ce_risk", "ce_bias", "ce_variance")}
        print(f"h {width}: test error {error:.3f}, cross-entropy risk {means['ce_risk']:.3f} = bias "
              f"{means['ce_bias']:.3f} + variance {means['ce_variance']:.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
