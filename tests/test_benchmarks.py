"""The benchmark script's own logic (no timing is asserted: speed lives in its table, not in tests)."""

from __future__ import annotations

import importlib.util
import itertools
import math
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("radices", [[3], [2, 2], [3, 4], [2, 3, 4], [1, 5], [4, 1, 3]])
def test_gray_walk_visits_every_setting_once_changing_one_control(bench, radices):
    walk = list(bench.gray_walk(radices))
    assert sorted(walk) == sorted(itertools.product(*(range(r) for r in radices)))
    assert len(walk) == math.prod(radices)
    for a, b in zip(walk, walk[1:]):
        assert sum(x != y for x, y in zip(a, b)) == 1


def test_table_renders_every_section(bench):
    results = {
        "machine": {"when": "now", "cpus": 2, "load_before": [1.0], "load_after": [1.0]},
        "network": [{"dtype": "float32", "threads": 1, "case": "depth 4 width 256 batch 256", "activation": "relu",
                     "width": 256, "gflops_matmul": 90.0, "ms_network": 5.0, "ms_network_workspace": 4.6,
                     "fraction": 0.8, "fraction_workspace": 0.6}],
        "notebooks": [{"notebook": "intro", "seconds": 25.0, "kernel_cpu_s": 20.0, "peak_rss_mb": 150.0, "error": None}],
        "labs": [{"notebook": "intro", "lab": "intro-depth", "settings": 12, "redraw_median_ms": 90.0,
                  "redraw_p95_ms": 200.0, "cold_median_ms": 600.0, "cold_p95_ms": 700.0, "static_frames_s": 2.0}],
        "build": [{"step": "clean build", "seconds": 60.0, "returncode": 0, "warnings": 0}],
        "suite": [{"run": "whole test suite", "command": "make test", "seconds": 200.0, "returncode": 0,
                   "summary": "700 passed"}],
    }
    text = bench.table(results)
    for heading in ("Forward + backward", "Notebooks", "Labs", "Book build", "Test suite"):
        assert heading in text
    assert "| 60 % | MISS |" in text           # a missed network target is flagged
    assert "| intro | 25.0 | 20.0 | 150 | MISS | ok |" in text  # 25 s misses, 150 MB does not
