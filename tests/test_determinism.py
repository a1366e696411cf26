"""The committed outputs are exactly what the code produces, whatever the number of BLAS threads.

Every chapter notebook is executed twice (once per thread count, each run reused by every test of
that notebook): with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS = 1 and = 2. Then

* the text outputs of the two runs are identical (numbers are printed at a precision well above
  floating-point noise, as CONTRIBUTING.md asks);
* every figure of the two-thread run, re-rendered from the current code, matches the committed PNG
  (nbval ignores images) within the pixel tolerance of ``_notebooks.PIXEL_THRESHOLD`` /
  ``PIXEL_FRACTION`` - same size, at most 0.1 % of pixels off by more than 16/255 - so a helpers
  change cannot leave a stale figure in a committed notebook or in the book, which renders them;
* lab frames embedded in HTML outputs are held to the same tolerance.

The runs are the slow part of the suite (two executions per notebook); the tests of one notebook
share an xdist group, so each notebook is executed on one worker only.
"""

from __future__ import annotations

import functools

import nbformat
import pytest

from _notebooks import PIXEL_FRACTION, PIXEL_THRESHOLD, chapter_notebooks, execute, images, pixel_difference, text_outputs

NOTEBOOKS = chapter_notebooks()
IDS = [p.stem for p in NOTEBOOKS]


def _grouped(params):
    return [pytest.param(p, id=p.stem, marks=pytest.mark.xdist_group(name=f"determinism-{p.stem}")) for p in params]


@functools.lru_cache(maxsize=None)
def run(path, threads):
    return execute(path, threads=threads)


def _describe(a, b):
    """First differing text output, for a readable failure."""
    for x, y in zip(a, b):
        if x != y:
            return f"cell {x[0]} ({x[1]}):\n  1 thread : {x[2][:300]!r}\n  2 threads: {y[2][:300]!r}"
    return f"{len(a)} vs {len(b)} text outputs"


def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, "no chapters/*.ipynb found"


@pytest.mark.parametrize("path", _grouped(NOTEBOOKS))
def test_text_outputs_do_not_depend_on_blas_threads(path):
    one, two = text_outputs(run(path, 1).nb), text_outputs(run(path, 2).nb)
    assert one == two, _describe(one, two)


@pytest.mark.parametrize("path", _grouped(NOTEBOOKS))
def test_figures_match_the_committed_ones(path):
    committed = images(nbformat.read(path, as_version=4))
    fresh = images(run(path, 2).nb)
    assert [c for c, _ in fresh] == [c for c, _ in committed], (
        f"figures per cell differ: committed {[c for c, _ in committed]}, re-run {[c for c, _ in fresh]} "
        "(re-execute the notebook: python scripts/execute_notebooks.py)")
    stale = []
    for (cell, new), (_, old) in zip(fresh, committed):
        ok, why = pixel_difference(new, old)
        if not ok:
            stale.append(f"cell {cell}: {why}")
    assert not stale, (f"figures differ from the committed ones beyond {PIXEL_FRACTION:.1%} of pixels off by "
                       f">{PIXEL_THRESHOLD}/255 (stale outputs: re-execute the notebook): " + "; ".join(stale))


@pytest.mark.parametrize("path", _grouped(NOTEBOOKS))
def test_figures_do_not_depend_on_blas_threads(path):
    one, two = images(run(path, 1).nb), images(run(path, 2).nb)
    assert len(one) == len(two)
    bad = [f"cell {c}: {why}" for (c, a), (_, b) in zip(one, two) for ok, why in [pixel_difference(a, b)] if not ok]
    assert not bad, "; ".join(bad)


def test_pixel_tolerance_catches_a_moved_line():
    """The tolerance is tight enough to see a curve that moved by 2 %: the check can fail."""
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
