"""The determinism checks of ``test_determinism.py`` with two BLAS threads (see its docstring).

A file of its own so that, under ``--dist loadfile``, the one-thread and the two-thread executions
run on different workers at the same time.
"""

from __future__ import annotations

import functools

import pytest

import test_determinism as one
from _notebooks import execute

THREADS = 2
NOTEBOOKS = one.NOTEBOOKS


@functools.lru_cache(maxsize=None)
def run(path):
    return execute(path, threads=THREADS)


@pytest.fixture(autouse=True)
def two_threads(monkeypatch):
    monkeypatch.setattr(one, "run", run)
    monkeypatch.setattr(one, "THREADS", THREADS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_text_outputs_with_two_threads_are_the_committed_ones(path):
    one.check_text(path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_figures_with_two_threads_are_the_committed_ones(path):
    one.check_figures(path)
