"""Initializers: fans, gains (PyTorch's values), exact scales, and statistics within stated tolerances.

Statistical checks allow 5 standard errors of the sample mean / variance (see ``_fixtures``);
every draw is seeded, so each check has a fixed outcome.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers as H
from helpers import initializers as I
from _fixtures import assert_fills_bound, assert_mean_var

DENSE = [(64, 300), (500, 40), (128, 129)]
CONV = [(32, 16, 3, 3), (20, 8, 5), (6, 4, 3, 3, 3)]
SHAPES = DENSE + CONV
MODES = ["fan_in", "fan_out"]


def fans(shape):
    """PyTorch's ``_calculate_fan_in_and_fan_out``, written out independently."""
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


# -- fans and gains --------------------------------------------------------------------------

@pytest.mark.parametrize("shape, expected", [
    ((10, 3), (3, 10)),
    ((3, 10), (10, 3)),
    ((16, 3, 5, 5), (75, 400)),      # Conv2d(3, 16, 5): fan_in = 3*5*5, fan_out = 16*5*5
    ((20, 8, 5), (40, 100)),         # Conv1d(8, 20, 5)
    ((2, 3, 3, 3, 3), (81, 54)),     # Conv3d(3, 2, 3)
    ((7, 1, 1, 1), (1, 7)),
])
def test_fan_in_and_fan_out(shape, expected):
    assert H.fan_in_and_fan_out(shape) == expected
    assert H.fan_in_and_fan_out(shape) == fans(shape)


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="shape"):
        H.fan_in_and_fan_out((5,))


# torch.nn.init.calculate_gain, as documented (torch 2.x): linear and conv* -> 1, sigmoid -> 1,
# tanh -> 5/3, relu -> sqrt(2), leaky_relu -> sqrt(2 / (1 + negative_slope^2)) with default
# slope 0.01, selu -> 3/4.
TORCH_GAINS = [
    ("linear", None, 1.0), ("conv1d", None, 1.0), ("conv2d", None, 1.0), ("conv3d", None, 1.0),
    ("conv_transpose1d", None, 1.0), ("conv_transpose2d", None, 1.0), ("conv_transpose3d", None, 1.0),
    ("sigmoid", None, 1.0), ("tanh", None, 5.0 / 3.0), ("relu", None, math.sqrt(2.0)),
    ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01**2))), ("leaky_relu", 0.2, math.sqrt(2.0 / 1.04)),
    ("leaky_relu", 0.0, math.sqrt(2.0)), ("leaky_relu", 1, 1.0), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
    ("selu", None, 0.75),
]


@pytest.mark.parametrize("name, param, gain", TORCH_GAINS, ids=[f"{n}-{p}" for n, p, _ in TORCH_GAINS])
def test_calculate_gain_matches_pytorch(name, param, gain):
    assert H.calculate_gain(name, param) == pytest.approx(gain, rel=1e-15)


def test_book_only_gains():
    assert H.calculate_gain("identity") == 1.0
    assert H.calculate_gain("softsign") == 1.0


def test_pytorch_default_linear_init_is_glorot_standard():
    """nn.Linear's default, kaiming_uniform_(a=sqrt(5)), has bound 1/sqrt(fan_in): Glorot's 'standard'."""
    shape = (30, 70)
    bound = math.sqrt(3.0) * H.kaiming_std(shape, a=math.sqrt(5))
    assert bound == pytest.approx(1 / math.sqrt(70), rel=1e-14)


# -- exact scales (same seed, same underlying draw) -------------------------------------------

def _same(seed=3):
    return np.random.default_rng(seed), np.random.default_rng(seed)


