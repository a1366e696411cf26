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
from .network import (LOSSES, MLP, Grads, Workspace, accuracy, backward, ensemble_cross_entropy, forward,
                      loss_and_grads, stack_mlps)


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


@dataclass
class EnsembleRun:
    """Learning curves of several networks (one architecture) trained side by side.

    ``loss[k, s]`` is network k's minibatch loss at step s (NaN from its divergence on);
    ``diverged_at[k]`` is the step where it diverged, or -1; ``accuracy[k]`` its final accuracy on
    the whole training set (NaN if diverged). ``delta_norm`` and ``weight_grad_norm`` (shape
    ``(networks, L)``) are the per-layer norms of dL/dz and dL/dW on the first minibatch, before any
    update. With ``eval_every``, ``eval_loss[k, j]`` is the loss on the whole training set at step
    ``eval_steps[j]`` (NaN once network k has diverged); otherwise both are empty.
    """

    loss: np.ndarray
    accuracy: np.ndarray
    diverged_at: np.ndarray
    delta_norm: np.ndarray
    weight_grad_norm: np.ndarray
    eval_steps: np.ndarray
    eval_loss: np.ndarray


def _check_rngs(rngs, count: int) -> list[np.random.Generator]:
    if isinstance(rngs, np.random.Generator) or not isinstance(rngs, (list, tuple)) or len(rngs) != count:
        raise ValueError(f"rngs must be a list holding one numpy Generator per network ({count})")
    return [_checks.generator(r, f"rngs[{i}]") for i, r in enumerate(rngs)]


def _draw_batches(rngs: list[np.random.Generator], n: int, batch_size: int) -> np.ndarray:
    """One minibatch of row indices per network; networks given the same Generator share theirs."""
    drawn: dict[int, np.ndarray] = {}
    for r in rngs:
        if id(r) not in drawn:
            drawn[id(r)] = r.choice(n, size=batch_size, replace=False)
    return np.stack([drawn[id(r)] for r in rngs])


