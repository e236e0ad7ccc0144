"""Chapter 8's experiments on tiny settings: shapes, the identities that tie their outputs together, bad configs."""

from __future__ import annotations

import numpy as np
import pytest

from ddd_utils.experiments import decomposition

SMOKE = decomposition.PRESETS["smoke"]


def test_the_random_feature_decomposition_adds_up_and_peaks_at_the_threshold():
    result = decomposition.random_features_decomposition(SMOKE, noise=0.2)
    N = result["num_features"]
    assert SMOKE.rf_n in N and result["test_error"].shape == (SMOKE.rf_splits, len(N))
    np.testing.assert_allclose(result["risk"], result["bias"] + result["variance"], rtol=1e-10)
    assert N[np.argmax(result["variance"])] == SMOKE.rf_n  # min-norm fits: the variance explodes at N = n
    assert result["eigenvalues"].shape == (len(N), SMOKE.rf_n)
    assert np.all(np.diff(result["eigenvalues"], axis=1) <= 1e-12)  # each spectrum sorted, descending
    threshold = list(N).index(SMOKE.rf_n)
    assert result["ridge_error"][threshold] < result["test_error"][0, threshold]


def test_the_network_decomposition_trains_every_width_and_set():
    result = decomposition.network_decomposition(SMOKE, noise=0.2)
    widths = len(SMOKE.mlp_widths)
    assert result["test_error"].shape == result["best_test_error"].shape == (SMOKE.mlp_splits, widths)
    assert np.all(result["best_test_error"] <= result["test_error"])  # the last epoch is one of the recorded
    np.testing.assert_allclose(result["ce_risk"], result["ce_bias"] + result["ce_variance"], rtol=1e-9)
    assert len(result["models"]) == widths and len(result["data"].y_train) == SMOKE.mlp_n
    spectrum = decomposition.network_spectrum(result["models"][0], result["data"], steps=5)
    assert spectrum.shape == (5,) and np.all(np.diff(spectrum) <= 0)


@pytest.mark.parametrize("change, name", [({"rf_splits": 1}, "rf_splits"), ({"rf_n": 500}, "rf_splits"),
                                          ({"mlp_n": 3000}, "mlp_splits"), ({"rf_noises": (1.5,)}, "rf_noises"),
                                          ({"rf_max_ratio": 1.0}, "rf_max_ratio"), ({"mlp_widths": (0,)}, "widths")])
def test_bad_configs_are_refused_naming_the_parameter(change, name):
    with pytest.raises(ValueError, match=name):
        decomposition.DecompositionConfig(**change)
