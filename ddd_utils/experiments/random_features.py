"""Chapter 3: double descent of random-feature regression on handwritten digits (Belkin et al. 2019, Figure 2).

n training images with one-hot targets over k = 10 classes; N random features (Fourier or ReLU, nested: one draw
serves every N); each class's output is its own least-squares problem on the same n x N design, so the interpolation
threshold sits at N = n features (n * k weights in all, one per training target; for ReLU features, n features that
are not zero on the whole training set: see `threshold`). Past it the fit is the minimum-norm interpolant; as N ->
infinity it becomes the interpolant of the kernel the features approximate (Gaussian or arc-cosine), the "kernel
limit". Offline the data are scikit-learn's 8 x 8 digits (1797 images); the `full` preset uses 10^4 MNIST training
images as Belkin et al. did, downloaded once through torchvision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ddd_utils._checks import check_nonnegative, check_positive_int, check_probability
from ddd_utils.analysis.curves import wrapped
from ddd_utils.blas import config_n, sized_by
from ddd_utils.data.digit_splits import DATASETS, load_split, one_hot
from ddd_utils.experiments.polynomial import feature_grid
from ddd_utils.linear.random_features import (
    KINDS,
    RandomFeatures,
    _check_bandwidth,
    feature_scale,
    kernel_coefficients,
    kernel_fit,
    random_features,
)
from ddd_utils.linear.solvers import min_norm, min_norm_sweep


@dataclass(frozen=True)
class RandomFeaturesConfig:
    dataset: str = "digits"        # "digits" (scikit-learn, offline) or "mnist" (read from data_root, downloaded once)
    n: int = 400                   # training images; threshold at N = n features (n * 10 weights in all)
    n_test: int = 1000             # test images, clean labels
    kind: str = "fourier"          # "fourier" (Gaussian kernel limit) or "relu" (arc-cosine kernel limit)
    bandwidth: float = 1.5         # kernel length scale, pixels in [0, 1] (digits: median distance between images ~3)
    max_ratio: float = 15.0        # the sweep runs to N = max_ratio * n
    num_grid: int = 32             # log-spaced N in [1, max_ratio * n], plus every N within 3 of n
    seeds: tuple[int, ...] = (0, 1, 2)  # each draws a train/test split, the label noise and the features
    noise: float = 0.0             # probability a training label is replaced by a wrong class (sweep's default)
    noises: tuple[float, ...] = (0.1, 0.2)  # label-noise levels the chapter compares; ridge and GD use the largest
    ridge_lams: tuple[float, ...] = (1e-3, 1e-1)  # ridge strengths to compare, kernel units: (K + lam I) alpha = y
    gd_steps: tuple[int, ...] = (100, 1000)       # early stopping: full-batch GD steps from zero, lr 1 / s_max^2
    network_n: int = 15            # training images of the torch two-layer network check
    network_features: int = 600    # its hidden ReLU units (N = 40 n: well conditioned, so GD converges quickly)
    network_steps: int = 6_000     # full-batch GD steps of that network (lr 1 / s_max^2)
    data_root: str = "data"        # MNIST files in data_root/MNIST/raw (only for dataset "mnist")

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}; got {self.dataset!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} (random Fourier or random ReLU features); "
                             f"got {self.kind!r}")
        for name in ("n", "n_test", "num_grid", "network_n", "network_features", "network_steps"):
            check_positive_int(name, getattr(self, name))
        _check_bandwidth(self.bandwidth)
        if not self.max_ratio > 1.0:
            raise ValueError(f"max_ratio must be > 1 (the sweep must cross N = n); got {self.max_ratio!r}")
        if not self.seeds:
            raise ValueError("seeds must name at least one seed")
        check_probability("noise", self.noise)
        if not self.noises:
            raise ValueError("noises must name at least one label-noise level")
        for noise in self.noises:
            check_probability("noises", noise)
        for lam in self.ridge_lams:
            check_nonnegative("ridge_lams", lam)
        for steps in self.gd_steps:
            check_positive_int("gd_steps", steps)


PRESETS = {
    "smoke": RandomFeaturesConfig(n=60, n_test=200, max_ratio=10.0, num_grid=12, seeds=(0,), noises=(0.2,),
                                  ridge_lams=(1e-2,), gd_steps=(100,), network_n=10, network_features=200,
                                  network_steps=500),
    "cpu": RandomFeaturesConfig(),
    # Belkin et al.'s Figure 2 scale: 10^4 MNIST images, N up to 6 * 10^4. Numpy on the CPU: a min-norm or ridge sweep
    # is about 125 times the 18 s measured for n = 2000 on one core (about 40 core-minutes; 4.8 GB per feature
    # matrix). Early stopping would need a 10^4 x 10^4 eigendecomposition per N (hours), so `full` leaves it out.
    "full": RandomFeaturesConfig(dataset="mnist", n=10_000, n_test=10_000, bandwidth=5.0, max_ratio=6.0,
                                 seeds=(0,), noises=(0.2,), ridge_lams=(1e-3,), gd_steps=(), network_steps=50_000),
}


@dataclass(frozen=True)
class RandomFeaturesSweep:
    n: int                         # training images: the interpolation threshold is at N = n ...
    num_features: np.ndarray       # (P,) the N values
    threshold: np.ndarray          # (seeds,) ... live features: N = n for Fourier, n + dead units for ReLU
    test_error: np.ndarray         # (seeds, P) zero-one error of the argmax on the clean test labels
    test_loss: np.ndarray          # (seeds, P) mean over test images of |prediction - one-hot|^2 (sum over classes)
    train_loss: np.ndarray         # (seeds, P) the same on the training labels (noisy where corrupted)
    train_error: np.ndarray        # (seeds, P) zero-one error on the training labels
    weight_norm: np.ndarray        # (seeds, P) Frobenius norm of the (N, 10) weights on sqrt(c / N)-scaled features
    kernel_distance: np.ndarray    # (seeds, P) |test predictions - kernel limit's| / |kernel limit's|
    kernel_test_error: np.ndarray  # (seeds,) the N -> infinity line: the kernel fit with the same lam or steps
    kernel_test_loss: np.ndarray   # (seeds,)
    kernel_train_loss: np.ndarray  # (seeds,)
    kernel_norm: np.ndarray        # (seeds,) RKHS norm of the kernel fit (the limit of weight_norm)


def load_data(config: RandomFeaturesConfig, seed: int, noise: float | None = None) -> dict[str, np.ndarray]:
    """`load_split` with the config's data set and sizes; `noise` overrides config.noise."""
    return load_split(config.dataset, config.n, config.n_test, seed, config.noise if noise is None else noise,
                      config.data_root)


