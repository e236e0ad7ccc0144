"""The convolutional networks of the CNN chapter, each with a width knob: the 5-layer CNN of Nakkiran et al. (2019),
"Deep Double Descent", with layer widths k, 2k, 4k, 8k (`dims=2` is the paper's image network, `dims=1` the same
architecture with 1-D convolutions, for signals such as MNIST-1D), and Greydanus's 3-layer strided MNIST-1D CNN.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from ddd_utils._checks import check_positive_int

_LAYERS = {1: (nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d, nn.AdaptiveMaxPool1d),
           2: (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AdaptiveMaxPool2d)}


def layers_for(dims: int) -> tuple[type, type, type, type]:
    """(convolution, BatchNorm, max-pool, adaptive max-pool) classes for signals (`dims=1`) or images (2)."""
    if dims not in _LAYERS:
        raise ValueError(f"dims must be 1 (signals) or 2 (images); got {dims!r}")
    return _LAYERS[dims]


class CNN5(nn.Module):
    """Four conv-BN-ReLU blocks of k, 2k, 4k, 8k channels (k = `width`), max-pooling, and a linear head.

    The paper pools by 2 after blocks 2 and 3 and by 8 after block 4, which leaves 1x1 on 32x32 inputs; the last
    pool is adaptive here so that any input of side >= 4 ends at one value per channel.
    """

    def __init__(self, width: int, num_classes: int = 10, in_channels: int = 3, dims: int = 2):
        super().__init__()
        k = check_positive_int("width", width)
        num_classes = check_positive_int("num_classes", num_classes)
        in_channels = check_positive_int("in_channels", in_channels)
        conv, norm, pool, global_pool = layers_for(dims)
        self.dims, self.width = dims, k
        channels = [in_channels, k, 2 * k, 4 * k, 8 * k]
        layers: list[nn.Module] = []
        for block, (c_in, c_out) in enumerate(pairwise(channels), start=1):
            # No conv bias: the BatchNorm shift that follows makes it redundant.
            layers += [conv(c_in, c_out, kernel_size=3, padding=1, bias=False), norm(c_out), nn.ReLU()]
            if block in (2, 3):
                layers.append(pool(2))
        layers += [global_pool(1), nn.Flatten(), nn.Linear(8 * k, num_classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dims == 1 and x.dim() == 2:  # (N, L) signals get their single channel
            x = x.unsqueeze(1)
        return self.net(x)


def strided_length(length: int) -> int:
    """The signal length StridedCNN's three strided convolutions leave of an input of `length` samples."""
    for kernel in (5, 3, 3):
        length = (length + 2 - kernel) // 2 + 1
    if length < 1:
        raise ValueError("length must be at least 2 samples for StridedCNN's three stride-2 convolutions")
    return length


class StridedCNN(nn.Module):
    """Greydanus's MNIST-1D CNN (the deep double-descent notebook of the MNIST-1D repository): three 1-D
    convolutions of `width` channels (kernels 5, 3, 3; stride 2; padding 1) with ReLUs, no normalisation, and a
    linear head on the flattened features (5 positions x `width` channels for the 40-sample signals)."""

    def __init__(self, width: int, num_classes: int = 10, length: int = 40):
        super().__init__()
        k = check_positive_int("width", width)
        num_classes = check_positive_int("num_classes", num_classes)
        length = check_positive_int("length", length)
        self.dims, self.width = 1, k
        self.net = nn.Sequential(
            nn.Conv1d(1, k, 5, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(k, k, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(k, k, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(k * strided_length(length), num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # (N, L) signals get their single channel
            x = x.unsqueeze(1)
        return self.net(x)
