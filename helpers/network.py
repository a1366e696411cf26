"""A fully connected network in numpy: build, forward with caches, backward, losses.

Layer ``l`` (1-based) computes ``z_l = h_{l-1} @ W_l.T + b_l`` and ``h_l = phi(z_l)`` with
``W_l`` of shape ``(n_l, n_{l-1})`` (the PyTorch convention, see :mod:`helpers.initializers`).
The last layer is linear unless ``activate_output=True`` (useful for studying a deep stack of
identical layers). Everything works on whole batches with matrix products, in float32 or float64.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import _checks
from .activations import Activation, get_activation
from .initializers import Initializer, get_initializer


@dataclass
class MLP:
    """Parameters and activation of a fully connected network."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activation: Activation
    activate_output: bool = False

    @property
    def sizes(self) -> list[int]:
        """Layer widths from input to output, e.g. ``[2, 64, 64, 3]``."""
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]

    @property
    def depth(self) -> int:
        """Number of weight layers."""
        return len(self.weights)

    @property
    def dtype(self) -> np.dtype:
        return self.weights[0].dtype

    def copy(self) -> "MLP":
        """An independent copy (training mutates parameters in place)."""
        return copy.deepcopy(self)


@dataclass
class Cache:
    """What the forward pass keeps for the backward pass.

    ``pre[l]`` is ``z_{l+1}`` and ``post[l]`` is ``h_{l+1}`` (0-based lists over layers); ``x`` is the input.
    """

    x: np.ndarray
    pre: list[np.ndarray] = field(default_factory=list)
    post: list[np.ndarray] = field(default_factory=list)


@dataclass
class Grads:
    """Gradients of the loss: weights, biases, and the back-propagated signal per layer.

    ``d_pre[l]`` is dL/dz and ``d_post[l]`` is dL/dh for layer ``l`` (0-based), the "back-propagated
    gradients" whose per-layer spread Glorot & Bengio (2010) study.
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    d_pre: list[np.ndarray]
    d_post: list[np.ndarray]


def _check_sizes(sizes: Sequence[int]) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of layer widths such as [2, 64, 3], got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {list(sizes)}")
    return [_checks.positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]


def build_mlp(sizes: Sequence[int], rng: np.random.Generator, *, activation: str | Activation = "relu",
              init: str | Initializer = "kaiming_normal", init_kwargs: dict | None = None,
              output_init: str | Initializer | None = None, bias: float = 0.0, slope: float = 0.01,
              activate_output: bool = False, dtype=np.float64) -> MLP:
    """Build a network with widths ``sizes`` and weights from ``init``.

    ``init`` is a name from :data:`helpers.initializers.INITIALIZERS` or a callable
    ``(shape, rng) -> array``; ``init_kwargs`` are passed to it (for example ``{"gain": 5/3}``).
    ``output_init`` optionally overrides the last layer (e.g. ``"zeros"``). Every bias starts at
    ``bias``. Layers are drawn in order from the one generator, so a seed fixes the whole network.
    """
    sizes = _check_sizes(sizes)
    rng = _checks.generator(rng)
    dtype = _checks.float_dtype(dtype)
    bias = _checks.finite_float(bias, "bias")
    act = get_activation(activation, slope)
    draw = get_initializer(init, **(init_kwargs or {}))
    last = draw if output_init is None else get_initializer(output_init)
    weights, biases = [], []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        make = last if i == len(sizes) - 2 else draw
        w = np.asarray(make((n_out, n_in), rng), dtype=dtype)
        if w.shape != (n_out, n_in):
            raise ValueError(f"init returned shape {w.shape} for layer {i + 1}, expected {(n_out, n_in)}")
        weights.append(w)
        biases.append(np.full(n_out, bias, dtype=dtype))
    return MLP(weights, biases, act, activate_output)


def _check_input(net: MLP, x: np.ndarray) -> np.ndarray:
    x = _checks.array(x, "x", ndim=2)
    if x.shape[1] != net.sizes[0]:
        raise ValueError(f"x must have {net.sizes[0]} columns (the input width), got shape {x.shape}")
    return x.astype(net.dtype, copy=False)


def forward(net: MLP, x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Run a batch ``x`` of shape ``(batch, sizes[0])`` through the network; return output and cache."""
    h = _check_input(net, x)
    cache = Cache(x=h)
    last = net.depth - 1
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        z = h @ w.T
        z += b
        h = net.activation.f(z) if (i < last or net.activate_output) else z
        cache.pre.append(z)
        cache.post.append(h)
    return h, cache


