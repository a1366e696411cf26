"""One input through a wide random network: variances forward and backward, layer by layer.

Notation (Poole et al. 2016): ``sigma_w2 = fan_in * Var[W]`` and ``sigma_b2 = Var[b]``. For a layer
``z_l = W_l phi(z_{l-1}) + b_l`` with independent zero-mean weights, the variance of a pre-activation
obeys the *length map*

    q_l = sigma_w2 * E[phi(z)^2] + sigma_b2,   z ~ N(0, q_{l-1}),

which for ``phi = identity`` is ``q_l = sigma_w2 q_{l-1}`` (LeCun et al. 1998; Glorot & Bengio 2010)
and for ReLU ``q_l = sigma_w2 q_{l-1} / 2`` (He et al. 2015). Backward, the variance of
``delta = dL/dz`` is multiplied per layer by ``chi = sigma_w2 * E[phi'(z)^2]`` (:func:`backward_factor`).
:func:`predicted_profile` runs both recursions for any widths and any per-layer weight variances.
These are statements about averages over random networks; a single finite network fluctuates
around them (:mod:`helpers.theory.fluctuations`; Hanin & Rolnick 2018).

Argument conventions, the same across :mod:`helpers.theory`: a *variance* is ``sigma_w2`` (never a
gain; a gain ``g`` is ``sigma_w2 = g**2``), the bias variance is always ``sigma_b2``, and where both
appear positionally the order is ``sigma_w2, sigma_b2, activation``; where ``activation`` directly
follows ``sigma_w2``, ``sigma_b2`` is keyword-only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..activations import Activation, get_activation
from ..attention import gelu
from .gaussian import gaussian_expectation


def second_moment(activation: str | Activation, variance: float) -> float:
    """E[phi(z)^2] for z ~ N(0, variance); exact for identity, ReLU and leaky ReLU."""
    act = get_activation(activation)
    variance = _checks.finite_float(variance, "variance", non_negative=True)
    if act.name == "identity":
        return variance
    if act.name == "relu":
        return variance / 2.0
    if act.name == "leaky_relu":
        return variance * (1.0 + act.slope**2) / 2.0
    return float(gaussian_expectation(lambda z: act.f(z) ** 2, variance))


def moment_map(activation: str | Activation, mean: float, variance: float) -> tuple[float, float]:
    """Mean and variance of ``phi(z)`` for ``z ~ N(mean, variance)``: one layer's map of the first two moments.

    Klambauer et al. (2017) follow the mean ``mu`` and variance ``nu`` of a layer's activations to the
    next layer's, ``g: (mu, nu) -> (mu~, nu~)``. For given weights with sum ``omega`` and sum of squares
    ``tau`` the pre-activation is ``N(mu omega, nu tau)``, so ``g(mu, nu) = moment_map(phi, mu omega,
    nu tau)``. For *random* zero-mean weights with ``sigma_w2 = fan_in Var[W]`` the pre-activation taken
    over units and examples is ``N(0, sigma_w2 (nu + mu^2))`` instead: the input mean enters only
    through the second moment, and ``g(mu, nu) = moment_map(phi, 0, sigma_w2 (nu + mu^2))``. For SELU
    with LeCun weights (``sigma_w2 = 1``) either form has the fixed point ``(0, 1)``: SELU's constants
    are chosen so that ``E[selu(z)] = 0`` and ``E[selu(z)^2] = 1`` for ``z ~ N(0, 1)``.

    Computed with :func:`~helpers.theory.gaussian.gaussian_expectation` cut at the kink (relative error
    ~1e-14 for ReLU against its closed form ``m Phi(m/s) + s phi(m/s)``). The variance is integrated
    as ``E[(phi(z) - mu~)^2]`` with ``mu~ = E[phi(z)]``, not as ``E[phi^2] - mu~^2``, which cancels
    when ``mu~`` is large. At ``variance = 0`` it is exactly ``(phi(mean), 0)``.
    """
    act = get_activation(activation)
    mean = _checks.finite_float(mean, "mean")
    variance = _checks.finite_float(variance, "variance", non_negative=True)
    m1 = float(gaussian_expectation(act.f, variance, mean=mean))
    spread = float(gaussian_expectation(lambda z: (act.f(z) - m1) ** 2, variance, mean=mean))
    return m1, spread


def derivative_second_moment(activation: str | Activation, variance: float) -> float:
    """``E[phi'(z)^2]`` for ``z ~ N(0, variance)``: exact for identity (1), ReLU (1/2), leaky ReLU ((1+a^2)/2).

    This is the factor one layer's nonlinearity contributes to the backward variance (Glorot &
    Bengio 2010, eqs. 7-10 in the linear regime; He et al. 2015 for ReLU). For the sigmoid it is
    at most 1/16, since ``sigmoid' <= 1/4``. At ``variance = 0`` it is ``phi'(0)^2`` (ReLU: 0,
    leaky ReLU: ``a^2``, taking the left derivative at the kink as the layers do).
    """
    act = get_activation(activation)
    variance = _checks.finite_float(variance, "variance", non_negative=True)
    if act.name == "identity":
        return 1.0
    if act.name == "relu":
        return 0.5 if variance > 0 else 0.0
    if act.name == "leaky_relu":
        return (1.0 + act.slope**2) / 2.0 if variance > 0 else act.slope**2
    return float(gaussian_expectation(lambda z: act.df(z) ** 2, variance))


def length_map(q: float, sigma_w2: float, activation: str | Activation = "tanh", *, sigma_b2: float = 0.0) -> float:
    """One step of the length map: ``sigma_w2 * E[phi(z)^2] + sigma_b2`` with z ~ N(0, q)."""
    sigma_w2 = _checks.finite_float(sigma_w2, "sigma_w2", non_negative=True)
    sigma_b2 = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    return sigma_w2 * second_moment(activation, q) + sigma_b2


def backward_factor(q: float, sigma_w2: float, activation: str | Activation = "tanh") -> float:
    """``chi = sigma_w2 * E[phi'(z)^2]``, ``z ~ N(0, q)``: the per-layer factor of the gradient variance.

    For a square layer, ``Var[delta^{(l)}] = chi * Var[delta^{(l+1)}]`` (the chi_1 of Poole et al. 2016;
    Schoenholz et al. 2017): gradients vanish over depth when chi < 1 and explode when chi > 1.
    """
    sigma_w2 = _checks.finite_float(sigma_w2, "sigma_w2", non_negative=True)
    return sigma_w2 * derivative_second_moment(activation, q)


def predicted_variances(depth: int, sigma_w2: float, activation: str | Activation = "relu", *,
                        input_second_moment: float = 1.0, sigma_b2: float = 0.0) -> np.ndarray:
    """Predicted pre-activation variance ``q_l`` of layers 1..depth of an infinitely wide network.

    Layer 1 sees the raw input, so ``q_1 = sigma_w2 * E[x^2] + sigma_b2``; every later layer applies
    :func:`length_map` to the previous one. Returns an array of length ``depth``; once a variance
    overflows, the deeper ones are ``inf``.
    """
    depth = _checks.positive_int(depth, "depth")
    m0 = _checks.finite_float(input_second_moment, "input_second_moment", non_negative=True)
    sigma_w2 = _checks.finite_float(sigma_w2, "sigma_w2", non_negative=True)
    sigma_b2 = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    act = get_activation(activation)
    q = np.empty(depth)
    q[0] = sigma_w2 * m0 + sigma_b2
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in range(1, depth):
            prev = q[layer - 1]
            q[layer] = length_map(prev, sigma_w2, act, sigma_b2=sigma_b2) if np.isfinite(prev) else np.inf
    return q


@dataclass
class Profile:
    """Predicted per-layer second moments (arrays over layers 1..L, 0-based).

    ``preactivation`` is q_l = Var[z^(l)], ``activation`` is E[(h^(l))^2] and ``gradient`` is
    Var[delta^(l)], delta = dL/dz; all are averages over random networks of infinite width.
    """

    preactivation: np.ndarray
    activation: np.ndarray
    gradient: np.ndarray


def _sequence(values: object, name: str, length: int | None = None) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a sequence, got {type(values).__name__}")
    if length is not None and len(values) != length:
        raise ValueError(f"{name} must have one entry per layer ({length}), got {len(values)}")
    return list(values)


def predicted_profile(sizes: Sequence[int], weight_variances: Sequence[float], activation: str | Activation = "tanh", *,
                      input_second_moment: float = 1.0, output_gradient_variance: float = 1.0,
                      activate_output: bool = False, sigma_b2: float = 0.0) -> Profile:
    """Per-layer variances predicted by the variance argument, forward and backward, for any widths.

    ``sizes`` is ``[n_0, ..., n_L]`` and ``weight_variances[l-1]`` is ``v_l = Var[W^(l)]`` (not a gain,
    not ``sigma_w2``: ``v_l = sigma_w2 / fan``). With zero-mean independent weights and z ~ N(0, q_l):

    * forward: q_1 = n_0 v_1 E[x^2] + sigma_b2, then q_{l+1} = n_l v_{l+1} E[phi(z^(l))^2] + sigma_b2;
    * backward: Var[delta^(l)] = n_{l+1} v_{l+1} E[phi'(z^(l))^2] Var[delta^(l+1)].

    With ``activation="identity"`` this is Glorot & Bengio's (2010) linear regime (their eqs. 5 and 6:
    products of n_{l-1} Var[W^(l)] forward and of n_l Var[W^(l)] backward); for (leaky) ReLU it is
    He et al.'s (2015) eqs. 7-15; with any phi it is the mean-field recursion of Poole et al. (2016)
    and Schoenholz et al. (2017). ``output_gradient_variance`` is Var[dL/dh^(L)] at the top; the last
    layer is linear unless ``activate_output``. Note E[phi^2], not Var[phi]: a non-zero activation
    mean feeds the next layer's variance. Once a variance overflows, the rest of that pass is ``inf``
    (forward) or NaN (backward, through an overflowed layer).
    """
    sizes = _sequence(sizes, "sizes")
    if len(sizes) < 2:
        raise TypeError(f"sizes must be a sequence of at least two layer widths, got {sizes!r}")
    sizes = [_checks.positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    depth = len(sizes) - 1
    v = [_checks.finite_float(float(w), f"weight_variances[{i}]", non_negative=True)
         for i, w in enumerate(_sequence(weight_variances, "weight_variances", depth))]
    m0 = _checks.finite_float(input_second_moment, "input_second_moment", non_negative=True)
    g_top = _checks.finite_float(output_gradient_variance, "output_gradient_variance", non_negative=True)
    sb = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    act = get_activation(activation)
    activated = depth if activate_output else depth - 1
    q, m, grad = np.empty(depth), np.empty(depth), np.empty(depth)
    d2 = np.full(depth, np.nan)
    prev = m0
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in range(depth):
            q[layer] = sizes[layer] * v[layer] * prev + sb if np.isfinite(prev) else np.inf
            if not np.isfinite(q[layer]):
                q[layer] = m[layer] = prev = np.inf
                continue
            m[layer] = second_moment(act, q[layer]) if layer < activated else q[layer]
            d2[layer] = derivative_second_moment(act, q[layer])
            prev = m[layer]
        grad[-1] = g_top * (d2[-1] if activate_output else 1.0)
        for layer in range(depth - 2, -1, -1):
            grad[layer] = sizes[layer + 2] * v[layer + 1] * d2[layer] * grad[layer + 1]
    return Profile(q, m, grad)


_ODD_BOUNDED = ("tanh", "softsign")


def preserving_gain(activation: str = "tanh", q: float = 1.0) -> float:
    """The gain g (a gain: ``sigma_w2 = g**2``) that makes q a fixed point of q -> g^2 E[phi(z)^2], z ~ N(0, q).

    g = sqrt(q / E[phi(z)^2]). Square layers drawn with Var[W] = g^2 / n then keep Var[z] = q from
    layer to layer (Poole et al. 2016). Because |tanh(z)| < |z|, E[tanh(z)^2] < q and g > 1 for every
    q > 0; PyTorch's ``calculate_gain("tanh") = 5/3`` is one such number, chosen without a stated q.
    The fixed point for a given variance is :func:`helpers.theory.meanfield.q_star`.
    """
    _checks.choice(activation, "activation", _ODD_BOUNDED)
    q = _checks.finite_float(q, "q", positive=True)
    return math.sqrt(q / second_moment(activation, q))


# -- residual streams: a residual MLP and a Pre-LN transformer --------------------------------------

def predicted_residual_variances(blocks: int, branch_sigma_w2: Sequence[float], activation: str | Activation = "relu",
                                 *, input_variance: float = 1.0) -> np.ndarray:
    """Predicted ``Var[x_k]``, k = 0..blocks, of a wide residual MLP ``x_k = x_{k-1} + F_k(x_{k-1})``.

    Every branch is the same pre-activation stack of ``m = len(branch_sigma_w2)`` bias-free weight
    layers (He et al. 2016, "Identity mappings in deep residual networks"): ``h_0 = phi(x_{k-1})``,
    ``z_j = W_j h_{j-1}``, ``h_j = phi(z_j)``, ``F_k = z_m``, with independent zero-mean weights of
    ``branch_sigma_w2[j-1] = fan_in Var[W_j]`` (0 for a zero-initialized layer). The derivation:

    * the skip and the branch add their variances, ``Var[x_k] = Var[x_{k-1}] + Var[F_k]``, because
      ``E[x_{k-1} F_k] = E[x_{k-1} W_m h_{m-1}] = 0``: ``W_m`` has zero mean and is independent of both;
    * so every ``x_k`` has zero mean, and at infinite width its entries are Gaussian,
      ``N(0, Var[x_{k-1}])``; the branch is then a plain stack and each layer applies the
      :func:`length_map` (Poole et al. 2016, no bias): ``v_0 = Var[x_{k-1}]``,
      ``v_j = branch_sigma_w2[j-1] E[phi(z)^2]`` with ``z ~ N(0, v_{j-1})``, and ``Var[F_k] = v_m``.

    Consequences for ReLU (``E[relu(z)^2] = q/2``): He initialization (``sigma_w2 = 2`` in every
    layer) gives ``Var[F_k] = Var[x_{k-1}]``, so the variance doubles per block, ``2^k``; a zero last
    layer (Fixup's rule 1, Zhang et al. 2019) gives ``Var[F_k] = 0`` and a constant variance; Fixup's
    rule 2, the rescaling of the first ``m - 1`` layers by ``L^{-1/(2m-2)}`` (``sigma_w2 = 2
    L^{-1/(m-1)}``, the last layer at He), gives ``Var[F_k] = Var[x_{k-1}] / L`` and ``(1 + 1/L)^k``.
    For the identity with ``sigma_w2 = a`` in every layer, ``Var[F_k] = a^m Var[x_{k-1}]`` and
    ``Var[x_k] = (1 + a^m)^k Var[x_0]``. Once a variance overflows, the later ones are ``inf``.
    """
    blocks = _checks.positive_int(blocks, "blocks")
    sigmas = _sequence(branch_sigma_w2, "branch_sigma_w2")
    if not sigmas:
        raise ValueError("branch_sigma_w2 must list at least one layer's sigma_w2, got an empty sequence")
    sigmas = [_checks.finite_float(s, f"branch_sigma_w2[{i}]", non_negative=True) for i, s in enumerate(sigmas)]
    q = _checks.finite_float(input_variance, "input_variance", non_negative=True)
    act = get_activation(activation)
    out = [q]
    for _ in range(blocks):
        v = q
        for sigma_w2 in sigmas:
            v = length_map(v, sigma_w2, act) if math.isfinite(v) else math.inf
        q = q + v
        out.append(q)
    return np.array(out)


def predicted_stream_variance(n_layers: int, d_model: int, tokens: int, *, std: float = 0.02,
                              out_gain: float = 1.0, embed_std: float = 0.02, d_ff: int | None = None,
                              tokens_alike: bool = False) -> np.ndarray:
    """Predicted mean square of a Pre-LN residual stream under N(0, std^2) weights (``2 L + 1`` values).

    Each branch reads ``LN(x)``, whose entries have second moment 1, and adds an output uncorrelated
    with the stream, so the stream's second moment grows by the branch's at every sublayer:

    * attention: ``v = LN(x) W_v^T`` has variance ``d std^2``; at initialization the scores are tiny,
      so causal position ``t`` (1-based) averages the values of ``t`` tokens with equal weights. If
      the tokens are independent this divides the variance by ``t`` (averaged over ``tokens``
      positions: ``H_T / T`` with ``H_T`` the harmonic number); if they are alike
      (``tokens_alike=True``, the limit that deep stacks approach) it divides by nothing. ``W_o``
      multiplies by ``d (out_gain std)^2``.
    * MLP: ``z = LN(x) W_1^T`` has variance ``d std^2``; ``W_2`` gives
      ``d_ff (out_gain std)^2 E[gelu(z)^2]``.

    The stream starts at ``2 embed_std^2`` (token plus position embedding).
    """
    n_layers = _checks.positive_int(n_layers, "n_layers")
    d_model = _checks.positive_int(d_model, "d_model")
    tokens = _checks.positive_int(tokens, "tokens")
    std = _checks.finite_float(std, "std", positive=True)
    out_gain = _checks.finite_float(out_gain, "out_gain", non_negative=True)
    embed_std = _checks.finite_float(embed_std, "embed_std", positive=True)
    d_ff = 4 * d_model if d_ff is None else _checks.positive_int(d_ff, "d_ff")
    harmonic = float(np.sum(1.0 / np.arange(1, tokens + 1)))
    q = d_model * std**2
    attn = q * d_model * (out_gain * std) ** 2 * (1.0 if tokens_alike else harmonic / tokens)
    mlp = d_ff * (out_gain * std) ** 2 * gaussian_expectation(lambda z: gelu(z) ** 2, q)
    steps = np.tile([attn, mlp], n_layers)
    return 2 * embed_std**2 + np.concatenate([[0.0], np.cumsum(steps)])