def grid(config: RandomFeaturesConfig, thresholds: Sequence[int] = ()) -> np.ndarray:
    """The N values of the sweep: log-spaced up to max_ratio * n, plus every N within 3 of n and of `thresholds`."""
    stop = int(config.max_ratio * config.n)
    near = [np.arange(t - 3, t + 4) for t in thresholds]
    values = np.union1d(feature_grid(config.n, stop, config.num_grid), np.concatenate([[config.n], *near]))
    return values[(values >= 1) & (values <= stop)]


def threshold(features: RandomFeatures, X: np.ndarray, n: int) -> int:
    """The N at which the first N features first include n that are not zero on every training input.

    n for Fourier features. A ReLU feature with w . x <= 0 for every training image (likely for some w, as pixels
    are non-negative) is zero on the whole training set and adds no parameter, so for ReLU features the threshold is
    n plus the number of such "dead" features among the first N; the max_features drawn if that is never reached.
    """
    if features.kind == "fourier":
        return n
    live = np.zeros(features.max_features, dtype=bool)
    for start in range(0, features.max_features, 4096):  # in blocks: X W^T may not fit in memory at once
        live[start:start + 4096] = np.any(np.asarray(X) @ features.W[start:start + 4096].T > 0.0, axis=0)
    reached = np.flatnonzero(np.cumsum(live) >= n)
    return int(reached[0]) + 1 if reached.size else features.max_features


