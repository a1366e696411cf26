"""Optimizers: two steps of SGD with momentum and of Adam against hand-computed numbers, and the
per-parameter and per-member learning rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import layers as L
from helpers.optimizers import SGD, Adam


def _one_unit():
    """y = w . x + b with w = (1, -2), b = 0.5 and x = (1, 2): y = -2.5 at the start."""
    return L.Dense(np.array([[1.0, -2.0]]), np.array([0.5])), np.array([[1.0, 2.0]])


def _backward_half_square(layer, x):
    """Loss 0.5 y**2, so dL/dy = y; returns y."""
    y = layer.forward(x)
    layer.backward(y)
    return float(y[0, 0])


def test_sgd_momentum_two_steps_by_hand():
    layer, x = _one_unit()
    opt = SGD(layer, lr=0.1, momentum=0.9, lr_multipliers={"bias": 2.0})
    # step 1: y = -2.5, g_w = y x = (-2.5, -5), g_b = -2.5; v = g
    assert _backward_half_square(layer, x) == -2.5
    opt.step()
    # w = (1, -2) - 0.1 (-2.5, -5) = (1.25, -1.5);  b = 0.5 - 0.2 (-2.5) = 1.0
    np.testing.assert_allclose(layer.weight, [[1.25, -1.5]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.bias, [1.0], rtol=0, atol=1e-12)
    # step 2: y = 1.25 - 3 + 1 = -0.75, g_w = (-0.75, -1.5), g_b = -0.75
    # v_w = 0.9 (-2.5, -5) + (-0.75, -1.5) = (-3, -6);  v_b = 0.9 (-2.5) - 0.75 = -3
    assert abs(_backward_half_square(layer, x) + 0.75) < 1e-12
    opt.step()
    # w = (1.25, -1.5) - 0.1 (-3, -6) = (1.55, -0.9);  b = 1.0 - 0.2 (-3) = 1.6
    np.testing.assert_allclose(layer.weight, [[1.55, -0.9]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.bias, [1.6], rtol=0, atol=1e-12)
    assert opt.t == 2


def test_plain_sgd_is_p_minus_lr_g():
    layer, x = _one_unit()
    opt = SGD(layer, lr=0.5)
    _backward_half_square(layer, x)
    opt.step()
    np.testing.assert_allclose(layer.weight, [[1 + 1.25, -2 + 2.5]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.bias, [0.5 + 1.25], rtol=0, atol=1e-12)


def test_adam_two_steps_by_hand():
    layer, x = _one_unit()
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    opt = Adam(layer, lr=lr, betas=(b1, b2), eps=eps)
    # step 1: g = (-2.5, -5 | -2.5); m = 0.1 g, v = 0.001 g^2; m_hat = g, v_hat = g^2,
    # so every coordinate moves by lr * |g| / (|g| + eps), i.e. 0.1 up to 4e-10
    _backward_half_square(layer, x)
    opt.step()
    w1 = [1 + 0.1 * 2.5 / (2.5 + 1e-8), -2 + 0.1 * 5 / (5 + 1e-8)]
    b1_ = 0.5 + 0.1 * 2.5 / (2.5 + 1e-8)
    np.testing.assert_allclose(layer.weight, [w1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.bias, [b1_], rtol=0, atol=1e-12)
    # about (1.1, -1.9 | 0.6): y = 1.1 - 3.8 + 0.6 = -2.1
    y2 = w1[0] * 1 + w1[1] * 2 + b1_
    assert abs(_backward_half_square(layer, x) - y2) < 1e-12 and abs(y2 + 2.1) < 1e-8
    opt.step()
    # step 2, per coordinate with g1 the first gradient and g2 the second (scalar arithmetic):
    # m = 0.09 g1 + 0.1 g2, v = 0.000999 g1^2 + 0.001 g2^2, m_hat = m / 0.19, v_hat = v / 0.001999
    def second(p1, g1, g2):
        m = 0.9 * 0.1 * g1 + 0.1 * g2
        v = 0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2
        return p1 - 0.1 * (m / 0.19) / (math.sqrt(v / 0.001999) + 1e-8)
    want_w = [second(w1[0], -2.5, y2 * 1), second(w1[1], -5.0, y2 * 2)]
    want_b = second(b1_, -2.5, y2)
    np.testing.assert_allclose(layer.weight, [want_w], rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.bias, [want_b], rtol=0, atol=1e-12)
    # the numbers themselves, for w_1: m_hat = (0.09 (-2.5) + 0.1 (-2.1)) / 0.19 = -2.28947,
    # v_hat = (0.000999 * 6.25 + 0.001 * 4.41) / 0.001999 = 5.32954, sqrt = 2.30858, so the step is
    # 0.1 * 2.28947 / 2.30858 = 0.099172 (w_2 has both gradients doubled: the same step)
    np.testing.assert_allclose(np.array(want_w) - w1, [0.099172, 0.099172], atol=1e-6)


def test_adam_step_size_does_not_depend_on_the_gradient_scale():
    steps = []
    for scale in (1e-3, 1.0, 1e3):
        layer, x = _one_unit()
        opt = Adam(layer, lr=0.01, eps=1e-12)
        layer.forward(x)
        layer.backward(np.array([[scale]]))
        opt.step()
        steps.append(layer.weight - np.array([[1.0, -2.0]]))
    np.testing.assert_allclose(steps[0], steps[2], rtol=1e-6)
    np.testing.assert_allclose(np.abs(steps[1]), 0.01, rtol=1e-6)


def test_multipliers_and_names_on_a_sequential():
    rng = np.random.default_rng(0)
    net = L.Sequential([L.Dense(rng.standard_normal((4, 3))), L.Act("relu"), L.Dense(rng.standard_normal((2, 4)))])
    names = [n for n, _, _ in net.named_params()]
    assert names == ["0.weight", "2.weight"]
    before = [p.copy() for _, p, _ in net.named_params()]
    x = rng.standard_normal((5, 3))
    net.forward(x)
    net.backward(np.ones((5, 2)))
    grads = [g.copy() for _, _, g in net.named_params()]
    opt = SGD(net, lr=0.1, lr_multipliers=lambda name: 0.0 if name.startswith("0.") else 3.0)
    opt.step()
    params = [p for _, p, _ in net.named_params()]
    np.testing.assert_array_equal(params[0], before[0])  # multiplier 0 freezes the layer
    np.testing.assert_allclose(params[1], before[1] - 0.3 * grads[1], atol=1e-12)
    with pytest.raises(ValueError, match="lr_multipliers names"):
        SGD(net, lr=0.1, lr_multipliers={"1.weight": 2.0})
    with pytest.raises(ValueError, match="lr_multipliers"):
        Adam(net, lr=0.1, lr_multipliers={"0.weight": -1.0})


def test_one_learning_rate_per_ensemble_member_equals_separate_runs():
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal((3, 4)) for _ in range(3)]
    x = rng.standard_normal((3, 6, 4))
    lrs = np.array([0.01, 0.1, 1.0])
    for make in (lambda m, lr: SGD(m, lr, momentum=0.5), lambda m, lr: Adam(m, lr)):
        ens = L.Dense(L.stack(ws), np.zeros((3, 3)))
        opt = make(ens, lrs)
        singles = [L.Dense(w.copy(), np.zeros(3)) for w in ws]
        opts = [make(s, float(lr)) for s, lr in zip(singles, lrs)]
        for _ in range(3):
            y = ens.forward(x)
            ens.backward(y)
            opt.step()
            for k, (s, o) in enumerate(zip(singles, opts)):
                s.backward(s.forward(x[k]))
                o.step()
        for k, s in enumerate(singles):
            np.testing.assert_allclose(ens.weight[k], s.weight, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(ens.bias[k], s.bias, rtol=1e-12, atol=1e-12)


def test_adam_minimizes_a_quadratic():
    rng = np.random.default_rng(2)
    layer = L.Dense(rng.standard_normal((1, 5)))
    x = np.eye(5)
    opt = Adam(layer, lr=0.05)
    for _ in range(400):
        layer.backward(layer.forward(x).T.reshape(5, 1))  # dL/dy = y for L = 0.5 |w|^2
        opt.step()
    assert np.max(np.abs(layer.weight)) < 1e-2


def test_bad_inputs():
    layer, x = _one_unit()
    with pytest.raises(TypeError, match="model"):
        SGD([layer], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        SGD(layer, lr=0.0)
    with pytest.raises(ValueError, match="lr"):
        Adam(layer, lr=float("nan"))
    with pytest.raises(ValueError, match="lr"):
        Adam(layer, lr=np.array([[0.1]]))
    with pytest.raises(ValueError, match="momentum"):
        SGD(layer, lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="betas"):
        Adam(layer, betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="betas"):
        Adam(layer, betas=0.9)
    with pytest.raises(ValueError, match="eps"):
        Adam(layer, eps=0.0)
    with pytest.raises(TypeError, match="lr_multipliers"):
        Adam(layer, lr_multipliers=[1.0])
    with pytest.raises(ValueError, match="at least one trainable"):
        SGD(L.Act("relu"), lr=0.1)
    with pytest.raises(RuntimeError, match="no gradient"):
        SGD(layer, lr=0.1).step()
    layer.backward(layer.forward(x))
    with pytest.raises(ValueError, match="one per ensemble member"):
        SGD(layer, lr=np.array([0.1, 0.2])).step()
