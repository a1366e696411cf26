"""Tools for the chapter *Breaking symmetry*: measure whether hidden units are copies, and train
networks with the mechanisms that might (or might not) make copies differ.

Two hidden units ``i`` and ``j`` of layer ``l`` are *copies* when their incoming weights (rows ``i``
and ``j`` of ``W_l``), their biases and their outgoing weights (columns ``i`` and ``j`` of
``W_{l+1}``) are equal. Swapping two copies leaves every parameter unchanged, so the loss gradient
is unchanged by the swap too and gradient descent keeps them equal forever (the permutation
symmetry of a fully connected layer; Rumelhart, Hinton & Williams, in the long version of their 1986
back-propagation paper, already note that weights that start out equal never become unequal). The
functions here

* measure it: :func:`unit_spread`, :func:`unit_vectors`, :func:`hidden_asymmetry`,
  :func:`distinct_units`, :func:`weight_ranks`;
* exploit it: :func:`collapse` turns a network whose hidden units are copies into the width-1
  network that computes the same function, and :func:`collapsed_learning_rates` gives the
  per-layer learning rates with which that small network follows exactly the same training path;
* bound it: :func:`stripe_accuracy` and :func:`best_stripe_accuracy` give the best accuracy any
  network of copies can reach on 2-D data (its decision regions are parallel stripes);
* test what breaks it: :func:`sgd` is minibatch training with momentum, L2 weight decay, Adam,
  (inverted) dropout on the hidden units and on the inputs, input noise and per-unit learning
  rates, recording the first layer's incoming weight vectors over time (their trajectories), the
  asymmetry of every hidden layer, the loss and accuracy on the whole training set and snapshots of
  the network; :func:`escape_step` reads plateau lengths off it. It trains the composition of
  layers that :func:`with_dropout` builds: the network's own ``Dense`` and ``Act`` layers with
  :class:`~helpers.layers.Dropout` layers between them.

Everything is plain numpy on whole batches, with the book's shapes (``W_l`` is ``(n_l, n_{l-1})``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np

from . import _checks
from .layers import Dropout, Layer, Sequential
from .network import LOSSES, MLP, predict

OPTIMIZERS = ("sgd", "adam")

ROUNDING_TOL = 1e-12
"""Largest difference between two units that still counts as "copies, up to rounding".

