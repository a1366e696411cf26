"""What PyTorch, Keras and JAX/Flax draw by default, re-implemented in numpy in the book's terms.

Nothing here imports a framework: each function reproduces a framework's documented formula, so
that the chapter can measure the variances it produces and compare them with the book's rules.

Layouts and fans
----------------
Every function takes and returns weights in the book's layout ``(fan_out_channels, in_channels, *kernel)``,
the layout PyTorch stores (``nn.Linear.weight`` is ``(out_features, in_features)``, ``nn.Conv2d.weight``
is ``(out_channels, in_channels // groups, kh, kw)``). Keras and Flax store the transpose,
``(in, out)`` for a dense kernel and ``(*kernel, in, out)`` for a convolution kernel; :func:`native_shape`
and :func:`to_native` convert, and :func:`native_fans` computes the fans the way those libraries do
from their own layout. The fans agree in every case:

* ``fan_in  = in_channels  * prod(kernel)``
* ``fan_out = out_channels * prod(kernel)``

Sources: PyTorch's ``torch/nn/modules/linear.py`` and ``conv.py`` (``reset_parameters``) and
``torch/nn/init.py`` (Paszke et al. 2019); Keras' ``keras/src/initializers/random_initializers.py``
and ``keras.layers.Dense`` / ``Conv2D``; ``jax.nn.initializers.variance_scaling`` and
``flax.linen.Dense`` / ``Conv``. The named rules are LeCun et al. (1998), Glorot & Bengio (2010)
and He et al. (2015).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import _checks
from .initializers import (fan_in_and_fan_out, kaiming_normal, kaiming_uniform, truncated_normal, xavier_normal,
                           xavier_uniform)

FRAMEWORKS = ("pytorch", "keras", "flax")
SCHEMES = ("default", "lecun_normal", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal")
VS_MODES = ("fan_in", "fan_out", "fan_avg")
VS_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "normal", "uniform")

TRUNCATED_NORMAL_STD_2 = 0.87962566103423978
"""Standard deviation of N(0, 1) truncated to [-2, 2], the literal Keras and JAX divide by.

