"""The committed outputs are exactly what the code produces, whatever the number of BLAS threads.

Every chapter notebook is re-executed here with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS = 1; the
two-thread execution is nbval's own strict run (tests/conftest.py gives its kernels two threads),
which also compares every text output with the committed one. One execution per notebook is shared
by the tests below, and compared with the committed notebook:

* text outputs identical (so the one-thread and two-thread runs are identical to each other too;
  numbers are printed at a precision well above floating-point noise, as CONTRIBUTING.md asks);
* every figure, re-rendered from the current code, matches the committed PNG (nbval ignores
  images) within the pixel tolerance of ``_notebooks``: same size, at most 0.1 % of the pixels off
  by more than 16/255; lab frames embedded in HTML outputs likewise. So a helpers change cannot
  leave a stale figure in a committed notebook, nor in the book, which renders those outputs.
"""

from __future__ import annotations

import functools

import nbformat
import pytest

from _notebooks import (PIXEL_FRACTION, PIXEL_THRESHOLD, chapter_notebooks, execute, images, pixel_difference,
                        text_outputs)

THREADS = 1
NOTEBOOKS = chapter_notebooks()


@functools.lru_cache(maxsize=None)
def run(path):
    return execute(path, threads=THREADS)


def first_difference(expected, got) -> str:
    for x, y in zip(expected, got):
        if x != y:
            return (f"cell {x[0]} ({x[1]}):\n  committed: {x[2][:300]!r}\n  "
                    f"{THREADS} thread(s): {y[2][:300]!r}" if x[0] == y[0] else f"cell {x[0]} vs cell {y[0]}")
    return f"{len(expected)} committed text outputs, {len(got)} re-run"


def check_text(path):
    committed = text_outputs(nbformat.read(path, as_version=4))
    fresh = text_outputs(run(path).nb)
    assert fresh == committed, first_difference(committed, fresh)


def check_figures(path):
    committed = images(nbformat.read(path, as_version=4))
    fresh = images(run(path).nb)
    assert [c for c, _ in fresh] == [c for c, _ in committed], (
        f"images per cell differ: committed {[c for c, _ in committed]}, re-run {[c for c, _ in fresh]} "
        "(re-execute the notebook: python scripts/execute_notebooks.py)")
    stale = [f"cell {cell}: {why}" for (cell, new), (_, old) in zip(fresh, committed)
             for ok, why in [pixel_difference(new, old)] if not ok]
    assert not stale, (f"{len(stale)} of {len(fresh)} images differ from the committed ones (tolerance: "
                       f"{PIXEL_FRACTION:.1%} of pixels off by more than {PIXEL_THRESHOLD}/255); stale outputs, "
                       "re-execute the notebook: " + "; ".join(stale[:5]))


def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, "no chapters/*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_text_outputs_with_one_thread_are_the_committed_ones(path):
    check_text(path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_figures_with_one_thread_are_the_committed_ones(path):
    check_figures(path)


def test_pixel_tolerance_catches_a_moved_curve():
    """The tolerance is tight enough to see a curve whose amplitude changed by 2 %: the check can fail."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    def png(scale):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        x = np.linspace(0, 1, 200)
        ax.plot(x, scale * np.sin(6 * x))
        ax.set_ylim(-1.2, 1.2)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        return buf.getvalue()

    assert pixel_difference(png(1.0), png(1.0))[0]
    assert not pixel_difference(png(1.0), png(0.98))[0]


def test_text_comparison_sees_a_changed_digit():
    import nbformat.v4 as v4

    def nb(text):
        return v4.new_notebook(cells=[v4.new_code_cell("x", outputs=[v4.new_output("stream", name="stdout", text=text)])])

    assert text_outputs(nb("loss 0.123\n")) == text_outputs(nb("loss 0.123\n"))
    assert text_outputs(nb("loss 0.123\n")) != text_outputs(nb("loss 0.124\n"))
