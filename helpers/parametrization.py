"""Width and parametrization: the experiments of the chapter on the two regimes of training.

A *parametrization* says how three things of every layer change with the width ``n`` of a network:
the variance of its initial weights, a fixed forward multiplier in front of them, and its learning
rate. We compare three (the table is :data:`TABLE`, the numbers :func:`layer_scales`):

* **SP**, the standard parametrization: ``Var[W] = sigma_w2 / fan_in`` (He et al. 2015) everywhere,
  multiplier 1, one learning rate for all layers.
* **NTK**, the neural tangent parametrization (Jacot, Gabriel & Hongler 2018): raw weights
  ``N(0, 1)`` behind a multiplier ``sqrt(sigma_w2 / fan_in)`` and one learning rate for SGD.
* **muP**, the maximal-update parametrization (Yang & Hu 2021; Yang et al. 2022, "Tensor Programs
  V", Table 3): the output layer starts with variance ``~ 1 / fan_in^2`` and every layer gets the
  learning rate that makes its update change the next pre-activations by Theta(1) coordinates.

Two parametrizations that differ only by moving a factor between the multiplier and the weights
are the same network with the same training trajectory (Yang et al. 2022, Section 3): with
``W = a w``, ``w ~ N(0, b^2)``, replacing ``a -> theta a``, ``b -> b / theta`` and the SGD learning
rate ``eta -> eta / theta^2`` (Adam: ``eta -> eta / theta``, exact up to Adam's ``eps``) changes
nothing (:func:`rescale`). Every parametrization has a ``"table"`` form (multiplier 1, as in Table 3
of Yang et al. 2022) and a ``"native"`` form (NTK as Jacot et al. wrote it; muP as the ``mup``
package implements it: ``MuReadout`` divides the output by ``width_mult = fan_in / base_fan_in``,
rescales its initial weights by ``sqrt(width_mult)``, and ``MuSGD``/``MuAdam`` scale the learning
rates of vector-like and matrix-like parameters).

Widths are measured against a *base width* ``n0`` (the ``mup`` package's base shapes): the width
multiplier of a dimension is ``n / n0`` for a hidden dimension and 1 for the input and the output.
At ``n = n0`` the three parametrizations in table form are the same network with the same learning
rates, so a learning rate tuned at the base width means the same in all three.

The networks here have no biases (Table 3 treats biases like input weights), ReLU hidden layers and
a linear output: :func:`build` makes them from the layer model (:class:`helpers.layers.Dense` with
its ``multiplier``), stacked on a leading ensemble axis for many seeds or learning rates at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _checks
from .layers import QUIET, Act, Dense, Sequential
from .network import ensemble_cross_entropy
from .optimizers import SGD, Adam
from .theory import relu_kernels

PARAMETRIZATIONS = ("sp", "ntk", "mup")
KINDS = ("input", "hidden", "output")
FORMS = ("table", "native")
OPTIMIZERS = ("sgd", "adam")
LABELS = {"sp": "SP", "ntk": "NTK", "mup": "muP"}


@dataclass(frozen=True)
class Rule:
    """One cell group of :data:`TABLE`: how a layer kind scales with width, as text, and its source."""

    init_var: str
    multiplier: str
    lr_sgd: str
    lr_adam: str
    source: str


#: The three parametrizations in table form (multiplier 1), up to width-independent constants;
#: ``fan_in``/``fan_out`` of the layer, ``sigma_w2 = 2`` for ReLU networks.
TABLE: dict[str, dict[str, Rule]] = {
    "sp": {kind: Rule("sigma_w2 / fan_in", "1", "1", "1", "He et al. 2015; Yang et al. 2022, Table 3 (SP)")
           for kind in KINDS},
    "ntk": {
        "input": Rule("sigma_w2 / fan_in", "1", "1", "fan_out^(-1/2)",
                      "Jacot et al. 2018 (SGD); Adam: kernel-regime counting, this chapter"),
        "hidden": Rule("sigma_w2 / fan_in", "1", "1 / fan_in", "fan_in^(-1) fan_out^(-1/2)",
                       "Jacot et al. 2018 (SGD); Adam: kernel-regime counting, this chapter"),
        "output": Rule("sigma_w2 / fan_in", "1", "1 / fan_in", "1 / fan_in",
                       "Jacot et al. 2018 (SGD); Adam: kernel-regime counting, this chapter"),
    },
    "mup": {
        "input": Rule("sigma_w2 / fan_in", "1", "fan_out", "1", "Yang et al. 2022, Table 3"),
        "hidden": Rule("sigma_w2 / fan_in", "1", "1", "1 / fan_in", "Yang et al. 2022, Table 3"),
        "output": Rule("sigma_w2 / fan_in^2", "1", "1 / fan_in", "1 / fan_in", "Yang et al. 2022, Table 3"),
    },
}


@dataclass(frozen=True)
class LayerScales:
    """The numbers for one layer: weight variance, forward multiplier, SGD and Adam learning-rate factors.

    The learning rate of the layer is the global learning rate times ``lr_sgd`` (or ``lr_adam``).
    """

    init_var: float
    multiplier: float
    lr_sgd: float
    lr_adam: float


def _parametrization(value: object) -> str:
    return _checks.choice(value, "parametrization", PARAMETRIZATIONS)


def rescale(scales: LayerScales, theta: float) -> LayerScales:
    """The same layer written with its multiplier times ``theta`` (Yang et al. 2022, Section 3).

    ``W = a w``: multiplying ``a`` by ``theta`` and the standard deviation of ``w`` by ``1 / theta``
    leaves the initial function unchanged; dividing the SGD learning rate by ``theta^2`` and Adam's
    by ``theta`` leaves every update of ``W`` unchanged (Adam up to its ``eps``), so training follows
    the same trajectory.
    """
    if not isinstance(scales, LayerScales):
        raise TypeError(f"scales must be a LayerScales, got {type(scales).__name__}")
    theta = _checks.finite_float(theta, "theta", positive=True)
    return LayerScales(scales.init_var / theta**2, scales.multiplier * theta, scales.lr_sgd / theta**2,
                       scales.lr_adam / theta)


def layer_scales(parametrization: str, kind: str, fan_in: int, fan_out: int, *, base_fan_in: int | None = None,
                 base_fan_out: int | None = None, sigma_w2: float = 2.0, form: str = "table") -> LayerScales:
    """Variance, multiplier and learning-rate factors of one layer (see :data:`TABLE`).

    ``base_fan_in``/``base_fan_out`` are the layer's fans at the base width (default: the fans
    themselves); ``m_in = fan_in / base_fan_in`` and ``m_out = fan_out / base_fan_out`` are its width
    multipliers, and the learning-rate factors are 1 at the base width in table form:

    ========  ============  ==========================  ===================  =============================
    param     kind          Var[W] (table form)         SGD lr factor        Adam lr factor
    ========  ============  ==========================  ===================  =============================
    SP        any           sigma_w2 / fan_in           1                    1
    NTK       input         sigma_w2 / fan_in           1                    m_out^(-1/2)
    NTK       hidden        sigma_w2 / fan_in           1 / m_in             1 / (m_in sqrt(m_out))
    NTK       output        sigma_w2 / fan_in           1 / m_in             1 / m_in
    muP       input         sigma_w2 / fan_in           m_out                1
    muP       hidden        sigma_w2 / fan_in           1                    1 / m_in
    muP       output        sigma_w2 / (fan_in m_in)    1 / m_in             1 / m_in
    ========  ============  ==========================  ===================  =============================

    The muP rows are Table 3 of Yang et al. (2022) (``1 / fan_in^2`` written as
    ``1 / (fan_in m_in)`` so that it equals SP's variance at the base width). The NTK rows for SGD
    are Jacot et al. (2018) moved to table form by :func:`rescale` (their constant learning rate on
    raw weights behind ``sqrt(sigma_w2 / fan_in)`` is ``sigma_w2 / fan_in`` on ``W``). For Adam,
    whose update moves every weight by about its learning rate, the NTK rows keep each layer in the
    kernel regime: a change of ``O(fan_out^(-1/2))`` in a hidden layer's pre-activations and of
    ``O(1)`` in the output. ``form="native"`` writes NTK as Jacot et al. (raw ``N(0, 1)`` weights,
    multiplier ``sqrt(sigma_w2 / fan_in)``) and muP's output layer as the ``mup`` package does
    (multiplier ``1 / m_in``, variance ``sigma_w2 m_in / fan_in``, SGD factor ``m_in``, Adam 1);
    both are :func:`rescale` of the table form, hence the same network and trajectory.
    """
    p = _parametrization(parametrization)
    kind = _checks.choice(kind, "kind", KINDS)
    form = _checks.choice(form, "form", FORMS)
    fan_in = _checks.positive_int(fan_in, "fan_in")
    fan_out = _checks.positive_int(fan_out, "fan_out")
    base_in = fan_in if base_fan_in is None else _checks.positive_int(base_fan_in, "base_fan_in")
    base_out = fan_out if base_fan_out is None else _checks.positive_int(base_fan_out, "base_fan_out")
    sw = _checks.finite_float(sigma_w2, "sigma_w2", positive=True)
    m_in, m_out = fan_in / base_in, fan_out / base_out
    var, sgd, adam = sw / fan_in, 1.0, 1.0
    if p == "ntk":
        sgd = {"input": 1.0, "hidden": 1.0 / m_in, "output": 1.0 / m_in}[kind]
        adam = {"input": m_out**-0.5, "hidden": 1.0 / (m_in * math.sqrt(m_out)), "output": 1.0 / m_in}[kind]
    elif p == "mup":
        sgd = {"input": m_out, "hidden": 1.0, "output": 1.0 / m_in}[kind]
        adam = {"input": 1.0, "hidden": 1.0 / m_in, "output": 1.0 / m_in}[kind]
        if kind == "output":
            var = sw / (fan_in * m_in)
    scales = LayerScales(var, 1.0, sgd, adam)
    if form == "native":
        if p == "ntk":
            scales = rescale(scales, math.sqrt(sw / fan_in))
        elif p == "mup" and kind == "output":
            scales = rescale(scales, 1.0 / m_in)
    return scales


def scaling_exponent(parametrization: str, kind: str, quantity: str, *, widths: tuple[int, int] = (64, 4096),
                     d_in: int = 64, d_out: int = 10, base_width: int = 64) -> float:
    """The power of the width ``n`` with which ``quantity`` of a layer kind scales (table form).

    ``quantity`` is one of ``"init_var"``, ``"multiplier"``, ``"lr_sgd"``, ``"lr_adam"``; measured by
    :func:`layer_scales` at two widths (input ``d_in -> n``, hidden ``n -> n``, output ``n -> d_out``).
    """
    quantity = _checks.choice(quantity, "quantity", ("init_var", "multiplier", "lr_sgd", "lr_adam"))
    kind = _checks.choice(kind, "kind", KINDS)
    if not isinstance(widths, (tuple, list)) or len(widths) != 2:
        raise TypeError(f"widths must be a pair of two widths, got {widths!r}")
    n1, n2 = (_checks.positive_int(w, f"widths[{i}]") for i, w in enumerate(widths))
    if n1 == n2:
        raise ValueError(f"widths must be two different widths, got {widths}")

    def value(n: int) -> float:
        fans = {"input": (d_in, n, d_in, base_width), "hidden": (n, n, base_width, base_width),
                "output": (n, d_out, base_width, d_out)}[kind]
        s = layer_scales(parametrization, kind, fans[0], fans[1], base_fan_in=fans[2], base_fan_out=fans[3])
        return getattr(s, quantity)

    return math.log(value(n2) / value(n1)) / math.log(n2 / n1)


# -- networks -------------------------------------------------------------------------------------
@dataclass
class WidthModel:
    """A network built by :func:`build` and the learning-rate factors of its parameters.

    ``net`` is a :class:`~helpers.layers.Sequential` of ``Dense`` and ``Act`` layers (weights stacked on
    a leading ensemble axis if ``ensemble`` was given); ``lr_sgd``/``lr_adam`` map each parameter
    name (as in ``net.named_params()``) to its learning-rate factor; ``kinds`` names each weight layer.
    """

    net: Sequential
    parametrization: str
    form: str
    sizes: list[int]
    base_sizes: list[int]
    kinds: list[str]
    lr_sgd: dict[str, float]
    lr_adam: dict[str, float]

    @property
    def dense(self) -> list[Dense]:
        return [layer for layer in self.net.layers if isinstance(layer, Dense)]

    def optimizer(self, name: str, lr: float | np.ndarray, **kwargs) -> SGD | Adam:
        """An :class:`~helpers.optimizers.SGD` or :class:`~helpers.optimizers.Adam` with this model's factors."""
        name = _checks.choice(name, "name", OPTIMIZERS)
        if name == "sgd":
            return SGD(self.net, lr, lr_multipliers=self.lr_sgd, **kwargs)
        return Adam(self.net, lr, lr_multipliers=self.lr_adam, **kwargs)

    def copy(self) -> "WidthModel":
        """An independent copy with the same weights (training changes weights in place)."""
        layers = [Dense(l.weight.copy(), None, multiplier=l.multiplier) if isinstance(l, Dense)
                  else Act(l.activation) for l in self.net.layers]
        return WidthModel(Sequential(layers), self.parametrization, self.form, list(self.sizes),
                          list(self.base_sizes), list(self.kinds), dict(self.lr_sgd), dict(self.lr_adam))


def build(parametrization: str, width: int, rng: np.random.Generator, *, d_in: int = 64, d_out: int = 10,
          hidden_layers: int = 2, base_width: int = 64, sigma_w2: float = 2.0, form: str = "table",
          ensemble: int | None = None, dtype=np.float64) -> WidthModel:
    """A ReLU network ``d_in -> width x hidden_layers -> d_out`` without biases, in one parametrization.

    Weight layer ``l`` gets the variance and multiplier of :func:`layer_scales` for its kind (the first
    is "input", the last "output", the others "hidden"), with fans measured against the same network
    at ``base_width``. With ``ensemble=E`` every weight has shape ``(E, n_out, n_in)``: ``E`` networks
    drawn one after another from ``rng``, trained together (one learning rate each if wanted).
    """
    p = _parametrization(parametrization)
    form = _checks.choice(form, "form", FORMS)
    width = _checks.positive_int(width, "width")
    rng = _checks.generator(rng)
    d_in = _checks.positive_int(d_in, "d_in")
    d_out = _checks.positive_int(d_out, "d_out")
    hidden_layers = _checks.positive_int(hidden_layers, "hidden_layers")
    base_width = _checks.positive_int(base_width, "base_width")
    dtype = _checks.float_dtype(dtype)
    if ensemble is not None:
        ensemble = _checks.positive_int(ensemble, "ensemble")
    sizes = [d_in] + [width] * hidden_layers + [d_out]
    base = [d_in] + [base_width] * hidden_layers + [d_out]
    kinds = ["input"] + ["hidden"] * (hidden_layers - 1) + ["output"]
    layers, lr_sgd, lr_adam = [], {}, {}
    lead = () if ensemble is None else (ensemble,)
    for i, kind in enumerate(kinds):
        s = layer_scales(p, kind, sizes[i], sizes[i + 1], base_fan_in=base[i], base_fan_out=base[i + 1],
                         sigma_w2=sigma_w2, form=form)
        w = (rng.standard_normal(lead + (sizes[i + 1], sizes[i])) * math.sqrt(s.init_var)).astype(dtype)
        name = f"{len(layers)}.weight"
        layers.append(Dense(w, None, multiplier=s.multiplier))
        lr_sgd[name], lr_adam[name] = s.lr_sgd, s.lr_adam
        if i < len(kinds) - 1:
            layers.append(Act("relu"))
    return WidthModel(Sequential(layers), p, form, sizes, base, kinds, lr_sgd, lr_adam)


def _forward_record(model: WidthModel, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Forward pass that also returns every weight layer's output (pre-activations and the output)."""
    outs = []
    with np.errstate(**QUIET):
        for layer in model.net.layers:
            x = layer.forward(x)
            if isinstance(layer, Dense):
                outs.append(x)
    return x, outs


def _ensemble_size(model: WidthModel) -> int:
    w = model.dense[0].weight
    if w.ndim != 3:
        raise ValueError("model must be an ensemble (build it with ensemble=E)")
    return w.shape[0]


def _data(x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    x = _checks.array(x, "x", ndim=2)
    y = _checks.array(y, "y", ndim=1)
    if len(x) != len(y):
        raise ValueError(f"x and y must have one row per example, got {len(x)} and {len(y)}")
    if y.dtype.kind not in "iu" or y.min() < 0:
        raise ValueError("y must hold integer class labels >= 0")
    return x, y


def _slopes(widths: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Least-squares slope of log(values) against log(widths), along the first axis."""
    lw = np.log(widths)
    lw = lw - lw.mean()
    lv = np.log(values)
    return np.tensordot(lw, lv - lv.mean(axis=0), axes=(0, 0)) / np.sum(lw * lw)


# -- the coordinate check -------------------------------------------------------------------------
@dataclass(frozen=True)
class CoordCheck:
    """Typical coordinate size ``mean |z|`` of every weight layer's output after 0..steps updates.

    ``size`` has shape ``(len(widths), steps + 1, layers)``, averaged over the seeds (``size_seeds``
    keeps them: ``(len(widths), seeds, steps + 1, layers)``); ``change`` is the same for
    ``z_t - z_0``. ``slopes`` (``(steps + 1, layers)``) is the least-squares slope of
    ``log size`` against ``log width``; ``change_slopes`` the same for ``change`` (NaN at step 0).
    """

    parametrization: str
    optimizer: str
    widths: np.ndarray
    size: np.ndarray
    size_seeds: np.ndarray
    change: np.ndarray
    slopes: np.ndarray
    change_slopes: np.ndarray
    kinds: list[str]


def coordinate_check(parametrization: str, widths: Sequence[int], x: np.ndarray, y: np.ndarray, *, seeds: int = 3,
                     steps: int = 4, lr: float = 0.01, optimizer: str = "adam", hidden_layers: int = 2,
                     base_width: int = 64, seed: int = 0, dtype=np.float32) -> CoordCheck:
    """The coordinate check of Yang et al. (2022, Section 3 and the ``mup`` package's ``coord_check``).

    For each width, ``seeds`` networks (one ensemble) are trained for ``steps`` updates on the fixed
    batch ``(x, y)`` (cross-entropy, one global learning rate ``lr`` times the parametrization's
    factors), and the mean absolute coordinate of every layer's pre-activation vector and of the
    output is recorded before each update and after the last. Under a correct muP the curves are flat
    in width; under SP, with Adam, the layers after a width-sized fan-in grow like ``n``.
    """
    p = _parametrization(parametrization)
    optimizer = _checks.choice(optimizer, "optimizer", OPTIMIZERS)
    x, y = _data(x, y)
    widths = [_checks.positive_int(w, f"widths[{i}]") for i, w in enumerate(widths)]
    if len(widths) < 2:
        raise ValueError(f"widths must hold at least two widths, got {widths}")
    seeds = _checks.positive_int(seeds, "seeds")
    steps = _checks.positive_int(steps, "steps")
    lr = _checks.finite_float(lr, "lr", positive=True)
    n_classes = int(y.max()) + 1
    size = np.empty((len(widths), seeds, steps + 1, hidden_layers + 1))
    change = np.empty_like(size)
    xb = np.broadcast_to(x.astype(dtype), (seeds,) + x.shape)
    yb = np.broadcast_to(y, (seeds, len(y)))
    for i, n in enumerate(widths):
        model = build(p, n, np.random.default_rng([seed, n]), d_in=x.shape[1], d_out=n_classes,
                      hidden_layers=hidden_layers, base_width=base_width, ensemble=seeds, dtype=dtype)
        opt = model.optimizer(optimizer, lr)
        first = None
        with np.errstate(**QUIET):
            for t in range(steps + 1):
                out, zs = _forward_record(model, xb)
                if first is None:
                    first = [z.copy() for z in zs]
                size[i, :, t] = np.stack([np.mean(np.abs(z), axis=(1, 2)) for z in zs], axis=1)
                change[i, :, t] = np.stack([np.mean(np.abs(z - z0), axis=(1, 2)) for z, z0 in zip(zs, first)], axis=1)
                if t == steps:
                    break
                _, grad = ensemble_cross_entropy(out.astype(np.float64), yb)
                model.net.backward(grad.astype(dtype))
                opt.step()
        del model, opt
    w = np.array(widths, dtype=float)
    mean_size, mean_change = size.mean(axis=1), change.mean(axis=1)
    slopes = _slopes(w, mean_size)
    change_slopes = np.full_like(slopes, np.nan)
    change_slopes[1:] = _slopes(w, mean_change[:, 1:])
    kinds = ["input"] + ["hidden"] * (hidden_layers - 1) + ["output"]
    return CoordCheck(p, optimizer, w, mean_size, size, mean_change, slopes, change_slopes, kinds)


# -- learning-rate transfer -----------------------------------------------------------------------
@dataclass(frozen=True)
class LRSweep:
    """Training loss against learning rate for several widths (one ensemble per width).

    ``final_loss`` has shape ``(len(widths), len(lrs), seeds)``: the cross-entropy on the whole
    training set after the last step (``inf`` for a run that diverged). ``curves`` has shape
    ``(len(widths), len(lrs), seeds, steps)``: the loss of each minibatch. ``best_lr`` is the
    learning rate with the lowest seed-mean final loss at each width.
    """

    parametrization: str
    optimizer: str
    widths: np.ndarray
    lrs: np.ndarray
    final_loss: np.ndarray
    curves: np.ndarray

    @property
    def mean_loss(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.mean(self.final_loss, axis=2)

    @property
    def best_lr(self) -> np.ndarray:
        return self.lrs[np.argmin(self.mean_loss, axis=1)]


def lr_sweep(parametrization: str, widths: Sequence[int], lrs: Sequence[float], x: np.ndarray, y: np.ndarray, *,
             seeds: int = 3, steps: int = 200, batch_size: int = 32, optimizer: str = "sgd", hidden_layers: int = 1,
             base_width: int = 64, output_scale: float = 1.0, seed: int = 0, dtype=np.float32) -> LRSweep:
    """Train ``len(lrs) * seeds`` networks per width at once, member ``(i, s)`` with ``lrs[i]`` and seed ``s``.

    Each width is one ensemble: the learning rate is a per-member array (one lr per member, see
    :mod:`helpers.optimizers`), times the parametrization's per-layer factors. Seed ``s`` fixes the
    initial weights (the same for every learning rate) and the sequence of minibatches.
    ``output_scale`` multiplies the initial weights of the output layer (1: the parametrization as
    tabled). A run whose loss stops being finite is frozen and reported as ``inf``.
    """
    p = _parametrization(parametrization)
    optimizer = _checks.choice(optimizer, "optimizer", OPTIMIZERS)
    x, y = _data(x, y)
    widths = [_checks.positive_int(w, f"widths[{i}]") for i, w in enumerate(widths)]
    if not widths:
        raise ValueError("widths must hold at least one width")
    lrs = np.array([_checks.finite_float(v, f"lrs[{i}]", positive=True) for i, v in enumerate(lrs)])
    if lrs.size == 0:
        raise ValueError("lrs must hold at least one learning rate")
    seeds = _checks.positive_int(seeds, "seeds")
    steps = _checks.positive_int(steps, "steps")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    output_scale = _checks.finite_float(output_scale, "output_scale", positive=True)
    n_lr, n_classes = lrs.size, int(y.max()) + 1
    E = n_lr * seeds
    member_lr = np.repeat(lrs, seeds)
    member_seed = np.tile(np.arange(seeds), n_lr)
    batches = np.stack([np.random.default_rng([seed, 1, s]).integers(0, len(x), (steps, batch_size))
                        for s in range(seeds)])  # (seeds, steps, B)
    xs = x.astype(dtype)
    final = np.empty((len(widths), E))
    curves = np.full((len(widths), E, steps), np.nan)
    everything = np.broadcast_to(xs, (E,) + xs.shape)
    labels_all = np.broadcast_to(y, (E, len(y)))
    for i, n in enumerate(widths):
        nets = [build(p, n, np.random.default_rng([seed, n, s]), d_in=x.shape[1], d_out=n_classes,
                      hidden_layers=hidden_layers, base_width=base_width, dtype=dtype) for s in range(seeds)]
        model = nets[0]
        weights = [np.stack([nets[s].dense[l].weight for s in member_seed]) for l in range(len(model.dense))]
        weights[-1] *= output_scale
        layers = []
        for l, w in enumerate(weights):
            layers.append(Dense(w, None, multiplier=model.dense[l].multiplier))
            if l < len(weights) - 1:
                layers.append(Act("relu"))
        ens = WidthModel(Sequential(layers), p, model.form, model.sizes, model.base_sizes, model.kinds,
                         model.lr_sgd, model.lr_adam)
        opt = ens.optimizer(optimizer, member_lr)
        alive = np.ones(E, dtype=bool)
        with np.errstate(**QUIET):
            for t in range(steps):
                idx = batches[member_seed, t]  # (E, B)
                out = ens.net.forward(xs[idx])
                value, grad = ensemble_cross_entropy(out.astype(np.float64), y[idx])
                alive &= np.isfinite(value)
                curves[i, alive, t] = value[alive]
                grad[~alive] = 0.0
                ens.net.backward(grad.astype(dtype))
                opt.step()
            value, _ = ensemble_cross_entropy(ens.net.forward(everything).astype(np.float64), labels_all)
        alive &= np.isfinite(value)
        final[i] = np.where(alive, value, np.inf)
        del ens, opt, nets, weights, layers
    shape = (len(widths), n_lr, seeds)
    return LRSweep(p, optimizer, np.array(widths, dtype=float), lrs, final.reshape(shape),
                   curves.reshape(shape + (steps,)))


# -- the empirical neural tangent kernel ----------------------------------------------------------
def empirical_ntk(model: WidthModel, x: np.ndarray, *, lr_factors: dict[str, float] | None = None) -> np.ndarray:
    """The empirical NTK ``Theta(x_i, x_j) = sum_p df(x_i)/dp df(x_j)/dp`` of a scalar-output network.

    Over the raw parameters ``p`` (Jacot et al. 2018). For a ``Dense`` layer ``y = m x W^T`` the
    per-example gradient is ``m delta_i x_i^T`` with ``delta_i = df(x_i)/dy_i``, so its share of the
    kernel is ``m^2 <x_i, x_j> <delta_i, delta_j>``: one forward and one backward pass give all of
    it. ``lr_factors`` (parameter name -> factor) weights each layer's share, giving the kernel that
    drives gradient descent with per-layer learning rates. ``x`` has shape ``(N, d)`` (or
    ``(E, N, d)`` for an ensemble); returns ``(N, N)`` (or ``(E, N, N)``).
    """
    if not isinstance(model, WidthModel):
        raise TypeError(f"model must be a WidthModel (see build), got {type(model).__name__}")
    if model.sizes[-1] != 1:
        raise ValueError(f"model must have a scalar output for empirical_ntk, got {model.sizes[-1]} outputs")
    x = _checks.array(x, "x")
    w0 = model.dense[0].weight
    want = 3 if w0.ndim == 3 else 2
    if x.ndim != want or x.shape[-1] != model.sizes[0]:
        raise ValueError(f"x must have shape {'(E, N, ' if want == 3 else '(N, '}{model.sizes[0]}) for this model, "
                         f"got {x.shape}")
    factors = {} if lr_factors is None else dict(lr_factors)
    with np.errstate(**QUIET):
        out = model.net.forward(x)
        dy = np.ones_like(out)
        kernel = 0.0
        for idx in range(len(model.net.layers) - 1, -1, -1):
            layer = model.net.layers[idx]
            if isinstance(layer, Dense):
                share = layer.multiplier**2 * (layer.x @ layer.x.swapaxes(-1, -2)) * (dy @ dy.swapaxes(-1, -2))
                kernel = kernel + factors.get(f"{idx}.weight", 1.0) * share
                dy = layer.backward(dy, need_grads=False) if idx > 0 else dy
            else:
                dy = layer.backward(dy)
    return kernel


# -- lazy versus rich training --------------------------------------------------------------------
@dataclass(frozen=True)
class LazyRich:
    """Training ``alpha (f(w) - f(w0))`` with the loss scaled by ``1 / alpha^2`` (Chizat et al. 2019).

    Per ``alpha``: ``weight_change`` is ``||w_T - w_0|| / ||w_0||`` over all weights; ``ntk_change``
    is ``||Theta_T - Theta_0||_F / ||Theta_0||_F`` on the training inputs; ``linear_gap`` is
    ``||g_T - g^lin_T|| / ||g^lin_T||``, the distance between the trained network's outputs and those
    of its linearization at ``w0`` trained the same way; ``loss`` and ``linear_loss`` are the final
    training losses ``1/(2N) ||g - y||^2`` of the two (the second does not depend on ``alpha``).
    ``history`` holds the network's loss per step, shape ``(len(alphas), steps)``.
    """

    alphas: np.ndarray
    weight_change: np.ndarray
    ntk_change: np.ndarray
    linear_gap: np.ndarray
    loss: np.ndarray
    linear_loss: float
    history: np.ndarray


def lazy_rich(alphas: Sequence[float], x: np.ndarray, y: np.ndarray, rng: np.random.Generator, *, width: int = 256,
              hidden_layers: int = 1, steps: int = 400, lr: float = 1.0) -> LazyRich:
    """Lazy versus rich training of one NTK-parametrized ReLU network at several output scales ``alpha``.

    The model is ``g(w) = alpha (f(w) - f(w0))`` trained by full-batch gradient descent on
    ``L = (1 / alpha^2) (1 / 2N) ||g - y||^2`` (Chizat, Oyallon & Bach 2019, Section 2: the
    ``1/alpha^2`` keeps the linearized dynamics the same for every ``alpha``). All ``alpha`` start from
    the same ``w0`` and run as one ensemble. The linearization ``g_lin = alpha J (w - w0)`` trained the
    same way follows ``g_lin <- g_lin - (lr / N) Theta_0 (g_lin - y)``: kernel regression with the
    empirical NTK at initialization. As ``alpha`` grows the network stays closer to it (the lazy
    regime); at small ``alpha`` its weights and its kernel move (the rich, feature-learning regime).
    """
    alphas = np.array([_checks.finite_float(a, f"alphas[{i}]", positive=True) for i, a in enumerate(alphas)])
    if alphas.size == 0:
        raise ValueError("alphas must hold at least one output scale")
    x = np.asarray(_checks.array(x, "x", ndim=2), dtype=np.float64)
    y = np.asarray(_checks.array(y, "y", ndim=1), dtype=np.float64)
    if len(x) != len(y):
        raise ValueError(f"x and y must have one row per example, got {len(x)} and {len(y)}")
    rng = _checks.generator(rng)
    steps = _checks.positive_int(steps, "steps")
    lr = _checks.finite_float(lr, "lr", positive=True)
    E, N = alphas.size, len(x)
    one = build("ntk", width, rng, d_in=x.shape[1], d_out=1, hidden_layers=hidden_layers, base_width=width,
                form="native")
    layers = []
    for layer in one.net.layers:
        layers.append(Dense(np.stack([layer.weight] * E), None, multiplier=layer.multiplier)
                      if isinstance(layer, Dense) else Act("relu"))
    model = WidthModel(Sequential(layers), "ntk", "native", one.sizes, one.base_sizes, one.kinds, one.lr_sgd,
                       one.lr_adam)
    w0 = [l.weight.copy() for l in model.dense]
    xe = np.broadcast_to(x, (E,) + x.shape)
    a = alphas[:, None]
    theta0 = empirical_ntk(one, x)
    opt = SGD(model.net, lr)
    history = np.empty((E, steps))
    with np.errstate(**QUIET):
        f0 = model.net.forward(xe)[..., 0]
        for t in range(steps):
            g = a * (model.net.forward(xe)[..., 0] - f0)
            history[:, t] = np.mean((g - y) ** 2, axis=1) / 2
            model.net.backward(((g - y) / (a * N))[..., None])
            opt.step()
        g = a * (model.net.forward(xe)[..., 0] - f0)
        g_lin = np.zeros(N)
        for t in range(steps):
            g_lin = g_lin - (lr / N) * theta0 @ (g_lin - y)
        theta_t = empirical_ntk(model, xe)
        moved = sum(np.sum((l.weight - w) ** 2, axis=(1, 2)) for l, w in zip(model.dense, w0))
        size = sum(np.sum(w**2, axis=(1, 2)) for w in w0)
    return LazyRich(alphas, np.sqrt(moved / size),
                    np.linalg.norm(theta_t - theta0, axis=(1, 2)) / np.linalg.norm(theta0),
                    np.linalg.norm(g - g_lin, axis=1) / np.linalg.norm(g_lin),
                    np.mean((g - y) ** 2, axis=1) / 2, float(np.mean((g_lin - y) ** 2) / 2), history)


def ntk_fluctuation(widths: Sequence[int], x: np.ndarray, *, seeds: int = 4, hidden_layers: int = 2,
                    sigma_w2: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Empirical NTKs of NTK-parametrized ReLU networks at several widths, ``seeds`` networks each.

    Returns ``(kernels, errors)``: ``kernels`` of shape ``(len(widths), seeds, N, N)`` and the relative
    deviation ``||Theta_emp - Theta||_F / ||Theta||_F`` from the analytic kernel
    (:func:`helpers.theory.kernels.relu_kernels`), shape ``(len(widths), seeds)``. Jacot et al. (2018) prove
    the deviation vanishes as the width grows; its size falls like ``width^(-1/2)``.
    """
    x = np.asarray(_checks.array(x, "x", ndim=2), dtype=np.float64)
    widths = [_checks.positive_int(w, f"widths[{i}]") for i, w in enumerate(widths)]
    seeds = _checks.positive_int(seeds, "seeds")
    _, theta = relu_kernels(x, depth=hidden_layers, sigma_w2=sigma_w2)
    kernels = np.empty((len(widths), seeds, len(x), len(x)))
    for i, n in enumerate(widths):
        model = build("ntk", n, np.random.default_rng([seed, n]), d_in=x.shape[1], d_out=1,
                      hidden_layers=hidden_layers, base_width=n, sigma_w2=sigma_w2, form="native", ensemble=seeds)
        kernels[i] = empirical_ntk(model, np.broadcast_to(x, (seeds,) + x.shape))
    errors = np.linalg.norm(kernels - theta, axis=(2, 3)) / np.linalg.norm(theta)
    return kernels, errors
