"""What scripts/gpu_probe.py trains: a small job of each training path and the groups of each `full` preset that
builds offline, as the experiments train them, on MNIST-1D where mnist1d imports and otherwise on random data of
the same shapes (a step's time and its capture do not depend on the values). Imported before the experiment
modules, which import mnist1d at their top: without it, an empty stand-in lets the probe still read their presets."""

from __future__ import annotations

import copy
import sys
import types
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import NamedTuple, TypeVar

import torch

try:
    import mnist1d.data  # noqa: F401
    HAS_MNIST1D = True
except ImportError:  # the experiment modules import it at their top; without it the probe only reads their presets
    HAS_MNIST1D = False
    sys.modules["mnist1d"] = types.ModuleType("mnist1d")
    sys.modules["mnist1d.data"] = sys.modules["mnist1d"].data = types.ModuleType("mnist1d.data")

from ddd_utils.data.mnist1d import make_mnist1d  # noqa: E402
from ddd_utils.data.modular import modular_data  # noqa: E402
from ddd_utils.engine.recipe import Recipe, TrainData  # noqa: E402
from ddd_utils.engine.training import train_many  # noqa: E402
from ddd_utils.experiments import grokking, mnist1d_cnn, mnist1d_sweep, vision_sweep  # noqa: E402
from ddd_utils.models import build_model  # noqa: E402

SIGNAL, IMAGE, CIFAR10_TEST = (40,), (3, 32, 32), 10000
T = TypeVar("T")


def sized(tiny: bool, gpu: T, small: T) -> T:
    """`small` in tiny mode, else `gpu`: one place for every size the probe uses."""
    return small if tiny else gpu


class Group(NamedTuple):
    """The arguments of one `train_many` call; `recipe.epochs` and `eval_count` are the full run's."""

    models: list[torch.nn.Module]
    datas: list[TrainData]
    seeds: list[int]
    recipe: Recipe
    eval_count: int = 1


def group_of(name: str, runs: list[tuple[int, int]], shape: tuple[int, ...], data: TrainData, recipe: Recipe,
             eval_count: int = 1) -> Group:
    """`build_model(name)` models of the (width, seed) `runs`, every one on `data`."""
    return Group([build_model(name, width, shape, 10) for width, _ in runs], [data] * len(runs),
                 [seed for _, seed in runs], recipe, eval_count)


def random_data(n_train: int, n_test: int, shape: tuple[int, ...]) -> TrainData:
    """Random inputs and labels: CIFAR-10 is not there offline, and neither steps nor timings depend on the values."""
    return TrainData(torch.randn(n_train, *shape), torch.randint(0, 10, (n_train,)), torch.zeros(n_train, dtype=bool),
                     torch.randn(n_test, *shape), torch.randint(0, 10, (n_test,)))


def signals(n_train: int, n_test: int) -> TrainData:
    """MNIST-1D (repeated where more is asked for than its 4,000 + 1,000) when mnist1d imports, else random data."""
    if not HAS_MNIST1D:
        return random_data(n_train, n_test, SIGNAL)
    rows = {name: torch.from_numpy(array)[torch.arange(n_test if "test" in name else n_train) % len(array)]
            for name, array in make_mnist1d().items()}
    return TrainData(rows["x_train"], rows["y_train"], torch.zeros(n_train, dtype=bool), rows["x_test"],
                     rows["y_test"])


def train_group(group: Group, device: torch.device, epochs: int, **options) -> tuple[list, list[dict]]:
    """Train copies of the group's models on `device` for `epochs`; return (models, histories)."""
    models = [copy.deepcopy(model).to(device) for model in group.models]
    moved = {id(data): data.to(device) for data in group.datas}
    histories = train_many(models, [moved[id(data)] for data in group.datas], replace(group.recipe, epochs=epochs),
                           group.seeds, **options)
    return models, histories


