"""Optimizers on the layer model: SGD with momentum, and Adam.

Both work on any :class:`helpers.layers.Layer` (usually a :class:`~helpers.layers.Sequential`): each
:meth:`~helpers.optimizers.Optimizer.step` walks ``model.named_params()``, reads the gradient that the last ``backward`` wrote for
each parameter and updates the parameter **in place**. State (momentum buffers, Adam's moments) is
kept per qualified parameter name.

Two things the width chapter needs, and that work for both optimizers:

* **Per-parameter learning-rate multipliers** (``lr_multipliers``): parameter ``name`` is updated
  with ``lr * lr_multipliers[name]``. The maximal-update parametrization (Yang & Hu 2021) scales the
  learning rate of each layer with width, and this is where that scaling goes. Names not listed
  use a multiplier of 1; a listed name that is not a parameter of the model is an error (a typo
  would otherwise pass silently).
* **One learning rate per ensemble member**: ``lr`` may be a 1-D array of length ``E`` for a model
  whose parameters are stacked on a leading ensemble axis of size ``E`` (see
  :func:`helpers.layers.stack`); member ``e`` then trains with ``lr[e]``. A learning-rate sweep is
  one batched run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from . import _checks
from .layers import Layer

Multipliers = Mapping[str, float] | Callable[[str], float] | None


def _check_lr(lr: object) -> float | np.ndarray:
    if isinstance(lr, np.ndarray) or isinstance(lr, (list, tuple)):
        arr = np.asarray(lr, dtype=float)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"lr must be a positive number or a 1-D array (one per ensemble member), got shape {arr.shape}")
        if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ValueError(f"lr must be finite and > 0, got {arr}")
        return arr
    return _checks.finite_float(lr, "lr", positive=True)


class Optimizer:
    """Common machinery: the model, the learning rate(s), the multipliers, the step count."""

    def __init__(self, model: Layer, lr: float | np.ndarray, *, lr_multipliers: Multipliers = None) -> None:
        if not isinstance(model, Layer):
            raise TypeError(f"model must be a helpers.layers.Layer, got {type(model).__name__}")
        self.model = model
        self.lr = _check_lr(lr)
        names = [name for name, _, _ in model.named_params()]
        if not names:
            raise ValueError("model must have at least one trainable parameter")
        if lr_multipliers is None:
            mult = {}
        elif callable(lr_multipliers):
            mult = {name: lr_multipliers(name) for name in names}
        elif isinstance(lr_multipliers, Mapping):
            unknown = sorted(set(lr_multipliers) - set(names))
            if unknown:
                raise ValueError(f"lr_multipliers names {unknown} that are not parameters of the model; "
                                 f"parameters are {names}")
            mult = dict(lr_multipliers)
        else:
            raise TypeError(f"lr_multipliers must be a mapping name -> float, a callable or None, "
                            f"got {type(lr_multipliers).__name__}")
        self.lr_multipliers = {name: _checks.finite_float(mult.get(name, 1.0), f"lr_multipliers[{name!r}]",
                                                          non_negative=True) for name in names}
        self.t = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def _rate(self, name: str, p: np.ndarray) -> float | np.ndarray:
        """The step size of parameter ``name``: ``lr * multiplier``, shaped to broadcast per member."""
        m = self.lr_multipliers[name]
        if isinstance(self.lr, np.ndarray):
            if p.ndim == 0 or p.shape[0] != self.lr.size:
                raise ValueError(f"lr has {self.lr.size} entries (one per ensemble member) but parameter "
                                 f"{name!r} has shape {p.shape}")
            return (self.lr * m).reshape((-1,) + (1,) * (p.ndim - 1))
        return self.lr * m

    def _pairs(self):
        for name, p, g in self.model.named_params():
            if g is None:
                raise RuntimeError(f"parameter {name!r} has no gradient: call the model's backward before step()")
            if name not in self.lr_multipliers:
                raise RuntimeError(f"parameter {name!r} appeared after the optimizer was made")
            yield name, p, g

    def step(self) -> None:
        """One update of every parameter from its current gradient."""
        self.t += 1
        with np.errstate(over="ignore", invalid="ignore"):
            for name, p, g in self._pairs():
                self._update(name, p, g, self.state.setdefault(name, {}))

    def _update(self, name: str, p: np.ndarray, g: np.ndarray, state: dict) -> None:  # pragma: no cover
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum (Polyak 1964), PyTorch's form.

    ``v <- mu v + g``, ``p <- p - lr * mult * v`` (with ``v`` starting at 0, so the first step is plain
    gradient descent); ``momentum = 0`` is plain SGD ``p <- p - lr * mult * g``. With a constant
    learning rate this is the same trajectory as ``v <- mu v - lr g; p <- p + v``
    (Sutskever et al. 2013) used by :func:`helpers.training.train`.
    """

    def __init__(self, model: Layer, lr: float | np.ndarray, momentum: float = 0.0, *,
                 lr_multipliers: Multipliers = None) -> None:
        super().__init__(model, lr, lr_multipliers=lr_multipliers)
        momentum = _checks.finite_float(momentum, "momentum", non_negative=True)
        if momentum >= 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = momentum

    def _update(self, name, p, g, state):
        if self.momentum:
            v = state.get("v")
            if v is None:
                v = state["v"] = np.array(g, dtype=p.dtype, copy=True)
            else:
                v *= self.momentum
                v += g
            g = v
        p -= self._rate(name, p) * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1), with bias correction.

    At step ``t`` (from 1), for each parameter with gradient ``g``::

        m <- beta1 m + (1 - beta1) g          v <- beta2 v + (1 - beta2) g**2
        m_hat = m / (1 - beta1**t)            v_hat = v / (1 - beta2**t)
        p <- p - lr * mult * m_hat / (sqrt(v_hat) + eps)

    (``m``, ``v`` start at 0.) The step of each coordinate has size about ``lr * mult`` whatever the
    scale of its gradient - the reason the muP learning-rate rules for Adam differ from SGD's.
    """

    def __init__(self, model: Layer, lr: float | np.ndarray = 1e-3, *, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, lr_multipliers: Multipliers = None) -> None:
        super().__init__(model, lr, lr_multipliers=lr_multipliers)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        b1 = _checks.finite_float(betas[0], "betas[0]", non_negative=True)
        b2 = _checks.finite_float(betas[1], "betas[1]", non_negative=True)
        if b1 >= 1 or b2 >= 1:
            raise ValueError(f"betas must be in [0, 1), got {tuple(betas)}")
        self.betas = (b1, b2)
        self.eps = _checks.finite_float(eps, "eps", positive=True)

    def _update(self, name, p, g, state):
        b1, b2 = self.betas
        if "m" not in state:
            state["m"] = np.zeros_like(p)
            state["v"] = np.zeros_like(p)
        m, v = state["m"], state["v"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        m_hat = m / (1 - b1 ** self.t)
        v_hat = v / (1 - b2 ** self.t)
        p -= self._rate(name, p) * m_hat / (np.sqrt(v_hat) + self.eps)
