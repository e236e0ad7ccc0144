"""Tests for ddd_utils.linear.features: Legendre and monomial design matrices on [-1, 1]."""

import numpy as np
import pytest
from numpy.polynomial import legendre as npleg
from scipy.special import eval_legendre, gammaln

from ddd_utils.linear.features import BASES, design_matrix, legendre, monomial


def _points(n=37, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, n)


def _quadrature_gram(columns_at_nodes, weights):
    """(1/2) * integral over [-1, 1] of products of columns, by Gauss-Legendre quadrature."""
    return 0.5 * (columns_at_nodes * weights[:, None]).T @ columns_at_nodes


@pytest.mark.parametrize("num_features", [1, 2, 7, 60])
@pytest.mark.parametrize("basis", BASES)
def test_design_matrix_shape(basis, num_features):
    x = _points(13)
    assert design_matrix(basis, x, num_features).shape == (13, num_features)


@pytest.mark.parametrize("num_features", [1, 2, 5, 20, 60])
def test_classical_legendre_columns_are_orthogonal_with_norm_one_over_2k_plus_1(num_features):
    # 80 Gauss-Legendre nodes integrate polynomials of degree <= 159 exactly, above 2 * 59.
    nodes, weights = npleg.leggauss(80)
    gram = _quadrature_gram(legendre(nodes, num_features), weights)
    expected = np.diag(1.0 / (2.0 * np.arange(num_features) + 1.0))
    np.testing.assert_allclose(gram, expected, rtol=0, atol=1e-13)


@pytest.mark.parametrize("num_features", [1, 2, 5, 20, 60])
def test_normalized_legendre_columns_are_orthonormal_under_uniform_measure(num_features):
    nodes, weights = npleg.leggauss(80)
    gram = _quadrature_gram(legendre(nodes, num_features, normalized=True), weights)
    np.testing.assert_allclose(gram, np.eye(num_features), rtol=0, atol=1e-12)


def test_design_matrix_legendre_normalized_is_orthonormal():
    nodes, weights = npleg.leggauss(40)
    gram = _quadrature_gram(design_matrix("legendre_normalized", nodes, 30), weights)
    np.testing.assert_allclose(gram, np.eye(30), rtol=0, atol=1e-12)


def test_normalized_columns_are_classical_columns_times_sqrt_2j_plus_1():
    x = _points()
    ratio = legendre(x, 25, normalized=True)[0] / legendre(x, 25)[0]
    np.testing.assert_allclose(ratio, np.sqrt(2.0 * np.arange(25) + 1.0), rtol=1e-13)


@pytest.mark.parametrize("basis", ["legendre", None])
def test_legendre_matches_numpy_legvander_at_degree_50(basis):
    x = np.concatenate([_points(200), [-1.0, 0.0, 1.0]])
    ours = legendre(x, 51) if basis is None else design_matrix(basis, x, 51)
    np.testing.assert_allclose(ours, npleg.legvander(x, 50), rtol=1e-11, atol=1e-12)


def test_legendre_matches_scipy_eval_legendre_at_degree_2000():
    x = np.linspace(-1.0, 1.0, 41)
    degrees = np.arange(0, 2001, 50)
    ours = legendre(x, 2001)[:, degrees]
    reference = np.stack([eval_legendre(j, x) for j in degrees], axis=1)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-10)


def test_legendre_endpoint_values_at_degree_5000():
    table = legendre(np.array([1.0, -1.0]), 5001)
    j = np.arange(5001)
    np.testing.assert_allclose(table[0], np.ones(5001), rtol=0, atol=1e-12)
    np.testing.assert_allclose(table[1], (-1.0) ** j, rtol=0, atol=1e-12)


def test_legendre_at_zero_matches_closed_form_at_degree_5000():
    # P_{2m}(0) = (-1)^m (2m)! / (4^m (m!)^2), P_{2m+1}(0) = 0.
    values = legendre(np.array([0.0]), 5001)[0]
    m = np.arange(0, 2501)
    expected_even = (-1.0) ** m * np.exp(gammaln(2 * m + 1) - 2 * gammaln(m + 1) - 2 * m * np.log(2.0))
    np.testing.assert_allclose(values[0::2], expected_even, rtol=1e-10, atol=0)
    np.testing.assert_allclose(values[1::2], 0.0, rtol=0, atol=1e-15)


