"""Random networks in bulk: per-layer scale predictions, finite-width fluctuations, many-seed training.

Tools for the He/Kaiming chapter, all plain numpy and vectorized over networks:

* :func:`predicted_scales` - the variance recursions of He et al. (2015) for *any* list of layer
  widths and weight variances, forward (second moment of the signal) and backward (variance of
  ``delta = dL/dz``), with a leaky-ReLU/PReLU slope ``a``. :func:`weight_variance` gives the
  variance each named initializer draws with, so a prediction needs no sampling.
* :func:`squared_norm_ensemble` and the closed forms next to it - the normalized squared norm
  ``M_l = ||h^(l)||^2 / n_l`` of one input's signal through many independent random networks. Its
  *mean* is what the variance argument controls; Hanin & Rolnick (2018) show that its
  *fluctuations* grow exponentially in the sum of reciprocal widths ``beta = sum_l 1/n_l``, so a
  deep, narrow network is far from its average even when the average is perfect.
* many-seed training is :func:`helpers.training.train_ensemble` (the one ensemble mechanism of
  the core); this module only summarizes its curves (:func:`running_mean`, :func:`steps_to_threshold`).

Convention: a stack of ``L`` layers with widths ``[n_0, n_1, ..., n_L]`` computes
``z^(l) = W^(l) h^(l-1)``, ``h^(l) = phi(z^(l))`` with zero biases and ``phi`` a leaky ReLU of
slope ``a`` (``a = 0`` is ReLU, ``a = 1`` is linear); ``W^(l)`` has ``n_l`` rows and ``n_{l-1}`` columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _checks
from .initializers import calculate_gain, fan_in_and_fan_out, kaiming_std
from .network import MLP

__all__ = [
    "Scales", "predicted_scales", "weight_variance",
    "norm_factor_variance", "predicted_norm_moments", "relu_log_norm_mean", "relu_survival",
    "squared_norm_ensemble",
    "running_mean", "steps_to_threshold",
]

# --------------------------------------------------------------------------------------------
# input checks shared by this module


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


# --------------------------------------------------------------------------------------------
# the mean-field recursions of He et al. (2015) for arbitrary widths


@dataclass
class Scales:
    """Predicted per-layer scales of a random network (arrays indexed by layer 1..L, 0-based).

    ``pre_variance[l]`` is Var[z^(l)], ``post_second_moment[l]`` is E[(h^(l))^2] and
    ``delta_variance[l]`` is Var[delta^(l)] relative to a unit-variance gradient arriving at the output.
    """

    pre_variance: np.ndarray
    post_second_moment: np.ndarray
    delta_variance: np.ndarray


def predicted_scales(widths: Sequence[int], weight_variances: Sequence[float], *, slope: float = 0.0,
                     input_second_moment: float = 1.0, activate_output: bool = True) -> Scales:
    """Forward and backward variance recursions of He et al. (2015), eqs. (7)-(15), for any widths.

    With zero-mean weights independent of the signal and symmetric pre-activations,

    * forward (eq. 7-9):  Var[z^(l)] = n_{l-1} Var[W^(l)] E[(h^(l-1))^2],
      E[(h^(l))^2] = (1 + a^2)/2 Var[z^(l)]  (E[x^2] = Var[y]/2 for ReLU);
    * backward (eq. 13): Var[delta^(l)] = (1 + a^2)/2 n_{l+1} Var[W^(l+1)] Var[delta^(l+1)],

    starting from E[(h^(0))^2] = ``input_second_moment`` and a unit-variance dL/dh^(L). With
    ``activate_output=False`` the last layer is linear (h^(L) = z^(L), delta^(L) = dL/dh^(L)).
    ``weight_variances[l-1]`` is Var[W^(l)]; ``widths`` is ``[n_0, ..., n_L]``.
    """
    n = _widths(widths)
    depth = len(n) - 1
    if isinstance(weight_variances, (str, bytes)) or not isinstance(weight_variances, Sequence | np.ndarray):
        raise TypeError("weight_variances must be a sequence with one variance per layer")
    if len(weight_variances) != depth:
        raise ValueError(f"weight_variances must have one entry per layer ({depth}), got {len(weight_variances)}")
    v = [_checks.finite_float(float(x), f"weight_variances[{i}]", non_negative=True)
         for i, x in enumerate(weight_variances)]
    kappa = _relu_moment(_slope(slope))
    m = _checks.finite_float(input_second_moment, "input_second_moment", non_negative=True)
    pre, post, delta = np.empty(depth), np.empty(depth), np.empty(depth)
    for layer in range(depth):
        pre[layer] = n[layer] * v[layer] * m
        activated = layer < depth - 1 or activate_output
        m = kappa * pre[layer] if activated else pre[layer]
        post[layer] = m
    delta[-1] = kappa if activate_output else 1.0
    for layer in range(depth - 2, -1, -1):
        delta[layer] = kappa * n[layer + 2] * v[layer + 1] * delta[layer + 1]
    return Scales(pre, post, delta)


def weight_variance(init: str, shape: tuple[int, ...], **kwargs) -> float:
    """The variance Var[W] that the named initializer of :mod:`helpers.initializers` draws with.

    ``kaiming_*``: gain^2 / fan (He et al. 2015); ``xavier_*``: gain^2 * 2 / (fan_in + fan_out)
    (Glorot & Bengio 2010); ``lecun_*``: gain^2 / fan_in (LeCun et al. 1998); ``glorot_standard``
    (PyTorch's ``nn.Linear`` default): 1 / (3 fan_in). Keyword arguments are those of the initializer.
    """
    names = ("kaiming_normal", "kaiming_uniform", "he_normal", "he_uniform", "xavier_normal",
             "xavier_uniform", "glorot_normal", "glorot_uniform", "lecun_normal", "lecun_uniform",
             "glorot_standard")
    _checks.choice(init, "init", names)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    if init in ("kaiming_normal", "kaiming_uniform", "he_normal", "he_uniform"):
        allowed = {"a", "mode", "nonlinearity"}
        _no_extra(kwargs, allowed, init)
        return kaiming_std(shape, **kwargs) ** 2
    if init == "glorot_standard":
        _no_extra(kwargs, set(), init)
        return 1.0 / (3.0 * fan_in)
    _no_extra(kwargs, {"gain"}, init)
    gain = _checks.finite_float(kwargs.get("gain", 1.0), "gain", positive=True)
    if init.startswith("lecun"):
        return gain**2 / fan_in
    return gain**2 * 2.0 / (fan_in + fan_out)


def _no_extra(kwargs: dict, allowed: set, init: str) -> None:
    extra = set(kwargs) - allowed
    if extra:
        raise ValueError(f"{init} takes only {sorted(allowed) or 'no keyword arguments'}; got {sorted(extra)}")


# --------------------------------------------------------------------------------------------
# finite width: the squared norm of the signal across an ensemble of random networks


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


# --------------------------------------------------------------------------------------------
# many networks trained at once


def running_mean(curves: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over the last axis: entry s averages steps max(0, s-window+1)..s.

    NaN entries (after a divergence) stay NaN; the first ``window - 1`` entries average what exists.
    """
    curves = np.asarray(_checks.array(curves, "curves"), dtype=float)
    window = _checks.positive_int(window, "window")
    padded = np.concatenate([np.zeros(curves.shape[:-1] + (1,)), np.cumsum(curves, axis=-1)], axis=-1)
    s = np.arange(curves.shape[-1])
    lo = np.maximum(0, s - window + 1)
    return (padded[..., s + 1] - padded[..., lo]) / (s + 1 - lo)


def steps_to_threshold(curves: np.ndarray, threshold: float, *, window: int = 20) -> np.ndarray:
    """First step at which the running mean (``window`` steps) of each curve is below ``threshold``.

    ``curves`` has shape ``(runs, steps)``; the result holds one float per run, NaN for a run that
    never gets there. A way to say "starts learning sooner" with a number.
    """
    curves = _checks.array(curves, "curves", ndim=2)
    threshold = _checks.finite_float(threshold, "threshold")
    smooth = running_mean(curves, window)
    below = np.where(np.isnan(smooth), False, smooth < threshold)
    first = np.argmax(below, axis=1).astype(float)
    first[~below.any(axis=1)] = np.nan
    return first
