"""The layer model: small layers with ``forward`` and ``backward`` that compose into networks.

The layers: :class:`Dense` (affine), :class:`Act` (elementwise activation), :class:`Dropout`
(inverted dropout), :class:`Residual`, :class:`LayerNorm`, :class:`BatchNorm`, and
:class:`Sequential` to compose them. Every layer follows one protocol (the layer-with-cache pattern):

* ``params`` - its trainable arrays by name; optimizers update them in place;
* ``forward(x)`` - returns the output and keeps on the layer what ``backward`` needs;
* ``backward(dy)`` - given dL/d(output) of the last ``forward``, writes dL/d(param) into
  ``grads`` (same keys as ``params``) and returns dL/dx.

Shapes: features are the last axis, examples the one before it. Any leading axes are carried along,
which serves two purposes: tokens of a sequence (``x`` of shape ``(batch, tokens, features)`` with
one weight matrix) and **ensembles** - ``E`` independently initialized copies of one architecture
run at once, with weights stacked to shape ``(E, n_out, n_in)``, inputs ``(E, batch, n_in)``, and
one batched matrix product per layer (see :func:`stack`).

Every ``backward`` here is checked against central finite differences in float64 (see
:func:`gradient_check` and ``tests/test_layers.py``). A layer may be given a
:class:`Workspace`: it then writes its outputs into buffers kept there and reused on the next call
(an opt-in speed-up for training loops, where each result is consumed before the next pass).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from . import _checks
from .activations import Activation, get_activation

# Overflow to inf/NaN in a badly scaled deep network is part of what the book shows; the numbers
# carry it (and training reports it), so numpy's floating-point warnings are silenced in passes.
QUIET = dict(over="ignore", invalid="ignore", divide="ignore", under="ignore")


class Workspace:
    """Reusable output buffers for forward and backward passes (an opt-in speed-up).

    A pass that is given a workspace writes its outputs into buffers kept here instead of fresh
    arrays, so a training loop stops paying for memory that the allocator hands back to the
    operating system after every step and faults in again on the next (about a third of the time
    of a pass at width 256). The price: arrays a pass returns are overwritten by the next pass with
    the same workspace. The values are bit-for-bit the same.
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


def check_workspace(workspace: object) -> Workspace | None:
    """``workspace`` itself if it is a :class:`Workspace` or None; a TypeError otherwise."""
    if workspace is not None and not isinstance(workspace, Workspace):
        raise TypeError(f"workspace must be a Workspace or None, got {type(workspace).__name__}")
    return workspace


def _buffer(ws: Workspace | None, owner: object, name: str, shape, dtype) -> np.ndarray | None:
    return None if ws is None else ws.get((id(owner), name), tuple(shape), dtype)


def _transpose(a: np.ndarray) -> np.ndarray:
    return a.swapaxes(-1, -2)