def test_high_degree_legendre_is_bounded_by_one_on_the_interval():
    # |P_j(x)| <= 1 on [-1, 1]: an unstable recurrence would blow up at degree 5000.
    values = legendre(np.linspace(-1.0, 1.0, 201), 5001)
    assert np.all(np.isfinite(values))
    assert np.max(np.abs(values)) <= 1.0 + 1e-12


@pytest.mark.parametrize("num_features", [1, 2, 8])
def test_monomial_columns_are_powers_of_x(num_features):
    x = np.concatenate([_points(20), [-1.0, 0.0, 1.0]])
    expected = np.stack([x**j for j in range(num_features)], axis=1)
    np.testing.assert_allclose(monomial(x, num_features), expected, rtol=1e-14, atol=0)
    np.testing.assert_allclose(design_matrix("monomial", x, num_features), expected, rtol=1e-14, atol=0)


def test_first_two_columns_are_one_and_x_in_every_basis():
    x = _points()
    for basis in ("legendre", "monomial"):
        design = design_matrix(basis, x, 2)
        np.testing.assert_array_equal(design[:, 0], np.ones_like(x))
        np.testing.assert_array_equal(design[:, 1], x)


def test_columns_are_nested_prefixes():
    x = _points()
    for basis in BASES:
        np.testing.assert_array_equal(design_matrix(basis, x, 10), design_matrix(basis, x, 30)[:, :10])


def test_accepts_lists_and_integer_points():
    np.testing.assert_allclose(legendre([0, 1, -1], 3), [[1.0, 0.0, -0.5], [1.0, 1.0, 1.0], [1.0, -1.0, 1.0]])


FEATURE_MAPS = [
    lambda x, k: legendre(x, k),
    lambda x, k: legendre(x, k, normalized=True),
    monomial,
    lambda x, k: design_matrix("legendre", x, k),
    lambda x, k: design_matrix("monomial", x, k),
]


@pytest.mark.parametrize("feature_map", FEATURE_MAPS)
@pytest.mark.parametrize("num_features", [0, -1])
def test_num_features_below_one_raises_naming_num_features(feature_map, num_features):
    with pytest.raises(ValueError, match="num_features"):
        feature_map(_points(5), num_features)


@pytest.mark.parametrize("feature_map", FEATURE_MAPS)
def test_non_integer_num_features_raises_naming_num_features(feature_map):
    with pytest.raises((TypeError, ValueError), match="num_features"):
        feature_map(_points(5), 2.5)


@pytest.mark.parametrize("feature_map", FEATURE_MAPS)
@pytest.mark.parametrize("x", [[0.0, 1.0 + 1e-12], [-1.5, 0.0], [0.0, np.nan], [np.inf]])
def test_points_outside_the_interval_raise(feature_map, x):
    with pytest.raises(ValueError, match=r"x must lie in \[-1, 1\]"):
        feature_map(np.array(x), 3)


@pytest.mark.parametrize("feature_map", FEATURE_MAPS)
def test_empty_points_raise(feature_map):
    with pytest.raises(ValueError, match="x must be a non-empty 1-D"):
        feature_map(np.array([]), 3)


@pytest.mark.parametrize("feature_map", FEATURE_MAPS)
@pytest.mark.parametrize("shape", [(3, 2), (1, 1), ()])
def test_points_not_one_dimensional_raise(feature_map, shape):
    with pytest.raises(ValueError, match="x must be a non-empty 1-D"):
        feature_map(np.zeros(shape), 3)


@pytest.mark.parametrize("basis", ["chebyshev", "Legendre", ""])
def test_unknown_basis_raises_listing_the_bases(basis):
    with pytest.raises(ValueError, match="basis") as info:
        design_matrix(basis, _points(5), 3)
    for name in BASES:
        assert name in str(info.value)
