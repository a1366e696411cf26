"""Re-execute chapter notebooks in place, exactly as the tests run them, and store their outputs.

    python scripts/execute_notebooks.py                 # every notebook in chapters/
    python scripts/execute_notebooks.py chapters/x.ipynb

Each notebook runs in a fresh kernel of the current Python environment, with its own folder as
the working directory (as on Binder and under nbval). Live-widget outputs are dropped: they only
mean something with a kernel attached, and the static book shows the pre-rendered lab instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def execute(path: Path, timeout: int = 600) -> float:
    """Execute one notebook in place and return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all chapters)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    for path in paths:
        print(f"{path.name:40s} {execute(path.resolve()):6.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
