"""Tests for helpers.symmetry: measuring copies, collapsing them, dropout, and the training loop."""

import itertools

import numpy as np
import pytest

import helpers as H
from helpers import symmetry as S
from _fixtures import numeric_grads


def spirals(n=40, seed=0):
    return H.spirals(n, np.random.default_rng(seed))


def net(init="xavier_uniform", sizes=(2, 8, 8, 3), seed=1, activation="tanh", **kwargs):
    return H.build_mlp(list(sizes), np.random.default_rng(seed), activation=activation, init=init,
                       init_kwargs=kwargs)


# -- measuring ---------------------------------------------------------------------------------

def test_unit_spread_is_zero_exactly_for_equal_rows():
    rows = np.tile([1.0, -2.0, 3.0], (5, 1))
    assert S.unit_spread(rows) == 0.0
    rows[3, 1] += 0.25
    assert S.unit_spread(rows) == pytest.approx(0.25, abs=1e-15)


@pytest.mark.parametrize("bad, error", [(np.zeros(3), ValueError), (np.zeros((0, 2)), ValueError),
                                        (np.array([["a"]]), TypeError)])
def test_unit_spread_rejects_bad_input(bad, error):
    with pytest.raises(error):
        S.unit_spread(bad)


def test_unit_vectors_hold_incoming_bias_and_outgoing_weights():
    m = net()
    v = S.unit_vectors(m, 1)
    assert v.shape == (8, 2 + 1 + 8)
    np.testing.assert_array_equal(v[:, :2], m.weights[0])
    np.testing.assert_array_equal(v[:, 2], m.biases[0])
    np.testing.assert_array_equal(v[:, 3:], m.weights[1].T)
    with pytest.raises(ValueError, match="hidden layer"):
        S.unit_vectors(m, 3)
    with pytest.raises(TypeError):
        S.unit_vectors("net", 1)


def test_asymmetry_distinct_units_and_ranks_of_constant_and_random_nets():
    const, rand = net("constant", value=0.3), net()
    np.testing.assert_array_equal(S.hidden_asymmetry(const), [0.0, 0.0])
    assert np.all(S.hidden_asymmetry(rand) > 0.01)
    assert [S.distinct_units(const, l) for l in (1, 2)] == [1, 1]
    assert [S.distinct_units(rand, l) for l in (1, 2)] == [8, 8]
    assert S.weight_ranks(const) == [1, 1, 1]
    assert S.weight_ranks(rand) == [2, 8, 3]
    assert S.weight_ranks(net("zeros")) == [0, 0, 0]


def test_distinct_units_counts_groups_and_respects_tol():
    m = net()
    w1, b1, w2 = m.weights[0], m.biases[0], m.weights[1]
    for i in (1, 2, 3):                      # units 0-3 become one group
        w1[i], b1[i], w2[:, i] = w1[0], b1[0], w2[:, 0]
    assert S.distinct_units(m, 1) == 5       # the group plus units 4..7
    w1[1, 0] += 1e-9                          # a near copy
    assert S.distinct_units(m, 1) == 6
    assert S.distinct_units(m, 1, tol=1e-8) == 5
    with pytest.raises(ValueError):
        S.distinct_units(m, 1, tol=-1.0)


# -- collapsing a network of copies --------------------------------------------------------------

@pytest.mark.parametrize("sizes", [(2, 8, 3), (2, 8, 4, 3), (3, 5, 7, 2, 4)])
def test_collapse_computes_the_same_function(sizes):
    wide = net("constant", sizes=sizes, value=0.3)
    wide.biases[0][:] = 0.1
    small = S.collapse(wide)
    assert small.sizes == [sizes[0]] + [1] * (len(sizes) - 2) + [sizes[-1]]
    xs = np.random.default_rng(0).standard_normal((50, sizes[0]))
    np.testing.assert_allclose(H.predict(small, xs), H.predict(wide, xs), rtol=0, atol=1e-12)


def test_collapse_refuses_a_network_without_copies():
    with pytest.raises(ValueError, match="not copies"):
        S.collapse(net())


