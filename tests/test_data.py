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


# -- the UCI digits -----------------------------------------------------------------------------

def test_digits_file_checksum_and_contents():
    import hashlib
    from importlib.resources import files

    from helpers import data

    blob = files("helpers").joinpath("datasets", "digits.npz").read_bytes()
    assert hashlib.sha256(blob).hexdigest() == data.DIGITS_SHA256 == \
        "089d33176bf6819a5c6ebd6746c5293713f4e81c2c8fc52b672e6e15faa78f41"
    pixels, labels = data.digits_raw()
    assert pixels.shape == (1797, 64) and pixels.dtype == np.uint8 and labels.dtype == np.uint8
    assert hashlib.sha256(pixels.tobytes() + labels.tobytes()).hexdigest() == \
        "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"
    assert int(pixels.max()) == 16 and np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # the first image of the UCI file is a zero (first row of the CSV)
    assert labels[0] == 0 and pixels[0, :8].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


def test_digits_refuses_a_corrupted_file(monkeypatch, tmp_path):
    from helpers import data

    bad = tmp_path / "digits.npz"
    blob = bytearray(data._digits_path().read_bytes())
    blob[100] ^= 0xFF
    bad.write_bytes(bytes(blob))
    monkeypatch.setattr(data, "_digits_path", lambda: bad)
    with pytest.raises(RuntimeError, match="SHA-256"):
        data.digits_raw()


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.1])
def test_digits_split_sizes_stratified_and_disjoint(fraction):
    from helpers import data

    d = data.digits(3, test_fraction=fraction)
    _, labels = data.digits_raw()
    counts = np.bincount(labels)
    want_test = np.array([int(round(fraction * c)) for c in counts])
    assert np.bincount(d.y_test, minlength=10).tolist() == want_test.tolist()
    assert np.bincount(d.y_train, minlength=10).tolist() == (counts - want_test).tolist()
    assert d.x_train.shape == (len(d.y_train), 64) and d.x_test.shape == (len(d.y_test), 64)
    assert d.x_train.dtype == np.float64 and d.y_train.dtype == np.int64
    # no overlap, nothing lost
    assert len(np.intersect1d(d.train_index, d.test_index)) == 0
    assert sorted(np.concatenate([d.train_index, d.test_index]).tolist()) == list(range(1797))
    np.testing.assert_array_equal(d.y_train, labels[d.train_index])
    np.testing.assert_array_equal(d.y_test, labels[d.test_index])


def test_digits_deterministic_and_seed_dependent():
    from helpers import data

    a, b, c = data.digits(5), data.digits(np.random.default_rng(5)), data.digits(6)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.test_index, c.test_index)
    x_train, y_train, x_test, y_test = a  # unpacks as a 4-tuple
    assert x_train is a.x_train and y_test is a.y_test


def test_digits_standardized_with_training_statistics_only():
    from helpers import data

    d = data.digits(1)
    pixels, _ = data.digits_raw()
    raw_train = pixels[d.train_index].astype(float)
    raw_test = pixels[d.test_index].astype(float)
    np.testing.assert_allclose(d.mean, raw_train.mean(axis=0), rtol=0, atol=1e-12)
    constant = raw_train.std(axis=0) == 0
    assert constant.any() and not constant.all()  # the corner pixels are always blank
    np.testing.assert_allclose(d.std[~constant], raw_train.std(axis=0)[~constant], rtol=1e-12)
    assert np.all(d.std[constant] == 1.0)
    # training part: mean 0, std 1 on every non-constant pixel, exactly 0 on constant ones
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d.x_train.std(axis=0)[~constant], 1, atol=1e-12)
    assert np.all(d.x_train[:, constant] == 0) and np.all(np.isfinite(d.x_test))
    # the test part is mapped with the same (training) statistics, not its own
    np.testing.assert_allclose(d.x_test, (raw_test - d.mean) / d.std, atol=1e-12)
    assert np.max(np.abs(d.x_test.mean(axis=0))) > 1e-3


def test_digits_bad_inputs():
    from helpers import data

    for bad in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(ValueError, match="test_fraction"):
            data.digits(0, test_fraction=bad)
    with pytest.raises(ValueError, match="test_fraction"):
        data.digits(0, test_fraction=0.001)  # empty test part for every class
    with pytest.raises(TypeError, match="seed"):
        data.digits("zero")
    with pytest.raises(ValueError, match="seed"):
        data.digits(-1)
    with pytest.raises(ValueError, match="test_fraction"):
        data.digits(0, test_fraction=float("nan"))


def test_digits_source_licence_and_checksum_are_documented():
    """The shipped file's README names its source, licence and the checksum the loader enforces."""
    from importlib.resources import files

    from helpers import data

    readme = files("helpers").joinpath("datasets", "README.md").read_text(encoding="utf-8")
    for needed in ("UCI Machine Learning Repository", "10.24432/C50P49", "CC BY 4.0", data.DIGITS_SHA256):
        assert needed in readme
    for doc in (data.digits.__doc__, data.digits_raw.__doc__, data.Digits.__doc__):
        assert doc and len(doc.split()) > 30
    assert "training part only" in data.digits.__doc__ and "stratified" in data.digits.__doc__
