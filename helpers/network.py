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


class Workspace:
    """Reusable output buffers for :func:`forward` and :func:`backward` (an opt-in speed-up).

    A pass that is given a workspace writes its caches and gradients into buffers kept here
    instead of fresh arrays, so a training loop stops paying for memory that the allocator hands
    back to the operating system after every step and faults in again on the next (about a third
    of the time of a pass at width 256). The price: the arrays a pass returns are overwritten by
    the next pass with the same workspace, so use one only where each result is consumed before
    the next call (as :func:`helpers.training.train` does). The values are bit-for-bit the same.
    """

    def __init__(self) -> None:
        self._buffers: dict[tuple, np.ndarray] = {}

    def get(self, key: tuple, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """The buffer stored under ``key``, (re)allocated if its shape or dtype changed."""
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[key] = np.empty(shape, dtype=dtype)
        return buf

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for b in self._buffers.values())


def _check_workspace(workspace: object) -> Workspace | None:
    if workspace is not None and not isinstance(workspace, Workspace):
        raise TypeError(f"workspace must be a Workspace or None, got {type(workspace).__name__}")
    return workspace


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

    ``init`` is a name from ``helpers.initializers.INITIALIZERS`` or a callable
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
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an MLP (see build_mlp), got {type(net).__name__}")
    x = _checks.array(x, "x", ndim=2)
    if x.shape[1] != net.sizes[0]:
        raise ValueError(f"x must have {net.sizes[0]} columns (the input width), got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("x must hold at least one row (example), got an empty batch")
    return x.astype(net.dtype, copy=False)


# Overflow to inf/NaN in a badly scaled deep network is part of what the book shows; the numbers
# carry it (and training reports it), so numpy's floating-point warnings are silenced here.
_QUIET = dict(over="ignore", invalid="ignore", divide="ignore", under="ignore")


def forward(net: MLP, x: np.ndarray, *, workspace: Workspace | None = None) -> tuple[np.ndarray, Cache]:
    """Run a batch ``x`` of shape ``(batch, sizes[0])`` through the network; return output and cache.

    ``z = h @ W.T + b`` per layer, then ``h = phi(z)`` (except for a linear output layer). Values
    that overflow become inf/NaN without a warning; see :func:`helpers.training.train`. With a
    :class:`Workspace` the cache lives in its buffers (valid until the next pass that uses it).
    """
    h = _check_input(net, x)
    ws = _check_workspace(workspace)
    cache = Cache(x=h)
    last = net.depth - 1
    act = net.activation
    batch, dtype = h.shape[0], net.dtype
    with np.errstate(**_QUIET):
        for i, (w, b) in enumerate(zip(net.weights, net.biases)):
            shape = (batch, w.shape[0])
            z = h @ w.T if ws is None else np.matmul(h, w.T, out=ws.get(("z", i), shape, dtype))
            z += b
            if i < last or net.activate_output:
                h = act.apply(z, None if ws is None else ws.get(("h", i), shape, dtype))
            else:
                h = z
            cache.pre.append(z)
            cache.post.append(h)
    return h, cache


def predict(net: MLP, x: np.ndarray) -> np.ndarray:
    """Network output for ``x`` without keeping a cache."""
    h = _check_input(net, x)
    last = net.depth - 1
    with np.errstate(**_QUIET):
        for i, (w, b) in enumerate(zip(net.weights, net.biases)):
            h = h @ w.T
            h += b
            if i < last or net.activate_output:
                h = net.activation.f(h)
    return h


def backward(net: MLP, cache: Cache, grad_out: np.ndarray, *, workspace: Workspace | None = None) -> Grads:
    """Back-propagate ``grad_out`` = dL/d(output) through the network (chain rule, layer by layer).

    With ``delta_l = dL/dz_l``: ``dL/dW_l = delta_l.T @ h_{l-1}``, ``dL/db_l = sum over batch of delta_l``,
    ``dL/dh_{l-1} = delta_l @ W_l`` and ``delta_{l-1} = dL/dh_{l-1} * phi'(z_{l-1})``
    (Rumelhart, Hinton & Williams 1986). All products are whole-batch matrix products in the
    network's dtype; with a :class:`Workspace` the results live in its buffers.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an MLP (see build_mlp), got {type(net).__name__}")
    if not isinstance(cache, Cache):
        raise TypeError(f"cache must be the Cache returned by forward, got {type(cache).__name__}")
    depth = net.depth
    if len(cache.pre) != depth or len(cache.post) != depth:
        raise ValueError(f"cache must come from a forward pass of this {depth}-layer network, "
                         f"got one with {len(cache.pre)} layers")
    grad_out = _checks.array(grad_out, "grad_out", ndim=2)
    if grad_out.shape != cache.post[-1].shape:
        raise ValueError(f"grad_out must have the output's shape {cache.post[-1].shape}, got {grad_out.shape}")
    gw: list[np.ndarray] = [None] * depth  # type: ignore[list-item]
    gb: list[np.ndarray] = [None] * depth  # type: ignore[list-item]
    d_pre: list[np.ndarray] = [None] * depth  # type: ignore[list-item]
    d_post: list[np.ndarray] = [None] * depth  # type: ignore[list-item]
    ws = _check_workspace(workspace)
    act = net.activation
    dtype = net.dtype
    dh = grad_out.astype(dtype, copy=False)
    with np.errstate(**_QUIET):
        for i in range(depth - 1, -1, -1):
            w = net.weights[i]
            d_post[i] = dh
            activated = i < depth - 1 or net.activate_output
            if activated:
                dz = act.grad(cache.pre[i], cache.post[i], dh, None if ws is None else ws.get(("dz", i), dh.shape, dtype))
            else:
                dz = dh
            d_pre[i] = dz
            h_prev = cache.post[i - 1] if i > 0 else cache.x
            if ws is None:
                gw[i] = dz.T @ h_prev
                gb[i] = dz.sum(axis=0)
            else:
                gw[i] = np.matmul(dz.T, h_prev, out=ws.get(("gw", i), w.shape, dtype))
                gb[i] = np.sum(dz, axis=0, out=ws.get(("gb", i), (w.shape[0],), dtype))
            if i > 0:
                dh = dz @ w if ws is None else np.matmul(dz, w, out=ws.get(("dh", i), (dz.shape[0], w.shape[1]), dtype))
    return Grads(gw, gb, d_pre, d_post)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so that it never overflows."""
    logits = _checks.array(logits, "logits", ndim=2)
    with np.errstate(**_QUIET):
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        e /= e.sum(axis=1, keepdims=True)
    return e


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of integer ``labels`` under softmax(``logits``), and its gradient.

    L = -(1/B) sum_i log softmax(z_i)[y_i]; dL/dz = (softmax(z) - onehot(y)) / B. Computed from
    the max-shifted logits (log-sum-exp), so large finite logits never overflow.
    """
    logits = _checks.array(logits, "logits", ndim=2)
    labels = _checks.array(labels, "labels", ndim=1)
    if logits.shape[0] == 0:
        raise ValueError("logits must hold at least one row, got an empty batch")
    if labels.shape[0] != logits.shape[0]:
        raise ValueError(f"labels must have one entry per row of logits ({logits.shape[0]}), got {labels.shape[0]}")
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= logits.shape[1]:
        raise ValueError(f"labels must be integers in [0, {logits.shape[1] - 1}] (one class index per row)")
    batch = logits.shape[0]
    rows = np.arange(batch)
    with np.errstate(**_QUIET):
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1)
        loss = float(np.mean(np.log(total) - shifted[rows, labels]))
        grad = e
        grad /= total[:, None]
        grad[rows, labels] -= 1.0
        grad /= batch
    return loss, grad


def mean_squared_error(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """L = (1/2B) sum_i ||pred_i - target_i||^2 and dL/dpred = (pred - target) / B."""
    pred = _checks.array(pred, "pred", ndim=2)
    target = _checks.array(target, "target")
    if target.ndim == 1:
        target = target[:, None]
    if target.shape != pred.shape:
        raise ValueError(f"target must have the prediction's shape {pred.shape}, got {target.shape}")
    if pred.shape[0] == 0:
        raise ValueError("pred must hold at least one row, got an empty batch")
    batch = pred.shape[0]
    with np.errstate(**_QUIET):
        diff = np.subtract(pred, target, dtype=np.result_type(pred, target, 1.0))
        value = float(0.5 * np.sum(diff * diff) / batch)
        diff /= batch
    return value, diff


LOSSES = {"cross_entropy": softmax_cross_entropy, "mse": mean_squared_error}


def loss_and_grads(net: MLP, x: np.ndarray, y: np.ndarray, loss: str = "cross_entropy", *,
                   workspace: Workspace | None = None):
    """Forward, loss and backward in one call: returns ``(loss_value, grads, cache)``."""
    loss_fn = LOSSES[_checks.choice(loss, "loss", LOSSES)]
    out, cache = forward(net, x, workspace=workspace)
    value, grad_out = loss_fn(out, y)
    return value, backward(net, cache, grad_out, workspace=workspace), cache


def accuracy(net: MLP, x: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose arg-max output equals the integer label."""
    out = predict(net, x)
    labels = _checks.array(labels, "labels", ndim=1)
    if labels.shape[0] != out.shape[0]:
        raise ValueError(f"labels must have one entry per row of x ({out.shape[0]}), got {labels.shape[0]}")
    return float(np.mean(np.argmax(out, axis=1) == labels))
