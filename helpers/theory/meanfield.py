"""Mean-field theory of signal propagation in wide random networks: order, chaos and the edge between.

Setting (Poole et al. 2016; Schoenholz et al. 2016). Layer ``l`` computes
``z^(l) = W^(l) phi(z^(l-1)) + b^(l)`` with independent weights ``W_ij ~ N(0, sigma_w2 / fan_in)`` and
biases ``b_i ~ N(0, sigma_b2)``. In the limit of infinite width every pre-activation is Gaussian, and
two inputs ``a`` and ``b`` are described layer by layer by three numbers: their variances
``q_a = E[z_a^2]``, ``q_b`` and their correlation ``c = E[z_a z_b] / sqrt(q_a q_b)``. These obey

* the length map   ``q' = sigma_w2 E[phi(u)^2] + sigma_b2``,  ``u ~ N(0, q)``
  (:func:`helpers.theory.signal.length_map`);
* the covariance map ``q_ab' = sigma_w2 E[phi(u_a) phi(u_b)] + sigma_b2`` with ``(u_a, u_b)`` jointly
  Gaussian, variances ``q_a, q_b`` and correlation ``c``; so ``c' = q_ab' / sqrt(q_a' q_b')``.

The length map has a stable fixed point ``q*`` (:func:`q_star`). The slope of the correlation map at
``c = 1`` is ``chi_1 = sigma_w2 E[phi'(u)^2]``, ``u ~ N(0, q*)`` (:func:`chi1`): for ``chi_1 < 1``
nearby inputs converge (ordered phase), for ``chi_1 > 1`` they separate (chaotic phase), and
``chi_1 = 1`` is the critical line, the *edge of chaos*. Near the fixed points the deviations decay
like ``exp(-l / xi)`` with the depth scales of Schoenholz et al. (2016) (:func:`depth_scales`)

    xi_q = -1 / ln( chi_1 + sigma_w2 E[phi''(u) phi(u)] )   (the slope of the length map at q*),
    xi_c = -1 / ln( sigma_w2 E[phi'(u_a) phi'(u_b)] )      (the slope of the correlation map at c*),

and ``xi_c = -1 / ln chi_1`` in the ordered phase, where ``c* = 1``. ``xi_c`` diverges on the critical
line; Schoenholz et al. found that networks deeper than about ``6 xi_c`` could not be trained.

Gaussian expectations come from :mod:`helpers.theory.gaussian`.

For ReLU the maps are exact: ``E[relu(u)^2] = q/2``, ``chi_1 = sigma_w2 / 2`` and
``c' = (sqrt(1 - c^2) + (pi - arccos c) c) / pi`` at zero bias (the arc-cosine kernel of Cho & Saul,
2009; :func:`~helpers.theory.gaussian.arccos_kernel`). So ``sigma_w2 = 2``, ``sigma_b2 = 0`` (He et al. 2015) is ReLU's critical
point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..activations import Activation, get_activation
from .gaussian import (_T, _W, Array, _correlation, _nonneg, _scalar_or_array, bivariate_expectation,
                       gaussian_expectation, relu_covariance)

_HOMOGENEOUS = ("identity", "relu", "leaky_relu")  # phi(a z) = a phi(z) for a > 0: exact length map
_DIVERGED = 1e30  # a variance above this counts as unbounded growth


# -- the length map and its fixed point ----------------------------------------------------------
def _second_moment(act: Activation, q: Array) -> Array:
    """E[phi(u)^2], u ~ N(0, q): exact for the homogeneous activations, quadrature otherwise."""
    if act.name in _HOMOGENEOUS:
        return q * _homogeneous_factor(act)
    return np.asarray(gaussian_expectation(lambda u: act.f(u) ** 2, q))


def _homogeneous_factor(act: Activation) -> float:
    """E[phi(z)^2], z ~ N(0, 1), for positively homogeneous phi: then E[phi(u)^2] = factor * q, and
    E[phi'(u)^2] = factor too (phi' is 1 on one half-line and the negative-side slope on the other)."""
    return {"identity": 1.0, "relu": 0.5}.get(act.name, (1.0 + act.slope**2) / 2.0)


def _slope_factor(act: Activation, q: Array) -> Array:
    """``E[z phi(sqrt(q) z) phi'(sqrt(q) z)] / sqrt(q)`` with z ~ N(0, 1); d E[phi(u)^2] / dq = this.

    By Gaussian integration by parts it equals ``E[phi'(u)^2 + phi(u) phi''(u)]``, but needs only phi'.
    """
    return _moments(act, q)[1]


def _moments(act: Activation, q: Array) -> tuple[Array, Array]:
    """``(E[phi(u)^2], E[z phi(u) phi'(u)] / sqrt(q))`` for ``u = sqrt(q) z``, from one evaluation of phi, phi'.

    The second uses the antisymmetric combination ``t (g(s t) - g(-s t)) / s`` of ``g = phi phi'`` on the
    half-line nodes, which has a finite limit as ``q -> 0`` (``q`` is floored at 1e-20 to avoid 0 / 0).
    """
    if act.name in _HOMOGENEOUS:
        k = _homogeneous_factor(act)
        return q * k, np.full_like(q, k)
    s = np.sqrt(np.maximum(q, 1e-20))[..., None]
    u = np.concatenate([s * _T, -s * _T], axis=-1)
    with np.errstate(over="ignore", under="ignore"):
        f, df = act.f(u), act.df(u)
    n = _T.size
    m2 = (f[..., :n] ** 2 + f[..., n:] ** 2) @ _W
    g = f * df
    slope = (_T * (g[..., :n] - g[..., n:]) / s) @ _W
    return m2, slope


def length_map_slope(q: float | Array, sigma_w2: float | Array, activation: str | Activation = "tanh"
                     ) -> float | Array:
    """``dq^(l) / dq^(l-1) = sigma_w2 E[phi'(u)^2 + phi(u) phi''(u)]``, ``u ~ N(0, q)``.

    At the fixed point this is ``chi_1 + sigma_w2 E[phi''(u) phi(u)]``, whose logarithm sets the depth
    scale ``xi_q`` of Schoenholz et al. (2016). Computed as ``sigma_w2 E[u phi(u) phi'(u)] / q``, which
    needs no second derivative (so it also holds for ReLU and other kinked activations).
    """
    act = get_activation(activation)
    qa, sw = np.broadcast_arrays(_nonneg(q, "q"), _nonneg(sigma_w2, "sigma_w2"))
    return _scalar_or_array(sw * _slope_factor(act, qa), q, sigma_w2)


def q_star(sigma_w2: float | Array, sigma_b2: float | Array = 0.0, activation: str | Activation = "tanh", *,
           q0: float = 1.0, tol: float = 1e-13, max_iter: int = 200) -> float | Array:
    """Fixed point ``q* = sigma_w2 E[phi(u)^2] + sigma_b2``, ``u ~ N(0, q*)``, reached from ``q^(0) = q0``.

    This is where the length map of Poole et al. (2016) settles when iterated from ``q0``; it is
    ``inf`` where the variance grows without bound (e.g. ReLU with ``sigma_w2 > 2``, or ``sigma_w2 = 2``
    and ``sigma_b2 > 0``). For identity, ReLU and leaky ReLU it is exact: with ``a = sigma_w2 E[phi(z)^2]``,
    ``q* = sigma_b2 / (1 - a)`` for ``a < 1``, and ``q* = q0`` at ``a = 1, sigma_b2 = 0`` (every variance
    is a fixed point: He initialization). Otherwise a safeguarded Newton iteration, vectorized over
    the broadcast ``sigma_w2``, ``sigma_b2``. Entries that fail to converge come back as NaN.
    """
    act = get_activation(activation)
    sw, sb = np.broadcast_arrays(_nonneg(sigma_w2, "sigma_w2"), _nonneg(sigma_b2, "sigma_b2"))
    q0 = _checks.finite_float(q0, "q0", non_negative=True)
    tol = _checks.finite_float(tol, "tol", positive=True)
    max_iter = _checks.positive_int(max_iter, "max_iter")
    if act.name in _HOMOGENEOUS:
        a = sw * _homogeneous_factor(act)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(a < 1.0, sb / (1.0 - a), np.inf)
        q = np.where((a == 1.0) & (sb == 0.0), q0, q)
        return _scalar_or_array(q, sigma_w2, sigma_b2)

    q = np.full(sw.shape, q0, dtype=float)
    done = np.zeros(sw.shape, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(~done)
        if idx.size == 0:
            break
        qi, swi, sbi = q.flat[idx], sw.flat[idx], sb.flat[idx]
        m2, factor = _moments(act, qi)
        image, slope = swi * m2 + sbi, swi * factor
        gap = image - qi
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = qi - gap / (slope - 1.0)
        # Newton where the map is locally contracting and the step stays positive, else one plain step
        nxt = np.where((slope < 1.0) & np.isfinite(newton) & (newton >= 0.0), newton, image)
        q.flat[idx] = nxt
        converged = np.abs(nxt - qi) <= tol * (1.0 + qi)
        diverged = ~np.isfinite(nxt) | (nxt > _DIVERGED)
        q.flat[idx[diverged]] = np.inf
        done.flat[idx[converged | diverged]] = True
    q = np.where(done, q, np.nan)
    return _scalar_or_array(q, sigma_w2, sigma_b2)


# -- correlations, chi_1 and the phases ----------------------------------------------------------
def _q_or_star(q, sw, sb, act: Activation) -> Array:
    return np.asarray(q_star(sw, sb, act)) if q is None else _nonneg(q, "q")


def chi1(sigma_w2: float | Array, sigma_b2: float | Array = 0.0, activation: str | Activation = "tanh", *,
         q: float | Array | None = None) -> float | Array:
    """``chi_1 = sigma_w2 E[phi'(u)^2]``, ``u ~ N(0, q)``, by default at ``q = q*`` (Poole et al. 2016).

    It is the slope of the correlation map at ``c = 1`` and the mean squared singular value of one
    layer's Jacobian ``D W`` (Pennington et al. 2017): ``chi_1 < 1`` ordered, ``> 1`` chaotic, ``= 1``
    critical. For identity, ReLU and leaky ReLU it does not depend on ``q`` (``phi'(u)^2`` is 1 or the
    squared negative-side slope, each with probability 1/2), so ReLU's ``chi_1 = sigma_w2 / 2`` holds
    for every bias too, even where ``q*`` is infinite; for other activations it is NaN there.
    """
    act = get_activation(activation)
    sw, sb = np.broadcast_arrays(_nonneg(sigma_w2, "sigma_w2"), _nonneg(sigma_b2, "sigma_b2"))
    if act.name in _HOMOGENEOUS:
        if q is not None:
            sw, sb, _ = np.broadcast_arrays(sw, sb, _nonneg(q, "q"))
        value = sw * _homogeneous_factor(act)
        return _scalar_or_array(value, sigma_w2, sigma_b2, *([] if q is None else [q]))
    sw, sb, qq = np.broadcast_arrays(sw, sb, _q_or_star(q, sw, sb, act))
    finite = np.isfinite(qq)
    value = sw * np.asarray(gaussian_expectation(lambda u: act.df(u) ** 2, np.where(finite, qq, 0.0)))
    value = np.where(finite, value, np.nan)
    return _scalar_or_array(value, sigma_w2, sigma_b2, *([] if q is None else [q]))


def covariance_map(q_a: float | Array, q_b: float | Array, c: float | Array, sigma_w2: float,
                   sigma_b2: float = 0.0, activation: str | Activation = "tanh") -> tuple:
    """One layer of the mean-field recursion for a pair of inputs: ``(q_a, q_b, c) -> (q_a', q_b', c')``.

    ``q_a' = sigma_w2 E[phi(u_a)^2] + sigma_b2`` (likewise ``q_b'``), ``q_ab' = sigma_w2 E[phi(u_a) phi(u_b)]
    + sigma_b2`` and ``c' = q_ab' / sqrt(q_a' q_b')`` (Poole et al. 2016). The variances use
    :func:`~helpers.theory.gaussian.gaussian_expectation`, the cross term
    :func:`~helpers.theory.gaussian.bivariate_expectation` (closed forms for ReLU);
    ``c'`` is clipped to ``[-1, 1]`` against rounding.
    """
    act = get_activation(activation)
    sw = _checks.finite_float(sigma_w2, "sigma_w2", non_negative=True)
    sb = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    qa, qb, cc = np.broadcast_arrays(_nonneg(q_a, "q_a"), _nonneg(q_b, "q_b"), _correlation(c))
    ea, eb = _second_moment(act, qa), _second_moment(act, qb)
    if act.name == "relu":
        eab = np.asarray(relu_covariance(qa, qb, cc))
    else:
        eab = np.asarray(bivariate_expectation(lambda x, y: act.f(x) * act.f(y), qa, qb, cc))
    qa2, qb2, qab2 = sw * ea + sb, sw * eb + sb, sw * eab + sb
    with np.errstate(divide="ignore", invalid="ignore"):
        c2 = np.where((qa2 > 0) & (qb2 > 0), qab2 / np.sqrt(qa2 * qb2), 1.0)
    c2 = np.clip(c2, -1.0, 1.0)
    ins = (q_a, q_b, c)
    return _scalar_or_array(qa2, *ins), _scalar_or_array(qb2, *ins), _scalar_or_array(c2, *ins)


def correlation_map(c: float | Array, sigma_w2: float, sigma_b2: float = 0.0, activation: str | Activation = "tanh",
                    *, q: float | None = None) -> float | Array:
    """``c -> c'`` for two inputs whose variances both sit at ``q`` (default: the fixed point ``q*``).

    ``c' = (sigma_w2 E[phi(u_a) phi(u_b)] + sigma_b2) / (sigma_w2 E[phi(u)^2] + sigma_b2)``, the map that
    Poole et al. (2016) and Schoenholz et al. (2016) iterate. ``c = 1`` is always a fixed point; its
    slope there is :func:`chi1`. For ReLU at zero bias it equals :func:`~helpers.theory.gaussian.arccos_kernel`.
    """
    act = get_activation(activation)
    sw = _checks.finite_float(sigma_w2, "sigma_w2", non_negative=True)
    sb = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    qq = float(q_star(sw, sb, act)) if q is None else _checks.finite_float(q, "q", non_negative=True)
    if not math.isfinite(qq):
        raise ValueError(f"the length map has no finite fixed point at sigma_w2={sw}, sigma_b2={sb} for "
                         f"{act.name}; pass q explicitly")
    return covariance_map(qq, qq, c, sw, sb, act)[2]


def chi_c(c: float | Array, sigma_w2: float, sigma_b2: float = 0.0, activation: str | Activation = "tanh", *,
          q: float | None = None) -> float | Array:
    """Slope of the correlation map at ``c``: ``dc'/dc = sigma_w2 E[phi'(u_a) phi'(u_b)]`` at variance ``q``.

    Follows from Price's theorem, d E[phi(u_a) phi(u_b)] / d cov = E[phi'(u_a) phi'(u_b)]. At ``c = 1``
    it is ``chi_1``; at the stable fixed point ``c*`` it sets ``xi_c`` (Schoenholz et al. 2016).
    """
    act = get_activation(activation)
    sw = _checks.finite_float(sigma_w2, "sigma_w2", non_negative=True)
    sb = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    qq = float(q_star(sw, sb, act)) if q is None else _checks.finite_float(q, "q", non_negative=True)
    if not math.isfinite(qq):
        return _scalar_or_array(np.full(np.shape(c), np.nan), c)
    cc = _correlation(c)
    if act.name == "relu":  # E[1{u_a > 0} 1{u_b > 0}] = (pi - arccos c) / (2 pi)
        return _scalar_or_array(sw * (np.pi - np.arccos(cc)) / (2.0 * np.pi), c)
    return _scalar_or_array(sw * np.asarray(bivariate_expectation(lambda x, y: act.df(x) * act.df(y), qq, qq, cc)), c)


def c_star(sigma_w2: float, sigma_b2: float = 0.0, activation: str | Activation = "tanh", *,
           tol: float = 1e-12, max_iter: int = 100) -> float:
    """The stable fixed point of the correlation map in ``[0, 1]``.

    In the ordered phase (``chi_1 <= 1``) it is 1: all inputs end up perfectly correlated. In the
    chaotic phase it is the smallest root of ``C(c) = c`` in ``[0, 1)``. The correlation map is a power
    series in ``c`` with non-negative coefficients (Mehler's expansion), hence increasing and convex on
    ``[0, 1]`` with ``C(0) >= 0``, so Newton's method from ``c = 0`` converges to it monotonically.
    NaN where ``q*`` is infinite.
    """
    act = get_activation(activation)
    sw = _checks.finite_float(sigma_w2, "sigma_w2", non_negative=True)
    sb = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    qq = float(q_star(sw, sb, act))
    if not math.isfinite(qq):
        return float("nan")
    if float(chi1(sw, sb, act, q=qq)) <= 1.0 + 1e-12:  # ordered or critical (to rounding): c* = 1
        return 1.0
    c = 0.0
    for _ in range(_checks.positive_int(max_iter, "max_iter")):
        gap = float(correlation_map(c, sw, sb, act, q=qq)) - c
        slope = float(chi_c(c, sw, sb, act, q=qq)) - 1.0
        step = -gap / slope
        c = min(max(c + step, 0.0), 1.0)
        if abs(step) <= tol:
            return c
    return float("nan")


def depth_scales(sigma_w2: float, sigma_b2: float = 0.0, activation: str | Activation = "tanh") -> tuple[float, float]:
    """``(xi_q, xi_c)``, the depth scales of Schoenholz et al. (2016).

    ``xi_q = -1 / ln(slope of the length map at q*)`` (:func:`length_map_slope`) measures how fast a
    variance forgets its input; ``xi_c = -1 / ln(chi_c(c*))`` how fast a correlation does (``chi_c(1) =
    chi_1`` in the ordered phase). Each is ``inf`` where its slope is exactly 1 (``xi_c`` on the critical
    line) and NaN where ``q*`` is infinite.
    """
    act = get_activation(activation)
    sw = _checks.finite_float(sigma_w2, "sigma_w2", non_negative=True)
    sb = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    qq = float(q_star(sw, sb, act))
    if not math.isfinite(qq):
        return float("nan"), float("nan")
    cs = c_star(sw, sb, act)
    slopes = (float(length_map_slope(qq, sw, act)), float(chi_c(cs, sw, sb, act, q=qq)))
    return tuple(_depth(s) for s in slopes)  # type: ignore[return-value]


def _depth(slope: float) -> float:
    """-1 / ln(slope); a slope within 1e-12 of 1 (critical, to rounding) gives inf."""
    if not math.isfinite(slope) or slope <= 0.0 or slope > 1.0 + 1e-12:
        return float("nan")
    return math.inf if abs(slope - 1.0) <= 1e-12 else -1.0 / math.log(slope)


# -- the critical line and the phase diagram -----------------------------------------------------
def critical_line(activation: str | Activation = "tanh", q: Array | None = None) -> tuple[Array, Array]:
    """Points ``(sigma_w2, sigma_b2)`` with ``chi_1 = 1``, parametrized by the fixed point ``q*``.

    On the critical line ``sigma_w2 = 1 / E[phi'(u)^2]`` and then ``sigma_b2 = q* - sigma_w2 E[phi(u)^2]``,
    ``u ~ N(0, q*)``, which needs no root finding. Points with ``sigma_b2 < 0`` are dropped. For tanh the
    line starts at ``(1, 0)`` (``q* -> 0``); for ReLU every ``q*`` gives the single point ``(2, 0)``.
    ``q`` defaults to 400 values log-spaced in ``[1e-4, 1e2]``.
    """
    act = get_activation(activation)
    qq = np.geomspace(1e-4, 1e2, 400) if q is None else np.atleast_1d(_nonneg(q, "q"))
    if act.name in _HOMOGENEOUS:
        d2 = np.full_like(qq, _homogeneous_factor(act))
    else:
        d2 = np.asarray(gaussian_expectation(lambda u: act.df(u) ** 2, qq))
    with np.errstate(divide="ignore"):
        sw = 1.0 / d2
    sb = qq - sw * _second_moment(act, qq)
    sb = np.where(np.abs(sb) <= 1e-12 * np.maximum(qq, 1.0), 0.0, sb)
    keep = np.isfinite(sw) & (sb >= 0.0)
    return sw[keep], sb[keep]


def critical_sigma_w2(sigma_b2: float | Array, activation: str | Activation = "tanh") -> float | Array:
    """The ``sigma_w2`` on the critical line for a given ``sigma_b2`` (NaN where there is none).

    Solves ``q - E[phi(u)^2] / E[phi'(u)^2] = sigma_b2`` for ``q = q*`` by bisection in ``log q`` on
    ``[1e-12, 1e4]`` (vectorized), then returns ``1 / E[phi'(u)^2]``. If ``phi(0) = 0`` and ``sigma_b2 = 0``
    the critical point is the limit ``q* -> 0``, ``sigma_w2 = 1 / E[phi'(0)^2]``: 1 for tanh (LeCun's
    variance), 2 for ReLU (He et al. 2015). ReLU with ``sigma_b2 > 0`` has no critical point.
    """
    act = get_activation(activation)
    sb = _nonneg(sigma_b2, "sigma_b2")
    if act.name in _HOMOGENEOUS:
        value = np.where(sb == 0.0, 1.0 / _homogeneous_factor(act), np.nan)
        return _scalar_or_array(value, sigma_b2)

    def excess(q):
        d2 = np.asarray(gaussian_expectation(lambda u: act.df(u) ** 2, q))
        return q - _second_moment(act, q) / d2 - sb

    lo, hi = np.full(sb.shape, math.log(1e-12)), np.full(sb.shape, math.log(1e4))
    f_lo, f_hi = excess(np.exp(lo)), excess(np.exp(hi))
    ok = (f_lo <= 0.0) & (f_hi >= 0.0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        above = excess(np.exp(mid)) >= 0.0
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    qq = np.exp(0.5 * (lo + hi))
    value = np.where(ok, 1.0 / np.asarray(gaussian_expectation(lambda u: act.df(u) ** 2, qq)), np.nan)
    if float(act.f(np.zeros(1))[0]) == 0.0:
        # phi(0) = 0: at sigma_b2 = 0, q* = 0 is a fixed point and the critical point is its limit,
        # sigma_w2 = 1 / E[phi'(0)^2] (the average of both one-sided slopes if phi has a kink at 0).
        limit = 1.0 / float(gaussian_expectation(lambda u: act.df(u) ** 2, 1e-30))
        value = np.where(sb == 0.0, limit, value)
    return _scalar_or_array(value, sigma_b2)


@dataclass
class PhaseDiagram:
    """``q*`` and ``chi_1`` on a grid (rows: ``sigma_b2``, columns: ``sigma_w2``) and the critical line."""

    activation: str
    sigma_w2: Array
    sigma_b2: Array
    q_star: Array
    chi1: Array
    line_w2: Array
    line_b2: Array

    def phase(self, sigma_w2: float, sigma_b2: float) -> str:
        """``"ordered"``, ``"critical"`` or ``"chaotic"`` at one point (exact, not read off the grid)."""
        return phase(sigma_w2, sigma_b2, self.activation)


def phase(sigma_w2: float, sigma_b2: float = 0.0, activation: str | Activation = "tanh", *, atol: float = 1e-9) -> str:
    """Name the phase at one point: ``"ordered"`` (chi_1 < 1), ``"critical"`` (|chi_1 - 1| <= atol) or
    ``"chaotic"`` (chi_1 > 1). For unbounded activations whose variance diverges (``q* = inf``) the
    answer is ``"unbounded"``.
    """
    atol = _checks.finite_float(atol, "atol", non_negative=True)
    if not math.isfinite(q_star(sigma_w2, sigma_b2, activation)):
        return "unbounded"
    value = chi1(sigma_w2, sigma_b2, activation)
    if abs(value - 1.0) <= atol:
        return "critical"
    return "ordered" if value < 1.0 else "chaotic"


def phase_diagram(activation: str | Activation = "tanh", sigma_w2: Array | None = None,
                  sigma_b2: Array | None = None) -> PhaseDiagram:
    """``q*`` and ``chi_1`` over a grid of ``(sigma_w2, sigma_b2)`` plus the critical line.

    Defaults: ``sigma_w2`` in ``[0.5, 4]`` (71 values), ``sigma_b2`` in ``[0, 0.3]`` (61 values).
    The whole grid is solved at once (vectorized Newton), so a chapter computes it once and reuses it.
    """
    act = get_activation(activation)
    w = np.linspace(0.5, 4.0, 71) if sigma_w2 is None else np.atleast_1d(_nonneg(sigma_w2, "sigma_w2"))
    b = np.linspace(0.0, 0.3, 61) if sigma_b2 is None else np.atleast_1d(_nonneg(sigma_b2, "sigma_b2"))
    if w.ndim != 1 or b.ndim != 1:
        raise ValueError("sigma_w2 and sigma_b2 must be 1-D grids")
    ww, bb = np.meshgrid(w, b)
    qs = np.asarray(q_star(ww, bb, act))
    ch = np.asarray(chi1(ww, bb, act, q=np.where(np.isfinite(qs), qs, 0.0)))
    ch = np.where(np.isfinite(qs), ch, np.nan)
    lw, lb = critical_line(act)
    return PhaseDiagram(act.name, w, b, qs, ch, lw, lb)


# -- predictions for a pair of inputs across depth -----------------------------------------------
@dataclass
class PairPrediction:
    """Predicted variances ``q_a, q_b`` and correlation ``c`` of two inputs at layers 1..depth."""

    q_a: Array
    q_b: Array
    c: Array


def predicted_pair(depth: int, sigma_w2: float, sigma_b2: float = 0.0, activation: str | Activation = "tanh", *,
                   input_second_moments: tuple[float, float] = (1.0, 1.0),
                   input_correlation: float = 0.5) -> PairPrediction:
    """Mean-field prediction for two inputs ``x_a, x_b`` through ``depth`` layers.

    Layer 1 sees the inputs themselves: with ``m_a = |x_a|^2 / n_0`` and the input cosine similarity
    ``rho``, ``q_a^(1) = sigma_w2 m_a + sigma_b2`` and ``q_ab^(1) = sigma_w2 sqrt(m_a m_b) rho + sigma_b2``.
    Every later layer applies :func:`covariance_map`. ``q_a`` agrees with
    :func:`helpers.theory.signal.predicted_variances`.
    """
    depth = _checks.positive_int(depth, "depth")
    act = get_activation(activation)
    sw = _checks.finite_float(sigma_w2, "sigma_w2", non_negative=True)
    sb = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    if not isinstance(input_second_moments, (tuple, list)) or len(input_second_moments) != 2:
        raise ValueError(f"input_second_moments must be a pair (m_a, m_b), got {input_second_moments!r}")
    ma = _checks.finite_float(input_second_moments[0], "input_second_moments[0]", non_negative=True)
    mb = _checks.finite_float(input_second_moments[1], "input_second_moments[1]", non_negative=True)
    rho = float(_correlation(input_correlation, "input_correlation"))
    qa, qb, c = np.empty(depth), np.empty(depth), np.empty(depth)
    qa[0], qb[0] = sw * ma + sb, sw * mb + sb
    qab = sw * math.sqrt(ma * mb) * rho + sb
    c[0] = qab / math.sqrt(qa[0] * qb[0]) if qa[0] > 0 and qb[0] > 0 else 1.0
    for layer in range(1, depth):
        if not (np.isfinite(qa[layer - 1]) and np.isfinite(qb[layer - 1])) or max(qa[layer - 1], qb[layer - 1]) > _DIVERGED:
            qa[layer:], qb[layer:], c[layer:] = np.inf, np.inf, np.nan
            break
        qa[layer], qb[layer], c[layer] = covariance_map(qa[layer - 1], qb[layer - 1], c[layer - 1], sw, sb, act)
    return PairPrediction(qa, qb, c)


