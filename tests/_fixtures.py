"""Shared helpers for the unit tests of the ``helpers`` core (statistical tolerances, finite differences).

Statistical tolerances: for ``n`` independent draws, the sample mean has standard error
``sigma / sqrt(n)`` and the sample variance ``sqrt((mu4 - sigma^4) / n)`` (``mu4`` the fourth
central moment). Tests allow ``Z`` standard errors, so a correct initializer fails a single check
with probability about ``2 * Phi(-Z)`` (3e-7 for Z = 5); with fixed seeds the outcome is fixed.
"""

from __future__ import annotations

import math

import numpy as np

Z = 5.0  # standard errors allowed in every statistical check


def assert_mean_var(x: np.ndarray, mean: float, var: float, *, z: float = Z) -> None:
    """Sample mean and variance of ``x`` agree with ``mean`` and ``var`` within ``z`` standard errors."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    assert n >= 100, "too few draws for a normal approximation of the sampling error"
    m = x.mean()
    se_mean = math.sqrt(var / n)
    assert abs(m - mean) <= z * se_mean, f"mean {m:.5g} vs {mean:.5g} (tolerance {z * se_mean:.3g}, n={n})"
    centred = x - mean
    v = float(np.mean(centred**2))  # the mean is known, so this is unbiased
    mu4 = float(np.mean(centred**4))
    se_var = math.sqrt(max(mu4 - v * v, 1e-300) / n)
    assert abs(v - var) <= z * se_var, f"variance {v:.5g} vs {var:.5g} (tolerance {z * se_var:.3g}, n={n})"


def assert_fills_bound(x: np.ndarray, bound: float, *, rtol: float = 1e-12) -> None:
    """Every value lies in [-bound, bound] and the extremes come close to it.

    For n draws spread over [-b, b] with a density at least ``c / b`` near the ends,
    P(max |x| < b (1 - eps)) is at most (1 - c eps)^n; eps = 30 / n keeps that below e^-30 c.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    assert np.all(np.abs(x) <= bound * (1 + rtol)), f"max |x| = {np.abs(x).max():.6g} exceeds bound {bound:.6g}"
    assert np.abs(x).max() >= bound * (1 - 30.0 / x.size), "draws do not reach the bound"


def flat_params(net) -> list[np.ndarray]:
    return list(net.weights) + list(net.biases)


def numeric_grads(loss_fn, params: list[np.ndarray], eps: float = 1e-6) -> list[np.ndarray]:
    """Central finite differences of ``loss_fn()`` with respect to every entry of ``params`` (in place)."""
    out = []
    for p in params:
        g = np.zeros_like(p)
        it = np.nditer(p, flags=["multi_index"])
        for _ in it:
            idx = it.multi_index
            old = p[idx]
            p[idx] = old + eps
            up = loss_fn()
            p[idx] = old - eps
            down = loss_fn()
            p[idx] = old
            g[idx] = (up - down) / (2 * eps)
        out.append(g)
    return out


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a|, |b|, 1e-8): scale-free comparison of two gradients."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(float(np.abs(a).max(initial=0)), float(np.abs(b).max(initial=0)), 1e-8)
    return float(np.abs(a - b).max(initial=0)) / scale
