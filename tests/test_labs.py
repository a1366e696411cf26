"""Labs: the live (ipywidgets) version driven directly, the static frames, and input checks."""

from __future__ import annotations

import base64
import io
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

import helpers as H
from helpers.labs import all_labs

SCALES = (0.5, 1.0, 2.0)
KINDS = ("tanh", "relu")


def make_lab(name="test-lab", calls=None):
    calls = [] if calls is None else calls

    def compute(scale, kind):
        calls.append((scale, kind))
        x = np.linspace(-3, 3, 61)
        return {"x": x, "y": H.get_activation(kind)(scale * x)}

    def render(fig, data, params):
        ax = fig.subplots()
        ax.plot(data["x"], data["y"])
        ax.set_title(f"{params['kind']} at scale {params['scale']:g}")

    def alt(params):
        return f'Curve of {params["kind"]}(s x) for s = {params["scale"]:g}, "quoted" & <escaped>'

    controls = [H.Control("scale", SCALES, 1.0, "input scale"), H.Control("kind", KINDS, "tanh")]
    return H.Lab(name, controls, compute, render, alt, figsize=(4, 2.5)), calls


def png_of(src: str) -> Image.Image:
    assert src.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))


def test_params_and_cache():
    lab, calls = make_lab()
    assert lab.params() == {"scale": 1.0, "kind": "tanh"}
    assert lab.params(kind="relu") == {"scale": 1.0, "kind": "relu"}
    with pytest.raises(ValueError, match="unknown control 'gain'"):
        lab.params(gain=1.0)
    with pytest.raises(ValueError, match="scale must be one of"):
        lab.params(scale=3.0)
    first = lab.data(scale=2.0)
    assert lab.data(scale=2.0) is first and calls == [(2.0, "tanh")]  # computed once
    assert lab.n_settings == 6 and len(lab.settings()) == 6
    assert lab.settings()[0] == {"scale": 0.5, "kind": "tanh"}


def test_figure_is_not_registered_with_pyplot():
    lab, _ = make_lab()
    before = plt.get_fignums()
    fig = lab.figure(kind="relu")
    assert plt.get_fignums() == before
    assert fig.axes[0].get_title() == "relu at scale 1"


def test_live_lab_controls_drive_image_and_data():
    lab, calls = make_lab()
    live = lab.widget()
    initial_png, initial_y = bytes(live.image.value), live.data["y"].copy()
    assert initial_png.startswith(b"\x89PNG")
    assert "s = 1" in live.caption.value and "&quot;quoted&quot; &amp; &lt;escaped&gt;" in live.caption.value

    live.controls["scale"].value = 2.0  # what a reader's slider does
    assert live.params == {"scale": 2.0, "kind": "tanh"}
    assert bytes(live.image.value) != initial_png
    np.testing.assert_allclose(live.data["y"], np.tanh(2.0 * np.linspace(-3, 3, 61)))
    assert "s = 2" in live.caption.value

    live.controls["kind"].value = "relu"
    np.testing.assert_allclose(live.data["y"], np.maximum(2.0 * np.linspace(-3, 3, 61), 0))
    relu_png = bytes(live.image.value)
    assert relu_png != initial_png and Image.open(io.BytesIO(relu_png)).format == "PNG"

    live.controls["scale"].value = 1.0
    live.controls["kind"].value = "tanh"
    assert bytes(live.image.value) == initial_png  # rendering is deterministic: same setting, same bytes
    np.testing.assert_array_equal(live.data["y"], initial_y)
    assert calls.count((1.0, "tanh")) == 1  # served from the cache on the way back


def test_live_image_grows_to_fit_and_keeps_its_size():
    """The live picture is cropped to the union of the tight boxes seen: it widens for a setting that
    needs more room (nothing is clipped) and does not shrink back (the image does not jump)."""

    def render(fig, data, params):
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1])
        if params["wide"] == "yes":
            fig.text(1.02, 0.5, "a note outside the axes and the figure")

    lab = H.Lab("grow-lab", [H.Control("wide", ("no", "yes"), "no")], lambda wide: None, render, lambda p: "x",
                figsize=(3, 2))
    live = lab.widget()
    size = lambda: Image.open(io.BytesIO(bytes(live.image.value))).size  # noqa: E731
    narrow = size()
    live.controls["wide"].value = "yes"
    wide = size()
    assert wide[0] > narrow[0] + 50
    live.controls["wide"].value = "no"
    assert size() == wide


