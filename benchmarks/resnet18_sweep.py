"""Benchmark: steady-state epochs of a ResNet18-k width sweep with ddd_utils.engine.training against a plain per-width
loop.

ddd_utils keeps the data on the device, draws batches by index, and on a GPU replays each step from a CUDA graph
under bf16 autocast with channels_last weights; the plain loop is what most notebooks do: a DataLoader over CPU
tensors, copies to the device per batch, fp32. Both train the same models (Nakkiran et al.'s Adam recipe, batch 128, no
augmentation) on CIFAR-10-shaped images. The images are random (this machine cannot download CIFAR-10, and the
timing does not depend on the pixels). Each method trains each width for a warm-up epoch, which builds the engine,
captures the CUDA graphs of the full and the last partial batch and autotunes cuDNN for both sizes, then for
`--epochs` more, each timed alone: the medians of those are reported. Prints images/s per width for both, the
ratio, the ratio over the whole sweep (one steady epoch per width), and the model FLOPs utilisation (MFU) at the
largest k, from forward FLOPs per image = 2 (135168 k^2 + 27728 k) and a backward pass of twice that.

    python benchmarks/resnet18_sweep.py                    # GPU: k = 1..64 on 50,000 images
    python benchmarks/resnet18_sweep.py --images 128 --widths 1 2   # what the CPU path runs by default
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import statistics
from unittest import mock

import torch
import torch.nn.functional as F
from timing import synchronized_seconds
from torch.utils.data import DataLoader, TensorDataset

from ddd_utils.engine import training as engine
from ddd_utils.engine.recipe import RECIPES, Recipe, TrainData
from ddd_utils.engine.training import train
from ddd_utils.models import build_model

# Dense bf16 tensor-core peaks in TFLOP/s, from NVIDIA's data sheets; the first name contained in the device's wins.
PEAK_BF16_TFLOPS = {"H100 PCIe": 756.0, "H100 NVL": 835.0, "H100": 989.4, "H200": 989.4, "A100": 312.0,
                    "L4": 121.0, "T4": 65.0}


def forward_flops(k: int) -> float:
    """Forward FLOPs per 32x32 image of the pre-activation ResNet18 with widths [k, 2k, 4k, 8k]."""
    return 2.0 * (135168 * k**2 + 27728 * k)


def synthetic_cifar(images: int, device: torch.device) -> TrainData:
    """Random normalised images and labels with CIFAR-10's shapes."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(images, 3, 32, 32, generator=generator)
    y = torch.randint(0, 10, (images,), generator=generator)
    return TrainData(x, y, torch.zeros(images, dtype=torch.bool), x[:10], y[:10]).to(device)


def plain_epochs(model: torch.nn.Module, data: TrainData, recipe: Recipe, device: torch.device, epochs: int
                 ) -> list[float]:
    """The baseline: a DataLoader over CPU tensors (`data` lives on the CPU), a copy to the device per batch, fp32;
    the seconds of each of its `epochs` epochs."""
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=recipe.batch_size, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    model.train()
    epoch = functools.partial(_plain_epoch, model, loader, optimizer, device)
    return [synchronized_seconds(epoch, device) for _ in range(epochs)]


def _plain_epoch(model: torch.nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer,
                 device: torch.device) -> None:
    """One pass of the baseline over `loader`."""
    for inputs, labels in loader:
        loss = F.cross_entropy(model(inputs.to(device)), labels.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def engine_epochs(model: torch.nn.Module, data: TrainData, recipe: Recipe, device: torch.device, epochs: int
                  ) -> list[float]:
    """ddd_utils.engine.training for `epochs` epochs without evaluations (batches by index on the device; bf16 autocast
    and channels_last on a GPU); the seconds of each epoch's steps, clocked around the engine's per-epoch function."""
    seconds, one_epoch = [], engine._train_one_epoch

    def timed_epoch(*args) -> None:
        seconds.append(synchronized_seconds(lambda: one_epoch(*args), device))

    with mock.patch.object(engine, "_train_one_epoch", timed_epoch):
        train(model, data, dataclasses.replace(recipe, epochs=epochs), seed=0, eval_epochs=[])
    return seconds


METHODS = {"ddd_utils": engine_epochs, "plain": plain_epochs}


def steady_epoch(method, model: torch.nn.Module, data: TrainData, recipe: Recipe, device: torch.device,
                 timed: int) -> float:
    """Median seconds of `timed` epochs of `method`, after a warm-up epoch over the same data (graph captures and
    cuDNN autotuning of every batch size, the last partial one included; lazy initialisation)."""
    return statistics.median(method(model, data, recipe, device, 1 + timed)[1:])


def main() -> None:
    on_gpu = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64] if on_gpu else [1, 2])
    parser.add_argument("--images", type=int, default=50_000 if on_gpu else 128, help="training images per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per width, after the warm-up one")
    parser.add_argument("--peak-tflops", type=float, default=None, help="the device's peak, if not in the table")
    args = parser.parse_args()
    device = torch.device("cuda" if on_gpu else "cpu")
    torch.backends.cudnn.benchmark = True
    datas = {"ddd_utils": synthetic_cifar(args.images, device), "plain": synthetic_cifar(args.images, "cpu")}
    recipe = RECIPES["nakkiran_adam"]
    name = torch.cuda.get_device_name() if on_gpu else "CPU"
    print(f"ResNet18-k sweep, {args.images} images per epoch, batch {recipe.batch_size}, median of {args.epochs} "
          f"epochs per width after a warm-up epoch, on {name}")
    print(f"  ddd_utils: {'CUDA graphs, bf16 autocast, channels_last' if on_gpu else 'fp32'}; plain: fp32 DataLoader "
          "loop")
    totals = dict.fromkeys(METHODS, 0.0)
    for k in args.widths:
        seconds = {}
        for label, method in METHODS.items():
            torch.manual_seed(0)
            model = build_model("resnet18", k, (3, 32, 32), 10).to(device)
            seconds[label] = steady_epoch(method, model, datas[label], recipe, device, args.epochs)
            totals[label] += seconds[label]
        rates = {label: args.images / seconds[label] for label in METHODS}
        print(f"  k = {k:3d}: ddd_utils {rates['ddd_utils']:9.0f} img/s, plain {rates['plain']:9.0f} img/s, "
              f"ratio {seconds['plain'] / seconds['ddd_utils']:.2f}x")
    print(f"  whole sweep, one epoch per width: ddd_utils {totals['ddd_utils']:.2f} s, plain {totals['plain']:.2f} s, "
          f"ratio {totals['plain'] / totals['ddd_utils']:.2f}x")
    k = max(args.widths)
    peak = args.peak_tflops or next((tflops for gpu, tflops in PEAK_BF16_TFLOPS.items() if gpu in name), None)
    if peak is None:
        print(f"  MFU: no bf16 peak known for {name}; pass --peak-tflops to compute it")
    else:
        achieved = 3 * forward_flops(k) * args.images / seconds["ddd_utils"]
        print(f"  MFU at k = {k}: {achieved / 1e12:.1f} TFLOP/s of {peak:.0f} = {100 * achieved / (peak * 1e12):.1f}%")


if __name__ == "__main__":
    main()
