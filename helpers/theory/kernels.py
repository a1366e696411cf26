"""Kernels of infinitely wide networks: the NNGP kernel and the neural tangent kernel of ReLU networks.

As every width grows, a randomly initialized network's outputs become a Gaussian process whose
covariance is the NNGP kernel, and gradient descent in the NTK parametrization trains it like a
kernel method with the neural tangent kernel (Jacot, Gabriel & Hongler 2018). Both follow from the
two-input maps of :mod:`helpers.theory.meanfield`, layer by layer.
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from .gaussian import relu_covariance
from .meanfield import chi_c


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
    :func:`helpers.theory.gaussian.relu_covariance`, the second ``(pi - arccos c) / (2 pi)`` as in
    :func:`helpers.theory.meanfield.chi_c`; both are called here, not re-derived. Returns
    ``(Sigma_{depth+1}, Theta_{depth+1})``, each of shape ``(len(x), len(y))`` (``y`` defaults to ``x``).
    For (nearly) parallel inputs ``c`` rounds to a few ulps below 1, where ``arccos`` costs about
    ``sqrt(eps)``: entries there are accurate to about 1e-8 relative, elsewhere to rounding.
    The empirical kernel of a finite network (:func:`helpers.parametrization.empirical_ntk`)
    converges to ``Theta`` as every width grows (Jacot et al. 2018).
    """
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
        dot = np.asarray(chi_c(c, sw, 0.0, "relu", q=1.0))
        cross = sw * np.asarray(relu_covariance(a, b, c))
        theta = cross + dot * theta
        qa, qb = sw * qa / 2.0, sw * qb / 2.0
    return cross, theta
