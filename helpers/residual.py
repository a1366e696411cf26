"""Residual MLPs ``x_k = x_{k-1} + F_k(x_{k-1})`` and the bookkeeping of their variance over blocks.

A block's branch is a pre-activation stack of ``m`` (``branch_depth``) square weight layers
(He et al. 2016; the "pre-activation" order puts phi before each weight layer):

    h_0 = phi(x_{k-1}),   z_j = h_{j-1} W_j^T,   h_j = phi(z_j)   (j = 1..m-1),
    F_k(x_{k-1}) = z_m = h_{m-1} W_m^T,            x_k = x_{k-1} + F_k(x_{k-1}).

The branch layers have no biases (zero biases change nothing at initialization; Fixup's scalar
biases start at 0 and are left out, see below).

Why variance doubles. ``W_m`` has zero mean and is independent of ``x_{k-1}``, so the branch output is
uncorrelated with the skip path and the variances add: Var[x_k] = Var[x_{k-1}] + Var[F_k]. Under He
initialization (Var[W] = 2/width for ReLU) each weight layer of the branch maps a second moment
E[h^2] to Var[z] = 2 E[h^2] and ReLU halves it back, so Var[F_k] = Var[x_{k-1}] and
Var[x_k] = 2 Var[x_{k-1}]: after L blocks the variance has grown by 2^L.

Remedies (``remedy=`` in :func:`build_residual_mlp`):

* ``"none"``: He everywhere (the growth above);
* ``"zero_last"``: the last layer of each branch is zero, so every block starts as the identity
  (Goyal et al. 2017 do this with the last batch-norm scale; Zhang et al. 2019 with the weights);
* ``"fixup_scale"``: only Fixup's rescaling, L^{-1/(2m-2)} on the first m-1 layers of every branch
  (Zhang et al. 2019, eq. 4), with the last layer left at He: Var[F_k] = Var[x_{k-1}] / L, so
  Var[x_L] = (1 + 1/L)^L Var[x_0] < e Var[x_0];
* ``"fixup"``: both (Fixup's rules 1 and 2). The output is the input at initialization, and the
  rescaling keeps the change of the output after one SGD step independent of the number of blocks.

Fixup's scalar multipliers and biases (its rule 3) start at 1 and 0 and are omitted here: they do not
change the network at initialization.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _checks
from .activations import Activation, get_activation
from .initializers import calculate_gain
from .layers import Act, Dense, Residual, Sequential
from .theory import predicted_residual_variances

REMEDIES = ("none", "zero_last", "fixup_scale", "fixup")


class ResidualMLP(Sequential):
    """A residual MLP: a :class:`~helpers.layers.Sequential` of :class:`~helpers.layers.Residual` blocks.

    Each block's branch is ``Act -> Dense -> Act -> ... -> Dense`` (pre-activation, no biases);
    ``weights[k][j]`` is layer ``j`` of block ``k``'s branch (0-based), the layers' own arrays.
    """

    def __init__(self, weights: list[list[np.ndarray]], activation: Activation) -> None:
        self.activation = get_activation(activation)
        blocks = []
        for ws in weights:
            branch = []
            for w in ws:
                branch += [Act(self.activation), Dense(w)]
            blocks.append(Residual(Sequential(branch)))
        super().__init__(blocks)

    @property
    def weights(self) -> list[list[np.ndarray]]:
        return [[layer.weight for layer in block.branch.layers if isinstance(layer, Dense)] for block in self.layers]

    @property
    def blocks(self) -> int:
        return len(self.layers)

    @property
    def branch_depth(self) -> int:
        return len(self.weights[0])

    @property
    def width(self) -> int:
        return self.weights[0][0].shape[1]


@dataclass
class ResidualCache:
    """Forward-pass record: ``x[k]`` is the input of block k+1 (``x[0]`` the input, ``x[-1]`` the output)."""

    x: list[np.ndarray]


def fixup_scale(blocks: int, branch_depth: int) -> float:
    """Fixup's factor L^{-1/(2m-2)} for L residual branches of m layers each (Zhang et al. 2019).

    It multiplies the standard (He) initialization of the first m - 1 layers of every branch, so the
    branch output's standard deviation shrinks by L^{-(m-1)/(2m-2)} = L^{-1/2}. Needs m >= 2.
    """
    blocks = _checks.positive_int(blocks, "blocks")
    branch_depth = _checks.positive_int(branch_depth, "branch_depth")
    if branch_depth < 2:
        raise ValueError(f"branch_depth must be >= 2 for Fixup's scaling L^(-1/(2m-2)), got {branch_depth}")
    return blocks ** (-1.0 / (2 * branch_depth - 2))


def build_residual_mlp(width: int, blocks: int, rng: np.random.Generator, *, branch_depth: int = 2,
                       activation: str | Activation = "relu", remedy: str = "none",
                       dtype=np.float64) -> ResidualMLP:
    """A residual MLP of ``blocks`` blocks, every weight He-normal (gain for ``activation``), then ``remedy``.

    He normal: N(0, gain^2 / width) with ``calculate_gain`` of the activation (He et al. 2015).
    ``remedy`` is one of ``"none"``, ``"zero_last"``, ``"fixup_scale"`` and ``"fixup"`` (see the module
    docstring). All layers are drawn, in order, from ``rng`` whatever the remedy, so
    two remedies with one seed differ only by the remedy.
    """
    width = _checks.positive_int(width, "width")
    blocks = _checks.positive_int(blocks, "blocks")
    branch_depth = _checks.positive_int(branch_depth, "branch_depth")
    rng = _checks.generator(rng)
    dtype = _checks.float_dtype(dtype)
    _checks.choice(remedy, "remedy", REMEDIES)
    act = get_activation(activation)
    std = calculate_gain(act.gain_name, act.slope) / math.sqrt(width)
    scale = fixup_scale(blocks, branch_depth) if remedy in ("fixup", "fixup_scale") else 1.0
    weights = []
    for _ in range(blocks):
        branch = [std * rng.standard_normal((width, width)) for _ in range(branch_depth)]
        if remedy in ("fixup", "fixup_scale"):
            branch[:-1] = [scale * w for w in branch[:-1]]
        if remedy in ("zero_last", "fixup"):
            branch[-1] = np.zeros_like(branch[-1])
        weights.append([w.astype(dtype, copy=False) for w in branch])
    return ResidualMLP(weights, act)


def _check_net_input(net: ResidualMLP, x: np.ndarray) -> np.ndarray:
    if not isinstance(net, ResidualMLP):
        raise TypeError(f"net must be a ResidualMLP, got {type(net).__name__}")
    x = _checks.array(x, "x", ndim=2)
    if x.shape[1] != net.width:
        raise ValueError(f"x must have {net.width} columns (the width), got shape {x.shape}")
    return x.astype(net.weights[0][0].dtype, copy=False)


def residual_forward(net: ResidualMLP, x: np.ndarray) -> tuple[np.ndarray, ResidualCache]:
    """Run the batch ``x`` (shape ``(batch, width)``) through every block; return ``x_L`` and the cache."""
    x = _check_net_input(net, x)
    cache = ResidualCache([x])
    for block in net.layers:
        x = block.forward(x)
        cache.x.append(x)
    return x, cache


def residual_backward(net: ResidualMLP, cache: ResidualCache,
                      grad_out: np.ndarray) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
    """Back-propagate ``grad_out`` = dL/dx_L through the blocks of the last forward; return ``(dW, dx)``.

    ``dW[k][j]`` matches ``weights[k][j]``; ``dx[k]`` is dL/dx_k for k = 0..L. Per block the skip path
    adds to the branch's chain rule: dx_{k-1} = dx_k + J_F(x_{k-1})^T dx_k (He et al. 2016).
    """
    grad_out = _checks.array(grad_out, "grad_out", ndim=2)
    if grad_out.shape != cache.x[-1].shape:
        raise ValueError(f"grad_out must have the output's shape {cache.x[-1].shape}, got {grad_out.shape}")
    g = grad_out.astype(cache.x[-1].dtype, copy=False)
    dx = [g]
    for block in reversed(net.layers):
        g = block.backward(g)
        dx.append(g)
    dw = [[layer.grads["weight"] for layer in block.branch.layers if isinstance(layer, Dense)] for block in net.layers]
    return dw, dx[::-1]


def block_variances(net: ResidualMLP, x: np.ndarray) -> np.ndarray:
    """Var[x_k] for k = 0..L on the batch ``x`` (over all units and examples)."""
    _, cache = residual_forward(net, x)
    with np.errstate(all="ignore"):
        return np.array([float(np.var(v)) for v in cache.x])


def gradient_rms(net: ResidualMLP, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Root mean square of dL/dx_k, k = 0..L, for a random unit-variance output gradient.

    A stand-in for the gradient of a loss at initialization: ``grad_out`` has i.i.d. N(0, 1) entries.
    """
    rng = _checks.generator(rng)
    out, cache = residual_forward(net, x)
    _, dx = residual_backward(net, cache, rng.standard_normal(out.shape))
    with np.errstate(all="ignore"):
        return np.array([float(np.sqrt(np.mean(np.square(d)))) for d in dx])


