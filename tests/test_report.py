"""report: the glued text the book shows is exactly the formatted value; claims fail loudly with their own words."""

from __future__ import annotations

import math

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import helpers as H
from myst_nb.core.variables import format_plain_text  # what {glue:text} does with the stored text

GLUE_KEY = "application/papermill.record/text/plain"  # where MyST-NB looks for glued text


def glued(name, value, *fmt):
    InteractiveShell.instance()
    with capture_output() as captured:
        H.glue(name, value, *fmt)
    assert captured.stdout == "" and captured.stderr == ""
    (out,) = captured.outputs
    assert out.metadata["scrapbook"] == {"name": name, "mime_prefix": "application/papermill.record/"}
    assert list(out.data) == [GLUE_KEY]  # display=False: nothing visible in the notebook
    return out.data[GLUE_KEY]


@pytest.mark.parametrize("value, fmt, text", [
    (math.pi, "{:.2f}", "3.14"),
    (0.000123456, "{:.3g}", "0.000123"),
    (2.0 / 3.0, None, "0.667"),  # the default "{:.3g}"
    (np.float32(1.5), "{:.1f}", "1.5"),
    (np.float64(12345.678), "{:,.0f}", "12,346"),
    (0.25, "{:.0%}", "25%"),
    (7, "{:d} layers", "7 layers"),
    (-0.0, "{:.2f}", "-0.00"),
    ("tanh", "{}", "tanh"),
])
def test_glue_formatting(value, fmt, text):
    # What the book shows is text/plain after MyST-NB's own parsing, so test that rendering.

    stored = glued("x", value, *([fmt] if fmt else []))
    assert format_plain_text(stored, "s") == text


def test_glue_keeps_trailing_zeros_and_exponents():
    # MyST-NB literal-evaluates glued text: unquoted "0.40" would render as 0.4, "1e+07" as 10000000.0.

    assert format_plain_text(glued("x", 0.4, "{:.2f}"), "s") == "0.40"
    assert format_plain_text(glued("x", 1.2e7, "{:.0e}"), "s") == "1e+07"
    assert format_plain_text(glued("x", 0.4, "{:.2f}"), ".3f") == "0.400"  # a spec in the role still works


def test_glue_rejects_bad_names_and_formats():
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        H.glue("", 1.0)
    with pytest.raises(ValueError, match="fmt '{:d}' cannot format 1.5"):
        H.glue("x", 1.5, "{:d}")
    with pytest.raises(TypeError, match="fmt must be a format string"):
        H.glue("x", 1.5, 3)


def test_check():
    H.check(True, "always true")
    with pytest.raises(AssertionError, match="claim does not hold: deeper is worse"):
        H.check(False, "deeper is worse")
    with pytest.raises(ValueError, match="claim must be"):
        H.check(True, "")


def test_check_close():
    H.check_close(1.0, 1.04, rtol=0.05, claim="within 5 %")
    H.check_close(0.0, 1e-9, atol=1e-8)
    H.check_close(np.float32(2.0), 2.0, rtol=np.float64(1e-7))
    with pytest.raises(AssertionError, match=r"claim does not hold: gain is 5/3 \(got 1.6, expected 1.66"):
        H.check_close(1.6, 5 / 3, rtol=1e-3, claim="gain is 5/3")
    with pytest.raises(AssertionError, match="values agree"):
        H.check_close(float("nan"), float("nan"), atol=1.0)
    with pytest.raises(ValueError, match="rtol must be a finite number >= 0"):
        H.check_close(1.0, 1.0, rtol=-0.1)
    with pytest.raises(ValueError, match="atol must be a finite number >= 0"):
        H.check_close(1.0, 1.0, atol=float("inf"))