The symmetry argument says that copies stay *exactly* equal in exact arithmetic. In floating point
that also needs every copy to be rounded the same way in each matrix product, which depends on
the linear algebra library: an optimized BLAS may compute the columns of one product in blocks
with different summation orders, so copies can drift apart by a few units in the last place
(about 1e-16 per step for weights of order one). Over the few hundred steps of the chapter such
drifts stay many orders of magnitude below this tolerance, while every mechanism that really
separates the units (and even a deliberate 1e-6 jitter) stays far above it. Checks that copies
are copies compare with this tolerance; checks of exact zeros (a gradient that has to pass
through a zero matrix) need none, because ``0 * x`` is exactly 0 for every finite ``x``."""


# -- measuring symmetry -------------------------------------------------------------------------

def unit_spread(rows: np.ndarray) -> float:
    """Largest difference between two units: ``max_k (max_i A_ik - min_i A_ik)`` for a matrix ``A``.

    ``A`` holds one unit per row (for example a weight matrix ``W_l``, whose row ``i`` is unit
    ``i``'s incoming weight vector). The spread is exactly ``0.0`` if and only if all rows are equal,
    so it tests the exact copies that the permutation-symmetry argument predicts.
    """
    rows = _checks.array(rows, "rows", ndim=2)
    if rows.shape[0] == 0 or rows.shape[1] == 0:
        raise ValueError(f"rows must have at least one row and one column, got shape {rows.shape}")
    return float(np.max(np.ptp(rows, axis=0)))


def _hidden_layer(net: MLP, layer: int) -> int:
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a helpers MLP (from build_mlp), got {type(net).__name__}")
    if net.depth < 2:
        raise ValueError("net must have at least one hidden layer (depth >= 2)")
    layer = _checks.positive_int(layer, "layer")
    if layer > net.depth - 1:
        raise ValueError(f"layer must be a hidden layer, 1..{net.depth - 1}, got {layer}")
    return layer


def unit_vectors(net: MLP, layer: int) -> np.ndarray:
    """Everything that distinguishes the units of hidden ``layer`` (1-based), one unit per row.

    Row ``i`` is ``[W_l[i, :], b_l[i], W_{l+1}[:, i]]``: incoming weights, bias and outgoing weights.
    Units ``i`` and ``j`` are copies (swapping them is a symmetry of the network) exactly when rows
    ``i`` and ``j`` are equal.
    """
    layer = _hidden_layer(net, layer)
    w_in, b, w_out = net.weights[layer - 1], net.biases[layer - 1], net.weights[layer]
    return np.hstack([w_in, b[:, None], w_out.T])


def hidden_asymmetry(net: MLP) -> np.ndarray:
    """:func:`unit_spread` of :func:`unit_vectors` for every hidden layer (an array of length ``L - 1``).

    Zero for a layer means that all its units are exact copies of one another.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a helpers MLP (from build_mlp), got {type(net).__name__}")
    return np.array([unit_spread(unit_vectors(net, l)) for l in range(1, net.depth)])


def distinct_units(net: MLP, layer: int, *, tol: float = 0.0) -> int:
    """How many different units hidden ``layer`` has: units closer than ``tol`` count as one.

    Two units are "the same" when every entry of their :func:`unit_vectors` differs by at most
    ``tol`` (max norm). A unit counts as new when no earlier unit is the same as it, so with
    ``tol = 0`` this is exactly the number of distinct rows. A layer of ``n`` units whose weights
    were drawn at random has ``n`` distinct units; a constant initialization gives 1.
    """
    tol = _checks.finite_float(tol, "tol", non_negative=True)
    vec = unit_vectors(net, layer)
    diff = np.max(np.abs(vec[:, None, :] - vec[None, :, :]), axis=2)
    earlier_same = np.triu(diff <= tol, k=1)  # [j, i] with j < i
    return int(np.sum(~earlier_same.any(axis=0)))


def weight_ranks(net: MLP, *, rtol: float = 1e-9) -> list[int]:
    """Numerical rank of every weight matrix: singular values above ``rtol`` times the largest.

    A constant initialization keeps each ``W_l`` of the form ``1 u^T``, ``a 1 1^T`` or ``v 1^T``
    (rank one, or zero if it is all zeros) during training; a random one is full rank.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a helpers MLP (from build_mlp), got {type(net).__name__}")
    rtol = _checks.finite_float(rtol, "rtol", positive=True)
    ranks = []
    for w in net.weights:
        s = np.linalg.svd(w, compute_uv=False)
        ranks.append(int(np.sum(s > rtol * s[0])) if s[0] > 0 else 0)
    return ranks


# -- the width-1 network that a network of copies really is --------------------------------------

def collapse(net: MLP, *, atol: float = 0.0) -> MLP:
    """The width-1 network computing the same function as ``net``, whose hidden units are copies.

    If every hidden layer ``l`` of width ``n_l`` holds ``n_l`` copies, then ``W_1 = 1 u^T``,
    ``W_l = a_l 1 1^T`` and ``W_L = v 1^T``; every copy of layer ``l`` carries the same value, and
    the next layer receives ``n_l`` times its contribution. The collapsed network has one unit per
    hidden layer with weights ``u``, ``n_{l-1} a_l`` and ``n_{L-1} v`` and the same biases, so
    ``predict(collapse(net), x) == predict(net, x)`` up to rounding. Raises ``ValueError`` if some
    hidden layer's units differ by more than ``atol``. (The reduction is derived in the chapter
    *Breaking symmetry*; it is the permutation symmetry of Rumelhart, Hinton & Williams 1986 taken
    to its end.)
    """
    atol = _checks.finite_float(atol, "atol", non_negative=True)
    spread = hidden_asymmetry(net)
    if np.any(spread > atol):
        layer = int(np.argmax(spread > atol)) + 1
        raise ValueError(f"hidden layer {layer} holds units that are not copies (spread {spread[layer - 1]:.3g} "
                         f"> atol {atol}); only a network of copies can be collapsed")
    last = net.depth - 1
    weights, biases = [], []
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        # every input of layer l > 0 is a copy of one value, so one weight carries the whole row sum
        merged = w.copy() if l == 0 else w.sum(axis=1, keepdims=True)
        weights.append(merged[:1] if l < last else merged)
        biases.append(b[:1].copy() if l < last else b.copy())
    return MLP(weights, biases, net.activation, net.activate_output)


def collapsed_learning_rates(sizes: Sequence[int], lr: float) -> tuple[list[float], list[float]]:
    """Per-layer learning rates ``(weights, biases)`` under which the collapsed network of
    :func:`collapse` takes exactly the steps that the wide network of copies takes.

    With ``m_0 = m_L = 1`` (inputs and outputs are never merged) and ``m_l = n_l`` for hidden
    layers, plain gradient descent with rate ``lr`` on the wide network equals gradient descent on
    the collapsed one with rate ``lr * m_{l-1} / m_l`` for ``W_l`` and ``lr / m_l`` for ``b_l``
    (the collapsed unit's gradient is the sum of its ``m_l`` copies' gradients). For example the
    first layer learns ``n_1`` times more slowly and the last ``n_{L-1}`` times faster.
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 3:
        raise ValueError(f"sizes must list the input, at least one hidden and the output width, got {sizes!r}")
    sizes = [_checks.positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    lr = _checks.finite_float(lr, "lr", positive=True)
    m = [1] + sizes[1:-1] + [1]
    weight_lr = [lr * m[l - 1] / m[l] for l in range(1, len(m))]
    bias_lr = [lr / m[l] for l in range(1, len(m))]
    return weight_lr, bias_lr


# -- the network with (inverted) dropout, as a composition of layers -----------------------------

def with_dropout(net: MLP, rng: np.random.Generator, *, p: float = 0.5, input_p: float = 0.0) -> Sequential:
    """``net`` with inverted dropout (Srivastava et al. 2014): ``Dropout(p)`` after every hidden activation.

    The result is a :class:`~helpers.layers.Sequential` of ``Dropout(input_p)`` on the inputs (only if
    ``input_p > 0``), then ``net``'s own layers ``net.dense[i]`` and ``net.acts[i]``, with a
    :class:`~helpers.layers.Dropout` of rate ``p`` after each hidden activation and none after the
    output layer. The ``Dense`` and ``Act`` layers are shared, not copied: a backward pass leaves
    the gradients in ``net.dense[i].grads``, and updates of ``net``'s parameters are updates of this
    network. Each example and each unit gets its own mask entry, so two units that are copies are
    dropped independently. The dropout layers draw from ``rng`` on every forward pass, in layer
    order: the input mask first, then one mask per hidden layer from input to output.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a helpers MLP (from build_mlp), got {type(net).__name__}")
    rng = _checks.generator(rng)
    p, input_p = _checks.rate(p, "p"), _checks.rate(input_p, "input_p")
    layers: list[Layer] = [Dropout(input_p, rng)] if input_p > 0 else []
    last = net.depth - 1
    for i, (dense, act) in enumerate(zip(net.dense, net.acts)):
        layers.append(dense)
        if act is not None:
            layers.append(act)
        if i < last:
            layers.append(Dropout(p, rng))
    return Sequential(layers)


# -- training that records the units' trajectories ----------------------------------------------

@dataclass
class Trajectory:
    """What :func:`sgd` recorded.

    ``loss[t]`` is the minibatch loss at step ``t`` (before update ``t + 1``; NaN after a divergence).
    The recorded arrays have one entry per recorded step in ``steps`` (the state after that many
    updates, from 0 to the last step): ``first_layer[k]`` is ``W_1`` (one incoming weight vector per
    row), ``asymmetry[k]`` is :func:`hidden_asymmetry`, ``accuracy[k]`` the accuracy on the whole
    training set (NaN for the mse loss). ``snapshots`` maps the steps asked for to copies of the net.
    """

    loss: np.ndarray
    steps: np.ndarray
    first_layer: np.ndarray
    asymmetry: np.ndarray
    full_loss: np.ndarray
    accuracy: np.ndarray
    snapshots: dict[int, MLP]
    diverged_at: int | None = None

    @property
    def final_accuracy(self) -> float:
        return float(self.accuracy[-1])


def _per_layer(value: object, name: str, depth: int) -> list[float]:
    if isinstance(value, Real) and not isinstance(value, bool):
        return [_checks.finite_float(value, name, positive=True)] * depth
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != depth:
        raise ValueError(f"{name} must be a positive number or one positive number per layer ({depth}), got {value!r}")
    return [_checks.finite_float(v, f"{name}[{i}]", positive=True) for i, v in enumerate(value)]


def _unit_lr(unit_lr: Sequence[np.ndarray] | None, sizes: list[int]) -> list[np.ndarray] | None:
    if unit_lr is None:
        return None
    if isinstance(unit_lr, (str, bytes)) or len(unit_lr) != len(sizes) - 1:
        raise ValueError(f"unit_lr must hold one array per layer ({len(sizes) - 1}), got {unit_lr!r}")
    out = []
    for i, (u, n) in enumerate(zip(unit_lr, sizes[1:])):
        u = _checks.array(u, f"unit_lr[{i}]", ndim=1).astype(float)
        if u.shape != (n,) or not np.all(np.isfinite(u)) or np.any(u < 0):
            raise ValueError(f"unit_lr[{i}] must hold {n} finite non-negative multipliers, got shape {u.shape}")
        out.append(u)
    return out


def sgd(net: MLP, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, *, steps: int = 500,
        lr: float | Sequence[float] = 0.1, bias_lr: float | Sequence[float] | None = None,
        batch_size: int | None = None, optimizer: str = "sgd", momentum: float = 0.0,
        weight_decay: float = 0.0, dropout: float = 0.0, input_dropout: float = 0.0,
        input_noise: float = 0.0, unit_lr: Sequence[np.ndarray] | None = None, loss: str = "cross_entropy",
        record_every: int = 10, snapshot_steps: Sequence[int] = (), betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8) -> Trajectory:
    """Train ``net`` in place and record how its hidden units move; return a :class:`Trajectory`.

    Each step draws ``batch_size`` rows of ``x`` without replacement from ``rng`` (the whole set,
    in a fixed order, when ``batch_size`` is None) and forms ``g = dL/dW + weight_decay * W``
    (L2 on weights only). The update is then

    * ``optimizer="sgd"``: heavy-ball momentum ``v = momentum * v - lr * g; W += v`` (plain SGD at 0);
    * ``optimizer="adam"``: Adam (Kingma & Ba 2015) with ``betas`` and ``eps``.

    ``lr`` / ``bias_lr`` are one number or one number per layer; ``unit_lr[l]`` (one array of
    ``n_l`` multipliers per layer) scales the step of each unit's incoming weights and bias.
    ``dropout`` / ``input_dropout`` drop hidden units / input features with inverted dropout
    (Srivastava et al. 2014): each step is a forward and backward pass of the composition of layers
    :func:`with_dropout` builds, whose gradients land in ``net``'s own layers (at rate 0 a dropout
    layer draws nothing and passes everything, so the step is the plain one). ``input_noise`` adds
    N(0, input_noise^2) to every input of the batch (data augmentation). All of these random draws
    come from ``rng`` after the batch indices (the noise, then the input mask, then one mask per
    hidden layer from input to output), so two runs with one seed see the same minibatches.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a helpers MLP (from build_mlp), got {type(net).__name__}")
    rng = _checks.generator(rng)
    steps = _checks.positive_int(steps, "steps")
    depth = net.depth
    w_lr = _per_layer(lr, "lr", depth)
    b_lr = w_lr if bias_lr is None else _per_layer(bias_lr, "bias_lr", depth)
    _checks.choice(optimizer, "optimizer", OPTIMIZERS)
    momentum = _checks.finite_float(momentum, "momentum", non_negative=True)
    if momentum >= 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    weight_decay = _checks.finite_float(weight_decay, "weight_decay", non_negative=True)
    dropout, input_dropout = _checks.rate(dropout, "dropout"), _checks.rate(input_dropout, "input_dropout")
    input_noise = _checks.finite_float(input_noise, "input_noise", non_negative=True)
    units = _unit_lr(unit_lr, net.sizes)
    loss_fn = LOSSES[_checks.choice(loss, "loss", LOSSES)]
    record_every = _checks.positive_int(record_every, "record_every")
    snap = {_checks.positive_int(s, "snapshot_steps", allow_zero=True) for s in snapshot_steps}
    if any(s > steps for s in snap):
        raise ValueError(f"snapshot_steps must lie in [0, steps={steps}], got {sorted(snap)}")
    if len(betas) != 2 or not all(0 <= _checks.finite_float(b, "betas") < 1 for b in betas):
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
    eps = _checks.finite_float(eps, "eps", positive=True)
    x = _checks.array(x, "x", ndim=2)
    if x.shape[1] != net.sizes[0]:
        raise ValueError(f"x must have {net.sizes[0]} columns (the input width), got shape {x.shape}")
    y = np.asarray(y)
    if len(y) != len(x):
        raise ValueError(f"y must have one entry per row of x ({len(x)}), got {len(y)}")
    full = batch_size is None
    batch = len(x) if full else min(_checks.positive_int(batch_size, "batch_size"), len(x))
    classify = loss == "cross_entropy"
    model = with_dropout(net, rng, p=dropout, input_p=input_dropout)

    params = net.weights + net.biases
    rates = w_lr + b_lr
    scales = [None] * (2 * depth) if units is None else [u[:, None] for u in units] + list(units)
    state1 = [np.zeros_like(p) for p in params]
    state2 = [np.zeros_like(p) for p in params]
    losses = np.full(steps, np.nan)
    rec_steps, first, asym, full_loss, acc = [], [], [], [], []
    snapshots: dict[int, MLP] = {}
    diverged_at = None

    def record(t: int) -> None:
        rec_steps.append(t)
        first.append(net.weights[0].copy())
        asym.append(hidden_asymmetry(net) if depth > 1 else np.zeros(0))
        out = predict(net, x)
        full_loss.append(loss_fn(out, y)[0])
        acc.append(float(np.mean(np.argmax(out, axis=1) == y)) if classify else np.nan)

    with np.errstate(all="ignore"):
        for t in range(steps):
            if t % record_every == 0:
                record(t)
            if t in snap:
                snapshots[t] = net.copy()
            idx = np.arange(len(x)) if full else rng.choice(len(x), size=batch, replace=False)
            xb, yb = x[idx], y[idx]
            if input_noise > 0:
                xb = xb + input_noise * rng.standard_normal(xb.shape)
            out = model.forward(xb.astype(net.dtype, copy=False))
            value, grad_out = loss_fn(out, yb)
            model.backward(grad_out.astype(net.dtype, copy=False))
            if not np.isfinite(value):
                diverged_at = t
                break
            losses[t] = value
            gradients = [d.grads["weight"] + weight_decay * d.weight if weight_decay else d.grads["weight"]
                         for d in net.dense]
            gradients += [d.grads["bias"] for d in net.dense]
            for k, (p, g, rate, scale) in enumerate(zip(params, gradients, rates, scales)):
                if optimizer == "sgd":
                    v = state1[k]
                    v *= momentum
                    v -= (rate * g) if scale is None else (rate * scale * g)
                    p += v
                else:
                    m, s = state1[k], state2[k]
                    m *= betas[0]
                    m += (1 - betas[0]) * g
                    s *= betas[1]
                    s += (1 - betas[1]) * g * g
                    m_hat = m / (1 - betas[0] ** (t + 1))
                    s_hat = s / (1 - betas[1] ** (t + 1))
                    step = rate * m_hat / (np.sqrt(s_hat) + eps)
                    p -= step if scale is None else scale * step
        if diverged_at is None:
            record(steps)
            if steps in snap:
                snapshots[steps] = net.copy()
    return Trajectory(losses, np.array(rec_steps, dtype=int), np.array(first), np.array(asym),
                      np.array(full_loss), np.array(acc),
                      snapshots, diverged_at)


