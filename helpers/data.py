"""Small seeded datasets made in code, and one small real dataset shipped with the package.

Nothing is downloaded, and every call with one seed is identical. Classification sets return
``(x, y)`` with ``x`` of shape ``(n, d)`` (float64) and integer labels ``y`` of shape ``(n,)``.
Inputs are roughly centred with unit scale, as an input layer expects. The real dataset is the UCI
handwritten digits (:func:`digits`, :func:`digits_raw`), stored in ``helpers/datasets/``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks


def _shuffle(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(x))
    return x[order], y[order]


def spirals(n_per_class: int, rng: np.random.Generator, *, classes: int = 3, noise: float = 0.15,
            turns: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved 2-D spiral arms, one per class: not separable by any single line or unit."""
    n = _checks.positive_int(n_per_class, "n_per_class")
    classes = _checks.positive_int(classes, "classes")
    noise = _checks.finite_float(noise, "noise", non_negative=True)
    turns = _checks.finite_float(turns, "turns", positive=True)
    rng = _checks.generator(rng)
    radius = np.tile(np.linspace(0.05, 1.0, n), classes)
    label = np.repeat(np.arange(classes), n)
    angle = 2 * np.pi * (turns * radius + label / classes) + noise * rng.standard_normal(n * classes)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]) * 1.5
    return _shuffle(x, label, rng)


