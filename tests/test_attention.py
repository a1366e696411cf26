"""The transformer layers of helpers.attention: backward passes against finite differences in float64,
the shapes and invariants of attention, and the closed-form initialization rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

import helpers as H
from helpers import attention as A

R = np.random.default_rng
TOL = 1e-7  # central differences with eps = 1e-6 in float64: errors are O(1e-9)


def _weights(d, rng, scale=0.5):
    return [scale * rng.standard_normal((d, d)) for _ in range(4)]


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("heads", [1, 2, 4])
def test_attention_backward_matches_finite_differences(causal, heads):
    rng = R(heads)
    att = H.CausalSelfAttention(*_weights(8, rng), heads, causal=causal)
    errors = H.gradient_check(att, rng.standard_normal((2, 5, 8)), R(1))
    assert set(errors) == {"x", "w_q", "w_k", "w_v", "w_o"}
    assert max(errors.values()) < TOL, errors


def test_attention_backward_with_a_custom_scale_and_saturated_scores():
    rng = R(3)
    att = H.CausalSelfAttention(*_weights(8, rng, 1.0), 2, scale=3.0)
    errors = H.gradient_check(att, rng.standard_normal((2, 4, 8)), R(2))
    assert max(errors.values()) < TOL, errors


def test_gelu_layer_backward_and_values():
    x = R(4).standard_normal((3, 5, 7)) * 3
    assert H.gradient_check(H.GELU(), x, R(5))["x"] < TOL
    # the tanh form is within 1e-3 of the exact x * Phi(x) (Hendrycks & Gimpel 2016)
    from math import erf
    z = np.linspace(-5, 5, 101)
    exact = np.array([v * 0.5 * (1 + erf(v / math.sqrt(2))) for v in z])
    assert np.max(np.abs(A.gelu(z) - exact)) < 1e-3


@pytest.mark.parametrize("trainable", [False, True])
def test_scaled_residual_backward(trainable):
    rng = R(6)
    branch = H.Sequential([H.LayerNorm(8), H.CausalSelfAttention(*_weights(8, rng), 2)])
    res = H.ScaledResidual(branch, 0.3, skip=1.7, trainable=trainable)
    errors = H.gradient_check(res, rng.standard_normal((2, 4, 8)), R(7))
    assert max(errors.values()) < TOL, errors
    assert ("alpha" in errors) == trainable


def test_scaled_residual_with_skip_one_is_the_residual_of_the_layer_model():
    rng = R(8)
    w = rng.standard_normal((6, 6))
    x = rng.standard_normal((3, 6))
    a = H.ScaledResidual(H.Dense(w.copy()), 0.5).forward(x)
    b = H.Residual(H.Dense(w.copy()), 0.5).forward(x)
    np.testing.assert_array_equal(a, b)


def _finite_difference_check(net, ids, targets, mask=None, per_param=6):
    def loss():
        return H.sequence_loss(net.forward(ids), targets, mask)[0]

    _, g = H.sequence_loss(net.forward(ids), targets, mask)
    net.backward(g)
    worst = 0.0
    for name, p, grad in net.named_params():
        grad = np.array(grad, dtype=float)
        for i in list(np.ndindex(p.shape))[:: max(1, p.size // per_param)]:
            keep = p[i]
            p[i] = keep + 1e-6
            up = loss()
            p[i] = keep - 1e-6
            down = loss()
            p[i] = keep
            worst = max(worst, abs((up - down) / 2e-6 - grad[i]) / max(1.0, abs(grad[i])))
    return worst


@pytest.mark.parametrize("placement, kw", [("pre", {}), ("post", {"skip": 1.6}), ("none", {"alpha": 0.4}),
                                           ("pre", {"weight_init": "xavier", "out_gain": 0.3})])
def test_whole_transformer_backward_matches_finite_differences(placement, kw):
    net = H.build_transformer(7, 8, 2, 2, 6, R(9), placement=placement, **kw)
    ids, targets = R(10).integers(0, 7, (3, 5)), R(11).integers(0, 7, (3, 5))
    mask = R(12).random((3, 5)) < 0.6
    mask[0, 0] = True
    assert _finite_difference_check(net, ids, targets, mask) < 1e-6


def test_causal_attention_ignores_the_future():
    rng = R(13)
    att = H.CausalSelfAttention(*_weights(8, rng), 2)
    x = rng.standard_normal((1, 6, 8))
    y = att.forward(x)
    x2 = x.copy()
    x2[:, 4:] += 10.0
    y2 = att.forward(x2)
    np.testing.assert_allclose(y[:, :4], y2[:, :4], rtol=0, atol=1e-12)
    assert np.all(np.triu(att.weights[0, 0], 1) == 0)
    np.testing.assert_allclose(att.weights.sum(axis=-1), 1.0, atol=1e-12)


def test_default_scale_is_one_over_sqrt_dk_and_unit_variance_scores():
    d, heads = 64, 4
    rng = R(14)
    att = H.CausalSelfAttention(*(rng.standard_normal((d, d)) / math.sqrt(d) for _ in range(4)), heads)
    assert att.scale == pytest.approx(1 / math.sqrt(16))
    s = att.scores(rng.standard_normal((64, 16, d)))
    assert np.var(s) == pytest.approx(1.0, rel=0.1)


def test_token_embedding_gradient_accumulates_repeated_ids():
    rng = R(15)
    emb = H.TokenEmbedding(rng.standard_normal((5, 3)), rng.standard_normal((4, 3)))
    ids = np.array([[1, 1, 2], [0, 1, 4]])
    x = emb.forward(ids)
    np.testing.assert_array_equal(x[0, 1], emb.params["token"][1] + emb.params["position"][1])
    dy = rng.standard_normal(x.shape)
    emb.backward(dy)
    np.testing.assert_allclose(emb.grads["token"][1], dy[0, 0] + dy[0, 1] + dy[1, 1])
    np.testing.assert_allclose(emb.grads["position"][:3], dy.sum(axis=0))
    assert np.all(emb.grads["position"][3] == 0) and np.all(emb.grads["token"][3] == 0)


def test_sequence_loss_matches_the_network_cross_entropy_on_masked_rows():
    rng = R(16)
    logits, targets = rng.standard_normal((2, 3, 5)), rng.integers(0, 5, (2, 3))
    mask = np.array([[True, False, True], [False, True, True]])
    loss, grad = H.sequence_loss(logits, targets, mask)
    ref, ref_grad = H.softmax_cross_entropy(logits[mask], targets[mask])
    assert loss == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(grad[mask], ref_grad, rtol=1e-12)
    assert np.all(grad[~mask] == 0)


def test_build_transformer_initial_scales():
    L, d = 6, 32
    net = H.build_transformer(11, d, 4, L, 8, R(17), out_gain=1 / math.sqrt(2 * L))
    w_o = net.attention(0).params["w_o"]
    assert np.std(w_o) == pytest.approx(H.gpt2_residual_std(L), rel=0.05)
    assert np.std(net.attention(0).params["w_q"]) == pytest.approx(0.02, rel=0.05)
    assert np.std(net.mlp_out(L - 1).weight) == pytest.approx(H.gpt2_residual_std(L), rel=0.05)
    assert np.all(net.mlp_out(0).bias == 0)
    assert net.final_norm is not None and len(net.sublayers) == 2 * L
    post = H.build_transformer(11, d, 4, L, 8, R(17), placement="post", weight_init="xavier")
    assert post.final_norm is None
    assert np.std(post.attention(0).params["w_v"]) == pytest.approx(math.sqrt(2 / (2 * d)), rel=0.05)


def test_same_seed_same_network_whatever_the_gains():
    a = H.build_transformer(11, 16, 2, 3, 8, R(18))
    b = H.build_transformer(11, 16, 2, 3, 8, R(18), out_gain=0.5)
    np.testing.assert_array_equal(a.attention(1).params["w_q"], b.attention(1).params["w_q"])
    np.testing.assert_array_equal(0.5 * a.attention(1).params["w_o"], b.attention(1).params["w_o"])


def test_closed_form_rules():
    assert H.gpt2_residual_std(12) == pytest.approx(0.02 / math.sqrt(24), rel=1e-12)
    assert H.deepnorm_coefficients(6, "encoder") == pytest.approx((12 ** 0.25, 48 ** -0.25), rel=1e-12)
    assert H.deepnorm_coefficients(100) == pytest.approx((200 ** 0.25, 800 ** -0.25), rel=1e-12)
    assert H.tfixup_scale(4) == pytest.approx(36 ** -0.25, rel=1e-12)


def test_rezero_stack_is_the_identity_at_initialization():
    net = H.build_transformer(9, 16, 2, 3, 8, R(19), placement="none", alpha=0.0)
    net.forward(R(20).integers(0, 9, (2, 8)))
    for x in net.stream[1:]:
        np.testing.assert_array_equal(x, net.stream[0])
