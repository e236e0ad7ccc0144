"""Min-norm and ridge fits on every prefix of a design's rows or columns, for a batch of designs at once.

A sweep over nested training sets (the first n rows) or nested models (the first p columns) solves one system per
size. Solving each in the smaller dimension, through a corner of one Gram matrix below the square size and a Gram
matrix grown block by block above it, is about 20x faster than an SVD per size (`benchmarks/prefix_fits.py`).
Exact for designs of full rank (Gaussian ones are, almost surely); use `solvers.min_norm` where the rank may drop.
"""

from __future__ import annotations

import numpy as np


def solve_ridge(gram: np.ndarray, rhs: np.ndarray, lam: float) -> np.ndarray:
    """(gram + lam I)^-1 rhs for a stack of Gram matrices (trials, k, k) and right-hand sides (trials, k, r)."""
    return np.linalg.solve(gram + lam * np.eye(gram.shape[-1]), rhs)


def row_prefix_fits(X: np.ndarray, targets: np.ndarray, sizes: np.ndarray, lam: float) -> list[np.ndarray]:
    """Ridge (lam > 0) or min-norm (lam = 0) fits of `targets` (trials, N, r) on the first n rows of X (trials, N, d),
    for each n in `sizes` (increasing): each (trials, d, r). Below d through the n x n Gram matrix X X^T (a corner
    of one matrix), from d on through X^T X, grown as rows are added."""
    d = X.shape[-1]
    head = X[:, :d]
    row_gram = head @ head.transpose(0, 2, 1)
    col_gram, col_rhs, added = np.zeros((X.shape[0], d, d)), np.zeros((X.shape[0], d, targets.shape[-1])), 0
    fits = []
    for n in sizes:
        if n < d:
            dual = solve_ridge(row_gram[:, :n, :n], targets[:, :n], lam)
            fits.append(X[:, :n].transpose(0, 2, 1) @ dual)
            continue
        block = X[:, added:n].transpose(0, 2, 1)
        col_gram += block @ X[:, added:n]
        col_rhs += block @ targets[:, added:n]
        added = n
        fits.append(solve_ridge(col_gram, col_rhs, lam))
    return fits


def column_prefix_fits(X: np.ndarray, b: np.ndarray, e: np.ndarray, sizes: np.ndarray, lam: float
                       ) -> list[np.ndarray]:
    """Ridge or min-norm fits on the first p columns of X (trials, n, P), for each p in `sizes` (increasing), of three
    targets: the used features' signal X_p b_p, the left-out features' X_rest b_rest (b: (trials, P)), and the noise
    e (trials, n). Each (trials, p, 3). Up to n columns through X_p^T X_p (a corner of X^T X); beyond, through
    X_p X_p^T, grown as columns are added."""
    n = X.shape[1]
    head = X[:, :, :n]
    col_gram = head.transpose(0, 2, 1) @ head
    signal = np.einsum("tnp,tp->tn", X, b)  # X b, the whole noise-free target
    col_rhs_signal, col_rhs_noise = (np.einsum("tnp,tn->tp", head, target) for target in (signal, e))
    row_gram, used, added = np.zeros((X.shape[0], n, n)), np.zeros_like(signal), 0
    fits = []
    for p in sizes:
        if p <= n:
            used_rhs = col_gram[:, :p, :p] @ b[:, :p, None]  # X_p^T X_p b_p
            rhs = np.concatenate([used_rhs, col_rhs_signal[:, :p, None] - used_rhs, col_rhs_noise[:, :p, None]], -1)
            fits.append(solve_ridge(col_gram[:, :p, :p], rhs, lam))
            continue
        block = X[:, :, added:p]
        row_gram += block @ block.transpose(0, 2, 1)
        used += np.einsum("tnp,tp->tn", block, b[:, added:p])
        added = p
        dual = solve_ridge(row_gram, np.stack([used, signal - used, e], axis=-1), lam)
        fits.append(X[:, :, :p].transpose(0, 2, 1) @ dual)
    return fits