def two_moons(n: int, rng: np.random.Generator, *, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (labels 0 and 1), centred and scaled to unit spread."""
    n = _checks.positive_int(n, "n")
    noise = _checks.finite_float(noise, "noise", non_negative=True)
    rng = _checks.generator(rng)
    half = n // 2
    t_a, t_b = np.linspace(0, np.pi, n - half), np.linspace(0, np.pi, half)
    a = np.column_stack([np.cos(t_a), np.sin(t_a)])
    b = np.column_stack([1 - np.cos(t_b), 0.5 - np.sin(t_b)])
    x = np.vstack([a, b]) + noise * rng.standard_normal((n, 2))
    x = (x - [0.5, 0.25]) / [0.87, 0.5]
    y = np.concatenate([np.zeros(n - half, dtype=int), np.ones(half, dtype=int)])
    return _shuffle(x, y, rng)


def circles(n: int, rng: np.random.Generator, *, noise: float = 0.08, factor: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """An inner disc (label 1) inside an outer ring (label 0): needs at least three ReLU units."""
    n = _checks.positive_int(n, "n")
    noise = _checks.finite_float(noise, "noise", non_negative=True)
    factor = _checks.finite_float(factor, "factor", positive=True)
    rng = _checks.generator(rng)
    half = n // 2
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.where(np.arange(n) < half, factor, 1.0)
    x = np.column_stack([r * np.cos(t), r * np.sin(t)]) * 1.2 + noise * rng.standard_normal((n, 2))
    y = (np.arange(n) < half).astype(int)
    return _shuffle(x, y, rng)


def xor(n: int, rng: np.random.Generator, *, noise: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Four Gaussian blobs at (+-1, +-1); the label is 1 where the signs of the coordinates differ."""
    n = _checks.positive_int(n, "n")
    noise = _checks.finite_float(noise, "noise", non_negative=True)
    rng = _checks.generator(rng)
    centres = rng.choice([-1.0, 1.0], size=(n, 2))
    x = centres + noise * rng.standard_normal((n, 2))
    y = (centres[:, 0] != centres[:, 1]).astype(int)
    return x, y


def gaussian_inputs(n: int, dim: int, rng: np.random.Generator, *, dtype=np.float64) -> np.ndarray:
    """``n`` inputs with i.i.d. N(0, 1) entries: the idealized input of the variance arguments."""
    n = _checks.positive_int(n, "n")
    dim = _checks.positive_int(dim, "dim")
    rng = _checks.generator(rng)
    return rng.standard_normal((n, dim)).astype(_checks.float_dtype(dtype), copy=False)


def teacher_classification(n: int, dim: int, classes: int, rng: np.random.Generator, *,
                           hidden: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs labelled by the arg-max of a random one-hidden-layer tanh "teacher" network.

    A task that a student network can learn exactly, of any input dimension, with no download.
    """
    n = _checks.positive_int(n, "n")
    dim = _checks.positive_int(dim, "dim")
    classes = _checks.positive_int(classes, "classes")
    hidden = _checks.positive_int(hidden, "hidden")
    rng = _checks.generator(rng)
    x = rng.standard_normal((n, dim))
    w1 = rng.standard_normal((hidden, dim)) * np.sqrt(2.0 / dim)
    w2 = rng.standard_normal((classes, hidden)) / np.sqrt(hidden)
    y = np.argmax(np.tanh(x @ w1.T) @ w2.T, axis=1)
    return x, y


def teacher_regression(n: int, dim: int, rng: np.random.Generator, *, outputs: int = 1,
                       hidden: int = 32, noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs and real targets from a random tanh teacher (plus optional Gaussian noise)."""
    n = _checks.positive_int(n, "n")
    dim = _checks.positive_int(dim, "dim")
    outputs = _checks.positive_int(outputs, "outputs")
    hidden = _checks.positive_int(hidden, "hidden")
    noise = _checks.finite_float(noise, "noise", non_negative=True)
    rng = _checks.generator(rng)
    x = rng.standard_normal((n, dim))
    w1 = rng.standard_normal((hidden, dim)) * np.sqrt(2.0 / dim)
    w2 = rng.standard_normal((outputs, hidden)) / np.sqrt(hidden)
    y = np.tanh(x @ w1.T) @ w2.T + noise * rng.standard_normal((n, outputs))
    return x, y


# -- a small real dataset: the UCI handwritten digits ------------------------------------------

#: SHA-256 of ``helpers/datasets/digits.npz`` as shipped; :func:`digits_raw` refuses any other file.
DIGITS_SHA256 = "089d33176bf6819a5c6ebd6746c5293713f4e81c2c8fc52b672e6e15faa78f41"


def _digits_path():
    from importlib.resources import files

    return files(__package__).joinpath("datasets", "digits.npz")


def digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 UCI handwritten digits, 8x8 (Alpaydin & Kaynak 1998; CC BY 4.0), as shipped.

    Returns ``(pixels, labels)``: ``pixels`` of shape ``(1797, 64)``, uint8 counts 0..16 (each pixel
    counts the set bits of a 4x4 block of a 32x32 bitmap; rows are the 8x8 image read row by row),
    ``labels`` of shape ``(1797,)``, uint8 digits 0..9. The file ships inside the package
    (``helpers/datasets/``, see its README for source and licence) and is read offline; its SHA-256
    is checked against :data:`DIGITS_SHA256` on every load.
    """
    import hashlib
    import io

    blob = _digits_path().read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != DIGITS_SHA256:
        raise RuntimeError(f"helpers/datasets/digits.npz has SHA-256 {digest}, expected {DIGITS_SHA256}")
    with np.load(io.BytesIO(blob)) as f:
        return f["pixels"], f["labels"]


@dataclass(frozen=True)
class Digits:
    """A train/test split of the digits, standardized with statistics of the training part only.

    ``x_*`` are float64 of shape ``(n, 64)``, ``y_*`` int64 labels 0..9. ``mean`` and ``std`` are the
    per-pixel statistics of the raw training pixels used for ``x = (pixels - mean) / std`` (``std``
    is 1 where a pixel is constant on the training part, so that pixel maps to ``pixels - mean``);
    ``train_index`` and ``test_index`` are the rows of :func:`digits_raw` in each part.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray

    def __iter__(self):
        """Unpack as ``x_train, y_train, x_test, y_test = digits(0)``."""
        return iter((self.x_train, self.y_train, self.x_test, self.y_test))


def digits(seed: int | np.random.Generator = 0, *, test_fraction: float = 0.25) -> Digits:
    """The UCI digits split into train and test parts, stratified by class, and standardized.

    The split is **stratified**: within each digit class the rows are permuted with the generator
    (``np.random.default_rng(seed)`` for an integer seed) and ``round(test_fraction * n_class)`` of
    them go to the test part, so both parts keep the class proportions. Rows in each part are then
    shuffled. Standardization uses the mean and standard deviation of each pixel over the
    **training part only** (no information from the test part leaks into the inputs); pixels that
    are constant there (the corners are always 0) get ``std = 1`` instead of a division by zero.
    The same seed always gives the same split.
    """
    if isinstance(seed, np.random.Generator):
        rng = seed
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer or a numpy.random.Generator, got {seed}")
        rng = np.random.default_rng(int(seed))
    else:
        raise TypeError(f"seed must be a non-negative integer or a numpy.random.Generator, got {type(seed).__name__}")
    test_fraction = _checks.finite_float(test_fraction, "test_fraction")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    pixels, labels = digits_raw()
    train, test = [], []
    for c in range(10):
        rows = rng.permutation(np.flatnonzero(labels == c))
        k = int(round(test_fraction * len(rows)))
        if k == 0 or k == len(rows):
            raise ValueError(f"test_fraction={test_fraction} leaves an empty part for class {c}")
        test.append(rows[:k])
        train.append(rows[k:])
    train_index = rng.permutation(np.concatenate(train))
    test_index = rng.permutation(np.concatenate(test))
    raw_train = pixels[train_index].astype(np.float64)
    mean = raw_train.mean(axis=0)
    std = raw_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    x_test = (pixels[test_index].astype(np.float64) - mean) / std
    return Digits((raw_train - mean) / std, labels[train_index].astype(np.int64), x_test,
                  labels[test_index].astype(np.int64), mean, std, train_index, test_index)
