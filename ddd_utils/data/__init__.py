"""Data for the chapters: label noise and generated regression problems."""

from ddd_utils.data.gaussian import random_direction, sample_gaussian_regression
from ddd_utils.data.noise import corrupt_labels
from ddd_utils.data.synthetic import TARGETS, sample_regression

__all__ = ["TARGETS", "corrupt_labels", "random_direction", "sample_gaussian_regression", "sample_regression"]