# -- what a network of copies can do at best ------------------------------------------------------

def _stripe_best(proj: np.ndarray, y: np.ndarray, classes: int) -> np.ndarray:
    """Best accuracy of an ordered-stripes classifier along each row of ``proj`` (rows: directions)."""
    import itertools

    order = np.argsort(proj, axis=1, kind="stable")
    labels = y[order]  # (directions, n), sorted along each direction
    n = labels.shape[1]
    # counts[c][:, j] = number of class-c points among the first j sorted points
    counts = [np.concatenate([np.zeros((labels.shape[0], 1)), np.cumsum(labels == c, axis=1)], axis=1)
              for c in range(classes)]
    best = np.zeros(labels.shape[0])
    for perm in itertools.permutations(range(classes)):
        a = counts[perm[0]]
        for c in perm[1:]:
            a = np.maximum.accumulate(a - counts[c], axis=1) + counts[c]
        best = np.maximum(best, a[:, n])
    return best / n


def stripe_accuracy(x: np.ndarray, y: np.ndarray, direction: np.ndarray) -> float:
    """Highest training accuracy that any network of copies with first-layer direction ``direction`` can reach.

    If every hidden layer holds copies, the network is a width-1 network (:func:`collapse`): it sees
    the input only through ``s = u . x + b_1``; with a monotone activation (tanh, sigmoid, ReLU, ...)
    its last hidden value is a monotone function ``t(s)``, and each logit ``v_k t + c_k`` is affine
    in ``t``. The arg-max of affine functions of one number picks every class on at most one
    interval, so the decision regions are at most ``K`` parallel stripes, each class in one stripe
    (or none). This returns the best such stripe classifier's accuracy along ``u = direction``:
    an upper bound for every network of copies with that first-layer direction, whatever its width
    or depth. Exact (a dynamic programme over the sorted projections and all ``K!`` class orders).
    """
    x = _checks.array(x, "x", ndim=2)
    y = _checks.array(y, "y", ndim=1)
    direction = _checks.array(direction, "direction", ndim=1).astype(float)
    if direction.shape != (x.shape[1],) or not np.any(direction):
        raise ValueError(f"direction must be a non-zero vector of length {x.shape[1]}, got {direction!r}")
    classes = _stripe_classes(y, len(x))
    return float(_stripe_best((x @ direction)[None, :], y, classes)[0])


