"""Layer-sequential unit-variance initialization (LSUV), Mishkin & Matas (2016), "All you need is a good init".

The algorithm, for a network whose weights were first drawn orthonormal (Saxe et al. 2014):

    for each layer l = 1..L, in order:
        repeat (at most ``max_iter`` times):
            run the calibration batch forward to layer l and measure v = Var[B_l]
            stop if |v - 1| < tol
            W_l <- W_l / sqrt(v)

``B_l`` is the layer's output. Mishkin & Matas normalize the output of each convolution or
fully connected layer, so the default statistic here is the pre-activation ``z^{(l)}``;
``statistic="post"`` uses ``h^{(l)} = phi(z^{(l)})`` instead. Because earlier layers are already
fixed when layer l is treated, every layer is rescaled with the statistics it will really see.

With zero biases one division makes Var[z^{(l)}] exactly 1 (z is linear in W); biases or the
post-activation statistic make the map nonlinear, and the loop then needs more than one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _checks
from .activations import Activation
from .network import MLP, build_mlp

STATISTICS = ("pre", "post")


@dataclass
class LSUVResult:
    """What :func:`lsuv` did, layer by layer (arrays of length ``depth``, 0-based over layers).

    ``before[l]`` is the statistic of layer ``l+1`` on the calibration batch after all earlier
    layers were rescaled but before this one was; ``after[l]`` is the value it was left with;
    ``iterations[l]`` counts the divisions made; ``history[l]`` lists every measured variance;
    ``converged[l]`` says whether ``|after - 1| < tol``.
    """

    net: MLP
    before: np.ndarray
    after: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    history: list[np.ndarray]


def _layer_output(net: MLP, i: int, h_prev: np.ndarray, statistic: str) -> tuple[np.ndarray, np.ndarray]:
    z = h_prev @ net.weights[i].T + net.biases[i]
    activated = i < net.depth - 1 or net.activate_output
    h = net.activation.f(z) if activated else z
    return z, (z if statistic == "pre" else h)


def lsuv(net: MLP, x: np.ndarray, *, tol: float = 0.1, max_iter: int = 10, statistic: str = "pre",
         include_output: bool = True) -> LSUVResult:
    """Rescale each layer of (a copy of) ``net`` so that its output has unit variance on ``x``.

    Mishkin & Matas (2016), Algorithm 1: layer by layer, divide ``W_l`` by the standard deviation of
    its output on the calibration batch ``x`` until ``|Var - 1| < tol`` or ``max_iter`` divisions were
    made. The variance is over all units and examples of the batch (``np.var`` of the whole array).
    ``include_output=False`` leaves the last (output) layer as it is. ``net`` is not modified.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a helpers.network.MLP, got {type(net).__name__}")
    x = _checks.array(x, "x", ndim=2)
    if x.shape[1] != net.sizes[0]:
        raise ValueError(f"x must have {net.sizes[0]} columns (the input width), got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"x must hold at least 2 examples to measure a variance, got {x.shape[0]}")
    tol = _checks.finite_float(tol, "tol", positive=True)
    max_iter = _checks.positive_int(max_iter, "max_iter")
    _checks.choice(statistic, "statistic", STATISTICS)
    out = net.copy()
    depth = out.depth
    layers = depth if include_output else depth - 1
    before, after = np.full(depth, np.nan), np.full(depth, np.nan)
    iterations = np.zeros(depth, dtype=int)
    converged = np.zeros(depth, dtype=bool)
    history: list[np.ndarray] = []
    h = x.astype(out.dtype, copy=False)
    with np.errstate(all="ignore"):
        for i in range(depth):
            z, b = _layer_output(out, i, h, statistic)
            var = float(np.var(b))
            trace = [var]
            before[i] = var
            if i < layers:
                while abs(var - 1.0) >= tol and iterations[i] < max_iter:
                    if not np.isfinite(var) or var <= 0.0:
                        break  # a dead or overflowing layer cannot be rescaled to unit variance
                    out.weights[i] /= np.sqrt(var)
                    iterations[i] += 1
                    z, b = _layer_output(out, i, h, statistic)
                    var = float(np.var(b))
                    trace.append(var)
                converged[i] = abs(var - 1.0) < tol
            after[i] = var
            history.append(np.array(trace))
            activated = i < depth - 1 or out.activate_output
            h = out.activation.f(z) if activated else z
    return LSUVResult(out, before, after, iterations, converged, history)


def lsuv_mlp(sizes: Sequence[int], x: np.ndarray, rng: np.random.Generator, *,
             activation: str | Activation = "relu", bias: float = 0.0, **kwargs) -> LSUVResult:
    """Build an MLP with orthonormal weights (gain 1) and apply :func:`lsuv` on the batch ``x``.

    This is the whole method of Mishkin & Matas (2016): orthonormal pre-initialization
    (Saxe et al. 2014) followed by the layer-sequential rescaling. ``kwargs`` go to :func:`lsuv`.
    """
    net = build_mlp(sizes, rng, activation=activation, init="orthogonal", bias=bias)
    return lsuv(net, x, **kwargs)


def layer_variances(net: MLP, x: np.ndarray, statistic: str = "pre") -> np.ndarray:
    """Variance of every layer's pre-activation (``"pre"``) or output (``"post"``) on the batch ``x``."""
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a helpers.network.MLP, got {type(net).__name__}")
    x = _checks.array(x, "x", ndim=2)
    if x.shape[1] != net.sizes[0]:
        raise ValueError(f"x must have {net.sizes[0]} columns (the input width), got shape {x.shape}")
    _checks.choice(statistic, "statistic", STATISTICS)
    h = x.astype(net.dtype, copy=False)
    out = np.empty(net.depth)
    with np.errstate(all="ignore"):
        for i in range(net.depth):
            z, b = _layer_output(net, i, h, statistic)
            out[i] = float(np.var(b))
            activated = i < net.depth - 1 or net.activate_output
            h = net.activation.f(z) if activated else z
    return out
