"""CIFAR-10 and MNIST read from their standard on-disk formats, plus normalised tensor datasets for training.

The files are parsed here with numpy rather than through torchvision's dataset classes, so reading needs no torch
and files in the real format but not the real content (as in the tests) load too. torchvision is used only to
download, when asked to with `download=True`; torch only by `to_tensor_dataset`.
"""

from __future__ import annotations

import gzip
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from torch.utils.data import TensorDataset

# Per-channel pixel mean and standard deviation of the training sets, on the [0, 1] scale.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
MNIST_MEAN = (0.1307,)
MNIST_STD = (0.3081,)

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILES = ("test_batch",)

# IDX magic numbers: 0x0000 then type code 0x08 (unsigned byte) then the number of dimensions.
_IDX_IMAGES_MAGIC = 2051
_IDX_LABELS_MAGIC = 2049


def load_cifar10(root: str | Path, train: bool = True, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Read CIFAR-10 from `root/cifar-10-batches-py`: images uint8 (N, 32, 32, 3) in RGB, labels int64 (N,).

    The training set is data_batch_1..5 in order, the test set test_batch. With `download=True`, missing files are
    fetched once through torchvision first.
    """
    folder = Path(root) / CIFAR10_FOLDER
    paths = [folder / name for name in (CIFAR10_TRAIN_FILES if train else CIFAR10_TEST_FILES)]
    _ensure_files(paths, root, train, download, "CIFAR10")
    images, labels = [], []
    for path in paths:
        with open(path, "rb") as file:
            batch = pickle.load(file, encoding="bytes")  # the files were pickled by Python 2
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(batch[b"labels"]) != data.shape[0]:
            raise ValueError(
                f"{path} is not a CIFAR-10 batch: expected b'data' of shape (N, 3072) and N b'labels'; "
                f"got data of shape {data.shape} and {len(batch[b'labels'])} labels"
            )
        # Each row holds the red, then green, then blue 32 x 32 plane, each row-major.
        images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)


def load_mnist(root: str | Path, train: bool = True, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST from the IDX files in `root/MNIST/raw` (plain or .gz): images uint8 (N, 28, 28), labels int64 (N,).

    The layout is torchvision's, so `download=True` fetches missing files through torchvision.datasets.MNIST first.
    """
    prefix = "train" if train else "t10k"
    folder = Path(root) / "MNIST" / "raw"
    paths = [folder / f"{prefix}-images-idx3-ubyte", folder / f"{prefix}-labels-idx1-ubyte"]
    _ensure_files([_plain_or_gz(path) for path in paths], root, train, download, "MNIST")
    images_path, labels_path = (_plain_or_gz(path) for path in paths)
    images = _read_idx(images_path, _IDX_IMAGES_MAGIC)
    labels = _read_idx(labels_path, _IDX_LABELS_MAGIC).astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images_path} has {images.shape[0]} images but {labels_path} has {labels.shape[0]} labels")
    return images, labels


def to_tensor_dataset(images: np.ndarray, labels: ArrayLike, mean: Sequence[float], std: Sequence[float]
                      ) -> TensorDataset:
    """Wrap uint8 images as float32 tensors scaled to [0, 1] then normalised per channel: (x - mean) / std.

    `images` is (N, H, W, C) as from `load_cifar10`, giving (N, C, H, W), or (N, H, W) as from `load_mnist`, giving
    (N, 1, H, W); labels become int64. Pass the matching constants, e.g. CIFAR10_MEAN and CIFAR10_STD.
    """
    import torch
    from torch.utils.data import TensorDataset

    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError(
            f"images must be uint8 pixels of shape (N, H, W) or (N, H, W, C); got {images.dtype}, shape {images.shape}"
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0] or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be integers of shape (N,) = ({images.shape[0]},); got {labels.dtype} of shape {labels.shape}"
        )
    channels_first = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
    num_channels = channels_first.shape[1]
    mean = torch.tensor(mean, dtype=torch.float32).reshape(-1)
    std = torch.tensor(std, dtype=torch.float32).reshape(-1)
    if mean.numel() != num_channels or std.numel() != num_channels:
        raise ValueError(
            f"mean and std must have one value per channel ({num_channels}); got {mean.numel()} and {std.numel()}"
        )
    if not bool(torch.all(std > 0)):
        raise ValueError(f"std must be > 0 in every channel; got {std.tolist()}")
    x = torch.tensor(np.ascontiguousarray(channels_first), dtype=torch.float32).div_(255.0)
    x.sub_(mean.view(1, -1, 1, 1)).div_(std.view(1, -1, 1, 1))
    return TensorDataset(x, torch.tensor(labels, dtype=torch.int64))


def _ensure_files(paths: list[Path], root: str | Path, train: bool, download: bool, dataset: str) -> None:
    """Fetch the dataset through torchvision if any file is missing and `download` is set; else raise naming them."""
    missing = [path for path in paths if not path.exists()]
    if not missing:
        return
    if not download:
        raise FileNotFoundError(
            f"{dataset} files not found: expected {', '.join(str(path) for path in missing)}. "
            f"Pass download=True to fetch them into {Path(root)}."
        )
    import torchvision

    getattr(torchvision.datasets, dataset)(str(root), train=train, download=True)


def _plain_or_gz(path: Path) -> Path:
    """Return `path` if it exists, else its .gz sibling if that exists, else `path` (for the missing-file message)."""
    gz = path.with_name(path.name + ".gz")
    return gz if not path.exists() and gz.exists() else path


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes (big-endian header: magic, then one int32 size per dimension)."""
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as file:
        raw = file.read()
    ndim = magic & 0xFF
    header = np.frombuffer(raw, dtype=">i4", count=min(len(raw) // 4, 1 + ndim))
    if header.size < 1 + ndim or header[0] != magic:
        found = int(header[0]) if header.size else None
        raise ValueError(f"{path} is not an IDX file of the expected kind: magic number {found}, expected {magic}")
    shape = tuple(int(size) for size in header[1:])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 * (1 + ndim))
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {data.size} bytes of data but its header promises shape {shape}")
    return data.reshape(shape).copy()
