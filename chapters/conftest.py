"""How the tests run these notebooks (nbval, strict; ``pyproject.toml`` adds ``--nbval``).

* **One BLAS thread.** The stored outputs come from ``scripts/execute_notebooks.py``, which runs
  every kernel with two threads and records it in the notebook; nbval re-executes with one (set
  here, before any kernel starts, and inherited by every kernel). So each run of the suite proves
  that one and two threads give the same outputs (``tests/test_determinism.py`` checks the record).
  One thread also keeps the kernels fast next to other work: a two-thread OpenBLAS kernel on a busy
  2-core machine waits for its second thread on almost every small matrix product (a 3 s cell took
  35-80 s next to a browser).
* **Figures too.** nbval compares text and ignores PNG bytes, so after each cell the hook below
  compares every figure, and every lab frame (lab cells are tagged ``nbval-ignore-output`` and still
  run), with the committed one within the pixel tolerance of ``tests/_notebooks.py``: a helpers
  change cannot leave a stale figure in a notebook, nor in the book that renders those outputs.
* **No sanitizer** (``--nbval-sanitize-with``): CONTRIBUTING.md makes every text output reproducible
  at the source (seeded draws, fixed-precision numbers, no reprs or addresses, empty stderr), and a
  regex that rewrote outputs before comparing could hide a real change.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _notebooks import NBVAL_THREADS, PIXEL_FRACTION, PIXEL_THRESHOLD, stale_figures  # noqa: E402

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(NBVAL_THREADS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After nbval ran a cell (and compared its text), compare its figures with the committed ones."""
    result = yield
    fresh, cell = getattr(item, "test_outputs", None), getattr(item, "cell", None)
    if fresh is not None and cell is not None:
        stale = stale_figures(fresh, cell.get("outputs", []))
        if stale:
            raise AssertionError(
                f"the figures of this cell differ from the committed ones (tolerance: {PIXEL_FRACTION:.1%} of the "
                f"pixels off by more than {PIXEL_THRESHOLD}/255): " + "; ".join(stale[:5]) +
                f"; re-execute the notebook: python scripts/execute_notebooks.py {item.path.name}")
    return result
