"""One way to build a chapter lab that works with a kernel and without one.

A :class:`Lab` is a few discrete :class:`Control` s, a ``compute`` function that turns a setting of
the controls into data (cached, so no setting is computed twice), and a ``render`` function that
draws that data onto a matplotlib figure. From these it offers

* :meth:`Lab.live` - ipywidgets controls driving the figure, for Jupyter and Binder readers. The
  figure is a PNG in an ``ipywidgets.Image``, re-rendered on each change into one reused figure.
* :meth:`Lab.show` - the same lab for the static HTML book: every setting is pre-rendered to a small
  palette PNG and plain HTML controls (a range slider per numeric control, a select per text
  control) swap frames in the browser, with no kernel and no third-party script. The default
  setting is the image shown before any script runs, so print and no-JS readers see a figure too.

Tests drive the live controls directly (set a value, check the figure and :attr:`LiveLab.data`).
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .plotting import figure_png

_SLUG = re.compile(r"^[a-z][a-z0-9-]*$")
_REGISTRY: list[weakref.ref] = []


def all_labs() -> list["Lab"]:
    """Every :class:`Lab` created in this process that is still alive, oldest first.

    The tests and the benchmark use it to find the labs a notebook built, without knowing their
    variable names.
    """
    alive = [ref() for ref in _REGISTRY]
    _REGISTRY[:] = [weakref.ref(lab) for lab in alive if lab is not None]
    return [lab for lab in alive if lab is not None]


@dataclass(frozen=True)
class Control:
    """A lab parameter: the keyword ``name`` passed to ``compute``, its allowed ``values`` and default."""

    name: str
    values: tuple
    default: Any
    label: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"name must be a Python identifier, got {self.name!r}")
        values = tuple(self.values)
        if not values:
            raise ValueError(f"values of control {self.name!r} must not be empty")
        object.__setattr__(self, "values", values)
        if self.default not in values:
            raise ValueError(f"default of control {self.name!r} must be one of {values}, got {self.default!r}")
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " "))

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, Real) and not isinstance(v, bool) for v in self.values)


class Lab:
    """A chapter lab; see the module docstring.

    ``compute(**params)`` returns any data; ``render(fig, data, params)`` draws it on an empty
    figure; ``alt(params)`` describes the picture for screen readers. ``name`` is a slug that keeps
    the HTML ids of several labs on one page apart.
    """

    def __init__(self, name: str, controls: Sequence[Control], compute: Callable[..., Any],
                 render: Callable[[Figure, Any, dict], None], alt: Callable[[dict], str], *,
                 figsize: tuple[float, float] = (8.0, 3.4)):
        if not isinstance(name, str) or not _SLUG.match(name):
            raise ValueError(f"name must be a lowercase slug such as 'intro-teaser', got {name!r}")
        controls = list(controls)
        if not controls or not all(isinstance(c, Control) for c in controls):
            raise TypeError("controls must be a non-empty sequence of Control")
        names = [c.name for c in controls]
        if len(set(names)) != len(names):
            raise ValueError(f"control names must be distinct, got {names}")
        for fn, label in ((compute, "compute"), (render, "render"), (alt, "alt")):
            if not callable(fn):
                raise TypeError(f"{label} must be a function, got {type(fn).__name__}")
        self.name, self.controls = name, controls
        self.compute, self.render, self.alt, self.figsize = compute, render, alt, figsize
        self._cache: dict[tuple, Any] = {}
        _REGISTRY.append(weakref.ref(self))

    def __repr__(self) -> str:
        return f"Lab({self.name!r}, controls={[c.name for c in self.controls]})"

    @property
    def n_settings(self) -> int:
        """Number of distinct settings (the product of the controls' numbers of values)."""
        n = 1
        for c in self.controls:
            n *= len(c.values)
        return n

    def settings(self) -> list[dict]:
        """Every setting of the controls as a ``params`` dict, in the order :meth:`frames` renders them."""
        return [{c.name: v for c, v in zip(self.controls, combo)}
                for combo in itertools.product(*(c.values for c in self.controls))]

    def params(self, **overrides) -> dict:
        """The default setting with ``overrides`` applied; unknown names or values raise ``ValueError``."""
        known = {c.name: c for c in self.controls}
        for key, value in overrides.items():
            if key not in known:
                raise ValueError(f"unknown control {key!r}; this lab has {', '.join(known)}")
            if value not in known[key].values:
                raise ValueError(f"{key} must be one of {known[key].values}, got {value!r}")
        return {c.name: overrides.get(c.name, c.default) for c in self.controls}

    def data(self, **params) -> Any:
        """``compute`` for this setting, computed once and then served from the cache."""
        p = self.params(**params)
        key = tuple(p[c.name] for c in self.controls)
        if key not in self._cache:
            self._cache[key] = self.compute(**p)
        return self._cache[key]

    def draw(self, fig: Figure, **params) -> Figure:
        """Clear ``fig`` and render the given setting on it."""
        p = self.params(**params)
        _clear(fig)
        self.render(fig, self.data(**p), p)
        return fig

    def figure(self, **params) -> Figure:
        """A new figure (not registered with pyplot, so it never auto-displays) for this setting."""
        fig = Figure(figsize=self.figsize)
        FigureCanvasAgg(fig)
        return self.draw(fig, **params)

    # -- the kernel-free version -------------------------------------------------------------
    def frames(self, *, dpi: int = 72, colors: int = 64, max_frames: int = 48) -> dict[str, dict]:
        """Every setting rendered to a small palette PNG: ``{"i,j,...": {"src": data-URI, "alt": text}}``.

        The key lists each control's value index. Raises ``ValueError`` if the lab has more settings
        than ``max_frames`` (every frame is embedded in the page, so their number is the page weight).
        """
        from . import _checks

        dpi = _checks.positive_int(dpi, "dpi")
        colors = _checks.positive_int(colors, "colors")
        if colors > 256:
            raise ValueError(f"colors must be at most 256 (a PNG palette), got {colors}")
        max_frames = _checks.positive_int(max_frames, "max_frames")
        settings = list(itertools.product(*(range(len(c.values)) for c in self.controls)))
        if len(settings) > max_frames:
            raise ValueError(f"lab {self.name!r} has {len(settings)} settings but max_frames is {max_frames}: "
                             "offer fewer values per control (every setting becomes an embedded frame)")
        fig = Figure(figsize=self.figsize)
        FigureCanvasAgg(fig)
        out = {}
        for idx in settings:
            p = {c.name: c.values[i] for c, i in zip(self.controls, idx)}
            png = _palette_png(figure_png(self.draw(fig, **p), dpi=dpi), colors)
            out[",".join(map(str, idx))] = {"src": "data:image/png;base64," + base64.b64encode(png).decode(),
                                            "alt": self.alt(p)}
        return out

    def static_html(self, **frame_options) -> str:
        """Self-contained HTML (controls, frames and a few lines of script) for the static book."""
        frames = self.frames(**frame_options)
        default = ",".join(str(c.values.index(c.default)) for c in self.controls)
        uid = f"lab-{self.name}"
        rows = "".join(_control_html(uid, k, c) for k, c in enumerate(self.controls))
        first = frames[default]
        return (
            f'<div class="ib-lab" id="{uid}">'
            f'<div class="ib-lab-controls">{rows}</div>'
            f'<img class="ib-lab-frame" src="{first["src"]}" alt="{html.escape(first["alt"])}">'
            f'<script type="application/json" class="ib-lab-frames">{json.dumps(frames)}</script>'
            f"<script>{_SCRIPT.replace('__UID__', uid)}</script></div>"
        )

    def show(self, **frame_options) -> None:
        """Display :meth:`static_html` (only an HTML output: no text repr for nbval to compare)."""
        from IPython.display import display

        display({"text/html": self.static_html(**frame_options)}, raw=True)

    # -- the kernel version ------------------------------------------------------------------
    def widget(self) -> "LiveLab":
        """The ipywidgets version; display ``widget().box`` or call :meth:`live`."""
        return LiveLab(self)

    def live(self) -> "LiveLab":
        """Display the ipywidgets version and return it."""
        from IPython.display import display

        live = self.widget()
        display(live.box)
        return live


def _clear(fig: Figure) -> None:
    """``fig.clear()``, without first resetting every axes it then discards.

    ``Figure.clear`` clears each axes before removing it, which costs as much as making the axes
    anew (about a tenth of a lab's redraw with three axes); the axes are dropped, so removing them
    is enough.
    """
    for ax in tuple(fig.axes):
        fig.delaxes(ax)
    fig.clear()


LIVE_DPI = 90


class LiveLab:
    """ipywidgets controls bound to a :class:`Lab`; every change re-renders one reused figure.

    The picture is cropped to the union of the tight bounding boxes seen so far: the first redraw
    measures it, later redraws reuse it (one draw instead of two) and widen it if a setting needs
    more room, so the image also keeps its size while a reader moves a slider.
    """

    def __init__(self, lab: Lab):
        import ipywidgets as widgets

        self.lab = lab
        self.controls = {c.name: _make_widget(widgets, c) for c in lab.controls}
        self._fig = Figure(figsize=lab.figsize, dpi=LIVE_DPI)
        FigureCanvasAgg(self._fig)
        self._bbox = None
        self.image = widgets.Image(format="png")
        self.caption = widgets.HTML()
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        self.box = widgets.VBox([widgets.HBox(list(self.controls.values())), self.image, self.caption])
        self.update()

    def _on_change(self, _change) -> None:
        self.update()

    @property
    def params(self) -> dict:
        return {name: w.value for name, w in self.controls.items()}

    @property
    def data(self) -> Any:
        """The data behind the figure now shown."""
        return self.lab.data(**self.params)

    def update(self) -> None:
        """Re-render for the current control values."""
        p = self.params
        self.image.value = self._png(self.lab.draw(self._fig, **p))
        self.caption.value = html.escape(self.lab.alt(p))

    def _png(self, fig: Figure) -> bytes:
        from matplotlib.transforms import Bbox

        def save() -> bytes:
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=LIVE_DPI, bbox_inches=self._bbox, metadata={"Software": None},
                        pil_kwargs={"compress_level": 1})  # fast to encode; the bytes only travel to the browser
            return buf.getvalue()

        if self._bbox is None:
            fig.canvas.draw()
            self._bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(LIVE_PAD)
        png = save()
        if _outgrown(fig, self._bbox):
            # the renderer savefig just used still holds the text metrics of this picture
            needed = fig.get_tightbbox(fig.canvas.renderer).padded(LIVE_PAD)
            self._bbox = Bbox.union([self._bbox, needed])
            png = save()
        return png


