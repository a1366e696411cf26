"""Finite width: how far one random network strays from the average the variance argument predicts.

The variance argument (:mod:`helpers.theory.signal`) is about averages over random networks. For the
normalized squared norm ``M_l = ||h^(l)||^2 / n_l`` of one input's signal through a stack of layers
``z^(l) = W^(l) h^(l-1)``, ``h^(l) = phi(z^(l))`` with Gaussian weights, zero biases and ``phi`` a leaky
ReLU of slope ``a`` (``a = 0`` is ReLU, ``a = 1`` linear), the per-layer factors ``M_l / M_{l-1}`` are
independent, and their moments are exact. Hanin & Rolnick (2018) show that the fluctuations grow
exponentially in the sum of reciprocal widths ``beta = sum_l 1/n_l``: a deep, narrow network is far
from its average even when the average is perfect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import _checks


def _widths(widths: Sequence[int], name: str = "widths") -> list[int]:
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence):
        raise TypeError(f"{name} must be a sequence of layer widths [n_0, n_1, ..., n_L], got {widths!r}")
    if len(widths) < 2:
        raise ValueError(f"{name} must list an input width and at least one layer width, got {list(widths)}")
    return [_checks.positive_int(n, f"{name}[{i}]") for i, n in enumerate(widths)]


def _slope(slope: float) -> float:
    return _checks.finite_float(slope, "slope", non_negative=True)


def _relu_moment(slope: float) -> float:
    """E[phi(z)^2] / E[z^2] = E[phi'(z)^2] = (1 + a^2) / 2 for a symmetric z (He et al. 2015, eq. 15)."""
    return (1.0 + slope * slope) / 2.0


def norm_factor_variance(width: int, slope: float = 0.0) -> float:
    """Relative variance of the per-layer factor F = M_l / M_{l-1} for Gaussian weights.

    Given h^(l-1), every z_i^(l) is N(0, sigma_w^2 M_{l-1}) independently, so
    F = (sigma_w^2 / n_l) sum_i phi(g_i)^2 with g_i ~ N(0, 1). From E[phi(g)^2] = (1 + a^2)/2 and
    E[phi(g)^4] = 3 (1 + a^4)/2,

        Var[F] / E[F]^2 = c(a) / n_l,   c(a) = 6 (1 + a^4) / (1 + a^2)^2 - 1,

    so c = 5 for ReLU and c = 2 for a linear layer (a chi-square with n_l degrees of freedom).
    This is the per-layer ingredient of Hanin & Rolnick's (2018) sum of reciprocal widths.
    """
    n = _checks.positive_int(width, "width")
    a = _slope(slope)
    c = 6.0 * (1.0 + a**4) / (1.0 + a * a) ** 2 - 1.0
    return c / n


def predicted_norm_moments(widths: Sequence[int], *, slope: float = 0.0,
                           sigma_w2: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and second moment of M_l / M_0, l = 0..L, over Gaussian random networks.

    The per-layer factors are independent (each draws fresh weights), so
    E[M_l / M_0] = prod_k mu  and  E[(M_l / M_0)^2] = prod_k mu^2 (1 + c(a) / n_k),
    with mu = sigma_w^2 (1 + a^2) / 2 (1 under He initialization, the default sigma_w^2 = 2/(1+a^2)).
    The second moment is at most exp(c(a) beta) with beta = sum_k 1/n_k: it grows exponentially
    in depth/width, the effect Hanin & Rolnick (2018) identify. Returns two arrays of length L + 1.
    """
    n = _widths(widths)
    a = _slope(slope)
    s2 = 2.0 / (1.0 + a * a) if sigma_w2 is None else _checks.finite_float(sigma_w2, "sigma_w2", positive=True)
    mu = s2 * _relu_moment(a)
    factors = np.array([norm_factor_variance(k, a) for k in n[1:]])
    mean = np.concatenate([[1.0], np.cumprod(np.full(len(factors), mu))])
    second = np.concatenate([[1.0], np.cumprod(mu * mu * (1.0 + factors))])
    return mean, second


_EULER_GAMMA = 0.5772156649015329


def _digamma_half_integers(kmax: int) -> np.ndarray:
    """psi(k/2) for k = 1..kmax, exact: psi(m) = -gamma + H_{m-1}, psi(m + 1/2) = -gamma - 2 ln 2 + sum 2/(2j-1)."""
    k = np.arange(1, kmax + 1)
    out = np.empty(kmax)
    m_even = k[k % 2 == 0] // 2  # k/2 = m
    harmonic = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, kmax // 2 + 1))])
    out[k % 2 == 0] = -_EULER_GAMMA + harmonic[m_even - 1]
    m_odd = k[k % 2 == 1] // 2  # k/2 = m + 1/2
    odd_sum = np.concatenate([[0.0], np.cumsum(2.0 / (2.0 * np.arange(1, kmax // 2 + 2) - 1.0))])
    out[k % 2 == 1] = -_EULER_GAMMA - 2.0 * math.log(2.0) + odd_sum[m_odd]
    return out


def _binomial_half(n: int) -> np.ndarray:
    """P(K = k) for K ~ Binomial(n, 1/2), k = 0..n, from log-gamma (no overflow for large n)."""
    k = np.arange(n + 1)
    log_p = (math.lgamma(n + 1) - np.array([math.lgamma(i + 1) + math.lgamma(n - i + 1) for i in k])
             - n * math.log(2.0))
    return np.exp(log_p)


def relu_log_norm_mean(widths: Sequence[int], *, sigma_w2: float = 2.0) -> np.ndarray:
    """E[log(M_l / M_0) | the signal survives to layer l], l = 0..L, for ReLU and Gaussian weights.

    With K_l ~ Binomial(n_l, 1/2) active units, F_l = (sigma_w^2 / n_l) chi^2_{K_l} and
    E[log chi^2_k] = psi(k/2) + log 2 (psi the digamma function), so, given K_l > 0,

        E[log F_l] = log(sigma_w^2 / n_l) + log 2 + sum_{k>=1} P(K_l = k | K_l > 0) psi(k/2),

    and the layers add up. ``exp`` of it is the geometric mean of M_l / M_0 over the networks
    whose signal is still non-zero: the *typical* network, not the average one (Hanin & Rolnick
    2018). It is negative for every finite width, although E[M_l / M_0] = 1 under He initialization.
    """
    n = _widths(widths)
    s2 = _checks.finite_float(sigma_w2, "sigma_w2", positive=True)
    psi = _digamma_half_integers(max(n[1:]))
    steps = []
    for width in n[1:]:
        p = _binomial_half(width)[1:]
        p = p / p.sum()
        steps.append(math.log(s2 / width) + math.log(2.0) + float(np.dot(p, psi[:width])))
    return np.concatenate([[0.0], np.cumsum(steps)])


def relu_survival(widths: Sequence[int]) -> np.ndarray:
    """P(the signal is not exactly zero at layer l), l = 0..L: prod_k (1 - 2^{-n_k}) for ReLU.

    A ReLU layer outputs the zero vector when all n_k pre-activations are negative, which for a
    symmetric weight distribution and a non-zero input happens with probability 2^{-n_k}; from then
    on every deeper layer is zero too.
    """
    n = _widths(widths)
    return np.concatenate([[1.0], np.cumprod([1.0 - 0.5**k for k in n[1:]])])
