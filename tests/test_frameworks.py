"""Tests for helpers.frameworks: the re-implemented framework defaults and recipes."""

import math

import numpy as np
import pytest

import helpers as H
from helpers import frameworks as F
from helpers import lsuv as LS
from helpers import propagation as P

SHAPES = [(256, 512), (512, 256), (64, 32, 3, 3), (16, 8, 5)]


def test_truncation_constant_matches_formula():
    assert F.TRUNCATED_NORMAL_STD_2 == pytest.approx(H.truncated_normal_std_factor(2.0), abs=1e-15)
    assert math.sqrt(F.trunc_normal_variance(a=-2.0, b=2.0)) == pytest.approx(F.TRUNCATED_NORMAL_STD_2, abs=1e-14)


@pytest.mark.parametrize("framework", F.FRAMEWORKS)
@pytest.mark.parametrize("shape", [(400, 600), (96, 64, 3, 3)])
def test_default_variances_match_draws(framework, shape):
    w, b = F.default_init(framework, shape, np.random.default_rng(0))
    var_w, var_b = F.default_variances(framework, shape)
    assert w.shape == shape and b.shape == (shape[0],)
    # relative standard error of a sample variance of n >= 2e5 draws is below 0.5%
    assert np.var(w) == pytest.approx(var_w, rel=0.02)
    if var_b == 0.0:
        assert np.all(b == 0.0)
    else:
        assert np.all(np.abs(b) <= math.sqrt(3.0 * var_b))


def test_pytorch_default_is_glorot_standard_bound():
    shape = (300, 200)
    fan_in = 200
    w, b = F.default_init("pytorch", shape, np.random.default_rng(1))
    bound = 1.0 / math.sqrt(fan_in)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound
    assert F.default_variances("pytorch", shape)[0] == pytest.approx(1.0 / (3 * fan_in), rel=1e-12)


def test_flax_default_is_truncated_at_two_point_two_seven_std():
    shape = (500, 400)
    w, _ = F.default_init("flax", shape, np.random.default_rng(2))
    std = math.sqrt(1.0 / 400)
    assert np.abs(w).max() <= 2.0 * std / F.TRUNCATED_NORMAL_STD_2 + 1e-15
    assert np.abs(w).max() > 2.2 * std


@pytest.mark.parametrize("framework", F.FRAMEWORKS)
@pytest.mark.parametrize("shape", SHAPES)
def test_native_layout_gives_the_same_fans(framework, shape):
    native = F.native_shape(framework, shape)
    assert F.to_native(framework, np.zeros(shape)).shape == native
    assert F.native_fans(framework, native) == H.fan_in_and_fan_out(shape)


def test_native_shape_of_keras_conv():
    assert F.native_shape("keras", (64, 32, 3, 5)) == (3, 5, 32, 64)
    assert F.native_shape("flax", (10, 20)) == (20, 10)


@pytest.mark.parametrize("key", sorted(F.RECIPES))
def test_every_recipe_has_its_stated_variance(key):
    r = F.RECIPES[key]
    for shape in [(300, 500), (48, 32, 3, 3)]:
        w = r.init(shape, np.random.default_rng(3))
        assert w.shape == shape
        assert np.var(w) == pytest.approx(r.variance(shape), rel=0.03), (key, shape)


def test_variance_scaling_modes():
    shape = (100, 300)
    assert F.variance_scaling_variance(shape, scale=2.0, mode="fan_in") == pytest.approx(2 / 300)
    assert F.variance_scaling_variance(shape, mode="fan_out") == pytest.approx(1 / 100)
    assert F.variance_scaling_variance(shape, mode="fan_avg") == pytest.approx(2 / 400)
    u = F.variance_scaling(shape, np.random.default_rng(4), mode="fan_avg", distribution="uniform")
    assert np.abs(u).max() <= math.sqrt(6 / 400)


def test_torch_trunc_normal_uses_absolute_bounds():
    rng = np.random.default_rng(5)
    small = F.torch_trunc_normal((800, 800), rng, std=0.02)
    assert np.std(small) == pytest.approx(0.02, rel=0.01)  # bounds at +-2 are 100 std away
    unit = F.torch_trunc_normal((800, 800), rng, std=1.0)
    assert np.abs(unit).max() <= 2.0
    assert np.var(unit) == pytest.approx(F.trunc_normal_variance(), rel=0.01)
    shifted = F.torch_trunc_normal((800, 800), rng, mean=0.5, std=1.0, a=0.0, b=3.0)
    assert shifted.min() >= 0.0 and shifted.max() <= 3.0
    assert np.var(shifted) == pytest.approx(F.trunc_normal_variance(mean=0.5, a=0.0, b=3.0), rel=0.01)


