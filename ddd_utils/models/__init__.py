"""Networks whose width is the knob of the deep double-descent sweeps, and a by-name builder for them."""

from __future__ import annotations

import math

from torch import nn

from ddd_utils._checks import check_positive_int
from ddd_utils.models.cnn import CNN5, StridedCNN
from ddd_utils.models.mlp import MLP, grow_from
from ddd_utils.models.resnet import PreActBlock, PreActResNet18


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters, the x-axis of a model-wise double-descent curve."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _mlp(width: int, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    return MLP(math.prod(input_shape), width, num_classes)


def _mlp2(width: int, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    return MLP(math.prod(input_shape), width, num_classes, depth=2)


def _channels_and_dims(name: str, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(input channels, 1 or 2 spatial dimensions) of a signal (L,) or (C, L), or an image (C, H, W); a bare signal
    has one channel, which the networks add to (N, L) inputs."""
    if len(input_shape) == 1:
        return 1, 1
    if len(input_shape) in (2, 3):
        return input_shape[0], len(input_shape) - 1
    raise ValueError(f"input_shape for {name} must be (L,), (C, L) or (C, H, W); got {input_shape}")


def _cnn5(width: int, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    in_channels, dims = _channels_and_dims("cnn5", input_shape)
    return CNN5(width, num_classes, in_channels=in_channels, dims=dims)


def _strided_cnn(width: int, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    if len(input_shape) != 1:
        raise ValueError(f"input_shape for strided_cnn must be a bare signal (L,); got {input_shape}")
    return StridedCNN(width, num_classes, length=input_shape[0])


def _resnet18(width: int, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    in_channels, dims = _channels_and_dims("resnet18", input_shape)
    return PreActResNet18(width, num_classes, in_channels=in_channels, dims=dims)


MODELS = {"mlp": _mlp, "mlp2": _mlp2, "cnn5": _cnn5, "strided_cnn": _strided_cnn, "resnet18": _resnet18}


def build_model(name: str, width: int, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """The model named `name` in MODELS at width `width`, for inputs of shape `input_shape` (no batch dimension)."""
    if name not in MODELS:
        raise ValueError(f"name must be one of {tuple(MODELS)}; got {name!r}")
    width = check_positive_int("width", width)
    input_shape = tuple(input_shape)
    if not input_shape:
        raise ValueError("input_shape must have at least one dimension (it excludes the batch dimension); got ()")
    for size in input_shape:
        check_positive_int("input_shape entries", size)
    return MODELS[name](width, input_shape, num_classes)


__all__ = ["CNN5", "MLP", "MODELS", "PreActBlock", "PreActResNet18", "StridedCNN", "build_model", "count_parameters",
           "grow_from"]