It equals ``sqrt(1 - 4 phi(2) / (2 Phi(2) - 1))`` (phi, Phi: standard normal pdf and cdf), which
:func:`helpers.initializers.truncated_normal_std_factor` computes from the formula."""


def _phi(t: float) -> float:
    return math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)


def _cdf(t: float) -> float:
    return 0.5 * math.erfc(-t / math.sqrt(2.0))


# --------------------------------------------------------------------------------------------
# Variance scaling (Keras, JAX) and PyTorch's truncated normal
# --------------------------------------------------------------------------------------------
def variance_scaling_variance(shape: tuple[int, ...], *, scale: float = 1.0, mode: str = "fan_in") -> float:
    """The variance ``scale / n`` that ``variance_scaling`` targets, with n chosen by ``mode``.

    ``n`` is ``fan_in``, ``fan_out`` or ``(fan_in + fan_out) / 2`` (``"fan_avg"``). With ``scale=1,
    mode="fan_in"`` this is LeCun et al. (1998), ``scale=2, mode="fan_in"`` He et al. (2015) and
    ``scale=1, mode="fan_avg"`` Glorot & Bengio (2010).
    """
    scale = _checks.finite_float(scale, "scale", positive=True)
    _checks.choice(mode, "mode", VS_MODES)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": 0.5 * (fan_in + fan_out)}[mode]
    return scale / n


def variance_scaling(shape: tuple[int, ...], rng: np.random.Generator, *, scale: float = 1.0,
                     mode: str = "fan_in", distribution: str = "truncated_normal",
                     dtype=np.float64) -> np.ndarray:
    """``keras.initializers.VarianceScaling`` / ``jax.nn.initializers.variance_scaling`` in numpy.

    The target variance is ``v = scale / n`` (see :func:`variance_scaling_variance`). Then

    * ``"truncated_normal"``: N(0, 1) truncated to [-2, 2], times ``sqrt(v) / 0.87962566103423978``,
      so the variance after truncation is exactly ``v`` and no draw exceeds
      ``2 / 0.8796 = 2.27`` standard deviations;
    * ``"untruncated_normal"`` (Keras) or ``"normal"`` (JAX): N(0, v);
    * ``"uniform"``: U[-sqrt(3 v), sqrt(3 v)].

    ``shape`` is in the book's layout ``(out, in, *kernel)``.
    """
    _checks.choice(distribution, "distribution", VS_DISTRIBUTIONS)
    variance = variance_scaling_variance(shape, scale=scale, mode=mode)
    shape = _checks.shape_tuple(shape)
    rng = _checks.generator(rng)
    dtype = _checks.float_dtype(dtype)
    std = math.sqrt(variance)
    if distribution == "truncated_normal":
        draws = truncated_normal(shape, rng, std=1.0, bound=2.0, correct_variance=False)
        return (draws * (std / TRUNCATED_NORMAL_STD_2)).astype(dtype, copy=False)
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        return rng.uniform(-bound, bound, size=shape).astype(dtype, copy=False)
    return (std * rng.standard_normal(shape)).astype(dtype, copy=False)


def trunc_normal_variance(*, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0) -> float:
    """Variance of N(mean, std^2) restricted to [a, b] (the bounds are absolute values).

    With alpha = (a - mean)/std, beta = (b - mean)/std and Z = Phi(beta) - Phi(alpha):
    Var = std^2 [1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z)^2],
    the standard result for the truncated normal distribution (e.g. Johnson, Kotz & Balakrishnan).
    """
    mean, std, a, b = _trunc_args(mean, std, a, b)
    alpha, beta = (a - mean) / std, (b - mean) / std
    z = _cdf(beta) - _cdf(alpha)
    pa, pb = _phi(alpha), _phi(beta)
    # phi(t) * t -> 0 for infinite bounds; clip to keep the products finite
    ta = alpha * pa if math.isfinite(alpha) else 0.0
    tb = beta * pb if math.isfinite(beta) else 0.0
    return std * std * (1.0 + (ta - tb) / z - ((pa - pb) / z) ** 2)


def _trunc_args(mean, std, a, b):
    mean = _checks.finite_float(mean, "mean")
    std = _checks.finite_float(std, "std", positive=True)
    for value, name in ((a, "a"), (b, "b")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise TypeError(f"{name} must be a real number (infinite allowed), got {value!r}")
    a, b = float(a), float(b)
    if not a < b:
        raise ValueError(f"a must be smaller than b, got a={a}, b={b}")
    mass = _cdf((b - mean) / std) - _cdf((a - mean) / std)
    if mass < 1e-3:
        raise ValueError(f"[a, b] = [{a}, {b}] holds only {mass:.2e} of N({mean}, {std}^2); "
                         "choose bounds within a few standard deviations of the mean")
    return mean, std, a, b


def torch_trunc_normal(shape: tuple[int, ...], rng: np.random.Generator, *, mean: float = 0.0, std: float = 1.0,
                       a: float = -2.0, b: float = 2.0, dtype=np.float64) -> np.ndarray:
    """``torch.nn.init.trunc_normal_(w, mean, std, a, b)``: N(mean, std^2) restricted to [a, b].

    Unlike Keras and JAX, the bounds ``a, b`` are *absolute values*, not multiples of ``std``, and the
    result is not rescaled: its variance is :func:`trunc_normal_variance`, below ``std^2``. With the
    defaults and a small ``std`` (e.g. ``std=0.02``) the bounds sit 100 standard deviations out, so
    the draw is an ordinary N(0, std^2). Sampled here by rejection (PyTorch uses the inverse CDF;
    the distribution is the same).
    """
    mean, std, a, b = _trunc_args(mean, std, a, b)
    shape = _checks.shape_tuple(shape)
    rng = _checks.generator(rng)
    dtype = _checks.float_dtype(dtype)
    draws = mean + std * rng.standard_normal(shape)
    outside = (draws < a) | (draws > b)
    while outside.any():
        draws[outside] = mean + std * rng.standard_normal(int(outside.sum()))
        outside = (draws < a) | (draws > b)
    return draws.astype(dtype, copy=False)


# --------------------------------------------------------------------------------------------
# Layer defaults
# --------------------------------------------------------------------------------------------
def _framework(framework: str) -> str:
    return _checks.choice(framework, "framework", FRAMEWORKS)


def default_variances(framework: str, shape: tuple[int, ...]) -> tuple[float, float]:
    """Exact ``(Var[W], Var[b])`` of a framework's default dense/conv layer with weight ``shape``.

    * PyTorch: ``kaiming_uniform_(a=sqrt(5))`` has gain sqrt(2/(1+5)) = 1/sqrt(3) and bound
      sqrt(3) * gain / sqrt(fan_in) = 1/sqrt(fan_in), so Var[W] = 1/(3 fan_in); the bias is drawn
      from the same U[-1/sqrt(fan_in), 1/sqrt(fan_in)], Var[b] = 1/(3 fan_in).
    * Keras: glorot_uniform, Var[W] = 2/(fan_in + fan_out) (Glorot & Bengio 2010); Var[b] = 0.
    * Flax: lecun_normal, Var[W] = 1/fan_in (LeCun et al. 1998); Var[b] = 0.
    """
    framework = _framework(framework)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    if framework == "pytorch":
        return 1.0 / (3.0 * fan_in), 1.0 / (3.0 * fan_in)
    if framework == "keras":
        return 2.0 / (fan_in + fan_out), 0.0
    return 1.0 / fan_in, 0.0


def default_init(framework: str, shape: tuple[int, ...], rng: np.random.Generator, *,
                 dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``(W, b)`` as the framework's default dense or convolution layer does.

    ``shape`` is ``(out, in)`` for a dense layer and ``(out, in // groups, *kernel)`` for a
    convolution, in the book's layout whatever the framework; ``b`` has shape ``(out,)``.
    PyTorch draws both from U[-1/sqrt(fan_in), 1/sqrt(fan_in)] (``kaiming_uniform_`` with
    ``a = sqrt(5)``, then the bias); Keras draws glorot_uniform and zeros; Flax lecun_normal
    (truncated normal, variance-corrected) and zeros.
    """
    framework = _framework(framework)
    shape = _checks.shape_tuple(shape, min_dims=2)
    rng = _checks.generator(rng)
    dtype = _checks.float_dtype(dtype)
    fan_in, _ = fan_in_and_fan_out(shape)
    if framework == "pytorch":
        w = kaiming_uniform(shape, rng, a=math.sqrt(5.0), mode="fan_in", nonlinearity="leaky_relu", dtype=dtype)
        bound = 1.0 / math.sqrt(fan_in)
        b = rng.uniform(-bound, bound, size=shape[0]).astype(dtype, copy=False)
        return w, b
    if framework == "keras":
        w = variance_scaling(shape, rng, scale=1.0, mode="fan_avg", distribution="uniform", dtype=dtype)
    else:
        w = variance_scaling(shape, rng, scale=1.0, mode="fan_in", distribution="truncated_normal", dtype=dtype)
    return w, np.zeros(shape[0], dtype=dtype)


