"""The input-output Jacobian of a deep network, its singular values, and how a perturbation grows.

For a network whose every layer computes ``h^(l) = phi(z^(l))``, ``z^(l) = W^(l) h^(l-1) + b^(l)``
(``activate_output=True``), the Jacobian at an input ``x`` is the product

    J = dh^(L) / dx = D^(L) W^(L) D^(L-1) W^(L-1) ... D^(1) W^(1),     D^(l) = diag(phi'(z^(l))),

(Pennington et al. 2017). If the last layer is linear the final ``D^(L)`` is left out. Its squared
singular values tell how much each direction of a small input change is stretched on its way to the
output. Their mean is ``chi_1^L`` in the mean-field limit, with ``chi_1 = sigma_w2 E[phi'(z)^2]``
(:func:`helpers.theory.meanfield.chi1`); criticality (``chi_1 = 1``) fixes the mean but not the spread.
*Dynamical isometry* means that all singular values are close to 1 (Saxe et al. 2014). A deep
linear network with orthogonal weights has it exactly; with Gaussian weights the variance of the
squared singular values grows linearly with depth; tanh at the critical point with orthogonal
weights and small ``q*`` comes close; ReLU cannot reach it with either (Pennington et al. 2017).

An ensemble of ``E`` networks (:func:`helpers.network.stack_mlps`) is handled in one pass: the
Jacobians are built with batched matrix products and the singular values with one stacked
``numpy.linalg.svd``, and every result gains a leading member axis.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .network import MLP, forward

Array = np.ndarray


def _single_input(net: MLP, x: Array) -> Array:
    """One input of shape ``(n_0,)``; an ensemble also takes ``(E, n_0)``, one input per member."""
    x = _checks.array(x, "x")
    size, n0 = net.ensemble_size, net.sizes[0]
    if x.ndim == 2 and x.shape[0] == 1:
        x = x[0]
    if size is not None and x.ndim == 2 and x.shape == (size, n0):
        return x
    if x.ndim != 1 or x.shape[0] != n0:
        members = "" if size is None else f", or one input per member (shape ({size}, {n0}))"
        raise ValueError(f"x must be one input of length {n0} (shape ({n0},) or (1, {n0})){members}, "
                         f"got shape {x.shape}")
    return x if size is None else np.broadcast_to(x, (size, n0))


def _partial_jacobians(net: MLP, x: Array):
    """Yield ``(l, J_l)`` for l = 1..L, where ``J_l = dh^(l) / dx`` (``dz^(L)/dx`` if the output is linear).

    ``J_l`` has shape ``(n_l, n_0)``, or ``(E, n_l, n_0)`` for an ensemble of ``E`` networks.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a helpers.network.MLP, got {type(net).__name__}")
    x = _single_input(net, x)
    _, cache = forward(net, x[..., None, :])
    last = net.depth - 1
    jac = None
    with np.errstate(over="ignore", invalid="ignore"):
        for i, w in enumerate(net.weights):
            jac = w.copy() if jac is None else w @ jac
            if i < last or net.activate_output:
                jac *= net.activation.df(cache.pre[i][..., 0, :])[..., :, None]
            yield i + 1, jac


def input_output_jacobian(net: MLP, x: Array) -> Array:
    """``J = d output / d x`` at one input ``x``: an ``(n_L, n_0)`` matrix (``(E, n_L, n_0)`` for an ensemble).

    Built layer by layer, ``J <- D^(l) (W^(l) J)``, from the pre-activations of one forward pass
    (``L`` matrix products; about 0.5 GFLOP for 64 layers of width 200).
    """
    for _, jac in _partial_jacobians(net, x):
        pass
    return jac


def jacobian_singular_values(net: MLP, x: Array) -> Array:
    """Singular values of :func:`input_output_jacobian` at ``x``, largest first (one row per member of an ensemble)."""
    return np.linalg.svd(input_output_jacobian(net, x), compute_uv=False)


