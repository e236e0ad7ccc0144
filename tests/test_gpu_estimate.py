"""GPU time estimates counted on the CPU: the counting itself (kernels, casts, FLOPs), its invariances, the
arithmetic of an estimate, every chapter's `full` preset within ten minutes on one H200 as its time says, and what
`auto` runs within fifteen on an A100 and on a Colab T4."""

from __future__ import annotations

import dataclasses
import functools
import re

import pytest
import torch

from ddd_utils.engine import gpu_estimate
from ddd_utils.engine.gpu_estimate import A100, H200, T4, OpCount, count_ops, engine_step, group_estimate
from ddd_utils.engine.recipe import Recipe
from ddd_utils.experiments import grokking, mnist1d_cnn, mnist1d_sweep, translation_sweep, vision_sweep
from ddd_utils.models import build_model

CHAPTERS = {"mnist1d_sweep": mnist1d_sweep, "mnist1d_cnn": mnist1d_cnn, "translation_sweep": translation_sweep,
            "grokking": grokking}  # the experiments chapters 4-7 train


@functools.cache
def minutes(name: str, preset: str, costs: gpu_estimate.GpuCosts) -> float:
    """A chapter experiment's estimate, counted once per test session (counting takes seconds)."""
    module = CHAPTERS[name]
    return module.gpu_estimate(module.PRESETS[preset], costs).seconds / 60


def test_a_matrix_product_is_one_kernel_with_its_flops_and_views_and_cpu_work_are_none():
    a, b = torch.empty(64, 32, device="meta"), torch.empty(32, 16, device="meta")
    assert count_ops(lambda: a @ b) == OpCount(1, 2 * 64 * 32 * 16)
    assert count_ops(lambda: a.t().unsqueeze(0)[:, :4]).kernels == 0  # views launch nothing
    assert count_ops(lambda: torch.ones(3) + 1).kernels == 0  # host work launches nothing


def test_autocast_adds_a_cast_per_fp32_input_and_one_back_per_input_that_needs_a_gradient():
    x = torch.empty(8, 4, device="meta")
    w = torch.empty(4, 3, device="meta", requires_grad=True)
    assert count_ops(lambda: x @ w).kernels == 1
    assert count_ops(lambda: x @ w, autocast=True).kernels == 1 + 2 + 1
    with torch.no_grad():  # the casts are counted for the forward product only, not for its backward
        assert count_ops(lambda: (x @ w).sum(), autocast=True).kernels == 1 + 3 + 1


def test_stacked_seeds_cost_the_kernels_of_one_model_and_the_flops_of_all():
    recipe = Recipe(optimizer="sgd", lr=0.01, momentum=0.9, batch_size=100, epochs=1)
    with torch.device("meta"):
        one = [build_model("strided_cnn", 16, (40,), 10)]
        five = [build_model("strided_cnn", 16, (40,), 10) for _ in range(5)]
    single, stacked = engine_step(one, (40,), recipe, 10, H200), engine_step(five, (40,), recipe, 10, H200)
    assert stacked.kernels - single.kernels <= 2  # one grouped stack: about the same kernels, five times the work
    assert stacked.flops == pytest.approx(5 * single.flops, rel=1e-6)


def test_a_convolutions_backward_flops_agree_with_torchs_formula_where_it_holds_without_groups():
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.empty(8, 3, 40, device="meta", requires_grad=True)
    w = torch.empty(16, 3, 5, device="meta", requires_grad=True)
    work = lambda: torch.nn.functional.conv1d(x, w).sum().backward()  # noqa: E731
    with FlopCounterMode(display=False) as theirs:
        work()
    assert count_ops(work).flops == theirs.get_total_flops()


