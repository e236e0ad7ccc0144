"""Benchmark: the MNIST-1D MLP width sweep with ddd_utils (all runs trained together, `train_many`) against the
plain recipe (a torch DataLoader, one model at a time), in the same run.

Both train the same grid of (width, noise, seed) runs from the same initial weights, with the same optimizer,
batch size and epochs; only the batch order differs (the DataLoader draws its own). Prints each wall time, the
ratio, and the two final test-error curves side by side with the spread between seeds, so "equal within seed
noise" can be checked by eye. The plain loop is timed first, in the process's default floating-point mode:
ddd_utils then switches the CPU to flushing denormal numbers to zero (see `train_many`), which is part of what is
measured, since late in training denormals slow the plain loop down several times.

    python benchmarks/mnist1d_sweep.py [--preset cpu] [--epochs 100] [--repeats 3]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from timing import median_time
from torch.utils.data import DataLoader, TensorDataset

from ddd_utils.engine.evaluation import evaluate
from ddd_utils.engine.recipe import Recipe
from ddd_utils.experiments import mnist1d_sweep
from ddd_utils.models import build_model


def plain_recipe(model: torch.nn.Module, data, recipe: Recipe, seed: int) -> float:
    """The baseline loop: DataLoader batches, an optimizer step each; returns the final test error."""
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=recipe.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    for _ in range(recipe.epochs):
        model.train()
        for inputs, labels in loader:
            loss = F.cross_entropy(model(inputs), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    wrong, _ = evaluate(model, data.x_test, data.y_test)
    return wrong.float().mean().item()


def plain_sweep(configs: list[dict], recipe: Recipe) -> list[float]:
    """Every run of the sweep, one after the other, with the plain recipe; returns their final test errors."""
    errors = []
    for run in configs:
        torch.manual_seed(run["seed"])
        model = build_model("mlp", run["width"], (mnist1d_sweep.SIGNAL_LENGTH,), mnist1d_sweep.NUM_CLASSES)
        data = mnist1d_sweep.training_data(run["n_train"], run["noise"], run["seed"])
        errors.append(plain_recipe(model, data, recipe, run["seed"]))
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu", choices=sorted(mnist1d_sweep.PRESETS), help="the sweep's grid")
    parser.add_argument("--epochs", type=int, default=100, help="epochs per run (the cpu preset trains 500)")
    parser.add_argument("--repeats", type=int, default=3, help="timings of each method; the median is reported")
    args = parser.parse_args()
    config = mnist1d_sweep.PRESETS[args.preset]
    configs = [{**run, "epochs": args.epochs, "eval_count": 1} for run in mnist1d_sweep.run_configs(config)]
    recipe = Recipe(optimizer="adam", lr=config.lr, batch_size=config.batch_size, epochs=args.epochs)
    mnist1d_sweep.training_data(config.n_train, 0.0, 0)  # generate (and cache) MNIST-1D outside the timings

    plain, plain_errors = median_time(plain_sweep, args.repeats, configs, recipe)  # first: see the docstring
    ours, histories = median_time(mnist1d_sweep.run, args.repeats, configs)
    errors = {"ddd_utils": [history["test_error"][-1] for history in histories], "plain": plain_errors}

    print(f"MNIST-1D MLP sweep, preset {args.preset} grid: {len(configs)} runs ({len(config.widths)} widths x "
          f"{len(config.noises)} noises x {len(config.seeds)} seeds), n_train {config.n_train}, {args.epochs} epochs, "
          f"{torch.get_num_threads()} threads, median of {args.repeats}")
    print(f"  ddd_utils (train_many)   {ours:7.1f} s")
    print(f"  plain DataLoader loop    {plain:7.1f} s")
    print(f"  ratio: {plain / ours:.2f}x")
    for noise in config.noises:
        print(f"  final test error at noise {noise:g}, mean over seeds (ddd_utils | plain | seed spread of each):")
        for width in config.widths:
            chosen = [i for i, run in enumerate(configs) if run["noise"] == noise and run["width"] == width]
            ours_w, plain_w = (np.array([errors[name][i] for i in chosen]) for name in ("ddd_utils", "plain"))
            print(f"    width {width:5d}: {ours_w.mean():.3f} | {plain_w.mean():.3f} | "
                  f"{np.ptp(ours_w):.3f}, {np.ptp(plain_w):.3f}")


if __name__ == "__main__":
    main()
