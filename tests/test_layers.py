"""The layer model: every layer's backward against float64 central finite differences, and ensembles."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import layers as L

R = np.random.default_rng
TOL = 1e-7  # central differences with eps = 1e-6 are accurate to ~1e-10 on these smooth maps


def _dense(shape, rng, bias=True, **kw):
    w = rng.standard_normal(shape) / np.sqrt(shape[-1])
    return L.Dense(w, rng.standard_normal(shape[:-1]) if bias else None, **kw)


CASES = {
    "dense": (lambda r: _dense((4, 3), r), (5, 3)),
    "dense_no_bias_multiplier": (lambda r: _dense((4, 3), r, bias=False, multiplier=0.5), (5, 3)),
    "dense_tokens": (lambda r: _dense((4, 3), r), (2, 5, 3)),
    "dense_ensemble": (lambda r: _dense((3, 4, 3), r), (3, 5, 3)),
    "act_tanh": (lambda r: L.Act("tanh"), (5, 4)),
    "act_selu_ensemble": (lambda r: L.Act("selu"), (2, 5, 4)),
    "layer_norm": (lambda r: L.LayerNorm(4), (5, 4)),
    "layer_norm_tokens_no_affine": (lambda r: L.LayerNorm(4, affine=False), (2, 3, 4)),
    "batch_norm": (lambda r: L.BatchNorm(4), (6, 4)),
    "batch_norm_ensemble": (lambda r: L.BatchNorm(4), (2, 6, 4)),
    "residual": (lambda r: L.Residual(L.Sequential([_dense((4, 4), r), L.Act("tanh"), _dense((4, 4), r)]), 0.7),
                 (5, 4)),
    "residual_trainable": (lambda r: L.Residual(L.Sequential([_dense((4, 4), r), L.Act("sigmoid")]), 0.3,
                                                trainable=True), (5, 4)),
    "sequential_mlp": (lambda r: L.Sequential([_dense((6, 3), r), L.Act("softsign"), L.LayerNorm(6),
                                               _dense((2, 6), r)]), (5, 3)),
    # a fixed mask makes dropout one linear map, the same on every forward of the check
    "dropout_fixed_mask": (lambda r: L.Dropout(0.3, r, fixed_mask=(r.random((5, 4)) >= 0.3) / 0.7), (5, 4)),
    "dropout_ensemble": (lambda r: L.Dropout(0.5, r, fixed_mask=(r.random((2, 5, 4)) >= 0.5) / 0.5), (2, 5, 4)),
    "sequential_dropout_mlp": (lambda r: L.Sequential([_dense((6, 3), r), L.Act("tanh"),
                                                       L.Dropout(0.4, r, fixed_mask=(r.random((5, 6)) >= 0.4) / 0.6),
                                                       _dense((2, 6), r)]), (5, 3)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward_matches_central_differences(case):
    make, x_shape = CASES[case]
    rng = R(sum(map(ord, case)))
    layer = make(rng)
    errors = L.gradient_check(layer, rng.standard_normal(x_shape), R(1))
    assert set(errors) == {"x"} | {name for name, _, _ in layer.named_params()}
    assert max(errors.values()) < TOL, errors


def test_gradient_check_detects_a_wrong_backward():
    class Wrong(L.Act):
        def backward(self, dy, ws=None):
            return 1.01 * super().backward(dy, ws)

    errors = L.gradient_check(Wrong("tanh"), R(0).standard_normal((4, 3)), R(1))
    assert errors["x"] > 1e-3


def test_dropout_draws_the_inverted_mask_from_its_generator():
    """Each forward draws a fresh mask (rng.random(x.shape) >= p) / (1 - p) in x's dtype and keeps it."""
    x = R(2).standard_normal((6, 5)).astype(np.float32)
    layer = L.Dropout(0.25, R(5))
    y = layer.forward(x)
    expected = (R(5).random(x.shape) >= 0.25).astype(np.float32) / 0.75
    assert layer.mask.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(layer.mask, expected)
    np.testing.assert_array_equal(y, x * expected)
    dy = R(3).standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(dy), dy * expected)
    first = layer.mask
    layer.forward(x)
    assert not np.array_equal(layer.mask, first)                # a new mask on every forward


def test_dropout_keeps_the_mean_in_expectation():
    """E[x * m] = x: averaged over 50000 examples, every feature keeps its value.

    With p = 0.3 the mask has mean 1 and standard deviation sqrt(p / (1 - p)) = 0.65, so the mean of
    50000 draws has a standard error of 0.0029 |x|; the tolerance 0.02 |x| is about 7 of them.
    """
    v = np.array([1.0, -2.0, 0.5, 3.0])
    x = np.tile(v, (50_000, 1))
    layer = L.Dropout(0.3, R(11))
    y = layer.forward(x)
    np.testing.assert_allclose(y.mean(axis=0), v, rtol=0.02)
    assert set(np.unique(layer.mask)) == {0.0, 1 / 0.7}
    assert abs(np.mean(layer.mask == 0) - 0.3) < 0.005         # 200000 draws: 4.9 standard errors


def test_dropout_works_on_ensembles_with_one_mask_entry_per_member():
    x = np.ones((3, 40, 6))
    layer = L.Dropout(0.5, R(12))
    y = layer.forward(x)
    assert y.shape == x.shape == layer.mask.shape
    assert not np.array_equal(layer.mask[0], layer.mask[1])   # members are dropped independently


def test_dropout_at_rate_zero_draws_nothing_and_passes_everything():
    x, dy = R(4).standard_normal((5, 3)), R(5).standard_normal((5, 3))
    rng = R(6)
    state = rng.bit_generator.state
    layer = L.Dropout(0.0, rng)
    assert layer.forward(x) is x and layer.mask is None
    assert layer.backward(dy) is dy
    assert rng.bit_generator.state == state
    L.Dropout(0.1, rng).forward(x)
    assert rng.bit_generator.state != state                     # a non-zero rate does draw


