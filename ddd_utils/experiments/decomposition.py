"""Chapter 8's experiments: where the peak comes from (bias and variance across model size, Yang et al. 2020), how
many directions the data determine (effective dimensionality, Maddox et al. 2020), and what averaging and tuned
regularisation do to it.

Two models, both trained on k disjoint training sets so that the spread of their predictions measures the variance
over training sets: min-norm random-feature regression on scikit-learn's digits (seconds; squared loss on one-hot
targets) and one-hidden-layer MLPs on MNIST-1D trained with the engine (cross-entropy; also decomposed in squared
loss on the predicted probabilities).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ddd_utils._checks import check_positive_int, check_probability
from ddd_utils.analysis import bias_variance, hessian
from ddd_utils.blas import spare_one_core
from ddd_utils.data.digit_splits import load_split, one_hot
from ddd_utils.data.mnist1d import make_mnist1d
from ddd_utils.data.noise import corrupt_labels
from ddd_utils.engine.recipe import Recipe, TrainData, log_spaced_epochs
from ddd_utils.engine.training import train_many
from ddd_utils.linear.random_features import feature_scale, kernel_coefficients, random_features
from ddd_utils.linear.solvers import min_norm_sweep
from ddd_utils.models import build_model

NUM_CLASSES = 10
DIGITS = 1797  # images in scikit-learn's digits
MNIST1D_TRAIN = 4000


@dataclass(frozen=True)
class DecompositionConfig:
    rf_noises: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3)  # label-noise levels: probability a label is made wrong
    mlp_noises: tuple[float, ...] = (0.0, 0.2)
    seed: int = 0                     # the split of the data, the label noise, features and initialisations
    # random features on digits: min-norm fits of one-hot targets with N random Fourier features
    rf_n: int = 250                   # training images per split: the interpolation threshold is N = rf_n
    rf_splits: int = 4                # disjoint training sets (Yang et al.'s k)
    rf_validation: int = 300          # held-out images that choose the ridge
    rf_test: int = 497                # test images (clean labels): rf_splits * rf_n + both held-out sets <= 1797
    rf_bandwidth: float = 1.5         # Gaussian kernel length scale (pixels in [0, 1]), as in chapter 3
    rf_max_ratio: float = 12.0        # N runs to rf_max_ratio * rf_n
    rf_num_grid: int = 28             # log-spaced N, plus N = rf_n
    rf_draws: int = 4                 # feature draws averaged by the ensemble (on the first split)
    rf_ridges: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # ridge strengths, kernel units: (K + lam I)
    # MLPs 40-h-10 on MNIST-1D, Adam, cross-entropy
    mlp_n: int = 1000                 # training sequences per split (mlp_splits * mlp_n <= 4000)
    mlp_splits: int = 4               # disjoint training sets; also the seeds of the ensemble on the first split
    mlp_widths: tuple[int, ...] = (4, 8, 16, 32, 64, 128, 256, 512)  # hidden units
    mlp_epochs: int = 300             # passes over each training set
    mlp_lr: float = 1e-3              # Adam's learning rate
    mlp_batch: int = 128              # sequences per step
    mlp_eval_count: int = 20          # log-spaced epochs recorded (for early stopping)
    lanczos_steps: int = 40           # Hessian-vector products per network for its top eigenvalues

    def __post_init__(self):
        for name in ("rf_noises", "mlp_noises"):
            for noise in getattr(self, name):
                check_probability(name, noise)
        for name in ("rf_n", "rf_validation", "rf_test", "rf_num_grid", "rf_draws", "mlp_n", "mlp_epochs",
                     "mlp_batch", "mlp_eval_count", "lanczos_steps"):
            check_positive_int(name, getattr(self, name))
        for name in ("rf_splits", "mlp_splits"):
            check_positive_int(name, getattr(self, name), minimum=2)
        if self.rf_splits * self.rf_n + self.rf_validation + self.rf_test > DIGITS:
            raise ValueError(f"rf_splits * rf_n + rf_validation + rf_test must be at most {DIGITS} (the digits); "
                             f"got {self.rf_splits * self.rf_n + self.rf_validation + self.rf_test}")
        if self.mlp_splits * self.mlp_n > MNIST1D_TRAIN:
            raise ValueError(f"mlp_splits * mlp_n must be at most {MNIST1D_TRAIN} (MNIST-1D's training set); got "
                             f"{self.mlp_splits * self.mlp_n}")
        if not self.rf_max_ratio > 1:
            raise ValueError(f"rf_max_ratio must be > 1 (the sweep must cross N = rf_n); got {self.rf_max_ratio!r}")
        for width in self.mlp_widths:
            check_positive_int("mlp_widths", width)


PRESETS = {
    "smoke": DecompositionConfig(rf_noises=(0.0, 0.2), mlp_noises=(0.2,), rf_n=60, rf_splits=2, rf_validation=60,
                                 rf_test=200, rf_num_grid=8, rf_draws=2, rf_max_ratio=5.0, mlp_n=200, mlp_splits=2,
                                 mlp_widths=(4, 32), mlp_epochs=3, mlp_eval_count=3, lanczos_steps=8),
    "cpu": DecompositionConfig(),
    "full": DecompositionConfig(mlp_widths=(2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024),
                                mlp_epochs=1000, mlp_eval_count=40, lanczos_steps=80),
}
PRESETS["paper"] = PRESETS["full"]  # no single published setting: the full grid


def rf_grid(config: DecompositionConfig) -> np.ndarray:
    """Log-spaced N from 1 to rf_max_ratio * rf_n, with N = rf_n and its neighbours."""
    stop = int(config.rf_max_ratio * config.rf_n)
    values = np.unique(np.round(np.logspace(0, np.log10(stop), config.rf_num_grid)).astype(int))
    return np.union1d(values, np.arange(config.rf_n - 2, config.rf_n + 3))


def random_features_decomposition(config: DecompositionConfig, noise: float) -> dict[str, np.ndarray]:
    """Min-norm random-feature fits of k disjoint training sets (one feature draw) at every N of `rf_grid`: the
    squared-loss risk, bias and variance (corrected for k), each split's test error, the error of their average,
    the error of the average over `rf_draws` feature draws on the first split, the test error with the ridge chosen
    on held-out images, and the eigenvalues of the first split's Hessian Phi^T Phi / n (as those of Phi Phi^T / n)."""
    total = config.rf_splits * config.rf_n + config.rf_validation
    data = load_split("digits", total, config.rf_test, config.seed, noise)
    splits = [slice(i * config.rf_n, (i + 1) * config.rf_n) for i in range(config.rf_splits)]
    validation = slice(config.rf_splits * config.rf_n, total)
    num_features = rf_grid(config)
    targets_test = one_hot(data["y_test"])
    predictions = []  # per draw: (splits, N, test, classes)
    for draw in range(config.rf_draws):
        features = random_features("fourier", data["X"].shape[1], int(num_features[-1]), config.seed + draw,
                                   config.rf_bandwidth)
        F, F_test = features.unscaled(data["X"]), features.unscaled(data["X_test"])
        used = splits if draw == 0 else splits[:1]
        predictions.append(np.array([min_norm_sweep(F[part], one_hot(data["y"][part]), F_test, targets_test,
                                                    num_features, keep_predictions=True).test_predictions
                                     for part in used]))
        if draw == 0:
            first_F, first_F_test = F, F_test
    by_split = predictions[0]
    parts = [bias_variance.variance_correction(bias_variance.squared_loss(by_split[:, p], targets_test),
                                               config.rf_splits) for p in range(len(num_features))]
    ridge_error, eigenvalues = _ridge_and_spectrum(config, first_F, first_F_test, data, splits[0], validation,
                                                   num_features)
    return {"num_features": num_features, "threshold": config.rf_n,
            "risk": np.array([p.risk for p in parts]), "bias": np.array([p.bias for p in parts]),
            "variance": np.array([p.variance for p in parts]),
            "test_error": _error(by_split, data["y_test"]),
            "split_average_error": _error(by_split.mean(axis=0), data["y_test"]),
            "draw_average_error": _error(np.mean([p[0] for p in predictions], axis=0), data["y_test"]),
            "ridge_error": ridge_error, "eigenvalues": eigenvalues}


