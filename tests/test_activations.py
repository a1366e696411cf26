"""Activations: values, derivatives against central finite differences, fast backward, no warnings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import helpers as H
from helpers.activations import ACTIVATION_NAMES, SELU_ALPHA, SELU_SCALE

NAMES = ["identity", "sigmoid", "tanh", "softsign", "relu", "leaky_relu", "selu"]


def reference(name, z, slope=0.01):
    """Textbook definitions, written independently of the module."""
    return {
        "identity": lambda: z,
        "sigmoid": lambda: 1 / (1 + np.exp(-z)),
        "tanh": lambda: np.tanh(z),
        "softsign": lambda: z / (1 + np.abs(z)),
        "relu": lambda: np.maximum(z, 0),
        "leaky_relu": lambda: np.where(z > 0, z, slope * z),
        "selu": lambda: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * (np.exp(np.minimum(z, 0)) - 1)),
    }[name]()


GRID = np.linspace(-6, 6, 241)
GRID = GRID[np.abs(GRID) > 1e-3]  # the kink at 0 is tested separately


@pytest.mark.parametrize("name", NAMES)
def test_values(name):
    np.testing.assert_allclose(H.get_activation(name)(GRID), reference(name, GRID), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_against_central_differences(name):
    act = H.get_activation(name)
    eps = 1e-6
    numeric = (act.f(GRID + eps) - act.f(GRID - eps)) / (2 * eps)
    np.testing.assert_allclose(act.df(GRID), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("slope", [0.0, 0.2, 1.0])
def test_leaky_relu_slope(slope):
    act = H.get_activation("leaky_relu", slope=slope)
    assert act.slope == slope
    np.testing.assert_allclose(act(GRID), reference("leaky_relu", GRID, slope))
    np.testing.assert_array_equal(act.df(np.array([-2.0, 3.0])), [slope, 1.0])


def test_kink_convention():
    """At z = 0 the derivative takes its left-hand value, as PyTorch does."""
    zero = np.zeros(1)
    assert H.get_activation("relu").df(zero)[0] == 0.0
    assert H.get_activation("leaky_relu", slope=0.1).df(zero)[0] == 0.1
    assert H.get_activation("selu").df(zero)[0] == pytest.approx(SELU_SCALE * SELU_ALPHA)


def test_aliases_and_passthrough():
    assert H.get_activation("linear").name == "identity"
    act = H.get_activation("tanh")
    assert H.get_activation(act) is act
    assert set(ACTIVATION_NAMES) >= set(NAMES)
    for name in NAMES:  # every activation has a gain that calculate_gain knows
        assert math.isfinite(H.calculate_gain(H.get_activation(name).gain_name))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_is_bitwise_dh_times_df(name, dtype):
    """The fast backward path (from the cached output) equals dh * f'(z) exactly, in the same dtype."""
    rng = np.random.default_rng(0)
    z = (3 * rng.standard_normal((50, 40))).astype(dtype)
    dh = rng.standard_normal((50, 40)).astype(dtype)
    act = H.get_activation(name)
    h = act.f(z)
    z0, h0, dh0 = z.copy(), h.copy(), dh.copy()
    g = act.grad(z, h, dh)
    assert g.dtype == dtype
    np.testing.assert_array_equal(g, dh * act.df(z))
    np.testing.assert_array_equal(z, z0)  # inputs untouched
    np.testing.assert_array_equal(h, h0)
    np.testing.assert_array_equal(dh, dh0)


@pytest.mark.parametrize("name, slope", [(n, 0.01) for n in NAMES] + [("leaky_relu", 0.0), ("leaky_relu", 3.0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_kernels_match_exactly(name, slope, dtype):
    """apply(z, out) and grad(z, h, dh, out) give bit-for-bit f(z) and dh * f'(z), also at 0, +-inf, NaN."""
    rng = np.random.default_rng(1)
    z = (3 * rng.standard_normal((30, 20))).astype(dtype)
    z[0, :5] = [0.0, -0.0, np.inf, -np.inf, np.nan]
    dh = rng.standard_normal((30, 20)).astype(dtype)
    act = H.get_activation(name, slope=slope)
    out = np.full_like(z, 7.0)
    with np.errstate(invalid="ignore", over="ignore"):
        h = act.apply(z, out)
        np.testing.assert_array_equal(h, act.f(z))
        assert h is out or (name == "identity" and h is z)
        g_out = np.full_like(z, 7.0)
        g = act.grad(z, h, dh, g_out)
        np.testing.assert_array_equal(g, dh * act.df(z))
        assert g is g_out or (name == "identity" and g is dh)


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(name):
    act = H.get_activation(name)
    z = np.linspace(-3, 3, 11, dtype=np.float32)
    assert act.f(z).dtype == np.float32
    assert act.df(z).dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_extreme_finite_inputs_give_finite_values_and_no_warning(name):
    big = np.finfo(np.float64).max
    z = np.array([1e300, -1e300, -big, 1e-320, -1e-320, 0.0, 700.0, -750.0])
    if name != "selu":  # SELU(max_float) = 1.05 * max_float is not representable
        z = np.append(z, big)
    act = H.get_activation(name)
    assert np.all(np.isfinite(act.f(z)))
    assert np.all(np.isfinite(act.df(z)))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softsign"])
def test_bounded_activations_are_flagged(name):
    assert H.get_activation(name).bounded
    assert not H.get_activation("relu").bounded


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(NAMES),
       z=hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(-50, 50).filter(lambda v: abs(v) > 1e-3)))
def test_derivative_property(name, z):
    act = H.get_activation(name)
    eps = 1e-6
    numeric = (act.f(z + eps) - act.f(z - eps)) / (2 * eps)
    np.testing.assert_allclose(act.df(z), numeric, rtol=1e-6, atol=1e-8)
