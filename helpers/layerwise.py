"""Layer-by-layer views of a deep network at initialization, and the predictions they are compared with.

Glorot & Bengio (2010) diagnosed deep networks by looking at the distribution of the activations and
of the back-propagated gradients in every layer (their Section 4.2.2 and Figures 6-8). This module
produces those samples; what the variance argument predicts for them is
:func:`helpers.theory.signal.predicted_profile`, with the variance of each named rule from
:func:`helpers.initializers.weight_variance`.


* :func:`sample_layers` - one forward/backward pass of any :class:`~helpers.network.MLP`, kept layer
  by layer as a :class:`LayerSamples` (activations, pre-activations, back-propagated gradients
  ``delta = dL/dz`` and weight gradients);
* :func:`glorot_bengio_study` - their per-layer study scaled to a CPU: one batch through a deep tanh
  network under several initializations, with shared inputs and labels;
* :func:`compare_training` - the same architecture trained from several initializations and seeds,
  all networks at once with batched matrix products, returning learning curves
  (:class:`TrainingComparison`).

Notation as in the book: layer ``l`` computes ``z^(l) = W^(l) h^(l-1) + b^(l)`` and
``h^(l) = phi(z^(l))`` with ``W^(l)`` of shape ``(n_l, n_{l-1})``, so fan_in = ``n_{l-1}`` and
fan_out = ``n_l``; ``delta^(l) = dL/dz^(l)`` is the back-propagated gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import _checks
from .activations import get_activation
from .network import MLP, backward, build_mlp, forward, softmax_cross_entropy
from .training import train_ensemble

KINDS = ("activations", "preactivations", "gradients", "weight_gradients")

# ---------------------------------------------------------------------------------------------
# Per-layer samples of one forward/backward pass
# ---------------------------------------------------------------------------------------------


@dataclass
class LayerSamples:
    """One forward/backward pass kept layer by layer (lists indexed by layer, 0-based, all layers).

    ``activations[l]`` is h^(l+1), ``preactivations[l]`` is z^(l+1), ``gradients[l]`` is
    delta^(l+1) = dL/dz^(l+1), each of shape ``(batch, n_{l+1})``; ``weight_gradients[l]`` is dL/dW^(l+1).
    ``activated`` counts the leading layers that apply the nonlinearity (all but a linear output
    layer); the statistics below default to those layers, the "hidden layers" of a figure.
    """

    activations: list[np.ndarray]
    preactivations: list[np.ndarray]
    gradients: list[np.ndarray]
    weight_gradients: list[np.ndarray] | None
    activated: int
    loss: float | None = None

    def layers(self, kind: str, *, hidden: bool = True) -> list[np.ndarray]:
        """The arrays of one ``kind`` (see ``KINDS``), for the activated layers only if ``hidden``."""
        _checks.choice(kind, "kind", KINDS)
        arrays = getattr(self, kind)
        if arrays is None:
            raise ValueError("weight_gradients were not kept: call sample_layers(..., weight_gradients=True)")
        return arrays[: self.activated] if hidden else list(arrays)

    def std(self, kind: str, *, hidden: bool = True) -> np.ndarray:
        """Standard deviation of every entry of each layer (pooled over units and examples)."""
        with np.errstate(all="ignore"):
            return np.array([float(np.std(a)) for a in self.layers(kind, hidden=hidden)])

    def rms(self, kind: str, *, hidden: bool = True) -> np.ndarray:
        """Root mean square per layer, sqrt(E[v^2]): the quantity the variance recursions track."""
        with np.errstate(all="ignore"):
            return np.array([float(np.sqrt(np.mean(np.square(a)))) for a in self.layers(kind, hidden=hidden)])

    def quantiles(self, kind: str, q: Sequence[float], *, absolute: bool = False, nonzero: bool = False,
                  hidden: bool = True) -> np.ndarray:
        """Quantiles ``q`` (in [0, 1]) of each layer's entries (of their absolute values if ``absolute``).

        With ``nonzero`` the exact zeros are left out, for example the outputs and gradients of
        switched-off ReLU units, which would otherwise pull the lower quantiles to 0 (NaN for a layer
        with no non-zero entry). Returns an array of shape ``(layers, len(q))``.
        """
        qs = np.asarray(q, dtype=float)
        if qs.ndim != 1 or qs.size == 0 or np.any((qs < 0) | (qs > 1)) or not np.all(np.isfinite(qs)):
            raise ValueError(f"q must be a non-empty 1-D sequence of numbers in [0, 1], got {q!r}")
        out = []
        for a in self.layers(kind, hidden=hidden):
            values = np.abs(a) if absolute else a
            if nonzero:
                values = values[values != 0]
            out.append(np.quantile(values, qs) if values.size else np.full(qs.size, np.nan))
        return np.array(out)

    def variance_split(self, kind: str, *, hidden: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Split each layer's pooled variance into a part across examples and a part across units.

        For entries v[i, j] (example i, unit j), the law of total variance gives
        Var[v] = mean_j Var_i[v_ij] + Var_j(mean_i v_ij). The first term is what changes with the
        input; the second is a per-unit offset that is the same for every example (it is what a
        non-zero activation mean, such as the sigmoid's 1/2, feeds into the next layer through
        the random weights). Returns ``(across_examples, across_units)``; they sum to ``std**2``.
        """
        across_examples, across_units = [], []
        for a in self.layers(kind, hidden=hidden):
            across_examples.append(float(np.mean(np.var(a, axis=0))))
            across_units.append(float(np.var(np.mean(a, axis=0))))
        return np.array(across_examples), np.array(across_units)


