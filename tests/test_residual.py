"""Tests for helpers.residual: residual MLPs, their variance bookkeeping and Fixup (Zhang et al. 2019)."""

import math

import numpy as np
import pytest

from helpers import residual as R


def test_fixup_scale_formula():
    assert R.fixup_scale(16, 2) == pytest.approx(0.25, rel=1e-15)
    assert R.fixup_scale(16, 3) == pytest.approx(0.5, rel=1e-15)
    assert R.fixup_scale(1, 2) == 1.0
    with pytest.raises(ValueError, match="branch_depth"):
        R.fixup_scale(4, 1)


@pytest.mark.parametrize("blocks", [1, 4, 10])
def test_predicted_relu_variances_have_closed_forms(blocks):
    k = np.arange(blocks + 1)
    np.testing.assert_allclose(R.predicted_block_variances(blocks), 2.0**k, rtol=1e-12)
    np.testing.assert_allclose(R.predicted_block_variances(blocks, remedy="zero_last"), 1.0, rtol=0)
    np.testing.assert_allclose(R.predicted_block_variances(blocks, remedy="fixup"), 1.0, rtol=0)
    np.testing.assert_allclose(R.predicted_block_variances(blocks, remedy="fixup_scale"), (1 + 1 / blocks) ** k,
                               rtol=1e-12)
    np.testing.assert_allclose(R.predicted_block_variances(blocks, branch_depth=3, remedy="fixup_scale"),
                               (1 + 1 / blocks) ** k, rtol=1e-12)


def test_fixup_scale_alone_stays_below_e():
    assert R.predicted_block_variances(1000, remedy="fixup_scale")[-1] < math.e


@pytest.mark.parametrize("remedy", R.REMEDIES)
def test_branch_sigma_w2_is_what_the_builder_draws(remedy):
    """The remedy's per-layer sigma_w2 = width * Var[W], against the weights build_residual_mlp draws (5% at
    width 256: the sample variance of 65536 entries has a relative standard error of 0.6%)."""
    width, blocks = 256, 4
    sigmas = R.branch_sigma_w2(blocks, branch_depth=3, remedy=remedy, activation="tanh")
    net = R.build_residual_mlp(width, blocks, np.random.default_rng(5), branch_depth=3, activation="tanh",
                               remedy=remedy)
    for j, sigma_w2 in enumerate(sigmas):
        drawn = width * float(np.mean(np.square(net.weights[1][j])))
        assert drawn == pytest.approx(sigma_w2, rel=0.05, abs=0.0), (j, drawn, sigma_w2)
    assert sigmas[-1] == (0.0 if remedy in ("zero_last", "fixup") else (5 / 3) ** 2)


@pytest.mark.parametrize("activation, remedy", [("tanh", "none"), ("selu", "fixup_scale")])
def test_predicted_block_variances_match_a_wide_network(activation, remedy):
    """The theory's recursion (Gaussian branch inputs at infinite width) against one network of width 512:
    measured within 3% (the spread over seeds is about 0.5%)."""
    x = np.random.default_rng(0).standard_normal((256, 512))
    net = R.build_residual_mlp(512, 6, np.random.default_rng(1), activation=activation, remedy=remedy)
    measured = R.block_variances(net, x)
    predicted = R.predicted_block_variances(6, activation=activation, remedy=remedy, input_variance=measured[0])
    np.testing.assert_allclose(measured, predicted, rtol=0.03)


def test_measured_variance_doubles_per_block():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 512))
    v = R.block_variances(R.build_residual_mlp(512, 6, np.random.default_rng(1)), x)
    ratios = v[1:] / v[:-1]
    assert np.all(np.abs(ratios - 2.0) < 0.2), ratios  # each block: 2 within 10% at width 512


def test_zero_last_blocks_are_the_identity():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 32))
    for remedy in ("zero_last", "fixup"):
        out, _ = R.residual_forward(R.build_residual_mlp(32, 5, np.random.default_rng(3), remedy=remedy), x)
        np.testing.assert_array_equal(out, x)