def _gram_sweep(F, F_test, Y, num_features, kind: str, lam: float, steps: int | None):
    """(test predictions, training predictions, weight norm) for each N, from K_N = scale^2 F_N F_N^T grown block by
    block; ridge or early stopping in the kernel's units, so N -> infinity gives kernel ridge or kernel GD."""
    gram = np.zeros((F.shape[0], F.shape[0]))
    cross = np.zeros((F_test.shape[0], F.shape[0]))
    done = 0
    for N in num_features:
        gram += F[:, done:N] @ F[:, done:N].T
        cross += F_test[:, done:N] @ F[:, done:N].T
        done = N
        scale2 = feature_scale(kind, int(N)) ** 2
        alpha = kernel_coefficients(scale2 * gram, Y, lam=lam, steps=steps)
        train = scale2 * gram @ alpha
        yield scale2 * cross @ alpha, train, float(np.sqrt(max(np.vdot(alpha, train), 0.0)))


def _losses(predictions: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zero-one error of the argmax and squared loss to the one-hot targets, over the last two axes."""
    error = np.mean(predictions.argmax(axis=-1) != labels, axis=-1)
    loss = np.sum((predictions - one_hot(labels)) ** 2, axis=(-2, -1)) / labels.size
    return error, loss


def sweep(config: RandomFeaturesConfig, noise: float | None = None, lam: float = 0.0,
          steps: int | None = None) -> RandomFeaturesSweep:
    """Errors, losses and weight norm against N for every seed: min-norm (default), ridge `lam` or `steps` of GD.

    Min-norm fits go through `min_norm_sweep` on the unscaled features (scale-free; Gram form past N = n, with its
    SVD fallback at the threshold). Ridge and early stopping use the n x n Gram matrix in the kernel's units, so
    they tend to kernel ridge and kernel gradient descent as N grows.
    """
    lam = check_nonnegative("lam", lam)
    if steps is not None:
        steps = check_positive_int("steps", steps, minimum=0)
        if lam > 0.0:
            raise ValueError("give either lam (ridge) or steps (early stopping), not both")
    return _sweep(config, noise, lam, steps)


@sized_by(config_n)
def _sweep(config: RandomFeaturesConfig, noise: float | None, lam: float, steps: int | None) -> RandomFeaturesSweep:
    max_features = int(config.max_ratio * config.n)
    prepared = []
    for seed in config.seeds:
        data = load_data(config, seed, noise)
        features = random_features(config.kind, data["X"].shape[1], max_features, seed, config.bandwidth)
        prepared.append((data, features, threshold(features, data["X"], config.n)))
    num_features = grid(config, sorted({t for _, _, t in prepared}))
    scales = np.array([feature_scale(config.kind, int(N)) for N in num_features])
    out = {name: [] for name in ("test_error", "test_loss", "train_loss", "train_error", "weight_norm",
                                 "kernel_distance", "kernel_test_error", "kernel_test_loss", "kernel_train_loss",
                                 "kernel_norm")}
    for data, features, _ in prepared:
        F, F_test = features.unscaled(data["X"]), features.unscaled(data["X_test"])
        Y = one_hot(data["y"])
        if lam == 0.0 and steps is None:
            fit = min_norm_sweep(F, Y, F_test, one_hot(data["y_test"]), num_features, keep_predictions=True)
            test, train, norm = fit.test_predictions, fit.train_predictions, fit.weight_norm / scales
        else:
            test, train, norm = (np.array(a) for a in zip(*_gram_sweep(F, F_test, Y, num_features, config.kind,
                                                                          lam, steps), strict=True))
        limit = kernel_fit(config.kind, data["X"], Y, data["X_test"], config.bandwidth, lam=lam, steps=steps)
        for prefix, (test_pred, train_pred) in (("", (test, train)),
                                                ("kernel_", (limit["test_predictions"], limit["train_predictions"]))):
            error, loss = _losses(test_pred, data["y_test"])
            train_error, train_loss = _losses(train_pred, data["y"])
            out[prefix + "test_error"].append(error)
            out[prefix + "test_loss"].append(loss)
            out[prefix + "train_loss"].append(train_loss)
            if not prefix:
                out["train_error"].append(train_error)
        out["weight_norm"].append(norm)
        out["kernel_norm"].append(limit["norm"])
        reference = limit["test_predictions"]
        out["kernel_distance"].append(np.linalg.norm(test - reference, axis=(1, 2)) / np.linalg.norm(reference))
    return RandomFeaturesSweep(config.n, num_features, np.array([t for _, _, t in prepared]),
                               **{name: np.array(values) for name, values in out.items()})


@dataclass(frozen=True)
class SamplewiseSweep:
    num_features: int          # N, fixed
    sizes: np.ndarray          # (S,) training images n' used: the first n' of each seed's training split
    test_error: np.ndarray     # (seeds, S) zero-one error on the clean test labels
    test_loss: np.ndarray      # (seeds, S) squared loss to the one-hot test labels (summed over classes)


@sized_by(config_n)
def samplewise(config: RandomFeaturesConfig, num_features: int, num_sizes: int = 40, noise: float | None = None
               ) -> SamplewiseSweep:
    """The min-norm fit on N = `num_features` random features against the number of training images n', from 1
    to config.n (nested: the first n' images of each seed's split, the same features): the peak moves to n' = N."""
    check_positive_int("num_features", num_features)
    check_positive_int("num_sizes", num_sizes, minimum=2)
    near = np.arange(num_features - 3, num_features + 4)
    sizes = np.union1d(np.round(np.linspace(1, config.n, num_sizes)).astype(int), near)
    sizes = sizes[(sizes >= 1) & (sizes <= config.n)]
    errors, losses = [], []
    for seed in config.seeds:
        data = load_data(config, seed, noise)
        features = random_features(config.kind, data["X"].shape[1], num_features, seed, config.bandwidth)
        F, F_test, Y = features.unscaled(data["X"]), features.unscaled(data["X_test"]), one_hot(data["y"])
        predictions = np.stack([F_test @ min_norm(F[:size], Y[:size], multi_output=True) for size in sizes])
        error, loss = _losses(predictions, data["y_test"])
        errors.append(error)
        losses.append(loss)
    return SamplewiseSweep(num_features, sizes, np.array(errors), np.array(losses))


def peak(result: RandomFeaturesSweep, metric: str = "test_loss", window: float = 2.0, center: str = "mean"
         ) -> dict[str, float]:
    """The `metric` averaged over seeds (`center`: "mean", or "median" for heavy-tailed peaks) around the threshold:
    its largest value for N in [n / window, window * n] and where, its value at the largest N (`last`, at
    `last_at`) and, where there is one, in the kernel limit."""
    if center not in ("mean", "median"):
        raise ValueError(f"center must be 'mean' or 'median'; got {center!r}")
    average = np.mean if center == "mean" else np.median
    curve = average(getattr(result, metric), axis=0)
    near = (result.num_features >= result.n / window) & (result.num_features <= result.n * window)
    j = int(np.flatnonzero(near)[np.argmax(curve[near])])
    kernel = getattr(result, "kernel_" + metric, None)
    return {"num_features": int(result.num_features[j]), "value": float(curve[j]), "n": result.n,
            "last": float(curve[-1]), "last_at": int(result.num_features[-1]),
            "kernel": float("nan") if kernel is None else float(average(kernel))}


def summary(result: RandomFeaturesSweep, metric: str = "test_loss", window: float = 2.0, center: str = "mean"
            ) -> str:
    """`peak` as printable text: the largest value near N = n and where, the largest N's, the kernel limit's."""
    top = peak(result, metric, window, center)
    line = (f"{metric} ({center} over seeds): largest for N in [n/{window:g}, {window:g}n] is {top['value']:.3g} "
            f"at N = {top['num_features']} (n = {top['n']}); {top['last']:.3g} at N = {top['last_at']}")
    return wrapped(line if np.isnan(top["kernel"]) else f"{line}; kernel limit {top['kernel']:.3g}")


def distance_decay(result: RandomFeaturesSweep, from_ratio: float = 4.0) -> float:
    """The slope of log `kernel_distance` (seed mean) against log N for N >= from_ratio * n: close to -1/2 when
    the random-features predictor approaches the kernel interpolant like 1 / sqrt(N)."""
    far = result.num_features >= from_ratio * result.n
    if far.sum() < 2:
        raise ValueError(f"from_ratio must leave at least two N >= from_ratio * n = {from_ratio * result.n:g} in the "
                         f"sweep (largest N: {result.num_features[-1]}); got {from_ratio!r}")
    distance = result.kernel_distance[:, far].mean(axis=0)
    return float(np.polyfit(np.log(result.num_features[far]), np.log(distance), 1)[0])


def with_overrides(config: RandomFeaturesConfig, **changes: object) -> RandomFeaturesConfig:
    """A copy of `config` with some fields changed (validated like any config)."""
    return replace(config, **changes)