@pytest.mark.parametrize("shape", SHAPES)
def test_exact_scales(shape):
    fan_in, fan_out = fans(shape)
    r1, r2 = _same()
    np.testing.assert_allclose(H.lecun_normal(shape, r1), r2.standard_normal(shape) / math.sqrt(fan_in), rtol=1e-14)
    r1, r2 = _same()
    np.testing.assert_allclose(H.xavier_normal(shape, r1, gain=2.0),
                               r2.standard_normal(shape) * 2.0 * math.sqrt(2.0 / (fan_in + fan_out)), rtol=1e-14)
    r1, r2 = _same()
    np.testing.assert_allclose(H.kaiming_normal(shape, r1, mode="fan_out"),
                               r2.standard_normal(shape) * math.sqrt(2.0 / fan_out), rtol=1e-14)
    r1, r2 = _same()
    a = math.sqrt(6.0 / (fan_in + fan_out))
    np.testing.assert_allclose(H.xavier_uniform(shape, r1), r2.uniform(-a, a, shape), rtol=1e-14)
    r1, r2 = _same()
    b = math.sqrt(3.0 / fan_in)
    np.testing.assert_allclose(H.lecun_uniform(shape, r1), r2.uniform(-b, b, shape), rtol=1e-14)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0.0), ("leaky_relu", 0.0), ("leaky_relu", 0.2),
                                             ("tanh", 0.0), ("linear", 0.0), ("selu", 0.0)])
def test_kaiming_std_formula(shape, mode, nonlinearity, a):
    fan_in, fan_out = fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    gains = {"relu": math.sqrt(2), "tanh": 5 / 3, "linear": 1.0, "selu": 0.75,
             "leaky_relu": math.sqrt(2 / (1 + a * a))}
    expected = gains[nonlinearity] / math.sqrt(fan)
    assert H.kaiming_std(shape, a=a, mode=mode, nonlinearity=nonlinearity) == pytest.approx(expected, rel=1e-14)


# -- statistics --------------------------------------------------------------------------------

def _expected(name, shape, mode="fan_in", gain=1.0):
    """(distribution, variance or bound) that each initializer promises."""
    fan_in, fan_out = fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return {
        "lecun_normal": ("normal", gain**2 / fan_in),
        "lecun_uniform": ("uniform", gain * math.sqrt(3.0 / fan_in)),
        "glorot_standard": ("uniform", 1.0 / math.sqrt(fan_in)),
        "xavier_normal": ("normal", gain**2 * 2.0 / (fan_in + fan_out)),
        "xavier_uniform": ("uniform", gain * math.sqrt(6.0 / (fan_in + fan_out))),
        "kaiming_normal": ("normal", 2.0 / fan),
        "kaiming_uniform": ("uniform", math.sqrt(3.0) * math.sqrt(2.0 / fan)),
    }[name]


def _draw(name, shape, rng, mode="fan_in", gain=1.0, dtype=np.float64):
    fn = I.INITIALIZERS[name]
    if name.startswith("kaiming"):
        return fn(shape, rng, mode=mode, nonlinearity="relu", dtype=dtype)
    if name == "glorot_standard":
        return fn(shape, rng, dtype=dtype)
    return fn(shape, rng, gain=gain, dtype=dtype)


NAMED = ["lecun_normal", "lecun_uniform", "glorot_standard", "xavier_normal", "xavier_uniform",
         "kaiming_normal", "kaiming_uniform"]


STAT_CASES = [(name, shape, mode) for name in NAMED for shape in SHAPES for mode in MODES
              if mode == "fan_in" or name.startswith("kaiming")]  # only He/Kaiming takes a mode


@pytest.mark.parametrize("name, shape, mode", STAT_CASES, ids=[f"{n}-{'x'.join(map(str, s))}-{m}" for n, s, m in STAT_CASES])
def test_initializer_statistics(name, shape, mode):
    rng = np.random.default_rng(zlib.crc32(repr((name, shape, mode)).encode()))
    w = _draw(name, shape, rng, mode=mode)
    assert w.shape == shape and w.dtype == np.float64
    kind, value = _expected(name, shape, mode)
    if kind == "normal":
        assert_mean_var(w, 0.0, value)
    else:
        assert_mean_var(w, 0.0, value**2 / 3.0)
        assert_fills_bound(w, value)


