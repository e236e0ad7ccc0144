"""Chapter 2's real data (experiments.diabetes_regression): min-norm regression on scikit-learn's diabetes data peaks
at n = d training patients, is reproducible in its seed, and names a bad setting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ddd_utils.experiments import diabetes_regression as diabetes


def test_samplewise_shapes():
    config = diabetes.DiabetesConfig(max_train=15, trials=3)
    out = diabetes.samplewise(config, seed=0)
    np.testing.assert_array_equal(out["sizes"], np.arange(1, 16))
    assert out["errors"].shape == (3, 15) and np.all(np.isfinite(out["errors"])) and np.all(out["errors"] >= 0)
    assert out["num_features"] == 10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_median_error_peaks_at_the_number_of_features(seed):
    out = diabetes.samplewise(diabetes.DiabetesConfig(max_train=25, trials=40), seed=seed)
    median = np.median(out["errors"], axis=0)
    peak = out["sizes"][np.argmax(median)]
    assert peak == out["num_features"] == 10
    others = np.delete(median, np.argmax(median))
    assert median.max() > 1.2 * others.max()  # a clear peak, not a tie
    assert median.max() > 3.0  # far worse than predicting the pool's mean (error 1)
    assert median[-1] < median.max() / 3.0  # and it comes down again with more data


def test_max_train_beyond_the_training_pool_raises_naming_max_train():
    pool = 442 - round(0.3 * 442)
    diabetes.samplewise(diabetes.DiabetesConfig(max_train=pool, test_fraction=0.3, trials=1))  # the whole pool is fine
    with pytest.raises(ValueError, match="max_train"):
        diabetes.samplewise(diabetes.DiabetesConfig(max_train=pool + 1, test_fraction=0.3, trials=1))


def test_is_deterministic_in_seed_and_differs_across_seeds():
    config = diabetes.DiabetesConfig(max_train=12, trials=3)
    a, b = diabetes.samplewise(config, seed=7), diabetes.samplewise(config, seed=7)
    c = diabetes.samplewise(config, seed=8)
    np.testing.assert_array_equal(a["errors"], b["errors"])
    assert not np.array_equal(a["errors"], c["errors"])


def test_presets_are_smoke_cpu_full_and_grow_from_smoke_to_full():
    assert set(diabetes.PRESETS) == {"smoke", "cpu", "full"}
    assert all(isinstance(c, diabetes.DiabetesConfig) for c in diabetes.PRESETS.values())
    smoke, cpu, full = (diabetes.PRESETS[k] for k in ("smoke", "cpu", "full"))
    for field in ("max_train", "trials"):
        assert getattr(smoke, field) <= getattr(cpu, field) <= getattr(full, field)


@pytest.mark.parametrize("field, value", [
    ("test_fraction", 0.0),
    ("test_fraction", 1.0),
    ("test_fraction", math.nan),
    ("max_train", 1),
    ("max_train", 0),
    ("trials", 0),
])
def test_an_invalid_config_field_raises_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field} "):
        diabetes.DiabetesConfig(**{field: value})