def sample_layers(net: MLP, x: np.ndarray, *, labels: np.ndarray | None = None,
                  rng: np.random.Generator | None = None, weight_gradients: bool = False) -> LayerSamples:
    """Run a batch through ``net`` and back-propagate, keeping every layer's values.

    With integer ``labels`` the loss is the softmax cross-entropy of the output (what Glorot & Bengio
    (2010) back-propagate); without labels a standard normal error signal dL/d(output) is drawn from
    ``rng``, the idealized "unit-variance gradient arriving at the top" of the variance argument.
    The recursion is the chain rule, ``delta^(l) = phi'(z^(l)) * (delta^(l+1) @ W^(l+1))``
    (Glorot & Bengio 2010, eq. 2), and ``dL/dW^(l) = delta^(l).T @ h^(l-1)`` (their eq. 3), computed
    only if ``weight_gradients`` is true.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an MLP (from helpers.build_mlp), got {type(net).__name__}")
    x = _checks.array(x, "x", ndim=2)
    if x.shape[1] != net.sizes[0]:
        raise ValueError(f"x must have {net.sizes[0]} columns (the input width), got shape {x.shape}")
    x = x.astype(net.dtype, copy=False)
    activated = net.depth if net.activate_output else net.depth - 1
    out, cache = forward(net, x)
    loss = None
    if labels is not None:
        labels = _checks.array(labels, "labels", ndim=1)
        loss, grad_out = softmax_cross_entropy(out, labels)
    else:
        if rng is None:
            raise ValueError("pass integer labels (cross-entropy) or rng (a random error signal)")
        grad_out = _checks.generator(rng).standard_normal(out.shape).astype(net.dtype, copy=False)
    grads = backward(net, cache, grad_out, weight_grads=weight_gradients)
    pre, post, deltas = cache.pre, cache.post, grads.d_pre
    wgrads = grads.weights if weight_gradients else None
    return LayerSamples(post, pre, deltas, wgrads, activated, loss)


def glorot_bengio_study(rng: np.random.Generator, *, inits: Sequence[str] = ("glorot_standard", "xavier_uniform"),
                        width: int = 1000, depth: int = 5, n_inputs: int = 1024, n_examples: int = 300,
                        classes: int = 10, activation: str = "tanh") -> dict[str, LayerSamples]:
    """Glorot & Bengio's (2010, Sec. 4.2.2) per-layer study at initialization, scaled to a CPU.

    The paper's networks have five hidden layers of 1000 tanh units and a softmax output, biases 0,
    and are shown 32x32 Shapeset-3x2 images (1024 inputs). Here the inputs are i.i.d. N(0, 1)
    (the equal-variance inputs of the paper's derivation) and the labels are uniform at random;
    nothing is trained. Every init sees the same batch and labels, and every network is drawn from
    a generator with the same seed, so two uniform rules draw the same underlying numbers and
    differ only by their per-layer scale. Returns ``{init: LayerSamples}`` with weight gradients.
    """
    rng = _checks.generator(rng)
    width = _checks.positive_int(width, "width")
    depth = _checks.positive_int(depth, "depth")
    n_inputs = _checks.positive_int(n_inputs, "n_inputs")
    n_examples = _checks.positive_int(n_examples, "n_examples")
    classes = _checks.positive_int(classes, "classes")
    if isinstance(inits, str) or not isinstance(inits, Sequence) or not inits:
        raise TypeError(f"inits must be a non-empty sequence of initializer names, got {inits!r}")
    x = rng.standard_normal((n_examples, n_inputs))
    labels = rng.integers(0, classes, n_examples)
    seed = int(rng.integers(2**63))
    sizes = [n_inputs] + [width] * depth + [classes]
    out = {}
    for init in inits:
        net = build_mlp(sizes, np.random.default_rng(seed), activation=activation, init=init)
        out[init] = sample_layers(net, x, labels=labels, weight_gradients=True)
    return out


# ---------------------------------------------------------------------------------------------
# Predictions
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Training comparison over initializations and seeds
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainingComparison:
    """Learning curves of one architecture trained from several initializations and seeds.

    ``loss[name]`` has shape ``(len(seeds), len(steps))``: the cross-entropy on the whole training set
    evaluated at the SGD steps in ``steps`` (NaN from a divergence on). ``accuracy[name]`` holds the
    final training accuracy of every seed.
    """

    steps: np.ndarray
    loss: dict[str, np.ndarray]
    accuracy: dict[str, np.ndarray]
    seeds: tuple[int, ...]

    def _curves(self, name: str) -> np.ndarray:
        _checks.choice(name, "name", self.loss)
        return self.loss[name]

    def median(self, name: str) -> np.ndarray:
        """Median over seeds at every evaluation step."""
        with np.errstate(all="ignore"):
            return np.median(self._curves(name), axis=0)

    def quantile(self, name: str, q: float) -> np.ndarray:
        """Quantile ``q`` over seeds at every evaluation step (e.g. 0 and 1 for the full range)."""
        q = _checks.finite_float(q, "q")
        if not 0 <= q <= 1:
            raise ValueError(f"q must be in [0, 1], got {q}")
        with np.errstate(all="ignore"):
            return np.quantile(self._curves(name), q, axis=0)

    def final(self, name: str) -> np.ndarray:
        """The last evaluated loss of every seed."""
        return self._curves(name)[:, -1].copy()

    def steps_to(self, name: str, threshold: float) -> np.ndarray:
        """For every seed, the first evaluated step whose loss is <= ``threshold`` (inf if none)."""
        threshold = _checks.finite_float(threshold, "threshold")
        curves = self._curves(name)
        with np.errstate(invalid="ignore"):
            hit = curves <= threshold
        first = np.where(hit.any(axis=1), np.argmax(hit, axis=1), -1)
        return np.where(first >= 0, self.steps[np.maximum(first, 0)].astype(float), np.inf)

    def fraction_better(self, a: str, b: str, *, index: int = -1) -> float:
        """Fraction of seeds whose loss under ``a`` is below that under ``b`` at evaluation ``index``."""
        la, lb = self._curves(a)[:, index], self._curves(b)[:, index]
        with np.errstate(invalid="ignore"):
            return float(np.mean(la < lb))


def compare_training(x: np.ndarray, labels: np.ndarray, sizes: Sequence[int], inits: Mapping[str, str | Callable],
                     seeds: Sequence[int], *, activation: str = "tanh", steps: int = 500, lr: float = 0.1,
                     batch_size: int = 64, eval_every: int = 10, bias: float = 0.0) -> TrainingComparison:
    """Train one architecture from every initialization in ``inits`` and every seed; return the curves.

    ``inits`` maps a display name to an initializer name (or callable). For seed ``s`` the network
    is drawn from ``np.random.default_rng(s)`` whatever the initializer (so two uniform rules share
    their underlying draws), and the minibatches come from ``np.random.default_rng([s, 1])``, the
    same sequence for every initializer: the initializations are compared on common random numbers.
    Training is plain minibatch SGD on the softmax cross-entropy (no momentum, constant ``lr``), the
    setting of Glorot & Bengio (2010, Sec. 2.3). All ``len(inits) * len(seeds)`` networks are
    trained together as one ensemble (:func:`helpers.training.train_ensemble`); the loss on the whole
    training set is recorded every ``eval_every`` steps and at the end. A network whose loss stops
    being finite keeps NaN.
    """
    x = _checks.array(x, "x", ndim=2).astype(float, copy=False)
    labels = _checks.array(labels, "labels", ndim=1)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    if len(labels) != len(x):
        raise ValueError(f"labels must have one entry per row of x ({len(x)}), got {len(labels)}")
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 2:
        raise TypeError(f"sizes must be a sequence of at least two layer widths, got {sizes!r}")
    if sizes[0] != x.shape[1]:
        raise ValueError(f"sizes[0] must equal the number of columns of x ({x.shape[1]}), got {sizes[0]}")
    classes = _checks.positive_int(sizes[-1], "sizes[-1]")
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"labels must lie in [0, {classes - 1}] for an output width of {classes}")
    if not isinstance(inits, Mapping) or not inits:
        raise TypeError(f"inits must be a non-empty mapping from a name to an initializer, got {inits!r}")
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise TypeError(f"seeds must be a non-empty sequence of integers, got {seeds!r}")
    seeds = tuple(_checks.positive_int(s, f"seeds[{i}]", allow_zero=True) for i, s in enumerate(seeds))
    steps = _checks.positive_int(steps, "steps")
    lr = _checks.finite_float(lr, "lr", positive=True)
    batch_size = min(_checks.positive_int(batch_size, "batch_size"), len(x))
    eval_every = _checks.positive_int(eval_every, "eval_every")
    act = get_activation(activation)

    names = list(inits)
    nets = [build_mlp(sizes, np.random.default_rng(s), activation=act, init=inits[name], bias=bias)
            for name in names for s in seeds]
    batch_rngs = [np.random.default_rng([s, 1]) for s in seeds]
    run = train_ensemble(nets, x, labels, batch_rngs * len(names), steps=steps, lr=lr, batch_size=batch_size,
                         eval_every=eval_every)
    curves = run.eval_loss  # (members, evals)
    curves[np.maximum.accumulate(~np.isfinite(curves), axis=1)] = np.nan
    acc = np.where(np.isfinite(curves[:, -1]), run.accuracy, np.nan)
    n_seeds = len(seeds)
    loss_by = {name: curves[k * n_seeds:(k + 1) * n_seeds] for k, name in enumerate(names)}
    acc_by = {name: acc[k * n_seeds:(k + 1) * n_seeds] for k, name in enumerate(names)}
    eval_steps = run.eval_steps
    return TrainingComparison(np.array(eval_steps), loss_by, acc_by, seeds)
