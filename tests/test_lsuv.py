"""Tests for helpers.lsuv: layer-sequential unit-variance initialization (Mishkin & Matas 2015)."""

import numpy as np
import pytest

import helpers as H
from helpers import lsuv as LS


def _batch(seed=0, n=256, d=32, scale=3.0):
    return scale * np.random.default_rng(seed).standard_normal((n, d))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "selu"])
def test_every_layer_reaches_unit_variance_on_the_calibration_batch(activation):
    x = _batch()
    res = LS.lsuv_mlp([32, 64, 64, 64, 64, 10], x, np.random.default_rng(1), activation=activation, tol=0.05)
    assert res.converged.all()
    assert np.all(np.abs(res.after - 1.0) < 0.05)
    np.testing.assert_allclose(LS.layer_variances(res.net, x), res.after, rtol=1e-12)


def test_one_division_is_exact_with_zero_biases():
    """Var[z] is quadratic in W, so W / sqrt(Var) gives Var exactly 1 when b = 0."""
    x = _batch(2)
    res = LS.lsuv_mlp([32, 48, 48, 48, 5], x, np.random.default_rng(3), activation="tanh", tol=1e-9)
    assert np.all(res.iterations == 1)
    np.testing.assert_allclose(res.after, 1.0, rtol=1e-10)


def test_biases_and_post_statistic_need_more_passes():
    x = _batch(4)
    net = H.build_mlp([32, 48, 48, 48, 5], np.random.default_rng(5), activation="relu", init="orthogonal", bias=0.5)
    res = LS.lsuv(net, x, tol=1e-4, max_iter=50, statistic="post", include_output=False)
    assert res.iterations[:-1].max() > 1
    assert np.all(np.abs(res.after[:-1] - 1.0) < 1e-4)
    assert all(len(h) == it + 1 for h, it in zip(res.history, res.iterations))


def test_bounded_activation_cannot_reach_unit_output_variance():
    """Var[tanh(z)] < 1 whatever the scale, so the post statistic stops at max_iter, unconverged."""
    x = _batch(4)
    net = H.build_mlp([32, 48, 48, 5], np.random.default_rng(5), activation="tanh", init="orthogonal")
    res = LS.lsuv(net, x, max_iter=7, statistic="post", include_output=False)
    assert np.all(res.iterations[:-1] == 7) and not res.converged[:-1].any()
    assert np.all(res.after[:-1] < 1.0)


def test_max_iter_is_respected_and_reported():
    x = _batch(4)
    net = H.build_mlp([32, 48, 48, 5], np.random.default_rng(5), activation="tanh", init="orthogonal", bias=0.5)
    res = LS.lsuv(net, x, tol=1e-8, max_iter=1, statistic="post")
    assert res.iterations.max() == 1
    assert not res.converged.all()


def test_input_network_is_not_modified_and_output_layer_can_be_kept():
    x = _batch(6)
    net = H.build_mlp([32, 40, 40, 3], np.random.default_rng(7), init="orthogonal")
    before = [w.copy() for w in net.weights]
    res = LS.lsuv(net, x, include_output=False)
    for w, w0 in zip(net.weights, before):
        np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(res.net.weights[-1], before[-1])
    assert res.iterations[-1] == 0 and not res.converged[-1]


def test_dead_layer_is_left_alone():
    x = _batch(8)
    net = H.build_mlp([32, 16, 16, 3], np.random.default_rng(9), init="orthogonal")
    net.weights[1][:] = 0.0  # layer 2 outputs exactly 0: nothing to rescale
    res = LS.lsuv(net, x)
    assert res.after[1] == 0.0 and res.iterations[1] == 0 and not res.converged[1]


def test_validation():
    x = _batch()
    net = H.build_mlp([32, 8, 2], np.random.default_rng(0))
    with pytest.raises(ValueError, match="columns"):
        LS.lsuv(net, x[:, :5])
    with pytest.raises(ValueError, match="tol"):
        LS.lsuv(net, x, tol=0.0)
    with pytest.raises(ValueError, match="statistic"):
        LS.lsuv(net, x, statistic="mid")
    with pytest.raises(TypeError, match="max_iter"):
        LS.lsuv(net, x, max_iter=2.5)
    with pytest.raises(TypeError, match="MLP"):
        LS.lsuv([32, 8, 2], x)
    with pytest.raises(ValueError, match="at least 2"):
        LS.lsuv(net, x[:1])
