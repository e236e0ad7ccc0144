"""Chapter 8's decomposition of Greydanus's MNIST-1D MLP on two disjoint halves: the halves are disjoint, the
decomposition adds up, and a finished trial is read back instead of trained again."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ddd_utils.experiments import mlp_decomposition, mnist1d_sweep

SMOKE = mlp_decomposition.PRESETS["smoke"]


def test_the_halves_are_disjoint_slices_of_the_training_set_with_their_own_noise():
    first, second = mlp_decomposition._halves(SMOKE, seed=0)
    whole = mnist1d_sweep.training_data(2 * SMOKE.n_half, 0.0, 0)
    assert np.array_equal(first.x_train.numpy(), whole.x_train[: SMOKE.n_half].numpy())
    assert np.array_equal(second.x_train.numpy(), whole.x_train[SMOKE.n_half:].numpy())
    assert 0 < float(first.corrupted.float().mean()) < 0.3


def test_an_offset_past_the_training_set_is_refused_naming_it():
    with pytest.raises(ValueError, match="offset must be in"):
        mnist1d_sweep.training_data(3000, 0.0, 0, offset=2000)


def test_the_paper_preset_is_chapter_4s_recipe_on_halves_of_2000():
    paper, greydanus = mlp_decomposition.PRESETS["paper"], mnist1d_sweep.GREYDANUS
    assert (paper.lr, paper.momentum, paper.batch_size, paper.epochs) == (greydanus.lr, greydanus.momentum,
                                                                          greydanus.batch_size, greydanus.epochs)
    assert paper.widths == greydanus.widths and paper.noise == max(greydanus.noises)
    assert paper.n_half * mlp_decomposition.HALVES == greydanus.n_train


def test_each_decomposition_adds_up_to_its_risk():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 50, 10))
    log_probs = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
    parts = mlp_decomposition.decompose(log_probs, rng.integers(0, 10, 50))
    for loss in ("ce", "sq"):
        assert parts[f"{loss}_risk"] == pytest.approx(parts[f"{loss}_bias"] + parts[f"{loss}_variance"])
        assert parts[f"{loss}_variance"] > 0


def test_a_finished_trial_is_read_back_and_a_changed_config_trains_again(tmp_path, monkeypatch):
    first = mlp_decomposition.run(SMOKE, tmp_path)
    assert [len(trial["widths"]) for trial in first] == [len(SMOKE.widths)]
    assert len(first[0]["widths"][0]["histories"]) == mlp_decomposition.HALVES

    def refuse(*args, **kwargs):
        raise AssertionError("a finished trial was trained again")

    monkeypatch.setattr(mlp_decomposition, "train_trial", refuse)
    assert mlp_decomposition.run(SMOKE, tmp_path) == first
    with pytest.raises(AssertionError, match="trained again"):
        mlp_decomposition.run(dataclasses.replace(SMOKE, epochs=4), tmp_path)


def test_bad_configs_are_refused_naming_the_parameter():
    for change, name in (({"n_half": 2001}, "n_half"), ({"noise": 1.5}, "noise"), ({"seeds": ()}, "seeds")):
        with pytest.raises(ValueError, match=name):
            dataclasses.replace(SMOKE, **change)
