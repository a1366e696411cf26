"""The network: construction, forward, backward against central finite differences, losses, dtypes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers as H
from helpers.network import Workspace
from _fixtures import flat_params, numeric_grads, rel_error

ACTIVATIONS = ["identity", "sigmoid", "tanh", "softsign", "relu", "leaky_relu", "selu"]
KINKED = {"relu", "leaky_relu", "selu"}


# -- construction ------------------------------------------------------------------------------

def test_build_shapes_dtypes_and_seed():
    net = H.build_mlp([3, 7, 5, 2], np.random.default_rng(0), activation="tanh", init="xavier_normal", bias=0.1)
    assert net.sizes == [3, 7, 5, 2] and net.depth == 3
    assert [w.shape for w in net.weights] == [(7, 3), (5, 7), (2, 5)]
    assert [b.shape for b in net.biases] == [(7,), (5,), (2,)]
    assert all(np.all(b == 0.1) for b in net.biases)
    again = H.build_mlp([3, 7, 5, 2], np.random.default_rng(0), activation="tanh", init="xavier_normal", bias=0.1)
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, again.weights))
    other = H.build_mlp([3, 7, 5, 2], np.random.default_rng(1), activation="tanh", init="xavier_normal")
    assert not np.array_equal(net.weights[0], other.weights[0])


def test_layers_drawn_in_order_from_one_generator():
    rng = np.random.default_rng(4)
    net = H.build_mlp([4, 6, 3], np.random.default_rng(4), init="lecun_normal")
    np.testing.assert_array_equal(net.weights[0], H.lecun_normal((6, 4), rng))
    np.testing.assert_array_equal(net.weights[1], H.lecun_normal((3, 6), rng))


def test_init_kwargs_output_init_and_dtype():
    net = H.build_mlp([5, 8, 3], np.random.default_rng(0), init="xavier_uniform", init_kwargs={"gain": 5 / 3},
                      output_init="zeros", dtype=np.float32)
    assert np.abs(net.weights[0]).max() <= 5 / 3 * math.sqrt(6 / 13) + 1e-6
    assert np.all(net.weights[1] == 0)
    assert all(w.dtype == np.float32 for w in net.weights + net.biases)
    assert net.dtype == np.float32


def test_init_returning_wrong_shape_is_reported():
    with pytest.raises(ValueError, match="init returned shape"):
        H.build_mlp([3, 4], np.random.default_rng(0), init=lambda shape, rng: np.zeros((2, 2)))


def test_copy_is_independent():
    net = H.build_mlp([2, 3, 2], np.random.default_rng(0))
    twin = net.copy()
    twin.weights[0] += 1
    assert not np.array_equal(net.weights[0], twin.weights[0])


# -- forward -----------------------------------------------------------------------------------

@pytest.mark.parametrize("activate_output", [False, True])
def test_forward_matches_a_hand_written_loop(activate_output):
    rng = np.random.default_rng(2)
    net = H.build_mlp([4, 6, 5, 3], rng, activation="tanh", bias=0.05, activate_output=activate_output)
    x = rng.standard_normal((7, 4))
    out, cache = H.forward(net, x)
    h = x
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        z = h @ w.T + b
        np.testing.assert_allclose(cache.pre[i], z, rtol=1e-14)
        h = np.tanh(z) if (i < 2 or activate_output) else z
        np.testing.assert_allclose(cache.post[i], h, rtol=1e-14)
    np.testing.assert_allclose(out, h, rtol=1e-14)
    np.testing.assert_array_equal(H.predict(net, x), out)
    assert cache.x is not None and cache.x.shape == (7, 4)


def test_forward_does_not_modify_input():
    x = np.random.default_rng(0).standard_normal((5, 3))
    x0 = x.copy()
    net = H.build_mlp([3, 4, 2], np.random.default_rng(1))
    H.forward(net, x)
    np.testing.assert_array_equal(x, x0)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_float32_stays_float32(activation):
    rng = np.random.default_rng(3)
    net64 = H.build_mlp([6, 16, 16, 3], rng, activation=activation, init="xavier_normal")
    net32 = H.MLP([w.astype(np.float32) for w in net64.weights], [b.astype(np.float32) for b in net64.biases],
                  net64.activation)
    x = rng.standard_normal((10, 6))
    y = rng.integers(0, 3, 10)
    l32, g32, c32 = H.loss_and_grads(net32, x, y)
    l64, g64, _ = H.loss_and_grads(net64, x, y)
    arrays = c32.pre + c32.post + g32.weights + g32.biases + g32.d_pre + g32.d_post
    assert all(a.dtype == np.float32 for a in arrays)
    assert l32 == pytest.approx(l64, rel=1e-5)
    for a, b in zip(g32.weights, g64.weights):
        assert rel_error(a, b) < 1e-4


def test_exploding_forward_is_silent_and_non_finite():
    rng = np.random.default_rng(0)
    net = H.build_mlp([10] + [100] * 60 + [3], rng, init="normal", init_kwargs={"std": 3.0}, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = H.forward(net, np.ones((4, 10)))
        value, grads, _ = H.loss_and_grads(net, np.ones((4, 10)), np.array([0, 1, 2, 0]))
        H.layer_stats(net, cache, grads)
    assert not np.all(np.isfinite(out))
    assert not math.isfinite(value)


# -- losses ------------------------------------------------------------------------------------

def test_softmax_rows_sum_to_one_and_survive_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    p = H.softmax(logits)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[1], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum())
    loss, grad = H.softmax_cross_entropy(logits, np.array([2, 0]))
    assert math.isfinite(loss) and loss == pytest.approx((2000 + (np.log(np.exp([1, 2, 3]).sum()) - 1)) / 2)


def test_loss_values():
    logits = np.array([[0.5, -1.0], [2.0, 0.0], [0.0, 0.0]])
    labels = np.array([0, 1, 1])
    expected = -np.mean(np.log(H.softmax(logits)[np.arange(3), labels]))
    assert H.softmax_cross_entropy(logits, labels)[0] == pytest.approx(expected, rel=1e-14)
    pred, target = np.array([[1.0, 2.0], [0.0, -1.0]]), np.array([[0.0, 2.0], [1.0, 1.0]])
    assert H.mean_squared_error(pred, target)[0] == pytest.approx(0.5 * (1 + 0 + 1 + 4) / 2)
    assert H.mean_squared_error(np.array([[1.0], [3.0]]), np.array([0.0, 1.0]))[0] == pytest.approx(1.25)


@pytest.mark.parametrize("which", ["cross_entropy", "mse"])
def test_loss_gradients_against_central_differences(which):
    rng = np.random.default_rng(5)
    z = rng.standard_normal((6, 4))
    target = rng.integers(0, 4, 6) if which == "cross_entropy" else rng.standard_normal((6, 4))
    fn = H.softmax_cross_entropy if which == "cross_entropy" else H.mean_squared_error
    _, grad = fn(z, target)
    numeric = numeric_grads(lambda: fn(z, target)[0], [z])[0]
    assert rel_error(grad, numeric) < 1e-7


# -- backward against finite differences -------------------------------------------------------

def _gradcheck(activation, loss, activate_output, seed=0, sizes=(3, 5, 4, 3), batch=6, bias=0.1):
    rng = np.random.default_rng(seed)
    net = H.build_mlp(list(sizes), rng, activation=activation, init="xavier_normal", bias=bias,
                      activate_output=activate_output)
    for b in net.biases:  # distinct biases, so a swapped index would show
        b += 0.1 * rng.standard_normal(b.shape)
    x = rng.standard_normal((batch, sizes[0]))
    y = rng.integers(0, sizes[-1], batch) if loss == "cross_entropy" else rng.standard_normal((batch, sizes[-1]))
    value, grads, cache = H.loss_and_grads(net, x, y, loss)
    if activation in KINKED:  # central differences must not straddle the kink at z = 0
        assert min(float(np.abs(z).min()) for z in cache.pre) > 1e-4, "choose another seed"
    numeric = numeric_grads(lambda: H.loss_and_grads(net, x, y, loss)[0], flat_params(net))
    analytic = grads.weights + grads.biases
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        assert rel_error(a, n) < 1e-6, f"parameter {i}: relative error {rel_error(a, n):.2e}"
    # the per-layer signals are consistent with the parameter gradients
    for l in range(net.depth):
        np.testing.assert_allclose(grads.biases[l], grads.d_pre[l].sum(axis=0), rtol=1e-12, atol=1e-15)
        h_prev = cache.post[l - 1] if l else cache.x
        np.testing.assert_allclose(grads.weights[l], grads.d_pre[l].T @ h_prev, rtol=1e-12, atol=1e-15)
        if l + 1 < net.depth:
            np.testing.assert_allclose(grads.d_post[l], grads.d_pre[l + 1] @ net.weights[l + 1], rtol=1e-12)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("activate_output", [False, True])
def test_backward_against_central_differences(activation, loss, activate_output):
    _gradcheck(activation, loss, activate_output)


def test_backward_single_layer_and_wide_output():
    _gradcheck("tanh", "mse", True, sizes=(4, 9), batch=3)
    _gradcheck("relu", "cross_entropy", False, sizes=(2, 3, 3, 3, 3, 5), batch=4, seed=1)


def test_backward_checks_cache_and_grad_shapes():
    rng = np.random.default_rng(0)
    net = H.build_mlp([3, 4, 2], rng)
    _, cache = H.forward(net, rng.standard_normal((5, 3)))
    with pytest.raises(ValueError, match="grad_out"):
        H.backward(net, cache, np.ones((5, 3)))
    other = H.build_mlp([3, 4, 4, 2], rng)
    with pytest.raises(ValueError, match="cache"):
        H.backward(other, cache, np.ones((5, 2)))


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_workspace_gives_identical_results_and_reuses_buffers(activation, dtype):
    rng = np.random.default_rng(6)
    net = H.build_mlp([5, 16, 16, 4], rng, activation=activation, init="xavier_normal", dtype=dtype, bias=0.1)
    x = rng.standard_normal((12, 5))
    y = rng.integers(0, 4, 12)
    ref_value, ref_grads, ref_cache = H.loss_and_grads(net, x, y)
    ws = Workspace()
    for _ in range(2):  # the second pass writes into the same buffers
        value, grads, cache = H.loss_and_grads(net, x, y, workspace=ws)
        assert value == ref_value
        for got, ref in zip(cache.pre + cache.post + grads.weights + grads.biases + grads.d_pre + grads.d_post,
                            ref_cache.pre + ref_cache.post + ref_grads.weights + ref_grads.biases + ref_grads.d_pre
                            + ref_grads.d_post):
            assert got.dtype == dtype
            np.testing.assert_array_equal(got, ref)
    ids = {id(a) for a in cache.pre + grads.weights}
    _, grads2, cache2 = H.loss_and_grads(net, x, y, workspace=ws)
    assert {id(a) for a in cache2.pre + grads2.weights} == ids
    assert ws.nbytes > 0


def test_workspace_adapts_to_a_new_batch_size():
    rng = np.random.default_rng(0)
    net = H.build_mlp([3, 8, 2], rng)
    ws = Workspace()
    for batch in (4, 9, 4):
        out, cache = H.forward(net, rng.standard_normal((batch, 3)), workspace=ws)
        assert out.shape == (batch, 2)
        np.testing.assert_array_equal(out, H.forward(net, cache.x)[0])


def test_assigning_a_layer_array_changes_the_network():
    # net.weights[i] = W must reach the layer (a list rebuilt on each access would drop it silently)
    net = H.build_mlp([3, 4, 2], np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((5, 3))
    net.weights[1] = np.zeros((2, 4))
    net.biases[1] = np.ones(2)
    np.testing.assert_array_equal(H.forward(net, x)[0], np.ones((5, 2)))
    assert net.weights[1].dtype == net.dtype and len(net.weights) == 2
    with pytest.raises(ValueError, match="keep shape"):
        net.weights[0] = np.zeros((3, 3))


def test_random_network_statistics():
    rng = np.random.default_rng(0)
    net = H.random_network([400, 300, 300], rng, sigma_w2=1.8, sigma_b2=0.2, activation="tanh")
    assert net.activate_output and net.activation.name == "tanh"
    assert np.var(net.weights[0]) * 400 == pytest.approx(1.8, rel=0.02)  # 120k draws: ~0.4 % noise
    assert np.var(net.biases[0]) == pytest.approx(0.2, rel=0.25)  # 300 draws: ~8 % noise
    orth = H.random_network([50, 50], rng, sigma_w2=2.0, weights="orthogonal", activation="relu")
    np.testing.assert_allclose(orth.weights[0] @ orth.weights[0].T, 2.0 * np.eye(50), atol=1e-12)
    with pytest.raises(TypeError, match="rng"):
        H.random_network([3, 3], 0, sigma_w2=1.0, activation="tanh")
    with pytest.raises(ValueError, match="weights"):
        H.random_network([3, 3], np.random.default_rng(0), sigma_w2=1.0, weights="uniform", activation="tanh")
    with pytest.raises(ValueError, match="sizes"):
        H.random_network([3], np.random.default_rng(0), sigma_w2=1.0, activation="tanh")
    with pytest.raises(ValueError, match="mode must be 'fan_in'"):
        H.random_network([3, 3], np.random.default_rng(0), weights="orthogonal", mode="fan_out", activation="tanh")
    with pytest.raises(ValueError, match="float16, float32 or float64"):
        H.random_network([3, 3], np.random.default_rng(0), activation="tanh", dtype=np.int64)


def test_random_network_one_seed_gives_the_same_weights_for_every_bias_variance_and_precision():
    a = H.random_network([5, 4, 3], np.random.default_rng(2), activation="relu", sigma_b2=0.0)
    b = H.random_network([5, 4, 3], np.random.default_rng(2), activation="relu", sigma_b2=0.3)
    c = H.random_network([5, 4, 3], np.random.default_rng(2), activation="relu", sigma_b2=0.0, dtype=np.float16)
    none = H.random_network([5, 4, 3], np.random.default_rng(2), activation="relu")  # no bias draws at all
    assert all(np.all(bias == 0) for bias in a.biases + none.biases) and np.all(b.biases[1] != 0)
    np.testing.assert_array_equal(none.weights[0], a.weights[0])
    assert not np.array_equal(none.weights[1], a.weights[1])   # the bias draws of layer 1 came in between
    for wa, wb, wc in zip(a.weights, b.weights, c.weights):
        np.testing.assert_array_equal(wa, wb)
        np.testing.assert_array_equal(wc, wa.astype(np.float16))


def test_accuracy():
    net = H.build_mlp([2, 2], np.random.default_rng(0), activation="identity")
    net.weights[0][:] = np.eye(2)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    assert H.accuracy(net, x, np.array([0, 1, 1, 1])) == pytest.approx(0.75)


# -- property-based ----------------------------------------------------------------------------

WELL_SCALED = {"relu": "kaiming_normal", "leaky_relu": "kaiming_normal", "tanh": "xavier_normal",
               "sigmoid": "xavier_normal", "softsign": "xavier_normal", "identity": "lecun_normal",
               "selu": "lecun_normal"}


@settings(max_examples=30, deadline=None)
@given(widths=st.lists(st.integers(1, 64), min_size=2, max_size=12), batch=st.integers(1, 20),
       activation=st.sampled_from(ACTIVATIONS), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**32 - 1))
def test_shapes_and_finite_outputs_for_well_scaled_inits(widths, batch, activation, dtype, seed):
    rng = np.random.default_rng(seed)
    net = H.build_mlp(widths, rng, activation=activation, init=WELL_SCALED[activation], dtype=dtype)
    x = rng.standard_normal((batch, widths[0]))
    out, cache = H.forward(net, x)
    assert out.shape == (batch, widths[-1]) and out.dtype == dtype
    assert [z.shape for z in cache.pre] == [(batch, n) for n in widths[1:]]
    assert all(np.all(np.isfinite(h)) for h in cache.post)
    grads = H.backward(net, cache, np.ones_like(out) / batch)
    assert [g.shape for g in grads.weights] == [w.shape for w in net.weights]
    assert all(np.all(np.isfinite(g)) for g in grads.weights + grads.biases)


@settings(max_examples=30, deadline=None)
@given(widths=st.lists(st.integers(1, 6), min_size=2, max_size=5), batch=st.integers(1, 5),
       activation=st.sampled_from(ACTIVATIONS), loss=st.sampled_from(["cross_entropy", "mse"]),
       activate_output=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_gradient_check_on_random_small_networks(widths, batch, activation, loss, activate_output, seed):
    """Directional derivative along random directions: (L(p + e v) - L(p - e v)) / 2e = <grad, v>."""
    rng = np.random.default_rng(seed)
    net = H.build_mlp(widths, rng, activation=activation, init="xavier_normal", bias=0.1,
                      activate_output=activate_output)
    x = rng.standard_normal((batch, widths[0]))
    y = rng.integers(0, widths[-1], batch) if loss == "cross_entropy" else rng.standard_normal((batch, widths[-1]))
    _, grads, cache = H.loss_and_grads(net, x, y, loss)
    params, analytic = flat_params(net), grads.weights + grads.biases
    eps = 1e-6
    for _ in range(3):
        v = [rng.standard_normal(p.shape) for p in params]
        for p, d in zip(params, v):
            p += eps * d
        up, c_up = H.loss_and_grads(net, x, y, loss)[0], H.forward(net, x)[1]
        for p, d in zip(params, v):
            p -= 2 * eps * d
        down, c_down = H.loss_and_grads(net, x, y, loss)[0], H.forward(net, x)[1]
        for p, d in zip(params, v):
            p += eps * d
        if activation in KINKED:  # skip directions whose step crosses a kink (probability ~1e-5)
            crossed = any(np.any(np.sign(a) != np.sign(b)) for a, b in zip(c_up.pre, c_down.pre))
            if crossed:
                continue
        directional = sum(float(np.sum(g * d)) for g, d in zip(analytic, v))
        numeric = (up - down) / (2 * eps)
        assert numeric == pytest.approx(directional, rel=1e-5, abs=1e-7)
