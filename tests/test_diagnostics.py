"""Diagnostics: per-layer statistics equal their definitions, on hand-made and network values."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import helpers as H
from helpers.diagnostics import SATURATION_THRESHOLD


def test_saturated_fraction_thresholds():
    # tanh'(z) = 1 - tanh(z)^2 < 0.05  <=>  |z| > atanh(sqrt(0.95)) = 2.178...
    edge = math.atanh(math.sqrt(1 - SATURATION_THRESHOLD))
    z = np.array([[0.0, edge - 1e-6, edge + 1e-6, -3.0]])
    assert H.saturated_fraction(z, "tanh") == pytest.approx(0.5)
    # sigmoid'(z) < 0.05 * 1/4  <=>  s(1 - s) < 0.0125
    s_edge = math.log((1 + math.sqrt(1 - 4 * 0.0125)) / (1 - math.sqrt(1 - 4 * 0.0125)))
    z = np.array([[s_edge - 1e-6, s_edge + 1e-6, -s_edge - 1e-6, 0.0]])
    assert H.saturated_fraction(z, "sigmoid") == pytest.approx(0.25 + 0.25)
    # softsign'(z) = 1 / (1 + |z|)^2 < 0.05  <=>  |z| > sqrt(20) - 1
    e = math.sqrt(20) - 1
    assert H.saturated_fraction(np.array([[e - 1e-6, e + 1e-6]]), "softsign") == pytest.approx(0.5)
    assert H.saturated_fraction(z, "tanh", threshold=0.5) == pytest.approx(0.75)


def test_saturated_fraction_is_nan_for_unbounded():
    assert math.isnan(H.saturated_fraction(np.ones((2, 2)), "relu"))


def test_dead_fraction():
    pre = np.array([[-1.0, 2.0, 0.0, -0.5],
                    [-2.0, -1.0, 0.0, 0.1]])  # unit 0 and unit 2 never fire
    assert H.dead_fraction(pre, "relu") == pytest.approx(0.5)
    assert H.dead_fraction(pre, "tanh") == 0.0
    assert H.dead_fraction(pre, "leaky_relu") == 0.0


def test_layer_stats_against_numpy():
    rng = np.random.default_rng(0)
    net = H.build_mlp([5, 30, 30, 30, 3], rng, activation="tanh", init="normal", init_kwargs={"std": 0.8})
    x = rng.standard_normal((40, 5))
    value, grads, cache = H.loss_and_grads(net, x, rng.integers(0, 3, 40))
    stats = H.layer_stats(net, cache, grads)
    for l in range(net.depth):
        h, z = cache.post[l], cache.pre[l]
        assert stats.act_mean[l] == pytest.approx(np.mean(h))
        assert stats.act_std[l] == pytest.approx(np.std(h))
        assert stats.act_rms[l] == pytest.approx(np.sqrt(np.mean(h * h)))
        assert stats.saturated[l] == pytest.approx(np.mean(1 - np.tanh(z) ** 2 < SATURATION_THRESHOLD))
        assert stats.grad_std[l] == pytest.approx(np.std(grads.d_pre[l]))
        assert stats.grad_norm[l] == pytest.approx(np.linalg.norm(grads.d_pre[l]))
        assert stats.weight_grad_norm[l] == pytest.approx(np.linalg.norm(grads.weights[l]))
    assert stats.saturated[:3].max() > 0.2  # std 0.8 with fan-in 30 saturates tanh: the check can fail
    plain = H.activation_stats(net, cache)
    assert plain.grad_std is None and np.array_equal(plain.act_std, stats.act_std)


def test_dead_units_in_a_relu_network_with_negative_bias():
    rng = np.random.default_rng(1)
    net = H.build_mlp([4, 50, 50, 2], rng, init="kaiming_normal", bias=-3.0)
    _, cache = H.forward(net, rng.standard_normal((64, 4)))
    stats = H.activation_stats(net, cache)
    assert stats.dead[0] > 0.5  # z = w.x - 3 with Var[w.x] = 2: most units never fire
    assert np.all(np.isnan(stats.saturated))


def test_update_ratio():
    rng = np.random.default_rng(2)
    net = H.build_mlp([3, 8, 2], rng)
    _, grads, _ = H.loss_and_grads(net, rng.standard_normal((10, 3)), rng.integers(0, 2, 10))
    expected = [0.01 * np.linalg.norm(g) / np.linalg.norm(w) for g, w in zip(grads.weights, net.weights)]
    np.testing.assert_allclose(H.update_ratio(net, grads, 0.01), expected, rtol=1e-14)
    net.weights[0][:] = 0.0  # a zero layer gives an infinite ratio, not a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isinf(H.update_ratio(net, grads, 0.01)[0])


def test_statistics_of_a_blown_up_pass_are_silent():
    rng = np.random.default_rng(0)
    net = H.build_mlp([4] + [64] * 40 + [2], rng, init="normal", init_kwargs={"std": 3.0}, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, grads, cache = H.loss_and_grads(net, rng.standard_normal((8, 4)), rng.integers(0, 2, 8))
        stats = H.layer_stats(net, cache, grads)
        H.update_ratio(net, grads, 0.1)
    assert not np.all(np.isfinite(stats.act_std))