def jacobian_spectra(net: MLP, x: Array, depths) -> dict[int, Array]:
    """Singular values (largest first) of the Jacobian of the first ``l`` layers, for each ``l`` in ``depths``.

    One pass through the network: the Jacobian of a shallower prefix is a by-product of the deeper one.
    For an ensemble each entry has shape ``(E, min(n_l, n_0))``: row ``k`` is member ``k``'s spectrum.
    """
    wanted = sorted({_checks.positive_int(d, "depths[...]") for d in depths})
    if not wanted or wanted[-1] > net.depth:
        raise ValueError(f"depths must be non-empty and at most the network depth {net.depth}, got {list(depths)}")
    out = {}
    for layer, jac in _partial_jacobians(net, x):
        if layer in wanted:
            out[layer] = np.linalg.svd(jac, compute_uv=False)
        if layer == wanted[-1]:
            break
    return out


def squared_singular_value_moments(s: Array) -> tuple[float, float]:
    """Mean and variance of the squared singular values ``lambda = s^2`` (the eigenvalues of ``J J^T``).

    For a critical network the mean is about 1; the variance measures how far from isometry it is.
    For a deep linear network with Gaussian weights (``sigma_w2 = 1``) and large width the mean is 1
    and the variance is ``L`` (the second moment of the Fuss-Catalan law is ``L + 1``); with
    orthogonal weights the variance is 0 (Pennington et al. 2017).
    """
    s = _checks.array(s, "s", ndim=1).astype(float)
    if s.size == 0:
        raise ValueError("s must hold at least one singular value")
    lam = s * s
    return float(lam.mean()), float(lam.var())


def tangent_growth(net: MLP, x: Array, v: Array) -> Array:
    """Per-layer growth ``|dz^(l)|^2 / |dz^(l-1)|^2`` of input perturbations ``v`` (summed over the batch).

    ``x`` and ``v`` have shape ``(batch, n_0)``; ``dz^(1) = W^(1) v`` and ``dz^(l) = W^(l) D^(l-1) dz^(l-1)``
    is the Jacobian-vector product, layer by layer. Returns ``depth - 1`` ratios, for layers 2..L.
    In the mean-field limit each ratio is ``sigma_w2 E[phi'(z)^2]`` at that layer's variance, i.e.
    ``chi_1`` once the variance has reached ``q*``: the factor by which an infinitesimal
    perturbation grows (chaotic phase) or shrinks (ordered phase) per layer (Poole et al. 2016).
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a helpers.network.MLP, got {type(net).__name__}")
    if net.ensemble_size is not None:
        raise TypeError(f"net must be a single network, got an ensemble of {net.ensemble_size}")
    x = _checks.array(x, "x", ndim=2)
    v = _checks.array(v, "v", ndim=2)
    if v.shape != x.shape:
        raise ValueError(f"v must have the shape of x {x.shape}, got {v.shape}")
    if net.depth < 2:
        raise ValueError("net must have at least 2 layers to measure growth between layers")
    _, cache = forward(net, x)
    ratios = np.empty(net.depth - 1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        dz = v.astype(net.dtype) @ net.weights[0].T
        before = float(np.sum(dz * dz))
        for i in range(1, net.depth):
            dz = (net.activation.df(cache.pre[i - 1]) * dz) @ net.weights[i].T
            after = float(np.sum(dz * dz))
            ratios[i - 1] = after / before if before > 0 else np.nan
            if after > 0:  # rescale so long chains neither overflow nor underflow
                dz /= np.sqrt(after)
                before = 1.0
            else:
                before = 0.0
    return ratios


def estimate_chi1(net: MLP, x: Array, rng: np.random.Generator, *, skip: int = 5) -> float:
    """Measure ``chi_1`` of a finite network: the geometric mean of :func:`tangent_growth` ratios.

    Random Gaussian perturbations of the inputs ``x`` are pushed through the network; the first
    ``skip`` ratios are dropped so that the variance has settled near ``q*``. Compare with
    :func:`helpers.theory.meanfield.chi1`.
    """
    rng = _checks.generator(rng)
    skip = _checks.positive_int(skip, "skip", allow_zero=True)
    x = _checks.array(x, "x", ndim=2)
    if skip >= net.depth - 1:
        raise ValueError(f"skip must be smaller than depth - 1 = {net.depth - 1}, got {skip}")
    ratios = tangent_growth(net, x, rng.standard_normal(x.shape))
    kept = ratios[skip:]
    if not np.all(np.isfinite(kept)) or np.any(kept <= 0):
        return float("nan")
    return float(np.exp(np.mean(np.log(kept))))
