"""The He/Kaiming chapter's experiments with random networks in bulk, vectorized over networks.

* :func:`squared_norm_ensemble` - the normalized squared norm ``M_l = ||h^(l)||^2 / n_l`` of one
  input's signal through many independent random networks, to set beside the exact moments of
  :mod:`helpers.theory.fluctuations` (Hanin & Rolnick 2018): its *mean* is what the variance argument
  controls, its *fluctuations* grow exponentially in ``beta = sum_l 1/n_l``.
* many-seed training is :func:`helpers.training.train_ensemble` (the one ensemble mechanism of
  the core), and its curves are summarized there too (:func:`helpers.training.running_mean`,
  :func:`helpers.training.steps_to_threshold`).

The predictions (per-layer variances for any widths, forward and backward) are
:func:`helpers.theory.signal.predicted_profile`; the variance each named initializer draws with is
:func:`helpers.initializers.weight_variance`.

Convention: a stack of ``L`` layers with widths ``[n_0, n_1, ..., n_L]`` computes
``z^(l) = W^(l) h^(l-1)``, ``h^(l) = phi(z^(l))`` with zero biases and ``phi`` a leaky ReLU of
slope ``a`` (``a = 0`` is ReLU, ``a = 1`` is linear); ``W^(l)`` has ``n_l`` rows and ``n_{l-1}`` columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from . import _checks
from .theory.fluctuations import _slope, _widths

__all__ = ["squared_norm_ensemble"]


METHODS = ("auto", "projection", "matrices")
DISTRIBUTIONS = ("normal", "uniform")


def squared_norm_ensemble(widths: Sequence[int], networks: int, rng: np.random.Generator, *,
                          slope: float = 0.0, sigma_w2: float | None = None, distribution: str = "normal",
                          method: str = "auto", chunk: int = 256) -> np.ndarray:
    """M_l / M_0 for l = 0..L through ``networks`` independent random networks, one row each.

    M_l = ||h^(l)||^2 / n_l is the mean square of the signal at layer l for one fixed input
    (Hanin & Rolnick 2018); every layer is ``phi`` = leaky ReLU of slope ``slope``, biases are zero,
    weights have variance sigma_w^2 / n_{l-1} (default sigma_w^2 = 2 / (1 + a^2), He et al. 2015).

    ``method="matrices"`` draws every weight matrix (normal or uniform with that variance) and
    multiplies. ``method="projection"`` uses that for Gaussian weights W h^(l-1) is exactly
    N(0, sigma_w^2 M_{l-1} I), whatever h^(l-1) is: it draws n_l numbers per layer instead of
    n_l * n_{l-1}, with the same distribution of every M_l. ``"auto"`` picks ``projection`` for
    normal weights. Returns an array of shape ``(networks, L + 1)`` whose first column is 1.
    """
    n = _widths(widths)
    networks = _checks.positive_int(networks, "networks")
    rng = _checks.generator(rng)
    a = _slope(slope)
    s2 = 2.0 / (1.0 + a * a) if sigma_w2 is None else _checks.finite_float(sigma_w2, "sigma_w2", positive=True)
    _checks.choice(distribution, "distribution", DISTRIBUTIONS)
    _checks.choice(method, "method", METHODS)
    chunk = _checks.positive_int(chunk, "chunk")
    if method == "auto":
        method = "projection" if distribution == "normal" else "matrices"
    if method == "projection" and distribution != "normal":
        raise ValueError("method='projection' is exact only for distribution='normal'; use method='matrices'")

    def phi(z: np.ndarray) -> np.ndarray:
        return np.where(z > 0, z, a * z)

    out = np.empty((networks, len(n)))
    out[:, 0] = 1.0
    if method == "projection":
        m = np.ones(networks)
        for layer, width in enumerate(n[1:], start=1):
            z = np.sqrt(s2 * m)[:, None] * rng.standard_normal((networks, width))
            m = np.mean(phi(z) ** 2, axis=1)
            out[:, layer] = m
        return out
    x = rng.standard_normal(n[0])
    x *= math.sqrt(n[0]) / max(np.linalg.norm(x), np.finfo(float).tiny)  # M_0 = 1
    for start in range(0, networks, chunk):
        size = min(chunk, networks - start)
        h = np.broadcast_to(x, (size, n[0]))[:, :, None]
        for layer, (fan_in, width) in enumerate(zip(n[:-1], n[1:]), start=1):
            std = math.sqrt(s2 / fan_in)
            if distribution == "normal":
                w = std * rng.standard_normal((size, width, fan_in))
            else:
                bound = math.sqrt(3.0) * std
                w = rng.uniform(-bound, bound, size=(size, width, fan_in))
            h = phi(w @ h)
            out[start:start + size, layer] = np.mean(h[:, :, 0] ** 2, axis=1)
    return out
