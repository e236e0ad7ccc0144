"""Many models of one shape trained as one module: their weights stacked along a leading model dimension.

The seeds and noise levels of one width are independent models doing the same small operations; run as one module
they pay Python's and the framework's per-step overhead once instead of once per model. Inputs and outputs carry the
model dimension first, (M, B, ...) in and (M, B, num_classes) out, so every model sees its own batch. No operation
mixes models: linear layers are batched matrix products, convolutions are grouped by model, and BatchNorm's
statistics are per channel, with each model owning its channels, so they are exactly the per-model statistics.
Training the stack therefore equals training each model alone, up to float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ddd_utils.models.cnn import CNN5, StridedCNN
from ddd_utils.models.mlp import MLP

# What `stack_models` returns and the engine trains: (indices into the models, the module that runs them).
Stacks = list[tuple[list[int], nn.Module]]


def _layout(model: nn.Module) -> tuple:
    """What must agree for models to share a stack: the class and every parameter's and buffer's shape."""
    return (type(model), *((name, tuple(t.shape)) for name, t in model.state_dict().items()))


def _check_same_layout(models: Sequence[nn.Module], kinds: type | tuple[type, ...]) -> None:
    if not models:
        raise ValueError("models must hold at least one model")
    if not all(isinstance(model, kinds) for model in models):
        names = " or ".join(kind.__name__ for kind in (kinds if isinstance(kinds, tuple) else (kinds,)))
        raise TypeError(f"every model must be a {names}")
    if len({_layout(model) for model in models}) != 1:
        raise ValueError("models must have identical shapes (the same width and input size) to be stacked")


def _on_device_of(model_layer: nn.Module, new_layer: nn.Module) -> nn.Module:
    """`new_layer` (built on `meta`: no random initialisation, which it does not need) moved, uninitialised, to the
    device and dtype of `model_layer`'s weights: a GPU, or `meta` in the tests. Every value is copied in after."""
    return new_layer.to_empty(device=model_layer.weight.device).to(model_layer.weight.dtype)


