"""Re-execute chapter notebooks in place, exactly as the tests run them, and store their outputs.

    python scripts/execute_notebooks.py                 # every notebook in chapters/
    python scripts/execute_notebooks.py chapters/x.ipynb

Each notebook runs in a fresh kernel of the current Python environment (the interpreter running
this script, as `pytest --nbval-current-env` does, whatever kernels are installed elsewhere), with
its own folder as the working directory (as on Binder and under nbval). Live-widget outputs are
dropped: they only mean something with a kernel attached, and the static book shows the
pre-rendered lab instead. `make outputs` runs this for every chapter.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import ipykernel.kernelspec
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent

# The kernels run with two BLAS threads, and each notebook records it (``metadata.book.blas_threads``):
# nbval checks the stored outputs with one thread (tests/conftest.py), so every test run proves that
# the outputs do not depend on the number of threads (tests/test_determinism.py).
# Set in the kernel's environment only: importing this module (tests/test_determinism.py does) must not
# change the threads of kernels that other code starts.
BLAS_THREADS = 2
KERNEL_ENV = {var: str(BLAS_THREADS) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class _CurrentEnvironment(KernelSpecManager):
    """Every kernel name means ipykernel in this interpreter (nbval's --nbval-current-env does the same)."""

    def get_kernel_spec(self, kernel_name):
        return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                      **ipykernel.kernelspec.get_kernel_dict())


def _merge_streams(outputs: list) -> list:
    """Consecutive prints to one stream as one output: how a busy machine splits them is not content."""
    merged = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (prev is not None and out.get("output_type") == "stream" == prev.get("output_type")
                and out.get("name") == prev.get("name")):
            prev["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def execute(path: Path, timeout: int = 600) -> float:
    """Execute one notebook in place and return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    km = KernelManager(kernel_name="python3", kernel_spec_manager=_CurrentEnvironment())
    client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute(env={**os.environ, **KERNEL_ENV})
    finally:
        if km.has_kernel:  # the client does not shut down a kernel manager it was given
            km.shutdown_kernel(now=True)
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _merge_streams([o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})])
    nb.metadata.pop("widgets", None)
    nb.metadata["book"] = {"blas_threads": BLAS_THREADS}
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
