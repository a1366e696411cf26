"""Minibatch SGD (with optional momentum) that records per-layer statistics and reports divergence.

A run whose numbers overflow is part of the lesson, not a crash: :func:`train` stops at the first
non-finite loss or activation, records the step and the first layer where it happened, and returns
normally. Floating-point warnings are silenced inside the loop so none reach notebook output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks
from .diagnostics import update_ratio
from .network import LOSSES, MLP, Grads, Workspace, accuracy, loss_and_grads


@dataclass
class History:
    """What a training run recorded.

    ``loss[k]`` is the minibatch loss at step ``k`` (NaN after a divergence); the per-layer arrays
    have one row per recorded step (``recorded_steps``) and one column per layer.
    """

    loss: np.ndarray
    recorded_steps: np.ndarray
    act_std: np.ndarray
    grad_norm: np.ndarray
    weight_grad_norm: np.ndarray
    update_ratio: np.ndarray
    diverged_at: int | None = None
    diverged_layer: int | None = None
    final_accuracy: float | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    def summary(self) -> str:
        """One line a notebook can print, e.g. ``diverged at step 12 (layer 7)``."""
        if self.diverged:
            return f"diverged at step {self.diverged_at} (layer {self.diverged_layer})"
        acc = "" if self.final_accuracy is None else f", accuracy {self.final_accuracy:.3f}"
        return f"finished {len(self.loss)} steps, final loss {self.loss[-1]:.4f}{acc}"


def _first_bad_layer(arrays: list[np.ndarray]) -> int | None:
    for i, a in enumerate(arrays):
        if not np.all(np.isfinite(a)):
            return i + 1
    return None


def _diverged_layer(posts: list[np.ndarray], grads: Grads) -> int | None:
    """1-based index of the first layer whose output (or, failing that, gradient) is not finite."""
    return _first_bad_layer(posts) or _first_bad_layer(grads.d_pre) or _first_bad_layer(grads.weights)


def train(net: MLP, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, *, steps: int = 500,
          lr: float = 0.1, batch_size: int = 64, momentum: float = 0.0, loss: str = "cross_entropy",
          record_every: int = 1, divergence_factor: float | None = None) -> History:
    """Train ``net`` in place with minibatch SGD and return its :class:`History`.

    Each step draws ``batch_size`` rows of ``x`` without replacement from ``rng``. With momentum
    ``mu`` the update is ``v = mu v - lr g; W += v`` (heavy ball). Every ``record_every`` steps
    the per-layer activation spread, gradient norms and update-to-data ratios are stored.

    The run stops and reports divergence at the first step whose loss or any layer's output is
    not finite; the layer reported is the first non-finite one. A far too large learning rate can
    also blow the loss up by dozens of orders of magnitude and then leave a dead, finite network
    behind; pass ``divergence_factor`` (e.g. ``1e6``) to stop as well when the loss exceeds that
    multiple of the first step's loss, and then the layer reported is the one whose activation
    spread grew most since step 0.
    """
    rng = _checks.generator(rng)
    steps = _checks.positive_int(steps, "steps")
    lr = _checks.finite_float(lr, "lr", positive=True)
    momentum = _checks.finite_float(momentum, "momentum", non_negative=True)
    if momentum >= 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    record_every = _checks.positive_int(record_every, "record_every")
    if divergence_factor is not None:
        divergence_factor = _checks.finite_float(divergence_factor, "divergence_factor", positive=True)
        if divergence_factor <= 1:
            raise ValueError(f"divergence_factor must be > 1 (a multiple of the first loss), got {divergence_factor}")
    _checks.choice(loss, "loss", LOSSES)
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an MLP (see build_mlp), got {type(net).__name__}")
    x = _checks.array(x, "x", ndim=2)
    if x.shape[0] == 0 or x.shape[1] != net.sizes[0]:
        raise ValueError(f"x must have shape (n >= 1, {net.sizes[0]}) for this network, got {x.shape}")
    y = _checks.array(y, "y")
    if y.ndim == 0 or len(y) != len(x):
        raise ValueError(f"y must have one entry per row of x ({len(x)}), got shape {y.shape}")
    if loss == "cross_entropy" and (y.ndim != 1 or y.dtype.kind not in "iu" or y.min() < 0
                                    or y.max() >= net.sizes[-1]):
        raise ValueError(f"y must be integer class labels in [0, {net.sizes[-1] - 1}] for loss='cross_entropy', "
                         f"got dtype {y.dtype} and shape {y.shape}")
    batch_size = min(_checks.positive_int(batch_size, "batch_size"), len(x))

    params = net.weights + net.biases
    velocity = [np.zeros_like(p) for p in params]
    losses = np.full(steps, np.nan)
    rec_steps, act_std, grad_norm, wgrad_norm, ratios = [], [], [], [], []
    diverged_at = diverged_layer = None
    workspace = Workspace()  # each step's cache and gradients are used up before the next step
    with np.errstate(all="ignore"):
        for step in range(steps):
            idx = rng.choice(len(x), size=batch_size, replace=False)
            value, grads, cache = loss_and_grads(net, x[idx], y[idx], loss, workspace=workspace)
            if not np.isfinite(value) or _first_bad_layer(cache.post) is not None:
                diverged_at, diverged_layer = step, _diverged_layer(cache.post, grads) or net.depth
                break
            if step == 0:
                std0 = np.array([float(np.std(h)) for h in cache.post])
            elif divergence_factor is not None and value > divergence_factor * losses[0]:
                growth = np.array([float(np.std(h)) for h in cache.post]) / np.maximum(std0, np.finfo(float).tiny)
                diverged_at, diverged_layer = step, int(np.argmax(growth)) + 1
                break
            losses[step] = value
            if step % record_every == 0:
                rec_steps.append(step)
                act_std.append([float(np.std(h)) for h in cache.post])
                grad_norm.append([float(np.linalg.norm(d)) for d in grads.d_pre])
                wgrad_norm.append([float(np.linalg.norm(g)) for g in grads.weights])
                ratios.append(update_ratio(net, grads, lr))
            for p, v, g in zip(params, velocity, grads.weights + grads.biases):
                v *= momentum
                v -= lr * g
                p += v
    depth = net.depth
    as_array = lambda rows: np.array(rows, dtype=float).reshape(-1, depth)  # noqa: E731
    final_acc = None
    if diverged_at is None and loss == "cross_entropy":
        final_acc = accuracy(net, x, y)
    return History(losses, np.array(rec_steps, dtype=int), as_array(act_std), as_array(grad_norm),
                   as_array(wgrad_norm), as_array(ratios), diverged_at, diverged_layer, final_acc)