def branch_sigma_w2(blocks: int, *, branch_depth: int = 2, remedy: str = "none",
                    activation: str | Activation = "relu") -> list[float]:
    """``sigma_w2 = width * Var[W]`` of each layer of one branch of :func:`build_residual_mlp`'s network.

    The remedy's vocabulary in the theory's terms, the input of
    :func:`helpers.theory.signal.predicted_residual_variances`: He initialization gives ``gain^2``
    (``calculate_gain`` of the activation) in every layer; under ``"fixup"`` and ``"fixup_scale"``
    Fixup's factor L^{-1/(2m-2)} (:func:`fixup_scale`) scales the weights of the first m - 1 layers,
    so their ``sigma_w2`` by its square; a zero-initialized last layer (``"zero_last"``, ``"fixup"``)
    has 0.
    """
    blocks = _checks.positive_int(blocks, "blocks")
    branch_depth = _checks.positive_int(branch_depth, "branch_depth")
    _checks.choice(remedy, "remedy", REMEDIES)
    act = get_activation(activation)
    gain2 = calculate_gain(act.gain_name, act.slope) ** 2
    scale2 = fixup_scale(blocks, branch_depth) ** 2 if remedy in ("fixup", "fixup_scale") else 1.0
    last = 0.0 if remedy in ("zero_last", "fixup") else gain2
    return [scale2 * gain2] * (branch_depth - 1) + [last]


