"""Capturing one training step as a CUDA graph, for every step that replays one: the engine's stacked models
(`steps.GroupStep`) and the translation Transformer (`translation_step.TranslationStep`). A few eager steps on a
side stream allocate what the step needs and are undone; then one step is recorded. A failed capture leaves the
training state as it was and returns None: the caller goes on eagerly and says so in its history."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import torch

WARMUP_STEPS = 3  # eager steps (then undone) before a CUDA graph is captured: they allocate what the step needs

log = logging.getLogger(__name__)


def state_tensors(modules: list[torch.nn.Module], optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """Everything a training step changes: parameters, buffers (BatchNorm statistics) and the optimizer's state."""
    tensors = [t for module in modules for t in (*module.parameters(), *module.buffers())]
    return tensors + [t for state in optimizer.state.values() for t in state.values() if torch.is_tensor(t)]


@torch.no_grad()
def restore(tensors: list[torch.Tensor], before: dict[int, torch.Tensor]) -> None:
    """Put back the state saved before a warm-up. Optimizer state the warm-up created is zeroed, which for Adam
    (zero moments, step 0) and SGD with momentum (zero buffer) is the same as not having it yet."""
    for tensor in tensors:
        saved = before.get(id(tensor))
        if saved is None:
            tensor.zero_()
        else:
            tensor.copy_(saved)


def snapshot(tensors: list[torch.Tensor]) -> dict[int, torch.Tensor]:
    """Copies of `tensors` by identity, for `restore`."""
    # detach(): a clone that autograd tracks would make each parameter's gradient accumulator now, on this
    # stream, and keep it alive into the capture, which it would then invalidate.
    return {id(t): t.detach().clone() for t in tensors}


def warm_up(step: Callable[[], None], state: Callable[[], list[torch.Tensor]], before: dict[int, torch.Tensor]
            ) -> None:
    """Take `WARMUP_STEPS` eager steps, then put back the `state()` they changed from its `snapshot` `before`."""
    for _ in range(WARMUP_STEPS):
        step()
    restore(state(), before)


def capture_step(step: Callable[[], None], state: Callable[[], list[torch.Tensor]],
                 optimizer: torch.optim.Optimizer, device: torch.device) -> torch.cuda.CUDAGraph | None:
    """Warm `step` up on a side stream, undo the warm-up, and record one step into a CUDA graph; None (the state
    restored, a warning logged) if the capture fails. `step` reads its inputs from tensors the caller refills
    before each replay."""
    before = snapshot(state())
    try:
        # Warm-up and capture share one stream: autograd remembers the stream on which a parameter's gradient
        # accumulator was made, and capture fails if a backward pass has to reach back to another stream.
        stream = capture_stream(device)
        stream.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(stream):
            warm_up(step, state, before)
        torch.cuda.current_stream(device).wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        optimizer.zero_grad(set_to_none=True)  # the graph's own pool holds the gradients
        # thread_local: an unsafe call of another thread (a notebook's widgets, a prefetcher) does not break it.
        with torch.cuda.graph(graph, stream=stream, capture_error_mode="thread_local"):
            step()
    except RuntimeError as error:  # e.g. an operation that cannot be captured: train eagerly instead
        log.warning("CUDA graph capture failed (%s); training eagerly", error)
        torch.cuda.synchronize(device)
        restore(state(), before)
        return None
    return graph


@functools.cache
def capture_stream(device: torch.device) -> torch.cuda.Stream:
    """One side stream per GPU for every warm-up and capture of the process."""
    return torch.cuda.Stream(device)