LIVE_PAD = 0.1  # inches of margin around the tight box of a live picture


def _outgrown(fig: Figure, box) -> bool:
    """Whether the picture ``savefig`` just made of ``fig``, cropped to ``box`` (inches), may miss a part.

    Two looks, both far cheaper than a new tight box (which lays out every tick label again):

    * the edge of the picture: ``box`` is a tight box padded by :data:`LIVE_PAD`, so a drawing that
      reaches the edge has grown beyond it (and may go on outside); the pixels are those of the
      renderer ``savefig`` just drew with;
    * texts and legends placed freely on the figure or on an axes, which may lie wholly outside the
      picture (the edge would not show them): their extents against ``box``.
    """
    import numpy as np

    renderer = fig.canvas.renderer
    pixels = np.asarray(renderer.buffer_rgba())
    face = np.round(np.asarray(fig.get_facecolor()) * 255)
    edge = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]).astype(float)
    if np.any(np.abs(edge - face).max(axis=1) > 2):
        return True
    free = [*fig.texts, *fig.legends]
    for ax in fig.axes:
        free += [*ax.texts, *([ax.get_legend()] if ax.get_legend() is not None else [])]
    slack = 1.0 / fig.dpi
    to_inches = fig.dpi_scale_trans.inverted()
    for artist in free:
        if not artist.get_visible() or (hasattr(artist, "get_text") and not artist.get_text()):
            continue
        ext = artist.get_window_extent(renderer).transformed(to_inches)
        if (ext.x0 < box.x0 - slack or ext.y0 < box.y0 - slack
                or ext.x1 > box.x1 + slack or ext.y1 > box.y1 + slack):
            return True
    return False