def test_trunc_normal_variance_limits():
    assert F.trunc_normal_variance(std=3.0, a=-math.inf, b=math.inf) == pytest.approx(9.0, rel=1e-12)
    assert F.trunc_normal_variance(a=-2.0, b=2.0) == pytest.approx(0.7737413035499232, rel=1e-12)


def test_validation_errors_name_the_parameter():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="framework"):
        F.default_init("mxnet", (3, 4), rng)
    with pytest.raises(ValueError, match="mode"):
        F.variance_scaling((3, 4), rng, mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        F.variance_scaling((3, 4), rng, distribution="cauchy")
    with pytest.raises(ValueError, match="scale"):
        F.variance_scaling((3, 4), rng, scale=0.0)
    with pytest.raises(TypeError, match="rng"):
        F.variance_scaling((3, 4), 0)
    with pytest.raises(ValueError, match="a must be smaller"):
        F.torch_trunc_normal((3, 4), rng, a=1.0, b=-1.0)
    with pytest.raises(ValueError, match="holds only"):
        F.torch_trunc_normal((3, 4), rng, a=10.0, b=11.0)
    with pytest.raises(ValueError, match="scheme"):
        F.recipe("pytorch", "orthogonal_he")
    with pytest.raises(ValueError, match="shape"):
        F.native_shape("keras", (5,))
    with pytest.raises(ValueError, match="architecture"):
        F.recommend("relu", "transformer")


def _plain_profile(init, init_kwargs, activation, then="none", seed=21, depth=20, width=128):
    """Forward ``q_l / q_2`` and backward ``Var[dL/dz_l] / Var[dL/dz_L]`` of a plain stack, layers 2..L."""
    x = np.random.default_rng(20).standard_normal((256, width))
    net = H.build_mlp([width] * (depth + 1), np.random.default_rng(seed), activation=activation, init=init,
                      init_kwargs=init_kwargs, activate_output=True)
    if then == "lsuv":
        net = LS.lsuv(net, x).net
    q = LS.layer_variances(net, x)
    out, cache = H.forward(net, x)
    grads = H.backward(net, cache, np.random.default_rng(22).standard_normal(out.shape), weight_grads=False)
    g = np.array([np.mean(d**2) for d in grads.d_pre])
    return q[1:] / q[1], g[1:] / g[-1]


# sigma_w^2 = fan_in Var[W] of each plain rule (square layers); the sigmoid's is set by LSUV layer by layer
_RULE_SIGMA_W2 = {"relu": 2.0, "leaky_relu": 2.0 / (1 + 0.01**2), "tanh": 1.0, "selu": 1.0, "linear": 1.0}


@pytest.mark.parametrize("activation", ["tanh", "selu", "linear"])
def test_plain_recommendation_matches_the_mean_field_forward_and_backward(activation):
    """Forward and backward ratios over 20 layers within 15% of the mean-field prediction.

    The predictions are ``propagation.predicted_forward`` and ``predicted_gradient_variances``.
    Not for the ReLU family: there a single network of width 128 drifts from the prediction by a
    factor of up to ~2 over 20 layers (Hanin & Rolnick 2018), which the band test below allows."""
    rec = F.recommend(activation, "plain")
    fwd, bwd = _plain_profile(rec.init, rec.init_kwargs, activation)
    sizes = [128] * 21
    q = P.predicted_forward(sizes, _RULE_SIGMA_W2[activation], activation)
    g = P.predicted_gradient_variances(sizes, _RULE_SIGMA_W2[activation], activation)
    assert fwd[-1] == pytest.approx(q[-1] / q[1], rel=0.15)
    assert bwd[0] == pytest.approx(g[1] / g[-1], rel=0.15)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "selu", "linear"])
def test_plain_recommendation_keeps_both_passes_in_the_healthy_band(activation):
    """Var[z] and Var[dL/dz] stay within 4x of their layer-2 / top-layer values through 20 layers.

    A single finite network drifts (the log of its variance performs a random walk of variance
    ~ depth/width, Hanin & Rolnick 2018), hence the factor 4; a wrong rule misses by orders of
    magnitude (see test_wrong_rule_leaves_the_band). SELU's gradient grows by chi_1 = 1.07 per layer
    at its fixed point, 3.7-fold over 19 layers, still inside the band."""
    rec = F.recommend(activation, "plain")
    fwd, bwd = _plain_profile(rec.init, rec.init_kwargs, activation)
    assert np.all((fwd > 0.25) & (fwd < 4.0)), (activation, np.round(fwd, 3))
    assert np.all((bwd > 0.25) & (bwd < 4.0)), (activation, np.round(bwd, 3))


