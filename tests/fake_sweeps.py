"""Small finished sweeps and decompositions in the records' formats, shared by the explorers' tests."""

from __future__ import annotations

import numpy as np


def fake_records() -> list[dict]:
    """A finished sweep in the records' format: two noises, three widths, two seeds, three evaluated epochs."""
    rng = np.random.default_rng(0)
    records = []
    for noise in (0.0, 0.2):
        for width in (4, 16, 64):
            for seed in (0, 1):
                errors = {name: list(rng.uniform(0.31, 0.49, 3)) for name in ("test_error", "train_error",
                                                                          "corrupted_error")}
                records.append({"config": {"noise": noise, "width": width, "seed": seed, "n_train": 100},
                                "history": {"epoch": [1, 10, 100], "num_parameters": 10 * width, **errors}})
    return records


RECORDS = fake_records()


def fake_translation_records() -> list[dict]:
    """A finished Transformer sweep: three d_models, two training-set sizes, two seeds, three evaluated steps."""
    records = []
    for d_model in (8, 16, 32):
        for n_train in (100, 200):
            for seed in (0, 1):
                steps = [1, 10, 100]
                test = [4.0, 2.5, 1.6 + d_model / 1000 + n_train / 10000 + 0.01 * seed]  # ends by d_model
                train = [value - 0.5 for value in test]
                records.append({"config": {"d_model": d_model, "n_train": n_train, "seed": seed},
                                "history": {"step": steps, "test_loss": test, "train_loss": train,
                                            "test_accuracy": [0.5] * 3, "num_parameters": 100 * d_model}})
    return records


TRANSLATION_RECORDS = fake_translation_records()


def fake_decompositions() -> dict[float, dict]:
    """Random-feature decompositions at two noise levels, in `random_features_decomposition`'s format."""
    N = np.array([1, 5, 10, 12, 20, 40, 80])
    results = {}
    for noise in (0.0, 0.2):
        variance = 0.01 * N + noise + 5.0 * (N == 20)
        bias = 1.0 / N
        results[noise] = {"num_features": N, "threshold": 20, "risk": bias + variance, "bias": bias,
                          "variance": variance, "test_error": np.array([0.5 - 0.002 * N, 0.52 - 0.002 * N]),
                          "split_average_error": 0.45 - 0.002 * N, "ridge_error": 0.4 - 0.001 * N - noise / 10}
    return results


DECOMPOSITIONS = fake_decompositions()
