"""Training: SGD lowers the loss, records what it promises, is reproducible, and reports divergence
without crashing or warning."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest

import helpers as H


def _moons(seed=0):
    rng = np.random.default_rng(seed)
    x, y = H.two_moons(400, rng)
    net = H.build_mlp([2, 32, 32, 2], rng, activation="relu", init="kaiming_normal")
    return net, x, y, rng


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_training_lowers_the_loss(momentum):
    net, x, y, rng = _moons()
    lr = 0.1 if momentum == 0 else 0.02
    hist = H.train(net, x, y, rng, steps=400, lr=lr, batch_size=64, momentum=momentum)
    assert not hist.diverged
    first, last = np.mean(hist.loss[:10]), np.mean(hist.loss[-20:])
    assert last < 0.3 * first, f"loss went from {first:.3f} to {last:.3f}"
    assert hist.final_accuracy > 0.9
    assert hist.summary().startswith("finished 400 steps, final loss")


def test_training_regression_with_mse():
    rng = np.random.default_rng(1)
    x, y = H.teacher_regression(300, 5, rng, outputs=2)
    net = H.build_mlp([5, 32, 2], rng, activation="tanh", init="xavier_normal")
    hist = H.train(net, x, y, rng, steps=300, lr=0.1, loss="mse")
    assert np.mean(hist.loss[-20:]) < 0.3 * np.mean(hist.loss[:10])
    assert hist.final_accuracy is None  # accuracy only means something for classification


def test_history_shapes_and_recorded_statistics():
    net, x, y, rng = _moons(2)
    before = [w.copy() for w in net.weights]
    hist = H.train(net, x, y, rng, steps=23, lr=0.05, record_every=5)
    np.testing.assert_array_equal(hist.recorded_steps, [0, 5, 10, 15, 20])
    for arr in (hist.act_std, hist.grad_norm, hist.weight_grad_norm, hist.update_ratio):
        assert arr.shape == (5, net.depth) and np.all(np.isfinite(arr)) and np.all(arr >= 0)
    assert hist.loss.shape == (23,) and np.all(np.isfinite(hist.loss))
    assert not np.array_equal(before[0], net.weights[0])  # trained in place
    # the first recorded update ratio is lr * ||dL/dW|| / ||W|| at the starting weights
    np.testing.assert_allclose(hist.update_ratio[0], 0.05 * hist.weight_grad_norm[0]
                               / np.array([np.linalg.norm(w) for w in before]), rtol=1e-12)


def test_training_is_reproducible_and_leaves_data_alone():
    runs = []
    for _ in range(2):
        net, x, y, rng = _moons(3)
        x0, y0 = x.copy(), y.copy()
        runs.append(H.train(net, x, y, rng, steps=30, lr=0.1, momentum=0.5))
        np.testing.assert_array_equal(x, x0)
        np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(runs[0].loss, runs[1].loss)
    np.testing.assert_array_equal(runs[0].act_std, runs[1].act_std)


def test_float32_training_follows_float64():
    """Same seeds, same data: the float32 run stays float32 and tracks the float64 run closely."""
    hists, nets = [], []
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(4)
        x, y = H.two_moons(200, rng)
        net = H.build_mlp([2, 16, 16, 2], rng, dtype=dtype)
        hists.append(H.train(net, x, y, rng, steps=100, lr=0.1))
        nets.append(net)
    assert all(w.dtype == np.float32 for w in nets[1].weights + nets[1].biases)
    np.testing.assert_allclose(hists[1].loss, hists[0].loss, rtol=1e-4)


def _exploding(dtype=np.float64, depth=40, std=100.0):
    rng = np.random.default_rng(0)
    x, y = H.spirals(30, rng)
    net = H.build_mlp([2] + [64] * depth + [3], rng, init="normal", init_kwargs={"std": std}, dtype=dtype)
    return net, x, y, rng


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exploding_run_reports_divergence_without_warnings(dtype):
    net, x, y, rng = _exploding(dtype, depth=200 if dtype == np.float64 else 40)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hist = H.train(net, x, y, rng, steps=50, lr=0.1, batch_size=len(x))  # full batch: the forward below is the same
    assert caught == []
    assert hist.diverged and hist.diverged_at == 0
    assert 1 <= hist.diverged_layer <= net.depth
    assert hist.summary() == f"diverged at step 0 (layer {hist.diverged_layer})"
    assert np.all(np.isnan(hist.loss)) and hist.final_accuracy is None
    # the reported layer is the first whose output is not finite (for the whole data set here)
    _, cache = H.forward(net, x)
    bad = [i + 1 for i, h in enumerate(cache.post) if not np.all(np.isfinite(h))]
    assert bad and hist.diverged_layer == bad[0]


@pytest.mark.parametrize("lr, factor", [(1e4, None), (10.0, 1e6)])
def test_divergence_later_in_training_keeps_the_losses_before_it(lr, factor):
    """A healthy start with a far too large learning rate: finite losses, then a reported divergence
    (overflow to inf/NaN, or with ``divergence_factor`` a loss a million times the first one)."""
    rng = np.random.default_rng(5)
    x, y = H.two_moons(200, rng)
    net = H.build_mlp([2, 64, 64, 64, 2], rng, init="kaiming_normal")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hist = H.train(net, x, y, rng, steps=200, lr=lr, divergence_factor=factor)
    assert caught == []
    assert hist.diverged and hist.diverged_at > 0
    assert np.all(np.isfinite(hist.loss[:hist.diverged_at]))
    assert np.all(np.isnan(hist.loss[hist.diverged_at:]))
    if factor is not None:
        assert np.all(hist.loss[:hist.diverged_at] <= factor * hist.loss[0])
    assert 1 <= hist.diverged_layer <= net.depth
    assert len(hist.recorded_steps) == hist.diverged_at
    assert f"diverged at step {hist.diverged_at} (layer {hist.diverged_layer})" == hist.summary()


def test_without_divergence_factor_a_finite_blow_up_finishes():
    """The default only stops on inf/NaN: this run's loss reaches ~1e39 and comes back finite."""
    rng = np.random.default_rng(5)
    x, y = H.two_moons(200, rng)
    net = H.build_mlp([2, 64, 64, 64, 2], rng, init="kaiming_normal")
    hist = H.train(net, x, y, rng, steps=30, lr=10.0)
    assert not hist.diverged and np.nanmax(hist.loss) > 1e30


