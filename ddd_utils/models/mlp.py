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


@torch.no_grad()
def grow_from(big: MLP, small: MLP, std: float = 0.1) -> MLP:
    """Initialise `big` from a trained narrower `small` (Belkin et al. 2019's weight reuse): every layer's old block
    is copied into the first units and all new weights and biases are drawn from N(0, std^2) (std 0.1: their
    variance 0.01). Returns `big`."""
    big_layers = [layer for layer in big.net if isinstance(layer, nn.Linear)]
    small_layers = [layer for layer in small.net if isinstance(layer, nn.Linear)]
    if len(big_layers) != len(small_layers):
        raise ValueError("big and small must have the same depth")
    for new, old in zip(big_layers, small_layers, strict=True):
        rows, cols = old.weight.shape
        if new.weight.shape[0] < rows or new.weight.shape[1] < cols:
            raise ValueError(f"big must be at least as wide as small; got {tuple(new.weight.shape)} < "
                             f"{(rows, cols)}")
        new.weight.normal_(0.0, std)
        new.bias.normal_(0.0, std)
        new.weight[:rows, :cols] = old.weight
        new.bias[:rows] = old.bias
    return big
