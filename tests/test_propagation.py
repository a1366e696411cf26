"""helpers.propagation: random deep networks, their per-layer statistics, the forward and backward
variance recursions, and the depths at which floating-point numbers overflow or underflow.

Predictions are checked against closed forms, against helpers.theory, and against Monte Carlo runs of
wide networks (seeded; tolerances stated next to each assertion). Depth computations are checked
against exact rational arithmetic and against step-by-step multiplication in the given precision.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers as H
from helpers import propagation as P

DTYPES = [np.float16, np.float32, np.float64]


# -- random_network ------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_random_network_weight_variance(mode):
    sizes = [300, 200, 400]
    net = H.random_network(sizes, np.random.default_rng(0), sigma_w2=2.0, mode=mode, activation="identity")
    for w, (n_in, n_out) in zip(net.weights, zip(sizes[:-1], sizes[1:])):
        assert w.shape == (n_out, n_in)
        fan = n_in if mode == "fan_in" else n_out
        # 60 000+ draws: the sample variance is within 2 % of the target (about 4 standard errors)
        assert np.var(w) == pytest.approx(2.0 / fan, rel=0.02)
        assert abs(np.mean(w)) < 4 * math.sqrt(2.0 / fan / w.size)
    assert net.activate_output is True
    assert all(np.all(b == 0) for b in net.biases)


def test_random_network_biases_and_dtypes():
    nets = {dt: H.random_network([50, 60, 70], np.random.default_rng(3), sigma_w2=1.5, sigma_b2=0.25, dtype=dt, activation="identity")
            for dt in DTYPES}
    for dt, net in nets.items():
        assert net.dtype == np.dtype(dt)
    # one seed, one network: the float32 weights are the float64 weights rounded
    for w32, w64 in zip(nets[np.float32].weights, nets[np.float64].weights):
        np.testing.assert_array_equal(w32, w64.astype(np.float32))
    b = np.concatenate(nets[np.float64].biases)
    assert np.var(b) == pytest.approx(0.25, rel=0.35)  # 130 draws: a loose but failing-capable bound


def test_random_network_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="sizes"):
        H.random_network([10], rng, activation="identity")
    with pytest.raises(TypeError, match="sizes"):
        H.random_network("10,10", rng, activation="identity")
    with pytest.raises(ValueError, match=r"sizes\[1\]"):
        H.random_network([10, 0], rng, activation="identity")
    with pytest.raises(ValueError, match="sigma_w2"):
        H.random_network([10, 10], rng, sigma_w2=0.0, activation="identity")
    with pytest.raises(ValueError, match="mode"):
        H.random_network([10, 10], rng, mode="fan_avg", activation="identity")
    with pytest.raises(ValueError, match="dtype"):
        H.random_network([10, 10], rng, dtype=np.int32, activation="identity")
    with pytest.raises(TypeError, match="rng"):
        H.random_network([10, 10], 0, activation="identity")
    with pytest.raises(ValueError, match="sigma_b2"):
        H.random_network([10, 10], rng, sigma_b2=-1.0, activation="identity")


# -- propagate / simulate ------------------------------------------------------------------------

def test_propagate_matches_forward_and_backward():
    rng = np.random.default_rng(1)
    net = H.random_network([20, 30, 25, 15], rng, sigma_w2=2.0, activation="relu")
    x = rng.standard_normal((40, 20))
    state = np.random.default_rng(7)
    prop = P.propagate(net, x, state, keep=100)
    out, cache = H.forward(net, x)
    grad_out = np.random.default_rng(7).standard_normal(out.shape)
    grads = H.backward(net, cache, grad_out)
    np.testing.assert_allclose(prop.pre_var, [np.mean(z**2) for z in cache.pre], rtol=1e-12)
    np.testing.assert_allclose(prop.act_rms, [np.sqrt(np.mean(h**2)) for h in cache.post], rtol=1e-12)
    np.testing.assert_allclose(prop.grad_var, [np.mean(d**2) for d in grads.d_pre], rtol=1e-12)
    np.testing.assert_array_equal(prop.dead, [H.dead_fraction(z, "relu") for z in cache.pre])
    assert all(np.isnan(prop.saturated))
    assert [len(s) for s in prop.pre_samples] == [100, 100, 100]
    np.testing.assert_array_equal(prop.post_samples[1], cache.post[1].ravel()[:100])
    assert prop.nonfinite_layer is None and prop.depth == 3
    assert prop.forward_ratio == pytest.approx(math.sqrt(prop.pre_var[-1] / prop.pre_var[0]))
    assert prop.backward_ratio == pytest.approx(math.sqrt(prop.grad_var[0] / prop.grad_var[-1]))


def test_propagate_reports_overflow_without_warnings():
    # sigma_w2 = 1e8: the rms grows 1e4-fold per layer and float32 overflows (max 3.4e38) at layer 10
    with np.errstate(all="raise"):  # any floating-point warning inside would raise here
        prop = P.simulate([64] * 21, np.random.default_rng(2), sigma_w2=1e8, dtype=np.float32, batch=8)
    assert prop.nonfinite_layer is not None and 8 <= prop.nonfinite_layer <= 11
    assert np.isfinite(prop.pre_var[prop.nonfinite_layer - 2])
    assert P.diagnose(prop)[0] == "exploding activations"


def test_propagate_rejects_bad_input():
    rng = np.random.default_rng(0)
    net = H.random_network([5, 5], rng, activation="identity")
    with pytest.raises(TypeError, match="net"):
        P.propagate("net", np.zeros((2, 5)), rng)
    with pytest.raises(ValueError, match="x"):
        P.propagate(net, np.zeros(5), rng)
    with pytest.raises(ValueError, match="keep"):
        P.propagate(net, np.zeros((2, 5)), rng, keep=-1)
    with pytest.raises(ValueError, match="batch"):
        P.simulate([5, 5], rng, batch=0)
    with pytest.raises(TypeError, match="propagate_ensemble"):
        P.propagate(H.stack_mlps([net, net]), np.zeros((2, 2, 5)), rng)


def _assert_same_propagation(got, want):
    """Every field of two Propagations, numbers to rtol 1e-12 (float64; batched products may differ in the last bit)."""
    assert (got.sizes, got.activation, got.nonfinite_layer) == (want.sizes, want.activation, want.nonfinite_layer)
    for name in ("pre_var", "act_rms", "grad_var", "saturated", "dead"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-12, err_msg=name)
    assert len(got.pre_samples) == len(want.pre_samples) and len(got.post_samples) == len(want.post_samples)
    for a, b in zip(got.pre_samples + got.post_samples, want.pre_samples + want.post_samples):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("activation,sigma_b2", [("tanh", 0.05), ("relu", None)])
def test_propagate_ensemble_equals_propagate_of_each_member(activation, sigma_b2):
    sizes, batch = [12, 20, 16, 8], 6
    nets = [H.random_network(sizes, np.random.default_rng(30 + k), sigma_w2=2.0, sigma_b2=sigma_b2,
                             activation=activation) for k in range(3)]
    xs = np.random.default_rng(1).standard_normal((3, batch, sizes[0]))
    # propagate draws each member's output gradient from its own generator, as given here
    grads = np.stack([np.random.default_rng(40 + k).standard_normal((batch, sizes[-1])) for k in range(3)])
    runs = P.propagate_ensemble(H.stack_mlps(nets), xs, grads, keep=25)
    assert len(runs) == 3
    for k, run in enumerate(runs):
        _assert_same_propagation(run, P.propagate(nets[k], xs[k], np.random.default_rng(40 + k), keep=25))
    assert not np.allclose(runs[0].pre_var, runs[1].pre_var)  # the members are different networks


@pytest.mark.parametrize("activation,dtype", [("tanh", np.float64), ("relu", np.float64), ("identity", np.float32)])
def test_simulate_ensemble_equals_a_loop_of_simulate(activation, dtype):
    sizes, kw = [10, 24, 24, 6], dict(sigma_w2=1.7, activation=activation, sigma_b2=0.1, batch=5, keep=7, dtype=dtype)
    runs = P.simulate_ensemble(sizes, [np.random.default_rng(100 + k) for k in range(4)], **kw)
    loop = [P.simulate(sizes, np.random.default_rng(100 + k), **kw) for k in range(4)]
    for got, want in zip(runs, loop):
        if dtype == np.float64:
            _assert_same_propagation(got, want)
        else:  # float32 networks: the statistics agree to float32 rounding
            np.testing.assert_allclose(got.pre_var, want.pre_var, rtol=1e-5)
            np.testing.assert_allclose(got.grad_var, want.grad_var, rtol=1e-5)


def test_simulate_ensemble_with_one_shared_generator_continues_its_stream():
    # [rng] * E: the members are the networks of E consecutive simulate calls with rng, and the
    # generator ends where those calls leave it
    shared, ref = np.random.default_rng(9), np.random.default_rng(9)
    runs = P.simulate_ensemble([8, 16, 4], [shared] * 3, sigma_w2=2.0, activation="relu", batch=3, mode="fan_out")
    loop = [P.simulate([8, 16, 4], ref, sigma_w2=2.0, activation="relu", batch=3, mode="fan_out") for _ in range(3)]
    for got, want in zip(runs, loop):
        _assert_same_propagation(got, want)
    assert shared.standard_normal() == ref.standard_normal()


def test_simulate_ensemble_reports_overflow_per_member_without_warnings():
    # float32 overflows near layer 10 at sigma_w2 = 1e8 (see the single-network test); at sigma_w2 = 1 never
    with np.errstate(all="raise"):
        runs = P.simulate_ensemble([64] * 21, [np.random.default_rng(2)], sigma_w2=1e8, dtype=np.float32, batch=8)
    assert runs[0].nonfinite_layer is not None and 8 <= runs[0].nonfinite_layer <= 11
    assert runs[0].nonfinite_layer == P.simulate([64] * 21, np.random.default_rng(2), sigma_w2=1e8,
                                                 dtype=np.float32, batch=8).nonfinite_layer


def test_ensemble_propagation_rejects_bad_input():
    rng = np.random.default_rng(0)
    net = H.random_network([5, 4], rng, activation="identity")
    ens = H.stack_mlps([net, net])
    x, g = np.zeros((2, 3, 5)), np.zeros((2, 3, 4))
    with pytest.raises(TypeError, match="ensemble MLP"):
        P.propagate_ensemble(net, x[0], g[0])
    with pytest.raises(TypeError, match="ensemble MLP"):
        P.propagate_ensemble("net", x, g)
    with pytest.raises(ValueError, match=r"x must have shape \(E=2, batch >= 1, 5\)"):
        P.propagate_ensemble(ens, np.zeros((3, 3, 5)), g)
    with pytest.raises(ValueError, match="x must be 3-dimensional"):
        P.propagate_ensemble(ens, x[0], g)
    with pytest.raises(ValueError, match="x must have shape"):
        P.propagate_ensemble(ens, np.zeros((2, 0, 5)), np.zeros((2, 0, 4)))
    with pytest.raises(ValueError, match=r"grad_out must have the output's shape \(2, 3, 4\)"):
        P.propagate_ensemble(ens, x, np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="keep"):
        P.propagate_ensemble(ens, x, g, keep=-1)
    with pytest.raises(TypeError, match="rngs must be a non-empty list"):
        P.simulate_ensemble([5, 4], rng)
    with pytest.raises(TypeError, match="rngs must be a non-empty list"):
        P.simulate_ensemble([5, 4], [])
    with pytest.raises(TypeError, match=r"rngs\[1\]"):
        P.simulate_ensemble([5, 4], [rng, 3])
    with pytest.raises(ValueError, match="batch"):
        P.simulate_ensemble([5, 4], [rng], batch=0)
    with pytest.raises(ValueError, match="sigma_w2"):
        P.simulate_ensemble([5, 4], [rng], sigma_w2=-1.0)


@pytest.mark.parametrize("activation,sigma_w2", [("identity", 1.0), ("relu", 2.0), ("tanh", 1.5), ("sigmoid", 4.0)])
def test_simulation_matches_predictions(activation, sigma_w2):
    # The predictions are averages over random networks. One network of width n drifts by a random
    # factor of relative size ~sqrt(5 L / n) (Hanin & Rolnick 2018), so average 16 networks of
    # width 256 and depth 8: the mean's relative standard error is below 0.1 for every activation.
    sizes = [256] * 9
    runs = P.simulate_ensemble(sizes, [np.random.default_rng(100 + k) for k in range(16)], sigma_w2=sigma_w2,
                               activation=activation, batch=32)
    q = P.predicted_forward(sizes, sigma_w2, activation)
    g = P.predicted_gradient_variances(sizes, sigma_w2, activation)
    np.testing.assert_allclose(np.mean([r.pre_var for r in runs], axis=0), q, rtol=0.2)
    np.testing.assert_allclose(np.mean([r.grad_var for r in runs], axis=0), g, rtol=0.3)


def test_nonsquare_simulation_follows_fan_rules():
    sizes = [64, 128, 256, 512, 1024]
    for mode in ("fan_in", "fan_out"):
        prop = P.simulate(sizes, np.random.default_rng(5), mode=mode, batch=128)
        np.testing.assert_allclose(prop.pre_var, P.predicted_forward(sizes, 1.0, mode=mode), rtol=0.1)
        np.testing.assert_allclose(prop.grad_var, P.predicted_gradient_variances(sizes, 1.0, mode=mode), rtol=0.15)


# -- predictions ---------------------------------------------------------------------------------

def test_predicted_forward_closed_forms():
    sizes = [100] * 8
    np.testing.assert_allclose(P.predicted_forward(sizes, 1.3), 1.3 ** np.arange(1, 8), rtol=1e-12)
    np.testing.assert_allclose(P.predicted_forward(sizes, 3.0, "relu", input_second_moment=2.0),
                               2.0 * 3.0 * 1.5 ** np.arange(7), rtol=1e-12)
    # biases add their variance in every layer
    q = P.predicted_forward(sizes, 1.0, sigma_b2=0.5)
    np.testing.assert_allclose(q, 1.0 + 0.5 * np.arange(1, 8), rtol=1e-12)
    # square networks agree with helpers.theory
    for act in ("tanh", "sigmoid", "selu", "leaky_relu"):
        np.testing.assert_allclose(P.predicted_forward(sizes, 1.7, act, sigma_b2=0.1),
                                   H.predicted_variances(7, 1.7, act, sigma_b2=0.1), rtol=1e-12)


def test_predicted_forward_fan_out_telescopes():
    sizes = [10, 20, 40, 80]
    q = P.predicted_forward(sizes, 1.0, mode="fan_out")
    np.testing.assert_allclose(q, [10 / 20, 10 / 40, 10 / 80], rtol=1e-12)


def test_predicted_gradient_variances_closed_forms():
    sizes = [50] * 6
    np.testing.assert_allclose(P.predicted_gradient_variances(sizes, 1.0), np.ones(5), rtol=1e-12)
    relu = P.predicted_gradient_variances(sizes, 3.0, "relu", output_grad_variance=2.0)
    np.testing.assert_allclose(relu, 2.0 * 0.5 * 1.5 ** np.arange(4, -1, -1), rtol=1e-12)
    funnel = [512, 256, 128, 64, 32, 16]
    g = P.predicted_gradient_variances(funnel, 1.0, mode="fan_in")
    assert g[0] / g[-1] == pytest.approx(16 / 256, rel=1e-12)
    g = P.predicted_gradient_variances(funnel, 1.0, mode="fan_out")
    np.testing.assert_allclose(g, np.ones(5), rtol=1e-12)


def test_derivative_second_moment():
    assert H.derivative_second_moment("identity", 3.0) == 1.0
    assert H.derivative_second_moment("relu", 3.0) == 0.5
    assert H.derivative_second_moment("relu", 0.0) == 0.0
    assert H.derivative_second_moment(H.get_activation("leaky_relu", 0.2), 1.0) == pytest.approx(0.52)
    for q in (1e-4, 0.3, 1.0, 10.0, 1000.0):
        assert H.derivative_second_moment("sigmoid", q) <= 1 / 16 + 1e-15
        assert H.derivative_second_moment("tanh", q) <= 1.0
    assert H.derivative_second_moment("sigmoid", 1e-8) == pytest.approx(1 / 16, rel=1e-6)
    # Monte Carlo: 10^6 samples, standard error below 1e-3 of the value
    z = np.random.default_rng(6).standard_normal(1_000_000) * math.sqrt(2.0)
    assert H.derivative_second_moment("tanh", 2.0) == pytest.approx(np.mean((1 - np.tanh(z) ** 2) ** 2), rel=5e-3)


def test_backward_factor():
    assert H.backward_factor(1.0, 2.0, "relu") == 1.0
    assert H.backward_factor(5.0, 1.0, "identity") == 1.0
    assert H.backward_factor(0.0, 1.0, "tanh") == pytest.approx(1.0)
    assert H.backward_factor(1.0, 1.0, "sigmoid") < 1 / 16
    with pytest.raises(ValueError, match="sigma_w2"):
        H.backward_factor(1.0, -1.0)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softsign"])
@pytest.mark.parametrize("q", [0.5, 4.0, 30.0])
def test_predicted_saturated_fraction_matches_sampling(activation, q):
    z = np.random.default_rng(8).standard_normal((500, 400)) * math.sqrt(q)
    measured = H.saturated_fraction(z, activation)
    # 200 000 samples: the binomial standard error is below 0.0012
    assert P.predicted_saturated_fraction(q, activation) == pytest.approx(measured, abs=0.006)


def test_predicted_saturated_fraction_edges_and_validation():
    assert P.predicted_saturated_fraction(0.0, "tanh") == 0.0
    out = P.predicted_saturated_fraction(np.array([0.0, 1.0, 1e6]), "tanh")
    assert out.shape == (3,) and out[0] == 0 and 0 < out[1] < out[2] < 1
    with pytest.raises(ValueError, match="activation"):
        P.predicted_saturated_fraction(1.0, "relu")
    with pytest.raises(ValueError, match="threshold"):
        P.predicted_saturated_fraction(1.0, "tanh", threshold=1.5)
    with pytest.raises(ValueError, match="q"):
        P.predicted_saturated_fraction(-1.0, "tanh")


# -- diagnose ------------------------------------------------------------------------------------

def test_diagnose_names_what_is_wrong():
    sizes = [128] * 31
    run = lambda act, s: P.simulate(sizes, np.random.default_rng(9), sigma_w2=s, activation=act, batch=32)  # noqa: E731
    assert P.diagnose(run("relu", 2.0)) == ["healthy"]
    assert P.diagnose(run("relu", 1.0)) == ["vanishing activations", "vanishing gradients"]
    assert P.diagnose(run("relu", 4.0)) == ["exploding activations", "exploding gradients"]
    assert P.diagnose(run("sigmoid", 1.0)) == ["vanishing gradients"]
    assert P.diagnose(run("tanh", 16.0)) == ["exploding gradients", "saturated units"]
    rng = np.random.default_rng(9)
    net = H.random_network(sizes, rng, sigma_w2=2.0, activation="relu")
    for b in net.biases:
        b[:] = -0.5
    assert "dead ReLUs" in P.diagnose(P.propagate(net, rng.standard_normal((32, 128)), rng))


def test_diagnose_validation():
    prop = P.simulate([8, 8], np.random.default_rng(0))
    with pytest.raises(TypeError, match="prop"):
        P.diagnose({"pre_var": 1})
    with pytest.raises(ValueError, match="tolerance"):
        P.diagnose(prop, tolerance=0.5)
    with pytest.raises(ValueError, match="dead"):
        P.diagnose(prop, dead=0.0)


# -- floating-point limits -----------------------------------------------------------------------

@pytest.mark.parametrize("factor,dtype,expected", [
    (math.sqrt(512), np.float32, (29, None, None)),
    (math.sqrt(512), np.float64, (228, None, None)),
    (math.sqrt(512), np.float16, (4, None, None)),
    (0.5, np.float32, (None, 127, 150)),
    (0.5, np.float64, (None, 1023, 1075)),
    (0.5, np.float16, (None, 15, 25)),
    (2.0, np.float32, (128, None, None)),
    (1.0, np.float32, (None, None, None)),
])
def test_representable_depth_known_values(factor, dtype, expected):
    lim = P.representable_depth(factor, dtype)
    assert (lim.overflow, lim.subnormal, lim.zero) == expected
    assert lim.dtype == np.dtype(dtype).name


def _is_first(depth, start, factor, predicate):
    """True if ``depth`` is the first L >= 0 at which ``start * factor**L`` (exactly) satisfies ``predicate``.

    The predicates are monotone in L, so checking L and L - 1 in exact rational arithmetic suffices.
    """
    value = Fraction(start) * Fraction(factor) ** depth
    before = value / Fraction(factor)
    return predicate(value) and (depth == 0 or not predicate(before))


@settings(max_examples=80, deadline=None)
@given(factor=st.floats(0.05, 0.95) | st.floats(1.05, 40.0), start=st.floats(0.01, 100.0),
       dtype=st.sampled_from(DTYPES))
def test_representable_depth_matches_exact_arithmetic(factor, start, dtype):
    info = np.finfo(dtype)
    big, normal, sub = (Fraction(float(v)) for v in (info.max, info.smallest_normal, info.smallest_subnormal))
    if not normal <= Fraction(start) <= big:
        return
    lim = P.representable_depth(factor, dtype, start=start)
    if factor > 1:
        assert lim.subnormal is None and lim.zero is None
        assert _is_first(lim.overflow, start, factor, lambda v: v > big)
    else:
        assert lim.overflow is None
        assert _is_first(lim.subnormal, start, factor, lambda v: v < normal)
        assert _is_first(lim.zero, start, factor, lambda v: v <= sub / 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_scalar_chain_agrees_with_computed_depths(dtype):
    info = np.finfo(dtype)
    for factor in (0.5, 0.25, 2.0, 4.0):  # powers of two: every rounded step is exact
        lim = P.representable_depth(factor, dtype)
        chain = P.scalar_chain(factor, 1200, dtype)
        if factor > 1:
            assert int(np.argmax(np.isinf(chain))) == lim.overflow
        else:
            assert int(np.argmax(chain < float(info.smallest_normal))) == lim.subnormal
            assert int(np.argmax(chain == 0)) == lim.zero
    for factor in (0.3, 0.7, 1.3, 7.0):  # other factors round at each step: within one step
        lim = P.representable_depth(factor, dtype)
        chain = P.scalar_chain(factor, 3000, dtype)
        if factor > 1:
            assert abs(int(np.argmax(np.isinf(chain))) - lim.overflow) <= 1
        else:
            assert abs(int(np.argmax(chain < float(info.smallest_normal))) - lim.subnormal) <= 1


def test_representable_depth_ties_are_exact():
    # 0.5**149 is the smallest float32 subnormal, 0.5**150 exactly half of it: rounds to zero (ties to even)
    assert P.representable_depth(0.5, np.float32).zero == 150
    assert P.scalar_chain(0.5, 150, np.float32)[-1] == 0.0
    assert P.scalar_chain(0.5, 149, np.float32)[-1] > 0.0
    # 2**128 is the first power of two above the float32 maximum
    assert P.representable_depth(2.0, np.float32, start=0.5).overflow == 129


def test_representable_depth_validation():
    with pytest.raises(ValueError, match="factor"):
        P.representable_depth(0.0)
    with pytest.raises(ValueError, match="factor"):
        P.representable_depth(float("inf"))
    with pytest.raises(ValueError, match="dtype"):
        P.representable_depth(2.0, np.int64)
    with pytest.raises(ValueError, match="start"):
        P.representable_depth(2.0, np.float16, start=1e6)
    with pytest.raises(ValueError, match="depth"):
        P.scalar_chain(2.0, -1)


@pytest.mark.parametrize("dtype,expected", [(np.float32, 29), (np.float64, 228)])
def test_push_to_limits_overflows_near_the_computed_depth(dtype, expected):
    # a random layer's factor fluctuates around sqrt(sigma_w2): within 2 layers of the computed depth
    with np.errstate(all="raise"):
        tr = P.push_to_limits(128, 260, 512.0, np.random.default_rng(10), dtype=dtype, batch=4)
    assert abs(tr.first_nonfinite - expected) <= 2
    assert np.isfinite(tr.rms[tr.first_nonfinite - 2]) and not np.isfinite(tr.rms[tr.first_nonfinite - 1])


def test_push_to_limits_underflow_and_reuse():
    lim = P.representable_depth(0.01 * math.sqrt(512), np.float32)
    tr = P.push_to_limits(256, 100, 512e-4, np.random.default_rng(11), dtype=np.float32, batch=4, reuse=True)
    assert abs(tr.first_subnormal - lim.subnormal) <= 2
    assert abs(tr.first_zero - lim.zero) <= 4
    assert np.all(tr.rms[tr.first_zero - 1:] == 0)
    # the rms is computed without squaring tiny float64 values into underflow
    tr64 = P.push_to_limits(64, 300, 0.01, np.random.default_rng(12), dtype=np.float64)
    assert tr64.first_zero is None or tr64.first_zero > 150
    # 1e-300 is a normal float64; 300 random layers of width 64 move it by well under two decades
    assert tr64.rms[299] > 0 and abs(math.log10(tr64.rms[299]) + 300) < 2


def test_push_to_limits_validation():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="width"):
        P.push_to_limits(0, 5, 1.0, rng)
    with pytest.raises(ValueError, match="sigma_w2"):
        P.push_to_limits(5, 5, -1.0, rng)
    with pytest.raises(TypeError, match="reuse"):
        P.push_to_limits(5, 5, 1.0, rng, reuse=1)
    with pytest.raises(ValueError, match="activation"):
        P.push_to_limits(5, 5, 1.0, rng, activation="swish")


def test_measured_propagation_agrees_with_mean_field():
    rng = np.random.default_rng(1)
    width, depth, sw, sb, rho = 1000, 10, 2.0, 0.1, 0.5
    net = H.random_network([width] * (depth + 1), rng, sigma_w2=sw, sigma_b2=sb, activation="tanh")
    basis = np.linalg.qr(rng.standard_normal((width, 2)))[0] * math.sqrt(width)
    x = np.stack([basis[:, 0], rho * basis[:, 0] + math.sqrt(1 - rho**2) * basis[:, 1]])
    meas = P.measure_propagation(net, x)
    pred = H.predicted_pair(depth, sw, sb, input_correlation=rho)
    # width 1000: relative noise of a layer's q is ~ sqrt(2 / 1000) = 4.5 %, of c ~ 0.03
    np.testing.assert_allclose(meas.q[:, 0], pred.q_a, rtol=0.15)
    np.testing.assert_allclose(meas.c[:, 0, 1], pred.c, atol=0.08)


def test_measure_propagation_of_an_ensemble_equals_each_member():
    sizes = [15, 20, 20, 20]
    nets = [H.random_network(sizes, np.random.default_rng(20 + k), sigma_w2=1.8, sigma_b2=0.05, activation="tanh")
            for k in range(3)]
    ens = H.stack_mlps(nets)
    shared = np.random.default_rng(3).standard_normal((6, 15))
    own = np.random.default_rng(4).standard_normal((3, 6, 15))
    for x, member_x in ((shared, lambda k: shared), (own, lambda k: own[k])):
        meas = P.measure_propagation(ens, x)
        assert meas.q.shape == (3, 3, 6) and meas.c.shape == (3, 3, 6, 6)
        for k, net in enumerate(nets):
            single = P.measure_propagation(net, member_x(k))
            np.testing.assert_allclose(meas.q[k], single.q, rtol=1e-12)
            np.testing.assert_allclose(meas.c[k], single.c, rtol=1e-12)
    assert not np.allclose(meas.q[0], meas.q[1])


def test_measure_propagation_rejects_bad_input():
    net = H.random_network([5, 5], np.random.default_rng(0), activation="tanh")
    ens = H.stack_mlps([net, net])
    with pytest.raises(TypeError, match="net"):
        P.measure_propagation("net", np.zeros((2, 5)))
    with pytest.raises(ValueError, match="x must be 2-dimensional"):
        P.measure_propagation(net, np.zeros((2, 2, 5)))
    with pytest.raises(ValueError, match=r"\(E=2, batch, n_0\)"):
        P.measure_propagation(ens, np.zeros((3, 2, 5)))
    with pytest.raises(ValueError, match=r"\(E=2, batch, n_0\)"):
        P.measure_propagation(ens, np.zeros(5))
    with pytest.raises(TypeError, match="numeric"):
        P.measure_propagation(ens, np.array([["a"] * 5]))
