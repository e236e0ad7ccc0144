"""A fully connected network whose hidden width is the capacity knob of a double-descent sweep."""

from __future__ import annotations

import torch
from torch import nn

from ddd_utils._checks import check_positive_int


class MLP(nn.Module):
    """`depth` hidden layers of `width` ReLU units and a linear head; inputs of any shape are flattened."""

    def __init__(self, in_features: int, width: int, num_classes: int, depth: int = 1):
        super().__init__()
        in_features = check_positive_int("in_features", in_features)
        width = check_positive_int("width", width)
        num_classes = check_positive_int("num_classes", num_classes)
        depth = check_positive_int("depth", depth)
        layers: list[nn.Module] = [nn.Flatten()]
        for fan_in in [in_features] + [width] * (depth - 1):
            layers += [nn.Linear(fan_in, width), nn.ReLU()]
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