class Layer:
    """Base class: no parameters, identity map. Subclasses override ``forward`` and ``backward``."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        return x

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        return dy

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def named_params(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray, np.ndarray | None]]:
        """``(name, param, grad)`` for every trainable array (grad is None before a backward)."""
        for name, p in self.params.items():
            yield prefix + name, p, self.grads.get(name)

    def _need_forward(self, *names: str) -> None:
        if any(getattr(self, n, None) is None for n in names):
            raise RuntimeError(f"{type(self).__name__}.backward needs a forward pass first")


class ParamView(list):
    """A list of one named parameter across layers whose ``view[i] = a`` also writes into layer ``i``.

    ``net.weights[0] = W`` must change the network, as it did when networks held plain lists of
    arrays, so the per-layer lists of a composed network are this and not a detached copy.
    """

    def __init__(self, layers: Sequence[Layer], name: str) -> None:
        self._layers, self._name = list(layers), name
        super().__init__(layer.params[name] for layer in self._layers)

    def __setitem__(self, i, value) -> None:
        if isinstance(i, slice):
            raise TypeError(f"assign the {self._name} arrays one layer at a time")
        old = self[i]
        value = np.asarray(value)
        if value.shape != old.shape:
            raise ValueError(f"{self._name}[{i}] must keep shape {old.shape}, got {value.shape}")
        value = value.astype(old.dtype, copy=False)
        self._layers[i].params[self._name] = value
        super().__setitem__(i, value)


class Dense(Layer):
    """An affine layer ``y = multiplier * (x @ W.T) + b`` with ``W`` of shape ``(n_out, n_in)``.

    The PyTorch convention (``fan_in = n_in``; :mod:`helpers.initializers`). ``W`` of shape
    ``(E, n_out, n_in)`` (and ``b`` of shape ``(E, n_out)``) holds an ensemble of ``E`` layers applied
    to ``x`` of shape ``(E, ..., n_in)``. ``multiplier`` is a fixed forward scale (the NTK and muP
    parametrizations put one in front of the weights; 1 for the standard one).
    Backward (Rumelhart, Hinton & Williams 1986): ``dW = m dy.T @ x``, ``db = sum dy``, ``dx = m dy @ W``.
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray | None = None, *, multiplier: float = 1.0) -> None:
        super().__init__()
        weight = _checks.array(weight, "weight")
        if weight.ndim not in (2, 3):
            raise ValueError(f"weight must have shape (n_out, n_in) or (E, n_out, n_in), got {weight.shape}")
        self.params["weight"] = weight
        if bias is not None:
            bias = _checks.array(bias, "bias")
            if bias.shape != weight.shape[:-1]:
                raise ValueError(f"bias must have shape {weight.shape[:-1]} for this weight, got {bias.shape}")
            self.params["bias"] = bias
        self.multiplier = _checks.finite_float(multiplier, "multiplier")
        self.x: np.ndarray | None = None

    @property
    def weight(self) -> np.ndarray:
        return self.params["weight"]

    @property
    def bias(self) -> np.ndarray | None:
        return self.params.get("bias")

    def _check_x(self, x: np.ndarray) -> np.ndarray:
        w = self.weight
        if x.ndim < 2 or x.shape[-1] != w.shape[-1] or (w.ndim == 3 and (x.ndim != 3 or x.shape[0] != w.shape[0])):
            want = f"(E={w.shape[0]}, batch, {w.shape[-1]})" if w.ndim == 3 else f"(..., {w.shape[-1]})"
            raise ValueError(f"x must have shape {want} for this Dense layer, got {x.shape}")
        return x

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        w, b = self.weight, self.bias
        self.x = x = self._check_x(x)
        out = _buffer(ws, self, "y", x.shape[:-1] + w.shape[-2:-1], np.result_type(x, w))
        with np.errstate(**QUIET):
            y = np.matmul(x, _transpose(w), out=out)
            if self.multiplier != 1.0:
                y *= self.multiplier
            if b is not None:
                y += b if w.ndim == 2 else b[:, None, :]
        return y

    def backward(self, dy: np.ndarray, ws: Workspace | None = None, *, need_dx: bool = True,
                 need_grads: bool = True) -> np.ndarray | None:
        """Gradients of the weight and bias (unless ``need_grads`` is False); dL/dx unless ``need_dx``
        is False (a first layer)."""
        self._need_forward("x")
        w, x, m = self.weight, self.x, self.multiplier
        with np.errstate(**QUIET):
            if w.ndim == 2 and x.ndim > 2:  # tokens share the weight: sum over every leading axis
                dy2, x2 = dy.reshape(-1, dy.shape[-1]), x.reshape(-1, x.shape[-1])
            else:
                dy2, x2 = dy, x
            if not need_grads:
                self.grads.clear()
                return None if not need_dx else self._dx(dy, ws)
            gw = np.matmul(_transpose(dy2), x2, out=_buffer(ws, self, "gw", w.shape, w.dtype))
            if m != 1.0:
                gw *= m
            self.grads["weight"] = gw
            if self.bias is not None:
                axes = tuple(range(dy2.ndim - 1)) if w.ndim == 2 else 1
                self.grads["bias"] = np.sum(dy2, axis=axes, out=_buffer(ws, self, "gb", self.bias.shape, w.dtype))
        return self._dx(dy, ws) if need_dx else None

    def _dx(self, dy: np.ndarray, ws: Workspace | None) -> np.ndarray:
        w = self.weight
        with np.errstate(**QUIET):
            dx = np.matmul(dy, w, out=_buffer(ws, self, "dx", dy.shape[:-1] + w.shape[-1:], w.dtype))
            if self.multiplier != 1.0:
                dx *= self.multiplier
        return dx


class Act(Layer):
    """An elementwise activation ``h = phi(z)`` (any of :mod:`helpers.activations`)."""

    def __init__(self, activation: str | Activation = "relu", slope: float = 0.01) -> None:
        super().__init__()
        self.activation = get_activation(activation, slope)
        self.z: np.ndarray | None = None
        self.h: np.ndarray | None = None

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self.z = x
        with np.errstate(**QUIET):
            self.h = self.activation.apply(x, _buffer(ws, self, "h", x.shape, x.dtype))
        return self.h

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self._need_forward("z", "h")
        with np.errstate(**QUIET):
            return self.activation.grad(self.z, self.h, dy, _buffer(ws, self, "dz", dy.shape, dy.dtype))


