"""Signal propagation through deep random networks: measured, predicted, and where floats give out.

Three groups of functions, all for a stack of identical fully connected layers
``z_l = W_l h_{l-1} + b_l``, ``h_l = phi(z_l)`` (every layer activated, so that each layer is alike):

* **measure** - :func:`helpers.network.random_network` draws a network with
  ``Var[W_l] = sigma_w2 / fan``; :func:`propagate` pushes a batch through it, back-propagates a
  unit-variance random output gradient and returns per-layer activation and gradient statistics
  in one :class:`Propagation`;
  :func:`simulate` does both for i.i.d. Gaussian inputs; :func:`diagnose` reads the statistics.
  Many networks at once are one ensemble (:func:`helpers.network.stack_mlps`): :func:`propagate_ensemble`
  and :func:`simulate_ensemble` run one batched pass and return one :class:`Propagation` per member.
  :func:`measure_propagation` measures the variances and correlations of a batch of inputs, layer
  by layer, for the edge-of-chaos chapter (for one network or an ensemble).
* **predict** - :func:`helpers.theory.signal.predicted_profile` for these networks, forward
  (:func:`predicted_forward`) and backward (:func:`predicted_gradient_variances`), with per-layer
  widths so that fan_in and fan_out can differ; :func:`predicted_saturated_fraction`.
* **floating point** - :func:`representable_depth` computes from ``numpy.finfo`` at which depth a
  signal of scale ``start * factor**L`` overflows, becomes subnormal, or flushes to zero;
  :func:`scalar_chain` and :func:`push_to_limits` check it by simulation in the given precision.

The variance arguments are those of LeCun et al. (1998), Glorot & Bengio (2010) and He et al.
(2015); the backward factor is the chi_1 of Poole et al. (2016) and Schoenholz et al. (2017).
Predictions hold for averages over random networks of infinite width; a finite network fluctuates
around them, more so the deeper and narrower it is (Hanin 2018; Hanin & Rolnick 2018).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from . import _checks
from .activations import Activation, get_activation
from .diagnostics import dead_fraction, saturated_fraction
from .diagnostics import SATURATION_THRESHOLD
from .network import RANDOM_DTYPES, MLP, backward, forward, random_network, stack_mlps
from .network import random_dtype as _dtype
from .theory import predicted_profile

MODES = ("fan_in", "fan_out")
DTYPES = RANDOM_DTYPES
_MAX_SLOPE = {"tanh": 1.0, "sigmoid": 0.25, "softsign": 1.0}


def _sizes(sizes: Sequence[int]) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of layer widths such as [64, 64, 64], got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {list(sizes)}")
    return [_checks.positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]


# -- measure ------------------------------------------------------------------------------------

@dataclass
class Propagation:
    """Per-layer statistics of one forward and one backward pass (arrays indexed by layer, 0-based).

    * ``pre_var[l]``: mean of ``z^2`` over batch and units, the measured ``q^{(l)}``;
    * ``act_rms[l]``: root mean square of ``h = phi(z)``;
    * ``grad_var[l]``: mean of ``delta^2``, ``delta = dL/dz``, for a unit-variance random output gradient;
    * ``saturated[l]`` / ``dead[l]``: fractions from :mod:`helpers.diagnostics` (NaN / 0 where not defined);
    * ``pre_samples[l]`` / ``post_samples[l]``: up to ``keep`` values of ``z`` / ``h`` for histograms;
    * ``nonfinite_layer``: first layer (1-based) whose output is not finite, else ``None``.
    """

    sizes: list[int]
    activation: str
    pre_var: np.ndarray
    act_rms: np.ndarray
    grad_var: np.ndarray
    saturated: np.ndarray
    dead: np.ndarray
    pre_samples: list[np.ndarray] = field(default_factory=list)
    post_samples: list[np.ndarray] = field(default_factory=list)
    nonfinite_layer: int | None = None

    @property
    def depth(self) -> int:
        return len(self.pre_var)

    @property
    def pre_std(self) -> np.ndarray:
        """Root mean square of the pre-activations, ``sqrt(q^{(l)})``."""
        return np.sqrt(self.pre_var)

    @property
    def grad_rms(self) -> np.ndarray:
        """Root mean square of the back-propagated gradient ``delta^{(l)}``."""
        return np.sqrt(self.grad_var)

    @property
    def forward_ratio(self) -> float:
        """``rms(z^{(L)}) / rms(z^{(1)})``: how much the forward signal grew (>1) or shrank (<1) over depth."""
        with np.errstate(all="ignore"):
            return float(self.pre_std[-1] / self.pre_std[0])

    @property
    def backward_ratio(self) -> float:
        """``rms(delta^{(1)}) / rms(delta^{(L)})``: how much the gradient grew or shrank on its way back."""
        with np.errstate(all="ignore"):
            return float(self.grad_rms[0] / self.grad_rms[-1])


def _rms(a: np.ndarray) -> float:
    """Root mean square of a float64 array without squaring tiny values into underflow (inf/NaN kept)."""
    if np.any(np.isnan(a)):
        return float("nan")
    peak = float(np.max(np.abs(a))) if a.size else 0.0
    if peak == 0.0 or not math.isfinite(peak):
        return peak
    scaled = a / peak
    return peak * math.sqrt(float(np.mean(scaled * scaled)))


def _mean_squares(a: np.ndarray) -> np.ndarray:
    """Mean of ``a^2`` per member of ``a`` of shape ``(E, ...)``, in float64.

    Each member's values are one contiguous run, summed by numpy's pairwise summation as they would be
    for that member alone: stacking members on one axis does not change a member's mean.
    """
    a64 = a.astype(np.float64, copy=False).reshape(len(a), -1)
    return np.mean(a64 * a64, axis=1)


def _single(net: object) -> MLP:
    """``net`` itself if it is one network (not an ensemble); a TypeError naming the alternative otherwise."""
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a helpers.network.MLP, got {type(net).__name__}")
    if net.ensemble_size is not None:
        raise TypeError(f"net must be a single network, got an ensemble of {net.ensemble_size}; "
                        "use propagate_ensemble for an ensemble")
    return net


def _summarize(sizes: list[int], activation: Activation, pre: list[np.ndarray], post: list[np.ndarray],
               d_pre: list[np.ndarray], keep: int) -> list[Propagation]:
    """One :class:`Propagation` per member from per-layer ``z``, ``h`` and ``delta`` of shape ``(E, batch, units)``.

    Shared by :func:`propagate` (``E = 1``) and :func:`propagate_ensemble`: the mean squares and the
    finiteness are taken for all members at once, layer by layer; the saturated and dead fractions of
    :mod:`helpers.diagnostics` member by member.
    """
    size = len(pre[0])
    with np.errstate(all="ignore"):
        pre_var = np.stack([_mean_squares(z) for z in pre], axis=1)  # (E, L)
        act_rms = np.sqrt(np.stack([_mean_squares(h) for h in post], axis=1))
        grad_var = np.stack([_mean_squares(d) for d in d_pre], axis=1)
        finite = np.stack([np.all(np.isfinite(h.reshape(size, -1)), axis=1) for h in post], axis=1)
        saturated = np.array([[saturated_fraction(z[k].astype(np.float64, copy=False), activation) for z in pre]
                              for k in range(size)])
        dead = np.array([[dead_fraction(z[k], activation) for z in pre] for k in range(size)])
    runs = []
    for k in range(size):
        nonfinite = next((i + 1 for i, ok in enumerate(finite[k]) if not ok), None)
        pre_samples = [z[k].ravel()[:keep].astype(np.float64) for z in pre] if keep else []
        post_samples = [h[k].ravel()[:keep].astype(np.float64) for h in post] if keep else []
        runs.append(Propagation(list(sizes), activation.name, pre_var[k], act_rms[k], grad_var[k], saturated[k],
                                dead[k], pre_samples, post_samples, nonfinite))
    return runs


def propagate(net: MLP, x: np.ndarray, rng: np.random.Generator, *, keep: int = 0) -> Propagation:
    """Forward ``x`` through ``net``, back-propagate a random N(0, 1) output gradient, summarize per layer.

    Uses :func:`helpers.network.forward` and :func:`helpers.network.backward`, so the numbers are those
    of the book's network code. The output gradient stands in for dL/dh^{(L)} of a loss whose gradient
    at the output is unstructured noise; its scale is 1 so that ``grad_var`` reads as a ratio to it.
    Statistics are accumulated in float64 whatever the network's dtype; overflow or NaN is recorded
    in ``nonfinite_layer`` (and in the statistics as inf / NaN), never raised or warned about.
    For many networks at once see :func:`propagate_ensemble`.
    """
    net = _single(net)
    rng = _checks.generator(rng)
    keep = _checks.positive_int(keep, "keep", allow_zero=True)
    x = _checks.array(x, "x", ndim=2)
    with np.errstate(all="ignore"):
        out, cache = forward(net, x)
        grad_out = rng.standard_normal(out.shape).astype(net.dtype)
        grads = backward(net, cache, grad_out)
    one = [[a[None] for a in arrays] for arrays in (cache.pre, cache.post, grads.d_pre)]
    return _summarize(net.sizes, net.activation, *one, keep)[0]


def propagate_ensemble(net: MLP, x: np.ndarray, grad_out: np.ndarray, *, keep: int = 0) -> list[Propagation]:
    """:func:`propagate` for every member of an ensemble, in one batched forward and backward pass.

    ``net`` is an ensemble of ``E`` networks (:func:`helpers.network.stack_mlps`), ``x`` has shape
    ``(E, batch, n_0)`` and ``grad_out``, the output gradient of each member, shape ``(E, batch, n_L)``.
    The gradients are given rather than drawn here so that the caller keeps every member's random
    stream (each network's draws in the order its own experiment makes them). Returns one
    :class:`Propagation` per member, equal to :func:`propagate` of that member with the same inputs and
    output gradient up to the last bits of the batched matrix products.
    """
    if not isinstance(net, MLP) or net.ensemble_size is None:
        raise TypeError(f"net must be an ensemble MLP (see helpers.network.stack_mlps), got "
                        f"{'a single MLP' if isinstance(net, MLP) else type(net).__name__}")
    keep = _checks.positive_int(keep, "keep", allow_zero=True)
    size, sizes = net.ensemble_size, net.sizes
    x = _checks.array(x, "x", ndim=3)
    if x.shape[0] != size or x.shape[2] != sizes[0] or x.shape[1] == 0:
        raise ValueError(f"x must have shape (E={size}, batch >= 1, {sizes[0]}) for this ensemble, got {x.shape}")
    grad_out = _checks.array(grad_out, "grad_out", ndim=3)
    if grad_out.shape != (size, x.shape[1], sizes[-1]):
        raise ValueError(f"grad_out must have the output's shape {(size, x.shape[1], sizes[-1])}, "
                         f"got {grad_out.shape}")
    with np.errstate(all="ignore"):
        _, cache = forward(net, x)
        grads = backward(net, cache, grad_out, weight_grads=False)
    return _summarize(sizes, net.activation, cache.pre, cache.post, grads.d_pre, keep)


def simulate(sizes: Sequence[int], rng: np.random.Generator, *, sigma_w2: float = 1.0,
             activation: str | Activation = "identity", mode: str = "fan_in", sigma_b2: float | None = None,
             batch: int = 256, keep: int = 0, dtype=np.float64) -> Propagation:
    """:func:`helpers.network.random_network` plus :func:`propagate` on ``batch`` i.i.d. N(0, 1) inputs, in one call.

    The draws come from ``rng`` in a fixed order: network, inputs, output gradient.
    For many networks at once see :func:`simulate_ensemble`.
    """
    net = random_network(sizes, rng, sigma_w2=sigma_w2, activation=activation, mode=mode, sigma_b2=sigma_b2,
                         dtype=dtype)
    batch = _checks.positive_int(batch, "batch")
    x = rng.standard_normal((batch, net.sizes[0])).astype(net.dtype)
    return propagate(net, x, rng, keep=keep)


def _generators(rngs: object) -> list[np.random.Generator]:
    """``rngs`` as a non-empty list of Generators, one per member of an ensemble."""
    if isinstance(rngs, np.random.Generator) or not isinstance(rngs, (list, tuple)) or not rngs:
        raise TypeError("rngs must be a non-empty list holding one numpy Generator per network, for example "
                        f"[np.random.default_rng(s) for s in range(8)]; got {type(rngs).__name__}")
    return [_checks.generator(r, f"rngs[{i}]") for i, r in enumerate(rngs)]


def simulate_ensemble(sizes: Sequence[int], rngs: Sequence[np.random.Generator], *, sigma_w2: float = 1.0,
                      activation: str | Activation = "identity", mode: str = "fan_in",
                      sigma_b2: float | None = None, batch: int = 256, keep: int = 0,
                      dtype=np.float64) -> list[Propagation]:
    """:func:`simulate` for one network per Generator in ``rngs``, run as one ensemble.

    Member ``k`` draws from ``rngs[k]`` exactly what :func:`simulate` draws, in its order (network,
    inputs, output gradient); members given the same Generator draw from it one after another, so
    ``[rng] * E`` reproduces ``E`` consecutive calls of :func:`simulate` with ``rng``. Only the draws
    are made member by member: the networks are stacked (:func:`helpers.network.stack_mlps`) and
    pushed forward and back once (:func:`propagate_ensemble`). Returns one :class:`Propagation` per
    member, equal to :func:`simulate`'s up to the last bits of the batched matrix products.
    """
    rngs = _generators(rngs)
    batch = _checks.positive_int(batch, "batch")
    nets, xs, grads = [], [], []
    for rng in rngs:  # draws only, in simulate's order; the pass itself runs all members at once
        net = random_network(sizes, rng, sigma_w2=sigma_w2, activation=activation, mode=mode, sigma_b2=sigma_b2,
                             dtype=dtype)
        nets.append(net)
        xs.append(rng.standard_normal((batch, net.sizes[0])))
        grads.append(rng.standard_normal((batch, net.sizes[-1])))
    ensemble = stack_mlps(nets)
    return propagate_ensemble(ensemble, np.stack(xs).astype(ensemble.dtype),
                              np.stack(grads).astype(ensemble.dtype), keep=keep)


def diagnose(prop: Propagation, *, tolerance: float = 10.0, saturated: float = 0.25, dead: float = 0.5) -> list[str]:
    """What the per-layer statistics say, as short findings; ``["healthy"]`` if nothing is wrong.

    * ``"vanishing gradients"`` / ``"exploding gradients"``: the back-propagated gradient's rms
      shrank / grew by more than a factor ``tolerance`` between the last layer and the first;
    * ``"vanishing activations"`` / ``"exploding activations"``: the same for the pre-activations
      between the first layer and the last (or the forward pass overflowed);
    * ``"saturated units"``: on average over layers more than ``saturated`` of the tanh / sigmoid
      units are saturated (:func:`helpers.diagnostics.saturated_fraction`);
    * ``"dead ReLUs"``: on average more than ``dead`` of the units are off for the whole batch. The
      default is high because a deep ReLU network at initialization already has a third or so of its
      units off for a whole batch of inputs: depth makes the inputs' representations alike.

    The thresholds are conventions, not laws: a factor 10 over the whole depth is what the book's
    figures call clearly visible. Glorot & Bengio (2010) read the same statistics off histograms.
    """
    if not isinstance(prop, Propagation):
        raise TypeError(f"prop must be a Propagation, got {type(prop).__name__}")
    tolerance = _checks.finite_float(tolerance, "tolerance", positive=True)
    saturated = _checks.finite_float(saturated, "saturated", positive=True)
    dead = _checks.finite_float(dead, "dead", positive=True)
    if tolerance <= 1:
        raise ValueError(f"tolerance must be > 1 (a growth factor), got {tolerance}")
    found = []
    fwd, bwd = prop.forward_ratio, prop.backward_ratio
    if prop.nonfinite_layer is not None or not np.isfinite(fwd) or fwd > tolerance:
        found.append("exploding activations")
    elif fwd < 1 / tolerance:
        found.append("vanishing activations")
    if not np.isfinite(bwd) or bwd > tolerance:
        found.append("exploding gradients")
    elif bwd < 1 / tolerance:
        found.append("vanishing gradients")
    with np.errstate(all="ignore"):
        if np.all(np.isfinite(prop.saturated)) and np.mean(prop.saturated) > saturated:
            found.append("saturated units")
        if np.mean(prop.dead) > dead:
            found.append("dead ReLUs")
    return found or ["healthy"]


# -- predict -------------------------------------------------------------------------------------

def _fan_variances(sizes: list[int], sigma_w2: float, mode: str) -> list[float]:
    """``Var[W_l] = sigma_w2 / fan`` for every layer, as :func:`helpers.network.random_network` draws."""
    sigma_w2 = _checks.finite_float(sigma_w2, "sigma_w2", positive=True)
    _checks.choice(mode, "mode", MODES)
    return [sigma_w2 / (n_in if mode == "fan_in" else n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def predicted_forward(sizes: Sequence[int], sigma_w2: float, activation: str | Activation = "identity", *,
                      mode: str = "fan_in", input_second_moment: float = 1.0, sigma_b2: float = 0.0) -> np.ndarray:
    """Predicted ``q^{(l)} = Var[z^{(l)}]`` of layers 1..L of :func:`helpers.network.random_network`.

    :func:`helpers.theory.signal.predicted_profile` with ``Var[W_l] = sigma_w2 / fan``: with
    ``mode="fan_out"`` each layer's factor is ``sigma_w2 n_{l-1} / n_l``.
    """
    sizes = _sizes(sizes)
    return predicted_profile(sizes, _fan_variances(sizes, sigma_w2, mode), activation, activate_output=True,
                             input_second_moment=input_second_moment, sigma_b2=sigma_b2).preactivation


def predicted_gradient_variances(sizes: Sequence[int], sigma_w2: float, activation: str | Activation = "identity",
                                 *, mode: str = "fan_in", input_second_moment: float = 1.0, sigma_b2: float = 0.0,
                                 output_grad_variance: float = 1.0) -> np.ndarray:
    """Predicted ``Var[delta^{(l)}]``, ``delta = dL/dz``, of layers 1..L of :func:`helpers.network.random_network`.

    :func:`helpers.theory.signal.predicted_profile`'s backward recursion: the sum in ``W^T delta`` runs over
    the ``n_{l+1}`` units that unit ``j`` feeds, the fan_out of ``W_{l+1}``, so
    ``Var[delta^{(l)}] = E[phi'(z^{(l)})^2] n_{l+1} Var[W_{l+1}] Var[delta^{(l+1)}]`` and
    ``Var[delta^{(L)}] = E[phi'(z^{(L)})^2] output_grad_variance`` (Glorot & Bengio 2010, eqs. 6-7;
    He et al. 2015, eqs. 13-14; the "gradient independence" assumption of Schoenholz et al. 2017).
    """
    sizes = _sizes(sizes)
    return predicted_profile(sizes, _fan_variances(sizes, sigma_w2, mode), activation, activate_output=True,
                             input_second_moment=input_second_moment, sigma_b2=sigma_b2,
                             output_gradient_variance=_checks.finite_float(
                                 output_grad_variance, "output_grad_variance", non_negative=True)).gradient


def _saturation_edge(activation: Activation, threshold: float) -> float:
    """The |z| beyond which phi'(z) < threshold * (largest slope)."""
    c = threshold
    if activation.name == "tanh":  # 1 - tanh(z)^2 = c
        return math.atanh(math.sqrt(1.0 - c))
    if activation.name == "sigmoid":  # s (1 - s) = c / 4
        s = 0.5 * (1.0 + math.sqrt(1.0 - c))
        return math.log(s / (1.0 - s))
    return 1.0 / math.sqrt(c) - 1.0  # softsign: (1 + |z|)^-2 = c


def predicted_saturated_fraction(q, activation: str | Activation = "tanh", *,
                                 threshold: float = SATURATION_THRESHOLD) -> np.ndarray:
    """Fraction of units saturated when ``z ~ N(0, q)``: ``P(|z| > z*) = erfc(z* / sqrt(2 q))``.

    ``z*`` is where ``phi'`` falls to ``threshold`` times its largest value, the definition used by
    :func:`helpers.diagnostics.saturated_fraction` (tanh: ``|tanh z| > sqrt(1 - threshold)``).
    Accepts a number or an array of ``q``; only bounded activations (tanh, sigmoid, softsign).
    """
    act = get_activation(activation)
    if not act.bounded:
        raise ValueError(f"activation must be a bounded one ('tanh', 'sigmoid', 'softsign'), got {act.name!r}")
    threshold = _checks.finite_float(threshold, "threshold", positive=True)
    if threshold >= 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    q = np.asarray(q, dtype=float)
    if np.any(q < 0) or not np.all(np.isfinite(q)):
        raise ValueError("q must hold finite, non-negative variances")
    edge = _saturation_edge(act, threshold)
    erfc = np.vectorize(math.erfc, otypes=[float])
    with np.errstate(divide="ignore"):
        out = np.where(q > 0, erfc(edge / np.sqrt(2.0 * np.where(q > 0, q, 1.0))), 0.0)
    return out if out.ndim else float(out)


# -- floating point ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FloatLimits:
    """Depths (number of multiplications by ``factor``) at which ``start * factor**L`` leaves the normal range.

    ``overflow``: first L with a value above ``finfo.max`` (it becomes inf);
    ``subnormal``: first L below ``finfo.smallest_normal`` (gradual underflow: precision is lost);
    ``zero``: first L at or below half the smallest subnormal (it rounds to exactly 0).
    ``None`` where the signal never gets there (e.g. no overflow for ``factor <= 1``).
    """

    dtype: str
    factor: float
    start: float
    overflow: int | None
    subnormal: int | None
    zero: int | None


def _log(value: Fraction) -> float:
    """Natural log of a positive Fraction, exact enough even when it is below the float64 range."""
    return math.log(value.numerator) - math.log(value.denominator)


def _first_depth(start: float, factor: float, bound: Fraction, *, above: bool, inclusive: bool) -> int:
    """Smallest L >= 0 with start * factor**L beyond ``bound`` (exact near ties, logs elsewhere)."""
    r = (_log(bound) - math.log(start)) / math.log(factor)  # start * factor**r == bound
    base = math.floor(r)

    def beyond(depth: int) -> bool:
        if depth < 0:
            return False
        value = Fraction(start) * Fraction(factor) ** depth
        if above:
            return value >= bound if inclusive else value > bound
        return value <= bound if inclusive else value < bound

    if abs(r - round(r)) > 1e-6 or r > 1e5:
        return max(base + 1, 0)
    # Near an exact crossing the logs cannot decide: settle it in exact rational arithmetic
    # (only for depths below 1e5, where the powers stay small enough to compute quickly).
    for depth in range(max(base - 1, 0), base + 3):
        if beyond(depth):
            return depth
    return base + 3  # unreachable for finite inputs


def representable_depth(factor: float, dtype=np.float32, *, start: float = 1.0) -> FloatLimits:
    """At what depth ``start * factor**L`` overflows, turns subnormal and rounds to zero in ``dtype``.

    Uses ``numpy.finfo(dtype)``: ``max``, ``smallest_normal`` and ``smallest_subnormal``. A value rounds
    to zero (round to nearest, ties to even) when it is at most ``smallest_subnormal / 2``. The depth
    is the number of multiplications, so depth 0 is ``start`` itself. For float32 and a per-layer
    factor ``sqrt(512)`` (512 x 512 standard normal matrices), the overflow depth is 29.
    """
    factor = _checks.finite_float(factor, "factor", positive=True)
    start = _checks.finite_float(start, "start", positive=True)
    dt = _dtype(dtype)
    info = np.finfo(dt)
    big, normal, sub = (Fraction(float(v)) for v in (info.max, info.smallest_normal, info.smallest_subnormal))
    if not normal <= Fraction(start) <= big:
        raise ValueError(f"start must be a normal {dt.name} number, between {float(normal):g} and {float(big):g}; "
                         f"got {start}")
    overflow = subnormal = zero = None
    if factor > 1:
        overflow = _first_depth(start, factor, big, above=True, inclusive=False)
    elif factor < 1:
        subnormal = _first_depth(start, factor, normal, above=False, inclusive=False)
        zero = _first_depth(start, factor, sub / 2, above=False, inclusive=True)
    return FloatLimits(dt.name, factor, start, overflow, subnormal, zero)


def scalar_chain(factor: float, depth: int, dtype=np.float32, *, start: float = 1.0) -> np.ndarray:
    """``start`` multiplied ``depth`` times by ``factor``, rounding to ``dtype`` after every step.

    Returns the ``depth + 1`` values (as float64, inf where the dtype overflowed); the simulation
    that :func:`representable_depth` is checked against. Each step rounds once, as a network's
    layers do, so for factors that are not powers of two the result can differ from the exact
    ``start * factor**L`` in the last bits, and in the subnormal range by a step or so.
    """
    factor = _checks.finite_float(factor, "factor", positive=True)
    start = _checks.finite_float(start, "start", positive=True)
    depth = _checks.positive_int(depth, "depth", allow_zero=True)
    dt = _dtype(dtype)
    out = np.empty(depth + 1)
    value = dt.type(start)
    f = dt.type(factor)
    with np.errstate(all="ignore"):
        out[0] = float(value)
        for l in range(1, depth + 1):  # a chain: each step needs the previous rounded value
            value = dt.type(value * f)
            out[l] = float(value)
    return out


@dataclass
class Trajectory:
    """Root mean square of the signal after each of ``depth`` random layers, computed in one dtype.

    ``rms[l]`` is after ``l + 1`` layers (inf / NaN once the dtype overflowed). ``first_nonfinite``,
    ``first_subnormal`` and ``first_zero`` are 1-based layer counts (``None`` if it never happened):
    the first layer with an inf or NaN entry, the first whose rms is below the smallest normal number,
    and the first whose entries are all exactly zero.
    """

    dtype: str
    rms: np.ndarray
    first_nonfinite: int | None
    first_subnormal: int | None
    first_zero: int | None


def push_to_limits(width: int, depth: int, sigma_w2: float, rng: np.random.Generator, *, dtype=np.float32,
                   activation: str | Activation = "identity", batch: int = 1, reuse: bool = False) -> Trajectory:
    """Multiply a batch of N(0, 1) vectors by ``depth`` random ``width x width`` matrices in ``dtype``.

    Each matrix has entries ``N(0, sigma_w2 / width)`` (drawn in float64, then cast), so for the
    identity the rms changes by ``sqrt(sigma_w2)`` per layer (``sqrt(sigma_w2 / 2)`` for ReLU). With
    ``reuse=True`` one matrix is applied again and again, as in the classic "multiply by the same
    random matrix" demonstration. Matrices are drawn one at a time, so memory stays at one matrix.
    """
    width = _checks.positive_int(width, "width")
    depth = _checks.positive_int(depth, "depth")
    sigma_w2 = _checks.finite_float(sigma_w2, "sigma_w2", positive=True)
    rng = _checks.generator(rng)
    batch = _checks.positive_int(batch, "batch")
    if not isinstance(reuse, bool):
        raise TypeError(f"reuse must be True or False, got {reuse!r}")
    dt = _dtype(dtype)
    act = get_activation(activation)
    scale = math.sqrt(sigma_w2 / width)
    h = rng.standard_normal((batch, width)).astype(dt)
    w = (rng.standard_normal((width, width)) * scale).astype(dt) if reuse else None
    rms = np.empty(depth)
    first_nonfinite = first_subnormal = first_zero = None
    tiny = float(np.finfo(dt).smallest_normal)
    with np.errstate(all="ignore"):
        for l in range(depth):
            if not reuse:
                w = (rng.standard_normal((width, width)) * scale).astype(dt)
            h = act.f(h @ w.T).astype(dt, copy=False)
            h64 = h.astype(np.float64)
            rms[l] = _rms(h64)
            if first_nonfinite is None and not np.all(np.isfinite(h64)):
                first_nonfinite = l + 1
            if first_subnormal is None and rms[l] < tiny:
                first_subnormal = l + 1
            if first_zero is None and not np.any(h64):
                first_zero = l + 1
    return Trajectory(dt.name, rms, first_nonfinite, first_subnormal, first_zero)


# -- pairs of inputs, measured -------------------------------------------------------------------

@dataclass
class MeasuredPropagation:
    """Per-layer statistics of a finite network: ``q[l, i]`` = mean of ``z_i^2`` over units at layer
    ``l + 1`` for input ``i``; ``c[l, i, j]`` = the correlation ``sum z_i z_j / sqrt(sum z_i^2 sum z_j^2)``.
    For an ensemble both carry a leading member axis: ``q[k, l, i]`` and ``c[k, l, i, j]``."""

    q: np.ndarray
    c: np.ndarray


def _ensemble_inputs(net: MLP, x: np.ndarray) -> np.ndarray:
    """``x`` for :func:`helpers.network.forward`: one batch shared by every member of an ensemble is broadcast."""
    size = net.ensemble_size
    if size is None:
        return _checks.array(x, "x", ndim=2)
    x = _checks.array(x, "x")
    if x.ndim == 2:
        return np.broadcast_to(x, (size,) + x.shape)
    if x.ndim != 3 or x.shape[0] != size:
        raise ValueError(f"x must have shape (batch, n_0), the same inputs for every member, or (E={size}, batch, "
                         f"n_0) for this ensemble, got {x.shape}")
    return x


def measure_propagation(net: MLP, x: np.ndarray) -> MeasuredPropagation:
    """Run ``x`` (shape ``(batch, n_0)``) through ``net`` and measure ``q`` and ``c`` at every layer.

    These are the finite-width counterparts of the mean-field ``q^(l)`` and ``c^(l)`` (Poole et al. 2016
    define them the same way, as averages over the units of one layer, uncentred). An ensemble
    (:func:`helpers.network.stack_mlps`) is measured in one batched pass; it takes the same ``x`` for
    every member, or ``x`` of shape ``(E, batch, n_0)`` with one batch per member.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a helpers.network.MLP, got {type(net).__name__}")
    _, cache = forward(net, _ensemble_inputs(net, x))
    with np.errstate(over="ignore", invalid="ignore"):
        pre = np.stack(cache.pre, axis=-3)  # (L, batch, n), or (E, L, batch, n) for an ensemble
        gram = np.einsum("...lin,...ljn->...lij", pre, pre) / pre.shape[-1]
        q = np.einsum("...lii->...li", gram).copy()
        norm = np.sqrt(np.maximum(q, np.finfo(float).tiny))
        c = np.clip(gram / (norm[..., :, None] * norm[..., None, :]), -1.0, 1.0)
    return MeasuredPropagation(q, c)
