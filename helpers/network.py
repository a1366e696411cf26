"""A fully connected network in numpy: build, forward with caches, backward, losses.

Layer ``l`` (1-based) computes ``z_l = h_{l-1} @ W_l.T + b_l`` and ``h_l = phi(z_l)`` with
``W_l`` of shape ``(n_l, n_{l-1})`` (the PyTorch convention, see :mod:`helpers.initializers`).
The last layer is linear unless ``activate_output=True`` (useful for studying a deep stack of
identical layers). Everything works on whole batches with matrix products, in float32 or float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import _checks
from .activations import Activation, get_activation
from .initializers import Initializer, get_initializer, orthogonal
from .layers import QUIET as _QUIET
from .layers import Act, Dense, ParamView, Sequential, Workspace, check_workspace, stack


class MLP(Sequential):
    """A fully connected network: ``Dense -> Act -> ... -> Dense`` (``-> Act`` if ``activate_output``).

    One composition of the layers in :mod:`helpers.layers`, built from per-layer ``weights`` and
    ``biases`` (shared, not copied: training updates them in place). Weights of shape
    ``(E, n_out, n_in)`` make an *ensemble* of ``E`` networks run at once (see :func:`stack_mlps`).
    """

    def __init__(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activation: Activation,
                 activate_output: bool = False) -> None:
        if len(weights) == 0 or len(weights) != len(biases):
            raise ValueError(f"weights and biases must be two non-empty lists of one length, got "
                             f"{len(weights)} and {len(biases)}")
        self.activate_output = bool(activate_output)
        self._activation = get_activation(activation)
        self.dense = [Dense(w, b) for w, b in zip(weights, biases)]
        last = len(self.dense) - 1
        self.acts = [Act(self._activation) if i < last or self.activate_output else None
                     for i in range(len(self.dense))]
        super().__init__([layer for pair in zip(self.dense, self.acts) for layer in pair if layer is not None])

    @property
    def activation(self) -> Activation:
        return self._activation

    @property
    def weights(self) -> ParamView:
        """The per-layer weight arrays; in-place updates and ``weights[i] = W`` change the network."""
        return ParamView(self.dense, "weight")

    @property
    def biases(self) -> ParamView:
        return ParamView(self.dense, "bias")

    @property
    def ensemble_size(self) -> int | None:
        """``E`` for an ensemble of stacked networks, None for a single network."""
        w = self.dense[0].weight
        return w.shape[0] if w.ndim == 3 else None

    @property
    def sizes(self) -> list[int]:
        """Layer widths from input to output, e.g. ``[2, 64, 64, 3]``."""
        return [self.weights[0].shape[-1]] + [w.shape[-2] for w in self.weights]

    @property
    def depth(self) -> int:
        """Number of weight layers."""
        return len(self.dense)

    @property
    def dtype(self) -> np.dtype:
        return self.weights[0].dtype

    def copy(self) -> "MLP":
        """An independent copy (training mutates parameters in place)."""
        return MLP([w.copy() for w in self.weights], [b.copy() for b in self.biases], self.activation,
                   self.activate_output)

    def member(self, k: int) -> "MLP":
        """Member ``k`` of an ensemble, as an independent single network."""
        size = self.ensemble_size
        if size is None:
            raise ValueError("member() needs an ensemble (an MLP made by stack_mlps)")
        k = _checks.positive_int(k, "k", allow_zero=True)
        if k >= size:
            raise ValueError(f"k must be in [0, {size - 1}], got {k}")
        return MLP([w[k].copy() for w in self.weights], [b[k].copy() for b in self.biases], self.activation,
                   self.activate_output)


def stack_mlps(nets: Sequence[MLP]) -> MLP:
    """One ensemble MLP holding ``nets`` (one architecture) on a leading axis: many seeds at once.

    Each layer of the result is a single batched matrix product over all members, which makes a
    many-seed experiment about as fast as one run of the whole batch. The weights are copied.
    """
    if isinstance(nets, MLP) or not isinstance(nets, Sequence) or not nets:
        raise TypeError(f"nets must be a non-empty sequence of MLPs, got {type(nets).__name__}")
    first = nets[0]
    for i, net in enumerate(nets):
        if not isinstance(net, MLP) or net.ensemble_size is not None:
            raise TypeError(f"nets[{i}] must be a single MLP (see build_mlp), got {type(net).__name__}")
        if net.sizes != first.sizes:
            raise ValueError(f"nets must share one architecture; nets[{i}] has sizes {net.sizes}, "
                             f"nets[0] has {first.sizes}")
        if (net.activation.name, net.activation.slope, net.activate_output, net.dtype) != (
                first.activation.name, first.activation.slope, first.activate_output, first.dtype):
            raise ValueError(f"nets must share one activation and dtype; nets[{i}] differs from nets[0]")
    weights = [stack([n.weights[i] for n in nets]) for i in range(first.depth)]
    biases = [stack([n.biases[i] for n in nets]) for i in range(first.depth)]
    return MLP(weights, biases, first.activation, first.activate_output)


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


RANDOM_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def random_dtype(dtype: object) -> np.dtype:
    """``dtype`` as float16, float32 or float64 (half precision included: the book shows where it fails)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in RANDOM_DTYPES:
        raise ValueError(f"dtype must be float16, float32 or float64, got {dtype!r}")
    return dt