def test_collapsed_learning_rates_values_and_validation():
    w_lr, b_lr = S.collapsed_learning_rates([2, 32, 32, 3], 1.0)
    assert w_lr == [1 / 32, 1.0, 32.0] and b_lr == [1 / 32, 1 / 32, 1.0]
    w_lr, b_lr = S.collapsed_learning_rates([2, 8, 4, 3], 0.5)
    assert w_lr == [0.5 / 8, 0.5 * 8 / 4, 0.5 * 4] and b_lr == [0.5 / 8, 0.5 / 4, 0.5]
    with pytest.raises(ValueError):
        S.collapsed_learning_rates([2, 3], 0.1)
    with pytest.raises(ValueError):
        S.collapsed_learning_rates([2, 4, 3], -1.0)


@pytest.mark.parametrize("sizes", [(2, 8, 3), (2, 8, 4, 3), (2, 6, 6, 6, 3)])
def test_collapsed_network_follows_the_wide_one_step_for_step(sizes):
    x, y = spirals()
    wide = net("constant", sizes=sizes, value=0.2)
    small = S.collapse(wide)
    w_lr, b_lr = S.collapsed_learning_rates(list(sizes), 0.5)
    a = S.sgd(wide, x, y, np.random.default_rng(3), steps=60, lr=0.5, batch_size=16, record_every=5)
    b = S.sgd(small, x, y, np.random.default_rng(3), steps=60, lr=w_lr, bias_lr=b_lr, batch_size=16,
              record_every=5)
    np.testing.assert_allclose(a.loss, b.loss, rtol=0, atol=1e-10)
    target = S.collapse(wide, atol=1e-12)
    for p, q in zip(target.weights + target.biases, small.weights + small.biases):
        np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12)


# -- dropout -----------------------------------------------------------------------------------

def dropout_layers(model):
    return [layer for layer in model.layers if isinstance(layer, H.Dropout)]


def test_the_dropout_network_shares_the_nets_layers_and_drops_after_hidden_activations_only():
    m = net()
    model = S.with_dropout(m, np.random.default_rng(0), p=0.5, input_p=0.2)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dropout", "Dense", "Act", "Dropout", "Dense", "Act", "Dropout", "Dense"]
    assert [model[i] for i in (1, 4, 7)] == m.dense and [model[i] for i in (2, 5)] == m.acts[:2]
    assert [d.p for d in dropout_layers(model)] == [0.2, 0.5, 0.5]
    no_input = S.with_dropout(m, np.random.default_rng(0), p=0.5)
    assert type(no_input[0]).__name__ == "Dense"                # no input dropout at input_p = 0


def test_dropout_with_p_zero_is_the_plain_network():
    x, y = spirals()
    m = net()
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    model = S.with_dropout(m, rng, p=0.0)
    out = model.forward(x)
    _, grad_out = H.softmax_cross_entropy(out, y)
    model.backward(grad_out)
    g = [d.grads["weight"].copy() for d in m.dense] + [d.grads["bias"].copy() for d in m.dense]
    assert rng.bit_generator.state == state                     # nothing was drawn
    ref, ref_cache = H.forward(m, x)
    np.testing.assert_array_equal(out, ref)
    g_ref = H.backward(m, ref_cache, grad_out)
    for a, b in zip(g, g_ref.weights + g_ref.biases):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_dropout_masks_are_inverted_and_per_unit():
    x, _ = spirals(200)
    m = net(sizes=(2, 64, 3))
    model = S.with_dropout(m, np.random.default_rng(1), p=0.25)
    model.forward(x)
    (layer,) = dropout_layers(model)
    mask = layer.mask
    assert set(np.unique(mask)) == {0.0, 1 / 0.75}
    assert abs(np.mean(mask == 0) - 0.25) < 0.02              # 38400 draws: 4.6 standard errors
    assert not np.all(mask == mask[:, :1])                      # units of one example differ
    assert model[-1] is m.dense[-1]                             # the output layer is never dropped