def predicted_block_variances(blocks: int, *, branch_depth: int = 2, remedy: str = "none",
                              activation: str | Activation = "relu", input_variance: float = 1.0) -> np.ndarray:
    """Predicted Var[x_k], k = 0..L, of a wide residual MLP from :func:`build_residual_mlp`.

    The theory's residual recursion (:func:`helpers.theory.signal.predicted_residual_variances`:
    Var[x_k] = Var[x_{k-1}] + Var[F_k], the length map through each branch) with the branch's
    per-layer variances of ``remedy`` (:func:`branch_sigma_w2`). For ReLU: 2^k (``"none"``), 1
    (``"zero_last"``, ``"fixup"``) and (1 + 1/L)^k (``"fixup_scale"``).
    """
    input_variance = _checks.finite_float(input_variance, "input_variance", positive=True)
    sigmas = branch_sigma_w2(blocks, branch_depth=branch_depth, remedy=remedy, activation=activation)
    return predicted_residual_variances(blocks, sigmas, activation, input_variance=input_variance)


def sgd_output_change(net: ResidualMLP, x: np.ndarray, target: np.ndarray, lr: float) -> float:
    """RMS change of the network output after one SGD step on L = ||x_L - target||^2 / (2 batch).

    Every weight moves by ``-lr * dL/dW``; the return value is ``rms(x_L(after) - x_L(before))``. With
    the last layer of each branch at zero only those layers get a gradient, and the change is a sum
    of one term per block: it grows in proportion to L unless the branch inputs shrink like
    L^{-1/2}, which is what Fixup's L^{-1/(2m-2)} achieves (Zhang et al. 2019).
    """
    lr = _checks.finite_float(lr, "lr", positive=True)
    target = _checks.array(target, "target", ndim=2)
    out, cache = residual_forward(net, x)
    if target.shape != out.shape:
        raise ValueError(f"target must have the output's shape {out.shape}, got {target.shape}")
    dw, _ = residual_backward(net, cache, (out - target) / out.shape[0])
    stepped = ResidualMLP([[w - lr * g for w, g in zip(ws, gs)] for ws, gs in zip(net.weights, dw)],
                          net.activation)
    new, _ = residual_forward(stepped, x)
    with np.errstate(all="ignore"):
        return float(np.sqrt(np.mean(np.square(new - out))))