class Dropout(Layer):
    """Inverted dropout (Srivastava et al. 2014): ``y = x * m`` with a fresh mask on every forward.

    Each entry of ``x`` (every example, unit and ensemble member alike) gets its own
    ``m = Bernoulli(1 - p) / (1 - p)``, drawn from ``rng`` as ``(rng.random(x.shape) >= p) / (1 - p)``
    in ``x``'s dtype. Dividing by the keep rate ``1 - p`` makes ``E[y] = x``, so the network is used
    without the layer (and without rescaling) at evaluation. At ``p = 0`` nothing is drawn and ``x``
    passes unchanged. Backward: ``dx = dy * m``, so a dropped entry passes no gradient back.

    ``fixed_mask`` (already divided by the keep rate) replaces the draw on every forward, which makes
    the layer a fixed linear map, as a finite-difference check needs. ``mask`` is the mask of the
    last forward (None when nothing was dropped). No parameters.
    """

    def __init__(self, p: float, rng: np.random.Generator, *, fixed_mask: np.ndarray | None = None) -> None:
        super().__init__()
        self.p = _checks.rate(p, "p")
        self.rng = _checks.generator(rng)
        self.fixed_mask = fixed_mask
        self.mask: np.ndarray | None = None
        self.shape: tuple[int, ...] | None = None

    @property
    def fixed_mask(self) -> np.ndarray | None:
        return self._fixed_mask

    @fixed_mask.setter
    def fixed_mask(self, value: np.ndarray | None) -> None:
        self._fixed_mask = None if value is None else _checks.array(value, "fixed_mask")

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self.shape = x.shape
        if self.fixed_mask is not None:
            if self.fixed_mask.shape != x.shape:
                raise ValueError(f"fixed_mask must have the input's shape {x.shape}, got {self.fixed_mask.shape}")
            self.mask = self.fixed_mask.astype(x.dtype, copy=False)
        elif self.p > 0:
            self.mask = (self.rng.random(x.shape) >= self.p).astype(x.dtype) / (1.0 - self.p)
        else:
            self.mask = None
            return x
        return x * self.mask

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self._need_forward("shape")
        if dy.shape != self.shape:
            raise ValueError(f"dy must have the shape of the last forward's output {self.shape}, got {dy.shape}")
        return dy if self.mask is None else dy * self.mask


