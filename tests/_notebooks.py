"""Comparing notebook outputs as the tests do: text outputs, and figures within a pixel tolerance.

Used by chapters/conftest.py (nbval's figure check), ``test_determinism.py`` and
``test_notebook_hygiene.py``.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np

from _book import ROOT

CHAPTERS = ROOT / "chapters"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
DATA_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
# Pixel tolerance for re-rendered figures: same size, and at most 0.1 % of the pixels may differ by
# more than 16 (of 255) in any channel. Anti-aliasing noise from floating-point differences touches a
# handful of pixels; a figure drawn from different numbers (a stale figure) moves whole lines.
PIXEL_THRESHOLD = 16
PIXEL_FRACTION = 1e-3
# BLAS threads of nbval's kernels (chapters/conftest.py); the stored outputs are made with two
# (scripts/execute_notebooks.py), so every test run compares two thread counts.
NBVAL_THREADS = 1


def chapter_notebooks() -> list[Path]:
    return sorted(CHAPTERS.glob("*.ipynb"))


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


def output_images(outputs) -> list[bytes]:
    """Every PNG in a list of cell outputs: figures (``image/png``) and lab frames inside HTML."""
    out = []
    for o in outputs:
        data = o.get("data", {})
        if "image/png" in data:
            png = data["image/png"]
            out.append(base64.b64decode(png if isinstance(png, str) else "".join(png)))
        html = data.get("text/html")
        if html:
            html = html if isinstance(html, str) else "".join(html)
            out.extend(base64.b64decode(m) for m in DATA_URI.findall(html))
    return out


def images(nb) -> list[tuple[int, bytes]]:
    """Every PNG a notebook shows, as ``(cell index, bytes)``: figures and lab frames inside HTML."""
    return [(i, png) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for png in output_images(cell.get("outputs", []))]


def stale_figures(fresh_outputs, committed_outputs) -> list[str]:
    """Why the images of a re-run cell are not the committed ones (empty if they match).

    Same number of images, and each within the pixel tolerance below of its committed twin.
    """
    fresh, committed = output_images(fresh_outputs), output_images(committed_outputs)
    if len(fresh) != len(committed):
        return [f"{len(fresh)} images, the committed cell has {len(committed)}"]
    return [f"image {k + 1} of {len(fresh)}: {why}" for k, (new, old) in enumerate(zip(fresh, committed))
            for ok, why in [pixel_difference(new, old)] if not ok]


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
