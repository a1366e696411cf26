"""Tests for helpers.normalization: batch/layer norm in numpy and their effect on init-scale sensitivity."""

import warnings

import numpy as np
import pytest

import helpers as H
from helpers import normalization as N


def test_batch_norm_standardizes_each_unit_over_the_batch():
    z = 3.0 + 5.0 * np.random.default_rng(0).standard_normal((200, 7))
    out = N.batch_norm(z)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), z.var(axis=0) / (z.var(axis=0) + 1e-5), rtol=1e-12)
    gamma, beta = np.arange(1.0, 8.0), np.linspace(-1, 1, 7)
    np.testing.assert_allclose(N.batch_norm(z, gamma, beta), gamma * out + beta, rtol=1e-12)


def test_layer_norm_standardizes_each_example_over_units():
    z = 3.0 + 5.0 * np.random.default_rng(1).standard_normal((20, 64))
    out = N.layer_norm(z)
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=1), z.var(axis=1) / (z.var(axis=1) + 1e-5), rtol=1e-12)


@pytest.mark.parametrize("fn", [N.batch_norm, N.layer_norm])
def test_normalization_ignores_the_scale_of_its_input(fn):
    z = np.random.default_rng(2).standard_normal((50, 30))
    # exact but for eps = 1e-5 in the denominator: relative differences are about eps / (2 Var[z]),
    # below 1e-4 for any row or column whose variance exceeds 0.05
    np.testing.assert_allclose(fn(100.0 * z), fn(z), rtol=1e-4, atol=0)


@pytest.mark.parametrize("norm", N.NORMS)
def test_backward_matches_finite_differences(norm):
    rng = np.random.default_rng(3)
    model = N.build_norm_mlp([5, 6, 6, 3], rng, norm=norm, activation="tanh")
    if norm != "none":
        model.gammas[0][:] = rng.uniform(0.5, 1.5, 6)
        model.betas[1][:] = rng.uniform(-0.5, 0.5, 6)
    x = rng.standard_normal((8, 5))
    g = rng.standard_normal((8, 3))

    def loss():
        return float(np.sum(N.norm_forward(model, x)[0] * g))

    _, cache = N.norm_forward(model, x)
    grads = N.norm_backward(model, cache, g)
    eps = 1e-6
    checks = [(model.weights[0], grads.weights[0], (2, 1)), (model.weights[1], grads.weights[1], (0, 4)),
              (model.biases[1], grads.biases[1], (3,)), (model.weights[2], grads.weights[2], (1, 1))]
    if norm != "none":
        checks += [(model.gammas[0], grads.gammas[0], (2,)), (model.betas[1], grads.betas[1], (5,))]
    for param, grad, idx in checks:
        param[idx] += eps
        up = loss()
        param[idx] -= 2 * eps
        down = loss()
        param[idx] += eps
        assert grad[idx] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8)


def test_forward_is_invariant_to_the_hidden_scale_only_with_normalization():
    x = np.random.default_rng(4).standard_normal((128, 16))
    sizes = [16, 32, 32, 32, 32, 4]
    for norm in ("batch", "layer"):
        base = N.hidden_scales(N.build_norm_mlp(sizes, np.random.default_rng(5), norm=norm), x)
        big = N.hidden_scales(N.build_norm_mlp(sizes, np.random.default_rng(5), norm=norm, init_scale=8.0), x)
        np.testing.assert_allclose(big, base, rtol=2e-5)  # eps = 1e-5 is the only difference
    base = N.hidden_scales(N.build_norm_mlp(sizes, np.random.default_rng(5), norm="none"), x)
    big = N.hidden_scales(N.build_norm_mlp(sizes, np.random.default_rng(5), norm="none", init_scale=2.0), x)
    # ReLU with zero biases is positively homogeneous: hidden layer l scales by 2^l, the output by 2^4
    np.testing.assert_allclose(big / base, 2.0 ** np.array([1, 2, 3, 4, 4]), rtol=1e-10)


def test_training_lowers_the_loss_and_reports_divergence_as_nan():
    rng = np.random.default_rng(6)
    x, y = H.teacher_classification(600, 8, 3, rng)
    model = N.build_norm_mlp([8, 32, 32, 3], np.random.default_rng(7), norm="batch")
    losses = N.train_norm_mlp(model, x, y, np.random.default_rng(8), steps=150, lr=0.1)
    assert losses[-10:].mean() < 0.7 * losses[:10].mean()
    wild = N.build_norm_mlp([8, 32, 32, 32, 32, 32, 3], np.random.default_rng(7), norm="none", init_scale=100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no floating-point warning may escape
        out = N.train_norm_mlp(wild, x, y, np.random.default_rng(8), steps=50, lr=1.0)
    assert np.isnan(out[-1]) and np.isfinite(out[0])


def test_validation():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="norm"):
        N.build_norm_mlp([3, 4, 2], rng, norm="group")
    with pytest.raises(ValueError, match="init_scale"):
        N.build_norm_mlp([3, 4, 2], rng, init_scale=0.0)
    with pytest.raises(ValueError, match="gamma"):
        N.batch_norm(np.zeros((4, 3)), gamma=np.ones(2))
    with pytest.raises(ValueError, match="at least 2"):
        N.batch_norm(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="eps"):
        N.layer_norm(np.zeros((4, 3)), eps=0.0)
    model = N.build_norm_mlp([3, 4, 2], rng)
    with pytest.raises(ValueError, match="columns"):
        N.norm_forward(model, np.zeros((5, 4)))
    with pytest.raises(ValueError, match="batch_size"):
        N.train_norm_mlp(model, np.zeros((5, 3)), np.zeros(5, dtype=int), rng, batch_size=1)