def test_an_estimate_is_steps_times_the_step_plus_evaluations_times_the_evaluation():
    step, evaluation = OpCount(1000, 2e12), OpCount(500, 1e12)
    estimate = group_estimate(step, evaluation, 200, 10, H200, graphed=True, label="x")
    assert estimate.seconds == pytest.approx(200 * (1000 * 3e-6 + 2e12 / 100e12) + 10 * (500 * 3e-6 + 1e12 / 20e12))
    eager = group_estimate(step, evaluation, 200, 10, H200, graphed=False, label="x")
    assert eager.seconds > estimate.seconds
    assert "200 graphed steps" in estimate.basis and "200 eager steps" in eager.basis
    assert "1,000 kernels" in estimate.basis


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_every_chapters_full_preset_fits_ten_minutes_on_one_h200_as_its_time_says(name):
    module, estimated = CHAPTERS[name], minutes(name, "full", H200)
    assert estimated <= 10, name
    stated = re.match(r"estimated (\d+\.\d) min on one H200", module.PRESET_TIMES["full"])
    assert stated and float(stated.group(1)) == round(estimated, 1), (name, estimated, module.PRESET_TIMES["full"])
    assert f"python -m ddd_utils estimate {name}" in module.PRESET_TIMES["full"]


def test_the_cifar10_full_preset_states_its_estimate_too():
    minutes = vision_sweep.gpu_estimate(vision_sweep.PRESETS["full"], H200).seconds / 60
    assert vision_sweep.PRESET_TIMES["full"].startswith(f"estimated {minutes:.1f} min on one H200")


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_on_an_a100_where_auto_runs_full_no_chapter_takes_more_than_fifteen_minutes(name):
    assert minutes(name, "full", A100) <= 15
    assert minutes(name, "full", A100) > minutes(name, "full", H200)  # the same kernels, fewer FLOP/s


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_on_a_colab_t4_auto_runs_cpu_and_no_chapter_takes_more_than_fifteen_minutes(name):
    assert minutes(name, "cpu", T4) <= 15


def test_a_chapter_prints_the_estimate_for_the_gpu_it_runs_on(monkeypatch):
    config = grokking.PRESETS["smoke"]
    assert gpu_estimate.expected_time(grokking, "smoke", config) == (
        f"expected time of 'smoke': {grokking.PRESET_TIMES['smoke']}")  # no GPU: the stated time only
    monkeypatch.setattr(gpu_estimate, "_cuda_gpu", lambda: ("Tesla T4", (7, 5)))
    text = gpu_estimate.expected_time(grokking, "smoke", config)
    assert "here: about" in text and "this Tesla T4 (with a Colab T4's costs)" in text
    assert gpu_estimate.costs_here().bf16 is False  # fp32 steps below compute capability 8.0
    for name, capability, like in [("NVIDIA A100-SXM4-40GB", (8, 0), A100), ("NVIDIA L4", (8, 9), A100),
                                   ("NVIDIA H100 80GB HBM3", (9, 0), H200), ("NVIDIA H200", (9, 0), H200)]:
        monkeypatch.setattr(gpu_estimate, "_cuda_gpu", lambda gpu=(name, capability): gpu)
        costs = gpu_estimate.costs_here()
        assert costs.name == f"this {name} (with {like.name}'s costs)"
        assert dataclasses.replace(costs, name=like.name) == like and costs.bf16 is True


def test_the_command_line_prints_an_estimate_with_its_basis(capsys):
    from ddd_utils.__main__ import main

    assert main(["estimate", "grokking", "--preset", "smoke", "--gpu", "t4"]) == 0
    out = capsys.readouterr().out
    assert "grokking --preset smoke: about" in out and "on a Colab T4 (estimated, unmeasured)" in out
    assert "5 us graphed" in out and "graphed steps x" in out


def test_the_readme_states_the_range_of_the_estimates():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    full = [minutes(name, "full", H200) for name in CHAPTERS]
    assert f"{min(full):.1f} to {max(full):.1f} minutes on one H200" in readme
    a100 = max(minutes(name, "full", A100) for name in CHAPTERS)
    t4 = max(minutes(name, "cpu", T4) for name in CHAPTERS)
    assert t4 < 4 and (f"a chapter takes at most {a100:.1f} minutes on an A100, where `auto` runs `full`, and under 4 "
                       "minutes on a Colab T4, where `auto` runs `cpu`") in " ".join(readme.split())