class Sequential(Layer):
    """Layers applied one after another; ``backward`` runs them in reverse (the chain rule)."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        super().__init__()
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a Layer, got {type(layer).__name__}")
        self.layers = layers

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, ws)
        return x

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        for layer in reversed(self.layers):
            dy = layer.backward(dy, ws)
        return dy

    def named_params(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray, np.ndarray | None]]:
        for i, layer in enumerate(self.layers):
            yield from layer.named_params(f"{prefix}{i}.")

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]


class Residual(Layer):
    """A residual block ``y = x + scale * branch(x)`` (He et al. 2016).

    ``scale`` is a fixed multiplier on the branch (Fixup, SkipInit and the GPT-2 output-projection
    scaling are all choices of it or of the branch's last layer); pass ``trainable=True`` to make it a
    learned scalar parameter ``alpha`` instead (ReZero, Bachlechner et al. 2020; SkipInit, De & Smith
    2020 start it at 0). Backward: ``dx = dy + scale * branch.backward(dy)``, ``d alpha = sum(dy * f(x))``.
    """

    def __init__(self, branch: Layer, scale: float = 1.0, *, trainable: bool = False) -> None:
        super().__init__()
        if not isinstance(branch, Layer):
            raise TypeError(f"branch must be a Layer, got {type(branch).__name__}")
        self.branch = branch
        scale = _checks.finite_float(scale, "scale")
        self.trainable = bool(trainable)
        if self.trainable:
            self.params["alpha"] = np.array(scale)
        self._scale = scale
        self.f: np.ndarray | None = None

    @property
    def scale(self) -> float:
        return float(self.params["alpha"]) if self.trainable else self._scale

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self.f = self.branch.forward(x, ws)
        scale = self.scale
        with np.errstate(**QUIET):
            return x + self.f if scale == 1.0 and not self.trainable else x + scale * self.f

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self._need_forward("f")
        with np.errstate(**QUIET):
            if self.trainable:
                self.grads["alpha"] = np.array(np.sum(dy * self.f))
            scale = self.scale
            return dy + self.branch.backward(dy if scale == 1.0 and not self.trainable else scale * dy, ws)

    def named_params(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray, np.ndarray | None]]:
        yield from super().named_params(prefix)
        yield from self.branch.named_params(prefix + "branch.")


class _Normalize(Layer):
    """Shared core of layer and batch normalization: ``y = gamma * (x - mean) / sqrt(var + eps) + beta``.

    The statistics are taken over ``self.axis`` (``-1``: the features of each example, layer norm;
    ``-2``: the examples of each feature, batch norm). Backward of the normalization
    (Ioffe & Szegedy 2015): ``dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)`` with
    ``g = gamma * dy`` and means over the same axis.
    """

    axis = -1

    def __init__(self, n: int, eps: float = 1e-5, *, affine: bool = True, dtype=np.float64) -> None:
        super().__init__()
        self.n = _checks.positive_int(n, "n")
        self.eps = _checks.finite_float(eps, "eps", positive=True)
        if affine:
            dtype = _checks.float_dtype(dtype)
            self.params["gamma"] = np.ones(self.n, dtype=dtype)
            self.params["beta"] = np.zeros(self.n, dtype=dtype)
        self.xhat: np.ndarray | None = None
        self.inv_std: np.ndarray | None = None

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        if x.ndim < 2 or x.shape[-1] != self.n:
            raise ValueError(f"x must have shape (..., batch, {self.n}), got {x.shape}")
        with np.errstate(**QUIET):
            mean = x.mean(axis=self.axis, keepdims=True)
            centered = x - mean
            self.inv_std = 1.0 / np.sqrt(np.mean(centered * centered, axis=self.axis, keepdims=True) + self.eps)
            self.xhat = centered * self.inv_std
            if "gamma" not in self.params:
                return self.xhat
            return self.xhat * self.params["gamma"] + self.params["beta"]

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self._need_forward("xhat")
        xhat, ax = self.xhat, self.axis
        with np.errstate(**QUIET):
            if "gamma" in self.params:
                lead = tuple(range(dy.ndim - 1))
                self.grads["gamma"] = np.sum(dy * xhat, axis=lead)
                self.grads["beta"] = np.sum(dy, axis=lead)
                dy = dy * self.params["gamma"]
            return self.inv_std * (dy - dy.mean(axis=ax, keepdims=True)
                                   - xhat * np.mean(dy * xhat, axis=ax, keepdims=True))


class LayerNorm(_Normalize):
    """Layer normalization (Ba, Kiros & Hinton 2016): each example normalized over its features."""

    axis = -1


class BatchNorm(_Normalize):
    """Batch normalization in training mode (Ioffe & Szegedy 2015): each feature over the batch."""

    axis = -2


def stack(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Stack per-seed parameters on a new leading ensemble axis: ``E`` arrays -> shape ``(E, ...)``."""
    arrays = [np.asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("arrays must hold at least one member")
    if len({a.shape for a in arrays}) != 1:
        raise ValueError(f"arrays must all have one shape, got {sorted({a.shape for a in arrays})}")
    return np.stack(arrays)


def gradient_check(layer: Layer, x: np.ndarray, rng: np.random.Generator, *, eps: float = 1e-6) -> dict[str, float]:
    """Largest relative error of ``layer.backward`` against central finite differences, in float64.

    The scalar checked is ``L = sum(r * layer.forward(x))`` with a fixed random ``r``; for the input
    and for every parameter, each entry's derivative ``(L(p + eps) - L(p - eps)) / (2 eps)`` is
    compared with the analytic one. Returns ``{"x": err, "<param name>": err, ...}``, each error
    ``max |analytic - numeric| / max(1, max |numeric|)`` (O(eps^2) ~ 1e-10 for smooth layers).
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"layer must be a Layer, got {type(layer).__name__}")
    rng = _checks.generator(rng)
    x = np.array(x, dtype=np.float64)
    r = rng.standard_normal(layer.forward(x).shape)
    dx = np.array(layer.backward(r), dtype=np.float64)
    params = {name: (p, np.array(g, dtype=np.float64)) for name, p, g in layer.named_params()}

    def loss() -> float:
        return float(np.sum(r * layer.forward(x)))

    def numeric(a: np.ndarray) -> np.ndarray:
        out = np.empty(a.shape)
        for i in np.ndindex(a.shape):
            keep = a[i]
            a[i] = keep + eps
            up = loss()
            a[i] = keep - eps
            down = loss()
            a[i] = keep
            out[i] = (up - down) / (2 * eps)
        return out

    errors = {}
    for name, (a, grad) in {"x": (x, dx), **params}.items():
        num = numeric(a)
        errors[name] = float(np.max(np.abs(grad - num)) / max(1.0, float(np.max(np.abs(num)))))
    return errors
