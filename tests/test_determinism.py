"""The committed outputs are exactly what the code produces, whatever the number of BLAS threads.

Every chapter's outputs are stored by ``scripts/execute_notebooks.py`` with two BLAS threads, which
the notebook records (``metadata.book.blas_threads``); nbval re-executes every notebook with one
thread (tests/conftest.py) and compares every text output strictly, and every figure and lab frame
within the pixel tolerance of ``_notebooks`` (same size, at most 0.1 % of the pixels off by more
than 16/255; conftest's ``pytest_runtest_call``). So each run of the suite proves, notebook by
notebook, that one and two threads give the same outputs (numbers are printed at a precision well
above floating-point noise, as CONTRIBUTING.md asks) and that no figure is stale.

The tests here check that this holds as designed: the stored outputs were made with a thread count
other than nbval's, and the comparisons can fail.
"""

from __future__ import annotations

import base64
import io
import sys

import nbformat
import pytest

from _notebooks import NBVAL_THREADS, chapter_notebooks, pixel_difference, stale_figures, text_outputs
from _book import ROOT

NOTEBOOKS = chapter_notebooks()
sys.path.insert(0, str(ROOT / "scripts"))
from execute_notebooks import BLAS_THREADS  # noqa: E402


def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, "no chapters/*.ipynb found"


def test_outputs_are_stored_and_checked_with_different_thread_counts():
    """nbval's kernels inherit chapters/conftest.py's setting, whatever module was imported after it."""
    import importlib.util
    import os

    assert BLAS_THREADS != NBVAL_THREADS, (BLAS_THREADS, NBVAL_THREADS)
    spec = importlib.util.spec_from_file_location("chapters_conftest", ROOT / "chapters" / "conftest.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    importlib.reload(sys.modules["execute_notebooks"])  # the script sets threads for its own kernels only
    assert os.environ["OPENBLAS_NUM_THREADS"] == os.environ["OMP_NUM_THREADS"] == str(NBVAL_THREADS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_outputs_were_stored_with_the_execution_script(path):
    """So nbval's one-thread run is a second thread count, not a repeat of the stored one."""
    book = nbformat.read(path, as_version=4).metadata.get("book", {})
    assert book.get("blas_threads") == BLAS_THREADS, (
        f"{path.name} records blas_threads={book.get('blas_threads')!r}, not {BLAS_THREADS}: store its outputs "
        f"with python scripts/execute_notebooks.py {path.relative_to(ROOT)}")


def _png(scale: float) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 3.5))
    x = np.linspace(0, 1, 200)
    ax.plot(x, scale * np.sin(6 * x))
    ax.set_ylim(-1.2, 1.2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def test_pixel_tolerance_catches_a_moved_curve():
    """The tolerance is tight enough to see a curve whose amplitude changed by 2 %: the check can fail."""
    assert pixel_difference(_png(1.0), _png(1.0))[0]
    assert not pixel_difference(_png(1.0), _png(0.98))[0]


def test_stale_figure_check_sees_a_changed_figure_and_lab_frame():
    import nbformat.v4 as v4

    def figure(png):
        return v4.new_output("display_data", data={"image/png": base64.b64encode(png).decode()})

    def lab(png):
        frame = base64.b64encode(png).decode()
        return v4.new_output("display_data", data={"text/html": f'<div class="ib-lab"><img src="data:image/png;base64,{frame}"></div>'})

    same, moved = _png(1.0), _png(0.98)
    assert stale_figures([figure(same), lab(same)], [figure(same), lab(same)]) == []
    assert stale_figures([figure(moved)], [figure(same)])
    assert stale_figures([lab(moved)], [lab(same)])
    assert stale_figures([figure(same)], [figure(same), figure(same)])


def test_text_comparison_sees_a_changed_digit():
    import nbformat.v4 as v4

    def nb(text):
        return v4.new_notebook(cells=[v4.new_code_cell("x", outputs=[v4.new_output("stream", name="stdout", text=text)])])

    assert text_outputs(nb("loss 0.123\n")) == text_outputs(nb("loss 0.123\n"))
    assert text_outputs(nb("loss 0.123\n")) != text_outputs(nb("loss 0.124\n"))
