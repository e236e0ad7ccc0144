"""Modular arithmetic tables, the grokking task of Power et al. (2022): every equation a o b = c (mod p) once, a
random part of the table to train on and the rest to test on."""

from __future__ import annotations

import numpy as np
import torch

from ddd_utils._checks import check_positive_int
from ddd_utils.engine.recipe import TrainData

OPERATIONS = ("add", "subtract", "divide")
INPUTS = ("one_hot", "tokens")  # how an equation is shown to a model: an MLP's one-hot pair, a Transformer's tokens


def _is_prime(p: int) -> bool:
    return p >= 2 and all(p % k for k in range(2, int(p ** 0.5) + 1))


def table(modulus: int, operation: str = "add") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, c) for every equation of the table, each pair exactly once: all (a, b) in [0, p)^2 for add and
    subtract; b in [1, p) for divide, where c = a * b^(p - 2) mod p (the inverse exists because p is prime)."""
    check_positive_int("modulus", modulus, minimum=2)
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {OPERATIONS}; got {operation!r}")
    if operation == "divide" and not _is_prime(modulus):
        raise ValueError(f"modulus must be a prime for 'divide' (every b != 0 needs an inverse); got {modulus}")
    a, b = (grid.ravel() for grid in np.meshgrid(np.arange(modulus), np.arange(modulus), indexing="ij"))
    if operation == "divide":
        a, b = a[b > 0], b[b > 0]
        inverse = np.array([pow(int(value), modulus - 2, modulus) for value in range(modulus)])
        c = a * inverse[b] % modulus
    else:
        c = (a + b) % modulus if operation == "add" else (a - b) % modulus
    return a, b, c


def split(count: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices into a table of `count` equations: a random permutation fixed by `seed`, its first
    round(train_fraction * count) entries for training. Disjoint, and together every equation once."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1) (the share of the table to train on); "
                         f"got {train_fraction!r}")
    order = np.random.default_rng(seed).permutation(count)
    cut = int(round(train_fraction * count))
    if not 0 < cut < count:
        raise ValueError(f"train_fraction {train_fraction} leaves an empty train or test set of a {count}-equation "
                         f"table")
    return order[:cut], order[cut:]


def one_hot_pairs(a: np.ndarray, b: np.ndarray, modulus: int) -> torch.Tensor:
    """Inputs (N, 2p): the one-hot code of a beside that of b (an MLP's first layer then holds an embedding of each
    operand, summed)."""
    eye = torch.eye(modulus)
    return torch.cat([eye[torch.from_numpy(a)], eye[torch.from_numpy(b)]], dim=1)


def equation_tokens(a: np.ndarray, b: np.ndarray, modulus: int) -> torch.Tensor:
    """Token ids (N, 4) of "a o b =": numbers are their own ids 0..p-1, the operation is p and "=" is p + 1."""
    a, b = torch.from_numpy(a.astype(np.int64)), torch.from_numpy(b.astype(np.int64))
    return torch.stack([a, torch.full_like(a, modulus), b, torch.full_like(a, modulus + 1)], dim=1)


def modular_data(modulus: int, operation: str, train_fraction: float, seed: int, inputs: str = "one_hot"
                 ) -> TrainData:
    """The table split by `seed`, with `inputs` "one_hot" (`one_hot_pairs`) or "tokens" (`equation_tokens`) and
    integer labels (no label noise: `corrupted` is all False)."""
    if inputs not in INPUTS:
        raise ValueError(f"inputs must be one of {INPUTS}; got {inputs!r}")
    a, b, c = table(modulus, operation)
    train, test = split(len(c), train_fraction, seed)
    x = one_hot_pairs(a, b, modulus) if inputs == "one_hot" else equation_tokens(a, b, modulus)
    labels = torch.from_numpy(c.astype(np.int64))
    return TrainData(x[train], labels[train], torch.zeros(len(train), dtype=torch.bool), x[test], labels[test])
