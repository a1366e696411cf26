"""The width chapter's module: the SP/NTK/muP table, equivalent forms, the coordinate check,
learning-rate sweeps as ensembles, the empirical NTK and lazy versus rich training."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import parametrization as P
from helpers.layers import Dense

R = np.random.default_rng


def _data(n=24, d=6, classes=3, seed=0):
    rng = R(seed)
    return rng.standard_normal((n, d)), rng.integers(0, classes, n)


@pytest.mark.parametrize("param, kind, quantity, power", [
    # Yang et al. 2022, Table 3 (muP): output variance 1/fan_in^2, SGD lr fan_out / 1 / 1/fan_in,
    # Adam lr 1 / 1/fan_in / 1/fan_in for input / hidden / output weights
    ("mup", "input", "init_var", 0.0), ("mup", "hidden", "init_var", -1.0), ("mup", "output", "init_var", -2.0),
    ("mup", "input", "lr_sgd", 1.0), ("mup", "hidden", "lr_sgd", 0.0), ("mup", "output", "lr_sgd", -1.0),
    ("mup", "input", "lr_adam", 0.0), ("mup", "hidden", "lr_adam", -1.0), ("mup", "output", "lr_adam", -1.0),
    # SP: 1/fan_in everywhere, one learning rate
    ("sp", "hidden", "init_var", -1.0), ("sp", "output", "init_var", -1.0), ("sp", "input", "lr_sgd", 0.0),
    ("sp", "output", "lr_adam", 0.0),
    # NTK in table form: Jacot's constant lr on raw weights is lr / fan_in on W
    ("ntk", "input", "lr_sgd", 0.0), ("ntk", "hidden", "lr_sgd", -1.0), ("ntk", "output", "lr_sgd", -1.0),
    ("ntk", "input", "lr_adam", -0.5), ("ntk", "hidden", "lr_adam", -1.5), ("ntk", "output", "lr_adam", -1.0),
])
def test_table_exponents(param, kind, quantity, power):
    assert P.scaling_exponent(param, kind, quantity) == pytest.approx(power, abs=1e-12)
    assert P.scaling_exponent(param, kind, "multiplier") == pytest.approx(0.0, abs=1e-12)


def test_every_table_cell_has_a_source():
    for param in P.PARAMETRIZATIONS:
        for kind in P.KINDS:
            rule = P.TABLE[param][kind]
            assert rule.source and rule.init_var and rule.lr_sgd and rule.lr_adam


def test_native_forms_as_published():
    # Jacot et al.: raw N(0, 1) weights behind sqrt(sigma_w2 / fan_in), the same lr for every layer
    for kind, fans in (("input", (64, 512, 64, 64)), ("hidden", (512, 512, 64, 64)), ("output", (512, 10, 64, 10))):
        s = P.layer_scales("ntk", kind, fans[0], fans[1], base_fan_in=fans[2], base_fan_out=fans[3], form="native")
        assert s.init_var == pytest.approx(1.0)
        assert s.multiplier == pytest.approx(np.sqrt(2.0 / fans[0]))
        assert s.lr_sgd * 2.0 / fans[2] == pytest.approx(1.0)  # width-independent
    # the mup package's MuReadout: multiplier 1 / width_mult, weights rescaled by sqrt(width_mult) from
    # SP's 1/fan_in, MuSGD multiplies the lr of the (vector-like) readout by width_mult, MuAdam leaves it
    s = P.layer_scales("mup", "output", 512, 10, base_fan_in=64, base_fan_out=10, form="native")
    assert s.multiplier == pytest.approx(64 / 512)
    assert s.init_var == pytest.approx(2.0 / 512 * 8)
    assert s.lr_sgd == pytest.approx(8.0) and s.lr_adam == pytest.approx(1.0)
    hidden = P.layer_scales("mup", "hidden", 512, 512, base_fan_in=64, base_fan_out=64, form="native")
    assert hidden.lr_adam == pytest.approx(1 / 8) and hidden.lr_sgd == pytest.approx(1.0)  # MuAdam: lr / width_mult


def test_all_parametrizations_coincide_at_the_base_width():
    x, _ = _data(d=8)
    outs = []
    for param in P.PARAMETRIZATIONS:
        m = P.build(param, 32, R(5), d_in=8, d_out=3, base_width=32)
        assert all(v == 1.0 for v in m.lr_sgd.values()) and all(v == 1.0 for v in m.lr_adam.values())
        outs.append(m.net.forward(x))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])


def test_rescale_keeps_the_function():
    s = P.LayerScales(0.5, 1.0, 2.0, 3.0)
    r = P.rescale(s, 4.0)
    assert r.init_var * r.multiplier**2 == pytest.approx(s.init_var * s.multiplier**2)
    assert r.lr_sgd * r.multiplier**2 == pytest.approx(s.lr_sgd * s.multiplier**2)
    assert r.lr_adam * r.multiplier == pytest.approx(s.lr_adam * s.multiplier)


def _effective(model):
    return [layer.multiplier * layer.weight for layer in model.dense]


@pytest.mark.parametrize("param", ["ntk", "mup"])
@pytest.mark.parametrize("optimizer, tol", [("sgd", 1e-11), ("adam", 1e-7)])
def test_table_and_native_forms_train_the_same_network(param, optimizer, tol):
    x, y = _data(d=6)
    from helpers.network import softmax_cross_entropy

    models = [P.build(param, 48, R(2), d_in=6, d_out=3, base_width=16, form=f) for f in P.FORMS]
    np.testing.assert_allclose(models[0].net.forward(x), models[1].net.forward(x), rtol=1e-12, atol=1e-12)
    kwargs = {"eps": 1e-14} if optimizer == "adam" else {}
    opts = [m.optimizer(optimizer, 0.05, **kwargs) for m in models]
    for _ in range(3):
        for m, opt in zip(models, opts):
            _, grad = softmax_cross_entropy(m.net.forward(x), y)
            m.net.backward(grad)
            opt.step()
    for a, b in zip(_effective(models[0]), _effective(models[1])):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    # and the training moved the weights (the check is not vacuous)
    start = _effective(P.build(param, 48, R(2), d_in=6, d_out=3, base_width=16))
    assert max(np.max(np.abs(a - b)) for a, b in zip(_effective(models[0]), start)) > 1e-3


def test_empirical_ntk_equals_jacobian_products_by_finite_differences():
    rng = R(3)
    model = P.build("ntk", 7, rng, d_in=3, d_out=1, hidden_layers=2, base_width=7, form="native")
    x = rng.standard_normal((5, 3))
    kernel = P.empirical_ntk(model, x)
    rows = []
    eps = 1e-6
    for layer in model.dense:
        w = layer.params["weight"]
        cols = np.empty((len(x), w.size))
        for k, idx in enumerate(np.ndindex(w.shape)):
            keep = w[idx]
            w[idx] = keep + eps
            up = model.net.forward(x)[:, 0]
            w[idx] = keep - eps
            down = model.net.forward(x)[:, 0]
            w[idx] = keep
            cols[:, k] = (up - down) / (2 * eps)
        rows.append(cols)
    jac = np.concatenate(rows, axis=1)
    np.testing.assert_allclose(kernel, jac @ jac.T, rtol=1e-7, atol=1e-9)
    # per-layer factors weight each layer's share
    factors = {"0.weight": 2.0, "2.weight": 0.0, "4.weight": 1.0}
    sizes = [r.shape[1] for r in rows]
    scale = np.concatenate([np.full(s, f) for s, f in zip(sizes, factors.values())])
    np.testing.assert_allclose(P.empirical_ntk(model, x, lr_factors=factors), (jac * scale) @ jac.T,
                               rtol=1e-7, atol=1e-9)


def test_empirical_ntk_of_an_ensemble_is_each_members_kernel():
    rng = R(4)
    ens = P.build("ntk", 9, rng, d_in=2, d_out=1, base_width=9, form="native", ensemble=3)
    x = R(5).standard_normal((4, 2))
    kernels = P.empirical_ntk(ens, np.broadcast_to(x, (3, 4, 2)))
    for e in range(3):
        one = P.build("ntk", 9, R(0), d_in=2, d_out=1, base_width=9, form="native")
        for layer, big in zip(one.dense, ens.dense):
            layer.params["weight"] = big.weight[e].copy()
        np.testing.assert_allclose(kernels[e], P.empirical_ntk(one, x), rtol=1e-12)


def test_coordinate_check_flat_under_mup_growing_under_sp():
    x, y = _data(n=16, d=8, classes=4)
    widths = [32, 64, 128, 256, 512]
    sp = P.coordinate_check("sp", widths, x, y, seeds=2, steps=2, lr=0.02, base_width=32)
    mup = P.coordinate_check("mup", widths, x, y, seeds=2, steps=2, lr=0.02, base_width=32)
    assert sp.size.shape == (5, 3, 3) and sp.size_seeds.shape == (5, 2, 3, 3)
    assert np.all(np.abs(mup.slopes[-1]) < 0.2)
    assert sp.slopes[-1][1] > 0.5 and sp.slopes[-1][2] > 0.5
    # at initialization both are flat except muP's output, which starts ~ n^(-1/2)
    assert np.all(np.abs(sp.slopes[0]) < 0.1)
    assert mup.slopes[0][2] == pytest.approx(-0.5, abs=0.1)


def test_lr_sweep_members_equal_separate_runs():
    x, y = _data(n=40, d=5, classes=3)
    sweep = P.lr_sweep("mup", [16, 32], [0.05, 0.4], x, y, seeds=2, steps=6, batch_size=8, base_width=16,
                       dtype=np.float64)
    assert sweep.final_loss.shape == (2, 2, 2) and sweep.curves.shape == (2, 2, 2, 6)
    alone = P.lr_sweep("mup", [32], [0.4], x, y, seeds=2, steps=6, batch_size=8, base_width=16, dtype=np.float64)
    np.testing.assert_allclose(sweep.final_loss[1, 1], alone.final_loss[0, 0], rtol=1e-10)
    assert sweep.best_lr.shape == (2,)


def test_lr_sweep_reports_divergence_as_inf():
    x, y = _data(n=40, d=5, classes=3)
    sweep = P.lr_sweep("sp", [16], [0.01, 1e6], x, y, seeds=1, steps=5, batch_size=8, base_width=16)
    assert np.isfinite(sweep.final_loss[0, 0, 0]) and sweep.final_loss[0, 1, 0] == np.inf


def test_lazy_rich_moves_less_as_alpha_grows():
    rng = R(6)
    x = rng.standard_normal((12, 3))
    y = np.sin(x[:, 0])
    res = P.lazy_rich([0.1, 1.0, 10.0, 100.0], x, y, R(7), width=64, steps=100, lr=1.0)
    assert np.all(np.diff(res.weight_change) < 0) and np.all(np.diff(res.linear_gap) < 0)
    # weights move like 1 / alpha in the lazy regime
    assert res.weight_change[2] / res.weight_change[3] == pytest.approx(10.0, rel=0.1)
    assert res.linear_gap[-1] < 0.01 and res.ntk_change[-1] < 0.01


def test_ntk_fluctuation_shrinks_with_width():
    g = np.linspace(0, np.pi, 6)
    x = np.stack([np.cos(g), np.sin(g)], axis=1)
    kernels, errors = P.ntk_fluctuation([16, 1024], x, seeds=3)
    assert kernels.shape == (2, 3, 6, 6)
    assert errors[1].mean() < errors[0].mean() / 3


def test_build_shapes_and_names():
    m = P.build("mup", 20, R(0), d_in=4, d_out=2, hidden_layers=3, base_width=10, ensemble=5)
    assert [l.weight.shape for l in m.dense] == [(5, 20, 4), (5, 20, 20), (5, 20, 20), (5, 2, 20)]
    assert m.kinds == ["input", "hidden", "hidden", "output"]
    assert sorted(m.lr_sgd) == ["0.weight", "2.weight", "4.weight", "6.weight"]
    assert m.lr_sgd["0.weight"] == 2.0 and m.lr_adam["2.weight"] == 0.5
    assert all(isinstance(l, Dense) for l in m.copy().dense)