def test_dropout_backward_matches_finite_differences_for_fixed_masks():
    x, y = spirals(10)
    m = net(sizes=(2, 5, 4, 3), seed=2)
    rng = np.random.default_rng(7)
    masks = [(rng.random((len(x), n)) >= 0.3) / 0.7 for n in (5, 4)]
    in_mask = (rng.random(x.shape) >= 0.2) / 0.8
    model = S.with_dropout(m, rng, p=0.3, input_p=0.2)
    for layer, mask in zip(dropout_layers(model), [in_mask] + masks):
        layer.fixed_mask = mask

    def loss():
        return H.softmax_cross_entropy(model.forward(x), y)[0]

    model.backward(H.softmax_cross_entropy(model.forward(x), y)[1])
    grads = [d.grads["weight"].copy() for d in m.dense] + [d.grads["bias"].copy() for d in m.dense]
    for g, numeric in zip(grads, numeric_grads(loss, list(m.weights) + list(m.biases))):
        np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-8)


def test_a_dropped_unit_gets_no_gradient_from_that_example():
    x, y = spirals(1)
    x, y = x[:1], y[:1]
    m = net(sizes=(2, 6, 3))
    model = S.with_dropout(m, np.random.default_rng(0), p=0.5)
    dropout_layers(model)[0].fixed_mask = np.array([[0.0, 2.0, 2.0, 0.0, 2.0, 2.0]])
    model.backward(H.softmax_cross_entropy(model.forward(x), y)[1])
    g0, g1 = m.dense[0].grads["weight"], m.dense[1].grads["weight"]
    assert np.all(g0[[0, 3]] == 0.0) and np.all(g0[[1, 2, 4, 5]] != 0.0)
    assert np.all(g1[:, [0, 3]] == 0.0)


@pytest.mark.parametrize("kwargs", [{"p": 1.0}, {"p": -0.1}, {"input_p": 1.5}])
def test_dropout_rejects_bad_rates(kwargs):
    with pytest.raises(ValueError, match="p must be"):
        S.with_dropout(net(), np.random.default_rng(0), **kwargs)


def test_dropout_rejects_masks_of_the_wrong_shape_and_a_non_network():
    x, _ = spirals(5)
    model = S.with_dropout(net(), np.random.default_rng(0), p=0.5)
    dropout_layers(model)[0].fixed_mask = np.ones((3, 8))
    with pytest.raises(ValueError, match="fixed_mask"):
        model.forward(x)
    with pytest.raises(TypeError, match="net must be a helpers MLP"):
        S.with_dropout(H.Sequential([H.Act()]), np.random.default_rng(0))


# -- training ---------------------------------------------------------------------------------

def test_plain_sgd_equals_the_core_training_loop():
    x, y = spirals()
    a, b = net(), net()
    S.sgd(a, x, y, np.random.default_rng(5), steps=40, lr=0.3, batch_size=16, momentum=0.5)
    H.train(b, x, y, np.random.default_rng(5), steps=40, lr=0.3, batch_size=16, momentum=0.5)
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


def test_a_dropout_step_draws_batch_noise_input_mask_then_hidden_masks_in_that_order():
    """One sgd step with dropout is one pass of the dropout network, with the draws in a fixed order."""
    x, y = spirals()
    a, b = net(), net()
    S.sgd(a, x, y, np.random.default_rng(4), steps=1, lr=0.5, batch_size=16, dropout=0.3, input_dropout=0.2,
          input_noise=0.1, record_every=1)
    rng = np.random.default_rng(4)
    idx = rng.choice(len(x), size=16, replace=False)
    xb = x[idx] + 0.1 * rng.standard_normal((16, 2))
    masks = [(rng.random((16, 2)) >= 0.2) / 0.8] + [(rng.random((16, 8)) >= 0.3) / 0.7 for _ in range(2)]
    model = S.with_dropout(b, np.random.default_rng(99), p=0.3, input_p=0.2)
    for layer, mask in zip(dropout_layers(model), masks):
        layer.fixed_mask = mask
    model.backward(H.softmax_cross_entropy(model.forward(xb), y[idx])[1])
    for d in b.dense:
        for name in ("weight", "bias"):
            d.params[name] -= 0.5 * d.grads[name]
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


def test_sgd_rejects_inputs_of_the_wrong_width():
    x, y = spirals(5)
    with pytest.raises(ValueError, match=r"x must have 2 columns \(the input width\)"):
        S.sgd(net(), np.hstack([x, x]), y, np.random.default_rng(0), steps=1)