def train_ensemble(nets, x: np.ndarray, y: np.ndarray, rngs, *, steps: int = 300, lr: float = 0.01,
                   momentum: float = 0.0, batch_size: int = 64, eval_every: int | None = None) -> EnsembleRun:
    """Train every network in ``nets`` (one architecture) with minibatch SGD, all at once, in place.

    The update is that of :func:`train`: softmax cross-entropy on ``batch_size`` rows drawn without
    replacement by ``rngs[k]``, heavy-ball momentum ``v = mu v - lr g; W += v``. Networks given the
    same Generator object see the same minibatches (common random numbers). The networks are
    stacked into one ensemble (:func:`helpers.network.stack_mlps`), so each layer is one batched
    matrix product and a many-seed experiment costs about as much as one run of the whole batch. A
    network whose loss or signal stops being finite is frozen and reported in ``diverged_at``; the
    others go on. The trained weights are written back into ``nets``.
    """
    if isinstance(nets, MLP) or not isinstance(nets, (list, tuple)) or not nets:
        raise TypeError("nets must be a non-empty list of MLP (built with helpers.build_mlp)")
    ensemble = stack_mlps(nets)
    rngs = _check_rngs(rngs, len(nets))
    steps = _checks.positive_int(steps, "steps")
    lr = _checks.finite_float(lr, "lr", positive=True)
    momentum = _checks.finite_float(momentum, "momentum", non_negative=True)
    if momentum >= 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if eval_every is not None:
        eval_every = _checks.positive_int(eval_every, "eval_every")
    x = _checks.array(x, "x", ndim=2)
    y = _checks.array(y, "y", ndim=1)
    sizes = ensemble.sizes
    if x.shape[0] == 0 or x.shape[1] != sizes[0]:
        raise ValueError(f"x must have shape (n >= 1, {sizes[0]}) for these networks, got {x.shape}")
    if len(y) != len(x):
        raise ValueError(f"y must have one entry per row of x ({len(x)}), got {len(y)}")
    if y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= sizes[-1]:
        raise ValueError(f"y must hold integer labels in [0, {sizes[-1] - 1}]")
    batch_size = min(_checks.positive_int(batch_size, "batch_size"), len(x))
    x = x.astype(ensemble.dtype, copy=False)

    count, depth = len(nets), ensemble.depth
    params = ensemble.weights + ensemble.biases
    velocity = [np.zeros_like(p) for p in params]
    losses = np.full((count, steps), np.nan)
    diverged_at = np.full(count, -1, dtype=int)
    alive = np.ones(count, dtype=bool)
    delta_norm = np.zeros((count, depth))
    wgrad_norm = np.zeros((count, depth))
    eval_steps, eval_loss = [], []
    everything = np.broadcast_to(x, (count,) + x.shape)
    all_labels = np.broadcast_to(y, (count, len(y)))

    def evaluate() -> np.ndarray:
        value, _ = ensemble_cross_entropy(forward(ensemble, everything)[0], all_labels)
        return np.where(alive, value, np.nan)

    with np.errstate(all="ignore"):
        for step in range(steps):
            if eval_every is not None and step % eval_every == 0:
                eval_steps.append(step)
                eval_loss.append(evaluate())
            idx = _draw_batches(rngs, len(x), batch_size)
            out, cache = forward(ensemble, x[idx])
            value, grad_out = ensemble_cross_entropy(out, y[idx])
            finite = np.isfinite(value)
            for h in cache.post:
                finite &= np.all(np.isfinite(h), axis=(1, 2))
            diverged_at[alive & ~finite] = step
            alive &= finite
            if not alive.any():
                break
            losses[alive, step] = value[alive]
            grads = backward(ensemble, cache, grad_out)
            if step == 0:
                delta_norm[:] = np.stack([np.sqrt(np.sum(d * d, axis=(1, 2))) for d in grads.d_pre], axis=1)
                wgrad_norm[:] = np.stack([np.sqrt(np.sum(g * g, axis=(1, 2))) for g in grads.weights], axis=1)
            everyone = alive.all()
            for p, v, g in zip(params, velocity, grads.weights + grads.biases):
                v *= momentum
                v -= lr * g
                if not everyone:  # a diverged network stays frozen
                    v[~alive] = 0.0
                p += v
        if eval_every is not None:
            eval_steps.append(steps)
            eval_loss.append(evaluate())
        pred = np.argmax(forward(ensemble, everything)[0], axis=2)
        final_accuracy = np.where(alive, np.mean(pred == y[None, :], axis=1), np.nan)
    for k, net in enumerate(nets):
        for dst, src in zip(net.weights + net.biases, params):
            dst[...] = src[k]
    evals = np.array(eval_loss).T if eval_loss else np.empty((count, 0))
    return EnsembleRun(losses, final_accuracy, diverged_at, delta_norm, wgrad_norm,
                       np.array(eval_steps, dtype=int), evals)


# -- summaries of learning curves -----------------------------------------------------------------

def running_mean(curves: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over the last axis: entry s averages steps max(0, s-window+1)..s.

    NaN entries (after a divergence) stay NaN; the first ``window - 1`` entries average what exists.
    """
    curves = np.asarray(_checks.array(curves, "curves"), dtype=float)
    window = _checks.positive_int(window, "window")
    padded = np.concatenate([np.zeros(curves.shape[:-1] + (1,)), np.cumsum(curves, axis=-1)], axis=-1)
    s = np.arange(curves.shape[-1])
    lo = np.maximum(0, s - window + 1)
    return (padded[..., s + 1] - padded[..., lo]) / (s + 1 - lo)


def steps_to_threshold(curves: np.ndarray, threshold: float, *, window: int = 20) -> np.ndarray:
    """First step at which the running mean (``window`` steps) of each curve is below ``threshold``.

    ``curves`` has shape ``(runs, steps)``; the result holds one float per run, NaN for a run that
    never gets there. A way to say "starts learning sooner" with a number.
    """
    curves = _checks.array(curves, "curves", ndim=2)
    threshold = _checks.finite_float(threshold, "threshold")
    smooth = running_mean(curves, window)
    below = np.where(np.isnan(smooth), False, smooth < threshold)
    first = np.argmax(below, axis=1).astype(float)
    first[~below.any(axis=1)] = np.nan
    return first
