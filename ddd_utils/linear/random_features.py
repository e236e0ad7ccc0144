"""Random feature maps reproducible from a seed, the kernels they approximate, and kernel least squares.

- Random Fourier features (Rahimi and Recht 2007): phi(x) = sqrt(2/N) cos(W x + b), rows of W ~ N(0, I /
  bandwidth^2), b ~ U[0, 2 pi]; phi(x) . phi(z) -> exp(-|x - z|^2 / (2 bandwidth^2)) as N -> infinity.
- Random ReLU features: phi(x) = sqrt(1/N) max(0, W x), rows of W ~ N(0, I / bandwidth^2); phi(x) . phi(z) ->
  |x| |z| J(theta) / (2 pi bandwidth^2), J(theta) = sin theta + (pi - theta) cos theta: the order-1 arc-cosine
  kernel of Cho and Saul (2009), whose normalisation 1/pi corresponds to sqrt(2/N) instead of sqrt(1/N).

Nested maps: row j of W and b_j come from their own random streams in order, so the map with N features is exactly the
first N columns of the map with more features from the same seed, and one draw serves a whole sweep over N through
the sweep solvers' "first p columns" convention (`unscaled`). The sqrt(c/N) scale depends on N, but a constant
rescaling of every feature leaves minimum-norm predictions unchanged (w becomes w / scale); it changes the norm of w,
and `scale(N)` converts it to the scaling whose N -> infinity limit is the kernel interpolant's RKHS norm. Ridge
penalties are not scale-free: `lam` here always means the kernel's units, (Phi Phi^T + lam I) alpha = y.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from ddd_utils._checks import check_nonnegative, check_positive_int

KINDS = ("fourier", "relu")
KERNELS = {"fourier": "Gaussian", "relu": "arc-cosine (order 1)"}  # the N -> infinity limit of each kind


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} (random Fourier or random ReLU features); got {kind!r}")
    return kind


def _check_bandwidth(bandwidth: float) -> float:
    bandwidth = float(bandwidth)
    if not (np.isfinite(bandwidth) and bandwidth > 0.0):
        raise ValueError(f"bandwidth must be a finite number > 0 (a length in input units); got {bandwidth!r}")
    return bandwidth


def _as_inputs(name: str, X, d: int | None = None) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or (d is not None and X.shape[1] != d):
        expected = "(m, d)" if d is None else f"(m, d) = (m, {d})"
        raise ValueError(f"{name} must be a 2-D array of shape {expected}; got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return X


def feature_scale(kind: str, num_features: int) -> float:
    """The factor sqrt(2/N) (Fourier) or sqrt(1/N) (ReLU) that makes phi(x) . phi(z) tend to the kernel."""
    num_features = check_positive_int("num_features", num_features)
    return float(np.sqrt((2.0 if _check_kind(kind) == "fourier" else 1.0) / num_features))


@dataclass(frozen=True, eq=False)
class RandomFeatures:
    """A drawn random feature map: `features(X, N)` uses the first N rows of W (and entries of b)."""

    kind: str            # "fourier" or "relu"
    W: np.ndarray        # (max_features, d) input weights, rows ~ N(0, I / bandwidth^2); read-only
    b: np.ndarray        # (max_features,) phases ~ U[0, 2 pi] (Fourier); zeros for ReLU; read-only
    bandwidth: float     # length scale of the kernel, in input units

    @property
    def max_features(self) -> int:
        return self.W.shape[0]

    @property
    def d(self) -> int:
        return self.W.shape[1]

    def _num_features(self, num_features: int | None) -> int:
        if num_features is None:
            return self.max_features
        num_features = check_positive_int("num_features", num_features)
        if num_features > self.max_features:
            raise ValueError(f"num_features must be at most max_features = {self.max_features} (the features "
                             f"drawn); got {num_features}")
        return num_features

    def scale(self, num_features: int | None = None) -> float:
        """The factor that multiplies `unscaled` to give `features` for this N."""
        return feature_scale(self.kind, self._num_features(num_features))

    def unscaled(self, X: ArrayLike, num_features: int | None = None) -> np.ndarray:
        """cos(W x + b) or max(0, W x) for the first N rows, without the N-dependent factor: shape (m, N)."""
        N = self._num_features(num_features)
        projections = _as_inputs("X", X, self.d) @ self.W[:N].T
        if self.kind == "fourier":  # in place: these matrices are the largest arrays of a sweep
            projections += self.b[:N]
            return np.cos(projections, out=projections)
        return np.maximum(projections, 0.0, out=projections)

    def features(self, X: ArrayLike, num_features: int | None = None) -> np.ndarray:
        """phi(X) with N = `num_features` (all drawn by default): shape (m, N); phi . phi tends to `kernel`."""
        N = self._num_features(num_features)
        return self.scale(N) * self.unscaled(X, N)

    def kernel(self, X: ArrayLike, Z: ArrayLike) -> np.ndarray:
        """The N -> infinity limit of features(X) features(Z)^T."""
        return kernel_matrix(self.kind, X, Z, self.bandwidth)


def random_features(kind: str, d: int, max_features: int, seed: int = 0, bandwidth: float = 1.0) -> RandomFeatures:
    """Draw `max_features` random features of `kind` for inputs of dimension d; a pure function of the arguments.

    W and b come from separate streams (seeded by (seed, 0) and (seed, 1)) filled row by row, so a draw with fewer
    features is a prefix of a draw with more.
    """
    kind = _check_kind(kind)
    d = check_positive_int("d", d)
    max_features = check_positive_int("max_features", max_features)
    bandwidth = _check_bandwidth(bandwidth)
    W = np.random.default_rng((seed, 0)).standard_normal((max_features, d)) / bandwidth
    if kind == "fourier":
        b = np.random.default_rng((seed, 1)).uniform(0.0, 2.0 * np.pi, max_features)
    else:
        b = np.zeros(max_features)
    W.setflags(write=False)
    b.setflags(write=False)
    return RandomFeatures(kind, W, b, bandwidth)


def gaussian_kernel(X: ArrayLike, Z: ArrayLike, bandwidth: float) -> np.ndarray:
    """k(x, z) = exp(-|x - z|^2 / (2 bandwidth^2)) for every row of X against every row of Z: shape (m, m')."""
    bandwidth = _check_bandwidth(bandwidth)
    X, Z = _as_inputs("X", X), _as_inputs("Z", Z)
    if X.shape[1] != Z.shape[1]:
        raise ValueError(f"X and Z must have the same number of columns; got {X.shape[1]} and {Z.shape[1]}")
    squared = np.sum(X**2, axis=1)[:, None] + np.sum(Z**2, axis=1)[None, :] - 2.0 * X @ Z.T
    return np.exp(-np.maximum(squared, 0.0) / (2.0 * bandwidth**2))


def arccos_kernel(X: ArrayLike, Z: ArrayLike, bandwidth: float = 1.0) -> np.ndarray:
    """E[max(0, w.x) max(0, w.z)] for w ~ N(0, I / bandwidth^2): |x| |z| J(theta) / (2 pi bandwidth^2).

    J(theta) = sin theta + (pi - theta) cos theta and theta is the angle between x and z. This is Cho and Saul's
    order-1 arc-cosine kernel divided by 2 (for bandwidth 1): the limit of sqrt(1/N) ReLU features.
    """
    bandwidth = _check_bandwidth(bandwidth)
    X, Z = _as_inputs("X", X), _as_inputs("Z", Z)
    if X.shape[1] != Z.shape[1]:
        raise ValueError(f"X and Z must have the same number of columns; got {X.shape[1]} and {Z.shape[1]}")
    norms = np.linalg.norm(X, axis=1)[:, None] * np.linalg.norm(Z, axis=1)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.where(norms > 0.0, (X @ Z.T) / norms, 1.0)
    theta = np.arccos(np.clip(cosine, -1.0, 1.0))
    return norms * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2.0 * np.pi * bandwidth**2)