@pytest.mark.parametrize("name", NAMED)
def test_float32_is_float32_and_same_draw(name):
    shape = (40, 30)
    w64 = _draw(name, shape, np.random.default_rng(5))
    w32 = _draw(name, shape, np.random.default_rng(5), dtype=np.float32)
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, w64.astype(np.float32), rtol=0, atol=0)


def test_named_initializers_distinguish_lecun_glorot_he_on_a_non_square_layer():
    """The three names differ exactly where the book says they do: fan_in 400, fan_out 100."""
    shape = (100, 400)
    lecun = _expected("lecun_normal", shape)[1]
    glorot = _expected("xavier_normal", shape)[1]
    he = _expected("kaiming_normal", shape)[1]
    assert lecun == pytest.approx(1 / 400) and glorot == pytest.approx(2 / 500) and he == pytest.approx(2 / 400)
    rng = np.random.default_rng(0)
    v = [float(np.var(f(shape, rng))) for f in (H.lecun_normal, H.xavier_normal, H.kaiming_normal)]
    assert v[0] < v[1] < v[2]


def test_glorot_standard_is_a_third_of_lecun():
    shape = (200, 300)
    w = H.glorot_standard(shape, np.random.default_rng(11))
    assert_mean_var(w, 0.0, 1.0 / (3 * 300))
    assert_fills_bound(w, 1 / math.sqrt(300))


@pytest.mark.parametrize("shape", [(300, 200), (50, 4, 3, 3)])
def test_uniform_and_normal(shape):
    rng = np.random.default_rng(2)
    u = H.uniform(shape, rng, low=-0.5, high=1.5)
    assert u.min() >= -0.5 and u.max() <= 1.5
    assert_mean_var(u, 0.5, 4.0 / 12.0)
    n = H.normal(shape, rng, mean=0.3, std=0.7)
    assert_mean_var(n, 0.3, 0.49)


def test_zeros_and_constant():
    assert np.array_equal(H.zeros((3, 4)), np.zeros((3, 4)))
    c = H.constant((2, 5), value=0.25, dtype=np.float32)
    assert c.dtype == np.float32 and np.all(c == np.float32(0.25))


# -- truncated normal --------------------------------------------------------------------------

def test_truncated_normal_std_factor_matches_keras_constant():
    # Keras / JAX divide by .87962566103423978, the std of N(0,1) truncated to [-2, 2].
    assert H.truncated_normal_std_factor(2.0) == pytest.approx(0.87962566103423978, rel=1e-14)


def test_truncated_normal_std_factor_small_bounds():
    """Continuous across the switch to the series, and tending to b / sqrt(3) (a uniform)."""
    below, above = H.truncated_normal_std_factor(0.999e-3), H.truncated_normal_std_factor(1.001e-3)
    assert below / 0.999e-3 == pytest.approx(above / 1.001e-3, rel=1e-9)
    assert H.truncated_normal_std_factor(1e-8) == pytest.approx(1e-8 / math.sqrt(3), rel=1e-12)


def test_truncated_normal_std_factor_against_monte_carlo():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(2_000_000)
    for b in (0.5, 1.0, 2.0, 3.0):
        kept = z[np.abs(z) <= b]
        assert float(np.std(kept)) == pytest.approx(H.truncated_normal_std_factor(b), abs=5 * 0.7 / math.sqrt(kept.size))


@pytest.mark.parametrize("bound", [2.0, 3.0, 0.3])
@pytest.mark.parametrize("correct", [True, False])
def test_truncated_normal(bound, correct):
    std = 0.05
    w = H.truncated_normal((300, 200), np.random.default_rng(7), std=std, bound=bound, correct_variance=correct)
    f = H.truncated_normal_std_factor(bound)
    scale = std / f if correct else std
    assert np.abs(w).max() <= bound * scale * (1 + 1e-12)
    assert np.abs(w).max() >= 0.95 * bound * scale
    assert_mean_var(w, 0.0, std**2 if correct else (std * f) ** 2)


def test_truncated_normal_without_correction_is_torch_trunc_normal_at_unit_std():
    """torch.nn.init.trunc_normal_(std=1, a=-2, b=2) has std 0.8796, not 1."""
    w = H.truncated_normal((400, 400), np.random.default_rng(1), std=1.0, correct_variance=False)
    assert_mean_var(w, 0.0, 0.87962566103423978**2)


