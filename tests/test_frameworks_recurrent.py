"""Tests for the recurrent-layer defaults of helpers.frameworks (numeric checks of every draw)."""

import math

import numpy as np
import pytest

from helpers import frameworks as F
from helpers import recurrent as R

N_IN, N = 48, 160


@pytest.mark.parametrize("framework", F.FRAMEWORKS)
@pytest.mark.parametrize("cell", F.RECURRENT_CELLS)
def test_recurrent_default_variances_match_draws(framework, cell):
    spec = F.recurrent_default(framework, cell, N_IN, N)
    p = F.recurrent_default_init(framework, cell, N_IN, N, np.random.default_rng(0))
    g = 1 if cell == "rnn" else 4
    assert p["weight_ih"].shape == (g * N, N_IN) and p["weight_hh"].shape == (g * N, N) and p["bias"].shape == (g * N,)
    # >= 7680 draws per matrix: the relative standard error of a sample variance is below 2 %
    assert np.var(p["weight_ih"]) == pytest.approx(spec.var_ih, rel=0.06)
    assert np.mean(p["weight_hh"] ** 2) == pytest.approx(spec.var_hh, rel=0.06)
    # the biases have only G n entries: pool 20 independent draws (>= 3200 entries, standard error < 3 %)
    b = np.stack([F.recurrent_default_init(framework, cell, N_IN, N, np.random.default_rng(s))["bias"]
                  for s in range(20)])
    if cell == "lstm":
        forget, rest = b[:, N:2 * N], np.concatenate([b[:, :N], b[:, 2 * N:]], axis=1)
        assert np.mean(forget) == pytest.approx(spec.forget_bias, abs=4 * math.sqrt(spec.var_bias / forget.size) + 1e-12)
        b = rest
    assert np.var(b) == pytest.approx(spec.var_bias, rel=0.1, abs=1e-15)


def test_pytorch_bounds_use_the_hidden_size():
    p = F.recurrent_default_init("pytorch", "lstm", 500, 25, np.random.default_rng(1))
    k = 1 / math.sqrt(25)   # not 1/sqrt(500): PyTorch's bound depends on hidden_size only
    for name in ("weight_ih", "weight_hh"):
        assert np.abs(p[name]).max() <= k and np.abs(p[name]).max() > 0.98 * k
    assert np.abs(p["bias"]).max() <= 2 * k and np.abs(p["bias"]).max() > k   # a sum of two U[-k, k]


def test_keras_recurrent_kernel_is_orthonormal_over_all_gates():
    p = F.recurrent_default_init("keras", "lstm", 8, 32, np.random.default_rng(2))
    w = p["weight_hh"]                                  # (4n, n) in the book's layout
    np.testing.assert_allclose(w.T @ w, np.eye(32), atol=1e-12)
    block = w[:32]                                      # one gate: not orthogonal, singular values < 1
    assert np.linalg.svd(block, compute_uv=False).max() < 1.0
    np.testing.assert_allclose(p["bias"][32:64], 1.0)
    assert np.all(p["bias"][:32] == 0) and np.all(p["bias"][64:] == 0)
    rnn = F.recurrent_default_init("keras", "rnn", 8, 32, np.random.default_rng(2))["weight_hh"]
    np.testing.assert_allclose(rnn @ rnn.T, np.eye(32), atol=1e-12)


def test_flax_gate_blocks_are_orthogonal_and_input_kernel_truncated():
    p = F.recurrent_default_init("flax", "lstm", 200, 16, np.random.default_rng(3))
    for k in range(4):
        block = p["weight_hh"][16 * k:16 * (k + 1)]
        np.testing.assert_allclose(block @ block.T, np.eye(16), atol=1e-12)
    std = math.sqrt(1 / 200)
    assert np.abs(p["weight_ih"]).max() <= 2 * std / F.TRUNCATED_NORMAL_STD_2 + 1e-15
    assert np.all(p["bias"] == 0)


def test_pytorch_default_rnn_is_contracting():
    """U[-k, k] with k = 1/sqrt(n): Var = 1/(3n), so by the circular law the spectral radius is near 1/sqrt(3)."""
    rho = [R.spectral_radius(F.recurrent_default_init("pytorch", "rnn", 4, 256, np.random.default_rng(s))["weight_hh"])
           for s in range(3)]
    assert np.all(np.abs(np.array(rho) - 1 / math.sqrt(3)) < 0.06)


def test_defaults_feed_the_cells_and_the_table_lists_them():
    p = F.recurrent_default_init("keras", "lstm", 3, 5, np.random.default_rng(4))
    out = R.LSTM(p["weight_ih"], p["weight_hh"], p["bias"]).forward(np.ones((2, 4, 3)))
    assert out.shape == (2, 4, 5)
    table = F.recurrent_defaults_table(8, 32)
    assert table.count("\n") == 7 and "torch.nn.LSTM" in table and "flax.linen.LSTMCell" in table


def test_recurrent_defaults_reject_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="cell"):
        F.recurrent_default("pytorch", "gru_v2", 3, 4)
    with pytest.raises(ValueError, match="framework"):
        F.recurrent_default_init("mxnet", "rnn", 3, 4, rng)
    with pytest.raises(ValueError, match="n_hidden"):
        F.recurrent_default("keras", "lstm", 3, 0)
    with pytest.raises(TypeError, match="rng"):
        F.recurrent_default_init("flax", "rnn", 3, 4, 0)
