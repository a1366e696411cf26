"""Batch and layer normalization in numpy, and how much they take the initialization scale out of play.

Both standardize a pre-activation ``z`` and then apply a learned scale and shift:

    norm(z) = gamma * (z - mean) / sqrt(var + eps) + beta

* batch normalization (Ioffe & Szegedy 2015) takes ``mean`` and ``var`` per unit over the examples
  of the batch (axis 0), as in training mode;
* layer normalization (Ba et al. 2016) takes them per example over the units of the layer (axis 1).

A network here is a composition of :mod:`helpers.layers` with a normalization after every hidden linear
layer: ``z = h W^T + b``, ``h' = phi(norm(z))``; the output layer is left linear and unnormalized.
Since ``norm(c z) = norm(z)`` for any c > 0 (up to ``eps``), multiplying a hidden layer's weights by
c changes nothing in the forward pass. The gradient with respect to those weights shrinks by 1/c,
so SGD's relative step shrinks by 1/c^2: normalization removes the scale from the forward pass
but not from training (the "effective learning rate" of scale-invariant weights).

The self-normalizing alternative of Klambauer et al. (2017), the map of mean and variance through a
SELU layer, is a prediction and lives in the theory (:func:`helpers.theory.signal.moment_map`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _checks
from .activations import Activation
from .layers import Act, BatchNorm, Dense, LayerNorm, ParamView, Sequential
from .network import MLP, build_mlp, softmax_cross_entropy

NORMS = ("none", "batch", "layer")
_LAYERS = {"batch": BatchNorm, "layer": LayerNorm}


def _normalize(kind: str, z: np.ndarray, gamma, beta, eps: float) -> np.ndarray:
    z = _checks.array(z, "z", ndim=2)
    eps = _checks.finite_float(eps, "eps", positive=True)
    layer = _LAYERS[kind](z.shape[1], eps, dtype=z.dtype if z.dtype.kind == "f" else np.float64)
    for value, name in ((gamma, "gamma"), (beta, "beta")):
        if value is not None:
            value = _checks.array(value, name, ndim=1)
            if value.shape[0] != z.shape[1]:
                raise ValueError(f"{name} must have one entry per unit ({z.shape[1]}), got shape {value.shape}")
            layer.params[name] = value
    if z.shape[layer.axis] < 2:
        raise ValueError(f"z must have at least 2 entries along axis {layer.axis % 2} to normalize over, "
                         f"got shape {z.shape}")
    return layer.forward(z)


def batch_norm(z: np.ndarray, gamma: np.ndarray | None = None, beta: np.ndarray | None = None, *,
               eps: float = 1e-5) -> np.ndarray:
    """Batch normalization in training mode (Ioffe & Szegedy 2015, Algorithm 1).

    For ``z`` of shape ``(batch, units)``: per unit, mu = mean over the batch, s^2 = (biased) variance
    over the batch, output ``gamma * (z - mu) / sqrt(s^2 + eps) + beta``. ``gamma``/``beta`` default to
    1 and 0 (the usual initialization). One forward of :class:`helpers.layers.BatchNorm`.
    """
    return _normalize("batch", z, gamma, beta, eps)


def layer_norm(z: np.ndarray, gamma: np.ndarray | None = None, beta: np.ndarray | None = None, *,
               eps: float = 1e-5) -> np.ndarray:
    """Layer normalization (Ba et al. 2016): standardize each example over its units, then scale and shift.

    For ``z`` of shape ``(batch, units)``: per row, mu = mean over units, s^2 = variance over units,
    output ``gamma * (z - mu) / sqrt(s^2 + eps) + beta`` (gamma, beta per unit). One forward of
    :class:`helpers.layers.LayerNorm`.
    """
    return _normalize("layer", z, gamma, beta, eps)


class NormMLP(Sequential):
    """An MLP with ``norm`` after each hidden linear layer: ``Dense -> Norm -> Act -> ... -> Dense``.

    A composition of :mod:`helpers.layers`; ``weights``/``biases`` are the dense layers' arrays and
    ``gammas``/``betas`` the normalization layers' (empty lists when ``norm="none"``).
    """

    def __init__(self, net: MLP, norm: str, eps: float = 1e-5) -> None:
        self.norm, self.eps, self.activation = norm, eps, net.activation
        self.dense = [Dense(w, b) for w, b in zip(net.weights, net.biases)]
        self.norms = [_LAYERS[norm](w.shape[0], eps, dtype=w.dtype) for w in net.weights[:-1]] if norm != "none" else []
        layers = []
        for i, dense in enumerate(self.dense[:-1]):
            layers += [dense] + ([self.norms[i]] if self.norms else []) + [Act(net.activation)]
        super().__init__(layers + [self.dense[-1]])

    @property
    def weights(self) -> ParamView:
        return ParamView(self.dense, "weight")

    @property
    def biases(self) -> ParamView:
        return ParamView(self.dense, "bias")

    @property
    def gammas(self) -> ParamView:
        return ParamView(self.norms, "gamma")

    @property
    def betas(self) -> ParamView:
        return ParamView(self.norms, "beta")


@dataclass
class NormCache:
    """Forward record per weight layer: ``pre[l]`` is its linear output z, ``post[l]`` the layer's output."""

    pre: list[np.ndarray]
    post: list[np.ndarray]


