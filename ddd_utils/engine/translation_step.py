"""One training step of chapter 6's translation Transformer: Adam (betas 0.9, 0.98) under the inverse-square-root
schedule, teacher forcing, label smoothing, bf16 autocast where the GPU computes it natively. On a GPU the whole
step (the batch's gather, forward, backward and Adam) is captured once as a CUDA graph and replayed, as the
stacked models' steps are (`steps.GroupStep`); what changes from step to step lives in fixed GPU tensors that are
refilled before each replay: the batch's rows, and the learning rate (a tensor, which capturable Adam reads)."""

from __future__ import annotations

import math

import torch

from ddd_utils.engine import graphs
from ddd_utils.engine.steps import autocast, autocast_dtype, device_capability
from ddd_utils.models.transformer import TranslationTransformer, translation_loss


def inverse_sqrt_schedule(step: int, warmup: int) -> float:
    """The learning-rate factor at `step` (from 0): linear warm-up to 1 over `warmup` steps, then sqrt(warmup /
    step)."""
    step += 1
    return step / warmup if step < warmup else math.sqrt(warmup / step)


class TranslationStep:
    """Training steps of one Transformer on the (source, target_in, target_out) rows of `train`, `batch_size` rows
    a step. `take(step, rows)` sets the learning rate of `step` and steps on `rows`: eagerly on the CPU, from a
    CUDA graph with `use_graphs` (on a GPU). If the capture fails, steps go on eagerly and `use_graphs` turns
    False; the run's history records which (`graphed_steps`)."""

    def __init__(self, model: TranslationTransformer, train: list[torch.Tensor], batch_size: int, peak_lr: float,
                 warmup: int, label_smoothing: float, use_graphs: bool):
        self.model, self.train, self.label_smoothing = model, train, label_smoothing
        self.peak_lr, self.warmup = peak_lr, warmup
        self.device = train[0].device
        self.use_graphs = use_graphs
        # A graph replays the learning rate it finds in a tensor; eagerly, a float keeps the CPU's arithmetic
        # (and the shipped CPU runs) as they were.
        lr = torch.tensor(peak_lr, device=self.device) if use_graphs else peak_lr
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98), capturable=use_graphs)
        self.precision = autocast_dtype(device_capability(self.device))  # None: fp32, no autocast
        self.rows = torch.zeros(batch_size, dtype=torch.long, device=self.device)  # this step's training rows
        self.graph: torch.cuda.CUDAGraph | None = None

    def take(self, step: int, rows: torch.Tensor) -> None:
        """Step `step` (from 0) of the schedule, on the training rows `rows` (on the device)."""
        group = self.optimizer.param_groups[0]
        lr = self.peak_lr * inverse_sqrt_schedule(step, self.warmup)
        if torch.is_tensor(group["lr"]):
            group["lr"].fill_(lr)  # no host sync: the value travels with the kernel's launch
        else:
            group["lr"] = lr
        self.rows.copy_(rows)
        if self.use_graphs and self.graph is None:
            self.graph = graphs.capture_step(self._step_eagerly, self._state_tensors, self.optimizer, self.device)
            self.use_graphs = self.graph is not None
        if self.graph is not None:
            self.graph.replay()
        else:
            self._step_eagerly()

    def _step_eagerly(self) -> None:
        """Forward the batch of `self.rows`, backward its smoothed token loss, and step Adam."""
        source, target_in, target_out = (tensor[self.rows] for tensor in self.train)
        with autocast(self.device, self.precision):
            logits = self.model(source, target_in)
        loss = translation_loss(logits.float(), target_out, self.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def _state_tensors(self) -> list[torch.Tensor]:
        """Everything a step changes: the model's parameters and Adam's moments and step counts."""
        return graphs.state_tensors([self.model], self.optimizer)
