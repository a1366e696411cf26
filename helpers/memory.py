"""Experiments of the chapter on recurrent networks: gradients through time, spectra, a memory task.

Built on :mod:`helpers.recurrent` (the cells and the recurrent initializers) and
:mod:`helpers.optimizers`. Every multi-seed study is one ensemble: the cells of all seeds (and of
all initializers) are stacked on a leading axis and run in one batched pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import FixedLocator, NullLocator

from . import _checks
from .labs import Control, Lab
from .layers import Dense, Sequential
from .optimizers import Adam
from .recurrent import CELLS, RECURRENT_KINDS, LastStep, SimpleRNN, make_cell, recurrent_matrix, sigmoid, simple_rnn

LAB_CELLS = ("tanh RNN", "ReLU RNN", "LSTM")


def gradient_by_lag(cell, x: np.ndarray, rng: np.random.Generator, *, state: str = "h") -> np.ndarray:
    """Norm of dL/dh_{T-1-k} for every lag ``k = 0..T`` when the loss sees only the last state.

    The loss is ``L = sum_b r_b . h_{T-1}`` with a random unit vector ``r_b`` per sequence, so the
    gradient at lag ``k`` is ``r`` pushed back through ``k`` Jacobians (lag ``T`` is the initial
    state). Returns the root mean square over the batch, divided by its value at lag 0: shape
    ``(T + 1,)``, or ``(E, T + 1)`` for an ensemble. ``state="c"`` measures an LSTM's cell state.
    """
    _checks.choice(state, "state", ("h", "c"))
    rng = _checks.generator(rng)
    if state == "c" and not hasattr(cell, "dc"):
        raise ValueError("state='c' needs an LSTM (only it has a cell state)")
    hs = cell.forward(x)
    dy = np.zeros(hs.shape)
    r = rng.standard_normal(hs[..., -1, :].shape)
    dy[..., -1, :] = r / np.linalg.norm(r, axis=-1, keepdims=True)
    cell.backward(dy)
    d, d0 = (cell.dh, cell.dh0) if state == "h" else (cell.dc, cell.dc0)
    full = np.concatenate([d0[..., None, :], d], axis=-2)
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.sqrt(np.mean(np.sum(full * full, axis=-1), axis=-2))[..., ::-1]
        return norms / norms[..., :1]


def gradient_norms(cell: str, seq_len: int, rng: np.random.Generator, *, n_hidden: int = 32, n_in: int = 4,
                   n_seeds: int = 8, batch: int = 8, input_scale: float = 0.1, state: str = "h",
                   **cell_kwargs) -> np.ndarray:
    """:func:`gradient_by_lag` for ``n_seeds`` independent cells at once: shape ``(n_seeds, seq_len + 1)``.

    Inputs are i.i.d. N(0, input_scale^2); ``cell`` is ``"rnn"``, ``"lstm"`` or ``"gru"`` and
    ``cell_kwargs`` go to :func:`helpers.recurrent.make_cell` (``recurrent``, ``spectral_radius``,
    ``activation``, ``forget_bias``, ...).
    """
    seq_len = _checks.positive_int(seq_len, "seq_len")
    n_seeds = _checks.positive_int(n_seeds, "n_seeds")
    batch = _checks.positive_int(batch, "batch")
    scale = _checks.finite_float(input_scale, "input_scale", positive=True)
    rng = _checks.generator(rng)
    model = make_cell(cell, n_in, n_hidden, rng, ensemble=n_seeds, **cell_kwargs)
    x = scale * rng.standard_normal((n_seeds, batch, seq_len, n_in))
    return gradient_by_lag(model, x, rng, state=state)


def geometric_mean(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """``exp(mean(log values))`` along ``axis``: the typical size of gradient norms that span decades."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(np.mean(np.log(values), axis=axis))


