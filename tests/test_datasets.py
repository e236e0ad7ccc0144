"""Tests for the dataset loaders: MNIST-1D made offline, CIFAR-10 and MNIST read from tiny files in the real formats."""

import gzip
import math
import pickle
import random
import struct

import numpy as np
import pytest
import torch

import ddd_utils.data.mnist1d as mnist1d_module
from ddd_utils.data.mnist1d import make_mnist1d
from ddd_utils.data.vision import MNIST_MEAN, MNIST_STD, load_cifar10, load_mnist, to_tensor_dataset

pytestmark = pytest.mark.usefixtures("no_network")  # nothing here may download


@pytest.fixture
def fresh_cache():
    """Empty the MNIST-1D cache so the generator really runs (and its seeding really happens)."""
    mnist1d_module._generate.cache_clear()


# ---------------------------------------------------------------------------------------------------------- MNIST-1D


def test_mnist1d_defaults_are_the_published_setting():
    data = make_mnist1d()
    assert set(data) == {"x_train", "y_train", "x_test", "y_test"}
    assert data["x_train"].shape == (4000, 40) and data["x_test"].shape == (1000, 40)
    assert data["y_train"].shape == (4000,) and data["y_test"].shape == (1000,)
    assert data["x_train"].dtype == data["x_test"].dtype == np.float32
    assert data["y_train"].dtype == data["y_test"].dtype == np.int64
    assert np.all(np.isfinite(data["x_train"])) and np.all(np.isfinite(data["x_test"]))
    for labels in (data["y_train"], data["y_test"]):
        assert set(np.unique(labels)) == set(range(10))
    # Equal counts per class over both splits, as the generator makes them.
    assert np.array_equal(np.bincount(np.concatenate([data["y_train"], data["y_test"]])), np.full(10, 500))


def test_mnist1d_is_deterministic_in_seed_and_differs_across_seeds(fresh_cache):
    first = make_mnist1d(num_samples=200, seed=3)
    mnist1d_module._generate.cache_clear()  # regenerate rather than read the cache
    again = make_mnist1d(num_samples=200, seed=3)
    other = make_mnist1d(num_samples=200, seed=4)
    for key in first:
        assert np.array_equal(first[key], again[key])
    assert not np.array_equal(first["x_train"], other["x_train"])


def test_mnist1d_leaves_the_global_random_states_unchanged(fresh_cache):
    np.random.seed(123)
    random.seed(123)
    numpy_before, python_before = np.random.get_state(), random.getstate()
    make_mnist1d(num_samples=100, seed=0)
    numpy_after = np.random.get_state()
    assert numpy_after[0] == numpy_before[0]
    assert np.array_equal(numpy_after[1], numpy_before[1])
    assert numpy_after[2:] == numpy_before[2:]
    assert random.getstate() == python_before
    # And the next draws are those a seed of 123 gives.
    draw = np.random.rand()
    np.random.seed(123)
    assert draw == np.random.rand()


def test_mnist1d_cache_returns_equal_copies_that_callers_may_modify(fresh_cache):
    first = make_mnist1d(num_samples=100, seed=1)
    hits = mnist1d_module._generate.cache_info().hits
    first["x_train"][:] = 0.0
    first["y_train"][:] = -1
    second = make_mnist1d(num_samples=100, seed=1)
    assert mnist1d_module._generate.cache_info().hits == hits + 1
    assert not np.any(second["y_train"] == -1)
    assert not np.all(second["x_train"] == 0.0)
    mnist1d_module._generate.cache_clear()
    regenerated = make_mnist1d(num_samples=100, seed=1)
    for key in regenerated:
        assert np.array_equal(second[key], regenerated[key])


@pytest.mark.parametrize(
    ("num_samples", "train_split", "num_train", "num_test"),
    [(300, 0.5, 150, 150), (105, 0.8, 80, 20), (10, 0.3, 3, 7)],  # 105 rounds down to 10 per class
)
def test_mnist1d_split_sizes(num_samples, train_split, num_train, num_test):
    data = make_mnist1d(num_samples=num_samples, seed=0, train_split=train_split)
    assert data["x_train"].shape == (num_train, 40) and data["y_train"].shape == (num_train,)
    assert data["x_test"].shape == (num_test, 40) and data["y_test"].shape == (num_test,)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"num_samples": 9}, ValueError, "num_samples"),
        ({"num_samples": 100.0}, TypeError, "num_samples"),
        ({"train_split": 0.0}, ValueError, "train_split"),
        ({"train_split": 1.0}, ValueError, "train_split"),
        ({"train_split": -0.2}, ValueError, "train_split"),
        ({"train_split": math.nan}, ValueError, "train_split"),
        ({"num_samples": 10, "train_split": 0.05}, ValueError, "train_split"),  # no training sample left
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 2**32}, ValueError, "seed"),
    ],
)
def test_mnist1d_rejects_bad_inputs_naming_the_parameter(kwargs, error, name):
    with pytest.raises(error, match=name):
        make_mnist1d(**kwargs)


