"""The curvature of a trained network's loss: Hessian-vector products with `torch.func`, the top eigenvalues by
Lanczos iteration, and the effective dimensionality of Maddox, Benton and Wilson (2020),
N_eff(z) = sum_i lambda_i / (lambda_i + z): the number of directions in which the data determine the parameters
(curvature well above z), as opposed to the number of parameters."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.func import functional_call, grad

from ddd_utils._checks import check_positive_int


def loss_hvp(model: torch.nn.Module, loss: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor
             ) -> tuple[Callable[[torch.Tensor], torch.Tensor], int]:
    """(hvp, dimension): `hvp(v)` is the Hessian of loss(model(inputs)) with respect to all parameters, flattened,
    times the vector v (reverse-over-reverse: the gradient of grad . v, no Hessian built; forward-mode AD would do
    too, but loads deprecated TorchScript decompositions in this torch). The model is evaluated as it is (call
    `.eval()` first for dropout or BatchNorm)."""
    names = [name for name, _ in model.named_parameters()]
    params = [parameter.detach() for _, parameter in model.named_parameters()]
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]

    def unflatten(flat: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: piece.view(shape) for name, piece, shape in zip(names, flat.split(sizes), shapes,
                                                                         strict=True)}

    def objective(flat: torch.Tensor) -> torch.Tensor:
        return loss(functional_call(model, unflatten(flat), (inputs,)))

    point = torch.cat([p.reshape(-1) for p in params])

    def hvp(vector: torch.Tensor) -> torch.Tensor:
        vector = vector.to(point.dtype)
        return grad(lambda flat: torch.dot(grad(objective)(flat), vector))(point)

    return hvp, point.numel()


def lanczos(matvec: Callable[[torch.Tensor], torch.Tensor], dimension: int, steps: int, seed: int = 0,
            dtype: torch.dtype = torch.float64) -> np.ndarray:
    """Eigenvalues of the `steps` x `steps` Lanczos tridiagonal matrix of a symmetric operator, descending: its
    largest ones converge first to the operator's largest eigenvalues. Full reorthogonalisation keeps the basis
    orthogonal in finite precision (no spurious copies of converged eigenvalues); `steps` is capped at
    `dimension`."""
    steps = min(check_positive_int("steps", steps), check_positive_int("dimension", dimension))
    generator = torch.Generator().manual_seed(seed)
    basis = torch.zeros(steps, dimension, dtype=dtype)
    vector = torch.randn(dimension, generator=generator, dtype=dtype)
    basis[0] = vector / vector.norm()
    alphas, betas = [], []
    for j in range(steps):
        w = matvec(basis[j]).to(dtype)
        alpha = torch.dot(w, basis[j])
        w = w - basis[:j + 1].T @ (basis[:j + 1] @ w)  # orthogonalise against the whole basis, twice
        w = w - basis[:j + 1].T @ (basis[:j + 1] @ w)
        alphas.append(alpha.item())
        if j + 1 == steps:
            break
        beta = w.norm()
        if beta.item() < 1e-12 * max(1.0, abs(alpha.item())):  # an invariant subspace: its eigenvalues are exact
            break
        betas.append(beta.item())
        basis[j + 1] = w / beta
    tridiagonal = np.diag(alphas) + np.diag(betas[:len(alphas) - 1], 1) + np.diag(betas[:len(alphas) - 1], -1)
    return np.sort(np.linalg.eigvalsh(tridiagonal))[::-1]


def effective_dimensionality(eigenvalues: np.ndarray, z: float) -> float:
    """N_eff(z) = sum_i lambda_i / (lambda_i + z) over the eigenvalues (negative ones, from a non-convex loss,
    count as zero curvature)."""
    if not z > 0:
        raise ValueError(f"z must be > 0 (the curvature scale that counts as determined); got {z!r}")
    curvature = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    return float(np.sum(curvature / (curvature + z)))