def kernel_matrix(kind: str, X: ArrayLike, Z: ArrayLike, bandwidth: float) -> np.ndarray:
    """The kernel that random features of `kind` approximate: Gaussian (Fourier) or arc-cosine (ReLU)."""
    if _check_kind(kind) == "fourier":
        return gaussian_kernel(X, Z, bandwidth)
    return arccos_kernel(X, Z, bandwidth)


def _gd_filter(eigenvalues: np.ndarray, steps: int) -> np.ndarray:
    """h(lambda) = (1 - (1 - lambda / lambda_max)^steps) / lambda: gradient descent from zero after `steps` steps
    at learning rate 1 / lambda_max, as a filter of the Gram matrix's eigenvalues (steps / lambda_max at 0)."""
    lam_max = eigenvalues[-1]
    if lam_max <= 0.0:
        return np.zeros_like(eigenvalues)
    ratio = np.clip(eigenvalues / lam_max, 0.0, 1.0)
    small = ratio < 1e-12
    with np.errstate(divide="ignore"):  # r = 1 gives log1p(-1) = -inf and the right limit, 1
        decayed = -np.expm1(steps * np.log1p(-ratio))  # 1 - (1 - r)^steps, accurately for small r
    return np.where(small, steps / lam_max, decayed / np.where(small, 1.0, eigenvalues))