def native_shape(framework: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape the framework stores for a weight of book shape ``(out, in, *kernel)``.

    PyTorch: unchanged. Keras and Flax: ``(*kernel, in, out)`` (``(in, out)`` for a dense kernel).
    """
    framework = _framework(framework)
    dims = _checks.shape_tuple(shape, min_dims=2)
    if framework == "pytorch":
        return dims
    return (*dims[2:], dims[1], dims[0])


def to_native(framework: str, w: np.ndarray) -> np.ndarray:
    """Transpose a book-layout weight ``(out, in, *kernel)`` into the framework's own layout."""
    framework = _framework(framework)
    w = _checks.array(w, "w")
    if w.ndim < 2:
        raise ValueError(f"w must have at least 2 dimensions, got shape {w.shape}")
    if framework == "pytorch":
        return w
    return np.transpose(w, tuple(range(2, w.ndim)) + (1, 0))


def native_fans(framework: str, shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` computed from a framework's *native* weight shape, the way it does.

    PyTorch (``_calculate_fan_in_and_fan_out``): ``shape[1] * rf, shape[0] * rf`` with rf the product
    of ``shape[2:]``. Keras (``compute_fans``) and JAX (``_compute_fans`` with ``in_axis=-2,
    out_axis=-1``): ``shape[-2] * rf, shape[-1] * rf`` with rf the product of ``shape[:-2]``.
    """
    framework = _framework(framework)
    dims = _checks.shape_tuple(shape, min_dims=2)
    if framework == "pytorch":
        return fan_in_and_fan_out(dims)
    rf = math.prod(dims[:-2])
    return dims[-2] * rf, dims[-1] * rf


# --------------------------------------------------------------------------------------------
# Asking each framework for LeCun, Xavier or He
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    """How to ask ``framework`` for ``scheme``: the call, the distribution and a numpy re-implementation."""

    framework: str
    scheme: str
    call: str
    distribution: str
    init: Callable[..., np.ndarray] = field(repr=False)
    variance: Callable[[tuple[int, ...]], float] = field(repr=False)


def _vs(scale: float, mode: str, distribution: str) -> tuple[Callable, Callable]:
    def init(shape, rng, *, dtype=np.float64):
        return variance_scaling(shape, rng, scale=scale, mode=mode, distribution=distribution, dtype=dtype)

    return init, lambda shape: variance_scaling_variance(shape, scale=scale, mode=mode)


def _pytorch_default_weight(shape, rng, *, dtype=np.float64):
    return kaiming_uniform(shape, rng, a=math.sqrt(5.0), nonlinearity="leaky_relu", dtype=dtype)


def _fans(shape):
    return fan_in_and_fan_out(shape)


_TRUNC = "truncated normal (cut at 2 std, rescaled)"
RECIPES: dict[tuple[str, str], Recipe] = {
    ("pytorch", "default"): Recipe(
        "pytorch", "default", "nn.Linear(n_in, n_out)  # kaiming_uniform_(w, a=math.sqrt(5))", "uniform",
        _pytorch_default_weight, lambda s: 1.0 / (3.0 * _fans(s)[0])),
    ("pytorch", "lecun_normal"): Recipe(
        "pytorch", "lecun_normal", 'nn.init.kaiming_normal_(layer.weight, nonlinearity="linear")', "normal",
        lambda s, r, **k: kaiming_normal(s, r, nonlinearity="linear", **k), lambda s: 1.0 / _fans(s)[0]),
    ("pytorch", "xavier_uniform"): Recipe(
        "pytorch", "xavier_uniform", "nn.init.xavier_uniform_(layer.weight)", "uniform",
        xavier_uniform, lambda s: 2.0 / sum(_fans(s))),
    ("pytorch", "xavier_normal"): Recipe(
        "pytorch", "xavier_normal", "nn.init.xavier_normal_(layer.weight)", "normal",
        xavier_normal, lambda s: 2.0 / sum(_fans(s))),
    ("pytorch", "he_uniform"): Recipe(
        "pytorch", "he_uniform", 'nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")', "uniform",
        lambda s, r, **k: kaiming_uniform(s, r, nonlinearity="relu", **k), lambda s: 2.0 / _fans(s)[0]),
    ("pytorch", "he_normal"): Recipe(
        "pytorch", "he_normal", 'nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")', "normal",
        lambda s, r, **k: kaiming_normal(s, r, nonlinearity="relu", **k), lambda s: 2.0 / _fans(s)[0]),
}
for _fw, _prefix in (("keras", 'keras.layers.Dense(n_out, kernel_initializer="{}")'),
                     ("flax", "nn.Dense(n_out, kernel_init=nn.initializers.{}())")):
    for _scheme, (_name, _scale, _mode, _dist, _label) in {
        "default": ("glorot_uniform" if _fw == "keras" else "lecun_normal",
                    1.0, "fan_avg" if _fw == "keras" else "fan_in",
                    "uniform" if _fw == "keras" else "truncated_normal",
                    "uniform" if _fw == "keras" else _TRUNC),
        "lecun_normal": ("lecun_normal", 1.0, "fan_in", "truncated_normal", _TRUNC),
        "xavier_uniform": ("glorot_uniform", 1.0, "fan_avg", "uniform", "uniform"),
        "xavier_normal": ("glorot_normal", 1.0, "fan_avg", "truncated_normal", _TRUNC),
        "he_uniform": ("he_uniform", 2.0, "fan_in", "uniform", "uniform"),
        "he_normal": ("he_normal", 2.0, "fan_in", "truncated_normal", _TRUNC),
    }.items():
        _init, _var = _vs(_scale, _mode, _dist)
        _call = _prefix.format(_name)
        if _scheme == "default":
            _call = "keras.layers.Dense(n_out)" if _fw == "keras" else "nn.Dense(n_out)"
        RECIPES[(_fw, _scheme)] = Recipe(_fw, _scheme, _call, _label, _init, _var)


def recipe(framework: str, scheme: str) -> Recipe:
    """The :class:`Recipe` for ``scheme`` (one of ``SCHEMES``) in ``framework``."""
    return RECIPES[(_framework(framework), _checks.choice(scheme, "scheme", SCHEMES))]


# --------------------------------------------------------------------------------------------
# The decision guide
# --------------------------------------------------------------------------------------------
GUIDE_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "selu", "linear")
ARCHITECTURES = ("plain", "normalized", "residual")


@dataclass(frozen=True)
class Recommendation:
    """An initializer for an activation in an architecture, in the book's terms and as framework calls.

    ``init`` and ``init_kwargs`` resolve with :func:`helpers.initializers.get_initializer`;
    ``then`` names a step after drawing: ``"none"``, ``"lsuv"`` (rescale on a calibration batch,
    :mod:`helpers.lsuv`) or ``"zero_last"`` (zero the last layer of every residual branch,
    :mod:`helpers.residual`). ``pytorch`` is the call to make on a weight ``w``; ``keras`` is the
    value to pass as ``kernel_initializer=``; ``flax`` the value to pass as ``kernel_init=``.
    """

    activation: str
    architecture: str
    init: str
    init_kwargs: dict
    then: str
    rule: str
    pytorch: str
    keras: str
    flax: str


_RULES = {
    "relu": ("kaiming_normal", {"nonlinearity": "relu"}, "He normal",
             'nn.init.kaiming_normal_(w, nonlinearity="relu")', '"he_normal"', "nn.initializers.he_normal()"),
    "leaky_relu": ("kaiming_normal", {"nonlinearity": "leaky_relu", "a": 0.01}, "He normal (slope a)",
                   'nn.init.kaiming_normal_(w, a=0.01, nonlinearity="leaky_relu")',
                   'keras.initializers.VarianceScaling(2 / (1 + 0.01**2), "fan_in")',
                   'nn.initializers.variance_scaling(2 / (1 + 0.01**2), "fan_in", "truncated_normal")'),
    "tanh": ("orthogonal", {"gain": 1.0}, "orthogonal, gain 1 (critical point)", "nn.init.orthogonal_(w)",
             '"orthogonal"', "nn.initializers.orthogonal()"),
    "sigmoid": ("xavier_uniform", {}, "Glorot uniform", "nn.init.xavier_uniform_(w)", '"glorot_uniform"',
                "nn.initializers.xavier_uniform()"),
    "selu": ("lecun_normal", {}, "LeCun normal", 'nn.init.kaiming_normal_(w, nonlinearity="linear")',
             '"lecun_normal"', "nn.initializers.lecun_normal()"),
    "linear": ("orthogonal", {}, "orthogonal", "nn.init.orthogonal_(w)", '"orthogonal"',
               "nn.initializers.orthogonal()"),
}


_VARIANCE_TEXT = {"relu": "2/fan_in", "leaky_relu": "2/((1+a^2) fan_in)", "tanh": "1/fan_in (orthogonal)",
                  "sigmoid": "2/(fan_in+fan_out), then rescaled", "selu": "1/fan_in", "linear": "1/fan_in (square)"}


def recommend(activation: str, architecture: str = "plain") -> Recommendation:
    """Initializer to start from, for hidden layers with ``activation`` in ``architecture``.

    * ``"plain"``: deep stack without normalization. ReLU-type: He et al. (2015); tanh: orthogonal
      weights with gain 1 and zero biases, ``sigma_w^2 = 1, sigma_b^2 = 0``, the critical point
      ``chi_1 = 1`` of the mean-field theory (Poole et al. 2016; Schoenholz et al. 2017), where
      neither the forward signal nor the gradient changes exponentially with depth; PyTorch's gain
      5/3 is in the chaotic phase (``chi_1 = 1.21``: gradients grow about 1.21-fold per layer);
      orthogonal rather than Gaussian weights for the singular values of deep products (Saxe et al.
      2014; Pennington et al. 2017); sigmoid: no gain keeps it centred, so Glorot then LSUV (Mishkin &
      Matas 2016), which fixes the forward pass only; SELU: LeCun normal (Klambauer et al. 2017);
      linear: orthogonal (Saxe et al. 2014).
    * ``"normalized"``: batch or layer normalization after every linear layer (Ioffe & Szegedy 2015;
      Ba et al. 2016): the forward pass no longer depends on the weight scale, and the same rule
      keeps the effective learning rate sensible; no LSUV needed.
    * ``"residual"``: blocks x + F(x) without normalization: the plain rule inside each branch and the
      branch's last layer set to zero (Goyal et al. 2017; Zhang et al. 2019), so that every block
      starts as the identity.
    """
    _checks.choice(activation, "activation", GUIDE_ACTIVATIONS)
    _checks.choice(architecture, "architecture", ARCHITECTURES)
    init, kwargs, rule, pytorch, keras, flax = _RULES[activation]
    then = "none"
    if architecture == "plain" and activation == "sigmoid":
        then, rule = "lsuv", rule + " + LSUV"
    elif architecture == "residual":
        then, rule = "zero_last", rule + " + zero last branch layer"
    elif architecture == "normalized":
        rule += " (scale less critical)"
    return Recommendation(activation, architecture, init, dict(kwargs), then, rule, pytorch, keras, flax)


def decision_table() -> str:
    """The decision guide as a Markdown table: one row per activation, one column per architecture."""
    head = "| hidden activation | plain deep stack | with batch/layer norm | residual, no norm |"
    rows = [head, "|---|---|---|---|"]
    for act in GUIDE_ACTIVATIONS:
        cells = [recommend(act, arch).rule for arch in ARCHITECTURES]
        rows.append(f"| {act} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def calls_table() -> str:
    """The calls that request each recommended initializer, as a Markdown table.

    One row per activation and library (PyTorch, then Keras, then Flax); the activation and the
    variance are written on the PyTorch row only, so the table stays narrow enough to read.
    """
    rows = ["| hidden activation | Var[W] | library | initializer |", "|---|---|---|---|"]
    for act in GUIDE_ACTIVATIONS:
        r = recommend(act)
        for i, (lib, call) in enumerate((("PyTorch", r.pytorch), ("Keras", r.keras), ("Flax", r.flax))):
            head = f"| {act} | {_VARIANCE_TEXT[act]} |" if i == 0 else "| | |"
            rows.append(f"{head} {lib} | `{call}` |")
    return "\n".join(rows)


# -- Recurrent layers --
# PyTorch: torch/nn/modules/rnn.py (RNNBase.reset_parameters draws every weight and bias from
# U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))). Keras: keras.layers.SimpleRNN / LSTM
# (kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
# unit_forget_bias=True). Flax: flax.linen.recurrent SimpleCell / LSTMCell (kernel_init lecun_normal,
# recurrent_kernel_init orthogonal, bias_init zeros; one Dense per gate).
RECURRENT_CELLS = ("rnn", "lstm")
_GATES = {"rnn": 1, "lstm": 4}


@dataclass(frozen=True)
class RecurrentDefault:
    """A framework's default recurrent layer in the book's terms (layout of :mod:`helpers.recurrent`).

    ``weight_ih`` is ``(G n, n_in)``, ``weight_hh`` is ``(G n, n)`` and ``bias`` the *total* bias
    ``(G n,)`` (PyTorch adds two bias vectors, ``bias_ih + bias_hh``). ``var_*`` are the exact
    variances of one entry; ``forget_bias`` the value (or mean) of the LSTM's forget-gate bias;
    ``recurrent`` says what structure ``weight_hh`` has. In :func:`recurrent_defaults_table` the columns are
    these variances, the structure of ``W_hh``, the total bias and ``b_f``, the forget-gate bias.
    """

    framework: str
    cell: str
    call: str
    var_ih: float
    var_hh: float
    var_bias: float
    forget_bias: float | None
    recurrent: str


def recurrent_default(framework: str, cell: str, n_in: int, n_hidden: int) -> RecurrentDefault:
    """What ``framework``'s default ``cell`` (``"rnn"`` or ``"lstm"``) draws, as a :class:`RecurrentDefault`.

    * PyTorch ``nn.RNN`` / ``nn.LSTM``: every weight and both biases U[-k, k], ``k = 1/sqrt(n)``
      (``n = hidden_size``, not the fan-in): Var = 1/(3n) for both weight matrices, 2/(3n) for the
      total bias; the forget bias has mean 0.
    * Keras ``SimpleRNN`` / ``LSTM``: the kernel ``(n_in, G n)`` is glorot_uniform over the *whole*
      concatenated kernel, Var = 2/(n_in + G n); the recurrent kernel ``(n, G n)`` is orthogonal with
      orthonormal rows, so each entry has variance 1/(G n) and only for the simple RNN is each gate's
      block orthogonal; bias zeros, forget bias 1 (``unit_forget_bias=True``).
    * Flax ``SimpleCell`` / ``LSTMCell``: per gate a lecun_normal input kernel (Var = 1/n_in) and an
      orthogonal ``(n, n)`` recurrent kernel; biases zero, so the forget bias is 0.
    """
    framework = _framework(framework)
    _checks.choice(cell, "cell", RECURRENT_CELLS)
    n_in, n = _checks.positive_int(n_in, "n_in"), _checks.positive_int(n_hidden, "n_hidden")
    g = _GATES[cell]
    forget = None if cell == "rnn" else {"pytorch": 0.0, "keras": 1.0, "flax": 0.0}[framework]
    if framework == "pytorch":
        call = "torch.nn.RNN(n_in, n)" if cell == "rnn" else "torch.nn.LSTM(n_in, n)"
        return RecurrentDefault(framework, cell, call, 1 / (3 * n), 1 / (3 * n), 2 / (3 * n), forget,
                                "uniform, not orthogonal")
    if framework == "keras":
        call = "keras.layers.SimpleRNN(n)" if cell == "rnn" else "keras.layers.LSTM(n)"
        structure = "orthogonal" if g == 1 else f"orthonormal over all {g} gates"
        return RecurrentDefault(framework, cell, call, 2 / (n_in + g * n), 1 / (g * n), 0.0, forget, structure)
    call = "flax.linen.SimpleCell(n)" if cell == "rnn" else "flax.linen.LSTMCell(n)"
    return RecurrentDefault(framework, cell, call, 1 / n_in, 1 / n, 0.0, forget,
                            "orthogonal" if g == 1 else "orthogonal per gate")


def recurrent_default_init(framework: str, cell: str, n_in: int, n_hidden: int, rng: np.random.Generator,
                           *, dtype=np.float64) -> dict[str, np.ndarray]:
    """Draw ``{"weight_ih", "weight_hh", "bias"}`` as the framework's default recurrent layer does.

    The arrays are in the book's layout (see :class:`RecurrentDefault`) and can be passed to
    :class:`helpers.recurrent.SimpleRNN` or :class:`helpers.recurrent.LSTM` directly.
    """
    spec = recurrent_default(framework, cell, n_in, n_hidden)
    rng = _checks.generator(rng)
    dtype = _checks.float_dtype(dtype)
    n, g = n_hidden, _GATES[cell]
    if spec.framework == "pytorch":
        k = 1.0 / math.sqrt(n)
        w_ih = rng.uniform(-k, k, size=(g * n, n_in))
        w_hh = rng.uniform(-k, k, size=(g * n, n))
        bias = rng.uniform(-k, k, size=g * n) + rng.uniform(-k, k, size=g * n)   # bias_ih + bias_hh
    elif spec.framework == "keras":
        kernel = variance_scaling((g * n, n_in), rng, mode="fan_avg", distribution="uniform")
        w_ih = kernel
        # Keras draws the recurrent kernel in its own layout (n, G n): orthonormal rows
        from .initializers import orthogonal
        w_hh = orthogonal((n, g * n), rng).T
        bias = np.zeros(g * n)
    else:
        from .initializers import orthogonal
        w_ih = np.concatenate([variance_scaling((n, n_in), rng, mode="fan_in", distribution="truncated_normal")
                               for _ in range(g)])
        w_hh = np.concatenate([orthogonal((n, n), rng) for _ in range(g)])
        bias = np.zeros(g * n)
    if spec.forget_bias:
        bias[n:2 * n] = spec.forget_bias
    return {"weight_ih": w_ih.astype(dtype, copy=False), "weight_hh": w_hh.astype(dtype, copy=False),
            "bias": bias.astype(dtype, copy=False)}


def recurrent_defaults_table(n_in: int, n_hidden: int) -> str:
    """The default recurrent layers of the three frameworks as a Markdown table, for ``n_in`` inputs
    and ``n_hidden`` units (variances as numbers, with the rule that gives them)."""
    rows = ["| layer | Var W_ih | Var W_hh | W_hh | Var b (total) | b_f |",
            "|---|---|---|---|---|---|"]
    for cell in RECURRENT_CELLS:
        g = _GATES[cell]
        gn = "n" if g == 1 else f"{g}n"
        rules = {"pytorch": ("1/(3n)", "1/(3n)", "2/(3n)"), "keras": (f"2/(n_in+{gn})", "1/n" if g == 1 else f"1/({gn})", None),
                 "flax": ("1/n_in", "1/n", None)}
        for fw in FRAMEWORKS:
            s = recurrent_default(fw, cell, n_in, n_hidden)
            r = rules[fw]
            forget = "-" if s.forget_bias is None else f"{s.forget_bias:g}"
            bias = "0" if r[2] is None else f"{r[2]} = {s.var_bias:.4f}"
            rows.append(f"| `{s.call}` | {r[0]} = {s.var_ih:.4f} | {r[1]} = {s.var_hh:.4f} | {s.recurrent} | "
                        f"{bias} | {forget} |")
    return "\n".join(rows)