def test_live_image_grows_when_the_axes_need_more_room():
    """A setting whose tick labels reach past the picture's edge widens it, and nothing is cut off:
    the edge columns of the new picture are background."""

    def render(fig, data, params):
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1])
        if params["long"] == "yes":
            ax.set_yticks([0, 1], ["0", "a tick label far longer than the first"])

    lab = H.Lab("edge-lab", [H.Control("long", ("no", "yes"), "no")], lambda long: None, render, lambda p: "x",
                figsize=(3, 2))
    live = lab.widget()
    image = lambda: Image.open(io.BytesIO(bytes(live.image.value))).convert("L")  # noqa: E731
    narrow = image().size
    live.controls["long"].value = "yes"
    wide = image()
    assert wide.size[0] > narrow[0] + 50
    pixels = np.asarray(wide)
    assert pixels[:, 0].min() == 255 and pixels[:, -1].min() == 255, "the wider picture is still cut off"


def test_live_widgets_offer_exactly_the_control_values():
    lab, _ = make_lab()
    live = lab.widget()
    slider, dropdown = live.controls["scale"], live.controls["kind"]
    assert [v for _, v in slider.options] == list(SCALES) and slider.description == "input scale"
    assert list(dropdown.options) == list(KINDS)


def test_frames_one_per_setting_with_alt_text():
    lab, _ = make_lab()
    frames = lab.frames()
    assert sorted(frames) == sorted(f"{i},{j}" for i in range(3) for j in range(2))
    for key, frame in frames.items():
        i, j = map(int, key.split(","))
        assert frame["alt"] == lab.alt({"scale": SCALES[i], "kind": KINDS[j]})
        img = png_of(frame["src"])
        assert img.mode == "P"  # palette PNG, a third of the bytes
    assert len({f["src"] for f in frames.values()}) == 6  # every setting looks different


def test_static_html():
    lab, _ = make_lab("static-lab")
    page = lab.static_html()
    blob = re.search(r'<script type="application/json" class="ib-lab-frames">(.*?)</script>', page, re.S).group(1)
    frames = json.loads(blob)
    assert len(frames) == 6 and all(f["alt"] for f in frames.values())
    assert page.count('id="lab-static-lab"') == 1
    assert '<input type="range" id="lab-static-lab-c0"' in page and 'max="2"' in page and 'value="1"' in page
    assert '<label for="lab-static-lab-c0">input scale</label>' in page
    assert '<select id="lab-static-lab-c1"' in page and page.count("<option") == 2
    default_alt = lab.alt({"scale": 1.0, "kind": "tanh"})
    img = re.search(r'<img class="ib-lab-frame" src="([^"]+)" alt="([^"]*)">', page)
    assert img.group(1) == frames["1,0"]["src"]
    assert img.group(2) == '''Curve of tanh(s x) for s = 1, &quot;quoted&quot; &amp; &lt;escaped&gt;'''
    assert default_alt.startswith("Curve of tanh")
    assert "http" not in page.replace(frames["1,0"]["src"], "")  # no third-party request


def test_frame_limit_raises_a_clear_error():
    lab, _ = make_lab()
    with pytest.raises(ValueError, match=r"has 6 settings but max_frames is 5.*fewer values"):
        lab.frames(max_frames=5)
    many = H.Lab("many", [H.Control("a", tuple(range(7)), 0), H.Control("b", tuple(range(7)), 0)],
                 lambda a, b: None, lambda fig, d, p: None, lambda p: "x")
    with pytest.raises(ValueError, match="49 settings but max_frames is 48"):
        many.static_html()


def test_show_and_live_display_no_text_repr():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    lab, _ = make_lab("display-lab")
    with capture_output() as captured:
        lab.show()
        live = lab.live()
    assert captured.stdout == "" and captured.stderr == ""
    html_out = captured.outputs[0].data
    assert list(html_out) == ["text/html"] and "ib-lab-frames" in html_out["text/html"]
    assert isinstance(live, H.LiveLab)


def test_registry_finds_labs():
    lab, _ = make_lab("registered-lab")
    assert lab in all_labs()


@pytest.mark.parametrize("kwargs, err, match", [
    ({"name": "1bad"}, ValueError, "name must be a Python identifier"),
    ({"values": ()}, ValueError, "must not be empty"),
    ({"default": 9}, ValueError, "default of control 'x' must be one of"),
])
def test_control_validation(kwargs, err, match):
    args = {"name": "x", "values": (1, 2), "default": 1} | kwargs
    with pytest.raises(err, match=match):
        H.Control(**args)


def test_lab_validation():
    c = H.Control("x", (1, 2), 1)
    noop = lambda *a: None  # noqa: E731
    with pytest.raises(ValueError, match="lowercase slug"):
        H.Lab("Bad Name", [c], noop, noop, noop)
    with pytest.raises(TypeError, match="controls must be"):
        H.Lab("ok", [], noop, noop, noop)
    with pytest.raises(ValueError, match="distinct"):
        H.Lab("ok", [c, c], noop, noop, noop)
    with pytest.raises(TypeError, match="render must be a function"):
        H.Lab("ok", [c], noop, "not callable", noop)
