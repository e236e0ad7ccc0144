"""Tests for ddd_utils.data.corrupt_labels: a corrupted label is a uniformly random wrong class, or (Greydanus's
kind) a uniformly random class out of all of them."""

import numpy as np
import pytest
from scipy import stats

from ddd_utils.data import corrupt_labels

N = 20_000
NUM_CLASSES = 10


def _labels(n=N, num_classes=NUM_CLASSES, seed=123):
    return np.random.default_rng(seed).integers(0, num_classes, size=n)


@pytest.mark.parametrize("noise", [0.0, 0.01, 0.1, 0.25, 0.5, 0.9, 1.0])
def test_corrupted_fraction_is_within_binomial_tolerance_of_noise(noise):
    labels = _labels()
    _, mask = corrupt_labels(labels, noise, NUM_CLASSES, seed=7)
    fraction = mask.mean()
    sd = np.sqrt(noise * (1.0 - noise) / N)  # zero at noise = 0 and 1: then the fraction must be exact
    assert abs(fraction - noise) <= 5.0 * sd + 1e-12


@pytest.mark.parametrize("num_classes", [2, 3, 10])
@pytest.mark.parametrize("noise", [0.0, 0.3, 1.0])
def test_corrupted_labels_differ_and_the_rest_are_unchanged(noise, num_classes):
    labels = _labels(num_classes=num_classes)
    noisy, mask = corrupt_labels(labels, noise, num_classes, seed=1)
    assert noisy.shape == labels.shape
    assert mask.shape == labels.shape
    assert mask.dtype == bool
    assert np.all(noisy[mask] != labels[mask])
    assert np.array_equal(noisy[~mask], labels[~mask])
    assert np.array_equal(mask, noisy != labels)
    assert noisy.min() >= 0 and noisy.max() < num_classes


def test_two_classes_with_full_noise_flips_every_label():
    # With two classes the only wrong class is 1 - label, so noise = 1 is a deterministic flip.
    labels = _labels(n=1000, num_classes=2)
    noisy, mask = corrupt_labels(labels, 1.0, 2, seed=5)
    assert mask.all()
    assert np.array_equal(noisy, 1 - labels)


def test_output_dtype_matches_input_and_input_is_not_modified():
    labels = _labels(n=500).astype(np.int16)
    original = labels.copy()
    noisy, _ = corrupt_labels(labels, 0.5, NUM_CLASSES, seed=3)
    assert noisy.dtype == np.int16
    assert np.array_equal(labels, original)


def test_accepts_a_plain_list_of_ints():
    noisy, mask = corrupt_labels([0, 1, 2, 3], 1.0, 4, seed=0)
    assert np.all(noisy != np.array([0, 1, 2, 3]))
    assert mask.all()


@pytest.mark.parametrize("label", [0, 4, 9])
def test_corrupted_labels_are_uniform_over_the_wrong_classes_for_one_class(label):
    labels = np.full(N, label)
    noisy, mask = corrupt_labels(labels, 1.0, NUM_CLASSES, seed=11)
    assert mask.all()
    counts = np.bincount(noisy, minlength=NUM_CLASSES)
    assert counts[label] == 0
    wrong = np.delete(counts, label)
    _, p_value = stats.chisquare(wrong)  # expected: uniform over the NUM_CLASSES - 1 wrong classes
    assert p_value > 1e-4


def test_joint_table_of_original_and_corrupted_label_is_uniform_off_diagonal():
    # Over random labels, each (original, corrupted) pair with original != corrupted is equally likely
    # given the original: test every row of the contingency table at once.
    labels = _labels(n=4 * N, num_classes=5, seed=4)
    noisy, mask = corrupt_labels(labels, 0.6, 5, seed=12)
    table = np.zeros((5, 5), dtype=int)
    np.add.at(table, (labels[mask], noisy[mask]), 1)
    assert np.all(np.diag(table) == 0)
    observed, expected = [], []
    for c in range(5):
        row = np.delete(table[c], c)
        observed.append(row)
        expected.append(np.full(4, row.sum() / 4))
    statistic = sum(((o - e) ** 2 / e).sum() for o, e in zip(observed, expected, strict=True))
    dof = 5 * (4 - 1)
    assert stats.chi2.sf(statistic, dof) > 1e-4


def test_corruption_probability_does_not_depend_on_the_class():
    labels = _labels(n=4 * N, num_classes=4, seed=8)
    _, mask = corrupt_labels(labels, 0.3, 4, seed=2)
    table = np.array([[np.sum(mask & (labels == c)), np.sum(~mask & (labels == c))] for c in range(4)])
    _, p_value, _, _ = stats.chi2_contingency(table)
    assert p_value > 1e-4


