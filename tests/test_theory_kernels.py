"""The kernels of infinitely wide ReLU networks (helpers.theory.kernels)."""

from __future__ import annotations

import numpy as np
import pytest

import helpers as H
from helpers import parametrization as P
from helpers.theory import gaussian

R = np.random.default_rng


def test_depth_zero_is_the_linear_kernel():
    x = R(0).standard_normal((4, 3))
    sigma, theta = H.relu_kernels(x, depth=0, sigma_w2=1.5)
    np.testing.assert_allclose(sigma, 1.5 * x @ x.T / 3)
    np.testing.assert_allclose(theta, sigma)


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_diagonal_in_closed_form(depth):
    # with sigma_w2 = 2: Sigma_l(x, x) = Sigma_1(x, x) and Sigma'_l(x, x) = 1, so Theta = (depth + 1) Sigma_1
    x = R(1).standard_normal((5, 4))
    sigma, theta = H.relu_kernels(x, depth=depth)
    s1 = 2.0 * np.sum(x * x, axis=1) / 4
    # rounding puts c a few ulps below 1, where arccos costs sqrt(eps): 1e-7 is that, not a formula error
    np.testing.assert_allclose(np.diag(sigma), s1, rtol=1e-7)
    np.testing.assert_allclose(np.diag(theta), (depth + 1) * s1, rtol=1e-7)


def test_one_hidden_layer_against_numerical_expectations():
    x = R(2).standard_normal((2, 3))
    sw = 1.7
    q = sw * np.sum(x * x, axis=1) / 3
    cov = sw * x[0] @ x[1] / 3
    c = cov / np.sqrt(q[0] * q[1])
    sigma2 = sw * gaussian.bivariate_expectation(lambda u, v: np.maximum(u, 0) * np.maximum(v, 0), q[0], q[1], c)
    dot2 = sw * gaussian.bivariate_expectation(lambda u, v: (u > 0) * (v > 0) * 1.0, q[0], q[1], c)
    sigma, theta = H.relu_kernels(x, depth=1, sigma_w2=sw)
    assert sigma[0, 1] == pytest.approx(sigma2, rel=1e-9)
    assert theta[0, 1] == pytest.approx(sigma2 + dot2 * cov, rel=1e-6)


def test_symmetric_positive_semidefinite_and_cross_kernel():
    x = R(3).standard_normal((6, 3))
    y = R(4).standard_normal((2, 3))
    _, theta = H.relu_kernels(x, depth=3)
    np.testing.assert_allclose(theta, theta.T, rtol=1e-12)
    assert np.linalg.eigvalsh(theta).min() > -1e-10
    _, cross = H.relu_kernels(x, y, depth=3)
    _, full = H.relu_kernels(np.concatenate([x, y]), depth=3)
    np.testing.assert_allclose(cross, full[:6, 6:], rtol=1e-12)


def test_wide_networks_converge_to_the_analytic_kernel():
    g = np.linspace(0.0, np.pi, 5)
    x = np.stack([np.cos(g), np.sin(g)], axis=1)
    _, theta = H.relu_kernels(x, depth=2)
    kernels, errors = P.ntk_fluctuation([2048], x, seeds=4, hidden_layers=2)
    np.testing.assert_allclose(kernels[0].mean(axis=0), theta, rtol=0.05, atol=0.02)
    assert errors.max() < 0.1


def test_bad_inputs():
    with pytest.raises(ValueError, match="y must have 3 features"):
        H.relu_kernels(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="depth must be"):
        H.relu_kernels(np.ones((2, 3)), depth=-1)
    with pytest.raises(ValueError, match="x must be finite"):
        H.relu_kernels(np.array([[np.nan, 1.0]]))
