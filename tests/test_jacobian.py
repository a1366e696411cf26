"""Tests for helpers.jacobian: the Jacobian against finite differences, isometry of orthogonal linear
networks, the Fuss-Catalan variance of Gaussian linear networks, and the measured chi_1."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import jacobian as jac
import helpers as H
from helpers.network import MLP, predict


@pytest.mark.parametrize("activate_output", [True, False])
@pytest.mark.parametrize("activation", ["tanh", "selu"])
def test_jacobian_matches_central_differences(activation, activate_output):
    rng = np.random.default_rng(0)
    net = H.random_network([5, 7, 6, 4], rng, sigma_w2=1.5, sigma_b2=0.1, activation=activation)
    net = MLP(net.weights, net.biases, net.activation, activate_output=activate_output)
    x = rng.standard_normal(5)
    h = 1e-6
    fd = np.stack([(predict(net, (x + h * e)[None]) - predict(net, (x - h * e)[None]))[0] / (2 * h)
                   for e in np.eye(5)], axis=1)
    np.testing.assert_allclose(jac.input_output_jacobian(net, x), fd, rtol=1e-6, atol=1e-9)


def test_orthogonal_linear_network_is_an_exact_isometry():
    net = H.random_network([64] * 33, np.random.default_rng(1), sigma_w2=1.0, activation="identity",
                            weights="orthogonal", sigma_b2=0.0)
    s = jac.jacobian_singular_values(net, np.zeros(64))
    np.testing.assert_allclose(s, 1.0, atol=1e-12)
    assert jac.squared_singular_value_moments(s)[1] < 1e-20


def test_gaussian_linear_network_follows_fuss_catalan():
    # Products of L Gaussian matrices (sigma_w2 = 1): mean of lambda = s^2 is 1, variance L (large width).
    # Width 300, average of 4 networks: finite-width corrections are a few per cent at these depths.
    for depth in (2, 4):
        nets = H.stack_mlps([H.random_network([300] * (depth + 1), np.random.default_rng(seed), sigma_w2=1.0,
                                              activation="identity", sigma_b2=0.0) for seed in range(4)])
        spectra = jac.jacobian_singular_values(nets, np.zeros(300))  # one row per network
        mean, var = np.mean([jac.squared_singular_value_moments(s) for s in spectra], axis=0)
        assert mean == pytest.approx(1.0, abs=0.03)
        assert var == pytest.approx(depth, rel=0.1)


def test_jacobian_spectra_equal_spectra_of_truncated_networks():
    rng = np.random.default_rng(2)
    net = H.random_network([20] * 9, rng, sigma_w2=2.0, activation="relu", sigma_b2=0.0)
    x = rng.standard_normal(20)
    spectra = jac.jacobian_spectra(net, x, [8, 3, 5])
    assert sorted(spectra) == [3, 5, 8]
    for depth, s in spectra.items():
        short = MLP(net.weights[:depth], net.biases[:depth], net.activation, activate_output=True)
        np.testing.assert_allclose(s, jac.jacobian_singular_values(short, x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
def test_jacobians_of_an_ensemble_equal_each_member(weights):
    nets = [H.random_network([12] * 7, np.random.default_rng(60 + k), sigma_w2=1.5, sigma_b2=0.05,
                             activation="tanh", weights=weights) for k in range(3)]
    ens = H.stack_mlps(nets)
    one = np.random.default_rng(1).standard_normal(12)
    each = np.random.default_rng(2).standard_normal((3, 12))
    spectra = jac.jacobian_spectra(ens, one, [2, 6])
    assert spectra[6].shape == (3, 12)
    for k, net in enumerate(nets):
        for depth, s in jac.jacobian_spectra(net, one, [2, 6]).items():
            np.testing.assert_allclose(spectra[depth][k], s, rtol=1e-12)
        np.testing.assert_allclose(jac.input_output_jacobian(ens, each)[k], jac.input_output_jacobian(net, each[k]),
                                   rtol=1e-12)
        np.testing.assert_allclose(jac.jacobian_singular_values(ens, each)[k],
                                   jac.jacobian_singular_values(net, each[k]), rtol=1e-12)
    assert not np.allclose(spectra[6][0], spectra[6][1])


def test_ensemble_jacobian_rejects_bad_input():
    net = H.random_network([4, 4, 4], np.random.default_rng(0), sigma_w2=1.0, activation="tanh", sigma_b2=0.0)
    ens = H.stack_mlps([net, net])
    with pytest.raises(ValueError, match=r"or one input per member \(shape \(2, 4\)\)"):
        jac.input_output_jacobian(ens, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="x must be one input"):
        jac.jacobian_spectra(ens, np.zeros(5), [1])
    with pytest.raises(ValueError, match="depths"):
        jac.jacobian_spectra(ens, np.zeros(4), [3])
    with pytest.raises(TypeError, match="single network"):
        jac.tangent_growth(ens, np.zeros((2, 4)), np.zeros((2, 4)))


def test_squared_singular_value_moments():
    mean, var = jac.squared_singular_value_moments(np.array([1.0, 2.0, 3.0]))
    assert mean == pytest.approx(14 / 3, rel=1e-15)
    assert var == pytest.approx(np.var([1.0, 4.0, 9.0]), rel=1e-15)


def test_tangent_growth_of_a_scaled_orthogonal_linear_network_is_exact():
    rng = np.random.default_rng(3)
    net = H.random_network([30] * 11, rng, sigma_w2=1.7, activation="identity", weights="orthogonal", sigma_b2=0.0)
    ratios = jac.tangent_growth(net, rng.standard_normal((4, 30)), rng.standard_normal((4, 30)))
    np.testing.assert_allclose(ratios, 1.7, rtol=1e-12)


@pytest.mark.parametrize("activation, sw, sb", [("tanh", 1.2, 0.05), ("tanh", 3.0, 0.1), ("relu", 1.5, 0.0)])
def test_estimate_chi1_agrees_with_mean_field(activation, sw, sb):
    rng = np.random.default_rng(4)
    net = H.random_network([500] * 31, rng, sigma_w2=sw, sigma_b2=sb, activation=activation)
    x = rng.standard_normal((16, 500))
    # width 500, 16 inputs, 20 layers kept: the geometric mean is within about 2 % of chi_1
    assert jac.estimate_chi1(net, x, rng, skip=10) == pytest.approx(H.chi1(sw, sb, activation), rel=0.04)


def test_bad_inputs_raise():
    net = H.random_network([4, 4, 4], np.random.default_rng(0), sigma_w2=1.0, activation="tanh", sigma_b2=0.0)
    with pytest.raises(ValueError, match="x must be one input"):
        jac.input_output_jacobian(net, np.zeros((2, 4)))
    with pytest.raises(TypeError, match="net"):
        jac.input_output_jacobian("net", np.zeros(4))
    with pytest.raises(ValueError, match="depths"):
        jac.jacobian_spectra(net, np.zeros(4), [3])
    with pytest.raises(ValueError, match="skip"):
        jac.estimate_chi1(net, np.zeros((1, 4)), np.random.default_rng(0), skip=1)
    with pytest.raises(ValueError, match="v must have the shape"):
        jac.tangent_growth(net, np.zeros((2, 4)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="at least one"):
        jac.squared_singular_value_moments(np.array([]))