def test_trajectory_records_the_requested_steps():
    x, y = spirals()
    m = net()
    t = S.sgd(m, x, y, np.random.default_rng(0), steps=25, record_every=10, snapshot_steps=(0, 25))
    np.testing.assert_array_equal(t.steps, [0, 10, 20, 25])
    assert t.first_layer.shape == (4, 8, 2) and t.asymmetry.shape == (4, 2)
    assert t.full_loss.shape == (4,) and t.accuracy.shape == (4,) and t.loss.shape == (25,)
    np.testing.assert_array_equal(t.snapshots[25].weights[0], m.weights[0])
    np.testing.assert_array_equal(t.first_layer[-1], m.weights[0])
    assert not np.array_equal(t.snapshots[0].weights[0], m.weights[0])
    assert t.final_accuracy == pytest.approx(H.accuracy(m, x, y))


@pytest.mark.parametrize("options", [{}, {"momentum": 0.9}, {"optimizer": "adam", "lr": 0.01},
                                     {"weight_decay": 1e-2}, {"lr": [0.1, 0.5, 1.0]},
                                     {"input_noise": 0.2}, {"input_dropout": 0.3}])
def test_mechanisms_that_treat_units_alike_keep_exact_copies(options):
    x, y = spirals()
    m = net("constant", value=0.2)
    t = S.sgd(m, x, y, np.random.default_rng(0), steps=50, batch_size=16, record_every=10,
              **{"lr": 0.5, **options})
    # copies up to rounding: exact in exact arithmetic, and in floating point as long as the
    # matrix products round every copy alike, which an optimized BLAS does not promise
    assert np.all(t.asymmetry <= S.ROUNDING_TOL)
    assert np.max(np.abs(m.weights[0] - 0.2)) > 1e-4          # the weights did move


@pytest.mark.parametrize("options", [{"dropout": 0.2},
                                     {"unit_lr": [np.linspace(0.5, 1.5, 8), np.ones(8), np.ones(3)]}])
def test_mechanisms_that_treat_units_differently_break_copies(options):
    x, y = spirals()
    t = S.sgd(net("constant", value=0.2), x, y, np.random.default_rng(0), steps=20, lr=0.5, batch_size=16,
              record_every=10, **options)
    assert t.asymmetry[0, 0] == 0.0 and t.asymmetry[-1, 0] > 1e-3


def test_first_adam_step_moves_every_weight_by_about_lr():
    x, y = spirals()
    m = net()
    start = m.copy()
    _, g, _ = H.loss_and_grads(m, x, y)
    S.sgd(m, x, y, np.random.default_rng(0), steps=1, lr=1e-3, optimizer="adam")
    moved = start.weights[0] - m.weights[0]
    np.testing.assert_allclose(moved, 1e-3 * np.sign(g.weights[0]), rtol=1e-4)


def test_sgd_with_mse_records_nan_accuracy():
    x, y = H.teacher_regression(40, 2, np.random.default_rng(0))
    t = S.sgd(net(sizes=(2, 4, 1)), x, y, np.random.default_rng(0), steps=5, loss="mse", record_every=5)
    assert np.all(np.isnan(t.accuracy)) and np.all(np.isfinite(t.full_loss))


@pytest.mark.parametrize("kwargs, error", [
    ({"optimizer": "sgdm"}, ValueError), ({"momentum": 1.0}, ValueError), ({"lr": [0.1, 0.1]}, ValueError),
    ({"lr": 0.0}, ValueError), ({"dropout": 1.0}, ValueError), ({"snapshot_steps": (11,)}, ValueError),
    ({"unit_lr": [np.ones(3), np.ones(8), np.ones(3)]}, ValueError), ({"steps": 0}, ValueError),
    ({"weight_decay": -1.0}, ValueError), ({"loss": "hinge"}, ValueError), ({"betas": (0.9, 1.0)}, ValueError),
    ({"batch_size": 2.5}, TypeError),
])
def test_sgd_rejects_bad_arguments(kwargs, error):
    x, y = spirals(5)
    with pytest.raises(error):
        S.sgd(net(), x, y, np.random.default_rng(0), **{"steps": 10, **kwargs})