def best_stripe_accuracy(x: np.ndarray, y: np.ndarray, *, n_directions: int = 720) -> tuple[float, np.ndarray]:
    """:func:`stripe_accuracy` maximized over ``n_directions`` evenly spaced directions of the plane.

    Returns ``(accuracy, direction)`` for 2-D inputs ``x``. The grid maximum approaches the best
    accuracy any network of copies can reach on ``(x, y)`` from below as the grid is refined.
    """
    x = _checks.array(x, "x", ndim=2)
    y = _checks.array(y, "y", ndim=1)
    if x.shape[1] != 2:
        raise ValueError(f"x must have 2 columns (points in the plane), got shape {x.shape}")
    n_directions = _checks.positive_int(n_directions, "n_directions")
    classes = _stripe_classes(y, len(x))
    angles = np.linspace(0.0, np.pi, n_directions, endpoint=False)
    dirs = np.column_stack([np.cos(angles), np.sin(angles)])
    acc = _stripe_best(dirs @ x.T, y, classes)
    k = int(np.argmax(acc))
    return float(acc[k]), dirs[k]


def _stripe_classes(y: np.ndarray, n: int) -> int:
    if y.shape[0] != n:
        raise ValueError(f"y must have one label per row of x ({n}), got {y.shape[0]}")
    if y.dtype.kind not in "iu" or y.min() < 0:
        raise ValueError("y must hold non-negative integer class labels")
    classes = int(y.max()) + 1
    if classes > 6:
        raise ValueError(f"y must have at most 6 classes (all class orders are tried), got {classes}")
    return classes


def escape_step(loss: np.ndarray, threshold: float) -> int | None:
    """First step at which ``loss`` is at or below ``threshold`` (None if it never gets there).

    Used to measure how long training sits on a plateau, e.g. after a tiny random initialization.
    """
    loss = _checks.array(loss, "loss", ndim=1)
    threshold = _checks.finite_float(threshold, "threshold")
    with np.errstate(invalid="ignore"):
        hits = np.flatnonzero(loss <= threshold)
    return int(hits[0]) if hits.size else None


__all__ = ["OPTIMIZERS", "Trajectory", "collapse", "collapsed_learning_rates", "distinct_units", "escape_step",
           "hidden_asymmetry", "sgd", "best_stripe_accuracy", "stripe_accuracy", "unit_spread", "unit_vectors",
           "weight_ranks", "with_dropout"]
