"""Chapter 8's estimators: Hessian-vector products, Lanczos eigenvalues, effective dimensionality, and the bias-
variance decomposition against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ddd_utils.analysis import bias_variance, hessian
from ddd_utils.linear import theory


def test_the_hessian_vector_product_matches_the_explicit_hessian_of_a_tiny_network():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    inputs, labels = torch.randn(10, 3, dtype=torch.float64), torch.randint(0, 2, (10,))

    def loss(logits):
        return nn.functional.cross_entropy(logits, labels)

    hvp, dimension = hessian.loss_hvp(model, loss, inputs)
    params = [p.detach() for p in model.parameters()]
    flat = torch.cat([p.reshape(-1) for p in params])

    def objective(vector):
        pieces, start = {}, 0
        for (name, p) in model.named_parameters():
            pieces[name] = vector[start:start + p.numel()].view(p.shape)
            start += p.numel()
        return loss(torch.func.functional_call(model, pieces, (inputs,)))

    explicit = torch.autograd.functional.hessian(objective, flat)
    vector = torch.randn(dimension, dtype=torch.float64)
    torch.testing.assert_close(hvp(vector), explicit @ vector)


def test_lanczos_finds_the_eigenvalues_of_a_symmetric_matrix():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((30, 30))
    matrix = torch.from_numpy(a @ a.T / 30 + np.diag(np.linspace(0, 5, 30)))
    exact = np.sort(torch.linalg.eigvalsh(matrix).numpy())[::-1]
    full = hessian.lanczos(lambda v: matrix @ v, 30, steps=30)
    np.testing.assert_allclose(full, exact, rtol=1e-9, atol=1e-9)
    top = hessian.lanczos(lambda v: matrix @ v, 30, steps=20)
    np.testing.assert_allclose(top[:3], exact[:3], rtol=1e-6)  # the largest converge first


def test_effective_dimensionality_counts_curvatures_above_the_scale():
    assert hessian.effective_dimensionality(np.array([100.0, 1.0, 0.01, -3.0]), z=1.0) == pytest.approx(
        100 / 101 + 0.5 + 0.01 / 1.01)
    with pytest.raises(ValueError, match="z"):
        hessian.effective_dimensionality(np.ones(3), z=0.0)


@pytest.mark.parametrize("n, d", [(60, 20), (20, 60)], ids=["under", "over"])
def test_bias_and_variance_of_min_norm_least_squares_match_their_closed_forms(n, d):
    # Isotropic Gaussian data, y = x.b + noise, |b|^2 = 1, targets the noise-free x.b. The mean fit over training
    # sets is E[X^+ y] = E[P] b = min(1, n/d) b (P projects on the row space, uniformly random), so the squared
    # bias is (1 - n/d)_+^2 and the variance is the rest of the exact risk: for n > d only the noise's
    # noise * d / (n - d - 1); for n < d also the spread of P b between training sets. Many disjoint training sets
    # make the estimator tight.
    rng = np.random.default_rng(1)
    noise, k, m = 0.5, 400, 400
    b = rng.standard_normal(d)
    b /= np.linalg.norm(b)
    x_test = rng.standard_normal((m, d))
    predictions = []
    for _ in range(k):
        X = rng.standard_normal((n, d))
        y = X @ b + np.sqrt(noise) * rng.standard_normal(n)
        predictions.append(x_test @ np.linalg.pinv(X) @ y)
    parts = bias_variance.variance_correction(bias_variance.squared_loss(np.array(predictions), x_test @ b), k)
    risk = theory.min_norm_risk(n, d, 1.0, noise)
    bias = max(0.0, 1 - n / d) ** 2
    assert parts.risk == pytest.approx(risk, rel=0.1)
    assert parts.bias == pytest.approx(bias, abs=0.05)
    assert parts.variance == pytest.approx(risk - bias, rel=0.1)
    if n > d:
        assert parts.variance == pytest.approx(noise * d / (n - d - 1), rel=0.1)


def test_the_cross_entropy_decomposition_adds_up_and_is_zero_variance_for_identical_models():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((5, 50, 4))
    log_probabilities = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
    labels = rng.integers(0, 4, 50)
    parts = bias_variance.cross_entropy(log_probabilities, labels)
    assert parts.risk == pytest.approx(parts.bias + parts.variance, rel=1e-12)
    assert parts.variance > 0
    same = bias_variance.cross_entropy(np.repeat(log_probabilities[:1], 3, axis=0), labels)
    assert same.variance == pytest.approx(0.0, abs=1e-12) and same.risk == pytest.approx(same.bias)


def test_the_squared_loss_decomposition_adds_up_exactly_and_checks_shapes():
    rng = np.random.default_rng(3)
    predictions, targets = rng.standard_normal((4, 30, 3)), rng.standard_normal((30, 3))
    parts = bias_variance.squared_loss(predictions, targets)
    assert parts.risk == pytest.approx(parts.bias + parts.variance, rel=1e-12)
    with pytest.raises(ValueError, match="predictions"):
        bias_variance.squared_loss(predictions[:1], targets)
    with pytest.raises(ValueError, match="predictions"):
        bias_variance.squared_loss(predictions, targets[:, :2])
