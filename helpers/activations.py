"""Activation functions and their derivatives, written never to emit a floating-point warning.

Every function and derivative is finite for every finite input whose true value is representable
(the sigmoid is computed through tanh, so it has no exp to overflow; SELU's negative side uses
``expm1`` of a clipped input); only SELU of an input within 5 % of the largest float overflows to inf.

Each activation is an :class:`Activation` holding the function, its derivative with respect to the
pre-activation, and the name :func:`helpers.initializers.calculate_gain` knows it by. At the kink
z = 0 of ReLU, leaky ReLU and SELU the derivative takes its left-hand value (0 for ReLU, the slope
for leaky ReLU, lambda * alpha for SELU), as PyTorch's autograd does.
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
    backprop: Callable[..., Array] | None = None
    """Optional fast ``(z, h, dh, out) -> dh * f'(z)`` that may use the cached output ``h = f(z)``
    and writes into ``out`` when it is an array (a new array when it is ``None``)."""
    f_into: Callable[[Array, Array], Array] | None = None
    """Optional ``(z, out) -> f(z)`` written into ``out`` (identity returns ``z`` itself)."""

    def __call__(self, z: Array) -> Array:
        return self.f(z)

    def apply(self, z: Array, out: Array | None = None) -> Array:
        """``f(z)``, written into ``out`` if given (bit-for-bit the same values as ``f(z)``)."""
        if out is None:
            return self.f(z)
        if self.f_into is not None:
            return self.f_into(z, out)
        out[...] = self.f(z)
        return out

    def grad(self, z: Array, h: Array, dh: Array, out: Array | None = None) -> Array:
        """dL/dz = dL/dh * f'(z), given the pre-activation ``z`` and its output ``h = f(z)``.

        The built-in activations compute this from ``h`` where that saves work (tanh and the
        sigmoid reuse their output instead of evaluating the function again), with no float
        temporaries, into ``out`` if given; the result is bit-for-bit ``dh * df(z)``. The inputs are
        not modified (``out`` must not be one of them).
        """
        if self.backprop is not None:
            return self.backprop(z, h, dh, out)
        if out is None:
            return dh * self.df(z)
        return np.multiply(dh, self.df(z), out=out)


def _new(like: Array, out: Array | None) -> Array:
    return np.empty_like(like) if out is None else out


def _sigmoid(z: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no exp, so no overflow warning for large |z|


def _sigmoid_into(z: Array, out: Array) -> Array:
    np.multiply(z, 0.5, out=out)  # the same operations as _sigmoid, in place
    np.tanh(out, out=out)
    np.add(out, 1.0, out=out)
    np.multiply(out, 0.5, out=out)
    return out


def _dsigmoid(z: Array) -> Array:
    s = _sigmoid(z)
    return s * (1.0 - s)


def _sigmoid_backprop(z: Array, h: Array, dh: Array, out: Array | None = None) -> Array:
    d = np.subtract(1.0, h, out=out)  # s'(z) = s(z) (1 - s(z)), from the cached output
    d *= h
    d *= dh
    return d


def _tanh_into(z: Array, out: Array) -> Array:
    return np.tanh(z, out=out)


def _dtanh(z: Array) -> Array:
    t = np.tanh(z)
    return 1.0 - t * t


def _tanh_backprop(z: Array, h: Array, dh: Array, out: Array | None = None) -> Array:
    d = np.multiply(h, h, out=out)  # tanh'(z) = 1 - tanh(z)^2, from the cached output
    np.subtract(1.0, d, out=d)
    d *= dh
    return d


def _softsign(z: Array) -> Array:
    return z / (1.0 + np.abs(z))


def _dsoftsign(z: Array) -> Array:
    with np.errstate(over="ignore"):  # (1 + |z|)^2 overflows for |z| > 1e154; the slope is then 0
        return 1.0 / (1.0 + np.abs(z)) ** 2


def _relu(z: Array) -> Array:
    return np.maximum(z, 0)


def _relu_into(z: Array, out: Array) -> Array:
    return np.maximum(z, 0, out=out)


def _drelu(z: Array) -> Array:
    return (z > 0).astype(z.dtype)


def _relu_backprop(z: Array, h: Array, dh: Array, out: Array | None = None) -> Array:
    return np.multiply(dh, z > 0, out=out)  # the mask is cast to 0.0 / 1.0 inside the ufunc


def _leaky(slope: float) -> tuple[Callable[[Array], Array], Callable[[Array], Array]]:
    if slope <= 1.0:  # max(z, a z) is z for z > 0 and a z otherwise: no branchy np.where
        def f(z: Array) -> Array:
            return np.maximum(z, slope * z)
    else:
        def f(z: Array) -> Array:
            return np.where(z > 0, z, slope * z)

    def df(z: Array) -> Array:
        return np.where(z > 0, 1.0, slope).astype(z.dtype)

    return f, df


def _leaky_into(slope: float) -> Callable[[Array, Array], Array] | None:
    if slope > 1.0:
        return None

    def f_into(z: Array, out: Array) -> Array:
        np.multiply(z, slope, out=out)
        return np.maximum(z, out, out=out)

    return f_into


def _leaky_backprop(slope: float) -> Callable[..., Array] | None:
    if slope > 1.0:
        return None

    def backprop(z: Array, h: Array, dh: Array, out: Array | None = None) -> Array:
        d = _new(dh, out)
        np.maximum(z > 0, d.dtype.type(slope), out=d)  # exactly 1 or slope, without np.where
        d *= dh
        return d

    return backprop


def _selu(z: Array) -> Array:
    with np.errstate(over="ignore"):  # only z > max_float / 1.05 overflows, to +inf, which is then the value
        return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))


def _dselu(z: Array) -> Array:
    return SELU_SCALE * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0))).astype(z.dtype)


def _dselu_backprop(z: Array, h: Array, dh: Array, out: Array | None = None) -> Array:
    d = _dselu(z)
    return np.multiply(d, dh, out=d if out is None else out)


def _identity(z: Array) -> Array:
    return z


def _identity_into(z: Array, out: Array) -> Array:
    return z  # the output is the input itself, as for _identity


def _identity_backprop(z: Array, h: Array, dh: Array, out: Array | None = None) -> Array:
    return dh


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
        return Activation("identity", _identity, _one, "linear", backprop=_identity_backprop,
                          f_into=_identity_into)
    if name == "sigmoid":
        return Activation("sigmoid", _sigmoid, _dsigmoid, "sigmoid", bounded=True, backprop=_sigmoid_backprop,
                          f_into=_sigmoid_into)
    if name == "tanh":
        return Activation("tanh", np.tanh, _dtanh, "tanh", bounded=True, backprop=_tanh_backprop,
                          f_into=_tanh_into)
    if name == "softsign":
        return Activation("softsign", _softsign, _dsoftsign, "softsign", bounded=True)
    if name == "relu":
        return Activation("relu", _relu, _drelu, "relu", backprop=_relu_backprop, f_into=_relu_into)
    if name == "selu":
        return Activation("selu", _selu, _dselu, "selu", backprop=_dselu_backprop)
    slope = _checks.finite_float(slope, "slope", non_negative=True)
    f, df = _leaky(slope)
    return Activation("leaky_relu", f, df, "leaky_relu", slope=slope, backprop=_leaky_backprop(slope),
                      f_into=_leaky_into(slope))
