"""Tests for helpers.theory.meanfield and helpers.theory.gaussian: quadrature against closed forms, fixed points, chi_1, phases, depth scales.

Tolerances are stated per test. Closed forms used as references: E[u_a u_b] = sqrt(q_a q_b) c (identity),
the arc-cosine kernel for ReLU (Cho & Saul 2009), and leaky ReLU written as a z + (1 - a) relu(z).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import helpers as H
from helpers import theory
from helpers.activations import get_activation

C_GRID = np.linspace(-1.0, 1.0, 41)
relu = lambda u: np.maximum(u, 0.0)  # noqa: E731


# -- quadrature ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["tanh", "relu", "selu", "sigmoid", "softsign", "leaky_relu"])
def test_expectation_vectorized_equals_one_variance_at_a_time(name):
    act = get_activation(name)
    qs = np.array([0.0, 0.01, 0.3, 1.0, 4.0, 25.0])
    vec = H.gaussian_expectation(lambda u: act.f(u) ** 2, qs)
    scalar = [H.gaussian_expectation(lambda u: act.f(u) ** 2, float(q)) for q in qs]
    np.testing.assert_allclose(vec, scalar, rtol=1e-13, atol=1e-15)


def test_expectation_scalar_in_scalar_out_and_q_zero():
    assert isinstance(H.gaussian_expectation(np.cos, 1.0), float)
    assert H.gaussian_expectation(lambda u: np.cos(u) + 2.0, 0.0) == pytest.approx(3.0, abs=1e-12)
    # E[cos(u)] = exp(-q / 2) for u ~ N(0, q)
    assert H.gaussian_expectation(np.cos, 2.0) == pytest.approx(math.exp(-1.0), abs=1e-13)


def test_bivariate_relu_matches_arccos_kernel():
    for qa, qb in [(1.0, 1.0), (1.3, 0.7), (0.01, 9.0)]:
        num = H.bivariate_expectation(lambda x, y: relu(x) * relu(y), qa, qb, C_GRID)
        np.testing.assert_allclose(num, H.relu_covariance(qa, qb, C_GRID), rtol=0, atol=1e-12 * max(qa, qb))


def test_bivariate_identity_and_leaky_relu_closed_forms():
    qa, qb = 1.3, 0.7
    cov = math.sqrt(qa * qb) * C_GRID
    np.testing.assert_allclose(H.bivariate_expectation(lambda x, y: x * y, qa, qb, C_GRID), cov, atol=1e-12)
    a = 0.2
    leaky = get_activation("leaky_relu", slope=a).f
    # leaky(z) = a z + (1 - a) relu(z) and E[u_a relu(u_b)] = cov / 2 by symmetry
    exact = a * a * cov + a * (1 - a) * cov + (1 - a) ** 2 * np.asarray(H.relu_covariance(qa, qb, C_GRID))
    np.testing.assert_allclose(H.bivariate_expectation(lambda x, y: leaky(x) * leaky(y), qa, qb, C_GRID),
                               exact, atol=1e-12)


@pytest.mark.parametrize("q", [0.1, 1.0, 5.0])
def test_bivariate_special_correlations_tanh_and_sigmoid(q):
    # c = 1: both inputs equal, so the 2-D rule must reproduce the 1-D one (to 1e-11)
    e2 = H.bivariate_expectation(lambda x, y: np.tanh(x) * np.tanh(y), q, q, 1.0)
    assert e2 == pytest.approx(theory.second_moment("tanh", q), abs=1e-11)
    # c = -1 for an odd function: E[tanh(u) tanh(-u)] = -E[tanh(u)^2]
    e_neg = H.bivariate_expectation(lambda x, y: np.tanh(x) * np.tanh(y), q, q, -1.0)
    assert e_neg == pytest.approx(-theory.second_moment("tanh", q), abs=1e-11)
    # c = 0: independent, so the expectation factorizes (sigmoid has a non-zero mean)
    sig = get_activation("sigmoid").f
    e0 = H.bivariate_expectation(lambda x, y: sig(x) * sig(y), q, 2.0 * q, 0.0)
    assert e0 == pytest.approx(H.gaussian_expectation(sig, q) * H.gaussian_expectation(sig, 2.0 * q), abs=1e-12)


def test_arccos_kernel_values():
    assert H.arccos_kernel(1.0) == pytest.approx(1.0, abs=1e-15)
    assert H.arccos_kernel(0.0) == pytest.approx(1.0 / math.pi, abs=1e-15)
    assert H.arccos_kernel(-1.0) == pytest.approx(0.0, abs=1e-15)
    assert np.all(np.diff(H.arccos_kernel(C_GRID)) > 0)


def test_numeric_correlation_map_of_a_relu_equals_arccos_kernel():
    # leaky ReLU with slope 0 is ReLU, but it takes the numerical path (no closed form for its name)
    relu_numeric = get_activation("leaky_relu", slope=0.0)
    got = H.correlation_map(C_GRID, 2.0, 0.0, relu_numeric, q=1.0)
    np.testing.assert_allclose(got, H.arccos_kernel(C_GRID), atol=1e-12)
    np.testing.assert_allclose(H.correlation_map(C_GRID, 2.0, 0.0, "relu", q=1.0), H.arccos_kernel(C_GRID),
                               atol=1e-14)


# -- the length map and q* ---------------------------------------------------------------------------
def test_q_star_is_a_fixed_point_of_theory_length_map():
    for sw in (0.7, 1.5, 2.5, 4.0):
        for sb in (0.0, 0.05, 0.3):
            q = H.q_star(sw, sb, "tanh")
            assert theory.length_map(q, sw, "tanh", sigma_b2=sb) == pytest.approx(q, abs=1e-10), (sw, sb)


def test_q_star_vectorized_equals_scalar_and_iteration_limit():
    sw, sb = np.array([0.9, 2.0, 3.0]), np.array([0.02, 0.1, 0.2])
    vec = H.q_star(sw, sb, "tanh")
    assert vec.shape == (3,)
    np.testing.assert_allclose(vec, [H.q_star(a, b, "tanh") for a, b in zip(sw, sb)], rtol=1e-12)
    q = 1.0
    for _ in range(300):
        q = theory.length_map(q, 2.0, "tanh", sigma_b2=0.1)
    assert vec[1] == pytest.approx(q, rel=1e-10)


def test_q_star_closed_forms_and_special_points():
    assert H.q_star(1.5, 0.1, "relu") == pytest.approx(0.1 / (1 - 0.75), rel=1e-14)
    assert H.q_star(2.0, 0.0, "relu", q0=3.7) == 3.7  # He: every variance is a fixed point
    assert H.q_star(2.0, 0.1, "relu") == math.inf  # grows linearly
    assert H.q_star(2.5, 0.0, "relu") == math.inf
    assert H.q_star(0.8, 0.0, "tanh") < 1e-10  # ordered, no bias: the signal dies out
    assert H.q_star(1.0, 0.0, "tanh") < 1e-9  # critical, q -> 0 like 1 / (2 l)
    assert H.q_star(1.0, 0.0, "selu") == pytest.approx(1.0, abs=1e-10)  # self-normalizing fixed point


def test_length_map_slope_against_finite_difference_and_second_derivative_form():
    q, sw, h = 0.7, 1.3, 1e-5
    fd = (theory.length_map(q + h, sw, "tanh") - theory.length_map(q - h, sw, "tanh")) / (2 * h)
    assert H.length_map_slope(q, sw, "tanh") == pytest.approx(fd, rel=1e-8)
    t = np.tanh
    form = sw * H.gaussian_expectation(lambda u: (1 - t(u) ** 2) ** 2 - 2 * t(u) ** 2 * (1 - t(u) ** 2), q)
    assert H.length_map_slope(q, sw, "tanh") == pytest.approx(form, rel=1e-12)
    assert H.length_map_slope(1.0, 3.0, "relu") == pytest.approx(1.5, rel=1e-15)
    assert H.length_map_slope(0.0, 0.9, "tanh") == pytest.approx(0.9, rel=1e-12)  # limit q -> 0


# -- chi_1, the correlation map and its fixed point --------------------------------------------------
def test_chi1_closed_form_and_slope_of_correlation_map():
    assert H.chi1(1.6, 0.3, "relu") == pytest.approx(0.8, rel=1e-15)
    for sw, sb in [(1.0, 0.05), (2.5, 0.1)]:
        eps = 1e-6
        slope = (1.0 - H.correlation_map(1.0 - eps, sw, sb, "tanh")) / eps
        assert slope == pytest.approx(H.chi1(sw, sb, "tanh"), rel=1e-4)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "selu"])
def test_chi_c_is_the_derivative_of_the_correlation_map(name):
    sw, sb, q, c, h = 2.0, 0.1, 0.8, 0.3, 1e-5
    fd = (H.correlation_map(c + h, sw, sb, name, q=q) - H.correlation_map(c - h, sw, sb, name, q=q)) / (2 * h)
    # d c' / d c = sigma_w2 E[phi' phi'] q / q' with q' the image of q; at q = q* the ratio is 1
    q_next = theory.length_map(q, sw, name, sigma_b2=sb)
    assert H.chi_c(c, sw, sb, name, q=q) * q / q_next == pytest.approx(fd, rel=1e-7)


def test_phases_and_c_star():
    assert H.phase(1.0, 0.05) == "ordered" and H.c_star(1.0, 0.05) == 1.0
    assert H.phase(4.0, 0.05) == "chaotic"
    assert H.phase(2.0, 0.0, "relu") == "critical"
    assert H.phase(2.5, 0.1, "relu") == "unbounded"
    assert H.c_star(2.0, 0.0, "tanh") == pytest.approx(0.0, abs=1e-12)  # odd phi, no bias
    cs = H.c_star(3.0, 0.05, "tanh")
    assert 0.0 < cs < 1.0
    assert H.correlation_map(cs, 3.0, 0.05) == pytest.approx(cs, abs=1e-10)
    assert H.chi_c(cs, 3.0, 0.05) < 1.0  # stable


def test_depth_scales():
    xi_q, xi_c = H.depth_scales(1.2, 0.05)
    assert xi_c == pytest.approx(-1.0 / math.log(H.chi1(1.2, 0.05)), rel=1e-12)
    assert xi_q == pytest.approx(-1.0 / math.log(H.length_map_slope(H.q_star(1.2, 0.05), 1.2)), rel=1e-12)
    assert H.depth_scales(2.0, 0.0, "relu") == (math.inf, math.inf)
    assert all(math.isnan(v) for v in H.depth_scales(3.0, 0.0, "relu"))
    # xi_c grows towards the critical line from both sides
    crit = float(H.critical_sigma_w2(0.05))
    near = [H.depth_scales(crit + d, 0.05)[1] for d in (-0.3, -0.05, 0.05, 0.3)]
    assert near[1] > near[0] and near[2] > near[3] and min(near[1], near[2]) > 20


# -- the critical line -------------------------------------------------------------------------------
def test_critical_line_has_chi1_one_and_consistent_q_star():
    q = np.array([0.01, 0.1, 0.5, 2.0])
    sw, sb = H.critical_line("tanh", q)
    assert len(sw) == 4 and np.all(sb >= 0)
    np.testing.assert_allclose(H.chi1(sw, sb, "tanh"), 1.0, atol=1e-9)
    np.testing.assert_allclose(H.q_star(sw, sb, "tanh"), q, rtol=1e-8)
    np.testing.assert_allclose(H.critical_sigma_w2(sb, "tanh"), sw, rtol=1e-8)
    rw, rb = H.critical_line("relu")
    assert np.all(rw == 2.0) and np.all(rb == 0.0)


def test_critical_sigma_w2_special_values():
    assert H.critical_sigma_w2(0.0, "tanh") == pytest.approx(1.0, abs=1e-12)  # LeCun
    assert H.critical_sigma_w2(0.0, "relu") == 2.0  # He
    assert math.isnan(H.critical_sigma_w2(0.1, "relu"))
    # the value read off Schoenholz et al. (2016) for sigma_b2 = 0.05 is about 1.76
    assert H.critical_sigma_w2(0.05, "tanh") == pytest.approx(1.76, abs=0.01)
    sb = np.array([0.02, 0.2])
    np.testing.assert_allclose(H.chi1(H.critical_sigma_w2(sb, "selu"), sb, "selu"), 1.0, atol=1e-8)


def test_phase_diagram_grid():
    pd = H.phase_diagram("tanh", np.linspace(0.5, 4.0, 15), np.linspace(0.0, 0.3, 7))
    assert pd.chi1.shape == (7, 15) and np.all(np.isfinite(pd.chi1))
    for row, sb in enumerate(pd.sigma_b2):
        crit = H.critical_sigma_w2(sb)
        assert np.all(pd.chi1[row, pd.sigma_w2 < crit - 1e-6] < 1.0)
        assert np.all(pd.chi1[row, pd.sigma_w2 > crit + 1e-6] > 1.0)
    relu_pd = H.phase_diagram("relu", [1.0, 2.0, 3.0], [0.0, 0.1])
    assert np.isnan(relu_pd.chi1[1, 1]) and relu_pd.chi1[0, 1] == 1.0 and relu_pd.chi1[1, 0] == 0.5


# -- pairs of inputs and finite networks -------------------------------------------------------------
def test_predicted_pair_matches_theory_and_arccos_iteration():
    p = H.predicted_pair(12, 2.0, 0.0, "relu", input_second_moments=(1.0, 2.0), input_correlation=0.4)
    np.testing.assert_allclose(p.q_a, theory.predicted_variances(12, 2.0, "relu"), rtol=1e-14)
    np.testing.assert_allclose(p.q_b, 2.0 * p.q_a, rtol=1e-14)
    c = 0.4
    for layer in range(12):
        assert p.c[layer] == pytest.approx(c, abs=1e-14)
        c = H.arccos_kernel(c)
    t = H.predicted_pair(10, 1.5, 0.1, "tanh", input_correlation=1.0)
    np.testing.assert_allclose(t.c, 1.0, atol=1e-12)
    np.testing.assert_allclose(t.q_a, theory.predicted_variances(10, 1.5, "tanh", sigma_b2=0.1), rtol=1e-14)


# -- validation --------------------------------------------------------------------------------------
def test_bad_inputs_raise_with_names():
    with pytest.raises(ValueError, match="sigma_w2"):
        H.q_star(-1.0, 0.0)
    with pytest.raises(ValueError, match="sigma_b2"):
        H.chi1(1.0, float("nan"))
    with pytest.raises(ValueError, match="correlation"):
        H.correlation_map(1.5, 1.0, 0.0)
    with pytest.raises(ValueError, match="activation"):
        H.chi1(1.0, 0.0, "swish")
    with pytest.raises(TypeError, match="f must be a function"):
        H.gaussian_expectation(3.0, 1.0)
    with pytest.raises(TypeError, match="q"):
        H.gaussian_expectation(np.tanh, "big")
    with pytest.raises(ValueError, match="depth"):
        H.predicted_pair(0, 1.0)
    with pytest.raises(ValueError, match="no finite fixed point"):
        H.correlation_map(0.5, 3.0, 0.0, "relu")


def test_relu_chi1_is_half_sigma_w2_with_a_bias_too():
    # phi'(u)^2 is 0 or 1 with probability 1/2 whatever q is, so chi_1 needs no finite q*
    assert H.chi1(2.0, 0.1, "relu") == 1.0
    assert H.chi1(3.0, 0.2, "leaky_relu") == pytest.approx(3.0 * (1 + 0.01**2) / 2, rel=1e-15)
    np.testing.assert_allclose(H.chi1(np.array([1.0, 2.0, 2.5]), 0.1, "relu"), [0.5, 1.0, 1.25])
    assert H.phase(2.0, 0.1, "relu") == "unbounded" and H.phase(2.0, 0.0, "relu") == "critical"