def grokking_groups(config: grokking.GrokkingConfig) -> list[Group]:
    """One group per weight decay, as `grokking.run` trains them (AdamW through `train_many`, a split per seed)."""
    job, settings = grokking.run_configs(config), asdict(config)
    inputs = "tokens" if config.model == "transformer" else "one_hot"
    datas = {seed: modular_data(config.modulus, config.operation, config.train_fraction, seed, inputs)
             for seed in config.seeds}
    groups = []
    for decay in sorted({run["weight_decay"] for run in job}):
        runs = [run for run in job if run["weight_decay"] == decay]
        groups.append(Group([grokking.initial_model(settings, run["width"], run["seed"]) for run in runs],
                            [datas[run["seed"]] for run in runs], [run["seed"] for run in runs],
                            grokking.grokking_recipe(settings, decay, len(datas[config.seeds[0]].y_train)),
                            config.eval_count))
    return groups


def capture_groups(tiny: bool) -> dict[str, Group]:
    """A small job of each training path, a few widths each (trained for 2 epochs, whatever their recipe says)."""
    n, batch, widths = sized(tiny, 512, 64), sized(tiny, 64, 32), sized(tiny, (4, 16, 64), (2, 8))
    images = random_data(n, 64, IMAGE)
    return {"adam_mlp": group_of("mlp", [(w, s) for w in widths for s in (0, 1)], SIGNAL, signals(n, 128),
                                 Recipe(lr=3e-3, batch_size=32)),
            "adamw_transformer": grokking_groups(replace(grokking.PRESETS["smoke"], model="transformer"))[0],
            "sgd_batchnorm_augment_cnn5": group_of("cnn5", [(w, 0) for w in widths[:2]], IMAGE, images,
                                                   Recipe(optimizer="sgd", lr=0.01, batch_size=batch, augment=True)),
            "adam_resnet18": group_of("resnet18", [(w, 0) for w in sized(tiny, (2, 8), (1, 2))], IMAGE, images,
                                      Recipe(batch_size=batch))}


def vision_groups(config: vision_sweep.VisionSweepConfig, test_size: int) -> list[Group]:
    """One group per training-set size, as `vision_sweep.run` trains them (one model family, as `full` has)."""
    runs, shape = vision_sweep.run_configs(config), vision_sweep.input_shape(config.dataset)
    recipe = Recipe(optimizer=config.optimizer, lr=config.lr, momentum=config.momentum, batch_size=config.batch_size,
                    epochs=config.epochs, augment=config.augment)
    sizes = sorted({run["n_train"] for run in runs})
    signal = config.dataset in vision_sweep.MNIST1D_POOLS
    return [group_of(runs[0]["model"], [(run["width"], run["seed"]) for run in runs if run["n_train"] == n], shape,
                     signals(n, test_size) if signal else random_data(n, test_size, shape), recipe, config.eval_count)
            for n in sizes]


def preset_groups(tiny: bool) -> dict[str, Callable[[], list[Group]]]:
    """The `full` presets that build offline, each as the groups of its in-process run (shrunk in tiny mode)."""
    mnist, grok = mnist1d_sweep.PRESETS["full"], grokking.PRESETS["full"]
    cnn, vision = mnist1d_cnn.PRESETS["full"], vision_sweep.PRESETS["full"]
    if tiny:
        mnist = replace(mnist, widths=(2, 8), noises=(0.2,), seeds=(0,), n_train=200)
        grok = replace(grok, modulus=11, widths=(8, 16), control_width=16, seeds=(0,))
        cnn = replace(cnn, widths=(2, 8), seeds=(0,), n_trains=(200, 100), test_size=1000)
        vision = replace(vision, widths=(1, 2), noises=(0.2,), n_trains=(100,))
    recipe = Recipe(optimizer=mnist.optimizer, lr=mnist.lr, momentum=mnist.momentum, loss=mnist.loss,
                    batch_size=mnist.batch_size, epochs=mnist.epochs)
    runs = [(run["width"], run["seed"]) for run in mnist1d_sweep.run_configs(mnist)]
    return {"mnist1d_sweep": lambda: [group_of(mnist.model, runs, SIGNAL, signals(mnist.n_train, 1000), recipe,
                                               mnist.eval_count)],
            "grokking": lambda: grokking_groups(grok),
            "mnist1d_cnn": lambda: vision_groups(cnn, cnn.test_size),
            "vision_sweep (cifar10 shapes, random images)":
                lambda: vision_groups(vision, sized(tiny, CIFAR10_TEST, 200))}