def build_norm_mlp(sizes: Sequence[int], rng: np.random.Generator, *, norm: str = "batch",
                   activation: str | Activation = "relu", init: str = "kaiming_normal",
                   init_kwargs: dict | None = None, init_scale: float = 1.0, eps: float = 1e-5) -> NormMLP:
    """Build an MLP (``helpers.network.build_mlp``) and multiply its hidden weight matrices by ``init_scale``.

    ``norm`` is ``"none"``, ``"batch"`` or ``"layer"``; gammas start at 1 and betas at 0. Biases are zero.
    The output layer keeps the plain draw: ``init_scale`` acts on the stack that normalization guards.
    The draw does not depend on ``norm`` or ``init_scale``, so one seed gives the same directions.
    """
    _checks.choice(norm, "norm", NORMS)
    init_scale = _checks.finite_float(init_scale, "init_scale", positive=True)
    eps = _checks.finite_float(eps, "eps", positive=True)
    net = build_mlp(sizes, rng, activation=activation, init=init, init_kwargs=init_kwargs)
    for w in net.weights[:-1]:
        w *= init_scale
    return NormMLP(net, norm, eps)


def norm_forward(model: NormMLP, x: np.ndarray) -> tuple[np.ndarray, NormCache]:
    """Forward pass: ``z = h W^T + b``; hidden layers ``h' = phi(norm(z))``; output linear."""
    if not isinstance(model, NormMLP):
        raise TypeError(f"model must be a NormMLP, got {type(model).__name__}")
    x = _checks.array(x, "x", ndim=2)
    if x.shape[1] != model.weights[0].shape[1]:
        raise ValueError(f"x must have {model.weights[0].shape[1]} columns (the input width), got shape {x.shape}")
    h = x.astype(model.weights[0].dtype, copy=False)
    cache = NormCache([], [])
    for layer in model.layers:
        h = layer.forward(h)
        if isinstance(layer, Dense):
            cache.pre.append(h)
        if isinstance(layer, Act) or layer is model.dense[-1]:
            cache.post.append(h)
    return h, cache


@dataclass
class NormGrads:
    """Gradients of the loss for every parameter of a :class:`NormMLP`."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    gammas: list[np.ndarray]
    betas: list[np.ndarray]


def norm_backward(model: NormMLP, cache: NormCache, grad_out: np.ndarray) -> NormGrads:
    """Back-propagate ``grad_out`` = dL/d(output) through the last :func:`norm_forward` of ``model``.

    Each layer's own backward (:mod:`helpers.layers`); through a normalization, with zhat the
    standardized z and g = gamma * dL/dy: dL/dz = (g - mean(g) - zhat * mean(g * zhat)) / sqrt(var + eps),
    means along the normalized axis (the batch for batch norm, the units for layer norm).
    """
    grad_out = _checks.array(grad_out, "grad_out", ndim=2)
    if grad_out.shape != cache.post[-1].shape:
        raise ValueError(f"grad_out must have the output's shape {cache.post[-1].shape}, got {grad_out.shape}")
    model.backward(grad_out.astype(model.weights[0].dtype, copy=False))
    return NormGrads([d.grads["weight"] for d in model.dense], [d.grads["bias"] for d in model.dense],
                     [n.grads["gamma"] for n in model.norms], [n.grads["beta"] for n in model.norms])


def hidden_scales(model: NormMLP, x: np.ndarray) -> np.ndarray:
    """Root mean square of every hidden layer's output ``h^{(l)}`` and of the network output, on ``x``."""
    _, cache = norm_forward(model, x)
    with np.errstate(all="ignore"):
        return np.array([float(np.sqrt(np.mean(np.square(h)))) for h in cache.post])


def train_norm_mlp(model: NormMLP, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, *, steps: int = 200,
                   lr: float = 0.1, batch_size: int = 64) -> np.ndarray:
    """Train ``model`` in place with plain minibatch SGD on softmax cross-entropy; return the loss per step.

    Every parameter (weights, biases, gammas, betas) moves by ``-lr * gradient``. A non-finite loss
    stops the run; the remaining entries of the returned array are NaN (a divergence, not an error).
    """
    rng = _checks.generator(rng)
    steps = _checks.positive_int(steps, "steps")
    lr = _checks.finite_float(lr, "lr", positive=True)
    x = _checks.array(x, "x", ndim=2)
    y = _checks.array(y, "y", ndim=1)
    if len(y) != len(x):
        raise ValueError(f"y must have one entry per row of x ({len(x)}), got {len(y)}")
    batch_size = min(_checks.positive_int(batch_size, "batch_size"), len(x))
    if model.norm == "batch" and batch_size < 2:
        raise ValueError("batch_size must be at least 2 for batch normalization")
    params = model.weights + model.biases + model.gammas + model.betas
    losses = np.full(steps, np.nan)
    with np.errstate(all="ignore"):
        for step in range(steps):
            idx = rng.choice(len(x), size=batch_size, replace=False)
            out, cache = norm_forward(model, x[idx])
            if not np.all(np.isfinite(out)):
                break
            value, grad = softmax_cross_entropy(out, y[idx])
            if not math.isfinite(value):
                break
            losses[step] = value
            g = norm_backward(model, cache, grad)
            for p, dp in zip(params, g.weights + g.biases + g.gammas + g.betas):
                p -= lr * dp
    return losses
