"""Rehearse what Binder does with this repository, as closely as one machine allows.

    python scripts/binder_rehearsal.py            # prints a table, writes benchmarks/results/binder.json
    python scripts/binder_rehearsal.py --keep     # keep the environment (its path is printed)

1. Copy the files a clean checkout would have (``git ls-files``: tracked plus untracked-but-not-
   ignored) to a temporary folder, so nothing local (``.venv``, ``_build``, caches) helps.
2. Create a fresh virtual environment and ``pip install -r requirements.txt`` from the copy's root,
   as repo2docker does when there is no ``binder/`` folder (``-e .`` installs ``helpers``). The
   install time and the environment's size on disk are recorded.
3. Execute every chapter notebook in a kernel of that environment, with the chapter's own folder as
   working directory and one BLAS thread (Binder guarantees about one core), recording each run's
   time, the kernel's CPU time and its peak resident memory (Binder: 1 GB guaranteed, 2 GB at most).

It needs network access to PyPI (or a wheel cache through ``PIP_FIND_LINKS``) and takes a few
minutes, most of them in ``pip``, so it is not part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
LIMIT_MB = {"target": 600, "binder_guaranteed": 1024, "binder_max": 2048}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
# Peak resident memory of the kernel: VmHWM on Linux (ru_maxrss would include the memory of the process
# that started the kernel: Linux carries it over fork and exec), ru_maxrss elsewhere.
_PROBE = ("import os as _o, re as _re, resource as _r, sys as _s\n"
          "_t = _o.times()\n"
          "try:\n"
          "    _m = int(_re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
          "except (OSError, AttributeError):\n"
          "    _m = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss // (1024 if _s.platform == 'darwin' else 1)\n"
          "print('__PROBE__', _m,"
          " _t.user + _t.system, _s.prefix)")


def checkout_copy(dest: Path) -> int:
    """Copy what a clean clone would hold; returns the number of files."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    n = 0
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
            n += 1
    return n


def dir_size_mb(path: Path) -> float:
    total = 0
    for base, _, files in os.walk(path):
        for f in files:
            p = os.path.join(base, f)
            if not os.path.islink(p):
                total += os.lstat(p).st_size
    return total / 2**20


def run_notebook(path: Path, kernel_name: str, env: dict, timeout: int = 900) -> dict:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE))
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    error = None
    try:
        client.execute(env=env)
    except Exception as exc:  # reported in the table, not fatal
        lines = str(exc).strip().splitlines()
        error = f"{type(exc).__name__}: {lines[-1][:200] if lines else ''}"
    seconds = time.perf_counter() - t0
    text = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.get("output_type") == "stream")
    m = re.search(r"__PROBE__ (\d+) ([\d.]+) (\S+)", text)
    return {"notebook": path.stem, "seconds": seconds, "kernel_cpu_s": float(m.group(2)) if m else None,
            "peak_rss_mb": int(m.group(1)) / 1024 if m else None, "kernel_prefix": m.group(3) if m else None,
            "error": error}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary checkout and environment")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads in the kernels (default 1, like Binder)")
    parser.add_argument("--json", type=Path, default=RESULTS / "binder.json")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="binder-rehearsal-"))
    repo, venv = tmp / "repo", tmp / "venv"
    repo.mkdir()
    report: dict = {"python_host": sys.version.split()[0]}
    runtime = ROOT / "runtime.txt"
    report["runtime_txt"] = runtime.read_text().strip() if runtime.exists() else None
    try:
        report["files_copied"] = checkout_copy(repo)
        reqs = (repo / "requirements.txt").read_text().splitlines()
        loose = [ln.strip() for ln in reqs if ln.strip() and not ln.lstrip().startswith(("#", "-e", "-r", "."))
                 and "==" not in ln]
        report["unpinned_requirements"] = loose

        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        py = venv / "bin" / "python"
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        t1 = time.perf_counter()
        pip = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"], cwd=repo,
                             capture_output=True, text=True)
        report["venv_seconds"] = t1 - t0
        report["pip_install_seconds"] = time.perf_counter() - t1
        report["pip_returncode"] = pip.returncode
        if pip.returncode != 0:
            report["pip_error"] = (pip.stdout + pip.stderr)[-2000:]
            raise SystemExit(_finish(report, args, tmp, failed=True))
        report["env_size_mb"] = dir_size_mb(venv)
        check = subprocess.run([str(py), "-c", "import helpers, sys; print(helpers.__file__)"], cwd=repo / "chapters",
                               capture_output=True, text=True)
        report["helpers_imported_from"] = check.stdout.strip() or check.stderr.strip()[-300:]

        # a kernelspec for the new environment, found through JUPYTER_PATH
        spec_dir = tmp / "share" / "jupyter" / "kernels" / "binder-rehearsal"
        spec_dir.mkdir(parents=True)
        (spec_dir / "kernel.json").write_text(json.dumps({
            "argv": [str(py), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Binder rehearsal", "language": "python"}))
        os.environ["JUPYTER_PATH"] = str(tmp / "share" / "jupyter")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update({var: str(args.threads) for var in THREAD_VARS})
        env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
        report["threads"] = args.threads
        report["notebooks"] = [run_notebook(p, "binder-rehearsal", env) for p in sorted((repo / "chapters").glob("*.ipynb"))]
        for r in report["notebooks"]:
            prefix = r.pop("kernel_prefix")
            r["kernel_in_fresh_env"] = prefix is not None and Path(prefix).resolve() == venv.resolve()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", file=sys.stderr)
    return _finish(report, args, tmp)


def _finish(report: dict, args, tmp: Path, failed: bool = False) -> int:
    lines = ["# Binder rehearsal", "",
             f"- runtime.txt: {report.get('runtime_txt')} (this machine: Python {report['python_host']})",
             f"- files in the clean copy: {report.get('files_copied')}",
             f"- unpinned requirements: {report.get('unpinned_requirements') or 'none'}",
             f"- fresh venv: {report.get('venv_seconds', 0):.0f} s; pip install -r requirements.txt: "
             f"{report.get('pip_install_seconds', 0):.0f} s (exit {report.get('pip_returncode')})",
             f"- environment size: {report.get('env_size_mb', 0):.0f} MB",
             f"- import helpers from chapters/: {report.get('helpers_imported_from')}", ""]
    if failed:
        lines += ["pip install failed:", "", report.get("pip_error", "")]
    if report.get("notebooks"):
        lines += [f"| notebook | wall s | kernel CPU s | peak RSS MB | < {LIMIT_MB['target']} MB | fresh env | error |",
                  "|---|---:|---:|---:|---|---|---|"]
        for r in report["notebooks"]:
            rss = r["peak_rss_mb"]
            lines.append(f"| {r['notebook']} | {r['seconds']:.1f} | {r['kernel_cpu_s'] or 0:.1f} | "
                         f"{'-' if rss is None else f'{rss:.0f}'} | "
                         f"{'-' if rss is None else ('ok' if rss < LIMIT_MB['target'] else 'MISS')} | "
                         f"{'yes' if r['kernel_in_fresh_env'] else 'NO'} | {r['error'] or ''} |")
    print("\n".join(lines))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    ok = not failed and all(r["error"] is None and r["kernel_in_fresh_env"] for r in report.get("notebooks", []))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
