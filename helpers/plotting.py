"""The book's house style and the plots every chapter shares.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies).
:func:`show` displays a figure as a bare PNG, with no ``<Figure ...>`` text that nbval would compare,
and closes it; chapters call it instead of relying on the inline backend.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from . import _checks

PALETTE = {
    "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
    "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000",
}
CYCLE = [PALETTE[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]
HEALTHY_COLOR = "#009E73"

STYLE = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=CYCLE),
    "lines.linewidth": 1.8,
    "svg.hashsalt": "init-book",
}


def use_style() -> None:
    """Apply the house style to matplotlib (idempotent)."""
    matplotlib.rcParams.update(STYLE)
    _share_mathtext_cache()


def _share_mathtext_cache(size: int = 2048) -> None:
    """Let every renderer share one cache of parsed mathtext (same pictures, parsed once).

    matplotlib caches parsed mathtext (such as the ``10^{-4}`` tick labels of a log axis) per
    parser object, and every ``savefig`` makes a new renderer with a new parser, so each frame of
    a lab re-parsed every label: most of a redraw's time with two log axes. The parse depends only
    on the parser's output type, which here becomes the cache key instead of the parser object.
    Left alone if matplotlib's internals are not the ones this was written for (3.8 - 3.11).
    """
    try:
        from matplotlib.mathtext import MathTextParser

        current = MathTextParser._parse_cached
        if getattr(current, "_init_book_shared", False):
            return
        parse = current.__wrapped__
        parsers: dict = {}

        @functools.lru_cache(size)
        def shared(output_type, s, dpi, prop, antialiased, load_glyph_flags):
            return parse(parsers[output_type], s, dpi, prop, antialiased, load_glyph_flags)

        def _parse_cached(self, s, dpi, prop, antialiased, load_glyph_flags):
            parsers.setdefault(self._output_type, self)
            return shared(self._output_type, s, dpi, prop, antialiased, load_glyph_flags)

        _parse_cached._init_book_shared = True
        _parse_cached.cache_info = shared.cache_info
        MathTextParser._parse_cached = _parse_cached
    except (AttributeError, ImportError, TypeError):
        pass


def figure_png(fig: Figure, dpi: int | None = None) -> bytes:
    """PNG bytes of ``fig`` with no timestamp or version metadata, so equal figures give equal bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or matplotlib.rcParams["savefig.dpi"], metadata={"Software": None},
                bbox_inches="tight")
    return buf.getvalue()


def show(fig: Figure) -> None:
    """Display ``fig`` as a PNG (no text/plain repr) and close it.

    Put the figure's caption and alt text in the cell's ``mystnb`` metadata
    (``figure.caption``, ``image.alt``); the book renders them around this image.
    """
    from IPython.display import display

    png = figure_png(fig)
    plt.close(fig)
    display({"image/png": base64.b64encode(png).decode("ascii")}, raw=True)


def per_layer(ax, values: Sequence[float], *, label: str | None = None, color: str | None = None,
              log: bool = False, marker: str = "o", **kwargs):
    """Plot one value per layer against the layer index 1..L (``log=True`` for a log y axis).

    ``values`` may also be 2-D, one row per layer and one column per line.
    """
    values = _checks.array(values, "values").astype(float)
    if values.ndim not in (1, 2) or values.shape[0] == 0:
        raise ValueError(f"values must hold one number (or one row) per layer, got shape {values.shape}")
    layers = np.arange(1, len(values) + 1)
    line = ax.plot(layers, values, marker=marker, markersize=3, label=label, color=color, **kwargs)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("layer")
    return line


def healthy_band(ax, low: float = 0.5, high: float = 2.0, *, label: str = "healthy band") -> None:
    """Shade the range of per-layer values the book calls healthy (by default within 2x of 1)."""
    low = _checks.finite_float(low, "low", positive=True)
    high = _checks.finite_float(high, "high", positive=True)
    if not low < high:
        raise ValueError(f"low must be smaller than high, got low={low}, high={high}")
    ax.axhspan(low, high, color=HEALTHY_COLOR, alpha=0.12, label=label, zorder=0)


