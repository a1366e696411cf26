"""The book's training comparisons replayed on real data: the UCI handwritten digits.

Four chapters (the introduction, Xavier/Glorot, He/Kaiming, initialization in practice) make claims
about which initialization trains better, first on synthetic data. :func:`compare_on_digits` runs
the same comparison on the 8x8 digits of :func:`helpers.data.digits` (64 standardized pixels,
10 classes, a fixed stratified train/test split): every initialization with every seed, all
networks trained together as one ensemble (:func:`helpers.training.train_ensemble`), and reports per
seed the training loss curve, the final loss and accuracy on the training part, and the accuracy
and loss on the held-out test part. :func:`plot_comparison` draws the medians and the spread over
seeds next to the test accuracies.
"""

from __future__ import annotations

import warnings

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import _checks
from .activations import get_activation
from .data import digits
from .network import MLP, build_mlp, ensemble_cross_entropy, forward, stack_mlps
from .training import running_mean, train_ensemble

N_PIXELS, N_CLASSES = 64, 10


@dataclass(frozen=True)
class LayerDraw:
    """A rule that draws a layer's weights *and* biases: ``draw(shape, rng) -> (W, b)``.

    ``shape`` is ``(n_out, n_in)``; ``W`` must have that shape and ``b`` shape ``(n_out,)``. Use it
    for rules whose biases are random, such as a framework's default layer
    (``functools.partial(helpers.frameworks.default_init, "pytorch")``). A plain initializer name or
    ``(shape, rng) -> W`` callable in :func:`compare_on_digits` gives zero biases instead.
    """

    draw: Callable

    def __post_init__(self):
        if not callable(self.draw):
            raise TypeError(f"draw must be a callable (shape, rng) -> (W, b), got {type(self.draw).__name__}")


def _build(sizes: list[int], rule, rng: np.random.Generator, activation) -> MLP:
    if not isinstance(rule, LayerDraw):
        return build_mlp(sizes, rng, activation=activation, init=rule)
    weights, biases = [], []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        drawn = rule.draw((n_out, n_in), rng)
        if not (isinstance(drawn, tuple) and len(drawn) == 2):
            raise TypeError(f"LayerDraw.draw must return a pair (W, b), got {type(drawn).__name__}")
        w, b = (np.asarray(a, dtype=np.float64) for a in drawn)
        if w.shape != (n_out, n_in) or b.shape != (n_out,):
            raise ValueError(f"LayerDraw.draw returned shapes {w.shape} and {b.shape} for layer {i + 1}, "
                             f"expected {(n_out, n_in)} and {(n_out,)}")
        weights.append(w)
        biases.append(b)
    return MLP(weights, biases, get_activation(activation), False)


@dataclass(frozen=True)
class DigitsComparison:
    """Per-seed results of :func:`compare_on_digits`; every dict is keyed by initialization name.

    ``loss[name]`` has shape ``(seeds, steps)``: the minibatch training loss at every SGD step (NaN
    from a divergence on). ``train_loss``, ``train_accuracy``, ``test_loss`` and ``test_accuracy``
    hold one value per seed, measured after the last step on the whole training part and on the
    whole test part (NaN for a diverged network). ``diverged_at[name]`` is the step at which each
    seed's network diverged, or -1. ``n_train`` and ``n_test`` are the sizes of the two parts.
    """

    names: tuple[str, ...]
    seeds: tuple[int, ...]
    loss: dict[str, np.ndarray]
    train_loss: dict[str, np.ndarray]
    train_accuracy: dict[str, np.ndarray]
    test_loss: dict[str, np.ndarray]
    test_accuracy: dict[str, np.ndarray]
    diverged_at: dict[str, np.ndarray]
    n_train: int
    n_test: int

    def _name(self, name: str) -> str:
        if name not in self.loss:
            raise ValueError(f"name must be one of {list(self.names)}, got {name!r}")
        return name

    def smoothed(self, name: str, window: int = 20) -> np.ndarray:
        """Each seed's minibatch loss, as a trailing running mean over ``window`` steps."""
        return running_mean(self.loss[self._name(name)], window)

    def tail_loss(self, name: str, last: int = 50) -> np.ndarray:
        """Each seed's mean minibatch loss over the ``last`` steps (NaN if it diverged)."""
        last = _checks.positive_int(last, "last")
        return np.mean(self.loss[self._name(name)][:, -last:], axis=1)

    def median(self, name: str, field: str = "test_accuracy") -> float:
        """Median over seeds of one per-seed result (``test_accuracy``, ``train_loss``, ...)."""
        fields = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")
        _checks.choice(field, "field", fields)
        return float(np.median(getattr(self, field)[self._name(name)]))