def _make_widget(widgets, control: Control):
    style = {"description_width": "initial"}
    if control.numeric:
        return widgets.SelectionSlider(options=[(f"{v:g}", v) for v in control.values], value=control.default,
                                       description=control.label, style=style, continuous_update=True)
    return widgets.Dropdown(options=list(control.values), value=control.default, description=control.label,
                            style=style)


def _control_html(uid: str, k: int, control: Control) -> str:
    cid = f"{uid}-c{k}"
    label = html.escape(control.label)
    idx = control.values.index(control.default)
    if control.numeric:
        shown = html.escape(f"{control.default:g}")
        values = html.escape(json.dumps([f"{v:g}" for v in control.values]))
        return (f'<div class="ib-lab-control"><label for="{cid}">{label}</label> '
                f'<input type="range" id="{cid}" data-k="{k}" min="0" max="{len(control.values) - 1}" step="1" '
                f'value="{idx}" data-values="{values}"> <output for="{cid}">{shown}</output></div>')
    options = "".join(f'<option value="{i}"{" selected" if i == idx else ""}>{html.escape(str(v))}</option>'
                      for i, v in enumerate(control.values))
    return (f'<div class="ib-lab-control"><label for="{cid}">{label}</label> '
            f'<select id="{cid}" data-k="{k}">{options}</select></div>')


def _palette_png(png: bytes, colors: int) -> bytes:
    """Re-encode an RGBA PNG with an adaptive palette: a third of the bytes, no visible change."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


_SCRIPT = """(function(){
var root=document.getElementById("__UID__");if(!root)return;
var frames=JSON.parse(root.querySelector("script.ib-lab-frames").textContent);
var img=root.querySelector("img.ib-lab-frame");var inputs=root.querySelectorAll("[data-k]");
function update(){var key=[];inputs.forEach(function(el){key[+el.dataset.k]=el.value;
 if(el.type==="range"){var out=root.querySelector('output[for="'+el.id+'"]');
 out.textContent=JSON.parse(el.dataset.values)[+el.value];}});
 var f=frames[key.join(",")];if(f){img.src=f.src;img.alt=f.alt;}}
inputs.forEach(function(el){el.addEventListener("input",update);el.addEventListener("change",update);});
})();"""
