"""Weight initializers, as plain numpy functions.

Shape convention (the same as PyTorch's ``torch.nn.init``)
-----------------------------------------------------------
A dense weight matrix has shape ``(fan_out, fan_in)``: one row per output unit, so a layer computes
``z = x @ W.T + b`` for a batch ``x`` of shape ``(batch, fan_in)``. A convolution kernel has shape
``(out_channels, in_channels, *kernel_size)``; every output unit then sums over
``in_channels * prod(kernel_size)`` inputs, so

* ``fan_in  = shape[1] * prod(shape[2:])``
* ``fan_out = shape[0] * prod(shape[2:])``

Every initializer takes the shape first and a ``numpy.random.Generator`` second, and returns a new
array. Gains, bounds and fan definitions agree with PyTorch wherever the names overlap, so a
reader can move between this book and ``torch.nn.init`` without translating.

Sources: LeCun et al. (1998), "Efficient BackProp"; Glorot & Bengio (2010), "Understanding the
difficulty of training deep feedforward neural networks"; He et al. (2015), "Delving deep into
rectifiers"; Saxe et al. (2014), "Exact solutions to the nonlinear dynamics of learning in deep
linear neural networks"; Klambauer et al. (2017), "Self-normalizing neural networks".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np

from . import _checks

Initializer = Callable[[tuple[int, ...], np.random.Generator], np.ndarray]

LINEAR_FNS = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d")
NONLINEARITIES = LINEAR_FNS + ("sigmoid", "tanh", "softsign", "relu", "leaky_relu", "selu")
MODES = ("fan_in", "fan_out")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain for a nonlinearity, identical to ``torch.nn.init.calculate_gain``.

    ============  ==============================  ======================================
    nonlinearity  gain                            where it comes from
    ============  ==============================  ======================================
    linear/conv   1                               variance preserved by a linear map
    sigmoid       1                               (PyTorch's choice; no derivation)
    tanh          5/3                             PyTorch's empirical choice, see below
    relu          sqrt(2)                         He et al. (2015): E[relu(z)^2] = Var[z]/2
    leaky_relu    sqrt(2 / (1 + a^2))             He et al. (2015), slope a (default 0.01)
    selu          3/4                             PyTorch's choice (SELU itself wants 1)
    ============  ==============================  ======================================

    "linear/conv" covers ``linear``, ``identity``, ``conv1d``/``2d``/``3d`` and
    ``conv_transpose1d``/``2d``/``3d``. The tanh gain 5/3 is a heuristic: tanh shrinks the second
    moment of a unit Gaussian input (E[tanh(z)^2] is about 0.39 for z ~ N(0, 1)) and 5/3 roughly
    compensates for moderate inputs. ``softsign`` is accepted here (gain 1, as for other odd activations that are linear near 0),
    although PyTorch has no entry for it.
    """
    _checks.choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    if nonlinearity in LINEAR_FNS or nonlinearity in ("sigmoid", "softsign"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else _checks.finite_float(param, "param")
        return math.sqrt(2.0 / (1.0 + slope**2))
    return 3.0 / 4.0  # selu


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a dense ``(out, in)`` or convolution ``(out, in, *k)`` shape."""
    dims = _checks.shape_tuple(shape, "shape", min_dims=2)
    receptive_field = math.prod(dims[2:])
    return dims[1] * receptive_field, dims[0] * receptive_field


def _fan(shape: tuple[int, ...], mode: str) -> int:
    _checks.choice(mode, "mode", MODES)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return fan_in if mode == "fan_in" else fan_out


def _prepare(shape, rng, dtype) -> tuple[tuple[int, ...], np.random.Generator, np.dtype]:
    return _checks.shape_tuple(shape), _checks.generator(rng), _checks.float_dtype(dtype)


def zeros(shape, rng=None, *, dtype=np.float64) -> np.ndarray:
    """All zeros. ``rng`` is accepted (and ignored) so that every initializer has one signature."""
    return np.zeros(_checks.shape_tuple(shape), dtype=_checks.float_dtype(dtype))


def constant(shape, rng=None, *, value: float = 0.1, dtype=np.float64) -> np.ndarray:
    """Every entry equal to ``value``: the symmetric start that the first chapter takes apart."""
    value = _checks.finite_float(value, "value")
    return np.full(_checks.shape_tuple(shape), value, dtype=_checks.float_dtype(dtype))


def uniform(shape, rng, *, low: float = -1.0, high: float = 1.0, dtype=np.float64) -> np.ndarray:
    """Independent draws from U[low, high]; variance (high - low)^2 / 12."""
    shape, rng, dtype = _prepare(shape, rng, dtype)
    low, high = _checks.finite_float(low, "low"), _checks.finite_float(high, "high")
    if not low < high:
        raise ValueError(f"low must be smaller than high, got low={low}, high={high}")
    return rng.uniform(low, high, size=shape).astype(dtype, copy=False)


def normal(shape, rng, *, mean: float = 0.0, std: float = 1.0, dtype=np.float64) -> np.ndarray:
    """Independent draws from N(mean, std^2)."""
    shape, rng, dtype = _prepare(shape, rng, dtype)
    mean = _checks.finite_float(mean, "mean")
    std = _checks.finite_float(std, "std", non_negative=True)
    return (mean + std * rng.standard_normal(shape)).astype(dtype, copy=False)


def truncated_normal_std_factor(bound: float = 2.0) -> float:
    """Standard deviation of N(0, 1) truncated to [-bound, bound].

    Var = 1 - 2 b phi(b) / (2 Phi(b) - 1), with phi, Phi the standard normal pdf and cdf. For the
    usual bound of two standard deviations this is 0.8796..., the constant that Keras and
    ``jax.nn.initializers.variance_scaling`` divide by so that the truncated draw keeps the
    variance that was asked for.
    """
    b = _checks.finite_float(bound, "bound", positive=True)
    if b < 1e-3:  # the closed form cancels catastrophically; Var = b^2/3 (1 - 2 b^2/15 + O(b^4))
        return b / math.sqrt(3.0) * math.sqrt(1.0 - 2.0 * b * b / 15.0)
    pdf = math.exp(-0.5 * b * b) / math.sqrt(2.0 * math.pi)
    mass = math.erf(b / math.sqrt(2.0))  # = 2 Phi(b) - 1
    return math.sqrt(1.0 - 2.0 * b * pdf / mass)


def _standard_truncated(shape: tuple[int, ...], rng: np.random.Generator, bound: float) -> np.ndarray:
    """Draws of N(0, 1) conditioned on [-bound, bound], by rejection with an efficient proposal.

    For bound >= 1 the proposal is N(0, 1) itself (acceptance >= 68 %); below that it is U[-b, b],
    accepted with probability exp(-z^2 / 2) (acceptance >= 60 %). Only rejected entries are redrawn.
    """
    small = bound < 1.0
    draws = rng.uniform(-bound, bound, size=shape) if small else rng.standard_normal(shape)
    reject = (rng.random(shape) > np.exp(-0.5 * draws * draws)) if small else (np.abs(draws) > bound)
    while reject.any():
        k = int(reject.sum())
        if small:
            fresh = rng.uniform(-bound, bound, size=k)
            draws[reject] = fresh
            still = rng.random(k) > np.exp(-0.5 * fresh * fresh)
        else:
            fresh = rng.standard_normal(k)
            draws[reject] = fresh
            still = np.abs(fresh) > bound
        reject[reject] = still
    return draws


def truncated_normal(shape, rng, *, std: float = 1.0, bound: float = 2.0, correct_variance: bool = True,
                     dtype=np.float64) -> np.ndarray:
    """Zero-mean normal draws truncated at ``bound`` standard deviations of the underlying normal.

    The result is ``s * t`` with ``t`` drawn from N(0, 1) conditioned on ``|t| <= bound``, so every
    value lies in ``[-bound * s, bound * s]``. Truncation removes the tails and lowers the variance
    to ``f^2 s^2`` with ``f = truncated_normal_std_factor(bound)`` (0.7737 s^2 at bound 2).

    * ``correct_variance=True``: ``s = std / f``, so the variance is exactly ``std^2``; this is what
      Keras' ``VarianceScaling(distribution="truncated_normal")`` and
      ``jax.nn.initializers.variance_scaling`` do.
    * ``correct_variance=False``: ``s = std``, the same distribution as
      ``torch.nn.init.trunc_normal_(t, std=std, a=-bound * std, b=bound * std)``. Note that PyTorch's
      ``a`` and ``b`` are absolute bounds (default -2 and 2): with a small ``std`` such as 0.02 they
      truncate nothing, and with ``std=1`` its standard deviation is only 0.88.
    """
    shape, rng, dtype = _prepare(shape, rng, dtype)
    std = _checks.finite_float(std, "std", non_negative=True)
    bound = _checks.finite_float(bound, "bound", positive=True)
    if not isinstance(correct_variance, bool):
        raise TypeError(f"correct_variance must be True or False, got {correct_variance!r}")
    draws = _standard_truncated(shape, rng, bound)
    scale = std / truncated_normal_std_factor(bound) if correct_variance else std
    draws *= scale
    return draws.astype(dtype, copy=False)


def _gain(gain: float) -> float:
    return _checks.finite_float(gain, "gain", positive=True)


def lecun_normal(shape, rng, *, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    """LeCun et al. (1998): N(0, gain^2 / fan_in). Keeps the forward variance of a linear layer."""
    std = _gain(gain) / math.sqrt(_fan(shape, "fan_in"))
    return normal(shape, rng, std=std, dtype=dtype)


def lecun_uniform(shape, rng, *, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    """LeCun et al. (1998) in uniform form: U[-a, a] with a = gain * sqrt(3 / fan_in)."""
    bound = _gain(gain) * math.sqrt(3.0 / _fan(shape, "fan_in"))
    return uniform(shape, rng, low=-bound, high=bound, dtype=dtype)


def glorot_standard(shape, rng, *, dtype=np.float64) -> np.ndarray:
    """The heuristic Glorot & Bengio (2010, eq. 1) call "standard": U[-1/sqrt(n), 1/sqrt(n)], n = fan_in.

    Its variance is 1 / (3 fan_in), a third of LeCun's. It is also what PyTorch's ``nn.Linear`` and
    ``nn.Conv*`` layers draw by default (``kaiming_uniform_`` with ``a = sqrt(5)``).
    """
    bound = 1.0 / math.sqrt(_fan(shape, "fan_in"))
    return uniform(shape, rng, low=-bound, high=bound, dtype=dtype)


def xavier_uniform(shape, rng, *, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    """Glorot & Bengio (2010, eq. 16), their "normalized" initialization.

    U[-a, a] with a = gain * sqrt(6 / (fan_in + fan_out)), so Var[W] = gain^2 * 2 / (fan_in + fan_out),
    the compromise between the forward condition fan_in Var[W] = 1 and the backward condition
    fan_out Var[W] = 1. This uniform form is the one the paper proposes.
    """
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = _gain(gain) * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, rng, low=-bound, high=bound, dtype=dtype)


def xavier_normal(shape, rng, *, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    """Normal form of Glorot & Bengio (2010): N(0, gain^2 * 2 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    std = _gain(gain) * math.sqrt(2.0 / (fan_in + fan_out))
    return normal(shape, rng, std=std, dtype=dtype)


def kaiming_std(shape, *, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> float:
    """Standard deviation He et al. (2015) prescribe: gain / sqrt(fan), fan chosen by ``mode``.

    For ReLU the gain is sqrt(2), so Var[W] = 2 / fan; for leaky ReLU / PReLU with slope ``a`` it is
    2 / ((1 + a^2) fan). As in PyTorch, the default ``nonlinearity="leaky_relu"`` with ``a=0`` is ReLU.
    """
    a = _checks.finite_float(a, "a")
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(_fan(shape, mode))


def kaiming_normal(shape, rng, *, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                   dtype=np.float64) -> np.ndarray:
    """He et al. (2015): N(0, gain^2 / fan), identical to ``torch.nn.init.kaiming_normal_``."""
    std = kaiming_std(shape, a=a, mode=mode, nonlinearity=nonlinearity)
    return normal(shape, rng, std=std, dtype=dtype)


def kaiming_uniform(shape, rng, *, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    dtype=np.float64) -> np.ndarray:
    """He et al. (2015) in uniform form: U[-b, b], b = sqrt(3) * gain / sqrt(fan), as in PyTorch."""
    bound = math.sqrt(3.0) * kaiming_std(shape, a=a, mode=mode, nonlinearity=nonlinearity)
    return uniform(shape, rng, low=-bound, high=bound, dtype=dtype)


def orthogonal(shape, rng, *, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    """A (semi-)orthogonal matrix scaled by ``gain`` (Saxe et al. 2014), as ``torch.nn.init.orthogonal_``.

    The shape is flattened to ``(shape[0], prod(shape[1:]))``; the result has orthonormal rows when
    there are fewer rows than columns and orthonormal columns otherwise. The QR factor is sign-corrected
    so that the matrix is drawn uniformly (Haar measure), not biased by the QR convention.
    """
    shape, rng, dtype = _prepare(shape, rng, dtype)
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 dimensions for an orthogonal matrix, got {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    flat = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(flat)
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)  # sign(0) would zero a column; it has probability 0 anyway
    if rows < cols:
        q = q.T
    return (_gain(gain) * q).reshape(shape).astype(dtype, copy=False)


INITIALIZERS: dict[str, Callable[..., np.ndarray]] = {
    "zeros": zeros,
    "constant": constant,
    "uniform": uniform,
    "normal": normal,
    "truncated_normal": truncated_normal,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "glorot_standard": glorot_standard,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "kaiming_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
    "orthogonal": orthogonal,
}
# The book says "Glorot" and "He" as often as "Xavier" and "Kaiming"; both spellings work.
INITIALIZERS.update({"glorot_normal": xavier_normal, "glorot_uniform": xavier_uniform,
                     "he_normal": kaiming_normal, "he_uniform": kaiming_uniform})


def get_initializer(init: str | Initializer, **kwargs) -> Initializer:
    """Resolve a name (or a callable) to a function ``(shape, rng) -> array`` with ``kwargs`` bound."""
    if callable(init):
        return partial(init, **kwargs) if kwargs else init
    _checks.choice(init, "init", INITIALIZERS)
    return partial(INITIALIZERS[init], **kwargs)


# -- the variance each named rule draws with ---------------------------------------------------

_GAIN_RULES = ("lecun_normal", "lecun_uniform", "xavier_uniform", "xavier_normal", "glorot_uniform",
               "glorot_normal")
_KAIMING_RULES = ("kaiming_normal", "kaiming_uniform", "he_normal", "he_uniform")
VARIANCE_RULES = _GAIN_RULES + ("glorot_standard",) + _KAIMING_RULES


def weight_variance(init: str, shape: tuple[int, ...], *, gain: float | None = None, a: float | None = None,
                    mode: str | None = None, nonlinearity: str | None = None) -> float:
    """The exact ``Var[W]`` that the rule named ``init`` prescribes for a weight of ``shape``.

    ==========================  =============================  ======================================
    rule                        Var[W]                         source
    ==========================  =============================  ======================================
    ``lecun_*``                 gain^2 / fan_in                LeCun et al. (1998), Sec. 4.6, eq. 16
    ``glorot_standard``         1 / (3 fan_in)                 Glorot & Bengio (2010), eqs. 1 and 15
    ``xavier_*``, ``glorot_*``  2 gain^2 / (fan_in + fan_out)  Glorot & Bengio (2010), eqs. 12 and 16
    ``kaiming_*``, ``he_*``     gain(a)^2 / fan                He et al. (2015), eqs. 10 and 14
    ==========================  =============================  ======================================

    (``glorot_*`` means ``glorot_uniform`` and ``glorot_normal``; ``glorot_standard`` is its own row.)

    The uniform and normal members of a family have the same variance: U[-b, b] has variance b^2/3.
    ``gain`` applies to the LeCun and Xavier rules (default 1); ``a``, ``mode`` and ``nonlinearity``
    to the Kaiming rules (defaults 0, ``"fan_in"``, ``"leaky_relu"``, as in PyTorch). Passing an
    argument that the rule does not take raises ``ValueError``.
    """
    _checks.choice(init, "init", VARIANCE_RULES)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    kaiming_args = {"a": a, "mode": mode, "nonlinearity": nonlinearity}
    if init not in _KAIMING_RULES:
        extra = [k for k, v in kaiming_args.items() if v is not None]
        if extra:
            raise ValueError(f"{', '.join(extra)} only apply to the Kaiming rules, not to init={init!r}")
    if init not in _GAIN_RULES and gain is not None:
        raise ValueError(f"gain only applies to the LeCun and Xavier rules, not to init={init!r}")
    if init == "glorot_standard":
        return 1.0 / (3.0 * fan_in)
    if init in _KAIMING_RULES:
        slope = 0.0 if a is None else _checks.finite_float(a, "a")
        mode = "fan_in" if mode is None else _checks.choice(mode, "mode", ("fan_in", "fan_out"))
        nonlinearity = "leaky_relu" if nonlinearity is None else nonlinearity
        fan = fan_in if mode == "fan_in" else fan_out
        return calculate_gain(nonlinearity, slope) ** 2 / fan
    g = 1.0 if gain is None else _checks.finite_float(gain, "gain", positive=True)
    if init.startswith("lecun"):
        return g * g / fan_in
    return 2.0 * g * g / (fan_in + fan_out)