def kernel_coefficients(K: np.ndarray, y: ArrayLike, lam: float = 0.0, steps: int | None = None,
                        rcond: float | None = None) -> np.ndarray:
    """alpha with predictions K(X_test, X) alpha: K^+ y (min-norm interpolant), (K + lam I)^-1 y (ridge), or
    gradient descent from zero for `steps` steps at learning rate 1 / lambda_max(K) (early stopping).

    The minimum-norm case drops eigenvalues below rcond * lambda_max (default n * machine epsilon, as `min_norm`);
    y may be (n,) or (n, k). The squared RKHS norm of the fit is alpha^T K alpha.
    """
    K = np.asarray(K, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] == 0:
        raise ValueError(f"K must be a square Gram matrix of shape (n, n); got shape {K.shape}")
    if y.ndim not in (1, 2) or y.shape[0] != K.shape[0]:
        raise ValueError(f"y must have shape (n,) or (n, k) with n = {K.shape[0]}; got shape {y.shape}")
    lam = check_nonnegative("lam", lam)
    if steps is not None:
        steps = check_positive_int("steps", steps, minimum=0)
        if lam > 0.0:
            raise ValueError("give either lam (ridge) or steps (early stopping), not both")
    if lam > 0.0:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(K + lam * np.eye(K.shape[0])), y)
    eigenvalues, vectors = np.linalg.eigh((K + K.T) / 2.0)
    if steps is not None:
        gains = _gd_filter(eigenvalues, steps)
    else:
        cutoff = (K.shape[0] * np.finfo(np.float64).eps if rcond is None else check_nonnegative("rcond", rcond))
        keep = eigenvalues > cutoff * max(eigenvalues[-1], 0.0)
        gains = np.where(keep, 1.0 / np.where(keep, eigenvalues, 1.0), 0.0)
    return vectors @ (gains * (vectors.T @ y).T).T


def kernel_fit(kind: str, X: ArrayLike, y: ArrayLike, X_test: ArrayLike, bandwidth: float, lam: float = 0.0,
               steps: int | None = None) -> dict[str, np.ndarray | float]:
    """Kernel least squares with the limit kernel of `kind`: test and training predictions and the RKHS norm.

    lam = 0 and steps = None give the minimum-norm interpolant, the N -> infinity limit of min-norm random features.
    """
    K = kernel_matrix(kind, X, X, bandwidth)
    alpha = kernel_coefficients(K, y, lam=lam, steps=steps)
    train = K @ alpha
    return {"test_predictions": kernel_matrix(kind, X_test, X, bandwidth) @ alpha, "train_predictions": train,
            "norm": float(np.sqrt(max(np.vdot(alpha, train), 0.0)))}