def ridge(ax, samples: Sequence[np.ndarray], *, bins: int | np.ndarray = 60, labels: Sequence[str] | None = None,
          color: str = PALETTE["blue"], overlap: float = 0.8, value_range: tuple[float, float] | None = None,
          xlabel: str = "value") -> None:
    """Stacked histograms, one row per layer (first layer at the top): a distribution across depth.

    Each histogram is normalized to its own peak so that narrow and wide layers are both visible.
    """
    if isinstance(samples, np.ndarray) and samples.ndim < 2 or len(samples) == 0:
        raise ValueError("samples must be a sequence of arrays (one per layer) holding at least one array")
    if isinstance(bins, (int, np.integer)):
        bins = _checks.positive_int(bins, "bins")
    overlap = _checks.finite_float(overlap, "overlap", positive=True)
    if labels is not None and len(labels) != len(samples):
        raise ValueError(f"labels must have one entry per sample array ({len(samples)}), got {len(labels)}")
    if value_range is not None:
        lo, hi = (_checks.finite_float(v, "value_range") for v in value_range)
        if not lo < hi:
            raise ValueError(f"value_range must be (low, high) with low < high, got {value_range}")
    finite = [np.asarray(s, dtype=float).ravel() for s in samples]
    finite = [s[np.isfinite(s)] for s in finite]
    if value_range is None:
        pooled = np.concatenate(finite) if any(len(s) for s in finite) else np.zeros(1)
        lim = float(np.quantile(np.abs(pooled), 0.995)) or 1.0
        value_range = (-lim, lim)
    edges = np.linspace(*value_range, bins + 1) if isinstance(bins, int) else np.asarray(bins)
    centres = 0.5 * (edges[1:] + edges[:-1])
    n = len(finite)
    for row, s in enumerate(finite):
        counts, _ = np.histogram(np.clip(s, edges[0], edges[-1]), bins=edges)
        height = counts / counts.max() if counts.max() > 0 else counts.astype(float)
        base = n - 1 - row
        ax.fill_between(centres, base, base + overlap * height * 1.4, color=color, alpha=0.55, lw=0)
        ax.plot(centres, base + overlap * height * 1.4, color=color, lw=0.8)
    ax.set_yticks(range(n))
    ax.set_yticklabels(list(reversed(labels)) if labels is not None else [str(n - i) for i in range(n)])
    ax.set_ylim(-0.2, n + 0.6)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(xlabel)
    ax.grid(False)


def loss_curves(ax, curves: Mapping[str, np.ndarray], *, log: bool = True, colors: Mapping[str, str] | None = None,
                xlabel: str = "SGD step", ylabel: str = "training loss") -> None:
    """One line per run; NaN (after a divergence) leaves a gap instead of breaking the plot."""
    if not isinstance(curves, Mapping):
        raise TypeError(f"curves must map a run's name to its losses, got {type(curves).__name__}")
    for i, (name, values) in enumerate(curves.items()):
        color = (colors or {}).get(name, CYCLE[i % len(CYCLE)])
        ax.plot(np.arange(len(values)), np.asarray(values, dtype=float), label=name, color=color)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()


def decision_regions(ax, predict, x: np.ndarray, y: np.ndarray, *, resolution: int = 150, margin: float = 0.3) -> None:
    """Colour the plane by ``predict`` (a function returning class scores) and scatter the data on top."""
    if not callable(predict):
        raise TypeError(f"predict must be a function from points to class scores, got {type(predict).__name__}")
    x = _checks.array(x, "x", ndim=2)
    if x.shape[1] != 2 or x.shape[0] == 0:
        raise ValueError(f"x must have shape (n >= 1, 2): decision regions are drawn in the plane, got {x.shape}")
    y = _checks.array(y, "y", ndim=1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have one label per row of x ({x.shape[0]}), got {y.shape[0]}")
    resolution = _checks.positive_int(resolution, "resolution")
    margin = _checks.finite_float(margin, "margin", non_negative=True)
    lo, hi = x.min(axis=0) - margin, x.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    with np.errstate(all="ignore"):
        classes = np.argmax(predict(grid), axis=1).reshape(gx.shape)
    n_classes = int(max(classes.max(), np.max(y))) + 1
    cmap = matplotlib.colors.ListedColormap(CYCLE[:n_classes])
    ax.contourf(gx, gy, classes, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.25)
    ax.scatter(x[:, 0], x[:, 1], c=np.asarray(y), cmap=cmap, s=8, edgecolors="white", linewidths=0.3,
               vmin=-0.5, vmax=n_classes - 0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set_aspect("equal")


use_style()
