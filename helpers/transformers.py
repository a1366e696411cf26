"""Experiments of the chapter *Initializing transformers*, on the layers of :mod:`helpers.attention`.

* :func:`attention_saturation` - what the ``1/sqrt(d_k)`` scale does to the softmax at initialization;
* :func:`stream_profile` - the residual stream's second moment over the sublayers of a Pre-LN
  stack, measured (the prediction, GPT-2's scaled init or not, is
  :func:`helpers.theory.signal.predicted_stream_variance`);
* :func:`layer_gradient_norms` - per-layer gradient norms at initialization (Xiong et al. 2020);
* :data:`SCHEMES` and :func:`scheme_kwargs` - the initialization remedies on one stack;
* :func:`rank_collapse` - how far token representations are from rank one, over depth
  (Dong et al. 2021);
* :func:`copy_batch` and :func:`train_copy` - a small sequence task trained with Adam;
* :func:`make_lab` - the chapter's lab.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks
from .attention import (CausalSelfAttention, Transformer, build_transformer, deepnorm_coefficients, sequence_loss,
                        softmax_rows, tfixup_scale)
from .initializers import xavier_normal
from .optimizers import Adam

#: The initialization schemes that :func:`scheme_kwargs` knows, in the order the chapter draws them.
SCHEMES = ("Post-LN", "Pre-LN", "Pre-LN, GPT-2 scaled", "DeepNorm", "T-Fixup", "ReZero", "SkipInit", "no LN")


def attention_saturation(d_ks, rng: np.random.Generator, *, tokens: int = 16, rows: int = 2000) -> dict:
    """Softmax statistics of random query-key scores, with and without the ``1/sqrt(d_k)`` scale.

    Queries and keys have independent N(0, 1) entries (what unit-variance inputs and variance-
    preserving projections give). For each ``d_k``: the variance of the raw dot products, and for the
    scaled and the unscaled scores the mean entropy of an attention row (in nats; ``ln tokens`` is
    uniform), the mean largest weight and the mean Frobenius norm of the softmax Jacobian
    ``diag(p) - p p^T`` (how much gradient passes back to the scores).
    """
    d_ks = [_checks.positive_int(d, "d_ks[i]") for d in d_ks]
    if not d_ks:
        raise ValueError("d_ks must hold at least one key dimension")
    rng = _checks.generator(rng)
    tokens = _checks.positive_int(tokens, "tokens")
    rows = _checks.positive_int(rows, "rows")
    out = {"d_k": np.array(d_ks), "score_var": [], **{f"{k}_{s}": [] for k in ("entropy", "max", "jacobian")
                                                     for s in ("scaled", "unscaled")}}
    for d in d_ks:
        q = rng.standard_normal((rows, 1, d))
        k = rng.standard_normal((rows, tokens, d))
        s = (q @ k.swapaxes(-1, -2))[:, 0, :]
        out["score_var"].append(float(np.var(s)))
        for label, scale in (("scaled", 1 / math.sqrt(d)), ("unscaled", 1.0)):
            p = softmax_rows(scale * s)
            with np.errstate(divide="ignore", invalid="ignore"):
                ent = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)
            p2 = np.sum(p**2, axis=-1)  # ||diag(p) - p p^T||_F^2 = sum p^2 - 2 sum p^3 + (sum p^2)^2 >= 0
            jac = np.sqrt(np.maximum(p2 - 2 * np.sum(p**3, axis=-1) + p2**2, 0.0))
            out[f"entropy_{label}"].append(float(ent.mean()))
            out[f"max_{label}"].append(float(p.max(axis=-1).mean()))
            out[f"jacobian_{label}"].append(float(jac.mean()))
    return {k: np.asarray(v) for k, v in out.items()}


def _ids(rng: np.random.Generator, batch: int, tokens: int, vocab: int) -> np.ndarray:
    return rng.integers(0, vocab, (batch, tokens))


def stream_profile(net: Transformer, ids: np.ndarray) -> np.ndarray:
    """Mean square of the residual stream after the embedding and after each sublayer (``2 L + 1`` values)."""
    if not isinstance(net, Transformer):
        raise TypeError(f"net must be a Transformer, got {type(net).__name__}")
    net.forward(ids)
    return np.array([float(np.mean(x * x)) for x in net.stream])


def scheme_kwargs(scheme: str, n_layers: int) -> dict:
    """The :func:`~helpers.attention.build_transformer` arguments of one of :data:`SCHEMES`.

    Post-LN and Pre-LN use Xavier-normal weights (as in Xiong et al. 2020) with unit-variance
    embeddings; "Pre-LN, GPT-2 scaled" divides the output projections by ``sqrt(2 L)``; DeepNorm is
    Post-LN with skip ``alpha`` and gain ``beta`` (decoder-only, ``M = L``); T-Fixup removes the layer
    norms and scales ``W_v, W_o, W_1, W_2`` and the ``N(0, d^(-1/2))`` embeddings by ``(9L)^(-1/4)``;
    ReZero and SkipInit remove the layer norms and put a trainable scalar on every branch, starting
    at 0 (ReZero) or at ``1/sqrt(2L)`` (SkipInit's small constant, ``1/sqrt(number of branches)``);
    "no LN" removes the layer norms and nothing else.
    """
    _checks.choice(scheme, "scheme", SCHEMES)
    n_layers = _checks.positive_int(n_layers, "n_layers")
    base = {"weight_init": "xavier", "embed_std": math.sqrt(0.5)}
    if scheme == "Post-LN":
        return {**base, "placement": "post"}
    if scheme == "Pre-LN":
        return {**base, "placement": "pre"}
    if scheme == "Pre-LN, GPT-2 scaled":
        return {**base, "placement": "pre", "out_gain": 1 / math.sqrt(2 * n_layers)}
    if scheme == "DeepNorm":
        a, b = deepnorm_coefficients(n_layers, "decoder")
        return {**base, "placement": "post", "skip": a, "value_gain": b, "out_gain": b}
    if scheme == "T-Fixup":
        return {"weight_init": "xavier", "placement": "none", "value_gain": tfixup_scale(n_layers),
                "out_gain": tfixup_scale(n_layers), "embed_std": None}
    if scheme == "ReZero":
        return {**base, "placement": "none", "alpha": 0.0}
    if scheme == "SkipInit":
        return {**base, "placement": "none", "alpha": 1 / math.sqrt(2 * n_layers)}
    return {**base, "placement": "none"}


def build_scheme(scheme: str, n_layers: int, rng: np.random.Generator, *, vocab: int = 16, d_model: int = 64,
                 n_heads: int = 4, max_len: int = 16) -> Transformer:
    """The stack of :func:`scheme_kwargs`.

    T-Fixup's input embedding is N(0, d^(-1/2)) times ``(9L)^(-1/4)``; here it is the sum of a token
    and a position embedding, each with half that variance.
    """
    kw = scheme_kwargs(scheme, n_layers)
    if kw.get("embed_std", 0.0) is None:
        kw["embed_std"] = d_model**-0.25 * tfixup_scale(n_layers) / math.sqrt(2)
    return build_transformer(vocab, d_model, n_heads, n_layers, max_len, rng, **kw)


def _grad_pass(net: Transformer, rng: np.random.Generator, batch: int, tokens: int) -> None:
    vocab = net.embedding.vocab
    ids, targets = _ids(rng, batch, tokens, vocab), _ids(rng, batch, tokens, vocab)
    _, g = sequence_loss(net.forward(ids), targets)
    net.backward(g)


def layer_gradient_norms(net: Transformer, rng: np.random.Generator, *, batch: int = 8, tokens: int = 16) -> np.ndarray:
    """Frobenius norm of dL/dW_2 (the MLP output projection) of every block, for a random next-token
    loss at initialization (``L`` values, first block first) - the quantity of Xiong et al.'s Theorem 1."""
    if not isinstance(net, Transformer):
        raise TypeError(f"net must be a Transformer, got {type(net).__name__}")
    rng = _checks.generator(rng)
    _grad_pass(net, rng, _checks.positive_int(batch, "batch"), _checks.positive_int(tokens, "tokens"))
    return np.array([float(np.linalg.norm(net.mlp_out(i).grads["weight"])) for i in range(net.n_layers)])


def depth_profile(scheme: str, n_layers: int, seeds, *, d_model: int = 64, n_heads: int = 4, tokens: int = 16,
                  batch: int = 8) -> dict:
    """For one scheme: the stream's mean square over sublayers (relative to the embedding's), the
    gradient norm of each block's ``W_2`` and the mean square of the gradient reaching the embedding,
    averaged over ``seeds`` (each one network and one batch)."""
    seeds = [_checks.positive_int(s, "seeds[i]", allow_zero=True) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    stream, grads, emb = [], [], []
    for s in seeds:
        rng = np.random.default_rng([s, n_layers, 7])
        net = build_scheme(scheme, n_layers, rng, d_model=d_model, n_heads=n_heads, max_len=tokens)
        grads.append(layer_gradient_norms(net, rng, batch=batch, tokens=tokens))
        ms = np.array([float(np.mean(x * x)) for x in net.stream])
        stream.append(ms / ms[0])
        emb.append(float(np.mean(net.stream_grads[0] ** 2)))
    return {"stream": np.mean(stream, axis=0), "grad": np.mean(grads, axis=0), "input_grad": float(np.mean(emb))}


def rank_collapse(n_layers: int, rng: np.random.Generator, *, residual: bool, branch_scale: float = 1.0,
                  d_model: int = 64, n_heads: int = 4, tokens: int = 16, batch: int = 8) -> np.ndarray:
    """Relative distance of the token representations from rank one after each of ``n_layers``
    attention layers (no MLP, no layer norm, no mask), ``||X - 1 mean(X)||_F / ||X||_F``.

    Dong et al. (2021) prove that pure attention drives this to 0 doubly exponentially with depth and
    that skip connections can prevent it; Noci et al. (2022) show that with unit-scale branches the
    skip path alone does not, and scale the branches by ``1/sqrt(L)``. With ``residual`` each layer
    is ``x + branch_scale * attention(x)``. Xavier-normal weights, N(0, 1) inputs; ``n_layers + 1`` values.
    """
    n_layers = _checks.positive_int(n_layers, "n_layers")
    branch_scale = _checks.finite_float(branch_scale, "branch_scale", non_negative=True)
    rng = _checks.generator(rng)
    x = rng.standard_normal((batch, tokens, d_model))

    def measure(a):
        centred = a - a.mean(axis=-2, keepdims=True)
        return float(np.mean(np.linalg.norm(centred, axis=(-2, -1)) / np.linalg.norm(a, axis=(-2, -1))))

    out = [measure(x)]
    for _ in range(n_layers):
        att = CausalSelfAttention(*(xavier_normal((d_model, d_model), rng) for _ in range(4)), n_heads, causal=False)
        with np.errstate(all="ignore"):
            x = x + branch_scale * att.forward(x) if residual else att.forward(x)
        out.append(measure(x))
    return np.array(out)


def copy_batch(rng: np.random.Generator, batch: int, length: int, vocab: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A batch of the copy task: ``length`` random symbols from ``1..vocab-1``, a separator 0, the same
    symbols again. Returns inputs and next-token targets (``2 length`` positions) and the mask of the
    positions whose target is a copied symbol (where the model can do better than chance)."""
    rng = _checks.generator(rng)
    batch, length, vocab = (_checks.positive_int(v, n) for v, n in ((batch, "batch"), (length, "length"),
                                                                     (vocab, "vocab")))
    if vocab < 3:
        raise ValueError(f"vocab must be at least 3 (a separator and two symbols), got {vocab}")
    sym = rng.integers(1, vocab, (batch, length))
    seq = np.concatenate([sym, np.zeros((batch, 1), dtype=sym.dtype), sym], axis=1)
    mask = np.zeros((batch, 2 * length), dtype=bool)
    mask[:, length:] = True
    return seq[:, :-1], seq[:, 1:], mask


def train_copy(placement: str, seed: int, *, steps: int = 150, lr: float = 3e-3, warmup: int = 0, n_layers: int = 4,
               d_model: int = 32, n_heads: int = 4, length: int = 4, vocab: int = 8, batch: int = 32) -> dict:
    """Train one transformer (Xavier weights, ``placement`` ``"pre"`` or ``"post"``) on the copy task
    with Adam at learning rate ``lr``, linearly warmed up over ``warmup`` steps. Returns the loss on
    the copied positions at every step and the final accuracy on a fixed batch of 128 new sequences."""
    _checks.choice(placement, "placement", ("pre", "post"))
    steps = _checks.positive_int(steps, "steps")
    warmup = _checks.positive_int(warmup, "warmup", allow_zero=True)
    lr = _checks.finite_float(lr, "lr", positive=True)
    rng = np.random.default_rng([_checks.positive_int(seed, "seed", allow_zero=True), 3])
    net = build_transformer(vocab, d_model, n_heads, n_layers, 2 * length, rng, placement=placement,
                            weight_init="xavier", embed_std=math.sqrt(0.5))
    opt = Adam(net, lr)
    losses = np.empty(steps)
    for t in range(steps):
        opt.lr = lr * min(1.0, (t + 1) / warmup) if warmup else lr
        ids, targets, mask = copy_batch(rng, batch, length, vocab)
        loss, g = sequence_loss(net.forward(ids), targets, mask)
        losses[t] = loss
        net.backward(g)
        opt.step()
    ids, targets, mask = copy_batch(np.random.default_rng(12345), 128, length, vocab)
    pred = net.forward(ids).argmax(axis=-1)
    return {"loss": losses, "accuracy": float(np.mean(pred[mask] == targets[mask]))}


LAB_INITS = ("N(0, 0.02²)", "GPT-2 scaled")
LAB_PLACEMENTS = ("Pre-LN", "Post-LN")


def lab_compute(depth: int, placement: str, init: str, d_k: int, *, d_model: int = 32, tokens: int = 16,
                batch: int = 4) -> dict:
    """One setting of the lab: the stream's mean square after the embedding and every sublayer, the
    gradient norm of each block's ``W_2`` and the mean attention entropy of the first layer."""
    depth = _checks.positive_int(depth, "depth")
    _checks.choice(placement, "placement", LAB_PLACEMENTS)
    _checks.choice(init, "init", LAB_INITS)
    d_k = _checks.positive_int(d_k, "d_k")
    if d_model % d_k:
        raise ValueError(f"d_k must divide d_model = {d_model}, got {d_k}")
    rng = np.random.default_rng([depth, d_k, 5])
    kw = {}
    if init == "GPT-2 scaled":
        kw["out_gain"] = 1 / math.sqrt(2 * depth)
    net = build_transformer(16, d_model, d_model // d_k, depth, tokens, rng,
                            placement="pre" if placement == "Pre-LN" else "post", **kw)
    grads = layer_gradient_norms(net, rng, batch=batch, tokens=tokens)
    ms = np.array([float(np.mean(x * x)) for x in net.stream])
    w = net.attention(0).weights
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.sum(np.where(w > 0, w * np.log(w), 0.0), axis=-1)
    return {"stream": ms, "grad": grads, "entropy": float(ent[..., -1].mean()),
            "uniform": math.log(tokens)}


def lab_render(fig, data: dict, p: dict) -> None:
    """Draw a lab setting: the residual stream (left) and the per-layer gradient norms (right)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    sup = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")
    power = FuncFormatter(lambda v, _: "10" + str(int(round(np.log10(v)))).translate(sup))  # plain text: fast
    ax_s, ax_g = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.8, wspace=0.3)
    sub = np.arange(len(data["stream"]))
    ax_s.plot(sub, data["stream"], color="#0072B2", marker="o", ms=2.5)
    ax_s.set(yscale="log", ylim=(1e-4, 10), xlabel="sublayer (0 = embeddings)",
             ylabel="E[x²]", title="residual stream")
    layers = np.arange(1, len(data["grad"]) + 1)
    ax_g.plot(layers, data["grad"], color="#D55E00", marker="s", ms=3)
    ax_g.set(yscale="log", ylim=(1e-3, 10), xlabel="block", ylabel="‖∂L/∂W₂‖ (Frobenius)",
             title="gradient norm at initialization")
    for ax, decades in ((ax_s, range(-4, 2)), (ax_g, range(-3, 2))):
        ax.yaxis.set_major_locator(FixedLocator([10.0**k for k in decades]))
        ax.yaxis.set_major_formatter(power)
        ax.yaxis.set_minor_locator(NullLocator())
    fig.suptitle(f"{p['placement']}, {p['init']}, depth {p['depth']}, d_k = {p['d_k']}: last-token attention "
                 f"entropy {data['entropy']:.2f} nats (uniform {data['uniform']:.2f})", fontsize=9, y=0.97)


def make_lab():
    """The chapter's lab: depth, layer-norm placement, initialization and key dimension as controls."""
    from .labs import Control, Lab

    lab: Lab

    def alt(p: dict) -> str:
        d = lab.data(**p)
        return (f"{p['placement']} stack of depth {p['depth']} with {p['init']} weights and d_k = {p['d_k']}: "
                f"the residual stream's second moment goes from {d['stream'][0]:.2g} to {d['stream'][-1]:.2g}; the "
                f"gradient norm of W2 goes from {d['grad'][0]:.2g} in block 1 to {d['grad'][-1]:.2g} in the last "
                "block.")

    lab = Lab("transformers-lab", [Control("depth", (6, 24), 24, "depth"),
                                   Control("placement", LAB_PLACEMENTS, "Pre-LN", "layer norm"),
                                   Control("init", LAB_INITS, "N(0, 0.02²)", "initialization"),
                                   Control("d_k", (8, 32), 8, "d_k")],
              lambda **p: lab_compute(**p), lab_render, alt, figsize=(9, 3.4))
    return lab