def predict(net: MLP, x: np.ndarray) -> np.ndarray:
    """Network output for ``x`` without keeping a cache."""
    h = _check_input(net, x)
    last = net.depth - 1
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        h = h @ w.T + b
        if i < last or net.activate_output:
            h = net.activation.f(h)
    return h


def backward(net: MLP, cache: Cache, grad_out: np.ndarray) -> Grads:
    """Back-propagate ``grad_out`` = dL/d(output) through the network (chain rule, layer by layer).

    With ``delta_l = dL/dz_l``: ``dL/dW_l = delta_l.T @ h_{l-1}``, ``dL/db_l = sum over batch of delta_l``,
    ``dL/dh_{l-1} = delta_l @ W_l`` and ``delta_{l-1} = dL/dh_{l-1} * phi'(z_{l-1})``.
    """
    grad_out = _checks.array(grad_out, "grad_out", ndim=2)
    if grad_out.shape != cache.post[-1].shape:
        raise ValueError(f"grad_out must have the output's shape {cache.post[-1].shape}, got {grad_out.shape}")
    depth = net.depth
    gw: list[np.ndarray] = [None] * depth  # type: ignore[list-item]
    gb: list[np.ndarray] = [None] * depth  # type: ignore[list-item]
    d_pre: list[np.ndarray] = [None] * depth  # type: ignore[list-item]
    d_post: list[np.ndarray] = [None] * depth  # type: ignore[list-item]
    dh = grad_out.astype(net.dtype, copy=False)
    for i in range(depth - 1, -1, -1):
        d_post[i] = dh
        activated = i < depth - 1 or net.activate_output
        dz = dh * net.activation.df(cache.pre[i]) if activated else dh
        d_pre[i] = dz
        h_prev = cache.post[i - 1] if i > 0 else cache.x
        gw[i] = dz.T @ h_prev
        gb[i] = dz.sum(axis=0)
        if i > 0:
            dh = dz @ net.weights[i]
    return Grads(gw, gb, d_pre, d_post)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so that it never overflows."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of integer ``labels`` under softmax(``logits``), and its gradient.

    L = -(1/B) sum_i log softmax(z_i)[y_i]; dL/dz = (softmax(z) - onehot(y)) / B.
    """
    logits = _checks.array(logits, "logits", ndim=2)
    labels = _checks.array(labels, "labels", ndim=1)
    if labels.shape[0] != logits.shape[0]:
        raise ValueError(f"labels must have one entry per row of logits ({logits.shape[0]}), got {labels.shape[0]}")
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= logits.shape[1]:
        raise ValueError(f"labels must be integers in [0, {logits.shape[1] - 1}]")
    batch = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1))
    rows = np.arange(batch)
    loss = float(np.mean(log_z - shifted[rows, labels]))
    grad = softmax(logits)
    grad[rows, labels] -= 1.0
    return loss, grad / batch


def mean_squared_error(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """L = (1/2B) sum_i ||pred_i - target_i||^2 and dL/dpred = (pred - target) / B."""
    pred = _checks.array(pred, "pred", ndim=2)
    target = _checks.array(target, "target")
    if target.ndim == 1:
        target = target[:, None]
    if target.shape != pred.shape:
        raise ValueError(f"target must have the prediction's shape {pred.shape}, got {target.shape}")
    diff = pred - target
    batch = pred.shape[0]
    return float(0.5 * np.sum(diff * diff) / batch), diff / batch


LOSSES = {"cross_entropy": softmax_cross_entropy, "mse": mean_squared_error}


def loss_and_grads(net: MLP, x: np.ndarray, y: np.ndarray, loss: str = "cross_entropy"):
    """Forward, loss and backward in one call: returns ``(loss_value, grads, cache)``."""
    loss_fn = LOSSES[_checks.choice(loss, "loss", LOSSES)]
    out, cache = forward(net, x)
    value, grad_out = loss_fn(out, y)
    return value, backward(net, cache, grad_out), cache


def accuracy(net: MLP, x: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose arg-max output equals the integer label."""
    return float(np.mean(np.argmax(predict(net, x), axis=1) == np.asarray(labels)))
