"""Variance propagation in wide random networks: the predictions the chapters draw over experiments.

Notation (Poole et al. 2016): ``sigma_w2 = fan_in * Var[W]`` and ``sigma_b2 = Var[b]``. For a layer
``z_l = W_l phi(z_{l-1}) + b_l`` with independent zero-mean weights, the variance of a pre-activation
obeys the *length map*

    q_l = sigma_w2 * E[phi(z)^2] + sigma_b2,   z ~ N(0, q_{l-1}),

which for ``phi = identity`` is ``q_l = sigma_w2 q_{l-1}`` (LeCun et al. 1998; Glorot & Bengio 2010)
and for ReLU ``q_l = sigma_w2 q_{l-1} / 2`` (He et al. 2015). These are statements about averages
over random networks; a single finite network fluctuates around them (Hanin & Rolnick 2018).
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .activations import Activation, get_activation

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(200)
_HALF_LINE = 12.0  # the standard normal density beyond 12 is below 1e-31
_QUAD_T = 0.5 * _HALF_LINE * (_NODES + 1.0)
_QUAD_W = 0.5 * _HALF_LINE * _WEIGHTS * np.exp(-0.5 * _QUAD_T * _QUAD_T) / np.sqrt(2.0 * np.pi)


def gaussian_expectation(f, variance: float) -> float:
    """E[f(z)] for z ~ N(0, variance), accurate even when ``f`` has a kink at 0.

    Gauss-Hermite quadrature converges slowly for functions with a kink (ReLU, leaky ReLU, SELU),
    so each half-line is integrated separately with 200-point Gauss-Legendre on [0, 12] standard
    deviations, where both halves are smooth. Relative error is below 1e-10 for the activations here.
    """
    if not callable(f):
        raise TypeError(f"f must be a function of an array, got {type(f).__name__}")
    variance = _checks.finite_float(variance, "variance", non_negative=True)
    with np.errstate(over="ignore", invalid="ignore"):
        if variance == 0.0:
            return float(np.asarray(f(np.zeros(1)), dtype=float).ravel()[0])
        s = np.sqrt(variance)
        return float(np.sum(_QUAD_W * (f(s * _QUAD_T) + f(-s * _QUAD_T))))


def second_moment(activation: str | Activation, variance: float) -> float:
    """E[phi(z)^2] for z ~ N(0, variance); exact for identity, ReLU and leaky ReLU."""
    act = get_activation(activation)
    variance = _checks.finite_float(variance, "variance", non_negative=True)
    if act.name == "identity":
        return variance
    if act.name == "relu":
        return variance / 2.0
    if act.name == "leaky_relu":
        return variance * (1.0 + act.slope**2) / 2.0
    return gaussian_expectation(lambda z: act.f(z) ** 2, variance)


def length_map(q: float, sigma_w2: float, activation: str | Activation = "tanh", sigma_b2: float = 0.0) -> float:
    """One step of the length map: ``sigma_w2 * E[phi(z)^2] + sigma_b2`` with z ~ N(0, q)."""
    sigma_w2 = _checks.finite_float(sigma_w2, "sigma_w2", non_negative=True)
    sigma_b2 = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    return sigma_w2 * second_moment(activation, q) + sigma_b2


def predicted_variances(depth: int, sigma_w2: float, activation: str | Activation = "relu", *,
                        input_second_moment: float = 1.0, sigma_b2: float = 0.0) -> np.ndarray:
    """Predicted pre-activation variance ``q_l`` of layers 1..depth of an infinitely wide network.

    Layer 1 sees the raw input, so ``q_1 = sigma_w2 * E[x^2] + sigma_b2``; every later layer applies
    :func:`length_map` to the previous one. Returns an array of length ``depth``.
    """
    depth = _checks.positive_int(depth, "depth")
    m0 = _checks.finite_float(input_second_moment, "input_second_moment", non_negative=True)
    sigma_w2 = _checks.finite_float(sigma_w2, "sigma_w2", non_negative=True)
    sigma_b2 = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    act = get_activation(activation)
    q = np.empty(depth)
    q[0] = sigma_w2 * m0 + sigma_b2
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in range(1, depth):
            q[layer] = length_map(q[layer - 1], sigma_w2, act, sigma_b2) if np.isfinite(q[layer - 1]) else np.inf
    return q


# -- Kernels of infinitely wide networks --------------------------------------------------------
def _points(x: object, name: str) -> np.ndarray:
    arr = _checks.array(x, name, ndim=2)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return np.asarray(arr, dtype=np.float64)


def relu_kernels(x: np.ndarray, y: np.ndarray | None = None, *, depth: int = 1,
                 sigma_w2: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """The NNGP kernel and the neural tangent kernel of an infinitely wide ReLU network, no biases.

    The network has ``depth`` hidden ReLU layers and a linear scalar output, in the NTK
    parametrization of Jacot, Gabriel & Hongler (2018): ``z_1 = sqrt(sigma_w2 / d) W_1 x`` and
    ``z_l = sqrt(sigma_w2 / n_{l-1}) W_l relu(z_{l-1})`` for ``l = 2 .. depth + 1`` (the output), every
    raw weight ``N(0, 1)``. The recursion of their Theorem 1 (in the form of Arora et al. 2019) is

        Sigma_1(x, y) = sigma_w2 <x, y> / d,            Theta_1 = Sigma_1,
        Sigma_l(x, y) = sigma_w2 E[relu(u) relu(v)],     Sigma'_l(x, y) = sigma_w2 E[relu'(u) relu'(v)],
        Theta_l = Sigma_l + Sigma'_l Theta_{l-1},

    with ``(u, v)`` centred Gaussian with covariance ``Sigma_{l-1}`` on ``{x, y}``. For ReLU both
    expectations are arc-cosine kernels (Cho & Saul 2009): the first is
    :func:`helpers.meanfield.relu_covariance`, the second ``(pi - arccos c) / (2 pi)`` as in
    :func:`helpers.meanfield.chi_c`; both are called here, not re-derived. Returns
    ``(Sigma_{depth+1}, Theta_{depth+1})``, each of shape ``(len(x), len(y))`` (``y`` defaults to ``x``).
    For (nearly) parallel inputs ``c`` rounds to a few ulps below 1, where ``arccos`` costs about
    ``sqrt(eps)``: entries there are accurate to about 1e-8 relative, elsewhere to rounding.
    The empirical kernel of a finite network (:func:`helpers.parametrization.empirical_ntk`)
    converges to ``Theta`` as every width grows (Jacot et al. 2018).
    """
    from . import meanfield  # meanfield builds on this module's quadrature rule: import it lazily

    xa = _points(x, "x")
    yb = xa if y is None else _points(y, "y")
    if yb.shape[1] != xa.shape[1]:
        raise ValueError(f"y must have {xa.shape[1]} features like x, got shape {yb.shape}")
    depth = _checks.positive_int(depth, "depth", allow_zero=True)
    sw = _checks.finite_float(sigma_w2, "sigma_w2", positive=True)
    d = xa.shape[1]
    cross = sw * (xa @ yb.T) / d
    qa = sw * np.sum(xa * xa, axis=1) / d
    qb = sw * np.sum(yb * yb, axis=1) / d
    theta = cross.copy()
    for _ in range(depth):
        a, b = np.meshgrid(qa, qb, indexing="ij")
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where((a > 0) & (b > 0), cross / np.sqrt(a * b), 0.0)
        c = np.clip(c, -1.0, 1.0)
        dot = np.asarray(meanfield.chi_c(c, sw, 0.0, "relu", q=1.0))
        cross = sw * np.asarray(meanfield.relu_covariance(a, b, c))
        theta = cross + dot * theta
        qa, qb = sw * qa / 2.0, sw * qb / 2.0
    return cross, theta