class StackedMLP(nn.Module):
    """M MLPs of one shape: layer weights (M, fan_in, fan_out), applied to inputs (M, B, ...) by batched products."""

    def __init__(self, models: Sequence[MLP]):
        super().__init__()
        _check_same_layout(models, MLP)
        layers = [[layer for layer in model.net if isinstance(layer, nn.Linear)] for model in models]
        with torch.no_grad():
            self.weights = nn.ParameterList(torch.stack([m[i].weight.T for m in layers]).contiguous()
                                            for i in range(len(layers[0])))
            self.biases = nn.ParameterList(torch.stack([m[i].bias for m in layers]).unsqueeze(1).contiguous()
                                           for i in range(len(layers[0])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(2)
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(bias, h, weight)
            if i < len(self.weights) - 1:
                h = torch.relu(h)
        return h

    @torch.no_grad()
    def unstack_into(self, models: Sequence[MLP]) -> None:
        """Copy model m's trained weights back into `models[m]`."""
        for m, model in enumerate(models):
            linears = [layer for layer in model.net if isinstance(layer, nn.Linear)]
            for layer, weight, bias in zip(linears, self.weights, self.biases, strict=True):
                layer.weight.copy_(weight[m].T)
                layer.bias.copy_(bias[m, 0])


class StackedConvNet(nn.Module):
    """M convolutional networks of one shape (CNN5s or StridedCNNs: convolutions, BatchNorm, ReLU and pooling, then
    Flatten and a linear head) as one network: the models' channels side by side, convolutions grouped by model."""

    def __init__(self, models: Sequence[CNN5 | StridedCNN]):
        super().__init__()
        _check_same_layout(models, (CNN5, StridedCNN))
        self.num_models, self.dims = len(models), models[0].dims
        body = []
        with torch.no_grad():
            for i, layer in enumerate(models[0].net[:-2]):  # everything before Flatten and the linear head
                if isinstance(layer, (nn.Conv1d, nn.Conv2d)):
                    grouped = _on_device_of(layer, type(layer)(
                        layer.in_channels * self.num_models, layer.out_channels * self.num_models, layer.kernel_size,
                        stride=layer.stride, padding=layer.padding, bias=layer.bias is not None,
                        groups=self.num_models, device="meta"))
                    grouped.weight.copy_(torch.cat([model.net[i].weight for model in models]))
                    if layer.bias is not None:
                        grouped.bias.copy_(torch.cat([model.net[i].bias for model in models]))
                    body.append(grouped)
                elif isinstance(layer, nn.modules.batchnorm._BatchNorm):
                    norm = _on_device_of(layer, type(layer)(layer.num_features * self.num_models, eps=layer.eps,
                                                            momentum=layer.momentum, device="meta"))
                    for name in ("weight", "bias", "running_mean", "running_var"):
                        getattr(norm, name).copy_(torch.cat([getattr(model.net[i], name) for model in models]))
                    norm.num_batches_tracked.copy_(layer.num_batches_tracked)
                    body.append(norm)
                else:  # ReLU and pooling act on every channel alike
                    body.append(layer)
            self.body = nn.Sequential(*body)
            self.head_weight = nn.Parameter(torch.stack([model.net[-1].weight.T for model in models]).contiguous())
            self.head_bias = nn.Parameter(torch.stack([model.net[-1].bias for model in models]).unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dims == 1 and x.dim() == 3:  # (M, B, L) signals get their single channel
            x = x.unsqueeze(2)
        num_models, batch = x.shape[:2]
        h = self.body(x.transpose(0, 1).reshape(batch, -1, *x.shape[3:]))  # (B, M * channels, ...)
        # Model m's channels are the m-th block, so each model's features flatten in its own Flatten's order.
        h = h.reshape(batch, num_models, -1).transpose(0, 1)  # (M, B, features)
        return torch.baddbmm(self.head_bias, h, self.head_weight)

    @torch.no_grad()
    def unstack_into(self, models: Sequence[CNN5 | StridedCNN]) -> None:
        """Copy model m's trained weights and BatchNorm statistics back into `models[m]`."""
        for i, layer in enumerate(self.body):
            if isinstance(layer, (nn.Conv1d, nn.Conv2d)):
                names = ("weight",) if layer.bias is None else ("weight", "bias")
                for name in names:
                    for model, part in zip(models, getattr(layer, name).chunk(self.num_models), strict=True):
                        getattr(model.net[i], name).copy_(part)
            elif isinstance(layer, nn.modules.batchnorm._BatchNorm):
                for name in ("weight", "bias", "running_mean", "running_var"):
                    for model, part in zip(models, getattr(layer, name).chunk(self.num_models), strict=True):
                        getattr(model.net[i], name).copy_(part)
                for model in models:
                    model.net[i].num_batches_tracked.copy_(layer.num_batches_tracked)
        for m, model in enumerate(models):
            model.net[-1].weight.copy_(self.head_weight[m].T)
            model.net[-1].bias.copy_(self.head_bias[m, 0])


class Single(nn.Module):
    """Any one model behind the stacked interface (M = 1), for architectures without a stacked form."""

    def __init__(self, models: Sequence[nn.Module]):
        super().__init__()
        if len(models) != 1:
            raise ValueError(f"Single wraps exactly one model; got {len(models)}")
        self.model = models[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x[0]).unsqueeze(0)

    def unstack_into(self, models: Sequence[nn.Module]) -> None:
        """Nothing to copy: the wrapped model is trained in place."""


STACKED = {MLP: StackedMLP, CNN5: StackedConvNet, StridedCNN: StackedConvNet}
# Stack CNN5s up to this width; wider ones train side by side, unstacked (still in one step with their job). 64 is
# the widest CNN5 of any preset, so today every CNN5 stacks. Measured on an H200 with `benchmarks/cnn5_sweep.py
# --stacking` (eight models, eager steps): stacking was 3.06x faster at k = 4, 2.31x at k = 16 and 1.12x at k = 64;
# graphed steps at k = 64 are unmeasured (an earlier report had grouped convolutions slower there): run that
# benchmark on a GPU before lowering it. A test trains the unstacked branch against the stacked one.
CNN5_STACK_UP_TO = 64


def stack_models(models: Sequence[nn.Module]) -> Stacks:
    """Group `models` into stacks of identical shape: a list of (indices into `models`, stacked module).

    MLPs, StridedCNNs, and CNN5s of width up to CNN5_STACK_UP_TO, of one shape share a stack; any other model gets
    a stack of its own.
    """
    groups: dict[tuple, list[int]] = {}
    for index, model in enumerate(models):
        stackable = type(model) in STACKED and not (isinstance(model, CNN5) and model.width > CNN5_STACK_UP_TO)
        key = _layout(model) if stackable else ("alone", index)
        groups.setdefault(key, []).append(index)
    stacks = []
    for indices in groups.values():
        group = [models[i] for i in indices]
        stacks.append((indices, STACKED.get(type(group[0]), Single)(group)))
    return stacks
