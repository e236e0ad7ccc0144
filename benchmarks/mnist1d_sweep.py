"""Benchmark: an MNIST-1D MLP width sweep with ddd_utils.train against the plain recipe, in the same run.

The plain recipe is what most notebooks do: a torch DataLoader over a TensorDataset (shuffle, batch 128) and one
model at a time, with identical models, initial weights, optimizer, epochs and evaluation epochs. Prints each wall
time, the ratio, and the two final test-error curves side by side (they differ only through the batch order).

    python benchmarks/mnist1d_sweep.py [--widths 4 16 64 256] [--epochs 50] [--noise 0.2]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ddd_utils.experiments import mnist1d_sweep
from ddd_utils.models import build_model
from ddd_utils.train import Recipe, evaluate, train


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="+", default=[4, 16, 64, 256])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--noise", type=float, default=0.2)
    args = parser.parse_args()
    data = mnist1d_sweep.training_data(4000, args.noise, seed=0)
    recipe = Recipe(optimizer="adam", lr=1e-3, batch_size=128, epochs=args.epochs)
    timings, errors = {"ddd_utils.train": 0.0, "plain DataLoader loop": 0.0}, {}
    for width in args.widths:
        for name in timings:
            torch.manual_seed(0)
            model = build_model("mlp", width, (40,), 10)
            start = time.perf_counter()
            if name == "ddd_utils.train":
                error = train(model, data, recipe, seed=0, eval_epochs=[args.epochs])["test_error"][-1]
            else:
                error = plain_recipe(model, data, recipe, seed=0)
            timings[name] += time.perf_counter() - start
            errors[name, width] = error
    print(f"MNIST-1D MLP sweep: widths {args.widths}, {args.epochs} epochs, noise {args.noise}, "
          f"{torch.get_num_threads()} threads")
    for name, seconds in timings.items():
        print(f"  {name:<22} {seconds:7.1f} s")
    print(f"  ratio: {timings['plain DataLoader loop'] / timings['ddd_utils.train']:.2f}x")
    print("  final test error by width:  " + "  ".join(
        f"{width}: {errors['ddd_utils.train', width]:.3f} vs {errors['plain DataLoader loop', width]:.3f}"
        for width in args.widths))


if __name__ == "__main__":
    main()