def test_exploding_history_plots_cleanly():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    net, x, y, rng = _exploding()
    hist = H.train(net, x, y, rng, steps=10)
    good_net, gx, gy, grng = _moons()
    good = H.train(good_net, gx, gy, grng, steps=10)
    fig = Figure()
    canvas = FigureCanvasAgg(fig)
    ax = fig.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        H.loss_curves(ax, {"exploding": hist.loss, "healthy": good.loss})
        canvas.draw()
    assert hist.diverged and math.isfinite(good.loss[-1])
    assert len(ax.get_lines()) == 2


# --------------------------------------------------------------------------------------------
# train_ensemble


def _data():
    return H.teacher_classification(256, 5, 3, np.random.default_rng(10))


@pytest.mark.parametrize("activation, momentum", [("relu", 0.9), ("leaky_relu", 0.0), ("tanh", 0.5)])
def test_train_ensemble_reproduces_train(activation, momentum):
    """Each network of the ensemble follows helpers.train exactly (same generator, same steps)."""
    x, y = _data()
    sizes = [5, 16, 16, 3]
    nets, rngs, reference = [], [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        nets.append(H.build_mlp(sizes, rng, activation=activation, slope=0.1))
        rngs.append(rng)
        rng_ref = np.random.default_rng(seed)
        net_ref = H.build_mlp(sizes, rng_ref, activation=activation, slope=0.1)
        hist = H.train(net_ref, x, y, rng_ref, steps=40, lr=0.05, momentum=momentum, batch_size=16)
        reference.append((hist, net_ref))
    run = H.train_ensemble(nets, x, y, rngs, steps=40, lr=0.05, momentum=momentum, batch_size=16)
    for k, (hist, net_ref) in enumerate(reference):
        assert np.allclose(run.loss[k], hist.loss, rtol=1e-9, atol=1e-12)
        assert run.accuracy[k] == pytest.approx(hist.final_accuracy)
        for w, w_ref in zip(nets[k].weights + nets[k].biases, net_ref.weights + net_ref.biases):
            assert np.allclose(w, w_ref, rtol=1e-9, atol=1e-12)
    assert np.all(run.diverged_at == -1)


def test_train_ensemble_gradient_norms_at_init():
    """delta_norm and weight_grad_norm are the norms of loss_and_grads on the first minibatch."""
    x, y = _data()
    rng = np.random.default_rng(3)
    net = H.build_mlp([5, 8, 8, 3], rng)
    idx = copy.deepcopy(rng).choice(len(x), size=32, replace=False)   # the first minibatch train_ensemble draws
    _, grads, _ = H.loss_and_grads(net.copy(), x[idx], y[idx])
    run = H.train_ensemble([net], x, y, [rng], steps=1, lr=0.01, batch_size=32)
    assert np.allclose(run.delta_norm[0], [np.linalg.norm(d) for d in grads.d_pre], rtol=1e-12)
    assert np.allclose(run.weight_grad_norm[0], [np.linalg.norm(g) for g in grads.weights], rtol=1e-12)


def test_train_ensemble_divergence_freezes_only_that_network():
    x, y = _data()
    sizes = [5, 16, 16, 16, 3]       # a deep linear network: huge weights overflow within a few steps
    nets = [H.build_mlp(sizes, np.random.default_rng(0), activation="identity"),
            H.build_mlp(sizes, np.random.default_rng(1), activation="identity", init="normal",
                        init_kwargs={"std": 30.0})]
    rngs = [np.random.default_rng(10), np.random.default_rng(11)]
    initial = [w.copy() for w in nets[1].weights]
    ref_net = nets[1].copy()
    reference = H.train(ref_net, x, y, np.random.default_rng(11), steps=60, lr=0.05, momentum=0.9, batch_size=32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no RuntimeWarning may escape
        run = H.train_ensemble(nets, x, y, rngs, steps=60, lr=0.05, momentum=0.9, batch_size=32)
    assert reference.diverged and run.diverged_at[1] == reference.diverged_at
    assert np.all(np.isnan(run.loss[1, run.diverged_at[1]:])) and np.isnan(run.accuracy[1])
    assert run.diverged_at[0] == -1 and np.all(np.isfinite(run.loss[0])) and run.accuracy[0] > 0.8
    # Frozen at divergence: the weights are those helpers.train stopped with, not the initial ones.
    assert all(np.allclose(a, b, rtol=1e-9, equal_nan=True) for a, b in zip(nets[1].weights, ref_net.weights))
    assert not any(np.array_equal(a, b) for a, b in zip(initial, nets[1].weights))


def test_train_ensemble_rejects_bad_input():
    x, y = _data()
    a = H.build_mlp([5, 8, 3], np.random.default_rng(0))
    b = H.build_mlp([5, 9, 3], np.random.default_rng(0))
    c = H.build_mlp([5, 8, 3], np.random.default_rng(0), activation="tanh")
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="one architecture"):
        H.train_ensemble([a, b], x, y, [rng, rng])
    with pytest.raises(ValueError, match="activation"):
        H.train_ensemble([a, c], x, y, [rng, rng])
    with pytest.raises(ValueError, match="rngs"):
        H.train_ensemble([a], x, y, [rng, rng])
    with pytest.raises(TypeError, match="nets"):
        H.train_ensemble(a, x, y, [rng])
    with pytest.raises(TypeError, match=r"rngs\[0\]"):
        H.train_ensemble([a], x, y, [0])
    with pytest.raises(ValueError, match="momentum"):
        H.train_ensemble([a], x, y, [rng], momentum=1.0)
    with pytest.raises(ValueError, match=r"x must have shape"):
        H.train_ensemble([a], x[:, :4], y, [rng])
    with pytest.raises(ValueError, match="integer labels"):
        H.train_ensemble([a], x, y + 5, [rng])
    with pytest.raises(ValueError, match="lr"):
        H.train_ensemble([a], x, y, [rng], lr=0.0)




def test_train_ensemble_shared_generator_shares_minibatches_and_evaluates():
    """Networks given one Generator see the same minibatches; eval_loss is the full-set loss."""
    x, y = _data()
    rng = np.random.default_rng(5)
    a = H.build_mlp([5, 8, 3], np.random.default_rng(0))
    twin = a.copy()
    run = H.train_ensemble([a, twin], x, y, [rng, rng], steps=20, lr=0.1, eval_every=5)
    assert np.array_equal(run.loss[0], run.loss[1])
    assert list(run.eval_steps) == [0, 5, 10, 15, 20] and run.eval_loss.shape == (2, 5)
    full = H.softmax_cross_entropy(H.predict(a, x), y)[0]
    assert run.eval_loss[0, -1] == pytest.approx(full, rel=1e-12)
