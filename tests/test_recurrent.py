"""Tests for helpers.recurrent: the recurrent cells (backward through time against finite differences)
and the recurrent initializers."""

import math

import numpy as np
import pytest

import helpers as H
from helpers import recurrent as R


def _perturbed(cell, rng, scale=0.3):
    for name, p in cell.params.items():
        cell.params[name] = p + scale * rng.standard_normal(p.shape)
    return cell


CASES = [("rnn", {"activation": "tanh"}), ("rnn", {"activation": "identity"}), ("lstm", {}), ("gru", {})]


@pytest.mark.parametrize("kind,kw", CASES, ids=["rnn-tanh", "rnn-linear", "lstm", "gru"])
@pytest.mark.parametrize("ensemble", [None, 3])
def test_backward_through_time_matches_finite_differences(kind, kw, ensemble):
    rng = np.random.default_rng(0)
    cell = _perturbed(R.make_cell(kind, 3, 4, rng, recurrent="gaussian", spectral_radius=0.9, ensemble=ensemble, **kw), rng)
    x = rng.standard_normal((2, 6, 3) if ensemble is None else (ensemble, 2, 6, 3))
    errors = H.gradient_check(cell, x, rng)
    assert set(errors) == {"x", *cell.params}
    assert max(errors.values()) < 1e-7, errors


def test_relu_rnn_backward_away_from_kinks():
    """ReLU is not differentiable at 0; with inputs that keep every unit on, the check is exact."""
    rng = np.random.default_rng(1)
    cell = R.simple_rnn(3, 4, rng, recurrent="identity", activation="relu")
    cell.params["bias"] = np.full(4, 5.0)
    errors = H.gradient_check(cell, np.abs(rng.standard_normal((2, 5, 3))), rng)
    assert max(errors.values()) < 1e-7, errors


def test_initial_states_get_gradients():
    rng = np.random.default_rng(2)
    cell = _perturbed(R.lstm(2, 3, rng), rng)
    x, h0, c0 = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    r = rng.standard_normal((2, 4, 3))

    def loss(h, c):
        return float(np.sum(r * cell.forward(x, h0=h, c0=c)))

    loss(h0, c0)
    cell.backward(r)
    dh0, dc0 = cell.dh0.copy(), cell.dc0.copy()
    eps = 1e-6
    for arr, grad, which in ((h0, dh0, "h"), (c0, dc0, "c")):
        num = np.empty(arr.shape)
        for i in np.ndindex(arr.shape):
            keep = arr[i]
            arr[i] = keep + eps
            up = loss(h0, c0)
            arr[i] = keep - eps
            down = loss(h0, c0)
            arr[i] = keep
            num[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, num, atol=1e-7, err_msg=which)


