"""The data of a group of models trained together, as the steps and evaluations take it: inputs shared by every
model (the usual case: the same inputs, different labels) or stacked per model, labels stacked (M, n), checked
against the models' outputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ddd_utils.engine.recipe import TrainData


@dataclass
class GroupData:
    """Every model's training and test sets: `x_*` shared (N, ...) unless `*_per_model` (then (M, N, ...)), labels
    (M, N), and each model's mask of corrupted training labels."""

    x_train: torch.Tensor
    train_per_model: bool
    y_train: torch.Tensor
    x_test: torch.Tensor
    test_per_model: bool
    y_test: torch.Tensor
    corrupted: list[torch.Tensor]

    @classmethod
    def of(cls, datas: Sequence[TrainData]) -> GroupData:
        if len({data.y_train.device for data in datas}) != 1:
            raise ValueError("every model's data must be on one device")
        if len({tuple(data.x_train.shape) for data in datas}) != 1 or len({tuple(data.x_test.shape)
                                                                          for data in datas}) != 1:
            raise ValueError("every model's data must have the same shapes (the same n and input size)")
        x_train, train_per_model = shared_or_stacked([data.x_train for data in datas])
        x_test, test_per_model = shared_or_stacked([data.x_test for data in datas])
        return cls(x_train, train_per_model, torch.stack([data.y_train for data in datas]), x_test, test_per_model,
                   torch.stack([data.y_test for data in datas]), [data.corrupted for data in datas])

    def for_models(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x_train, y_train, x_test, y_test) of the models at `indices`, as `evaluation.evaluate_stack` takes
        them."""
        return (self.x_train[indices] if self.train_per_model else self.x_train, self.y_train[indices],
                self.x_test[indices] if self.test_per_model else self.x_test, self.y_test[indices])


def shared_or_stacked(tensors: list[torch.Tensor]) -> tuple[torch.Tensor, bool]:
    """(x, per_model): one tensor if every model's copy is equal, else the copies stacked (M, ...)."""
    first = tensors[0]
    if all(t is first or torch.equal(t, first) for t in tensors[1:]):
        return first, False
    return torch.stack(tensors), True


def check_labels_fit(models: Sequence[torch.nn.Module], datas: Sequence[TrainData]) -> None:
    """Every label must be a valid output index of its model (checked here, where the models are known)."""
    for m, (model, data) in enumerate(zip(models, datas, strict=True)):
        heads = [layer for layer in model.modules() if isinstance(layer, torch.nn.Linear)]
        if not heads:
            continue
        classes = heads[-1].out_features
        for name in ("y_train", "y_test"):
            largest = getattr(data, name).max().item()
            if largest >= classes:
                raise ValueError(f"datas[{m}].{name} holds label {largest}, but model {m} has {classes} outputs: "
                                 f"labels must be in [0, {classes})")
