"""Tests for helpers.theory.fluctuations (finite-width moments against closed forms and simulation)
and helpers.finite_width (the ensemble sampler against explicit weight matrices, curve summaries).

Every random test is seeded; Monte Carlo tolerances are stated next to each assertion and are
several standard errors wide.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import helpers as H
from helpers import finite_width as fw
from helpers.theory import fluctuations

EULER_GAMMA = 0.5772156649015329


# --------------------------------------------------------------------------------------------
# finite width: closed forms


def test_norm_factor_variance_closed_forms():
    assert H.norm_factor_variance(10) == pytest.approx(0.5)            # ReLU: 5/n
    assert H.norm_factor_variance(10, slope=1.0) == pytest.approx(0.2)  # linear: chi-square, 2/n


@pytest.mark.parametrize("slope", [0.0, 0.3, 1.0])
def test_norm_factor_variance_monte_carlo(slope):
    """200,000 factors of width 8: the relative variance agrees within 3 % (about 4 standard errors)."""
    width, rng = 8, np.random.default_rng(2)
    g = rng.standard_normal((200_000, width))
    phi2 = np.where(g > 0, g, slope * g) ** 2
    factor = 2 / (1 + slope**2) * phi2.mean(axis=1)
    assert factor.mean() == pytest.approx(1.0, abs=0.01)
    assert factor.var() == pytest.approx(H.norm_factor_variance(width, slope), rel=0.03)


def test_predicted_norm_moments_against_simulation():
    """Width 20, depth 5, 40,000 networks: mean within 2 %, second moment within 6 %."""
    widths = [20] * 6
    mean, second = H.predicted_norm_moments(widths)
    assert np.allclose(mean, 1.0)
    assert second[-1] == pytest.approx(1.25**5, rel=1e-12)
    m = fw.squared_norm_ensemble(widths, 40_000, np.random.default_rng(3))
    assert m[:, -1].mean() == pytest.approx(1.0, rel=0.02)
    assert np.mean(m[:, -1] ** 2) == pytest.approx(second[-1], rel=0.06)


def test_predicted_norm_moments_other_sigma_w2():
    mean, second = H.predicted_norm_moments([10, 10, 10], sigma_w2=1.0)
    assert np.allclose(mean, [1.0, 0.5, 0.25])
    assert second[1] == pytest.approx(0.25 * 1.5)


def test_digamma_at_half_integers():
    psi = fluctuations._digamma_half_integers(6)
    expected = [-EULER_GAMMA - 2 * math.log(2), -EULER_GAMMA, 2 - EULER_GAMMA - 2 * math.log(2), 1 - EULER_GAMMA,
                2 + 2 / 3 - EULER_GAMMA - 2 * math.log(2), 1.5 - EULER_GAMMA]
    assert np.allclose(psi, expected, rtol=1e-12)


def test_relu_log_norm_mean_against_simulation():
    """E[log M_L | alive] for width 6, depth 8: 50,000 networks give it to within 0.03 (about 4 SE)."""
    widths = [6] * 9
    predicted = H.relu_log_norm_mean(widths)
    m = fw.squared_norm_ensemble(widths, 50_000, np.random.default_rng(4))
    for layer in (1, 4, 8):
        alive = m[:, layer] > 0
        assert np.mean(np.log(m[alive, layer])) == pytest.approx(predicted[layer], abs=0.03)
    assert predicted[0] == 0.0 and np.all(np.diff(predicted) < 0)


def test_relu_log_norm_mean_is_negative_but_approaches_zero_with_width():
    narrow, wide = H.relu_log_norm_mean([10] * 51), H.relu_log_norm_mean([1000] * 51)
    assert narrow[-1] < wide[-1] < 0
    assert wide[-1] == pytest.approx(-50 * 2.5 / 1000, rel=0.05)   # about -c/(2n) per layer for wide layers


def test_relu_survival_against_simulation():
    """Width 3, depth 5: P(alive) = (7/8)^5; 40,000 networks give it within 0.01 (about 4 SE)."""
    widths = [3] * 6
    assert H.relu_survival(widths)[-1] == pytest.approx((7 / 8) ** 5, rel=1e-12)
    m = fw.squared_norm_ensemble(widths, 40_000, np.random.default_rng(5))
    assert np.mean(m[:, -1] > 0) == pytest.approx((7 / 8) ** 5, abs=0.01)


# --------------------------------------------------------------------------------------------
# the ensemble sampler


def _ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    grid = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(np.sort(a), grid, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


@pytest.mark.parametrize("slope", [0.0, 0.5])
def test_projection_matches_explicit_matrices(slope):
    """Two samples of 3000 networks (width 8, depth 6): Kolmogorov-Smirnov distance below 0.05,
    the 0.1 % critical value being about 0.05."""
    widths = [8] * 7
    proj = fw.squared_norm_ensemble(widths, 3000, np.random.default_rng(6), slope=slope, method="projection")
    mats = fw.squared_norm_ensemble(widths, 3000, np.random.default_rng(7), slope=slope, method="matrices", chunk=512)
    for layer in (1, 3, 6):
        assert _ks_statistic(proj[:, layer], mats[:, layer]) < 0.05


def test_ensemble_shape_first_column_and_determinism():
    m = fw.squared_norm_ensemble([5, 7, 9], 11, np.random.default_rng(8))
    assert m.shape == (11, 3) and np.all(m[:, 0] == 1.0) and np.all(m >= 0)
    again = fw.squared_norm_ensemble([5, 7, 9], 11, np.random.default_rng(8))
    assert np.array_equal(m, again)


def test_uniform_weights_keep_the_mean():
    """Uniform weights with He's variance: the mean of M_3 is 1 within 4 % (10,000 networks of width 16;
    the standard deviation of M_3 is about 1.1, so the standard error is 0.011)."""
    m = fw.squared_norm_ensemble([16] * 4, 10_000, np.random.default_rng(9), distribution="uniform")
    assert m[:, -1].mean() == pytest.approx(1.0, rel=0.04)


def test_ensemble_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="projection"):
        fw.squared_norm_ensemble([4, 4], 3, rng, distribution="uniform", method="projection")
    with pytest.raises(ValueError, match="method"):
        fw.squared_norm_ensemble([4, 4], 3, rng, method="exact")
    with pytest.raises(ValueError, match="distribution"):
        fw.squared_norm_ensemble([4, 4], 3, rng, distribution="laplace")
    with pytest.raises(ValueError, match="networks"):
        fw.squared_norm_ensemble([4, 4], 0, rng)
    with pytest.raises(TypeError, match="rng"):
        fw.squared_norm_ensemble([4, 4], 3, 0)
    with pytest.raises(ValueError, match="widths"):
        fw.squared_norm_ensemble([4], 3, rng)
    with pytest.raises(ValueError, match="sigma_w2"):
        fw.squared_norm_ensemble([4, 4], 3, rng, sigma_w2=0.0)


# --------------------------------------------------------------------------------------------
# running_mean and steps_to_threshold


def test_running_mean():
    out = H.running_mean(np.array([[1.0, 2.0, 3.0, 4.0]]), 2)
    assert np.allclose(out, [[1.0, 1.5, 2.5, 3.5]])
    with pytest.raises(ValueError, match="window"):
        H.running_mean(np.ones((1, 3)), 0)


def test_steps_to_threshold():
    curves = np.array([[3.0, 2.0, 1.0, 0.5, 0.5], [3.0, 3.0, 3.0, 3.0, 3.0], [0.1, np.nan, np.nan, np.nan, np.nan]])
    first = H.steps_to_threshold(curves, 1.5, window=1)
    assert first[0] == 2 and np.isnan(first[1]) and first[2] == 0
    smoothed = H.steps_to_threshold(curves[:1], 1.5, window=2)
    assert smoothed[0] == 3                       # running means 3, 2.5, 1.5, 0.75, 0.5
    with pytest.raises(ValueError, match="curves"):
        H.steps_to_threshold(np.ones(3), 1.0)
