"""Feature maps for 1-D inputs on [-1, 1]: column j of a design matrix is a polynomial of degree j.

The basis decides which interpolant the minimum-norm solution picks (its implicit bias), so the chapters
compare bases rather than hide the choice.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ddd_utils._checks import check_positive_int

BASES = ("legendre", "legendre_normalized", "monomial")


def _as_points(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be a non-empty 1-D array of points; got shape {x.shape}")
    if np.any(~np.isfinite(x)) or np.any(np.abs(x) > 1.0):
        raise ValueError("x must lie in [-1, 1] (the interval these polynomial features are defined on)")
    return x


def legendre(x: ArrayLike, num_features: int, normalized: bool = False) -> np.ndarray:
    """Legendre design matrix, shape (len(x), num_features), columns P_0 .. P_{num_features-1}.

    `normalized=False` gives the classical P_j with P_j(1) = 1 (what numpy and the original double-descent
    notebook use): high degrees have small mean square 1/(2j+1). `normalized=True` rescales each column by
    sqrt(2j+1), making the columns orthonormal under the uniform distribution on [-1, 1].
    Built with the three-term recurrence, which is stable for degrees in the hundreds of thousands.
    """
    x = _as_points(x)
    num_features = check_positive_int("num_features", num_features)
    columns = np.empty((num_features, x.size))  # one row per degree, so each recurrence step writes contiguously
    columns[0] = 1.0
    if num_features > 1:
        columns[1] = x
    for j in range(1, num_features - 1):
        # (j + 1) P_{j+1}(x) = (2j + 1) x P_j(x) - j P_{j-1}(x)
        columns[j + 1] = ((2 * j + 1) * x * columns[j] - j * columns[j - 1]) / (j + 1)
    if normalized:
        columns *= np.sqrt(2.0 * np.arange(num_features) + 1.0)[:, None]
    return columns.T


def monomial(x: ArrayLike, num_features: int) -> np.ndarray:
    """Monomial design matrix 1, x, x^2, ..., x^(num_features-1), shape (len(x), num_features)."""
    x = _as_points(x)
    num_features = check_positive_int("num_features", num_features)
    return np.vander(x, num_features, increasing=True)


def design_matrix(basis: str, x: ArrayLike, num_features: int) -> np.ndarray:
    """The design matrix of a basis named in `BASES`."""
    if basis == "legendre":
        return legendre(x, num_features)
    if basis == "legendre_normalized":
        return legendre(x, num_features, normalized=True)
    if basis == "monomial":
        return monomial(x, num_features)
    raise ValueError(f"basis must be one of {BASES}; got {basis!r}")