def test_truncated_normal_tiny_bound_is_fast_and_correct():
    w = H.truncated_normal((200, 100), np.random.default_rng(0), std=2.0, bound=1e-3)
    assert_mean_var(w, 0.0, 4.0)


# -- orthogonal --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(30, 80), (80, 30), (40, 40), (16, 8, 3, 3), (64, 4, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_orthogonal(shape, gain, dtype, tol):
    q = H.orthogonal(shape, np.random.default_rng(4), gain=gain, dtype=dtype)
    assert q.shape == shape and q.dtype == dtype
    flat = q.reshape(shape[0], -1).astype(np.float64) / gain
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat  # orthonormal rows / columns
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=tol)


def test_orthogonal_is_haar_distributed():
    """Without the sign correction of the QR factor, Q[0, 0] is biased; for Haar E[Q00] = 0, Var = 1/3."""
    rng = np.random.default_rng(9)
    first = np.array([H.orthogonal((3, 3), rng)[0, 0] for _ in range(3000)])
    assert_mean_var(first, 0.0, 1.0 / 3.0)


# -- lookup ------------------------------------------------------------------------------------

def test_get_initializer():
    rng1, rng2 = _same()
    draw = H.get_initializer("he_normal", mode="fan_out")
    np.testing.assert_array_equal(draw((20, 10), rng1), H.kaiming_normal((20, 10), rng2, mode="fan_out"))
    assert I.INITIALIZERS["glorot_uniform"] is H.xavier_uniform
    assert H.get_initializer(H.zeros) is H.zeros
    bound = H.get_initializer(H.constant, value=2.0)
    assert np.all(bound((2, 2), None) == 2.0)


# -- property-based ----------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(
    out=st.integers(1, 60), inp=st.integers(1, 60), kernel=st.lists(st.integers(1, 4), max_size=2),
    name=st.sampled_from(NAMED), mode=st.sampled_from(MODES), gain=st.floats(0.1, 5.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_statistics_hold_for_random_shapes(out, inp, kernel, name, mode, gain, seed):
    shape = (out, inp, *kernel)
    reps = max(1, math.ceil(400 / math.prod(shape)))  # pool independent draws to >= 400 values
    rng = np.random.default_rng(seed)
    w = np.concatenate([_draw(name, shape, rng, mode=mode, gain=gain).ravel() for _ in range(reps)])
    kind, value = _expected(name, shape, mode, gain)  # glorot_standard and kaiming (relu) take no gain
    if kind == "normal":
        assert_mean_var(w, 0.0, value)
    else:
        assert np.abs(w).max() <= value * (1 + 1e-12)
        assert_mean_var(w, 0.0, value**2 / 3.0)


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(1, 40), gain=st.floats(0.1, 4.0), seed=st.integers(0, 2**32 - 1))
def test_orthogonal_random_shapes(rows, cols, gain, seed):
    q = H.orthogonal((rows, cols), np.random.default_rng(seed), gain=gain)
    gram = q @ q.T if rows <= cols else q.T @ q
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-10 * gain**2)