def test_tanh_rule_is_critical_and_gain_five_thirds_is_chaotic():
    """At sigma_w^2 = 1 both passes decay only algebraically; with gain 5/3 the gradient grows.

    chi_1 = 1 exactly at (1, 0) and 1.21 at (25/9, 0) (Poole et al. 2016). Measured over 20 layers:
    the critical rule keeps both ratios near 1/13 (a power law, ~1/l), the 5/3 gain multiplies the
    gradient by about 25 (chi_1^19 = 37 at the fixed point, less while q approaches it)."""
    rec = F.recommend("tanh", "plain")
    assert rec.init == "orthogonal" and rec.init_kwargs == {"gain": 1.0}
    assert H.chi1(1.0, 0.0, "tanh") == pytest.approx(1.0, abs=1e-9)
    assert H.chi1(25 / 9, 0.0, "tanh") == pytest.approx(1.21, abs=0.005)
    fwd, bwd = _plain_profile(rec.init, rec.init_kwargs, "tanh")
    assert 1 / 20 < fwd[-1] < 1 / 8 and 1 / 20 < bwd[0] < 1 / 8
    fwd53, bwd53 = _plain_profile("xavier_uniform", {"gain": 5 / 3}, "tanh")
    assert 0.5 < fwd53[-1] < 1.0 and bwd53[0] > 15.0


def test_tanh_critical_line_with_a_small_bias_keeps_both_passes_flat():
    """sigma_b^2 = 0.05 and sigma_w^2 on the critical line (1.76): both ratios within 4x of 1."""
    sb2 = 0.05
    sw2 = H.critical_sigma_w2(sb2, "tanh")
    assert sw2 == pytest.approx(1.76, abs=0.005) and H.chi1(sw2, sb2, "tanh") == pytest.approx(1.0, abs=1e-6)
    x = np.random.default_rng(20).standard_normal((256, 128))
    rng = np.random.default_rng(21)
    net = H.build_mlp([128] * 21, rng, activation="tanh", init="orthogonal", init_kwargs={"gain": math.sqrt(sw2)},
                      activate_output=True)
    for b in net.biases:
        b[:] = math.sqrt(sb2) * rng.standard_normal(b.shape)
    q = LS.layer_variances(net, x)
    out, cache = H.forward(net, x)
    grads = H.backward(net, cache, np.random.default_rng(22).standard_normal(out.shape), weight_grads=False)
    g = np.array([np.mean(d**2) for d in grads.d_pre])
    fwd, bwd = q[1:] / q[1], g[1:] / g[-1]
    assert np.all((fwd > 0.25) & (fwd < 4.0)) and np.all((bwd > 0.25) & (bwd < 4.0))


def test_sigmoid_rule_fixes_the_forward_pass_only():
    """Glorot + LSUV gives unit forward variance, but no scale saves the sigmoid's gradient (s' <= 1/4)."""
    rec = F.recommend("sigmoid", "plain")
    fwd, bwd = _plain_profile(rec.init, rec.init_kwargs, "sigmoid", then=rec.then)
    assert np.all((fwd > 0.25) & (fwd < 4.0))
    assert bwd[0] < 1e-6


def test_wrong_rule_leaves_the_band():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((256, 128))
    net = H.build_mlp([128] * 21, rng, activation="relu", init="lecun_normal", activate_output=True)
    q = LS.layer_variances(net, x)
    assert q[-1] / q[1] < 2.0**-10


def test_sigmoid_needs_the_lsuv_step():
    rec = F.recommend("sigmoid", "plain")
    rng = np.random.default_rng(6)
    x = rng.standard_normal((256, 128))
    net = H.build_mlp([128] * 21, rng, activation="sigmoid", init=rec.init, activate_output=True)
    q = LS.layer_variances(net, x)
    assert q[-1] < 0.5  # Glorot alone leaves sigmoid pre-activations far below unit variance
    assert abs(LS.layer_variances(LS.lsuv(net, x).net, x)[-1] - 1.0) < 0.1


def test_decision_tables_cover_every_activation():
    table = F.decision_table()
    calls = F.calls_table()
    for act in F.GUIDE_ACTIVATIONS:
        assert f"| {act} |" in table and f"| {act} |" in calls
    assert table.count("\n") == len(F.GUIDE_ACTIVATIONS) + 1
    assert F.recommend("relu", "residual").then == "zero_last"
