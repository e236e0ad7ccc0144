"""Pre-activation ResNet18 (He et al. 2016) with stage widths k, 2k, 4k, 8k, as in Nakkiran et al. (2019).

Follows kuangliu/pytorch-cifar (3x3 stride-1 stem for 32x32 inputs, no bias in convolutions) with one change:
a BatchNorm-ReLU after the last stage, since in a pre-activation network the last block's output is otherwise
an un-normalised sum. At k = 64 and 10 classes that adds 2 * 512 parameters to kuangliu's 11,171,146.
`dims=1` is the same network for signals (kernels of 3 samples instead of 3 x 3 pixels), for MNIST-1D.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ddd_utils._checks import check_positive_int
from ddd_utils.models.cnn import layers_for


class PreActBlock(nn.Module):
    """BN-ReLU-conv twice, added to the input; a 1x1 conv shortcut when the stride or channel count changes."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, dims: int = 2):
        super().__init__()
        conv, norm = layers_for(dims)[:2]
        self.bn1 = norm(in_channels)
        self.conv1 = conv(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = norm(out_channels)
        self.conv2 = conv(out_channels, out_channels, kernel_size=3, stride=1, padding=1, bias=False)
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = conv(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        # A projection shortcut sees the pre-activated input (He et al. 2016); the identity sees x itself.
        shortcut = x if self.shortcut is None else self.shortcut(out)
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet18(nn.Module):
    """Stem conv, four stages of two PreActBlocks (strides 1, 2, 2, 2), BN-ReLU, global average pool, linear head."""

    def __init__(self, width: int = 64, num_classes: int = 10, in_channels: int = 3, dims: int = 2):
        super().__init__()
        k = check_positive_int("width", width)
        num_classes = check_positive_int("num_classes", num_classes)
        in_channels = check_positive_int("in_channels", in_channels)
        conv, norm = layers_for(dims)[:2]
        self.dims = dims
        self.stem = conv(in_channels, k, kernel_size=3, stride=1, padding=1, bias=False)
        blocks = []
        c_in = k
        for c_out, stride in [(k, 1), (2 * k, 2), (4 * k, 2), (8 * k, 2)]:
            blocks += [PreActBlock(c_in, c_out, stride, dims), PreActBlock(c_out, c_out, 1, dims)]
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.bn = norm(8 * k)
        self.head = nn.Linear(8 * k, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dims == 1 and x.dim() == 2:  # (N, L) signals get their single channel
            x = x.unsqueeze(1)
        out = F.relu(self.bn(self.blocks(self.stem(x))))
        return self.head(out.mean(dim=tuple(range(2, out.dim()))))  # global average pool
