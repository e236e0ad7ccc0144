"""Chapter 2's real data: sample-wise double descent of min-norm linear regression on scikit-learn's diabetes data
(442 patients, d = 10 features; packaged with scikit-learn, so no download), whose interpolation threshold is
n = d = 10 training patients: the real-data companion of the Gaussian sweeps of `linear_regression`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_diabetes

from ddd_utils._checks import check_positive_int
from ddd_utils.blas import sized_by
from ddd_utils.linear.solvers import min_norm


@dataclass(frozen=True)
class DiabetesConfig:
    """The sample-wise sweep on real data: nested training sets up to `max_train` over many random splits."""

    max_train: int = 60            # largest training set (the diabetes data have d = 10 features)
    test_fraction: float = 0.3     # share of the 442 patients held out for testing in each split
    trials: int = 300              # random train/test splits

    def __post_init__(self):
        check_positive_int("max_train", self.max_train, minimum=2)
        check_positive_int("trials", self.trials)
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1); got {self.test_fraction!r}")


PRESETS = {
    "smoke": DiabetesConfig(max_train=20, trials=5),
    "cpu": DiabetesConfig(),
    "full": DiabetesConfig(max_train=150, trials=3000),
}


@sized_by(lambda config, *args, **kwargs: config.max_train)
def samplewise(config: DiabetesConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """Min-norm test error against n on scikit-learn's diabetes data (442 patients, 10 features; no download).

    Each split standardises the features and centres the target with the statistics of its whole training pool
    (one n-point set cannot give a scale for n = 1), then fits nested training sets n = 1 .. max_train. The error is
    the test MSE divided by that of predicting the pool's mean target: 1 is no better than the fit's own intercept.
    """
    features, target = load_diabetes(return_X_y=True)
    sizes = np.arange(1, config.max_train + 1)
    errors = np.empty((config.trials, sizes.size))
    num_test = int(round(config.test_fraction * target.size))
    if target.size - num_test < config.max_train:
        raise ValueError(f"max_train must be at most {target.size - num_test} (the training pool); "
                         f"got {config.max_train}")
    for trial in range(config.trials):
        order = np.random.default_rng((seed, 6, trial)).permutation(target.size)
        test, pool = order[:num_test], order[num_test:]
        mean, scale = features[pool].mean(axis=0), features[pool].std(axis=0)
        X, X_test = (features[pool] - mean) / scale, (features[test] - mean) / scale
        y, y_test = target[pool] - target[pool].mean(), target[test] - target[pool].mean()
        for j, n in enumerate(sizes):  # nested training sets: the first n patients of the pool
            w = min_norm(X[:n], y[:n])
            errors[trial, j] = np.mean((X_test @ w - y_test) ** 2) / np.mean(y_test ** 2)
    return {"sizes": sizes, "errors": errors, "num_features": features.shape[1]}