def random_network(sizes: Sequence[int], rng: np.random.Generator, *, activation: str | Activation,
                   sigma_w2: float = 1.0, sigma_b2: float | None = None, mode: str = "fan_in",
                   weights: str = "gaussian", dtype=np.float64) -> MLP:
    """A random network as the theory assumes it: ``Var[W_l] = sigma_w2 / fan``, ``b_l ~ N(0, sigma_b2)``.

    Every layer, the last included, computes ``phi(W h + b)`` (``activate_output=True``), so that each
    layer is alike. ``fan`` is ``fan_in = n_{l-1}`` (``mode="fan_in"``, LeCun et al. 1998; He et al.
    2015; then ``sigma_w2 = fan_in Var[W]`` is exactly the argument) or ``fan_out = n_l``
    (``mode="fan_out"``, the backward-preserving choice of He et al. 2015). ``weights="orthogonal"``
    draws a Haar-random (semi-)orthogonal matrix times ``sqrt(sigma_w2)`` instead (Saxe et al. 2014),
    the same ``sigma_w2`` for square layers. With a number ``sigma_b2`` the biases are random, not a
    constant (Poole et al. 2016), and drawn even when ``sigma_b2 = 0`` (as zeros), so one seed gives
    the same weights for every ``sigma_b2`` of a sweep over the phase diagram; ``sigma_b2=None`` (the
    default) means no bias is drawn at all (zero biases). Draws are made in float64, layer by layer
    from ``rng``, and then cast, so one seed gives the same network in float16, float32 and float64.
    """
    sizes = _check_sizes(sizes)
    rng = _checks.generator(rng)
    act = get_activation(activation)
    sigma_w2 = _checks.finite_float(sigma_w2, "sigma_w2", positive=True)
    if sigma_b2 is not None:
        sigma_b2 = _checks.finite_float(sigma_b2, "sigma_b2", non_negative=True)
    _checks.choice(mode, "mode", ("fan_in", "fan_out"))
    _checks.choice(weights, "weights", ("gaussian", "orthogonal"))
    if weights == "orthogonal" and mode != "fan_in":
        raise ValueError("mode must be 'fan_in' for weights='orthogonal' (its scale is sqrt(sigma_w2), with no fan)")
    dt = random_dtype(dtype)
    ws, bs = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        if weights == "orthogonal":
            w = orthogonal((n_out, n_in), rng, gain=math.sqrt(sigma_w2))
        else:
            w = rng.standard_normal((n_out, n_in)) * math.sqrt(sigma_w2 / (n_in if mode == "fan_in" else n_out))
        ws.append(w.astype(dt))
        b = np.zeros(n_out) if sigma_b2 is None else rng.standard_normal(n_out) * math.sqrt(sigma_b2)
        bs.append(b.astype(dt))
    return MLP(ws, bs, act, activate_output=True)


def _check_input(net: MLP, x: np.ndarray) -> np.ndarray:
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an MLP (see build_mlp), got {type(net).__name__}")
    x = _checks.array(x, "x", ndim=3 if net.ensemble_size else 2)
    if x.shape[-1] != net.sizes[0] or (net.ensemble_size and x.shape[0] != net.ensemble_size):
        raise ValueError(f"x must have {net.sizes[0]} columns (the input width), got shape {x.shape}")
    if x.shape[-2] == 0:
        raise ValueError("x must hold at least one row (example), got an empty batch")
    return x.astype(net.dtype, copy=False)