# ---------------------------------------------------------------------------------------------------------- CIFAR-10


def _write_cifar_batch(path, data, labels):
    """Write one batch exactly as the real files are laid out: a pickled dict with bytes keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    batch = {
        b"batch_label": path.name.encode(),
        b"labels": [int(label) for label in labels],
        b"data": np.asarray(data, dtype=np.uint8),
        b"filenames": [f"image_{i}.png".encode() for i in range(len(labels))],
    }
    with open(path, "wb") as file:
        pickle.dump(batch, file, protocol=2)


def _constant_planes(red, green, blue):
    """One CIFAR row (3072 bytes) whose red, green and blue planes are constant."""
    return np.repeat(np.array([red, green, blue], dtype=np.uint8), 1024)


def _write_cifar(root):
    """Five training batches of 2 images each and a test batch of 3; returns the expected labels."""
    folder = root / "cifar-10-batches-py"
    ramp = (np.arange(3072) % 251).astype(np.uint8)  # byte j = c * 1024 + row * 32 + col holds j % 251
    train_labels = []
    for i in range(1, 6):
        labels = [(2 * i) % 10, (2 * i + 1) % 10]
        rows = [_constant_planes(10, 20, 30), ramp] if i == 1 else [_constant_planes(i, 100 + i, 200 + i)] * 2
        _write_cifar_batch(folder / f"data_batch_{i}", np.stack(rows), labels)
        train_labels += labels
    test_labels = [7, 3, 9]
    test_rows = [_constant_planes(1, 2, 3), _constant_planes(4, 5, 6), ramp]
    _write_cifar_batch(folder / "test_batch", np.stack(test_rows), test_labels)
    return train_labels, test_labels


def test_cifar10_decodes_channel_major_rows_to_height_width_channel(tmp_path):
    train_labels, _ = _write_cifar(tmp_path)
    images, labels = load_cifar10(tmp_path, train=True)
    assert images.shape == (10, 32, 32, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and labels.tolist() == train_labels
    assert np.all(images[0] == np.array([10, 20, 30]))  # R, G, B at every pixel
    row, col, channel = np.meshgrid(np.arange(32), np.arange(32), np.arange(3), indexing="ij")
    assert np.array_equal(images[1], (channel * 1024 + row * 32 + col) % 251)
    for i in range(2, 6):  # batches come in order data_batch_1..5
        assert np.all(images[2 * i - 2 : 2 * i] == np.array([i, 100 + i, 200 + i]))


def test_cifar10_test_split_reads_only_the_test_batch(tmp_path):
    _, test_labels = _write_cifar(tmp_path)
    images, labels = load_cifar10(str(tmp_path), train=False)
    assert images.shape == (3, 32, 32, 3)
    assert labels.tolist() == test_labels
    assert np.all(images[1] == np.array([4, 5, 6]))
    assert images[2, 0, 1, 2] == (2 * 1024 + 1) % 251


def test_cifar10_rejects_a_batch_of_the_wrong_shape(tmp_path):
    _write_cifar(tmp_path)
    _write_cifar_batch(tmp_path / "cifar-10-batches-py" / "test_batch", np.zeros((2, 3000), np.uint8), [0, 1])
    with pytest.raises(ValueError, match="test_batch"):
        load_cifar10(tmp_path, train=False)


def test_cifar10_missing_files_name_the_path_and_how_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True") as info:
        load_cifar10(tmp_path)
    assert str(tmp_path / "cifar-10-batches-py" / "data_batch_1") in str(info.value)
    _write_cifar(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_4").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_4"):
        load_cifar10(tmp_path)


def test_cifar10_download_asks_torchvision_once_then_reads(tmp_path, monkeypatch):
    import torchvision

    calls = []

    def fake_cifar10(root, train, download):
        calls.append((root, train, download))
        _write_cifar(tmp_path)

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", fake_cifar10)
    images, _ = load_cifar10(tmp_path, train=True, download=True)
    assert calls == [(str(tmp_path), True, True)]
    assert images.shape == (10, 32, 32, 3)
    load_cifar10(tmp_path, train=True, download=True)  # files present: no second fetch
    assert len(calls) == 1


# ------------------------------------------------------------------------------------------------------------- MNIST


def _write_idx(path, magic, array, compress=False):
    """Write `array` (uint8) as an IDX file: big-endian magic, one int32 per dimension, then the bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = struct.pack(f">{1 + array.ndim}i", magic, *array.shape) + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(path.with_name(path.name + ".gz"), "wb") as file:
            file.write(payload)
    else:
        path.write_bytes(payload)