@pytest.mark.parametrize("p, error", [(1.0, ValueError), (-0.1, ValueError), (float("nan"), ValueError),
                                      (1.5, ValueError), ("0.5", TypeError), (True, TypeError)])
def test_dropout_rejects_a_rate_outside_zero_to_one(p, error):
    with pytest.raises(error, match="p must"):
        L.Dropout(p, R(0))


def test_dropout_rejects_bad_generators_masks_and_gradients():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        L.Dropout(0.5, 0)
    with pytest.raises(TypeError, match="fixed_mask must be a numeric array"):
        L.Dropout(0.5, R(0), fixed_mask="mask")
    with pytest.raises(TypeError, match="fixed_mask must be a numeric array"):
        L.Dropout(0.5, R(0)).fixed_mask = ["drop", "keep"]
    with pytest.raises(ValueError, match=r"fixed_mask must have the input's shape \(2, 3\)"):
        L.Dropout(0.5, R(0), fixed_mask=np.ones((3, 2))).forward(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="needs a forward pass first"):
        L.Dropout(0.5, R(0)).backward(np.ones((2, 3)))
    layer = L.Dropout(0.5, R(0))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dy must have the shape of the last forward's output \(2, 3\)"):
        layer.backward(np.ones((3, 2)))


def test_ensemble_members_equal_separate_layers():
    """One batched pass over stacked weights gives each member's own pass (to rounding)."""
    rng = R(3)
    ws = [rng.standard_normal((5, 4)) for _ in range(3)]
    bs = [rng.standard_normal(5) for _ in range(3)]
    xs = rng.standard_normal((3, 7, 4))
    dys = rng.standard_normal((3, 7, 5))
    stacked = L.Sequential([L.Dense(L.stack(ws), L.stack(bs)), L.Act("tanh")])
    y = stacked.forward(xs)
    dx = stacked.backward(dys)
    for k in range(3):
        one = L.Sequential([L.Dense(ws[k], bs[k]), L.Act("tanh")])
        np.testing.assert_allclose(y[k], one.forward(xs[k]), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(dx[k], one.backward(dys[k]), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(stacked[0].grads["weight"][k], one[0].grads["weight"], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(stacked[0].grads["bias"][k], one[0].grads["bias"], rtol=1e-12, atol=1e-14)


def test_workspace_gives_bit_identical_results_and_reuses_buffers():
    rng = R(4)
    net = L.Sequential([_dense((8, 3), rng), L.Act("relu"), _dense((2, 8), rng)])
    x, dy = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    y_plain, dx_plain = net.forward(x).copy(), net.backward(dy).copy()
    grads_plain = [g.copy() for _, _, g in net.named_params()]
    ws = L.Workspace()
    y = net.forward(x, ws)
    assert np.array_equal(y, y_plain) and np.array_equal(net.backward(dy, ws), dx_plain)
    assert all(np.array_equal(a, g) for a, (_, _, g) in zip(grads_plain, net.named_params()))
    size = ws.nbytes
    net.forward(x, ws)
    net.backward(dy, ws)
    assert ws.nbytes == size > 0


def test_layers_reject_bad_input():
    with pytest.raises(ValueError, match="weight must have shape"):
        L.Dense(np.ones(3))
    with pytest.raises(ValueError, match="bias must have shape"):
        L.Dense(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 3\)"):
        L.Dense(np.ones((2, 3))).forward(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"x must have shape \(E=2"):
        L.Dense(np.ones((2, 2, 3))).forward(np.ones((3, 4, 3)))
    with pytest.raises(TypeError, match=r"layers\[1\] must be a Layer"):
        L.Sequential([L.Act(), "relu"])
    with pytest.raises(TypeError, match="branch must be a Layer"):
        L.Residual(np.ones(2))
    with pytest.raises(ValueError, match="x must have shape"):
        L.LayerNorm(3).forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="n must be"):
        L.BatchNorm(0)
    with pytest.raises(RuntimeError, match="needs a forward pass first"):
        L.Dense(np.ones((2, 3))).backward(np.ones((1, 2)))
    with pytest.raises(TypeError, match="workspace must be a Workspace"):
        L.check_workspace({})
    with pytest.raises(ValueError, match="arrays must all have one shape"):
        L.stack([np.ones(2), np.ones(3)])


def test_signal_only_backward_matches_the_full_one():
    import helpers as H

    net = H.build_mlp([3, 6, 6, 2], R(5), activation="tanh")
    x, g = R(6).standard_normal((4, 3)), R(7).standard_normal((4, 2))
    _, cache = H.forward(net, x)
    full = H.backward(net, cache, g)
    d_pre = [d.copy() for d in full.d_pre]
    signal = H.backward(net, cache, g, weight_grads=False)
    assert signal.weights is None and signal.biases is None
    assert all(np.array_equal(a, b) for a, b in zip(d_pre, signal.d_pre))


def test_the_mlp_is_a_composition_of_layers():
    """build_mlp gives a Sequential of Dense and Act layers whose own pass is the network's pass."""
    import helpers as H

    net = H.build_mlp([3, 5, 4, 2], R(8), activation="tanh", bias=0.1)
    assert [type(layer).__name__ for layer in net.layers] == ["Dense", "Act", "Dense", "Act", "Dense"]
    assert all(a is layer.weight for a, layer in zip(net.weights, net.dense))
    x = R(9).standard_normal((6, 3))
    out, _ = H.forward(net, x)
    assert np.array_equal(out, L.Sequential(net.layers).forward(x))