def test_same_seed_gives_identical_results():
    labels = _labels()
    noisy_a, mask_a = corrupt_labels(labels, 0.4, NUM_CLASSES, seed=99)
    noisy_b, mask_b = corrupt_labels(labels.copy(), 0.4, NUM_CLASSES, seed=99)
    assert np.array_equal(noisy_a, noisy_b)
    assert np.array_equal(mask_a, mask_b)


def test_different_seed_gives_a_different_draw():
    labels = _labels()
    noisy_a, mask_a = corrupt_labels(labels, 0.4, NUM_CLASSES, seed=99)
    noisy_b, mask_b = corrupt_labels(labels, 0.4, NUM_CLASSES, seed=100)
    assert not np.array_equal(mask_a, mask_b)
    assert not np.array_equal(noisy_a, noisy_b)


def test_draw_does_not_depend_on_global_random_state_or_previous_calls():
    labels = _labels()
    np.random.seed(0)
    first = corrupt_labels(labels, 0.4, NUM_CLASSES, seed=5)
    np.random.seed(12345)
    np.random.random(1000)
    corrupt_labels(labels, 0.9, NUM_CLASSES, seed=6)  # an unrelated call in between
    second = corrupt_labels(labels, 0.4, NUM_CLASSES, seed=5)
    assert np.array_equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])


@pytest.mark.parametrize("noise", [-0.1, -1e-12, 1.0 + 1e-12, 1.5, float("nan"), float("inf")])
def test_noise_outside_unit_interval_raises_naming_noise(noise):
    with pytest.raises(ValueError, match="noise"):
        corrupt_labels(_labels(n=10), noise, NUM_CLASSES, seed=0)


@pytest.mark.parametrize("num_classes", [1, 0, -3])
def test_fewer_than_two_classes_raises_naming_num_classes(num_classes):
    with pytest.raises(ValueError, match="num_classes"):
        corrupt_labels(np.zeros(10, dtype=int), 0.1, num_classes, seed=0)


@pytest.mark.parametrize("labels", [[0, 1, 10], [0, -1, 2], [11, 12]])
def test_labels_out_of_range_raise_naming_labels(labels):
    with pytest.raises(ValueError, match="labels"):
        corrupt_labels(np.array(labels), 0.1, 10, seed=0)


def test_empty_labels_raise_naming_labels():
    with pytest.raises(ValueError, match="labels"):
        corrupt_labels(np.array([], dtype=int), 0.1, 10, seed=0)


def test_two_dimensional_labels_raise_naming_labels():
    with pytest.raises(ValueError, match="labels"):
        corrupt_labels(np.zeros((3, 4), dtype=int), 0.1, 10, seed=0)


@pytest.mark.parametrize("labels", [np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0]), np.array(["0", "1"])])
def test_non_integer_labels_raise_naming_labels(labels):
    with pytest.raises(ValueError, match="labels"):
        corrupt_labels(labels, 0.1, 10, seed=0)


def test_any_class_noise_leaves_a_tenth_of_the_redrawn_labels_right():
    # Greydanus's draw: with probability 0.15 a label is redrawn from all 10 classes, so 0.15 x 0.9 end up wrong.
    labels = np.arange(200_000) % NUM_CLASSES
    noisy, mask = corrupt_labels(labels, 0.15, NUM_CLASSES, seed=4, kind="any_class")
    expected = 0.15 * (1 - 1 / NUM_CLASSES)
    assert abs(mask.mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / labels.size)
    np.testing.assert_array_equal(mask, noisy != labels)
    # Among wrong labels every wrong class is equally likely: the redraw does not favour a class.
    counts = np.bincount((noisy[mask] - labels[mask]) % NUM_CLASSES, minlength=NUM_CLASSES)
    assert counts[0] == 0 and counts[1:].min() > 0.9 * counts[1:].mean()


def test_any_class_noise_at_probability_one_is_uniform_over_all_classes():
    labels = np.zeros(100_000, dtype=np.int64)
    noisy, mask = corrupt_labels(labels, 1.0, 4, seed=8, kind="any_class")
    shares = np.bincount(noisy, minlength=4) / labels.size
    np.testing.assert_allclose(shares, 0.25, atol=0.01)  # the right class keeps its quarter
    assert abs(mask.mean() - 0.75) < 0.01


def test_the_wrong_class_draw_is_unchanged_by_the_kind_parameter():
    labels = np.arange(1000) % NUM_CLASSES
    default = corrupt_labels(labels, 0.3, NUM_CLASSES, seed=5)
    named = corrupt_labels(labels, 0.3, NUM_CLASSES, seed=5, kind="wrong_class")
    for a, b in zip(default, named, strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_unknown_noise_kind_is_refused_by_name():
    with pytest.raises(ValueError, match=r"kind \(of label noise\) must be one of \('wrong_class', 'any_class'\)"):
        corrupt_labels([0, 1], 0.1, NUM_CLASSES, seed=0, kind="uniform")