@settings(max_examples=25, deadline=None)
@given(bound=st.floats(0.05, 4.0), std=st.floats(0.01, 3.0), correct=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_truncated_normal_random(bound, std, correct, seed):
    w = H.truncated_normal((40, 25), np.random.default_rng(seed), std=std, bound=bound, correct_variance=correct)
    f = H.truncated_normal_std_factor(bound)
    scale = std / f if correct else std
    assert np.abs(w).max() <= bound * scale * (1 + 1e-12)
    assert_mean_var(w, 0.0, (std if correct else std * f) ** 2)


# -- weight_variance: the variance each named rule draws with --

@pytest.mark.parametrize("init, kwargs", [
    ("kaiming_normal", {}), ("kaiming_uniform", {"a": math.sqrt(5)}), ("kaiming_normal", {"mode": "fan_out"}),
    ("xavier_uniform", {}), ("xavier_normal", {"gain": 2.0}), ("lecun_normal", {}), ("lecun_uniform", {}),
    ("glorot_standard", {}),
])
def test_weight_variance_matches_the_draw(init, kwargs):
    shape = (300, 200)
    w = H.INITIALIZERS[init](shape, np.random.default_rng(1), **kwargs)
    # 60,000 draws: the sample variance is within 2 % (more than 5 standard errors).
    assert np.var(w) == pytest.approx(H.weight_variance(init, shape, **kwargs), rel=0.02)


def test_weight_variance_pytorch_default_is_a_sixth_of_he():
    shape = (64, 32, 3, 3)
    default = H.weight_variance("kaiming_uniform", shape, a=math.sqrt(5))
    assert default == pytest.approx(1 / (3 * 288), rel=1e-12)
    assert H.weight_variance("kaiming_normal", shape) / default == pytest.approx(6.0, rel=1e-12)


RULES = {
    "lecun_normal": lambda fi, fo: 1 / fi,
    "lecun_uniform": lambda fi, fo: 1 / fi,
    "glorot_standard": lambda fi, fo: 1 / (3 * fi),
    "xavier_uniform": lambda fi, fo: 2 / (fi + fo),
    "xavier_normal": lambda fi, fo: 2 / (fi + fo),
    "glorot_uniform": lambda fi, fo: 2 / (fi + fo),
    "glorot_normal": lambda fi, fo: 2 / (fi + fo),
    "kaiming_normal": lambda fi, fo: 2 / fi,
    "kaiming_uniform": lambda fi, fo: 2 / fi,
    "he_normal": lambda fi, fo: 2 / fi,
    "he_uniform": lambda fi, fo: 2 / fi,
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_weight_variance_closed_form_and_sample(name):
    shape = (300, 200)  # fan_out 300, fan_in 200
    expected = RULES[name](200, 300)
    assert H.weight_variance(name, shape) == pytest.approx(expected, rel=1e-12)
    # 60000 draws: the relative standard error of a sample variance is below 1%; allow 4%.
    w = H.get_initializer(name)(shape, np.random.default_rng(0))
    assert np.var(w) == pytest.approx(expected, rel=0.04)


def test_weight_variance_options_and_conv_shapes():
    # conv kernel (out=8, in=4, 3x3): fan_in 36, fan_out 72
    assert H.weight_variance("xavier_uniform", (8, 4, 3, 3)) == pytest.approx(2 / (36 + 72))
    assert H.weight_variance("xavier_normal", (8, 4), gain=5 / 3) == pytest.approx(25 / 9 * 2 / 12)
    assert H.weight_variance("kaiming_normal", (8, 4), mode="fan_out") == pytest.approx(2 / 8)
    # PyTorch's nn.Linear default: kaiming_uniform with a = sqrt(5) has the variance of Glorot's standard rule
    assert H.weight_variance("kaiming_uniform", (8, 4), a=math.sqrt(5)) == pytest.approx(
        H.weight_variance("glorot_standard", (8, 4)), rel=1e-12)


def test_weight_variance_rejects_bad_input():
    with pytest.raises(ValueError, match="init"):
        H.weight_variance("xavier", (3, 3))
    with pytest.raises(ValueError, match="init"):
        H.weight_variance("orthogonal", (3, 3))
    with pytest.raises(ValueError, match="gain only applies"):
        H.weight_variance("glorot_standard", (3, 3), gain=2.0)
    with pytest.raises(ValueError, match="only apply to the Kaiming"):
        H.weight_variance("xavier_uniform", (3, 3), mode="fan_out")
    with pytest.raises(ValueError, match="gain"):
        H.weight_variance("xavier_uniform", (3, 3), gain=-1.0)
    with pytest.raises(ValueError, match="shape"):
        H.weight_variance("xavier_uniform", (3,))
    with pytest.raises(ValueError, match="mode"):
        H.weight_variance("kaiming_normal", (3, 3), mode="fan_avg")
