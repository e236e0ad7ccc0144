"""Benchmark: a CNN5 width sweep (several seeds per width) trained as one job against one model at a time.

ddd_utils trains the whole sweep with `train_many`: the seeds of a width stack into one module (grouped
convolutions) up to `CNN5_STACK_UP_TO`, and on a GPU every step of the job replays one CUDA graph. The named
baseline is each model trained alone by the same engine, eagerly (`cuda_graphs=False`), the way a plain loop over
runs would. Both train the same models on the same CIFAR-shaped random images (the timing does not depend on the
pixels) for one epoch. `--stacking` instead times, per width, eight models stacked against eight side by side
(both graphed): the measurement behind `CNN5_STACK_UP_TO`.

    python benchmarks/cnn5_sweep.py                       # GPU: k = 1..16, 8 seeds per width, 10,000 images
    python benchmarks/cnn5_sweep.py --stacking --widths 4 16 32 64
"""

from __future__ import annotations

import argparse
import copy
import functools

import torch
from timing import synchronized_seconds

from ddd_utils.engine.recipe import Recipe, TrainData
from ddd_utils.engine.training import train, train_many
from ddd_utils.models import build_model, stacked


def synthetic_images(n: int, device: torch.device) -> TrainData:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 32, 32, generator=generator)
    y = torch.randint(0, 10, (n,), generator=generator)
    return TrainData(x, y, torch.zeros(n, dtype=torch.bool), x[:64], y[:64]).to(device)


def sweep_models(widths, seeds: int, device) -> tuple[list, list[int]]:
    models, all_seeds = [], []
    for k in widths:
        for seed in range(seeds):
            torch.manual_seed(seed)
            models.append(build_model("cnn5", k, (3, 32, 32), 10).to(device))
            all_seeds.append(seed)
    return models, all_seeds


def train_job(models, seeds, data, recipe) -> None:
    """One epoch of every model, all in one `train_many` job (on copies: the models stay untrained)."""
    train_many(copy.deepcopy(models), [data] * len(models), recipe, seeds, eval_epochs=[])


def compare_sweep(args, device, data, recipe) -> None:
    models, seeds = sweep_models(args.widths, args.seeds, device)
    train_job(models, seeds, synthetic_images(2 * recipe.batch_size, device), recipe)  # cudnn autotuning
    ours = synchronized_seconds(lambda: train_job(models, seeds, data, recipe), device)
    alone = synchronized_seconds(lambda: [train(copy.deepcopy(m), data, recipe, seed=s, eval_epochs=[],
                                                cuda_graphs=False) for m, s in zip(models, seeds, strict=True)],
                                 device)
    print(f"  {len(models)} runs (k = {args.widths}, {args.seeds} seeds each): ddd_utils {ours:.1f} s, one at a "
          f"time eager {alone:.1f} s, ratio {alone / ours:.2f}x")


def compare_stacking(args, device, data, recipe) -> None:
    limit = stacked.CNN5_STACK_UP_TO
    for k in args.widths:
        models, seeds = sweep_models([k], args.seeds, device)
        seconds = {}
        for label, threshold in (("stacked", 10**9), ("side by side", 0)):
            stacked.CNN5_STACK_UP_TO = threshold
            train_job(models, seeds, data, recipe)  # warm-up
            seconds[label] = synchronized_seconds(functools.partial(train_job, models, seeds, data, recipe), device)
        steps = -(-data.x_train.shape[0] // recipe.batch_size)
        print(f"  k = {k:3d}, {args.seeds} models: stacked {1e3 * seconds['stacked'] / steps:.2f} ms/step, side by "
              f"side {1e3 * seconds['side by side'] / steps:.2f} ms/step, stacking "
              f"{seconds['side by side'] / seconds['stacked']:.2f}x")
    stacked.CNN5_STACK_UP_TO = limit


def main() -> None:
    on_gpu = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="+", default=[1, 2, 4, 8, 16] if on_gpu else [1, 2])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--images", type=int, default=10_000 if on_gpu else 256)
    parser.add_argument("--stacking", action="store_true", help="stacked against side by side, per width")
    args = parser.parse_args()
    device = torch.device("cuda" if on_gpu else "cpu")
    torch.backends.cudnn.benchmark = True
    data = synthetic_images(args.images, device)
    recipe = Recipe(optimizer="adam", lr=1e-4, batch_size=128, epochs=1)
    name = torch.cuda.get_device_name() if on_gpu else "CPU"
    print(f"CNN5 sweep, one epoch of {args.images} images per run, batch {recipe.batch_size}, on {name}")
    (compare_stacking if args.stacking else compare_sweep)(args, device, data, recipe)


if __name__ == "__main__":
    main()