def forward(net: MLP, x: np.ndarray, *, workspace: Workspace | None = None) -> tuple[np.ndarray, Cache]:
    """Run a batch ``x`` of shape ``(batch, sizes[0])`` through the network; return output and cache.

    ``z = h @ W.T + b`` per layer, then ``h = phi(z)`` (except for a linear output layer). An ensemble
    takes ``x`` of shape ``(E, batch, sizes[0])``. Values that overflow become inf/NaN without a
    warning; see :func:`helpers.training.train`. With a :class:`~helpers.layers.Workspace` the cache lives in its
    buffers (valid until the next pass that uses it).
    """
    h = _check_input(net, x)
    ws = check_workspace(workspace)
    cache = Cache(x=h)
    for dense, act in zip(net.dense, net.acts):
        z = dense.forward(h, ws)
        h = z if act is None else act.forward(z, ws)
        cache.pre.append(z)
        cache.post.append(h)
    return h, cache


def predict(net: MLP, x: np.ndarray) -> np.ndarray:
    """Network output for ``x`` (the last value of :func:`forward`)."""
    return forward(net, x)[0]


def backward(net: MLP, cache: Cache, grad_out: np.ndarray, *, workspace: Workspace | None = None,
             weight_grads: bool = True) -> Grads:
    """Back-propagate ``grad_out`` = dL/d(output) through the network (chain rule, layer by layer).

    With ``delta_l = dL/dz_l``: ``dL/dW_l = delta_l.T @ h_{l-1}``, ``dL/db_l = sum over batch of delta_l``,
    ``dL/dh_{l-1} = delta_l @ W_l`` and ``delta_{l-1} = dL/dh_{l-1} * phi'(z_{l-1})``
    (Rumelhart, Hinton & Williams 1986): each layer's own ``backward`` (:mod:`helpers.layers`), run
    on the values stored in ``cache``. With a :class:`~helpers.layers.Workspace` the results live in its buffers.
    ``weight_grads=False`` back-propagates the signal only (``weights`` and ``biases`` are then None).
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an MLP (see build_mlp), got {type(net).__name__}")
    if not isinstance(cache, Cache):
        raise TypeError(f"cache must be the Cache returned by forward, got {type(cache).__name__}")
    depth = net.depth
    if len(cache.pre) != depth or len(cache.post) != depth:
        raise ValueError(f"cache must come from a forward pass of this {depth}-layer network, "
                         f"got one with {len(cache.pre)} layers")
    grad_out = _checks.array(grad_out, "grad_out", ndim=cache.post[-1].ndim)
    if grad_out.shape != cache.post[-1].shape:
        raise ValueError(f"grad_out must have the output's shape {cache.post[-1].shape}, got {grad_out.shape}")
    ws = check_workspace(workspace)
    d_pre: list[np.ndarray] = [None] * depth  # type: ignore[list-item]
    d_post: list[np.ndarray] = [None] * depth  # type: ignore[list-item]
    dh = grad_out.astype(net.dtype, copy=False)
    for i in range(depth - 1, -1, -1):
        dense, act = net.dense[i], net.acts[i]
        d_post[i] = dh
        if act is not None:
            act.z, act.h = cache.pre[i], cache.post[i]
            dh = act.backward(dh, ws)
        d_pre[i] = dh
        dense.x = cache.post[i - 1] if i > 0 else cache.x
        dh = dense.backward(dh, ws, need_dx=i > 0, need_grads=weight_grads)
    if not weight_grads:
        return Grads(None, None, d_pre, d_post)  # type: ignore[arg-type]
    return Grads([d.grads["weight"] for d in net.dense], [d.grads["bias"] for d in net.dense], d_pre, d_post)


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


def ensemble_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`softmax_cross_entropy` for every member of an ensemble at once.

    ``logits`` has shape ``(E, B, C)`` and ``labels`` (integers) shape ``(E, B)``; returns the ``E``
    mean losses and dL/dlogits with ``logits``' shape (each member's loss averaged over its batch).
    """
    logits = _checks.array(logits, "logits", ndim=3)
    labels = _checks.array(labels, "labels", ndim=2)
    if labels.shape != logits.shape[:2]:
        raise ValueError(f"labels must have shape {logits.shape[:2]} (one per row of each member), got {labels.shape}")
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= logits.shape[2]:
        raise ValueError(f"labels must be integers in [0, {logits.shape[2] - 1}] (one class index per row)")
    with np.errstate(**_QUIET):
        shifted = logits - logits.max(axis=2, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=2, keepdims=True)
        picked = np.take_along_axis(shifted, labels[:, :, None], axis=2)[:, :, 0]
        loss = np.mean(np.log(total[:, :, 0]) - picked, axis=1)
        grad = e / total
        np.put_along_axis(grad, labels[:, :, None], np.take_along_axis(grad, labels[:, :, None], axis=2) - 1.0, axis=2)
        grad /= logits.shape[1]
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
