"""Small seeded datasets made in code: nothing is downloaded, every call with one seed is identical.

Classification sets return ``(x, y)`` with ``x`` of shape ``(n, d)`` (float64) and integer labels
``y`` of shape ``(n,)``. Inputs are roughly centred with unit scale, as an input layer expects.
"""

from __future__ import annotations

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
