"""Tests for helpers.layerwise: per-layer samples, preserving gains and the training comparison.

Every random test is seeded; tolerances are stated next to each comparison with the reason.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import helpers as H
from helpers import layerwise as LW

# -- sample_layers -----------------------------------------------------------------------------

def _net(activation="tanh", activate_output=False, sizes=(7, 11, 5, 3)):
    return H.build_mlp(list(sizes), np.random.default_rng(1), activation=activation, init="xavier_normal",
                       bias=0.1, activate_output=activate_output)


def test_sample_layers_matches_core_backward_with_labels():
    net = _net()
    x = np.random.default_rng(2).standard_normal((9, 7))
    y = np.random.default_rng(3).integers(0, 3, 9)
    s = LW.sample_layers(net, x, labels=y, weight_gradients=True)
    loss, grads, cache = H.loss_and_grads(net, x, y)
    assert s.loss == pytest.approx(loss, rel=1e-12)
    assert s.activated == 2
    for mine, core in zip(s.preactivations, cache.pre):
        np.testing.assert_allclose(mine, core, rtol=1e-12, atol=1e-14)
    for mine, core in zip(s.gradients, grads.d_pre):
        np.testing.assert_allclose(mine, core, rtol=1e-12, atol=1e-14)
    for mine, core in zip(s.weight_gradients, grads.weights):
        np.testing.assert_allclose(mine, core, rtol=1e-12, atol=1e-14)


def test_sample_layers_random_error_signal_and_finite_differences():
    net = _net("softsign", activate_output=True)
    x = np.random.default_rng(4).standard_normal((5, 7))
    s = LW.sample_layers(net, x, rng=np.random.default_rng(5))
    assert s.activated == 3 and s.weight_gradients is None and s.loss is None
    g = np.random.default_rng(5).standard_normal((5, 3))  # the error signal sample_layers drew
    # L = sum(g * output) has dL/dz^(1) = delta^(1); check one entry by central differences (h = 1e-6).
    out = lambda xx: H.predict(net, xx)  # noqa: E731
    grads = H.backward(net, H.forward(net, x)[1], g)
    np.testing.assert_allclose(s.gradients[0], grads.d_pre[0], rtol=1e-12, atol=1e-14)
    w = net.weights[0]
    old = w[2, 3]
    w[2, 3] = old + 1e-6
    up = np.sum(g * out(x))
    w[2, 3] = old - 1e-6
    down = np.sum(g * out(x))
    w[2, 3] = old
    numeric = (up - down) / 2e-6
    analytic = float(s.gradients[0][:, 2] @ x[:, 3])  # dL/dW_23 = sum_b delta_b2 x_b3
    assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_sample_layers_validation():
    net = _net()
    with pytest.raises(ValueError, match="labels"):
        LW.sample_layers(net, np.zeros((2, 7)))
    with pytest.raises(ValueError, match="columns"):
        LW.sample_layers(net, np.zeros((2, 6)), rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="MLP"):
        LW.sample_layers("net", np.zeros((2, 7)), rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        LW.sample_layers(net, np.zeros((2, 7)), rng=0)


def test_layer_samples_statistics():
    net = _net("sigmoid", sizes=(7, 40, 30, 3))
    x = np.random.default_rng(6).standard_normal((50, 7))
    s = LW.sample_layers(net, x, rng=np.random.default_rng(7))
    assert len(s.layers("activations")) == 2 and len(s.layers("activations", hidden=False)) == 3
    across_examples, across_units = s.variance_split("activations")
    np.testing.assert_allclose(across_examples + across_units, s.std("activations") ** 2, rtol=1e-10)
    h = s.activations[0]
    assert s.rms("activations")[0] == pytest.approx(math.sqrt(np.mean(h**2)), rel=1e-12)
    q = s.quantiles("gradients", [0.1, 0.5, 0.9], absolute=True)
    assert q.shape == (2, 3) and np.all(np.diff(q, axis=1) >= 0)
    with pytest.raises(ValueError, match="q must"):
        s.quantiles("gradients", [1.5])
    relu = LW.sample_layers(_net("relu", sizes=(7, 200, 3)), x, rng=np.random.default_rng(8))
    h = relu.activations[0]
    assert relu.quantiles("activations", [0.1])[0, 0] == 0.0  # more than 10% of ReLU outputs are 0
    np.testing.assert_allclose(relu.quantiles("activations", [0.1, 0.9], nonzero=True)[0],
                               np.quantile(h[h > 0], [0.1, 0.9]), rtol=1e-12)
    with pytest.raises(ValueError, match="kind"):
        s.std("weights")
    with pytest.raises(ValueError, match="weight_gradients"):
        s.std("weight_gradients")


def test_glorot_bengio_study_small():
    study = LW.glorot_bengio_study(np.random.default_rng(8), width=200, depth=4, n_inputs=200, n_examples=64)
    std_act = study["glorot_standard"].std("activations")
    norm_act = study["xavier_uniform"].std("activations")
    # n Var[W] = 1/3 per layer: activations shrink layer after layer under the standard rule ...
    assert np.all(np.diff(std_act) < 0)
    # ... and far less under the normalized rule (the ratio last/first is at least 3 times larger).
    assert norm_act[-1] / norm_act[0] > 3 * std_act[-1] / std_act[0]
    # same seed: the hidden weights of the two uniform rules are the same draw up to a scale factor
    # (checked through the first-layer pre-activations, which are linear in W^(1)).
    z_std = study["glorot_standard"].preactivations[0]
    z_norm = study["xavier_uniform"].preactivations[0]
    ratio = math.sqrt(6 / 400) / math.sqrt(1 / 200)
    np.testing.assert_allclose(z_norm, ratio * z_std, rtol=1e-10, atol=1e-12)
    with pytest.raises(TypeError, match="inits"):
        LW.glorot_bengio_study(np.random.default_rng(0), inits="xavier_uniform")


# -- predictions -----------------------------------------------------------------------------------

def test_predicted_profile_linear_regime_is_glorot_eqs_5_and_6():
    sizes, v = [4, 8, 2, 6], [0.1, 0.2, 0.05]
    p = H.predicted_profile(sizes, v, "identity", input_second_moment=3.0, output_gradient_variance=2.0)
    q1 = 4 * 0.1 * 3.0
    q2 = 8 * 0.2 * q1
    q3 = 2 * 0.05 * q2
    np.testing.assert_allclose(p.preactivation, [q1, q2, q3], rtol=1e-12)
    # backward: the fan-out of each weight layer, n_l Var[W^(l)] (sizes[2] = 2 for W^(2), sizes[3] = 6 for W^(3))
    np.testing.assert_allclose(p.gradient, [2 * 0.2 * 6 * 0.05 * 2.0, 6 * 0.05 * 2.0, 2.0], rtol=1e-12)


def test_predicted_profile_relu_halves_per_layer():
    n = 64
    p = H.predicted_profile([n] * 6, [1 / n] * 5, "relu", activate_output=True)
    np.testing.assert_allclose(p.preactivation[1:] / p.preactivation[:-1], 0.5, rtol=1e-12)
    np.testing.assert_allclose(p.gradient[:-1] / p.gradient[1:], 0.5, rtol=1e-12)
    he = H.predicted_profile([n] * 6, [2 / n] * 5, "relu", activate_output=True)
    np.testing.assert_allclose(he.preactivation, 2.0, rtol=1e-12)


def test_predicted_profile_matches_a_wide_tanh_network():
    n, depth = 600, 4
    net = H.build_mlp([n] * (depth + 1), np.random.default_rng(9), activation="tanh", init="xavier_normal",
                      init_kwargs={"gain": 1.3}, activate_output=True)
    x = np.random.default_rng(10).standard_normal((400, n))
    s = LW.sample_layers(net, x, rng=np.random.default_rng(11))
    p = H.predicted_profile([n] * (depth + 1), [1.69 / n] * depth, "tanh", activate_output=True)
    # 240000 entries per layer and a width of 600: finite-width and sampling errors are a few percent.
    np.testing.assert_allclose(s.rms("preactivations") ** 2, p.preactivation, rtol=0.06)
    np.testing.assert_allclose(s.rms("gradients") ** 2, p.gradient, rtol=0.08)


def test_predicted_profile_matches_a_network_with_unequal_widths():
    # fan_in and fan_out differ in every layer, so swapping them anywhere would be off by a factor >= 2.5
    sizes = [300, 750, 200, 500]
    net = H.build_mlp(sizes, np.random.default_rng(15), activation="tanh", init="xavier_normal", activate_output=True)
    x = np.random.default_rng(16).standard_normal((300, 300))
    s = LW.sample_layers(net, x, rng=np.random.default_rng(17))
    v = [H.weight_variance("xavier_normal", (o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    p = H.predicted_profile(sizes, v, "tanh", activate_output=True)
    # at least 60000 entries per layer and widths >= 200: agreement within 10%
    np.testing.assert_allclose(s.rms("preactivations") ** 2, p.preactivation, rtol=0.1)
    np.testing.assert_allclose(s.rms("gradients") ** 2, p.gradient, rtol=0.1)


def test_predicted_profile_validation():
    with pytest.raises(ValueError, match="one entry per layer"):
        H.predicted_profile([3, 3, 3], [1.0])
    with pytest.raises(ValueError, match="weight_variances"):
        H.predicted_profile([3, 3], [-1.0])
    with pytest.raises(TypeError, match="sizes"):
        H.predicted_profile("33", [1.0])
    with pytest.raises(ValueError, match="activation"):
        H.predicted_profile([3, 3], [1.0], "swish")


def test_preserving_gain_and_the_fixed_point_it_gives():
    g = H.preserving_gain("tanh", 1.0)
    assert g**2 * H.second_moment("tanh", 1.0) == pytest.approx(1.0, rel=1e-12)
    assert 1.5 < g < 5 / 3  # below PyTorch's 5/3
    q_star = H.q_star((5 / 3) ** 2, 0.0, "tanh")    # a gain g is the variance sigma_w2 = g**2
    assert (5 / 3) ** 2 * H.second_moment("tanh", q_star) == pytest.approx(q_star, rel=1e-9)
    assert H.q_star(g**2, 0.0, "tanh") == pytest.approx(1.0, rel=1e-9)
    assert H.q_star(H.preserving_gain("softsign", 0.5) ** 2, 0.0, "softsign") == pytest.approx(0.5, rel=1e-9)
    assert H.q_star(1.0, 0.0, "tanh") < 1e-3 and H.q_star(0.25, 0.0, "tanh") == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="q"):
        H.preserving_gain("tanh", 0.0)


# -- compare_training -----------------------------------------------------------------------------

def _manual_sgd(x, y, sizes, init, seed, steps, lr, batch_size):
    net = H.build_mlp(sizes, np.random.default_rng(seed), activation="tanh", init=init)
    batches = np.random.default_rng([seed, 1])
    losses = [H.softmax_cross_entropy(H.predict(net, x), y)[0]]
    for _ in range(steps):
        idx = batches.choice(len(x), size=batch_size, replace=False)
        _, g, _ = H.loss_and_grads(net, x[idx], y[idx])
        for p, gp in zip(net.weights + net.biases, g.weights + g.biases):
            p -= lr * gp
        losses.append(H.softmax_cross_entropy(H.predict(net, x), y)[0])
    return np.array(losses), H.accuracy(net, x, y)


def test_compare_training_equals_plain_sgd_per_network():
    x, y = H.spirals(20, np.random.default_rng(12))
    sizes = [2, 8, 8, 3]
    runs = LW.compare_training(x, y, sizes, {"std": "glorot_standard", "xav": "xavier_uniform"}, [3, 4],
                               steps=15, lr=0.3, batch_size=10, eval_every=1)
    assert runs.steps.tolist() == list(range(16))
    for name, init in (("std", "glorot_standard"), ("xav", "xavier_uniform")):
        for k, seed in enumerate((3, 4)):
            losses, acc = _manual_sgd(x, y, sizes, init, seed, 15, 0.3, 10)
            np.testing.assert_allclose(runs.loss[name][k], losses, rtol=1e-10)
            assert runs.accuracy[name][k] == pytest.approx(acc)


def test_compare_training_records_divergence_as_nan():
    x, y = H.spirals(20, np.random.default_rng(13))
    runs = LW.compare_training(x, y, [2, 16, 16, 3], {"huge": "kaiming_normal"}, [0], activation="relu",
                               steps=30, lr=1e150, batch_size=20, eval_every=5)
    curve = runs.loss["huge"][0]
    bad = ~np.isfinite(curve)
    assert np.isfinite(curve[0]) and bad.any() and np.all(bad[np.argmax(bad):])  # once NaN, NaN to the end
    assert np.isnan(runs.accuracy["huge"][0])


def test_training_comparison_summaries():
    tc = LW.TrainingComparison(np.array([0, 10, 20]),
                               {"a": np.array([[1.0, 0.5, 0.2], [1.0, 0.9, 0.8]]),
                                "b": np.array([[1.0, 0.6, 0.3], [1.0, 0.7, 0.6]])},
                               {"a": np.array([1.0, 0.5]), "b": np.array([0.9, 0.8])}, (0, 1))
    np.testing.assert_allclose(tc.median("a"), [1.0, 0.7, 0.5])
    np.testing.assert_allclose(tc.quantile("b", 1.0), [1.0, 0.7, 0.6])
    np.testing.assert_allclose(tc.steps_to("a", 0.5), [10.0, np.inf])
    assert tc.fraction_better("a", "b") == 0.5
    np.testing.assert_allclose(tc.final("b"), [0.3, 0.6])
    with pytest.raises(ValueError, match="name"):
        tc.median("c")
    with pytest.raises(ValueError, match="q must"):
        tc.quantile("a", 2.0)


def test_compare_training_validation():
    x, y = H.spirals(10, np.random.default_rng(14))
    with pytest.raises(ValueError, match="sizes\\[0\\]"):
        LW.compare_training(x, y, [3, 4, 3], {"a": "xavier_uniform"}, [0])
    with pytest.raises(ValueError, match="labels must lie"):
        LW.compare_training(x, y, [2, 4, 2], {"a": "xavier_uniform"}, [0])
    with pytest.raises(TypeError, match="inits"):
        LW.compare_training(x, y, [2, 4, 3], ["xavier_uniform"], [0])
    with pytest.raises(TypeError, match="seeds"):
        LW.compare_training(x, y, [2, 4, 3], {"a": "xavier_uniform"}, [])
    with pytest.raises(ValueError, match="lr"):
        LW.compare_training(x, y, [2, 4, 3], {"a": "xavier_uniform"}, [0], lr=0.0)
    with pytest.raises(TypeError, match="labels must be integers"):
        LW.compare_training(x, y.astype(float), [2, 4, 3], {"a": "xavier_uniform"}, [0])
