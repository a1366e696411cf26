"""Activation functions and their derivatives, written to stay finite for any finite input.

Each activation is an :class:`Activation` holding the function, its derivative with respect to the
pre-activation, and the name :func:`helpers.initializers.calculate_gain` knows it by. Derivatives at
the kink of ReLU-like functions take the right-hand value (0 for ReLU at 0), as autograd libraries do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _checks

# Constants of SELU, Klambauer et al. (2017), eq. 14 (alpha_01, lambda_01).
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """An elementwise nonlinearity: ``f(z)``, ``df(z)`` and its bounds for saturation checks."""

    name: str
    f: Callable[[Array], Array]
    df: Callable[[Array], Array]
    gain_name: str
    slope: float = 0.0
    bounded: bool = False

    def __call__(self, z: Array) -> Array:
        return self.f(z)


def _sigmoid(z: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no exp, so no overflow warning for large |z|


def _dsigmoid(z: Array) -> Array:
    s = _sigmoid(z)
    return s * (1.0 - s)


def _dtanh(z: Array) -> Array:
    t = np.tanh(z)
    return 1.0 - t * t


def _softsign(z: Array) -> Array:
    return z / (1.0 + np.abs(z))


def _dsoftsign(z: Array) -> Array:
    return 1.0 / (1.0 + np.abs(z)) ** 2


def _relu(z: Array) -> Array:
    return np.maximum(z, 0)


def _drelu(z: Array) -> Array:
    return (z > 0).astype(z.dtype)


def _leaky(slope: float) -> tuple[Callable[[Array], Array], Callable[[Array], Array]]:
    def f(z: Array) -> Array:
        return np.where(z > 0, z, slope * z)

    def df(z: Array) -> Array:
        return np.where(z > 0, 1.0, slope).astype(z.dtype)

    return f, df


def _selu(z: Array) -> Array:
    return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))


def _dselu(z: Array) -> Array:
    return SELU_SCALE * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0))).astype(z.dtype)


def _identity(z: Array) -> Array:
    return z


def _one(z: Array) -> Array:
    return np.ones_like(z)


ACTIVATION_NAMES = ("identity", "linear", "sigmoid", "tanh", "softsign", "relu", "leaky_relu", "selu")


def get_activation(name: str | Activation, slope: float = 0.01) -> Activation:
    """Look up an activation by name; ``slope`` is the negative-side slope of ``leaky_relu``.

    ``"linear"`` is an alias of ``"identity"``. Passing an :class:`Activation` returns it unchanged.
    """
    if isinstance(name, Activation):
        return name
    _checks.choice(name, "activation", ACTIVATION_NAMES)
    if name in ("identity", "linear"):
        return Activation("identity", _identity, _one, "linear")
    if name == "sigmoid":
        return Activation("sigmoid", _sigmoid, _dsigmoid, "sigmoid", bounded=True)
    if name == "tanh":
        return Activation("tanh", np.tanh, _dtanh, "tanh", bounded=True)
    if name == "softsign":
        return Activation("softsign", _softsign, _dsoftsign, "softsign", bounded=True)
    if name == "relu":
        return Activation("relu", _relu, _drelu, "relu")
    if name == "selu":
        return Activation("selu", _selu, _dselu, "selu")
    slope = _checks.finite_float(slope, "slope", non_negative=True)
    f, df = _leaky(slope)
    return Activation("leaky_relu", f, df, "leaky_relu", slope=slope)
