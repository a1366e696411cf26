"""Gaussian expectations for the theory: one variable (kink-safe) and two correlated variables.

Almost every prediction of :mod:`helpers.theory` reduces to expectations over zero-mean Gaussians:
``E[f(u)]`` with ``u ~ N(0, q)`` for one input, and ``E[f(u_a, u_b)]`` for a pair of inputs with
variances ``q_a, q_b`` and correlation ``c`` (Poole et al. 2016). A layer whose inputs have a
non-zero mean (the mean-variance map of SELU, Klambauer et al. 2017) needs ``u ~ N(mean, q)``.

Numerical integration. One variable: Gauss-Legendre on each side of the kink, vectorized over many
variances at once (:func:`gaussian_expectation`); at zero mean the kink is at 0 and the two sides
are the two half-lines, at a non-zero mean it moves to ``-mean / sqrt(q)`` standard deviations.
Two variables (:func:`bivariate_expectation`): in polar coordinates, with ``z_1 = r cos t`` and
``z_2 = r sin t`` the two pre-activations are ``u_a = sqrt(q_a) r cos t`` and
``u_b = sqrt(q_b) r cos(t - arccos c)``, so a kink of ``phi`` at 0 (ReLU, leaky ReLU, SELU) is a
ray ``t = const``. The circle is cut at those four rays and each arc integrated with
Gauss-Legendre, so every piece is smooth. Against the closed forms (identity, ReLU's arc-cosine
kernel, leaky ReLU) the error is below 1e-12; for tanh it is below 1e-11 for variances up to 5 and
1e-9 up to 30.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import _checks

Array = np.ndarray

# -- quadrature rules ----------------------------------------------------------------------------
# 1-D: 200-point Gauss-Legendre on [0, 12] standard deviations of each half-line (the standard normal
# density beyond 12 is below 1e-31). With a non-zero mean the same rule is mapped onto the two pieces
# [-12, k] and [k, 12] on either side of the kink k (see _split_rule).
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(200)
_HALF_LINE = 12.0
_T = 0.5 * _HALF_LINE * (_NODES + 1.0)
_W = 0.5 * _HALF_LINE * _WEIGHTS * np.exp(-0.5 * _T * _T) / math.sqrt(2.0 * math.pi)

# 2-D, polar: radial Gauss-Legendre on [0, 12] with density r exp(-r^2 / 2), angular Gauss-Legendre
# on each of the four arcs between kink rays, normalized by 1 / (2 pi).
_N_RADIAL, _N_ANGULAR = 64, 48
_RN, _RW = np.polynomial.legendre.leggauss(_N_RADIAL)
_R = 0.5 * _HALF_LINE * (_RN + 1.0)
_RWEIGHT = 0.5 * _HALF_LINE * _RW * _R * np.exp(-0.5 * _R * _R) / (2.0 * math.pi)
_AN, _AW = np.polynomial.legendre.leggauss(_N_ANGULAR)
_CHUNK = 128  # parameter points per block in bivariate_expectation (bounds memory to ~20 MB)



# -- validation ----------------------------------------------------------------------------------
def _finite(value: object, name: str) -> Array:
    """``value`` as a float array of finite numbers (or raise naming ``name``)."""
    arr = _checks.array(value, name).astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def _nonneg(value: object, name: str) -> Array:
    """``value`` as a float array of finite, non-negative numbers (or raise naming ``name``)."""
    arr = _finite(value, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return arr


def _correlation(value: object, name: str = "c") -> Array:
    arr = _checks.array(value, name).astype(float)
    if not np.all(np.isfinite(arr)) or np.any(np.abs(arr) > 1.0):
        raise ValueError(f"{name} must be a correlation in [-1, 1], got {value!r}")
    return arr


def _scalar_or_array(arr: Array, *inputs: object) -> float | Array:
    """Return a float when every input was a scalar, else the array."""
    if all(np.ndim(x) == 0 for x in inputs):
        return float(np.asarray(arr).reshape(-1)[0])
    return arr


def _callable(f: object, name: str = "f") -> Callable:
    if not callable(f):
        raise TypeError(f"{name} must be a function of numpy arrays, got {type(f).__name__}")
    return f


# -- Gaussian expectations -----------------------------------------------------------------------
def _split_rule(kink: Array) -> tuple[Array, Array]:
    """Nodes and weights (density included) in standard units, shape ``kink.shape + (400,)``.

    The 200-point rule of the half-lines mapped onto ``[-12, k]`` and ``[k, 12]``, ``k`` the kink
    clipped to the window: each piece is smooth, so Gauss-Legendre converges fast on both. A piece of
    zero length (the kink outside the window) gets zero weights.
    """
    k = np.clip(kink, -_HALF_LINE, _HALF_LINE)[..., None]
    below, above = k + _HALF_LINE, _HALF_LINE - k  # the two lengths
    unit, unit_w = 0.5 * (_NODES + 1.0), 0.5 * _WEIGHTS  # the rule on [0, 1]
    t = np.concatenate([k - below * unit, k + above * unit], axis=-1)
    w = np.concatenate([below * unit_w, above * unit_w], axis=-1) * np.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)
    return t, w


def gaussian_expectation(f: Callable[[Array], Array], q: float | Array, *,
                         mean: float | Array = 0.0) -> float | Array:
    """``E[f(u)]`` for ``u ~ N(mean, q)``, for every entry of ``q`` at once, accurate even when ``f`` has a kink at 0.

    Gauss-Hermite quadrature converges slowly for functions with a kink (ReLU, leaky ReLU, SELU), so
    each side of the kink is integrated separately with 200-point Gauss-Legendre, where both sides
    are smooth (relative error below 1e-10 for the book's activations). At zero mean the sides are
    the two half-lines ``[0, 12]`` standard deviations; at a non-zero ``mean`` the kink of ``f`` at
    ``u = 0`` sits at ``t = -mean / sqrt(q)`` in standard units (``u = mean + sqrt(q) t``), and the
    window ``[-12, 12]`` around the mean is cut there. ``mean`` broadcasts against ``q``. Vectorized:
    ``f`` is called on arrays of shape ``q.shape + (200,)`` (or ``(400,)`` with a mean). ``q = 0`` is a
    point mass and gives exactly ``f(mean)``.
    """
    f = _callable(f)
    qa = _nonneg(q, "q")
    mu = _finite(mean, "mean")
    try:
        qa, mu = np.broadcast_arrays(qa, mu)
    except ValueError:
        raise ValueError(f"mean must broadcast against q, got shapes {mu.shape} and {qa.shape}") from None
    s = np.sqrt(qa)[..., None]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        if not np.any(mu):  # the kink at 0: both half-lines share the nodes
            values = (f(s * _T) + f(-s * _T)) @ _W
        else:
            sd = s[..., 0]
            t, w = _split_rule(np.divide(-mu, sd, out=np.zeros_like(sd), where=sd > 0.0))
            fx = f(mu[..., None] + s * t)
            values = np.sum(np.where(w > 0.0, fx * w, 0.0), axis=-1)
        if np.any(qa == 0.0):  # a point mass: exactly f(mean), not the quadrature's 1 - 2e-14 of it
            values = np.where(qa == 0.0, f(mu.copy()), values)
    return _scalar_or_array(values, q, mean)


def _arcs(c: Array) -> tuple[Array, Array]:
    """Angular nodes and weights, shape ``c.shape + (4 * _N_ANGULAR,)``, for the polar rule.

    The rays where ``u_a = 0`` (t = pi/2, 3 pi/2) and ``u_b = 0`` (t = theta0 + pi/2, theta0 + 3 pi/2,
    theta0 = arccos c) cut the circle into four arcs; each gets its own Gauss-Legendre rule.
    """
    theta0 = np.arccos(c)[..., None]
    cuts = np.concatenate([np.broadcast_to([0.5 * np.pi, 1.5 * np.pi], theta0.shape[:-1] + (2,)),
                           np.mod(theta0 + np.array([0.5 * np.pi, 1.5 * np.pi]), 2.0 * np.pi)], axis=-1)
    cuts = np.sort(cuts, axis=-1)
    ends = np.concatenate([cuts[..., 1:], cuts[..., :1] + 2.0 * np.pi], axis=-1)
    length = ends - cuts  # (..., 4), sums to 2 pi
    t = cuts[..., :, None] + 0.5 * length[..., :, None] * (_AN + 1.0)
    w = 0.5 * length[..., :, None] * _AW
    return t.reshape(c.shape + (-1,)), w.reshape(c.shape + (-1,))


def bivariate_expectation(f: Callable[[Array, Array], Array], q_a: float | Array, q_b: float | Array,
                          c: float | Array) -> float | Array:
    """``E[f(u_a, u_b)]`` for zero-mean Gaussians with variances ``q_a, q_b`` and correlation ``c``.

    Written as in Poole et al. (2016): ``u_a = sqrt(q_a) z_1``, ``u_b = sqrt(q_b) (c z_1 + sqrt(1-c^2) z_2)``
    with independent standard normals ``z_1, z_2``. Integrated in polar coordinates, cut at the rays
    where ``u_a`` or ``u_b`` changes sign (see the module docstring), so kinks at 0 are handled exactly.
    ``q_a``, ``q_b`` and ``c`` broadcast against each other; ``f`` must work elementwise on arrays.
    """
    f = _callable(f)
    qa, qb, cc = np.broadcast_arrays(_nonneg(q_a, "q_a"), _nonneg(q_b, "q_b"), _correlation(c))
    shape = cc.shape
    qa, qb, cc = qa.reshape(-1), qb.reshape(-1), cc.reshape(-1)
    out = np.empty(cc.size)
    for start in range(0, cc.size, _CHUNK):
        sl = slice(start, start + _CHUNK)
        t, wt = _arcs(cc[sl])  # (n, A)
        theta0 = np.arccos(cc[sl])[:, None]
        ra = np.sqrt(qa[sl])[:, None, None] * np.cos(t)[:, :, None] * _R  # (n, A, R)
        rb = np.sqrt(qb[sl])[:, None, None] * np.cos(t - theta0)[:, :, None] * _R
        with np.errstate(over="ignore", under="ignore"):
            values = f(ra, rb)
        out[sl] = np.einsum("nar,na,r->n", values, wt, _RWEIGHT)
    return _scalar_or_array(out.reshape(shape), q_a, q_b, c)


def arccos_kernel(c: float | Array) -> float | Array:
    """ReLU's correlation map at zero bias: ``c' = (sqrt(1 - c^2) + (pi - arccos c) c) / pi``.

    From the arc-cosine kernel of order 1 (Cho & Saul, 2009): for ``(u_a, u_b)`` with variances
    ``q_a, q_b`` and correlation ``c``, ``E[relu(u_a) relu(u_b)] = sqrt(q_a q_b) / (2 pi) *
    (sqrt(1 - c^2) + (pi - arccos c) c)``, and ``E[relu(u)^2] = q / 2``. Independent of ``sigma_w2``.
    """
    cc = _correlation(c)
    return _scalar_or_array((np.sqrt(np.maximum(1.0 - cc * cc, 0.0)) + (np.pi - np.arccos(cc)) * cc) / np.pi, c)


def relu_covariance(q_a: float | Array, q_b: float | Array, c: float | Array) -> float | Array:
    """Closed form ``E[relu(u_a) relu(u_b)] = sqrt(q_a q_b) (sqrt(1-c^2) + (pi - arccos c) c) / (2 pi)``."""
    qa, qb = _nonneg(q_a, "q_a"), _nonneg(q_b, "q_b")
    k = np.asarray(arccos_kernel(c))
    return _scalar_or_array(np.sqrt(qa * qb) * k / 2.0, q_a, q_b, c)


