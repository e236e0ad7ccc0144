"""Estimated GPU time of a training run, counted on the CPU: the operations and floating-point work of one training
step and one evaluation, counted on PyTorch's `meta` device (shapes only, nothing computed), times a cost per
launched kernel and an achieved throughput. Until a GPU measures a preset, this is the only time it can state.

The basis, printed with every estimate: each counted operation on a device tensor (views and allocations
excluded) is one kernel; a kernel replayed from a CUDA graph costs `GpuCosts.kernel_s`, one launched eagerly from
Python `eager_kernel_s`; the step's FLOPs (torch's FlopCounterMode) run at `train_flops`, evaluations' at
`eval_flops`. Small models are bound by the kernel count, large ones by the FLOPs; the two are added.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

from ddd_utils.engine.evaluation import evaluate_stack
from ddd_utils.engine.recipe import Recipe
from ddd_utils.engine.steps import GroupStep, autocast_dtype, epoch_draws
from ddd_utils.models.stacked import stack_models


@dataclass(frozen=True)
class GpuCosts:
    """What one kernel and one FLOP cost on a GPU: assumptions, named with their source, until measured."""

    name: str
    bf16: bool             # whether training steps autocast to bf16 (compute capability 8.0 and above)
    kernel_s: float        # a kernel replayed from a CUDA graph (launch and tail of a small kernel)
    eager_kernel_s: float  # an operation launched eagerly from Python (dispatch, launch, tail)
    train_flops: float     # achieved FLOP/s of training steps (bf16 autocast where native, else fp32)
    eval_flops: float      # achieved FLOP/s of evaluations (fp32 throughout)

    @property
    def basis(self) -> str:
        """The assumptions behind an estimate with these costs, in words."""
        return (f"each operation on a device tensor one kernel (views and allocations excluded), "
                f"{1e6 * self.kernel_s:g} us graphed or {1e6 * self.eager_kernel_s:g} us eager, plus FLOPs at "
                f"{self.train_flops / 1e12:g} TFLOP/s in training and {self.eval_flops / 1e12:g} in evaluation"
                f"{' (bf16 steps)' if self.bf16 else ' (fp32 steps)'}: assumptions until a GPU measures it")


# H200: 3 us a graphed kernel and 10 us an eager one (assumed: the usual cost of a small kernel on a Hopper GPU);
# about a tenth of the bf16 tensor-core peak (990 TFLOP/s) for these small layers, and a third of the 67 TFLOP/s
# fp32 peak for the evaluations.
H200 = GpuCosts("one H200", bf16=True, kernel_s=3e-6, eager_kernel_s=10e-6, train_flops=100e12, eval_flops=20e12)
# A100 (the 40 GB one is the smallest GPU `auto` gives `full`): the H200's kernel costs (assumed: launches differ
# little between the two), and the same fractions of the A100's peaks: a tenth of 312 TFLOP/s bf16, a third of 19.5
# fp32.
A100 = GpuCosts("one A100", bf16=True, kernel_s=3e-6, eager_kernel_s=10e-6, train_flops=31e12, eval_flops=6.5e12)
# Colab's T4 (compute capability 7.5: fp32 steps, see steps.autocast_dtype): half its 8.1 TFLOP/s fp32 peak; slower
# launches than a Hopper's.
T4 = GpuCosts("a Colab T4", bf16=False, kernel_s=5e-6, eager_kernel_s=15e-6, train_flops=4e12, eval_flops=4e12)
GPUS = {"a100": A100, "h200": H200, "t4": T4}

_NO_KERNEL = ("aten.empty", "aten.empty_strided", "aten._local_scalar_dense", "profiler.")


@dataclass(frozen=True)
class OpCount:
    """Kernels and FLOPs of one piece of work (a step, an evaluation)."""

    kernels: int
    flops: float

    def seconds(self, costs: GpuCosts, graphed: bool, evaluation: bool = False) -> float:
        per_kernel = costs.kernel_s if graphed else costs.eager_kernel_s
        return self.kernels * per_kernel + self.flops / (costs.eval_flops if evaluation else costs.train_flops)


# Operations that bf16 autocast runs in bf16 (as they reach the dispatcher): each casts its fp32 inputs first.
_AUTOCAST_OPS = ("aten.mm.", "aten.addmm.", "aten.bmm.", "aten.baddbmm.", "aten.convolution.",
                 "aten._scaled_dot_product")


class _KernelCounter(TorchDispatchMode):
    """Counts the operations that would launch a GPU kernel: those on a non-CPU tensor that are not views or bare
    allocations (host-side work, such as a CPU step counter's arithmetic, launches nothing). With `autocast`, also
    the casts that bf16 autocast would add (it is not active on `meta`): one per fp32 input of a forward matrix
    product or convolution, and one per such input that needs a gradient (its gradient cast back to fp32)."""

    def __init__(self, autocast: bool):
        super().__init__()
        self.autocast, self.kernels = autocast, 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        leaves = [a for a in torch.utils._pytree.tree_leaves((args, kwargs)) if isinstance(a, torch.Tensor)]
        name = str(func)
        if any(a.device.type != "cpu" for a in leaves) and not func.is_view and not name.startswith(_NO_KERNEL):
            self.kernels += 1
            if self.autocast and name.startswith(_AUTOCAST_OPS) and torch._C._current_autograd_node() is None:
                cast = [a for a in leaves if a.dtype == torch.float32]
                self.kernels += len(cast) + sum(a.requires_grad for a in cast)
        return func(*args, **kwargs)


def _conv_backward_flops(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed,
                         _output_padding, _groups, output_mask, out_shape, **kwargs) -> int:
    """Each gradient of a convolution it computes (input, weight) costs what its forward pass does. (torch's own
    formula counts a grouped convolution's weight gradient `groups` times over, and stacks are grouped.)"""
    return conv_flop_count(x_shape, w_shape, grad_out_shape, transposed) * (bool(output_mask[0]) +
                                                                            bool(output_mask[1]))


def count_ops(work: Callable[[], object], autocast: bool = False) -> OpCount:
    """The kernels and FLOPs of calling `work` (run it on `meta` tensors: nothing is computed); `autocast` adds
    the casts of bf16 autocast (`_KernelCounter`)."""
    counter = _KernelCounter(autocast)
    mapping = {torch.ops.aten.convolution_backward: _conv_backward_flops}
    with FlopCounterMode(display=False, custom_mapping=mapping) as flops, counter:
        work()
    return OpCount(counter.kernels, float(flops.get_total_flops()))


def _meta_inputs(n: int, input_shape: tuple[int, ...], tokens: int | None) -> torch.Tensor:
    """`n` inputs of `input_shape` on `meta`: token ids below `tokens`, or floats."""
    if tokens is not None:
        return torch.randint(0, tokens, (n, *input_shape), device="meta")
    return torch.empty(n, *input_shape, device="meta")


def engine_step(models: Sequence[torch.nn.Module], input_shape: tuple[int, ...], recipe: Recipe, classes: int,
                costs: GpuCosts, tokens: int | None = None) -> OpCount:
    """One optimizer step of `train_many` for `models` (built on `meta`), all stacks at once, as a GPU replays it;
    a first step is taken uncounted so that the optimizer's state exists."""
    batch = recipe.batch_size
    stacks = stack_models(models)
    y = torch.randint(0, classes, (len(models), batch), device="meta")
    images = len(input_shape) == 3
    step = GroupStep(stacks, _meta_inputs(batch, input_shape, tokens), False, y, recipe, images, use_graphs=False)
    draws = epoch_draws([torch.Generator().manual_seed(i) for i in range(len(models))], batch,
                        recipe.augment and images, torch.device("meta"))
    step.take(draws)
    return count_ops(lambda: step.take(draws), autocast=costs.bf16)


def engine_evaluation(models: Sequence[torch.nn.Module], input_shape: tuple[int, ...], examples: int,
                      classes: int, tokens: int | None = None) -> OpCount:
    """One evaluation of every model on `examples` inputs (its training and test sets together), as
    `train_many` evaluates: each stack in batches of 1,024."""
    stacks = stack_models(models)
    x = _meta_inputs(examples, input_shape, tokens)

    def evaluate() -> None:
        for indices, stack in stacks:
            evaluate_stack(stack, x, torch.randint(0, classes, (len(indices), examples), device="meta"), False)
    return count_ops(evaluate)


@dataclass(frozen=True)
class Estimate:
    """Estimated seconds of a run and, in words, how they were reached."""

    seconds: float
    basis: str

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.seconds + other.seconds, f"{self.basis}; {other.basis}")


def group_estimate(step: OpCount, evaluation: OpCount, steps: int, evaluations: int, costs: GpuCosts,
                   graphed: bool, label: str) -> Estimate:
    """`steps` training steps and `evaluations` evaluations of one group trained together."""
    step_s, evaluation_s = step.seconds(costs, graphed), evaluation.seconds(costs, graphed, evaluation=True)
    mode = "graphed" if graphed else "eager"
    basis = (f"{label}: {steps:,} {mode} steps x {1e3 * step_s:.2f} ms ({step.kernels:,} kernels, "
             f"{step.flops / 1e9:.1f} GFLOP) + {evaluations} evaluations x {evaluation_s:.2f} s")
    return Estimate(steps * step_s + evaluations * evaluation_s, basis)


def train_many_estimate(models: Sequence[torch.nn.Module], input_shape: tuple[int, ...], n_train: int, n_test: int,
                        recipe: Recipe, evaluations: int, costs: GpuCosts, label: str, classes: int = 10,
                        tokens: int | None = None) -> Estimate:
    """A `train_many` group (models built on `meta`) on `n_train` examples for `recipe.epochs`, evaluated
    `evaluations` times on its training and test sets, with graphed steps."""
    steps = recipe.epochs * math.ceil(n_train / recipe.batch_size)
    return group_estimate(engine_step(models, input_shape, recipe, classes, costs, tokens),
                          engine_evaluation(models, input_shape, n_train + n_test, classes, tokens),
                          steps, evaluations, costs, graphed=True, label=label)


def minutes_text(estimate: Estimate, costs: GpuCosts) -> str:
    """'about N min on <GPU> (estimated, unmeasured: <basis>)'."""
    return f"about {estimate.seconds / 60:.1f} min on {costs.name} (estimated, unmeasured: {estimate.basis})"


def _cuda_gpu() -> tuple[str, tuple[int, int]] | None:
    """(name, compute capability) of CUDA device 0, or None without one."""
    if not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_name(0), torch.cuda.get_device_capability(0)


def costs_here() -> GpuCosts | None:
    """The costs to estimate with on this machine's CUDA GPU 0, named after it, by compute capability: a T4's below
    8.0 (fp32 steps, the engine's own bf16 rule), an A100's from 8.0 (Ampere and Ada), an H200's from 9.0 (Hopper
    and later); None without a CUDA GPU."""
    gpu = _cuda_gpu()
    if gpu is None:
        return None
    name, capability = gpu
    like = T4 if autocast_dtype(capability) is None else A100 if capability < (9, 0) else H200
    return dataclasses.replace(like, name=f"this {name} (with {like.name}'s costs)")


def expected_time(module: ModuleType, preset: str, config: object) -> str:
    """What a chapter prints before it trains: the preset's time as measured or estimated (`module.PRESET_TIMES`)
    and, on a CUDA GPU, the estimate for that GPU of the config it is about to run (`module.gpu_estimate`)."""
    text = f"expected time of '{preset}': {module.PRESET_TIMES[preset]}"
    costs = costs_here()
    if costs is None:
        return text
    return f"{text}; here: {minutes_text(module.gpu_estimate(config, costs), costs)}"