def test_ensemble_members_equal_single_cells():
    rng = np.random.default_rng(3)
    ens = _perturbed(R.gru(2, 3, rng, ensemble=2), rng)
    x = rng.standard_normal((2, 4, 5, 2))
    out = ens.forward(x)
    for e in range(2):
        single = R.GRU(*(ens.params[k][e] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
        np.testing.assert_allclose(single.forward(x[e]), out[e], atol=1e-12)


def test_linear_orthogonal_recurrence_scales_gradients_by_rho_power():
    rng = np.random.default_rng(4)
    rho = 0.9
    cell = R.simple_rnn(2, 16, rng, recurrent="orthogonal", spectral_radius=rho, activation="identity")
    cell.forward(rng.standard_normal((3, 30, 2)))
    dy = np.zeros((3, 30, 16))
    dy[:, -1] = rng.standard_normal((3, 16))
    cell.backward(dy)
    ratio = np.linalg.norm(cell.dh0, axis=-1) / np.linalg.norm(dy[:, -1], axis=-1)
    np.testing.assert_allclose(ratio, rho**30, rtol=1e-10)


def test_lstm_cell_state_gradient_is_the_product_of_forget_gates_without_recurrence():
    rng = np.random.default_rng(5)
    cell = R.lstm(2, 4, rng, forget_bias=1.0)
    cell.params["weight_hh"][:] = 0.0          # no path through h: only the cell state carries the gradient
    cell.params["weight_ih"][:] = 0.0
    cell.forward(rng.standard_normal((1, 10, 2)))
    dy = np.zeros((1, 10, 4))
    dy[:, -1] = 1.0
    cell.backward(dy)
    f = R.sigmoid(1.0)
    np.testing.assert_allclose(cell.dc0 / cell.dc[:, -1], f**10, rtol=1e-12)


@pytest.mark.parametrize("kind", R.RECURRENT_KINDS)
@pytest.mark.parametrize("rho", [0.5, 1.0, 1.3])
def test_recurrent_matrix_has_the_asked_spectral_radius(kind, rho):
    w = R.recurrent_matrix(kind, 64, np.random.default_rng(6), spectral_radius=rho)
    assert R.spectral_radius(w) == pytest.approx(rho, rel=1e-10)
    if kind == "orthogonal":
        np.testing.assert_allclose(w @ w.T, rho**2 * np.eye(64), atol=1e-12)
    if kind == "identity":
        np.testing.assert_array_equal(w, rho * np.eye(64))


def test_gaussian_matrix_follows_the_circular_law():
    rng = np.random.default_rng(7)
    g = rng.standard_normal((500, 500)) / math.sqrt(500)
    eig = np.linalg.eigvals(g)
    for r in (0.3, 0.6, 0.9):
        assert np.mean(np.abs(eig) < r) == pytest.approx(r**2, abs=0.03)
    w = R.recurrent_matrix("gaussian", 500, rng)
    assert 1.85 < np.linalg.svd(w, compute_uv=False).max() < 2.1   # the norm is about twice the radius


def test_memory_time_formula():
    assert H.memory_time(0.0) == pytest.approx(1 / math.log(2))
    b = np.array([-1.0, 0.5, 3.0])
    np.testing.assert_allclose(R.sigmoid(b) ** H.memory_time(b), np.exp(-1.0), rtol=1e-12)
    assert H.memory_time(math.log(99)) == pytest.approx(99.5, abs=0.01)


def test_sigmoid_is_stable_for_large_arguments():
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # exp(-800) underflows to 0, harmlessly
        s = R.sigmoid(np.array([-800.0, 0.0, 800.0]))
    np.testing.assert_allclose(s, [0.0, 0.5, 1.0])


def test_lstm_bias_forget_and_chrono():
    b = R.lstm_bias(5, forget_bias=1.0)
    np.testing.assert_array_equal(b[5:10], 1.0)
    assert np.all(b[:5] == 0) and np.all(b[10:] == 0)
    c = R.lstm_bias(20_000, np.random.default_rng(8), forget_bias="chrono", t_max=50)
    bf = c[20_000:40_000]
    np.testing.assert_array_equal(c[:20_000], -bf)
    assert bf.min() >= 0 and bf.max() <= math.log(49)
    u = np.exp(bf)                                  # uniform on [1, 49]
    assert np.mean(u) == pytest.approx(25.0, rel=0.01)
    assert np.var(u) == pytest.approx(48**2 / 12, rel=0.03)
    tau = H.memory_time(bf)
    assert tau.min() >= 1 / math.log(2) - 1e-12 and tau.max() <= 1 / math.log1p(1 / 49) + 1e-9


def test_last_step_backward():
    layer = R.LastStep()
    x = np.random.default_rng(9).standard_normal((2, 3, 5, 4))
    assert H.gradient_check(layer, x, np.random.default_rng(10))["x"] < 1e-9


def test_cells_compose_with_the_layer_model():
    rng = np.random.default_rng(11)
    model = H.Sequential([R.lstm(2, 3, rng), R.LastStep(), H.Dense(rng.standard_normal((1, 3)), np.zeros(1))])
    errors = H.gradient_check(model, rng.standard_normal((2, 4, 2)), rng)
    assert max(errors.values()) < 1e-7
    assert {n for n, _, _ in model.named_params()} == {"0.weight_ih", "0.weight_hh", "0.bias", "2.weight", "2.bias"}


def test_bad_inputs_name_the_parameter():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="kind"):
        R.recurrent_matrix("unitary", 4, rng)
    with pytest.raises(ValueError, match="spectral_radius"):
        R.recurrent_matrix("orthogonal", 4, rng, spectral_radius=0.0)
    with pytest.raises(TypeError, match="rng"):
        R.recurrent_matrix("gaussian", 4, None)
    with pytest.raises(ValueError, match="weight_hh"):
        R.SimpleRNN(np.zeros((4, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="weight_ih"):
        R.LSTM(np.zeros((6, 2)), np.zeros((6, 1)))
    with pytest.raises(ValueError, match="x must have shape"):
        R.simple_rnn(2, 3, rng).forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="h0"):
        R.simple_rnn(2, 3, rng).forward(np.zeros((4, 5, 2)), h0=np.zeros((4, 2)))
    with pytest.raises(ValueError, match="dy"):
        cell = R.gru(2, 3, rng)
        cell.forward(np.zeros((1, 2, 2)))
        cell.backward(np.zeros((1, 3, 3)))
    with pytest.raises(RuntimeError, match="forward pass first"):
        R.lstm(2, 3, rng).backward(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="t_max"):
        R.lstm_bias(3, rng, forget_bias="chrono")
    with pytest.raises(ValueError, match="t_max"):
        R.chrono_forget_bias(3, 2.0, rng)
    with pytest.raises(ValueError, match="forget_bias"):
        R.lstm_bias(3, forget_bias="uniform")
    with pytest.raises(ValueError, match="cell"):
        R.make_cell("transformer", 2, 3, rng)
    with pytest.raises(ValueError, match="bias must be finite"):
        H.memory_time(float("nan"))
    with pytest.raises(ValueError, match="w must be a square"):
        R.spectral_radius(np.zeros((2, 3)))
