"""Chapter 6's sweep (Transformers over d_model x training-set size): configs, the generated corpus with its token
noise, the learning-rate schedule, batched evaluation, batch rows drawn a checkpoint interval at a time, autocast,
resumption after a kill, and a sweep through the engine."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from ddd_utils.data import translation
from ddd_utils.engine import translation_step
from ddd_utils.engine.result_store import load_results
from ddd_utils.engine.sweep import run_sweep
from ddd_utils.experiments import translation_corpus as tc
from ddd_utils.experiments import translation_sweep as ts
from ddd_utils.notebook.presets import PRESETS

TINY = dataclasses.replace(ts.PRESETS["smoke"], steps=10, checkpoint_every=5, eval_count=4)
SHARED = {name: value for name, value in dataclasses.asdict(TINY).items()}


def test_every_preset_exists_and_the_offline_ones_use_the_generated_task():
    assert set(ts.PRESETS) == set(PRESETS) == set(ts.PRESET_TIMES)
    paper = ts.PRESETS["paper"]
    assert (paper.dataset, paper.layers, paper.heads, paper.steps) == ("iwslt14", 6, 8, 80000)
    assert paper.n_trains == ts.PRESETS["full"].n_trains == (4000, 18000)  # the paper's 4K and 18K pairs
    for name in ("smoke", "cpu"):
        assert ts.PRESETS[name].dataset == "synthetic"


@pytest.mark.parametrize(("change", "name"), [
    ({"dataset": "wmt"}, "dataset"), ({"d_models": (12,)}, "d_models must be multiples of heads"),
    ({"d_models": ()}, "d_models"), ({"n_trains": (0,)}, "n_train"), ({"steps": 0}, "steps"),
    ({"token_noise": 1.5}, "token_noise"), ({"label_smoothing": -0.1}, "label_smoothing"), ({"lr": 0.0}, "lr"),
])
def test_bad_configs_are_refused_naming_the_parameter(change, name):
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(TINY, **change)


def test_run_configs_cover_every_d_model_size_and_seed_once():
    configs = ts.run_configs(dataclasses.replace(TINY, seeds=(0, 1)))
    assert len(configs) == len(TINY.d_models) * len(TINY.n_trains) * 2
    assert len({tuple(sorted(c.items())) for c in configs}) == len(configs)


def test_a_smaller_training_set_is_a_prefix_and_the_test_set_is_shared_and_clean():
    small, large = tc.corpus(SHARED, 30), tc.corpus(SHARED, 80)
    for name in ("source", "target_in", "target_out"):
        a, b = getattr(small, name), getattr(large, name)
        assert torch.equal(a, b[: a.shape[0], : a.shape[1]])
        assert not b[a.shape[0]:, a.shape[1]:].any()  # the longer padding of the larger set is only padding
    assert torch.equal(small.test_source, large.test_source)
    clean = tc.corpus({**SHARED, "token_noise": 0.0}, 30)
    assert torch.equal(clean.test_target_out, small.test_target_out)


def test_token_noise_replaces_about_the_requested_share_of_training_words():
    noisy, clean = tc.corpus({**SHARED, "token_noise": 0.3}, 2000), tc.corpus({**SHARED, "token_noise": 0.0}, 2000)
    words = clean.target_out > translation.EOS
    changed = float((noisy.target_out[words] != clean.target_out[words]).float().mean())
    vocab_words = clean.target_vocab - translation.FIRST_WORD
    expected = 0.3 * (1 - 1 / vocab_words)  # a replacement may draw the same word
    assert abs(changed - expected) < 0.02
    assert torch.equal(noisy.target_out == translation.EOS, words.logical_not() & (clean.target_out != 0))


def test_the_schedule_warms_up_linearly_then_decays_as_one_over_sqrt_step():
    warmup = 100
    factors = [translation_step.inverse_sqrt_schedule(step, warmup) for step in range(400)]
    assert factors[0] == pytest.approx(1 / warmup) and factors[warmup - 1] == pytest.approx(1.0)
    assert factors[4 * warmup - 1] == pytest.approx(0.5)
    assert max(factors) == pytest.approx(1.0)


def test_evaluation_in_batches_weights_every_token_alike():
    data = tc.corpus(SHARED, 40)
    model = ts._initial_model({**SHARED, "d_model": 16, "seed": 0}, data)
    whole = ts.evaluate(model, data.test_source, data.test_target_in, data.test_target_out, batch_size=1000)
    batched = ts.evaluate(model, data.test_source, data.test_target_in, data.test_target_out, batch_size=7)
    assert batched == pytest.approx(whole, rel=1e-5)


def test_batches_are_drawn_per_checkpoint_interval_as_a_draw_per_step_would_draw_them():
    config = {**ts.run_configs(TINY)[0], "n_train": 30, "batch_size": 8, "steps": 12, "checkpoint_every": 5}
    cpu = torch.device("cpu")

    def per_step(generator, count):  # the draws of a batch per step
        return [torch.randint(30, (8,), generator=generator) for _ in range(count)]

    expected = per_step(torch.Generator().manual_seed(3), 12)
    generator, reference = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    batches = ts._batches(config, generator, 0, cpu)
    before_checkpoint = [next(batches) for _ in range(5)]
    per_step(reference, 5)
    assert torch.equal(generator.get_state(), reference.get_state())  # what the checkpoint after 5 steps saves
    resumed = list(ts._batches(config, torch.Generator().set_state(generator.get_state()), 5, cpu))
    unchecked = list(ts._batches({**config, "checkpoint_every": 0}, torch.Generator().manual_seed(3), 0, cpu))
    for drawn in (before_checkpoint + resumed, unchecked):
        assert [step for step, _ in drawn] == list(range(12))
        assert all(torch.equal(rows, expected[step]) for step, rows in drawn)


def test_training_steps_autocast_to_the_dtype_the_device_computes_natively(monkeypatch):
    config = ts.run_configs(TINY)[0]
    data = tc.corpus(SHARED, config["n_train"])
    fp32 = ts.train_run(config, data)
    capabilities = []

    def bf16(capability):  # what a GPU of capability 8.0 or above gets, here on the CPU
        capabilities.append(capability)
        return torch.bfloat16

    monkeypatch.setattr(translation_step, "autocast_dtype", bf16)
    autocast = ts.train_run(config, data)
    assert capabilities == [None]  # the CPU's capability
    assert autocast["train_loss"] != fp32["train_loss"]
    assert autocast["train_loss"] == pytest.approx(fp32["train_loss"], abs=0.05)


def test_a_run_killed_after_its_checkpoint_resumes_to_the_same_history(tmp_path, monkeypatch):
    config = ts.run_configs(TINY)[0]
    data = tc.corpus(SHARED, config["n_train"])
    uninterrupted = ts.train_run(config, data)
    saves = []
    original = ts.save_atomically

    def save_then_die(state, path):
        original(state, path)
        saves.append(state["step"])
        raise KeyboardInterrupt  # the process is killed just after writing its first checkpoint

    monkeypatch.setattr(ts, "save_atomically", save_then_die)
    checkpoint = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        ts.train_run(config, data, checkpoint)
    monkeypatch.setattr(ts, "save_atomically", original)
    assert saves == [5]
    resumed = ts.train_run(config, data, checkpoint)

    def measured(history):  # everything but the wall-clock times
        return {name: value for name, value in history.items() if name != "seconds"}

    assert measured(resumed) == measured(uninterrupted)
    assert resumed["seconds"] == sorted(resumed["seconds"])  # training time carries on across the restart
    monkeypatch.setattr(ts, "_initial_model", lambda *args: pytest.fail("a finished run must not train again"))
    assert ts.train_run(config, data, checkpoint) == resumed


def test_the_sweep_records_every_run_with_its_history_and_leaves_no_checkpoint(tmp_path):
    runs = run_sweep(ts.run, ts.run_configs(TINY), tmp_path)
    assert len(runs) == len(load_results(tmp_path)) == len(ts.run_configs(TINY))
    for run in runs:
        history = run["history"]
        assert history["step"][-1] == TINY.steps and len(history["step"]) == len(history["test_loss"])
        assert all(math.isfinite(value) for value in history["test_loss"] + history["train_loss"])
        assert 0.0 <= min(history["test_accuracy"]) <= max(history["test_accuracy"]) <= 1.0
    assert not list((tmp_path / "checkpoints").glob("*.pt"))


def test_a_budget_in_epochs_gives_each_size_its_own_step_count_and_one_job_holds_both():
    config = dataclasses.replace(TINY, epochs=3, batch_size=16, n_trains=(40, 180))
    steps = {c["n_train"]: c["steps"] for c in ts.run_configs(config)}
    assert steps == {40: math.ceil(3 * 40 / 16), 180: math.ceil(3 * 180 / 16)}  # 3 passes over each set
    assert ts.shared_settings(ts.run_configs(config), ts._JOB_FIELDS)  # sizes of different lengths share a job


def test_the_peak_learning_rate_falls_as_the_inverse_square_root_of_d_model_when_asked():
    configs = {c["d_model"]: c for c in ts.run_configs(dataclasses.replace(TINY, d_models=(8, 32), lr=1e-3,
                                                                           lr_d_model=8))}
    assert ts.peak_lr(configs[8]) == pytest.approx(1e-3)
    assert ts.peak_lr(configs[32]) == pytest.approx(1e-3 / 2)  # (32 / 8)^-0.5
    assert {ts.peak_lr(c) for c in ts.run_configs(TINY)} == {TINY.lr}  # off by default: one lr for every d_model


@pytest.mark.parametrize("name", ["epochs", "lr_d_model"])
def test_negative_budgets_and_reference_widths_are_refused(name):
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(TINY, **{name: -1})