def test_remedies_share_the_draw():
    a = R.build_residual_mlp(16, 3, np.random.default_rng(4), remedy="none")
    b = R.build_residual_mlp(16, 3, np.random.default_rng(4), remedy="fixup_scale")
    np.testing.assert_allclose(b.weights[2][0], a.weights[2][0] * R.fixup_scale(3, 2), rtol=1e-15)
    np.testing.assert_array_equal(b.weights[2][1], a.weights[2][1])


@pytest.mark.parametrize("activation", ["tanh", "relu", "selu"])
@pytest.mark.parametrize("branch_depth", [1, 3])
def test_backward_matches_finite_differences(activation, branch_depth):
    rng = np.random.default_rng(5)
    net = R.build_residual_mlp(6, 3, rng, branch_depth=branch_depth, activation=activation)
    x = rng.standard_normal((4, 6))
    g = rng.standard_normal((4, 6))

    def loss(n, xx):
        return float(np.sum(R.residual_forward(n, xx)[0] * g))

    out, cache = R.residual_forward(net, x)
    dw, dx = R.residual_backward(net, cache, g)
    eps = 1e-6
    for k, j, a, b in [(0, 0, 1, 2), (1, branch_depth - 1, 3, 0), (2, 0, 5, 5)]:
        net.weights[k][j][a, b] += eps
        up = loss(net, x)
        net.weights[k][j][a, b] -= 2 * eps
        down = loss(net, x)
        net.weights[k][j][a, b] += eps
        assert dw[k][j][a, b] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8)
    xp = x.copy()
    xp[1, 2] += eps
    xm = x.copy()
    xm[1, 2] -= eps
    assert dx[0][1, 2] == pytest.approx((loss(net, xp) - loss(net, xm)) / (2 * eps), rel=1e-5, abs=1e-8)


def test_gradient_variance_doubles_backward_too():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((512, 512))
    g = R.gradient_rms(R.build_residual_mlp(512, 4, np.random.default_rng(7)), x, np.random.default_rng(8))
    assert (g[0] / g[-1]) ** 2 == pytest.approx(2.0**4, rel=0.25)
    g0 = R.gradient_rms(R.build_residual_mlp(512, 4, np.random.default_rng(7), remedy="zero_last"), x,
                        np.random.default_rng(8))
    np.testing.assert_allclose(g0, g0[-1], rtol=1e-12)


def test_fixup_keeps_the_first_step_independent_of_depth():
    rng = np.random.default_rng(9)
    x, t = rng.standard_normal((128, 32)), rng.standard_normal((128, 32))

    def change(remedy, blocks):
        return R.sgd_output_change(R.build_residual_mlp(32, blocks, np.random.default_rng(10), remedy=remedy),
                                   x, t, 0.01)

    assert change("zero_last", 32) / change("zero_last", 2) > 8.0  # grows like L
    assert change("fixup", 32) / change("fixup", 2) < 2.0  # Fixup: O(1)


def test_validation():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="remedy"):
        R.build_residual_mlp(8, 2, rng, remedy="skipinit")
    with pytest.raises(ValueError, match="blocks"):
        R.build_residual_mlp(8, 0, rng)
    net = R.build_residual_mlp(8, 2, rng)
    with pytest.raises(ValueError, match="columns"):
        R.residual_forward(net, np.zeros((3, 7)))
    with pytest.raises(TypeError, match="ResidualMLP"):
        R.residual_forward([], np.zeros((3, 8)))
    with pytest.raises(ValueError, match="lr"):
        R.sgd_output_change(net, np.zeros((3, 8)), np.zeros((3, 8)), -1.0)
    with pytest.raises(ValueError, match="target"):
        R.sgd_output_change(net, np.zeros((3, 8)), np.zeros((3, 7)), 0.1)