def _write_mnist(root, prefix, num_images, seed=0, compress=False):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(num_images, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=num_images, dtype=np.uint8)
    raw = root / "MNIST" / "raw"
    _write_idx(raw / f"{prefix}-images-idx3-ubyte", 2051, images, compress)
    _write_idx(raw / f"{prefix}-labels-idx1-ubyte", 2049, labels, compress)
    return images, labels


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(("train", "prefix"), [(True, "train"), (False, "t10k")])
def test_mnist_round_trips_idx_files(tmp_path, train, prefix, compress):
    expected_images, expected_labels = _write_mnist(tmp_path, prefix, num_images=5, compress=compress)
    _write_mnist(tmp_path, "t10k" if train else "train", num_images=3, seed=1)  # the other split must not be read
    images, labels = load_mnist(tmp_path, train=train)
    assert images.dtype == np.uint8 and images.shape == (5, 28, 28)
    assert labels.dtype == np.int64 and labels.shape == (5,)
    assert np.array_equal(images, expected_images)
    assert np.array_equal(labels, expected_labels)


def test_mnist_rejects_a_wrong_magic_number(tmp_path):
    _write_mnist(tmp_path, "train", num_images=2)
    path = tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    _write_idx(path, 2051, np.zeros(2, np.uint8))  # an images magic number on a labels file
    with pytest.raises(ValueError, match="magic number 2051, expected 2049"):
        load_mnist(tmp_path)


def test_mnist_rejects_a_truncated_file_and_mismatched_counts(tmp_path):
    _write_mnist(tmp_path, "train", num_images=2)
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="header promises"):
        load_mnist(tmp_path)
    _write_mnist(tmp_path, "train", num_images=2)
    _write_idx(tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte", 2049, np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="2 images but .* 3 labels"):
        load_mnist(tmp_path)


def test_mnist_missing_files_name_the_path_and_how_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True") as info:
        load_mnist(tmp_path, train=False)
    assert str(tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte") in str(info.value)


def test_mnist_download_asks_torchvision_then_reads(tmp_path, monkeypatch):
    import torchvision

    calls = []

    def fake_mnist(root, train, download):
        calls.append((root, train, download))
        _write_mnist(tmp_path, "t10k", num_images=4, compress=True)

    monkeypatch.setattr(torchvision.datasets, "MNIST", fake_mnist)
    images, _ = load_mnist(tmp_path, train=False, download=True)
    assert calls == [(str(tmp_path), False, True)]
    assert images.shape == (4, 28, 28)


# ------------------------------------------------------------------------------------------------- to_tensor_dataset


def test_to_tensor_dataset_makes_normalised_nchw_tensors():
    images = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    images[1, 5, 7] = [51, 102, 255]
    mean, std = (0.5, 0.25, 0.1), (0.5, 0.25, 0.2)
    dataset = to_tensor_dataset(images, np.array([3, 8]), mean, std)
    x, y = dataset.tensors
    assert x.shape == (2, 3, 32, 32) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and y.tolist() == [3, 8]
    assert len(dataset) == 2
    # Pixel (5, 7) of image 1: (value / 255 - mean[c]) / std[c] in channel c.
    assert x[1, :, 5, 7].tolist() == pytest.approx([(0.2 - 0.5) / 0.5, (0.4 - 0.25) / 0.25, (1.0 - 0.1) / 0.2])
    # A zero pixel is -mean / std in every channel.
    assert x[0, :, 0, 0].tolist() == pytest.approx([-1.0, -1.0, -0.5])


def test_to_tensor_dataset_adds_a_channel_to_mnist_images():
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    images[2, 27, 0] = 255
    x, y = to_tensor_dataset(images, np.arange(3), MNIST_MEAN, MNIST_STD).tensors
    assert x.shape == (3, 1, 28, 28) and x.dtype == torch.float32
    assert x[2, 0, 27, 0].item() == pytest.approx((1.0 - 0.1307) / 0.3081)
    assert x[2, 0, 0, 27].item() == pytest.approx(-0.1307 / 0.3081)


@pytest.mark.parametrize(
    ("images", "mean", "std", "name"),
    [
        (np.zeros((2, 32, 32, 3), np.uint8), (0.5,), (0.5,), "one value per channel"),
        (np.zeros((2, 28, 28), np.float32), (0.5,), (0.5,), "uint8"),
        (np.zeros((2, 28, 28), np.uint8), (0.5,), (0.0,), "std"),
    ],
)
def test_to_tensor_dataset_rejects_bad_inputs(images, mean, std, name):
    with pytest.raises(ValueError, match=name):
        to_tensor_dataset(images, np.zeros(2, np.int64), mean, std)


def test_the_digits_are_parsed_once_scaled_to_the_unit_interval_and_read_only():
    from ddd_utils.data.digits import digits

    images, labels = digits()
    assert digits()[0] is images  # cached: later calls do not parse the file again
    assert images.shape == (1797, 64) and images.min() == 0.0 and images.max() == 1.0
    assert sorted(set(labels.tolist())) == list(range(10))
    with pytest.raises(ValueError, match="read-only"):
        images[0, 0] = 0.5  # a caller cannot change what every later sweep reads