def _error(outputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Zero-one error of the argmax over the last axis, averaged over the test images (the second-to-last)."""
    return np.mean(outputs.argmax(axis=-1) != labels, axis=-1)


def _ridge_and_spectrum(config: DecompositionConfig, F: np.ndarray, F_test: np.ndarray, data: dict, train: slice,
                        validation: slice, num_features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """On one split, per N: the test error of ridge with the strength (of `rf_ridges`) that fits the held-out
    images best, and the eigenvalues of Phi Phi^T / n, descending."""
    Y, Y_validation = one_hot(data["y"][train]), one_hot(data["y"][validation])
    # Unscaled Gram and cross products, grown block by block as features are added (the N are nested).
    sums = {"gram": 0.0, "validation": 0.0, "test": 0.0}
    errors, spectra, done = [], [], 0
    for N in num_features:
        block = F[train, done:N]
        for name, rows in (("gram", F[train]), ("validation", F[validation]), ("test", F_test)):
            sums[name] = sums[name] + rows[:, done:N] @ block.T
        done = N
        scale2 = feature_scale("fourier", int(N)) ** 2
        gram, cross_validation, cross_test = (scale2 * sums[name] for name in ("gram", "validation", "test"))
        fits = [kernel_coefficients(gram, Y, lam=lam) for lam in config.rf_ridges]
        losses = [np.mean(np.sum((cross_validation @ alpha - Y_validation) ** 2, axis=1)) for alpha in fits]
        best = fits[int(np.argmin(losses))]
        errors.append(np.mean((cross_test @ best).argmax(axis=1) != data["y_test"]))
        spectra.append(np.sort(np.linalg.eigvalsh(gram / config.rf_n))[::-1])
    return np.array(errors), np.array(spectra)


@spare_one_core
def network_decomposition(config: DecompositionConfig, noise: float, progress: bool = False) -> dict:
    """MLPs of every width trained on k disjoint MNIST-1D training sets (split i with seed i), and on the first set
    with seeds 1..k-1 more (an ensemble over initialisations), all at once: per width the cross-entropy and squared-
    loss decompositions over the splits, every model's final test and train error and training loss, the errors of
    the averaged predictions (over splits, and over seeds), the best test error over the recorded epochs (early
    stopping with an oracle), and the first split's trained models with their training data (for the Hessian)."""
    source = make_mnist1d()
    datas, members = [], []  # members: (split, seed)
    for split in range(config.mlp_splits):
        part = slice(split * config.mlp_n, (split + 1) * config.mlp_n)
        noisy, corrupted = corrupt_labels(source["y_train"][part], noise, NUM_CLASSES, config.seed + split)
        datas.append(TrainData(torch.from_numpy(source["x_train"][part]), torch.from_numpy(noisy.astype(np.int64)),
                               torch.from_numpy(corrupted), torch.from_numpy(source["x_test"]),
                               torch.from_numpy(source["y_test"].astype(np.int64))))
        members.append((split, split))
    members += [(0, seed) for seed in range(1, config.mlp_splits)]
    models, model_datas, seeds, keys = [], [], [], []
    for width in config.mlp_widths:
        for split, seed in members:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(config.seed + 1000 * seed + width)
                models.append(build_model("mlp", width, (40,), NUM_CLASSES))
            model_datas.append(datas[split])
            seeds.append(config.seed + seed)
            keys.append((width, split, seed))
    recipe = Recipe(optimizer="adam", lr=config.mlp_lr, batch_size=config.mlp_batch, epochs=config.mlp_epochs)
    histories = train_many(models, model_datas, recipe, seeds, log_spaced_epochs(config.mlp_epochs,
                                                                                 config.mlp_eval_count),
                           progress=progress)
    position = {key: i for i, key in enumerate(keys)}
    x_test, y_test = datas[0].x_test, source["y_test"]
    with torch.no_grad():
        log_probs = {key: torch.log_softmax(model.eval()(x_test), dim=1).numpy().astype(np.float64)
                     for key, model in zip(keys, models, strict=True)}
    out = {name: [] for name in ("ce_risk", "ce_bias", "ce_variance", "sq_risk", "sq_bias", "sq_variance",
                                 "test_error", "train_error", "train_loss", "split_average_error", "seed_average_error",
                                 "best_test_error")}
    first_models = []
    for width in config.mlp_widths:
        by_split = np.array([log_probs[width, s, s] for s in range(config.mlp_splits)])
        by_seed = np.array([log_probs[width, 0, s] for s in range(config.mlp_splits)])
        ce = bias_variance.cross_entropy(by_split, y_test)
        sq = bias_variance.variance_correction(bias_variance.squared_loss(np.exp(by_split), one_hot(y_test)),
                                               config.mlp_splits)
        for name, value in (("ce_risk", ce.risk), ("ce_bias", ce.bias), ("ce_variance", ce.variance),
                            ("sq_risk", sq.risk), ("sq_bias", sq.bias), ("sq_variance", sq.variance)):
            out[name].append(value)
        chosen = [histories[position[width, s, s]] for s in range(config.mlp_splits)]
        out["test_error"].append([h["test_error"][-1] for h in chosen])
        out["train_error"].append([h["train_error"][-1] for h in chosen])
        out["train_loss"].append([h["train_loss"][-1] for h in chosen])
        out["best_test_error"].append([min(h["test_error"]) for h in chosen])
        out["split_average_error"].append(np.mean(np.exp(by_split).mean(axis=0).argmax(axis=1) != y_test))
        out["seed_average_error"].append(np.mean(np.exp(by_seed).mean(axis=0).argmax(axis=1) != y_test))
        first_models.append(models[position[width, 0, 0]])
    result = {name: np.array(values) for name, values in out.items()}
    for name in ("test_error", "train_error", "train_loss", "best_test_error"):
        result[name] = result[name].T  # (splits, widths), as the plots take trials
    return {"widths": np.array(config.mlp_widths), **result, "models": first_models, "data": datas[0]}


def network_spectrum(model: torch.nn.Module, data: TrainData, steps: int, seed: int = 0) -> np.ndarray:
    """The top eigenvalues (Lanczos, `steps` Hessian-vector products) of the Hessian of the mean training
    cross-entropy of `model` on its (noisy) training labels, descending."""
    model = model.eval()
    hvp, dimension = hessian.loss_hvp(model, lambda logits: torch.nn.functional.cross_entropy(logits, data.y_train),
                                      data.x_train)
    return hessian.lanczos(hvp, dimension, steps, seed=seed)
