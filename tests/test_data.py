"""Datasets: shapes, labels, scale, and exact reproducibility from a seed."""

from __future__ import annotations

import numpy as np
import pytest

import helpers as H

MAKERS = {
    "spirals": lambda rng: H.spirals(100, rng, classes=3),
    "two_moons": lambda rng: H.two_moons(301, rng),
    "circles": lambda rng: H.circles(300, rng),
    "xor": lambda rng: H.xor(400, rng),
    "teacher_classification": lambda rng: H.teacher_classification(300, 6, 4, rng),
}
SIZES = {"spirals": (300, 2, 3), "two_moons": (301, 2, 2), "circles": (300, 2, 2), "xor": (400, 2, 2),
         "teacher_classification": (300, 6, 4)}


@pytest.mark.parametrize("name", MAKERS)
def test_classification_sets(name):
    x, y = MAKERS[name](np.random.default_rng(0))
    n, d, k = SIZES[name]
    assert x.shape == (n, d) and x.dtype == np.float64
    assert y.shape == (n,) and y.dtype.kind in "iu"
    assert set(np.unique(y)) <= set(range(k)) and len(np.unique(y)) >= 2
    assert np.all(np.abs(x.mean(axis=0)) < 0.5) and np.all((x.std(axis=0) > 0.3) & (x.std(axis=0) < 3))


@pytest.mark.parametrize("name", MAKERS)
def test_reproducible_from_the_seed(name):
    a = MAKERS[name](np.random.default_rng(7))
    b = MAKERS[name](np.random.default_rng(7))
    c = MAKERS[name](np.random.default_rng(8))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_balanced_classes():
    _, y = H.spirals(50, np.random.default_rng(0), classes=4)
    assert np.bincount(y).tolist() == [50] * 4
    _, y = H.two_moons(101, np.random.default_rng(0))
    assert sorted(np.bincount(y).tolist()) == [50, 51]
    _, y = H.circles(100, np.random.default_rng(0))
    assert np.bincount(y).tolist() == [50, 50]


def test_xor_labels_follow_the_quadrants():
    x, y = H.xor(500, np.random.default_rng(1), noise=0.05)
    np.testing.assert_array_equal(y, (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(int))


def test_gaussian_inputs():
    x = H.gaussian_inputs(2000, 50, np.random.default_rng(0), dtype=np.float32)
    assert x.shape == (2000, 50) and x.dtype == np.float32
    assert abs(float(x.mean())) < 5 / np.sqrt(x.size)
    assert abs(float(x.var()) - 1) < 5 * np.sqrt(2 / x.size)


def test_teacher_regression():
    x, y = H.teacher_regression(200, 5, np.random.default_rng(0), outputs=3, noise=0.0)
    assert x.shape == (200, 5) and y.shape == (200, 3)
    x2, y2 = H.teacher_regression(200, 5, np.random.default_rng(0), outputs=3, noise=0.1)
    np.testing.assert_array_equal(x, x2)
    assert 0.05 < float(np.std(y2 - y)) < 0.15


def test_teacher_classification_is_learnable():
    """The teacher is a tanh network, so a student of the same form fits it well."""
    rng = np.random.default_rng(0)
    x, y = H.teacher_classification(600, 4, 3, rng)
    net = H.build_mlp([4, 64, 3], rng, activation="tanh", init="xavier_normal")
    hist = H.train(net, x, y, rng, steps=600, lr=0.3, momentum=0.5)
    assert hist.final_accuracy > 0.85
