"""Executing chapter notebooks as the tests do, and comparing their outputs (text and pixels).

Used by ``test_determinism.py`` (and mirrored by ``benchmarks/run.py``). A notebook runs in a fresh
``python3`` kernel of the current environment with its own folder as the working directory, exactly
as ``scripts/execute_notebooks.py`` and nbval run it; the number of BLAS / OpenMP threads is set
through the kernel's environment.
"""

from __future__ import annotations

import base64
import io
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
DATA_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
# VmHWM on Linux: ru_maxrss would include the memory of the process that started the kernel.
_PEAK_RSS_CELL = ("import re as _re, resource as _r, sys as _s\n"
                  "try:\n"
                  "    _m = int(_re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
                  "except (OSError, AttributeError):\n"
                  "    _m = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss // (1024 if _s.platform == 'darwin' else 1)\n"
                  "print('__PEAK_RSS_KB__', _m)")

# Pixel tolerance for re-rendered figures: same size, and at most 0.1 % of the pixels may differ by
# more than 16 (of 255) in any channel. Anti-aliasing noise from floating-point differences touches a
# handful of pixels; a figure drawn from different numbers (a stale figure) moves whole lines.
PIXEL_THRESHOLD = 16
PIXEL_FRACTION = 1e-3


def chapter_notebooks() -> list[Path]:
    return sorted(CHAPTERS.glob("*.ipynb"))


@dataclass
class Run:
    nb: nbformat.NotebookNode
    seconds: float
    peak_rss_mb: float | None


def thread_env(threads: int | None) -> dict[str, str]:
    env = dict(os.environ)
    if threads is not None:
        env.update({var: str(threads) for var in THREAD_VARS})
    return env


def execute(path: Path, *, threads: int | None = None, timeout: int = 600, peak_rss: bool = False) -> Run:
    """Execute a copy of the notebook at ``path`` (the file is not touched) and return it.

    Widget-view outputs are dropped, as ``scripts/execute_notebooks.py`` does when it stores outputs.
    With ``peak_rss=True`` a last cell reads the kernel's peak resident memory (``ru_maxrss``) and is
    removed again.
    """
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    if peak_rss:
        nb.cells.append(nbformat.v4.new_code_cell(_PEAK_RSS_CELL))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute(env=thread_env(threads))
    seconds = time.perf_counter() - start
    rss = None
    if peak_rss:
        last = nb.cells.pop()
        text = "".join(o.get("text", "") for o in last.outputs if o.get("output_type") == "stream")
        match = re.search(r"__PEAK_RSS_KB__ (\d+)", text)
        rss = int(match.group(1)) / 1024 if match else None
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
    return Run(nb, seconds, rss)


def text_outputs(nb) -> list[tuple[int, str, str]]:
    """Every text output as ``(cell index, kind, text)``; images are replaced by a placeholder.

    Consecutive stream outputs of one cell are joined, as nbval does: how a kernel splits printed
    text into messages depends on timing, not on the code.
    """
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            kind = o.get("output_type")
            if kind == "stream":
                name = f"stream:{o.get('name')}"
                text = o.get("text", "")
                text = text if isinstance(text, str) else "".join(text)
                if out and out[-1][0] == i and out[-1][1] == name:
                    out[-1] = (i, name, out[-1][2] + text)
                else:
                    out.append((i, name, text))
            elif kind == "error":
                out.append((i, "error", f"{o.get('ename')}: {o.get('evalue')}"))
            else:
                for mime, value in sorted(o.get("data", {}).items()):
                    if mime.startswith("image/") or mime == WIDGET_VIEW:
                        continue
                    text = value if isinstance(value, str) else "".join(value) if isinstance(value, list) else repr(value)
                    out.append((i, mime, DATA_URI.sub("data:image/png;base64,<image>", text)))
    return out


def images(nb) -> list[tuple[int, bytes]]:
    """Every PNG a notebook shows, as ``(cell index, bytes)``: figures and lab frames inside HTML."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if "image/png" in data:
                png = data["image/png"]
                out.append((i, base64.b64decode(png if isinstance(png, str) else "".join(png))))
            html = data.get("text/html")
            if html:
                html = html if isinstance(html, str) else "".join(html)
                out.extend((i, base64.b64decode(m)) for m in DATA_URI.findall(html))
    return out


def pixel_difference(a: bytes, b: bytes) -> tuple[bool, str]:
    """``(within tolerance, description)`` for two PNGs, by the stated pixel tolerance."""
    from PIL import Image

    ia = np.asarray(Image.open(io.BytesIO(a)).convert("RGB"), dtype=np.int16)
    ib = np.asarray(Image.open(io.BytesIO(b)).convert("RGB"), dtype=np.int16)
    if ia.shape != ib.shape:
        return False, f"size {ia.shape[1]}x{ia.shape[0]} vs {ib.shape[1]}x{ib.shape[0]}"
    differing = float(np.mean(np.abs(ia - ib).max(axis=2) > PIXEL_THRESHOLD))
    ok = differing <= PIXEL_FRACTION
    return ok, f"{100 * differing:.3f} % of pixels differ by more than {PIXEL_THRESHOLD}/255"
