"""Theory: Gaussian expectations and the length map against closed forms, an independent quadrature
and Monte Carlo simulation of wide random networks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers as H

ACTIVATIONS = ["identity", "sigmoid", "tanh", "softsign", "relu", "leaky_relu", "selu"]
VARIANCES = [1e-6, 0.01, 0.5, 1.0, 4.0, 100.0]


@pytest.mark.parametrize("v", VARIANCES)
def test_gaussian_expectation_closed_forms(v):
    E = H.gaussian_expectation
    assert E(lambda z: z**2, v) == pytest.approx(v, rel=1e-12)
    assert E(lambda z: z**4, v) == pytest.approx(3 * v * v, rel=1e-12)
    assert E(np.abs, v) == pytest.approx(math.sqrt(2 * v / math.pi), rel=1e-12)
    assert E(lambda z: np.maximum(z, 0), v) == pytest.approx(math.sqrt(v / (2 * math.pi)), rel=1e-12)
    assert E(lambda z: 1 / (1 + np.exp(-z)), v) == pytest.approx(0.5, rel=1e-12)
    assert E(lambda z: z, v) == pytest.approx(0.0, abs=1e-12 * math.sqrt(v))
    if v <= 4:
        assert E(np.cos, v) == pytest.approx(math.exp(-v / 2), rel=1e-12)
        assert E(np.exp, v) == pytest.approx(math.exp(v / 2), rel=1e-12)


def test_gaussian_expectation_at_zero_variance():
    assert H.gaussian_expectation(np.cos, 0.0) == 1.0
    assert H.second_moment("tanh", 0.0) == 0.0


MEANS_VARIANCES = [(0.5, 2.25), (-1.0, 0.3), (3.0, 1.0), (-2.0, 4.0), (0.1, 1e-6), (20.0, 1.0), (-20.0, 1.0)]


@pytest.mark.parametrize("m, v", MEANS_VARIANCES)
def test_gaussian_expectation_at_a_mean_closed_forms(m, v):
    """Moments of N(m, v) and its characteristic function.

    E[z] = m, E[z^2] = m^2 + v, E[e^z] = e^(m + v/2), E[cos z] = cos(m) e^(-v/2)."""
    E = H.gaussian_expectation
    assert E(lambda z: z, v, mean=m) == pytest.approx(m, rel=1e-12)
    assert E(lambda z: z**2, v, mean=m) == pytest.approx(m * m + v, rel=1e-12)
    assert E(np.exp, v, mean=m) == pytest.approx(math.exp(m + v / 2), rel=1e-12)
    assert E(np.cos, v, mean=m) == pytest.approx(math.cos(m) * math.exp(-v / 2), rel=1e-10, abs=1e-14)


def _relu_moments(m, v):
    """Closed forms for z ~ N(m, v), s = sqrt(v): E[relu z] = m Phi(m/s) + s phi(m/s) and
    E[relu(z)^2] = (m^2 + v) Phi(m/s) + m s phi(m/s) (the moments of a rectified Gaussian)."""
    s = math.sqrt(v)
    cdf, pdf = 0.5 * math.erfc(-m / s / math.sqrt(2)), math.exp(-0.5 * (m / s) ** 2) / math.sqrt(2 * math.pi)
    mean = m * cdf + s * pdf
    return mean, (m * m + v) * cdf + m * s * pdf - mean**2


@pytest.mark.parametrize("m, v", MEANS_VARIANCES)
def test_gaussian_expectation_at_a_mean_is_kink_safe(m, v):
    """ReLU's kink sits at -m/s standard deviations, not at 0: the rule cuts there (an uncut rule errs by ~1e-5).

    The mass beyond the window of 12 standard deviations is left out (below 1e-31 of the scale: the
    absolute tolerance; at m = -20 the whole answer, 5.5e-88, is in it)."""
    expected = _relu_moments(m, v)[0]
    assert H.gaussian_expectation(lambda z: np.maximum(z, 0), v, mean=m) == pytest.approx(
        expected, rel=1e-12, abs=1e-31 * (abs(m) + math.sqrt(v)))


def test_gaussian_expectation_mean_broadcasts_and_is_exact_at_zero_variance():
    E = H.gaussian_expectation
    out = E(lambda z: z**2, np.array([1.0, 2.0]), mean=np.array([[0.0], [1.0]]))
    np.testing.assert_allclose(out, [[1.0, 2.0], [2.0, 3.0]], rtol=1e-12)
    assert E(np.cos, 0.0, mean=0.3) == math.cos(0.3)  # a point mass: exactly f(mean)
    mixed = E(np.cos, np.array([0.0, 1.0]), mean=0.3)
    assert mixed[0] == math.cos(0.3) and mixed[1] == pytest.approx(math.cos(0.3) * math.exp(-0.5), rel=1e-12)
    # the default mean is the zero-mean rule itself, and a tiny mean moves the answer continuously
    assert E(np.tanh, 1.5, mean=0.0) == E(np.tanh, 1.5)
    relu = lambda z: np.maximum(z, 0)
    assert E(relu, 2.0, mean=1e-9) == pytest.approx(E(relu, 2.0) + 0.5e-9, rel=1e-12)


@pytest.mark.parametrize("v", VARIANCES)
def test_second_moment_closed_forms(v):
    assert H.second_moment("identity", v) == v
    assert H.second_moment("relu", v) == pytest.approx(v / 2, rel=1e-15)
    assert H.second_moment(H.get_activation("leaky_relu", slope=0.2), v) == pytest.approx(v * 1.04 / 2, rel=1e-15)


def _trapezoid_reference(act, v):
    """An independent method: the trapezoid rule on a fine grid (exponentially accurate for smooth integrands)."""
    t = np.linspace(-40, 40, 400_001)
    w = np.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    return float(np.trapezoid(act.f(math.sqrt(v) * t) ** 2 * w, t))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softsign", "selu"])
@pytest.mark.parametrize("v", VARIANCES)
def test_second_moment_against_independent_quadrature(name, v):
    act = H.get_activation(name)
    assert H.second_moment(name, v) == pytest.approx(_trapezoid_reference(act, v), rel=1e-10)


def test_selu_fixed_point():
    """Klambauer et al. (2017) chose alpha and lambda so that N(0, 1) inputs give mean 0 and variance 1."""
    selu = H.get_activation("selu")
    assert H.gaussian_expectation(selu.f, 1.0) == pytest.approx(0.0, abs=1e-9)
    assert H.second_moment("selu", 1.0) == pytest.approx(1.0, abs=1e-9)


def test_moment_map_selu_fixed_point():
    """SELU maps N(0, 1) to mean 0 and variance 1 (Klambauer et al. 2017): (0, 1) is a fixed point of the map."""
    m, v = H.moment_map("selu", 0.0, 1.0)
    assert abs(m) < 1e-12 and abs(v - 1.0) < 1e-12
    # the random-weights form of the chapter, g(mu, nu) = moment_map(0, nu + mu^2), iterated from (1, 9):
    # attracting, the distance to (0, 1) shrinks by about 0.78 per layer
    mu, nu = 1.0, 9.0
    for _ in range(100):
        mu, nu = H.moment_map("selu", 0.0, nu + mu**2)
    assert abs(mu) < 1e-9 and abs(nu - 1.0) < 1e-9


@pytest.mark.parametrize("name, m, v, seed", [("selu", 0.5, 2.25, 9), ("tanh", 0.7, 1.5, 10), ("relu", -0.4, 0.8, 11)])
def test_moment_map_against_monte_carlo(name, m, v, seed):
    """Sample mean and variance of phi(z), z ~ N(m, v), from 2e6 seeded draws, within 5 standard errors."""
    f = H.get_activation(name).f(np.random.default_rng(seed).normal(m, math.sqrt(v), 2_000_000))
    se_mean = f.std() / math.sqrt(f.size)
    se_var = ((f - f.mean()) ** 2).std() / math.sqrt(f.size)
    mean, var = H.moment_map(name, m, v)
    assert abs(mean - f.mean()) < 5 * se_mean, (mean, f.mean(), se_mean)
    assert abs(var - f.var()) < 5 * se_var, (var, f.var(), se_var)


@pytest.mark.parametrize("m, v", MEANS_VARIANCES)
def test_moment_map_relu_closed_form(m, v):
    mean, var = H.moment_map("relu", m, v)
    expected_mean, expected_var = _relu_moments(m, v)
    window = 1e-31 * (abs(m) + math.sqrt(v))  # the mass left outside 12 standard deviations
    assert mean == pytest.approx(expected_mean, rel=1e-12, abs=window)
    assert var == pytest.approx(expected_var, rel=1e-10, abs=window)


def test_moment_map_linear_limits_and_zero_variance():
    assert H.moment_map("identity", -0.8, 2.5) == pytest.approx((-0.8, 2.5), rel=1e-12)
    # the kink 50 standard deviations below the mean: SELU is lambda * z on all the mass
    mean, var = H.moment_map("selu", 50.0, 1.0)
    assert mean == pytest.approx(50.0 * 1.0507009873554805, rel=1e-12)
    assert var == pytest.approx(1.0507009873554805**2, rel=1e-12)  # no cancellation of E[f^2] - mean^2
    assert H.moment_map("tanh", 0.5, 0.0) == (math.tanh(0.5), 0.0)
    assert H.moment_map("relu", -1.0, 0.0) == (0.0, 0.0)


def test_tanh_second_moment_quoted_in_the_gain_docstring():
    assert H.second_moment("tanh", 1.0) == pytest.approx(0.394, abs=5e-4)


def test_length_map():
    assert H.length_map(2.0, 3.0, "relu", sigma_b2=0.1) == pytest.approx(3.0 * 1.0 + 0.1)
    assert H.length_map(0.7, 1.5, "tanh", sigma_b2=0.2) == pytest.approx(1.5 * H.second_moment("tanh", 0.7) + 0.2)


def test_predicted_variances_closed_forms():
    np.testing.assert_allclose(H.predicted_variances(5, 2.0, "relu"), 2.0)            # He: constant
    np.testing.assert_allclose(H.predicted_variances(4, 1.5, "identity", input_second_moment=2.0),
                               2.0 * 1.5 ** np.arange(1, 5))                           # linear: geometric
    sb2 = 0.3  # identity with bias: q_l = s^l m0 + sb2 (1 + s + ... + s^(l-1))
    q = H.predicted_variances(6, 0.5, "linear", sigma_b2=sb2)
    expected = [0.5**l + sb2 * sum(0.5**k for k in range(l)) for l in range(1, 7)]
    np.testing.assert_allclose(q, expected, rtol=1e-14)
    assert H.predicted_variances(1, 3.0, "tanh").shape == (1,)


def test_predicted_variances_overflow_to_inf_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q = H.predicted_variances(1000, 10.0, "relu")
        q_selu = H.predicted_variances(1000, 10.0, "selu")
    assert np.isinf(q[-1]) and np.all(np.diff(q[np.isfinite(q)]) > 0)
    assert np.isinf(q_selu[-1])


def _ensemble(activation, depth, sigma_w2, sigma_b2, *, nets=8, width=800, batch=50, seed=0):
    """Measured q_l (mean square pre-activation over units and N(0, 1) inputs), one row per random network.

    Drawn in float32 for speed: rounding (1e-7) is far below the sampling error (1e-2).
    """
    rng = np.random.default_rng(seed)
    act = H.get_activation(activation)
    f32 = np.float32
    rows = []
    for _ in range(nets):
        h = rng.standard_normal((batch, width), dtype=f32)
        q = []
        for _ in range(depth):
            w = rng.standard_normal((width, width), dtype=f32) * f32(math.sqrt(sigma_w2 / width))
            b = rng.standard_normal(width, dtype=f32) * f32(math.sqrt(sigma_b2))
            z = h @ w.T + b
            q.append(float(np.mean(z * z, dtype=np.float64)))
            h = act.f(z)
        rows.append(q)
    return np.array(rows)


CASES = [("tanh", 1.5, 0.3), ("relu", 2.0, 0.0), ("leaky_relu", 1.2, 0.2), ("selu", 1.0, 0.0), ("sigmoid", 3.0, 0.1)]


@pytest.mark.parametrize("activation, sigma_w2, sigma_b2", CASES)
def test_predicted_variances_against_monte_carlo(activation, sigma_w2, sigma_b2):
    """q_l of 8 independent random 3-layer networks (width 800, 50 inputs each) against the length map.

    The networks are independent, so the standard error of their mean is their spread / sqrt(8);
    the prediction must lie within 5 standard errors at every layer. (The spread grows with depth:
    a single finite network fluctuates around the average, Hanin & Rolnick 2018.) The test also
    insists that 5 standard errors are under 12 % of the prediction, so that an error such as a
    dropped bias term or a missing ReLU factor of 1/2 cannot pass.
    """
    q = _ensemble(activation, 3, sigma_w2, sigma_b2)
    predicted = H.predicted_variances(3, sigma_w2, activation, sigma_b2=sigma_b2)
    mean, se = q.mean(axis=0), q.std(axis=0, ddof=1) / math.sqrt(len(q))
    assert np.all(5 * se < 0.12 * predicted), f"the test has too little power: se {se}"
    assert np.all(np.abs(mean - predicted) <= 5 * se), f"measured {mean}, predicted {predicted}, se {se}"


# -- property-based ----------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(ACTIVATIONS), v=st.floats(0.01, 20.0), seed=st.integers(0, 2**32 - 1))
def test_second_moment_against_monte_carlo(name, v, seed):
    act = H.get_activation(name)
    z = np.random.default_rng(seed).normal(0, math.sqrt(v), 200_000)
    sq = act.f(z) ** 2
    se = float(np.std(sq)) / math.sqrt(z.size)
    assert abs(H.second_moment(name, v) - float(np.mean(sq))) <= 5 * se + 1e-12


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(ACTIVATIONS), v1=st.floats(0.0, 50.0), v2=st.floats(0.0, 50.0))
def test_second_moment_is_monotone_and_bounded(name, v1, v2):
    lo, hi = sorted((v1, v2))
    m_lo, m_hi = H.second_moment(name, lo), H.second_moment(name, hi)
    assert m_lo <= m_hi * (1 + 1e-12) + 1e-300
    if name in ("tanh", "softsign"):
        assert m_hi <= min(hi, 1.0) * (1 + 1e-12)
    if name == "sigmoid":
        assert 0.25 * (1 - 1e-12) <= m_hi <= 0.5 * (1 + 1e-12)


@settings(max_examples=30, deadline=None)
@given(depth=st.integers(1, 30), sigma_w2=st.floats(0.1, 4.0), sigma_b2=st.floats(0.0, 1.0),
       name=st.sampled_from(ACTIVATIONS), m0=st.floats(0.0, 5.0))
def test_predicted_variances_follow_the_length_map(depth, sigma_w2, sigma_b2, name, m0):
    q = H.predicted_variances(depth, sigma_w2, name, input_second_moment=m0, sigma_b2=sigma_b2)
    assert q.shape == (depth,) and np.all(q >= 0)
    assert q[0] == pytest.approx(sigma_w2 * m0 + sigma_b2)
    for l in range(1, depth):
        if np.isfinite(q[l - 1]):
            assert q[l] == pytest.approx(H.length_map(q[l - 1], sigma_w2, name, sigma_b2=sigma_b2), rel=1e-12)


# -- predicted_profile for (leaky) ReLU: the recursions of He et al. (2015) --


def test_predicted_profile_he_is_flat_and_xavier_halves():
    widths = [64] * 11
    he = H.predicted_profile(widths, [2 / 64] * 10, "relu", activate_output=True)
    assert np.allclose(he.preactivation, 2.0) and np.allclose(he.activation, 1.0)
    assert np.allclose(he.gradient, 0.5)      # activated output: Var[delta^(L)] = 1/2 of a unit gradient
    xavier = H.predicted_profile(widths, [1 / 64] * 10, "relu", activate_output=True)
    assert np.allclose(xavier.activation, 0.5 ** np.arange(1, 11))
    assert np.allclose(xavier.gradient[:-1] / xavier.gradient[1:], 0.5)


def test_predicted_profile_telescopes_to_a_width_ratio():
    widths = [30, 50, 400, 20, 100, 70]
    fan_in = H.predicted_profile(widths, [2 / n for n in widths[:-1]], "relu", activate_output=True)
    fan_out = H.predicted_profile(widths, [2 / n for n in widths[1:]], "relu", activate_output=True)
    n1, nL = widths[1], widths[-1]
    assert fan_in.gradient[0] / fan_in.gradient[-1] == pytest.approx(nL / n1, rel=1e-12)
    assert fan_out.preactivation[-1] / fan_out.preactivation[0] == pytest.approx(n1 / nL, rel=1e-12)
    assert np.allclose(fan_out.gradient, fan_out.gradient[0])


def test_predicted_profile_leaky_and_linear_output():
    a = 0.5
    s = H.predicted_profile([10, 10, 10], [2 / (1.25 * 10)] * 2, H.get_activation("leaky_relu", a))
    assert s.activation[0] == pytest.approx(1.0)
    assert s.activation[1] == pytest.approx(s.preactivation[1])   # linear last layer: h = z
    assert s.gradient[-1] == 1.0
    assert s.gradient[0] == pytest.approx((1 + a * a) / 2 * 10 * 2 / (1.25 * 10))


def test_predicted_profile_matches_simulation():
    """Wide layers (512), 6 layers, widths changing: every layer within 15 % of the prediction."""
    rng = np.random.default_rng(0)
    widths = [256, 512, 256, 512, 256, 512, 256]
    var_w = [H.weight_variance("kaiming_normal", (o, i), mode="fan_out") for i, o in zip(widths[:-1], widths[1:])]
    pred = H.predicted_profile(widths, var_w, "relu", activate_output=True)
    fwd, bwd = [], []
    for _ in range(4):
        net = H.build_mlp(widths, rng, init="kaiming_normal", init_kwargs={"mode": "fan_out"}, activate_output=True)
        _, cache = H.forward(net, rng.standard_normal((256, widths[0])))
        grads = H.backward(net, cache, rng.standard_normal(cache.post[-1].shape))
        fwd.append([np.mean(z**2) for z in cache.pre])
        bwd.append([np.mean(d**2) for d in grads.d_pre])
    assert np.allclose(np.mean(fwd, axis=0), pred.preactivation, rtol=0.15)
    assert np.allclose(np.mean(bwd, axis=0), pred.gradient, rtol=0.15)


# -- the residual stream of a residual MLP -------------------------------------------------------

@pytest.mark.parametrize("a", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("depth", [1, 3])
def test_predicted_residual_variances_identity_closed_form(a, depth):
    """Identity branches with sigma_w2 = a per layer scale the variance by a^m, so Var[x_k] = (1 + a^m)^k Var[x_0]."""
    k = np.arange(9)
    got = H.predicted_residual_variances(8, [a] * depth, "identity", input_variance=1.7)
    np.testing.assert_allclose(got, 1.7 * (1 + a**depth) ** k, rtol=1e-13)


def test_predicted_residual_variances_follow_the_length_map():
    q = 0.6
    branch = H.length_map(H.length_map(q, 1.3, "tanh"), 0.7, "tanh")
    assert H.predicted_residual_variances(1, [1.3, 0.7], "tanh", input_variance=q)[1] == pytest.approx(q + branch,
                                                                                                      rel=1e-15)
    # He for ReLU: each branch adds the stream's variance, 2^k
    np.testing.assert_allclose(H.predicted_residual_variances(5, [2.0, 2.0], "relu"), 2.0 ** np.arange(6), rtol=1e-15)


def test_predicted_residual_variances_zero_layers():
    """A zero last layer silences the branch; a zero first layer does not for the sigmoid, whose phi(0) = 1/2
    feeds E[phi^2] = 1/4 to the next layer: Var grows by sigma_w2 / 4 per block."""
    np.testing.assert_array_equal(H.predicted_residual_variances(4, [2.0, 0.0], "relu", input_variance=3.0), 3.0)
    np.testing.assert_allclose(H.predicted_residual_variances(4, [0.0, 2.0], "sigmoid"), 1 + 0.5 * np.arange(5),
                               rtol=1e-15)


def test_predicted_residual_variances_overflow_to_inf_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q = H.predicted_residual_variances(2000, [2.0, 2.0], "relu")
    assert np.isinf(q[-1]) and np.isfinite(q[1000]) and q[1000] == 2.0**1000
