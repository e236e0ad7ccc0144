"""Bias and variance of a learning procedure from k models trained on k disjoint training sets (Yang et al. 2020):
the spread of their predictions at each test point is the variance, and risk minus variance the bias, so that the
two add up to the models' mean risk exactly, for squared loss and for cross-entropy.

Squared loss, predictions f_1..f_k at a test point with target y and mean prediction f_bar:
    risk = mean_i |f_i - y|^2 = |f_bar - y|^2 + mean_i |f_i - f_bar|^2 = bias^2 + variance.
Cross-entropy, predicted distributions pi_1..pi_k and label y: with pi_bar the normalised geometric mean,
pi_bar proportional to exp(mean_i log pi_i),
    risk = mean_i -log pi_i(y) = -log pi_bar(y) + mean_i KL(pi_bar || pi_i) = bias + variance.
Every term is averaged over the test points. With k disjoint sets the variance is an unbiased estimate of the
variance over training sets only when k is large; Yang et al. correct small k, and so does `variance_correction`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp


@dataclass(frozen=True)
class Decomposition:
    """Mean risk of the k models, and its split into bias (squared bias for squared loss) and variance."""

    risk: float
    bias: float
    variance: float


def _check_predictions(predictions: np.ndarray, count: int, name: str) -> np.ndarray:
    predictions = np.asarray(predictions, dtype=np.float64)
    if predictions.ndim < 2 or predictions.shape[0] < 2 or predictions.shape[1] != count:
        raise ValueError(f"{name} must have shape (k >= 2 models, {count} test points, ...); got "
                         f"{predictions.shape}")
    return predictions


def squared_loss(predictions: np.ndarray, targets: np.ndarray) -> Decomposition:
    """`predictions` (k, m) or (k, m, c) of k models at m test points, `targets` (m,) or (m, c)."""
    targets = np.asarray(targets, dtype=np.float64)
    predictions = _check_predictions(predictions, targets.shape[0], "predictions")
    if predictions.shape[1:] != targets.shape:
        raise ValueError(f"predictions must have shape (k, *{targets.shape}) to match targets; got "
                         f"{predictions.shape}")
    k, m = predictions.shape[:2]
    predictions, targets = predictions.reshape(k, m, -1), targets.reshape(m, -1)  # outputs in the last axis
    mean = predictions.mean(axis=0)
    variance = np.sum((predictions - mean) ** 2, axis=2).mean()
    bias = np.sum((mean - targets) ** 2, axis=1).mean()
    risk = np.sum((predictions - targets) ** 2, axis=2).mean()
    return Decomposition(float(risk), float(bias), float(variance))


def cross_entropy(log_probabilities: np.ndarray, labels: np.ndarray) -> Decomposition:
    """`log_probabilities` (k, m, c) of k models' predicted distributions at m test points, `labels` (m,)."""
    labels = np.asarray(labels)
    log_probabilities = _check_predictions(log_probabilities, labels.shape[0], "log_probabilities")
    if log_probabilities.ndim != 3:
        raise ValueError(f"log_probabilities must have shape (k, m, classes); got {log_probabilities.shape}")
    mean_log = log_probabilities.mean(axis=0)                       # (m, c)
    log_geometric = mean_log - logsumexp(mean_log, axis=1, keepdims=True)  # log pi_bar, normalised
    points = np.arange(labels.shape[0])
    risk = -log_probabilities[:, points, labels].mean()
    bias = -log_geometric[points, labels].mean()
    variance = np.mean(np.sum(np.exp(log_geometric)[None] * (log_geometric[None] - log_probabilities), axis=2))
    return Decomposition(float(risk), float(bias), float(variance))


def variance_correction(decomposition: Decomposition, k: int) -> Decomposition:
    """Squared loss: the spread of k predictions about their own mean underestimates the variance over training
    sets by the factor (k - 1) / k; rescale it, and take the bias as risk minus the corrected variance."""
    variance = decomposition.variance * k / (k - 1)
    return Decomposition(decomposition.risk, decomposition.risk - variance, variance)
