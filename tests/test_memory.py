"""Tests for helpers.memory: the experiments of the chapter on recurrent networks, and its lab."""

import numpy as np
import pytest

from helpers import memory as M
from helpers import recurrent as R


def test_gradient_by_lag_is_rho_power_for_a_linear_orthogonal_recurrence():
    cell = R.simple_rnn(3, 8, np.random.default_rng(0), recurrent="orthogonal", spectral_radius=1.1,
                        activation="identity", ensemble=2)
    g = M.gradient_by_lag(cell, np.random.default_rng(1).standard_normal((2, 4, 20, 3)), np.random.default_rng(2))
    assert g.shape == (2, 21)
    np.testing.assert_allclose(g, np.broadcast_to(1.1 ** np.arange(21), g.shape), rtol=1e-10)


def test_gradient_norms_separate_irnn_from_orthogonal_relu():
    rng = np.random.default_rng(3)
    irnn = M.geometric_mean(M.gradient_norms("rnn", 60, rng, n_hidden=16, recurrent="identity", activation="relu"))
    orth = M.geometric_mean(M.gradient_norms("rnn", 60, rng, n_hidden=16, recurrent="orthogonal", activation="relu"))
    assert irnn[60] > 0.1 and orth[60] < 1e-4


def test_forget_decay_and_fitted_memory_time():
    lags = np.arange(30.0)
    pred = M.forget_decay(np.full(8, 1.0), lags)
    np.testing.assert_allclose(pred, np.exp(-lags / R.memory_time(1.0)), rtol=1e-12)
    assert M.fitted_memory_time(pred[1:], lags[1:]) == pytest.approx(R.memory_time(1.0), rel=1e-10)
    mixed = M.forget_decay(np.array([[0.0, 4.0]]), lags)          # two units: sqrt of the mean of squares
    np.testing.assert_allclose(mixed[0], np.sqrt((R.sigmoid(0.0) ** (2 * lags) + R.sigmoid(4.0) ** (2 * lags)) / 2))


def test_lstm_cell_state_gradient_follows_the_forget_bias_when_weights_are_small():
    rng = np.random.default_rng(4)
    cell = R.lstm(4, 16, rng, forget_bias=1.0, spectral_radius=0.25, ensemble=4)
    g = M.geometric_mean(M.gradient_by_lag(cell, 0.1 * rng.standard_normal((4, 8, 30, 4)), rng, state="c"))
    tau = M.fitted_memory_time(g[1:11], np.arange(1.0, 11.0))
    assert tau == pytest.approx(R.memory_time(1.0), rel=0.25)


def test_adding_problem_targets():
    x, y = M.adding_problem(500, 20, np.random.default_rng(5))
    assert x.shape == (500, 20, 2) and y.shape == (500, 1)
    np.testing.assert_array_equal(x[..., 1].sum(axis=1), 2.0)
    assert np.all(x[:, :10, 1].sum(axis=1) == 1) and np.all(x[:, 10:, 1].sum(axis=1) == 1)
    np.testing.assert_allclose(y[:, 0], np.sum(x[..., 0] * x[..., 1], axis=1))
    assert np.var(y) == pytest.approx(1 / 6, rel=0.15)


def test_train_adding_learns_and_reports_every_member():
    run = M.train_adding({"orthogonal": dict(recurrent="orthogonal"), "irnn": dict(recurrent="identity", activation="relu")},
                         10, np.random.default_rng(6), n_seeds=2, n_hidden=16, steps=150, batch=64)
    assert run.labels == ["orthogonal"] * 2 + ["irnn"] * 2
    assert run.loss.shape == (4, 150) and run.test_mse.shape == (4,)
    assert np.all(run.diverged_at == -1)
    assert np.min(run.test_mse) < 1 / 12          # at least one member beats half the baseline


def test_train_adding_members_differ_only_by_initialization():
    setups = {"a": dict(recurrent="orthogonal")}
    one = M.train_adding(setups, 8, np.random.default_rng(7), n_seeds=2, n_hidden=8, steps=5, batch=16)
    two = M.train_adding(setups, 8, np.random.default_rng(7), n_seeds=2, n_hidden=8, steps=5, batch=16)
    np.testing.assert_array_equal(one.loss, two.loss)


def test_spectrum_shapes():
    eig, sv = M.spectrum("orthogonal", 10, np.random.default_rng(8), spectral_radius=0.5)
    np.testing.assert_allclose(np.abs(eig), 0.5)
    np.testing.assert_allclose(sv, 0.5)


def test_lab_settings_and_callbacks():
    lab = M.lab(n_hidden=8, n_seeds=2)
    assert lab.n_settings <= 48
    d = lab.data(cell="LSTM", init="gaussian", spectral_radius=1.1, seq_len=30)
    assert d["norms"].shape == (2, 31) and d["typical"].shape == (31,)
    fig = lab.figure(cell="ReLU RNN", init="identity", spectral_radius=1.1, seq_len=30)
    assert len(fig.axes) == 1 and fig.axes[0].get_xlim() == (0.0, 30.0)
    assert "ReLU RNN" in lab.alt(lab.params(cell="ReLU RNN"))
    live = lab.live()
    live.controls["cell"].value = "LSTM"
    assert live.params["cell"] == "LSTM"
    np.testing.assert_array_equal(live.data["norms"], lab.data(**live.params)["norms"])


def test_bad_inputs_name_the_parameter():
    rng = np.random.default_rng(0)
    cell = R.simple_rnn(2, 3, rng)
    with pytest.raises(ValueError, match="state"):
        M.gradient_by_lag(cell, np.zeros((1, 3, 2)), rng, state="z")
    with pytest.raises(ValueError, match="state='c' needs an LSTM"):
        M.gradient_by_lag(cell, np.zeros((1, 3, 2)), rng, state="c")
    with pytest.raises(ValueError, match="seq_len"):
        M.gradient_norms("rnn", 0, rng)
    with pytest.raises(ValueError, match="input_scale"):
        M.gradient_norms("rnn", 5, rng, input_scale=-1.0)
    with pytest.raises(ValueError, match="seq_len"):
        M.adding_problem(4, 1, rng)
    with pytest.raises(ValueError, match="setups"):
        M.train_adding({}, 10, rng)
    with pytest.raises(ValueError, match="norms and lags"):
        M.fitted_memory_time(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="cell"):
        M.lab_compute("RNN", "orthogonal", 1.0, 10)
