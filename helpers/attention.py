"""The pieces of a small decoder-only transformer, as layers of the layer model.

Every class here is a :class:`helpers.layers.Layer` (``params``, ``grads``, ``forward``, ``backward``)
and every ``backward`` is checked against central finite differences in float64 in
``tests/test_attention.py``. Shapes: a batch of sequences is ``x`` of shape ``(batch, T, d_model)``;
token ids are integers of shape ``(batch, T)``.

* :class:`GELU` - the GELU activation in the tanh form used by GPT-2 (Hendrycks & Gimpel 2016).
* :class:`CausalSelfAttention` - multi-head scaled dot-product attention (Vaswani et al. 2017),
  with the score scale (``1/sqrt(d_k)`` by default) as a parameter and an optional causal mask.
* :class:`TokenEmbedding` - learned token and position embeddings, added.
* :class:`ScaledResidual` - ``y = skip * x + scale * branch(x)``: the residual of
  :class:`helpers.layers.Residual` with a multiplier on the skip path as well (DeepNorm's alpha,
  Wang et al. 2022).
* :func:`build_transformer` - embeddings, ``n_layers`` blocks of attention and MLP sublayers with
  Pre-LN, Post-LN or no layer normalization, an optional final layer norm and a linear head.

Initialization rules with a closed form are here too: :func:`gpt2_residual_std` (Radford et al.
2019), :func:`deepnorm_coefficients` (Wang et al. 2022) and :func:`tfixup_scale` (Huang et al. 2020).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from . import _checks
from .initializers import normal, xavier_normal
from .layers import QUIET, Dense, Layer, LayerNorm, Residual, Sequential, Workspace

PLACEMENTS = ("pre", "post", "none")
WEIGHT_INITS = ("normal", "xavier")
_GELU_C = math.sqrt(2.0 / math.pi)


def gelu(z: np.ndarray) -> np.ndarray:
    """GELU in its tanh form, ``0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))`` (Hendrycks & Gimpel 2016)."""
    return 0.5 * z * (1.0 + _gelu_tanh(z))


def _gelu_tanh(z: np.ndarray) -> np.ndarray:
    z2 = z * z  # z * z * z, not z**3: a float power is many times slower
    return np.tanh(_GELU_C * z * (1.0 + 0.044715 * z2))


def gelu_grad(z: np.ndarray, t: np.ndarray | None = None) -> np.ndarray:
    """The derivative of :func:`gelu` with respect to ``z`` (``t``: the tanh term, if already computed)."""
    t = _gelu_tanh(z) if t is None else t
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * z * z)


class GELU(Layer):
    """The GELU activation as a layer (the MLP nonlinearity of GPT-2 and BERT)."""

    def __init__(self) -> None:
        super().__init__()
        self.z: np.ndarray | None = None

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self.z = x
        with np.errstate(**QUIET):
            self.t = _gelu_tanh(x)
            return 0.5 * x * (1.0 + self.t)

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self._need_forward("z")
        with np.errstate(**QUIET):
            return dy * gelu_grad(self.z, self.t)


def softmax_rows(s: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the row maximum (``-inf`` entries get weight 0)."""
    with np.errstate(**QUIET):
        e = np.exp(s - np.max(s, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True)


class CausalSelfAttention(Layer):
    """Multi-head self-attention ``y = concat_h(softmax(scale * q_h k_h^T) v_h) W_o^T`` (Vaswani et al. 2017).

    ``q = x W_q^T``, ``k = x W_k^T``, ``v = x W_v^T``, each of shape ``(batch, T, d_model)``, split
    into ``n_heads`` heads of ``d_k = d_model / n_heads`` features. ``scale`` defaults to
    ``1/sqrt(d_k)``: with unit-variance entries a query-key dot product has variance ``d_k``, and the
    scale brings it back to 1. With ``causal=True`` position ``t`` attends only to positions ``<= t``.
    The attention weights of the last forward pass are kept in ``weights`` (``(batch, heads, T, T)``).

    Backward, with ``p`` the weights and ``g = dL/dp``: ``dL/ds = p * (g - sum_j g_j p_j)`` (the
    softmax Jacobian), then ``dq = scale * ds k``, ``dk = scale * ds^T q``, ``dv = p^T do``.
    """

    def __init__(self, w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray, w_o: np.ndarray, n_heads: int, *,
                 scale: float | None = None, causal: bool = True) -> None:
        super().__init__()
        arrays = {"w_q": w_q, "w_k": w_k, "w_v": w_v, "w_o": w_o}
        d = None
        for name, w in arrays.items():
            w = _checks.array(w, name, ndim=2)
            if w.shape[0] != w.shape[1] or (d is not None and w.shape[0] != d):
                raise ValueError(f"{name} must be a square (d_model, d_model) matrix like the others, got {w.shape}")
            d = w.shape[0]
            self.params[name] = w
        self.n_heads = _checks.positive_int(n_heads, "n_heads")
        if d % self.n_heads:
            raise ValueError(f"n_heads must divide d_model = {d}, got {n_heads}")
        self.d_model, self.d_k = d, d // self.n_heads
        self.scale = 1.0 / math.sqrt(self.d_k) if scale is None else _checks.finite_float(scale, "scale", positive=True)
        self.causal = bool(causal)
        self.weights: np.ndarray | None = None
        self._cache: tuple | None = None

    def _split(self, a: np.ndarray) -> np.ndarray:  # (B, T, d) -> (B, h, T, d_k)
        return a.reshape(a.shape[:-1] + (self.n_heads, self.d_k)).swapaxes(-2, -3)

    def _merge(self, a: np.ndarray) -> np.ndarray:  # (B, h, T, d_k) -> (B, T, d)
        a = a.swapaxes(-2, -3)
        return a.reshape(a.shape[:-2] + (self.d_model,))

    def scores(self, x: np.ndarray) -> np.ndarray:
        """The scaled scores ``scale * q k^T`` of every head, ``(batch, heads, T, T)``, before the mask."""
        x = self._check_x(x)
        p = self.params
        q, k = self._split(x @ p["w_q"].T), self._split(x @ p["w_k"].T)
        with np.errstate(**QUIET):
            return self.scale * (q @ k.swapaxes(-1, -2))

    def _check_x(self, x: np.ndarray) -> np.ndarray:
        x = _checks.array(x, "x")
        if x.ndim < 2 or x.shape[-1] != self.d_model:
            raise ValueError(f"x must have shape (..., T, {self.d_model}), got {x.shape}")
        return x

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        x = self._check_x(x)
        p = self.params
        with np.errstate(**QUIET):
            q, k, v = (self._split(x @ p[n].T) for n in ("w_q", "w_k", "w_v"))
            s = self.scale * (q @ k.swapaxes(-1, -2))
            if self.causal:
                T = x.shape[-2]
                s = np.where(np.tril(np.ones((T, T), dtype=bool)), s, -np.inf)
            a = softmax_rows(s)
            o = self._merge(a @ v)
            y = o @ p["w_o"].T
        self.weights = a
        self._cache = (x, q, k, v, a, o)
        return y

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self._need_forward("_cache")
        x, q, k, v, a, o = self._cache
        p = self.params
        d = self.d_model
        with np.errstate(**QUIET):
            self.grads["w_o"] = dy.reshape(-1, d).T @ o.reshape(-1, d)
            do = self._split(dy @ p["w_o"])
            da = do @ v.swapaxes(-1, -2)
            dv = a.swapaxes(-1, -2) @ do
            ds = a * (da - np.sum(da * a, axis=-1, keepdims=True))
            dq = self.scale * (ds @ k)
            dk = self.scale * (ds.swapaxes(-1, -2) @ q)
            dx = np.zeros_like(x, dtype=np.result_type(x, dy))
            x2 = x.reshape(-1, d)
            for name, g in (("w_q", dq), ("w_k", dk), ("w_v", dv)):
                g = self._merge(g)
                self.grads[name] = g.reshape(-1, d).T @ x2
                dx += g @ p[name]
        return dx


class TokenEmbedding(Layer):
    """Learned token and position embeddings: ``x[b, t] = token[ids[b, t]] + position[t]``.

    ``forward`` takes integer ids of shape ``(batch, T)`` with ``T <= max_len``; ``backward``
    accumulates the gradient of each used row and returns None (ids have no gradient).
    """

    def __init__(self, token: np.ndarray, position: np.ndarray) -> None:
        super().__init__()
        token = _checks.array(token, "token", ndim=2)
        position = _checks.array(position, "position", ndim=2)
        if position.shape[1] != token.shape[1]:
            raise ValueError(f"position must have {token.shape[1]} columns like token, got shape {position.shape}")
        self.params["token"], self.params["position"] = token, position
        self.ids: np.ndarray | None = None

    @property
    def vocab(self) -> int:
        return self.params["token"].shape[0]

    def forward(self, ids: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu" or ids.ndim != 2:
            raise TypeError(f"ids must be a 2-D integer array (batch, T), got dtype {ids.dtype} and shape {ids.shape}")
        if ids.shape[1] > self.params["position"].shape[0]:
            raise ValueError(f"ids must have at most {self.params['position'].shape[0]} positions, got {ids.shape[1]}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab):
            raise ValueError(f"ids must be integers in [0, {self.vocab - 1}]")
        self.ids = ids
        return self.params["token"][ids] + self.params["position"][: ids.shape[1]]

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> None:
        self._need_forward("ids")
        gt = np.zeros_like(self.params["token"])
        np.add.at(gt, self.ids.reshape(-1), dy.reshape(-1, dy.shape[-1]))
        gp = np.zeros_like(self.params["position"])
        gp[: self.ids.shape[1]] = dy.sum(axis=0)
        self.grads["token"], self.grads["position"] = gt, gp
        return None


class ScaledResidual(Residual):
    """``y = skip * x + scale * branch(x)``; with ``skip = 1`` exactly :class:`helpers.layers.Residual`.

    DeepNorm (Wang et al. 2022) up-weights the skip path by ``skip = alpha > 1`` before the Post-LN
    layer norm. ``trainable=True`` makes ``scale`` a learned scalar ``alpha`` as in ``Residual``
    (ReZero, SkipInit). Backward: ``dx = skip * dy + scale * branch.backward(dy)``.
    """

    def __init__(self, branch: Layer, scale: float = 1.0, *, skip: float = 1.0, trainable: bool = False) -> None:
        super().__init__(branch, scale, trainable=trainable)
        self.skip = _checks.finite_float(skip, "skip")

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self.f = self.branch.forward(x, ws)
        with np.errstate(**QUIET):
            return self.skip * x + self.scale * self.f

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self._need_forward("f")
        with np.errstate(**QUIET):
            if self.trainable:
                self.grads["alpha"] = np.array(np.sum(dy * self.f))
            return self.skip * dy + self.branch.backward(self.scale * dy, ws)


class Transformer(Layer):
    """Embeddings, ``2 n_layers`` residual sublayers (attention, MLP, attention, ...), optional final
    layer norm, linear head. Built by :func:`build_transformer`.

    ``forward(ids)`` returns logits ``(batch, T, vocab)`` and keeps the residual stream after the
    embedding and after every sublayer in ``stream`` (``2 n_layers + 1`` arrays).
    """

    def __init__(self, embedding: TokenEmbedding, sublayers: list[Layer], final_norm: LayerNorm | None,
                 head: Dense, *, placement: str) -> None:
        super().__init__()
        if not isinstance(embedding, TokenEmbedding):
            raise TypeError(f"embedding must be a TokenEmbedding, got {type(embedding).__name__}")
        sublayers = list(sublayers)
        if not sublayers or len(sublayers) % 2 or not all(isinstance(s, Layer) for s in sublayers):
            raise ValueError("sublayers must be a non-empty list of Layers, two per block (attention, MLP)")
        if final_norm is not None and not isinstance(final_norm, LayerNorm):
            raise TypeError(f"final_norm must be a LayerNorm or None, got {type(final_norm).__name__}")
        if not isinstance(head, Dense):
            raise TypeError(f"head must be a Dense layer, got {type(head).__name__}")
        self.embedding, self.sublayers, self.final_norm, self.head = embedding, sublayers, final_norm, head
        self.placement = _checks.choice(placement, "placement", PLACEMENTS)
        self.stream: list[np.ndarray] = []

    @property
    def n_layers(self) -> int:
        return len(self.sublayers) // 2

    def residual(self, i: int) -> ScaledResidual:
        """The residual of sublayer ``i`` (0-based: even ``i`` attention, odd ``i`` MLP)."""
        s = self.sublayers[i]
        return s.layers[0] if isinstance(s, Sequential) else s

    def attention(self, layer: int) -> CausalSelfAttention:
        """The attention layer of block ``layer`` (0-based)."""
        return _find(self.residual(2 * layer).branch, CausalSelfAttention)

    def mlp_out(self, layer: int) -> Dense:
        """The MLP's output projection (``W_2``, d_ff -> d_model) of block ``layer`` (0-based)."""
        branch = self.residual(2 * layer + 1).branch
        mlp = branch.layers[-1] if isinstance(branch.layers[-1], Sequential) else branch  # Pre-LN: (LN, MLP)
        return mlp.layers[-1]

    def forward(self, ids: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        x = self.embedding.forward(ids)
        self.stream = [x]
        for s in self.sublayers:
            x = s.forward(x)
            self.stream.append(x)
        if self.final_norm is not None:
            x = self.final_norm.forward(x)
        return self.head.forward(x)

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> None:
        dx = self.head.backward(dy)
        if self.final_norm is not None:
            dx = self.final_norm.backward(dx)
        self.stream_grads = [dx]
        for s in reversed(self.sublayers):
            dx = s.backward(dx)
            self.stream_grads.append(dx)
        self.stream_grads.reverse()
        self.embedding.backward(dx)
        return None

    def named_params(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray, np.ndarray | None]]:
        yield from self.embedding.named_params(prefix + "embedding.")
        for i, s in enumerate(self.sublayers):
            yield from s.named_params(f"{prefix}sublayer{i}.")
        if self.final_norm is not None:
            yield from self.final_norm.named_params(prefix + "final_norm.")
        yield from self.head.named_params(prefix + "head.")


def _find(layer: Layer, kind: type) -> Layer:
    if isinstance(layer, kind):
        return layer
    for sub in getattr(layer, "layers", []):
        if isinstance(sub, kind):
            return sub
    raise LookupError(f"no {kind.__name__} in this layer")


def gpt2_residual_std(n_layers: int, std: float = 0.02) -> float:
    """GPT-2's std for the output projections of the residual branches: ``std / sqrt(2 n_layers)``.

    Radford et al. (2019) scale the weights of residual layers by ``1/sqrt(N)`` with ``N`` the number
    of residual layers; with two residual branches per block (attention and MLP) ``N = 2 n_layers``,
    as in nanoGPT's ``_init_weights`` (``0.02 / math.sqrt(2 * config.n_layer)`` for every ``c_proj``).
    """
    n_layers = _checks.positive_int(n_layers, "n_layers")
    std = _checks.finite_float(std, "std", positive=True)
    return std / math.sqrt(2 * n_layers)


def deepnorm_coefficients(n_layers: int, architecture: str = "decoder") -> tuple[float, float]:
    """DeepNorm's ``(alpha, beta)`` for a stack of ``n_layers`` blocks (Wang et al. 2022, Table 1).

    Encoder-only with ``N`` layers: ``alpha = (2N)^(1/4)``, ``beta = (8N)^(-1/4)``; decoder-only with
    ``M`` layers: ``alpha = (2M)^(1/4)``, ``beta = (8M)^(-1/4)`` - the same formula. ``alpha``
    multiplies the skip path before the Post-LN layer norm, ``beta`` is the Xavier gain of the value
    and output projections of attention and of both MLP weights (query and key keep gain 1).
    """
    n_layers = _checks.positive_int(n_layers, "n_layers")
    _checks.choice(architecture, "architecture", ("encoder", "decoder"))
    return (2 * n_layers) ** 0.25, (8 * n_layers) ** -0.25


def tfixup_scale(n_layers: int) -> float:
    """T-Fixup's decoder factor ``(9N)^(-1/4)`` for ``N`` decoder layers (Huang et al. 2020).

    It multiplies the Xavier-initialized value and output projections of attention, both MLP weights
    and the ``N(0, d^(-1/2))`` input embeddings; T-Fixup then trains without layer normalization.
    """
    n_layers = _checks.positive_int(n_layers, "n_layers")
    return (9 * n_layers) ** -0.25


def build_transformer(vocab: int, d_model: int, n_heads: int, n_layers: int, max_len: int,
                      rng: np.random.Generator, *, placement: str = "pre", weight_init: str = "normal",
                      std: float = 0.02, embed_std: float = 0.02, out_gain: float = 1.0, value_gain: float = 1.0,
                      skip: float = 1.0, alpha: float | None = None, attn_scale: float | None = None,
                      d_ff: int | None = None, final_norm: bool | None = None) -> Transformer:
    """A decoder-only transformer of ``n_layers`` blocks; every weight drawn from ``rng`` in one fixed order.

    * ``placement``: ``"pre"`` - ``x + f(LN(x))`` (Pre-LN; a final layer norm before the head by
      default), ``"post"`` - ``LN(skip * x + f(x))`` (Post-LN, Vaswani et al. 2017; DeepNorm with
      ``skip > 1``), ``"none"`` - ``x + f(x)`` with no layer norm (T-Fixup, ReZero, SkipInit).
    * ``weight_init``: ``"normal"`` - every weight N(0, std^2) with std ``std`` (GPT-2); ``"xavier"`` - Xavier
      normal (Glorot & Bengio 2010) with gain ``value_gain`` for ``W_v``, ``W_1`` and ``out_gain``
      for ``W_o``, ``W_2`` (gain 1 for ``W_q``, ``W_k``). With ``"normal"`` the same two gains
      multiply those matrices' std (``out_gain = 1/sqrt(2 n_layers)`` is GPT-2's scaled init).
    * embeddings and head: standard deviations ``embed_std`` and ``std``; biases of the MLP start at 0.
    * ``alpha``: None for a fixed branch scale of 1; a number makes every branch scale a trainable
      scalar starting there (ReZero: 0; SkipInit: zero or a small constant).
    * ``attn_scale``: the score scale, ``1/sqrt(d_k)`` when None.
    """
    vocab = _checks.positive_int(vocab, "vocab")
    d_model = _checks.positive_int(d_model, "d_model")
    n_heads = _checks.positive_int(n_heads, "n_heads")
    if d_model % n_heads:
        raise ValueError(f"n_heads must divide d_model = {d_model}, got {n_heads}")
    n_layers = _checks.positive_int(n_layers, "n_layers")
    max_len = _checks.positive_int(max_len, "max_len")
    rng = _checks.generator(rng)
    _checks.choice(placement, "placement", PLACEMENTS)
    _checks.choice(weight_init, "weight_init", WEIGHT_INITS)
    std = _checks.finite_float(std, "std", positive=True)
    embed_std = _checks.finite_float(embed_std, "embed_std", positive=True)
    out_gain = _checks.finite_float(out_gain, "out_gain", non_negative=True)
    value_gain = _checks.finite_float(value_gain, "value_gain", non_negative=True)
    skip = _checks.finite_float(skip, "skip", positive=True)
    if alpha is not None:
        alpha = _checks.finite_float(alpha, "alpha")
    d_ff = 4 * d_model if d_ff is None else _checks.positive_int(d_ff, "d_ff")
    final_norm = placement == "pre" if final_norm is None else bool(final_norm)

    def weight(shape, gain):
        if weight_init == "normal":
            return gain * normal(shape, rng, std=std)
        return xavier_normal(shape, rng, gain=1.0) * gain

    embedding = TokenEmbedding(normal((vocab, d_model), rng, std=embed_std),
                               normal((max_len, d_model), rng, std=embed_std))
    sublayers: list[Layer] = []
    for _ in range(n_layers):
        attn = CausalSelfAttention(weight((d_model, d_model), 1.0), weight((d_model, d_model), 1.0),
                                   weight((d_model, d_model), value_gain), weight((d_model, d_model), out_gain),
                                   n_heads, scale=attn_scale)
        mlp = Sequential([Dense(weight((d_ff, d_model), value_gain), np.zeros(d_ff)), GELU(),
                          Dense(weight((d_model, d_ff), out_gain), np.zeros(d_model))])
        for branch in (attn, mlp):
            if placement == "pre":
                branch = Sequential([LayerNorm(d_model), branch])
            scale, trainable = (1.0, False) if alpha is None else (alpha, True)
            res = ScaledResidual(branch, scale, skip=skip, trainable=trainable)
            sublayers.append(Sequential([res, LayerNorm(d_model)]) if placement == "post" else res)
    head = Dense(normal((vocab, d_model), rng, std=std))
    return Transformer(embedding, sublayers, LayerNorm(d_model) if final_norm else None, head, placement=placement)


def sequence_loss(logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``targets`` (``(batch, T)`` ints) under softmax(``logits``) at the positions
    where ``mask`` is true (all when None), and its gradient with respect to ``logits``."""
    logits = _checks.array(logits, "logits", ndim=3)
    targets = np.asarray(targets)
    if targets.shape != logits.shape[:2] or targets.dtype.kind not in "iu":
        raise ValueError(f"targets must be integers of shape {logits.shape[:2]}, got {targets.dtype} {targets.shape}")
    mask = np.ones(targets.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape != targets.shape or not mask.any():
        raise ValueError(f"mask must be a boolean array of shape {targets.shape} with at least one True entry")
    z = logits[mask]
    with np.errstate(**QUIET):
        shifted = z - z.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        y = targets[mask]
        loss = -float(np.mean(logp[np.arange(len(y)), y]))
        g = np.exp(logp)
        g[np.arange(len(y)), y] -= 1.0
        g /= len(y)
    grad = np.zeros_like(logits, dtype=np.float64)
    grad[mask] = g
    return loss, grad
