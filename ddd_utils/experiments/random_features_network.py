"""Chapter 3's network section: a two-layer ReLU network with its first layer frozen at random features, trained by
gradient descent from zero, ends at the minimum-norm random-feature fit. The torch half of chapter 3, in its own
module so that the rest of the chapter runs without torch (scripts/check_min_versions.sh)."""

from __future__ import annotations

import numpy as np
import torch  # before the sized call below, so that ddd_utils.blas limits torch's threads too

from ddd_utils.blas import config_n, sized_by
from ddd_utils.data.digit_splits import NUM_CLASSES, one_hot
from ddd_utils.experiments.random_features import RandomFeaturesConfig, load_data
from ddd_utils.linear.random_features import random_features
from ddd_utils.linear.solvers import min_norm


@sized_by(config_n)
def network_vs_min_norm(config: RandomFeaturesConfig, seed: int = 0, num_checkpoints: int = 10,
                        lr: float | None = None) -> dict[str, np.ndarray | float]:
    """Train a two-layer ReLU network by full-batch gradient descent and compare it with min-norm random features.

    The first layer is frozen at the random ReLU weights W of `random_features("relu", ..., seed)` (the first
    network_features rows), the second starts at zero; the output is sqrt(1/N) relu(x W^T) A and the loss
    (1/2) sum |output - one-hot|^2 over network_n training images, in float64 torch. From zero, A stays in the row
    space of the features, so GD converges to the minimum-norm fit; `lr` defaults to 1 / s_max^2 of the features.
    """
    data = load_data(config, seed)
    n, N = config.network_n, config.network_features
    if n > data["X"].shape[0]:
        raise ValueError(f"network_n must be at most n = {data['X'].shape[0]}; got {n}")
    X, X_test, Y = data["X"][:n], data["X_test"], one_hot(data["y"][:n])
    features = random_features("relu", X.shape[1], N, seed, config.bandwidth)
    Phi, Phi_test = features.features(X), features.features(X_test)
    W_star = np.stack([min_norm(Phi, Y[:, c]) for c in range(NUM_CLASSES)], axis=1)
    target = Phi_test @ W_star
    singular = np.linalg.svd(Phi, compute_uv=False)
    if lr is None:
        lr = 1.0 / singular[0] ** 2
    elif not 0.0 < lr < 2.0 / singular[0] ** 2:
        raise ValueError(f"lr must be in (0, 2 / s_max^2) = (0, {2.0 / singular[0] ** 2:.4g}) for these features; "
                         f"got {lr!r}")
    first = torch.nn.Linear(X.shape[1], N, bias=False, dtype=torch.float64)
    second = torch.nn.Linear(N, NUM_CLASSES, bias=False, dtype=torch.float64)
    with torch.no_grad():
        first.weight.copy_(torch.from_numpy(np.array(features.W)))
        second.weight.zero_()
    first.weight.requires_grad_(False)  # frozen: the network is random features with a trained output layer
    scale = features.scale()

    def network(inputs):
        return second(torch.relu(first(inputs))) * scale

    inputs, targets, test_inputs = (torch.from_numpy(a) for a in (X, Y, X_test))
    checkpoints = np.unique(np.round(np.logspace(0, np.log10(config.network_steps), num_checkpoints)).astype(int))
    record = set(checkpoints.tolist())
    distance, train_loss = [], []
    for step in range(1, config.network_steps + 1):
        second.weight.grad = None
        (0.5 * ((network(inputs) - targets) ** 2).sum()).backward()
        with torch.no_grad():  # plain gradient descent; torch.optim would import torch._dynamo (seconds)
            second.weight -= lr * second.weight.grad
        if step in record:
            with torch.no_grad():
                predictions = network(test_inputs).numpy()
                train_loss.append(float(((network(inputs) - targets) ** 2).sum()) / n)
            distance.append(np.linalg.norm(predictions - target) / np.linalg.norm(target))
    return {"steps": checkpoints, "relative_distance": np.array(distance), "train_loss": np.array(train_loss),
            "n": n, "num_features": N, "condition_number": float(singular[0] / singular[-1]),
            "min_norm_test_error": float(np.mean(target.argmax(axis=1) != data["y_test"]))}
