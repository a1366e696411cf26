"""Per-layer statistics: what to look at when a deep network will not train.

All functions take the :class:`~helpers.network.Cache` / :class:`~helpers.network.Grads` of one
forward / backward pass and return one number per layer (numpy arrays indexed by layer, 0-based).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks
from .activations import Activation, get_activation
from .network import MLP, Cache, Grads

SATURATION_THRESHOLD = 0.05
"""A unit counts as saturated where phi'(z) is below this fraction of phi's largest slope.

For tanh that is |tanh(z)| > 0.975, for the sigmoid s(z) > 0.987 or < 0.013."""

_MAX_SLOPE = {"tanh": 1.0, "sigmoid": 0.25, "softsign": 1.0}


def saturated_fraction(pre: np.ndarray, activation: str | Activation,
                       threshold: float = SATURATION_THRESHOLD) -> float:
    """Fraction of entries of ``pre`` where a bounded activation is saturated (NaN if unbounded)."""
    act = get_activation(activation)
    threshold = _checks.finite_float(threshold, "threshold", positive=True)
    pre = _checks.array(pre, "pre")
    if pre.size == 0:
        raise ValueError("pre must hold at least one value, got an empty array")
    if not act.bounded:
        return float("nan")
    with np.errstate(invalid="ignore", over="ignore"):
        return float(np.mean(act.df(pre) < threshold * _MAX_SLOPE[act.name]))


def dead_fraction(pre: np.ndarray, activation: str | Activation) -> float:
    """Fraction of units whose ReLU is off (z <= 0) for every example in the batch.

    Such a unit passes no gradient to its incoming weights for this batch. Only ReLU has a truly
    zero side; other activations return 0.
    """
    act = get_activation(activation)
    pre = _checks.array(pre, "pre", ndim=2)
    if pre.size == 0:
        raise ValueError("pre must hold at least one value, got an empty array")
    if act.name != "relu":
        return 0.0
    return float(np.mean(np.all(pre <= 0, axis=0)))


def _check_from_net(net: MLP, value: Cache | Grads, kind: type, made_by: str, layers: int) -> None:
    """Reject a ``net`` that is not an MLP, or a ``value`` that is not the ``kind`` this net's pass made."""
    name = kind.__name__.lower()
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an MLP (see build_mlp), got {type(net).__name__}")
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be the {kind.__name__} returned by {made_by}, got {type(value).__name__}")
    if layers != net.depth:
        raise ValueError(f"{name} must come from a {made_by} pass of this {net.depth}-layer network, "
                         f"got one with {layers} layers")


def _check_pass(net: MLP, cache: Cache) -> None:
    _check_from_net(net, cache, Cache, "forward", len(getattr(cache, "pre", [])))


def _check_grads(net: MLP, grads: Grads) -> None:
    _check_from_net(net, grads, Grads, "backward", len(getattr(grads, "weights", [])))


@dataclass
class LayerStats:
    """One forward/backward pass summarized per layer (arrays of length ``depth``)."""

    act_mean: np.ndarray
    act_std: np.ndarray
    act_rms: np.ndarray
    saturated: np.ndarray
    dead: np.ndarray
    grad_std: np.ndarray | None = None
    grad_norm: np.ndarray | None = None
    weight_grad_norm: np.ndarray | None = None


def activation_stats(net: MLP, cache: Cache) -> LayerStats:
    """Mean, standard deviation, root mean square, saturated and dead fractions of every layer's output."""
    _check_pass(net, cache)
    with np.errstate(all="ignore"):
        posts = cache.post
        return LayerStats(
            act_mean=np.array([float(np.mean(h)) for h in posts]),
            act_std=np.array([float(np.std(h)) for h in posts]),
            act_rms=np.array([float(np.sqrt(np.mean(np.square(h)))) for h in posts]),
            saturated=np.array([saturated_fraction(z, net.activation) for z in cache.pre]),
            dead=np.array([dead_fraction(z, net.activation) for z in cache.pre]),
        )


def layer_stats(net: MLP, cache: Cache, grads: Grads | None = None) -> LayerStats:
    """:func:`activation_stats`, plus gradient statistics when ``grads`` is given.

    ``grad_std`` is the standard deviation of dL/dz per layer (the back-propagated signal),
    ``grad_norm`` its Frobenius norm, ``weight_grad_norm`` the norm of dL/dW.
    """
    stats = activation_stats(net, cache)
    if grads is not None:
        _check_grads(net, grads)
        with np.errstate(all="ignore"):
            stats.grad_std = np.array([float(np.std(d)) for d in grads.d_pre])
            stats.grad_norm = np.array([float(np.linalg.norm(d)) for d in grads.d_pre])
            stats.weight_grad_norm = np.array([float(np.linalg.norm(g)) for g in grads.weights])
    return stats


def update_ratio(net: MLP, grads: Grads, lr: float) -> np.ndarray:
    """||lr * dL/dW|| / ||W|| per layer: the relative size of one SGD step (about 1e-3 is healthy).

    A layer whose weights are all zero has an infinite ratio (NaN if its gradient is zero too).
    """
    lr = _checks.finite_float(lr, "lr", positive=True)
    _check_grads(net, grads)
    with np.errstate(all="ignore"):
        return np.array([lr * np.linalg.norm(g) / np.linalg.norm(w) for g, w in zip(grads.weights, net.weights)],
                        dtype=float)