def forget_decay(forget_bias: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Predicted ``|dL/dc_{T-1-k}| / |dL/dc_{T-1}|`` along the cell state when every gate sits at its bias.

    Along the cell state the gradient of unit ``j`` is multiplied by ``f_j = sigmoid(b_j)`` per step,
    so for an isotropic gradient at lag 0 the norm at lag ``k`` is ``sqrt(mean_j f_j^(2k))``; for one
    bias ``b`` this is ``exp(-k / tau)`` with ``tau`` the :func:`helpers.recurrent.memory_time`.
    ``forget_bias`` has shape ``(n,)`` or ``(E, n)``; the result ``(len(lags),)`` or ``(E, len(lags))``.
    """
    f = sigmoid(_checks.array(forget_bias, "forget_bias"))
    lags = _checks.array(lags, "lags", ndim=1)
    return np.sqrt(np.mean(f[..., None] ** (2.0 * lags), axis=-2))


def fitted_memory_time(norms: np.ndarray, lags: np.ndarray) -> float:
    """The memory time ``tau`` of a least-squares fit ``log norm = a - lag / tau``."""
    norms, lags = np.asarray(norms, dtype=float), np.asarray(lags, dtype=float)
    if norms.shape != lags.shape or norms.ndim != 1 or norms.size < 2:
        raise ValueError(f"norms and lags must be 1-D of one length >= 2, got {norms.shape} and {lags.shape}")
    slope = np.polyfit(lags, np.log(norms), 1)[0]
    return float(-1.0 / slope)


def spectrum(kind: str, n: int, rng: np.random.Generator, *, spectral_radius: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (complex) and singular values of one :func:`~helpers.recurrent.recurrent_matrix`."""
    w = recurrent_matrix(kind, n, rng, spectral_radius=spectral_radius)
    return np.linalg.eigvals(w), np.linalg.svd(w, compute_uv=False)


# --------------------------------------------------------------------------------------------
# The adding problem
# --------------------------------------------------------------------------------------------
def adding_problem(n: int, seq_len: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of the adding problem (Hochreiter & Schmidhuber 1997): ``x`` of shape
    ``(n, seq_len, 2)`` and targets ``y`` of shape ``(n, 1)``.

    Channel 0 holds numbers drawn from U[0, 1]; channel 1 marks two positions, one in each half of
    the sequence. The target is the sum of the two marked numbers. Predicting the mean, 1, gives a
    mean squared error of Var = 2/12 = 1/6; beating it needs a memory of the first marked number
    across at least ``seq_len / 2`` steps on average.
    """
    n = _checks.positive_int(n, "n")
    seq_len = _checks.positive_int(seq_len, "seq_len")
    if seq_len < 2:
        raise ValueError(f"seq_len must be at least 2, got {seq_len}")
    rng = _checks.generator(rng)
    half = seq_len // 2
    x = np.zeros((n, seq_len, 2))
    x[..., 0] = rng.uniform(0.0, 1.0, size=(n, seq_len))
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    rows = np.arange(n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = (x[rows, first, 0] + x[rows, second, 0])[:, None]
    return x, y


@dataclass
class AddingRun:
    """Training curves of an ensemble on the adding problem: ``loss`` is ``(E, steps)``; ``labels`` names
    each member's initializer; ``test_mse`` is ``(E,)`` on held-out sequences; ``diverged_at`` the first
    step with a non-finite loss per member (-1 if none)."""

    labels: list[str]
    loss: np.ndarray
    test_mse: np.ndarray
    diverged_at: np.ndarray


ADDING_SETUPS = {
    "Gaussian, tanh": dict(recurrent="gaussian", activation="tanh"),
    "orthogonal, tanh": dict(recurrent="orthogonal", activation="tanh"),
    "IRNN (identity, ReLU)": dict(recurrent="identity", activation="relu"),
}


def train_adding(setups: dict[str, dict], seq_len: int, rng: np.random.Generator, *, n_seeds: int = 3,
                 n_hidden: int = 32, steps: int = 300, batch: int = 32, lr: float = 0.01,
                 spectral_radius: float = 1.0, n_test: int = 256) -> AddingRun:
    """Train simple RNNs (and a linear read-out of the last state) on :func:`adding_problem` with Adam.

    ``setups`` maps a label to :func:`helpers.recurrent.simple_rnn` keywords (``recurrent``,
    ``activation``). All setups and ``n_seeds`` seeds each are **one** ensemble, trained on the same
    batches; the members differ only in their initialization. Loss: mean squared error per member.
    """
    if not isinstance(setups, dict) or not setups:
        raise ValueError("setups must be a non-empty dict label -> simple_rnn keywords")
    seq_len = _checks.positive_int(seq_len, "seq_len")
    n_seeds, steps = _checks.positive_int(n_seeds, "n_seeds"), _checks.positive_int(steps, "steps")
    batch = _checks.positive_int(batch, "batch")
    rng = _checks.generator(rng)
    groups: dict[str, list] = {}   # one ensemble per activation (a cell has one nonlinearity)
    for label, kw in setups.items():
        cell = simple_rnn(2, n_hidden, rng, spectral_radius=spectral_radius, ensemble=n_seeds, **kw)
        groups.setdefault(kw.get("activation", "tanh"), []).append((label, cell))
    models, labels = [], []
    for act, members in groups.items():
        stacked = {name: np.concatenate([c.params[name] for _, c in members]) for name in ("weight_ih", "weight_hh", "bias")}
        rnn = SimpleRNN(stacked["weight_ih"], stacked["weight_hh"], stacked["bias"], activation=act)
        models.append(_model(rnn, n_hidden, rng))
        labels += [label for label, _ in members for _ in range(n_seeds)]
    e = len(labels)
    opts = [Adam(m, lr) for m in models]
    loss = np.full((e, steps), np.nan)
    x_test, y_test = adding_problem(n_test, seq_len, rng)
    for step in range(steps):
        x, y = adding_problem(batch, seq_len, rng)
        start = 0
        for m, opt in zip(models, opts):
            k = m.layers[0].ensemble
            pred = m.forward(np.broadcast_to(x, (k,) + x.shape))
            err = pred - y
            with np.errstate(over="ignore", invalid="ignore"):
                loss[start:start + k, step] = np.mean(err[..., 0] ** 2, axis=1)
                m.backward(2.0 * err / batch)
            opt.step()
            start += k
    test, start = np.empty(e), 0
    for m in models:
        k = m.layers[0].ensemble
        with np.errstate(over="ignore", invalid="ignore"):
            test[start:start + k] = np.mean((m.forward(np.broadcast_to(x_test, (k,) + x_test.shape)) - y_test)[..., 0] ** 2, axis=1)
        start += k
    bad = ~np.isfinite(loss)
    diverged = np.where(bad.any(axis=1), bad.argmax(axis=1), -1)
    return AddingRun(labels, loss, test, diverged)


def _model(cell, n_hidden: int, rng: np.random.Generator) -> Sequential:
    e = cell.ensemble
    w = rng.standard_normal((e, 1, n_hidden)) / np.sqrt(n_hidden)
    return Sequential([cell, LastStep(), Dense(w, np.ones((e, 1)))])


# --------------------------------------------------------------------------------------------
# The lab
# --------------------------------------------------------------------------------------------
def lab_compute(cell: str, init: str, spectral_radius: float, seq_len: int, *, n_hidden: int = 32,
                n_seeds: int = 6, seed: int = 0) -> dict:
    """Data of one lab setting: gradient norms by lag for ``n_seeds`` cells, and their geometric mean."""
    _checks.choice(cell, "cell", LAB_CELLS)
    _checks.choice(init, "init", RECURRENT_KINDS)
    rng = np.random.default_rng(seed)
    kind, kw = {"tanh RNN": ("rnn", {"activation": "tanh"}), "ReLU RNN": ("rnn", {"activation": "relu"}),
                "LSTM": ("lstm", {})}[cell]
    g = gradient_norms(kind, seq_len, rng, n_hidden=n_hidden, n_seeds=n_seeds, recurrent=init,
                       spectral_radius=spectral_radius, **kw)
    return {"norms": g, "typical": geometric_mean(g)}


def _lab_render(fig, data: dict, params: dict) -> None:
    ax_g = fig.subplots()
    lags = np.arange(params["seq_len"] + 1)
    floor, top = 1e-12, 1e6

    def clip(a):
        return np.clip(np.nan_to_num(a, nan=top, posinf=top), floor, top)

    ax_g.fill_between(lags, clip(data["norms"].min(axis=0)), clip(data["norms"].max(axis=0)), color="#56B4E9",
                      alpha=0.5, lw=0, label="range over seeds")
    ax_g.plot(lags, clip(data["typical"]), color="#000000", lw=2, label="geometric mean")
    ax_g.plot(lags, params["spectral_radius"] ** lags, color="#D55E00", ls="--", label=r"$\rho^k$")
    ax_g.set_yscale("log")
    ax_g.yaxis.set_major_locator(FixedLocator(10.0 ** np.arange(-12, 7, 3)))
    ax_g.yaxis.set_minor_locator(NullLocator())
    ax_g.set(ylim=(floor, top), xlim=(0, params["seq_len"]), xlabel="time lag k",
             ylabel="relative gradient norm",
             title=f"{params['cell']}, {params['init']} matrix, spectral radius {params['spectral_radius']:g}")
    ax_g.legend(loc="lower left", fontsize=8)
    fig.subplots_adjust(left=0.12, right=0.98, bottom=0.16, top=0.9)


def _lab_alt(params: dict) -> str:
    return (f"The gradient norm of a {params['cell']} with a {params['init']} recurrent matrix of spectral radius "
            f"{params['spectral_radius']:g} against the time lag up to {params['seq_len']} on a log scale: a "
            f"band for the range over seeds, their geometric mean in black and the curve rho to the power k dashed.")


def lab(*, n_hidden: int = 32, n_seeds: int = 6) -> Lab:
    """The chapter's lab: cell type, recurrent initializer, spectral radius and sequence length."""
    controls = [Control("cell", LAB_CELLS, "tanh RNN"), Control("init", RECURRENT_KINDS, "orthogonal"),
                Control("spectral_radius", (0.9, 1.1), 0.9, "spectral radius"),
                Control("seq_len", (30, 100), 100, "sequence length")]

    def compute(cell, init, spectral_radius, seq_len):
        return lab_compute(cell, init, spectral_radius, seq_len, n_hidden=n_hidden, n_seeds=n_seeds)

    return Lab("recurrent-gradients", controls, compute, _lab_render, _lab_alt, figsize=(6.4, 3.2))


__all__ = ["AddingRun", "ADDING_SETUPS", "CELLS", "LAB_CELLS", "adding_problem", "fitted_memory_time", "forget_decay",
           "geometric_mean", "gradient_by_lag", "gradient_norms", "lab", "lab_compute", "spectrum", "train_adding"]
