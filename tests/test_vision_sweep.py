"""Chapter 5's sweeps (CNN5, ResNet18 and Greydanus's strided CNN over width x noise x training-set size): their
configs and presets, the nested noisy training sets, the real CIFAR-10 loader on tiny files, and the tables read
from their records."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from test_datasets import _write_cifar

from ddd_utils.analysis import sweep_curves
from ddd_utils.data.subsets import nested_stratified_order
from ddd_utils.engine.sweep import run_sweep
from ddd_utils.experiments import mnist1d_cnn, vision_sweep
from ddd_utils.models import build_model, count_parameters
from ddd_utils.notebook.presets import PRESETS

TINY = vision_sweep.VisionSweepConfig(dataset="digits", widths=(1, 2), noises=(0.0, 0.2), n_trains=(60, 30),
                                      seeds=(0, 1), epochs=3, lr=1e-3, augment=False, eval_count=3,
                                      checkpoint_every=1)


def test_every_preset_exists_and_auto_never_means_paper():
    assert set(vision_sweep.PRESETS) == set(PRESETS) == set(vision_sweep.PRESET_TIMES)
    assert vision_sweep.PRESETS["paper"].epochs == 4000 and vision_sweep.PRESETS["paper"].lr == 1e-4
    assert vision_sweep.PRESETS["paper"].widths == tuple(range(1, 65))
    for name in ("smoke", "cpu"):  # what CI and a laptop run must need no download
        assert vision_sweep.PRESETS[name].dataset in ("digits", "mnist1d")


@pytest.mark.parametrize(("change", "name"), [
    ({"dataset": "imagenet"}, "dataset"), ({"models": ("vit",)}, "models"), ({"models": ()}, "models"),
    ({"dataset": "mnist1d", "augment": True}, "augment"), ({"widths": (0,)}, "width"),
    ({"noises": (1.5,)}, "noise"), ({"n_trains": (1301,)}, "n_train"), ({"n_trains": ()}, "n_trains"),
    ({"epochs": 0}, "epochs"), ({"optimizer": "lbfgs"}, "optimizer"), ({"lr": 0.0}, "lr"),
    ({"noise_kind": "uniform"}, r"noise_kind must be one of \('wrong_class', 'any_class'\)"),
    ({"models": ("strided_cnn",)}, "strided_cnn is Greydanus's 1-D network"),
    ({"test_size": 2000}, r"test_size can be changed for the datasets \('mnist1d', 'mnist1d_16k'\) only"),
    ({"dataset": "mnist1d", "test_size": 1005}, "test_size must be a multiple of 10"),
    ({"momentum": -0.1}, "momentum"),
    ({"dataset": "mnist1d", "models": ("strided_cnn",), "n_trains": (4000,), "widths": (2, 4)},
     "widths must reach a width that can fit n_train = 4000"),
])
def test_bad_configs_are_refused_naming_the_parameter(change, name):
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(TINY, **change)


def test_run_configs_put_every_noise_at_the_first_size_and_the_largest_noise_at_the_others():
    configs = vision_sweep.run_configs(TINY)
    settings = sorted({(c["n_train"], c["noise"]) for c in configs})
    assert settings == [(30, 0.2), (60, 0.0), (60, 0.2)]
    assert len(configs) == len(settings) * len(TINY.seeds) * len(TINY.widths)
    assert len({tuple(sorted(c.items())) for c in configs}) == len(configs)


def test_nested_stratified_order_is_a_permutation_whose_prefixes_are_class_balanced():
    labels = np.repeat(np.arange(4), [30, 25, 30, 40])
    order = nested_stratified_order(labels, seed=3)
    assert sorted(order.tolist()) == list(range(labels.size))
    for n in range(1, 100):  # while every class still has members, counts differ by at most one
        counts = np.bincount(labels[order[:n]], minlength=4)
        assert counts.max() - counts.min() <= 1
    assert not np.array_equal(order, nested_stratified_order(labels, seed=4))
    with pytest.raises(ValueError, match="labels"):
        nested_stratified_order(np.array([0.5, 1.5]))


@pytest.mark.parametrize("dataset", ["digits", "mnist1d"])
def test_a_smaller_training_set_is_a_prefix_with_the_same_corrupted_labels(dataset):
    small = vision_sweep.training_data(dataset, 100, 0.3, seed=5)
    large = vision_sweep.training_data(dataset, 400, 0.3, seed=5)
    for name in ("x_train", "y_train", "corrupted"):
        assert torch.equal(getattr(small, name), getattr(large, name)[:100])
    assert torch.equal(small.x_test, large.x_test) and torch.equal(small.y_test, large.y_test)
    assert 0.2 < large.corrupted.float().mean() < 0.4
    other_seed = vision_sweep.training_data(dataset, 400, 0.3, seed=6)
    assert not torch.equal(other_seed.corrupted, large.corrupted)
    assert tuple(large.x_train.shape[1:]) == vision_sweep.input_shape(dataset)
    with pytest.raises(ValueError, match="n_train"):
        vision_sweep.training_data(dataset, vision_sweep.POOL_SIZES[dataset] + 1, 0.3, seed=5)


def test_cifar10_runs_through_the_real_loader_on_tiny_files_in_the_real_format(tmp_path):
    train_labels, test_labels = _write_cifar(tmp_path)
    vision_sweep._pool.cache_clear()
    try:
        data = vision_sweep.training_data("cifar10", 6, 0.0, seed=0, data_root=str(tmp_path))
        assert tuple(data.x_train.shape) == (6, 3, 32, 32) and data.y_test.tolist() == test_labels
        assert set(data.y_train.tolist()) <= set(train_labels)
        job = [{**vision_sweep.run_configs(dataclasses.replace(TINY, dataset="cifar10", n_trains=(6,),
                                                               noises=(0.0,), seeds=(0,), widths=(1,),
                                                               data_root=str(tmp_path)))[0]}]
        (history,) = vision_sweep.run(job)
        assert history["epoch"] == [1, 2, 3] and len(history["test_error"]) == 3
    finally:
        vision_sweep._pool.cache_clear()


def test_a_job_with_two_training_sizes_trains_each_as_if_alone():
    configs = vision_sweep.run_configs(dataclasses.replace(TINY, seeds=(0,), widths=(2,)))
    together = vision_sweep.run(configs)
    for config, history in zip(configs, together, strict=True):
        (alone,) = vision_sweep.run([config])
        assert history["test_error"] == alone["test_error"] and history["train_error"] == alone["train_error"]


def test_one_sweep_gives_the_model_wise_curve_and_the_width_by_epoch_table(tmp_path):
    records = run_sweep(vision_sweep.run, vision_sweep.run_configs(TINY), tmp_path, progress=False)
    assert not list((tmp_path / "checkpoints").iterdir())  # every part's checkpoint removed with its job
    chosen = sweep_curves.select(records, n_train=60, noise=0.2)
    table = sweep_curves.epoch_table(chosen)
    assert table["widths"].tolist() == [1, 2] and table["epochs"].tolist() == [1, 2, 3]
    for i, width in enumerate((1, 2)):
        histories = [r["history"]["test_error"] for r in chosen if r["config"]["width"] == width]
        np.testing.assert_allclose(table["test_error"][i], np.mean(histories, axis=0))
    curves = sweep_curves.final_curves(chosen, 0.2)
    np.testing.assert_allclose(curves["test_error"].mean(axis=0), table["test_error"][:, -1])
    with pytest.raises(ValueError, match="one run per"):
        sweep_curves.epoch_table(sweep_curves.select(records, noise=0.2))  # two sizes mixed


def test_training_sets_of_one_size_share_one_copy_of_the_images():
    first = vision_sweep.training_data("mnist1d", 300, 0.2, seed=0)
    other = vision_sweep.training_data("mnist1d", 300, 0.1, seed=1, inputs=first)
    assert other.x_train is first.x_train and other.x_test is first.x_test
    alone = vision_sweep.training_data("mnist1d", 300, 0.1, seed=1)
    assert torch.equal(other.y_train, alone.y_train) and torch.equal(other.corrupted, alone.corrupted)
    assert torch.equal(other.x_train, alone.x_train)


def test_resnet18_trains_on_the_digits_images():
    config = dataclasses.replace(TINY, models=("resnet18",), widths=(1,), noises=(0.2,), n_trains=(60,), seeds=(0,),
                                 epochs=2, eval_count=2)
    (history,) = vision_sweep.run(vision_sweep.run_configs(config))
    assert history["epoch"] == [1, 2] and 0.0 <= history["test_error"][-1] <= 1.0
    assert history["num_parameters"] > 0


def test_resnet18_trains_on_mnist1d_as_a_1d_network():
    from ddd_utils.experiments.mnist1d_cnn import PRESETS as CNN_PRESETS

    config = dataclasses.replace(CNN_PRESETS["smoke"], models=("resnet18",), widths=(1,), n_trains=(100,), epochs=2,
                                 eval_count=2)
    (history,) = vision_sweep.run(vision_sweep.run_configs(config))
    assert history["epoch"] == [1, 2] and 0.0 <= history["test_error"][-1] <= 1.0
    assert history["num_parameters"] == count_parameters(build_model("resnet18", 1, (40,), 10))


def test_the_mnist1d_cnn_paper_preset_is_greydanus_setting():
    paper = mnist1d_cnn.PRESETS["paper"]
    assert set(mnist1d_cnn.PRESETS) == set(PRESETS) == set(mnist1d_cnn.PRESET_TIMES)
    assert paper.models == ("strided_cnn",) and paper.dataset == "mnist1d" and paper.test_size == 12000
    assert paper.widths == (*range(2, 30, 2), *range(30, 101, 5)) and len(paper.widths) == 29
    assert (paper.optimizer, paper.lr, paper.momentum, paper.batch_size, paper.epochs) == ("sgd", 0.01, 0.9, 100, 500)
    assert paper.noises == (0.15,) and paper.noise_kind == "any_class" and paper.n_trains[0] == 4000
    assert len(paper.seeds) >= 3 and paper.n_trains[1] * 4 == paper.n_trains[0]  # sample-wise: sizes 4x apart


def test_greydanus_data_are_one_generator_run_of_16000_sequences_with_a_quarter_to_train():
    from ddd_utils.data.mnist1d import make_mnist1d

    data = vision_sweep.training_data("mnist1d", 4000, 0.15, seed=0, noise_kind="any_class", test_size=12000)
    assert data.x_train.shape == (4000, 40) and data.x_test.shape == (12000, 40)
    reference = make_mnist1d(num_samples=16000, train_split=0.25)
    np.testing.assert_array_equal(data.x_test.numpy(), reference["x_test"])
    assert sorted(map(tuple, data.x_train.numpy())) == sorted(map(tuple, reference["x_train"]))  # nested order only
    wrong = data.corrupted.float().mean().item()
    assert abs(wrong - 0.135) < 4 * np.sqrt(0.135 * 0.865 / 4000)  # 15% redrawn over all 10 classes
    # The default test set is unchanged by the new parameter: the 1,000 of the published split.
    assert vision_sweep.training_data("mnist1d", 100, 0.0, seed=0).x_test.shape == (1000, 40)


def test_the_readers_cnn_run_is_the_published_recipe_on_fewer_widths_and_seeds():
    # So its runs are the shipped paper run's own (measured: equal final errors), and the page can compare them.
    cpu, paper = (dataclasses.asdict(mnist1d_cnn.PRESETS[name]) for name in ("cpu", "paper"))
    differing = {name for name in paper if cpu[name] != paper[name]}
    assert differing == {"widths", "seeds", "n_trains"}
    assert set(cpu["widths"]) <= set(paper["widths"]) and set(cpu["seeds"]) <= set(paper["seeds"])
    assert cpu["n_trains"] == paper["n_trains"][:1]


def test_the_larger_mnist1d_pool_holds_16000_training_sequences_beside_its_test_set():
    data = vision_sweep.training_data("mnist1d_16k", 16000, 0.15, 0, noise_kind="any_class", test_size=1000)
    assert data.x_train.shape == (16000, 40) and data.x_test.shape == (1000, 40)
    assert abs(data.corrupted.float().mean().item() - 0.135) < 0.01  # 15% redrawn from all ten: ~13.5% wrong
    resnets = dict(models=("resnet18",), widths=(2,), n_trains=(16000,), augment=False)
    vision_sweep.VisionSweepConfig(dataset="mnist1d_16k", **resnets)
    with pytest.raises(ValueError, match=r"n_train must be in \[1, 4000\]"):
        vision_sweep.VisionSweepConfig(dataset="mnist1d", **resnets)