def test_sgd_insists_on_a_generator_and_a_network():
    x, y = spirals(5)
    with pytest.raises(TypeError):
        S.sgd(net(), x, y, 0)
    with pytest.raises(TypeError):
        S.sgd("net", x, y, np.random.default_rng(0))


# -- the stripe ceiling -----------------------------------------------------------------------

def test_stripe_accuracy_equals_brute_force_on_small_sets():
    rng = np.random.default_rng(3)
    for _ in range(15):
        n = 8
        x, y, d = rng.standard_normal((n, 2)), rng.integers(0, 3, n), rng.standard_normal(2)
        labels = y[np.argsort(x @ d)]
        best = 0
        for assign in itertools.product(range(3), repeat=n):
            a = np.array(assign)
            if all(np.ptp(np.flatnonzero(a == c)) + 1 == np.sum(a == c) for c in set(assign)):
                best = max(best, int(np.sum(a == labels)))
        assert S.stripe_accuracy(x, y, d) == pytest.approx(best / n, abs=1e-12)


def test_stripe_bounds_for_separable_and_constant_labels():
    x = np.random.default_rng(0).standard_normal((60, 2))
    y = (x[:, 0] > 0.3).astype(int) + (x[:, 0] > 1.0).astype(int)   # three vertical stripes
    assert S.stripe_accuracy(x, y, np.array([1.0, 0.0])) == 1.0
    assert S.stripe_accuracy(x, np.zeros(60, dtype=int), np.array([0.3, 0.7])) == 1.0
    acc, direction = S.best_stripe_accuracy(x, y, n_directions=180)
    assert acc == 1.0 and abs(direction[0]) > 0.99


def test_no_network_of_copies_beats_the_stripe_ceiling():
    x, y = spirals(60)
    ceiling, _ = S.best_stripe_accuracy(x, y)
    for value in (0.1, 0.5):
        m = net("constant", sizes=(2, 16, 16, 3), value=value)
        S.sgd(m, x, y, np.random.default_rng(0), steps=200, lr=1.0, batch_size=32, record_every=200)
        assert H.accuracy(m, x, y) <= S.stripe_accuracy(x, y, m.weights[0][0]) + 1e-12
    assert ceiling < 0.7


def test_stripe_functions_reject_bad_input():
    x, y = spirals(5)
    with pytest.raises(ValueError):
        S.stripe_accuracy(x, y, np.zeros(2))
    with pytest.raises(ValueError):
        S.stripe_accuracy(x, y[:-1], np.ones(2))
    with pytest.raises(ValueError):
        S.stripe_accuracy(x, y - 5, np.ones(2))
    with pytest.raises(ValueError):
        S.best_stripe_accuracy(np.ones((5, 3)), y[:5])
    with pytest.raises(ValueError):
        S.stripe_accuracy(np.ones((8, 2)), np.arange(8), np.ones(2))     # more than 6 classes


def test_escape_step():
    loss = np.array([1.0, 0.9, np.nan, 0.4, 0.2])
    assert S.escape_step(loss, 0.5) == 3
    assert S.escape_step(loss, 0.1) is None
    with pytest.raises(ValueError):
        S.escape_step(np.ones((2, 2)), 0.5)


def test_rounding_tolerance_separates_copies_from_a_tiny_jitter():
    """ROUNDING_TOL lies far above the drift of copies and far below a deliberate 1e-6 jitter."""
    x, y = spirals()
    copies = S.sgd(net("constant", value=0.2), x, y, np.random.default_rng(0), steps=100, lr=0.5,
                   batch_size=16, record_every=50)
    jittered = net("constant", value=0.2)
    jittered.weights[0] += 1e-6 * np.random.default_rng(1).standard_normal(jittered.weights[0].shape)
    jitter = S.sgd(jittered, x, y, np.random.default_rng(0), steps=100, lr=0.5, batch_size=16, record_every=50)
    assert np.all(copies.asymmetry <= S.ROUNDING_TOL)
    assert np.all(jitter.asymmetry[:, 0] > 1e4 * S.ROUNDING_TOL)