def compare_on_digits(inits: Mapping[str, object], hidden: Sequence[int], *, seeds: Sequence[int] = range(5),
                      activation: str = "relu", steps: int = 300, lr: float = 0.02, momentum: float = 0.9,
                      batch_size: int = 32, split_seed: int = 0) -> DigitsComparison:
    """Train a 64-``hidden``-10 network on the digits from every initialization and seed; measure it.

    ``inits`` maps a display name to an initializer name, a callable ``(shape, rng) -> W`` (biases
    start at zero) or a :class:`LayerDraw` (weights and biases drawn together). The data are
    ``helpers.data.digits(split_seed)``: a stratified split, 1,347 training and 450 test images,
    standardized with training statistics. For seed ``s`` every initialization draws its network
    from ``np.random.default_rng(s)``, and all of them see the same minibatches, drawn by
    ``np.random.default_rng([s, 1])`` (common random numbers). Training is minibatch SGD with
    heavy-ball momentum on the softmax cross-entropy, all ``len(inits) * len(seeds)`` networks at
    once as one ensemble (:func:`helpers.training.train_ensemble`); a network that diverges is
    frozen and reported. After the last step each network is evaluated on the whole training part
    and on the test part, which training never sees.
    """
    if not isinstance(inits, Mapping) or not inits:
        raise TypeError(f"inits must be a non-empty mapping from a name to an initializer, got {inits!r}")
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence) or not hidden:
        raise TypeError(f"hidden must be a non-empty sequence of hidden-layer widths, got {hidden!r}")
    hidden = [_checks.positive_int(h, f"hidden[{i}]") for i, h in enumerate(hidden)]
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise TypeError(f"seeds must be a non-empty sequence of integers, got {seeds!r}")
    seeds = tuple(_checks.positive_int(s, f"seeds[{i}]", allow_zero=True) for i, s in enumerate(seeds))
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {list(seeds)}")
    act = get_activation(activation)
    split_seed = _checks.positive_int(split_seed, "split_seed", allow_zero=True)

    data = digits(split_seed)
    sizes = [N_PIXELS] + hidden + [N_CLASSES]
    names = tuple(inits)
    nets = [_build(sizes, inits[name], np.random.default_rng(s), act) for name in names for s in seeds]
    batch_rngs = [np.random.default_rng([s, 1]) for s in seeds]
    run = train_ensemble(nets, data.x_train, data.y_train, batch_rngs * len(names), steps=steps, lr=lr,
                         momentum=momentum, batch_size=batch_size)
    alive = run.diverged_at < 0
    trained = stack_mlps(nets)

    def evaluate(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            out = forward(trained, np.broadcast_to(x, (len(nets),) + x.shape))[0]
            loss, _ = ensemble_cross_entropy(out, np.broadcast_to(y, (len(nets), len(y))))
            acc = np.mean(np.argmax(out, axis=2) == y[None, :], axis=1)
        ok = alive & np.isfinite(loss)
        return np.where(ok, loss, np.nan), np.where(ok, acc, np.nan)

    train_loss, train_acc = evaluate(data.x_train, data.y_train)
    test_loss, test_acc = evaluate(data.x_test, data.y_test)
    n = len(seeds)
    split = lambda a: {name: a[k * n:(k + 1) * n] for k, name in enumerate(names)}  # noqa: E731
    return DigitsComparison(names, seeds, split(run.loss), split(train_loss), split(train_acc), split(test_loss),
                            split(test_acc), split(run.diverged_at), len(data.y_train), len(data.y_test))


def plot_comparison(axes, comparison: DigitsComparison, colors: Mapping[str, str], *, window: int = 20,
                    labels: Mapping[str, str] | None = None, log: bool = False) -> None:
    """Two panels: the smoothed training loss (median line, band from the lowest to the highest seed)
    on ``axes[0]``, and each seed's final accuracy on ``axes[1]``, test (filled) and training (open),
    with the median test accuracy as a bar. An initialization whose every seed diverged is marked
    "diverged" in the accuracy panel. The dotted line is the chance loss ln 10.
    """
    if not isinstance(comparison, DigitsComparison):
        raise TypeError(f"comparison must be a DigitsComparison, got {type(comparison).__name__}")
    if not isinstance(colors, Mapping) or set(colors) != set(comparison.names):
        raise ValueError(f"colors must map every name {list(comparison.names)} to a colour")
    ax_loss, ax_acc = axes
    labels = dict(labels or {})
    n = len(comparison.seeds)
    for k, name in enumerate(comparison.names):
        curves = comparison.smoothed(name, window)
        with warnings.catch_warnings():  # all seeds diverged at a step: NaN there, without a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, mid, hi = (np.nanquantile(curves, q, axis=0) for q in (0.0, 0.5, 1.0))
        steps = np.arange(curves.shape[1])
        ax_loss.fill_between(steps, lo, hi, color=colors[name], alpha=0.2, lw=0)
        everyone_diverged = bool(np.all(comparison.diverged_at[name] >= 0))
        ax_loss.plot(steps, mid, color=colors[name], lw=1.8,
                     label=labels.get(name, name) + (" (diverged)" if everyone_diverged else ""))
        offsets = np.linspace(-0.15, 0.15, n)
        test, train = comparison.test_accuracy[name], comparison.train_accuracy[name]
        ax_acc.scatter(k + offsets, 100 * train, facecolors="none", edgecolors=colors[name], s=26)
        ax_acc.scatter(k + offsets, 100 * test, color=colors[name], s=22)
        if not everyone_diverged:
            ax_acc.hlines(100 * np.nanmedian(test), k - 0.3, k + 0.3, color=colors[name], lw=1.5)
        else:
            first = int(np.max(comparison.diverged_at[name]))
            ax_acc.text(k, 50, f"diverged\n(by step {first})", color=colors[name], ha="center", va="center",
                        fontsize=8)
    if log:
        ax_loss.set_yscale("log")
    ax_loss.axhline(np.log(N_CLASSES), color="grey", ls=":", lw=1)
    ax_loss.set(xlabel="SGD step", ylabel=f"training loss (running mean of {window} steps)")
    ax_acc.set_xticks(range(len(comparison.names)), [labels.get(m, m) for m in comparison.names])
    ax_acc.set(ylabel="accuracy after training (%)", xlim=(-0.6, len(comparison.names) - 0.4), ylim=(0, 102))
    ax_acc.scatter([], [], color="grey", s=22, label=f"test ({comparison.n_test} images)")
    ax_acc.scatter([], [], facecolors="none", edgecolors="grey", s=26, label="training")
    ax_acc.grid(axis="x", visible=False)
