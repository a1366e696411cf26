"""How fast and how heavy the book is: one command, a table on stdout, JSON in benchmarks/results/.

    python benchmarks/run.py                      # everything (several minutes)
    python benchmarks/run.py --only network labs  # some sections
    python benchmarks/run.py --skip suite build   # everything but the slow ones

Sections (targets from the project's performance issue, for a 2-core machine):

* ``build``     - ``jupyter-book build`` from clean into a temporary folder, then again with nothing changed
* ``suite``     - the whole test suite (the ``python -m pytest -n 2`` that ``make test`` runs after its installs),
  and nbval alone (the same on ``chapters/``)
* ``notebooks`` - each chapter notebook executed in a fresh kernel: wall time, kernel CPU time and the
  kernel's peak resident memory (target: < 20 s and < 600 MB each)
* ``labs``      - every lab a notebook builds (found through ``helpers.labs.all_labs``), driven through
  its live widgets along a sweep that changes one control per step: redraw latency, median and 95th
  percentile, with the data computed (as after the notebook's ``lab.show()``; target: median < 150 ms)
  and cold (cache cleared: compute + redraw)
* ``network``   - forward + backward throughput of ``helpers.network`` against the raw rate of the same
  matrix products in the same run (target: >= 70 % at width >= 256), float32 and float64

The machine is often shared: every timing is the best (minimum) of several repetitions, interleaved
so that the network and its matmul ceiling see the same load, and the load average is recorded.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SECTIONS = ("network", "notebooks", "labs", "build", "suite")
TARGETS = {"notebook_seconds": 20.0, "notebook_mb": 600.0, "lab_median_ms": 150.0, "network_fraction": 0.70,
           "suite_seconds": 300.0}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def chapter_notebooks() -> list[Path]:
    return sorted((ROOT / "chapters").glob("*.ipynb"))


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# -- network throughput ------------------------------------------------------------------------

NETWORK_CASES = [  # (depth, width, batch)
    (4, 128, 256), (4, 256, 256), (8, 256, 512), (4, 512, 256), (4, 1024, 256),
]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _best(fn, clock, *, block: float = 0.02, repeats: int = 9) -> float:
    """Best (minimum) time per call over ``repeats`` short blocks: the least disturbed measurement."""
    fn()
    t0 = clock()
    fn()
    once = max(clock() - t0, 1e-7)
    n = max(1, int(block / once))
    best = float("inf")
    for _ in range(repeats):
        t0 = clock()
        for _ in range(n):
            fn()
        best = min(best, (clock() - t0) / n)
    return best


def network_worker(threads: int, quick: bool) -> list[dict]:
    """The measurements, run in a process whose BLAS was started with ``threads`` threads.

    With one thread all the work happens in the calling thread, so its CPU time (``thread_time``)
    measures the work itself, unaffected by other processes competing for the cores; with more
    threads only wall time (``perf_counter``) makes sense.
    """
    import numpy as np

    import helpers as H
    from helpers.network import Workspace

    clock = time.thread_time if threads == 1 else time.perf_counter
    rows = []
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        big = rng.standard_normal((1024, 1024)).astype(dtype)
        out = np.empty_like(big)
        t = _best(lambda: np.matmul(big, big, out=out), clock, block=0.1, repeats=5)
        rows.append({"dtype": np.dtype(dtype).name, "case": "square matmul 1024", "activation": "-", "width": 1024,
                     "gflops_matmul": 2 * 1024**3 / t / 1e9, "ms_matmul": t * 1e3})
        for depth, width, batch in NETWORK_CASES[1:3] if quick else NETWORK_CASES:
            for activation in ("relu", "tanh"):
                net = H.build_mlp([width] * (depth + 1), rng, activation=activation, init="kaiming_normal",
                                  dtype=dtype)
                x = rng.standard_normal((batch, width)).astype(dtype)
                g = np.full((batch, width), 1.0 / batch, dtype=dtype)
                ws = Workspace()

                def fresh():  # the default: every pass returns new arrays
                    _, cache = H.forward(net, x)
                    H.backward(net, cache, g)

                def reused():  # a Workspace, as helpers.training.train uses
                    _, cache = H.forward(net, x, workspace=ws)
                    H.backward(net, cache, g, workspace=ws)

                # the same matrix products the network does, into preallocated outputs: the ceiling
                z = np.empty((batch, width), dtype=dtype)
                gw = np.empty((width, width), dtype=dtype)

                def matmuls():
                    for w in net.weights:
                        np.matmul(x, w.T, out=z)
                    for i, w in enumerate(net.weights):
                        np.matmul(z.T, x, out=gw)
                        if i:
                            np.matmul(z, w, out=z)

                flops = 2 * batch * width * width * (3 * depth - 1)
                t_fresh = t_reused = t_mm = float("inf")
                for _ in range(2):  # interleaved, so that all three see the same conditions
                    t_fresh = min(t_fresh, _best(fresh, clock))
                    t_reused = min(t_reused, _best(reused, clock))
                    t_mm = min(t_mm, _best(matmuls, clock))
                rows.append({"dtype": np.dtype(dtype).name, "case": f"depth {depth} width {width} batch {batch}",
                             "activation": activation, "depth": depth, "width": width, "batch": batch,
                             "ms_network": t_fresh * 1e3, "ms_network_workspace": t_reused * 1e3, "ms_matmul": t_mm * 1e3,
                             "gflops_matmul": flops / t_mm / 1e9, "gflops_network_workspace": flops / t_reused / 1e9,
                             "fraction": t_mm / t_fresh, "fraction_workspace": t_mm / t_reused})
    rows += torch_comparison(threads, clock)
    return [dict(r, threads=threads, clock="thread CPU time" if threads == 1 else "wall time") for r in rows]


TORCH_CASE = (30, 256, 256)  # ReLU layers, width, batch: the case the layer model must keep within 1.3x of PyTorch


def torch_comparison(threads: int, clock) -> list[dict]:
    """helpers' forward + backward against PyTorch CPU on the same float32 network, if torch is installed.

    Both compute the output and every weight and bias gradient for ``grad_out``; PyTorch through
    autograd (``out.backward(g)``), helpers through the layer model. The ratio is helpers / PyTorch.
    PyTorch is not a dependency of the book: without it the row says so.
    """
    import numpy as np

    import helpers as H
    from helpers.network import Workspace

    depth, width, batch = TORCH_CASE
    case = f"vs PyTorch: depth {depth} width {width} batch {batch}"
    try:
        import torch
    except ImportError:
        return [{"dtype": "float32", "case": case, "activation": "relu", "torch": "not installed"}]
    torch.set_num_threads(threads)
    rng = np.random.default_rng(1)
    net = H.build_mlp([width] * (depth + 1), rng, activation="relu", dtype=np.float32)
    x = rng.standard_normal((batch, width)).astype(np.float32)
    g = np.full((batch, width), 1.0 / batch, dtype=np.float32)
    layers = []
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        lin = torch.nn.Linear(width, width)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin] + ([torch.nn.ReLU()] if i < depth - 1 else [])
    model = torch.nn.Sequential(*layers)
    tx, tg = torch.from_numpy(x), torch.from_numpy(g)
    ws = Workspace()

    def ours():
        _, cache = H.forward(net, x, workspace=ws)
        H.backward(net, cache, g, workspace=ws)

    def theirs():
        model.zero_grad(set_to_none=True)
        model(tx).backward(tg)

    t_ours = t_torch = float("inf")
    for _ in range(3):  # interleaved, so that both see the same conditions
        t_ours = min(t_ours, _best(ours, clock))
        t_torch = min(t_torch, _best(theirs, clock))
    return [{"dtype": "float32", "case": case, "activation": "relu", "torch": torch.__version__,
             "ms_network_workspace": t_ours * 1e3, "ms_torch": t_torch * 1e3, "ratio_torch": t_ours / t_torch}]


def bench_network(quick: bool = False, threads: tuple[int, ...] = (1,)) -> list[dict]:
    rows = []
    for n in threads:
        env = dict(os.environ, **{var: str(n) for var in THREAD_VARS})
        cmd = [sys.executable, str(Path(__file__).resolve()), "--network-worker", str(n)] + (["--quick"] if quick else [])
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        rows += json.loads(proc.stdout)
    return rows


# -- labs --------------------------------------------------------------------------------------

def gray_walk(radices: list[int]):
    """Reflected mixed-radix Gray code: every setting once, one control changing per step."""
    if not radices:
        yield ()
        return
    first, rest = radices[0], radices[1:]
    sub = list(gray_walk(rest))
    for i in range(first):
        for s in (sub if i % 2 == 0 else reversed(sub)):
            yield (i, *s)


def _run_notebook_in_process(path: Path):
    """Execute a notebook's code cells in this process (an IPython shell, Agg backend) and return the labs it built."""
    import matplotlib

    matplotlib.use("Agg")
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    import nbformat

    from helpers.labs import all_labs

    shell = InteractiveShell.instance()
    shell.reset(new_session=True)
    before = {id(lab) for lab in all_labs()}
    nb = nbformat.read(path, as_version=4)
    cwd = os.getcwd()
    os.chdir(path.parent)
    error = None
    try:
        with capture_output():
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                result = shell.run_cell(cell.source, store_history=False)
                if not result.success:
                    error = repr(result.error_in_exec or result.error_before_exec)
                    break
    finally:
        os.chdir(cwd)
    return [lab for lab in all_labs() if id(lab) not in before], error


def bench_labs(quick: bool = False) -> list[dict]:
    import numpy as np

    rows = []
    for path in chapter_notebooks():
        t0 = time.perf_counter()
        labs, error = _run_notebook_in_process(path)
        print(f"  {path.stem}: executed in-process in {time.perf_counter() - t0:.0f} s, {len(labs)} lab(s)",
              file=sys.stderr, flush=True)
        if error:
            rows.append({"notebook": path.stem, "lab": "-", "error": f"notebook failed in-process: {error[:200]}"})
            continue
        if not labs:
            rows.append({"notebook": path.stem, "lab": "-", "error": "no lab found"})
            continue
        for lab in labs:
            live = lab.widget()  # renders the default setting
            widgets = [live.controls[c.name] for c in lab.controls]
            walk = list(gray_walk([len(c.values) for c in lab.controls]))
            start = tuple(c.values.index(c.default) for c in lab.controls)
            k = walk.index(start)  # begin the walk at the default setting
            walk = walk[k:] + walk[:k] + [start]

            def sweep():
                times, cpu, current = [], [], start
                for setting in walk[1:]:
                    for j in [j for j, (a, b) in enumerate(zip(current, setting)) if a != b]:
                        t, c = time.perf_counter(), time.thread_time()  # a Gray step changes one control
                        widgets[j].value = lab.controls[j].values[setting[j]]
                        times.append(time.perf_counter() - t)
                        cpu.append(time.thread_time() - c)
                    current = setting
                return times, cpu

            # as a reader meets it: the notebook's lab.show() has computed every setting already
            warm, warm_cpu = sweep()
            # a reader who runs only the live cell: compute + redraw on the first visit of each setting
            lab._cache.clear()
            cold, _ = sweep()
            t = time.perf_counter()
            lab.frames()
            frames_s = time.perf_counter() - t
            print(f"    {lab.name}: {len(cold) + len(warm)} redraws, frames {frames_s:.1f} s", file=sys.stderr, flush=True)
            ms = lambda xs, q: 1e3 * float(np.quantile(xs, q)) if xs else None  # noqa: E731
            rows.append({"notebook": path.stem, "lab": lab.name, "settings": lab.n_settings, "redraws": len(warm),
                         "redraw_median_ms": ms(warm, 0.5), "redraw_p95_ms": ms(warm, 0.95),
                         "redraw_cpu_median_ms": ms(warm_cpu, 0.5),
                         "cold_median_ms": ms(cold, 0.5), "cold_p95_ms": ms(cold, 0.95),
                         "static_frames_s": frames_s, "notebook_in_process_s": time.perf_counter() - t0})
    return rows


# -- notebooks ---------------------------------------------------------------------------------

# Peak resident memory of the kernel: VmHWM on Linux (ru_maxrss would include the memory of the process
# that started the kernel: Linux carries it over fork and exec), ru_maxrss elsewhere.
_PROBE = ("import os as _o, re as _re, resource as _r, sys as _s\n"
          "_t = _o.times()\n"
          "try:\n"
          "    _m = int(_re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
          "except (OSError, AttributeError):\n"
          "    _m = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss // (1024 if _s.platform == 'darwin' else 1)\n"
          "print('__PROBE__', _m,"
          " _t.user + _t.system)")


def execute_notebook(path: Path, env: dict | None = None, timeout: int = 900) -> dict:
    """Run a copy of the notebook in a fresh kernel (own folder as cwd); time, CPU and peak RSS of the kernel."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    error = None
    try:
        client.execute(env=env or dict(os.environ))
    except Exception as exc:  # a failing chapter is reported, not fatal to the benchmark
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ''}"
    seconds = time.perf_counter() - t0
    text = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.get("output_type") == "stream")
    m = re.search(r"__PROBE__ (\d+) ([\d.]+)", text)
    return {"notebook": path.stem, "seconds": seconds, "kernel_cpu_s": float(m.group(2)) if m else None,
            "peak_rss_mb": int(m.group(1)) / 1024 if m else None, "error": error}


def bench_notebooks(quick: bool = False) -> list[dict]:
    """Every chapter as nbval runs it in the tests: one BLAS thread (chapters/conftest.py)."""
    env = dict(os.environ, **{var: "1" for var in THREAD_VARS})
    return [execute_notebook(p, env) for p in chapter_notebooks()]


# -- book build --------------------------------------------------------------------------------

def _jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.exists() else (shutil.which("jupyter-book") or "jupyter-book")


def bench_build(quick: bool = False) -> list[dict]:
    if not (ROOT / "chapters" / "intro.ipynb").exists():
        return [{"step": "build", "skipped": "chapters/intro.ipynb does not exist yet: nothing to build"}]
    rows = []
    with tempfile.TemporaryDirectory(prefix="book-bench-") as tmp:
        cmd = [_jupyter_book(), "build", str(ROOT), "--path-output", tmp, "-W", "--keep-going"]
        for step in ("clean build", "rebuild, nothing changed"):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            warnings = len(re.findall(r"WARNING", proc.stdout + proc.stderr))
            rows.append({"step": step, "seconds": time.perf_counter() - t0, "returncode": proc.returncode,
                         "warnings": warnings})
    return rows


# -- test suite --------------------------------------------------------------------------------

def bench_suite(quick: bool = False) -> list[dict]:
    """``make test`` runs ``python -m pytest -n 2`` after its install steps; this times that pytest run
    (the installs are not the suite), then nbval alone: the same command on ``chapters/`` only
    (pyproject's addopts turn on ``--nbval --nbval-current-env``)."""
    py = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2"]
    runs = [("whole test suite", py + ["--durations=12"]), ("nbval alone", py + ["chapters"])]
    rows = []
    for name, cmd in runs:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        output = proc.stdout + proc.stderr
        rows.append({"run": name, "command": " ".join("python" if c == sys.executable else c for c in cmd),
                     "seconds": time.perf_counter() - t0, "returncode": proc.returncode,
                     "summary": _summary(output),
                     "failed": re.findall(r"^(?:FAILED|ERROR) (\S+)", output, re.M),
                     "slowest": re.findall(r"^(\d+\.\d+s (?:call|setup|teardown)\s+\S+)", output, re.M)[:12],
                     "load_after": load_average()})
    return rows


def _summary(output: str) -> str:
    lines = [ln for ln in output.splitlines() if re.search(r"\b(passed|failed|error)\b", ln)]
    return lines[-1].strip("= ").strip() if lines else ""


# -- report ------------------------------------------------------------------------------------

def _fmt(v, spec=".1f"):
    return "-" if v is None else format(v, spec)


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.0f} %"


def _flag(ok: bool | None) -> str:
    return "" if ok is None else ("ok" if ok else "MISS")


def table(results: dict) -> str:
    out = [f"# Benchmarks ({results['machine']['when']}, {results['machine']['cpus']} CPUs, "
           f"load {results['machine']['load_before']} -> {results['machine']['load_after']})", ""]
    if "network" in results:
        out += ["## Forward + backward throughput against the same matrix products (best of interleaved repeats)", "",
                "`new arrays`: forward/backward as called by default; `workspace`: with reused buffers, as "
                "`train` runs them. Fraction = time of the bare matrix products / time of the pass.", "",
                "| dtype | threads | case | act | matmul GFLOP/s | ms new arrays | ms workspace | fraction new arrays "
                "| fraction workspace | >= 70 % (workspace) |",
                "|---|---:|---|---|---:|---:|---:|---:|---:|---|"]
        for r in results["network"]:
            if "torch" in r:
                continue
            frac, frac_ws = r.get("fraction"), r.get("fraction_workspace")
            target = None if frac_ws is None or r.get("width", 0) < 256 else frac_ws >= TARGETS["network_fraction"]
            out.append(f"| {r['dtype']} | {r['threads']} | {r['case']} | {r['activation']} | {_fmt(r['gflops_matmul'])} | "
                       f"{_fmt(r.get('ms_network'), '.2f')} | {_fmt(r.get('ms_network_workspace'), '.2f')} | "
                       f"{_pct(frac)} | {_pct(frac_ws)} | {_flag(target)} |")
        out.append("")
        torch_rows = [r for r in results["network"] if "torch" in r]
        if torch_rows:
            out += ["## Against PyTorch CPU: the same float32 ReLU network, forward + backward (target: ratio <= 1.3)",
                    "", "| threads | case | torch | ms helpers (workspace) | ms PyTorch | ratio | <= 1.3 |",
                    "|---:|---|---|---:|---:|---:|---|"]
            for r in torch_rows:
                ratio = r.get("ratio_torch")
                out.append(f"| {r['threads']} | {r['case']} | {r['torch']} | {_fmt(r.get('ms_network_workspace'), '.2f')} | "
                           f"{_fmt(r.get('ms_torch'), '.2f')} | {_fmt(ratio, '.2f')} | "
                           f"{_flag(None if ratio is None else ratio <= 1.3)} |")
            out.append("")
    if "notebooks" in results:
        out += ["## Notebooks (fresh kernel, own folder as cwd)", "",
                "| notebook | wall s | kernel CPU s | peak RSS MB | < 20 s | < 600 MB | error |",
                "|---|---:|---:|---:|---|---|---|"]
        for r in results["notebooks"]:
            out.append(f"| {r['notebook']} | {_fmt(r['seconds'])} | {_fmt(r['kernel_cpu_s'])} | {_fmt(r['peak_rss_mb'], '.0f')} | "
                       f"{_flag(r['seconds'] < TARGETS['notebook_seconds'])} | "
                       f"{_flag(None if r['peak_rss_mb'] is None else r['peak_rss_mb'] < TARGETS['notebook_mb'])} | "
                       f"{r['error'] or ''} |")
        out.append("")
    if "labs" in results:
        out += ["## Labs: redraw latency over a sweep that changes one control per step", "",
                "Redraw: data already computed (as after the notebook's `lab.show()`); cold: the cache cleared, "
                "so the first visit of each setting also computes.", "",
                "| notebook | lab | settings | redraw median / p95 ms | redraw CPU median ms | < 150 ms | "
                "cold median / p95 ms | static frames s |",
                "|---|---|---:|---:|---:|---|---:|---:|"]
        for r in results["labs"]:
            if "error" in r:
                out.append(f"| {r['notebook']} | {r['lab']} | | {r['error']} | | | | |")
                continue
            out.append(f"| {r['notebook']} | {r['lab']} | {r['settings']} | {_fmt(r['redraw_median_ms'], '.0f')} / "
                       f"{_fmt(r['redraw_p95_ms'], '.0f')} | {_fmt(r.get('redraw_cpu_median_ms'), '.0f')} | "
                       f"{_flag(r['redraw_median_ms'] < TARGETS['lab_median_ms'])} | "
                       f"{_fmt(r['cold_median_ms'], '.0f')} / {_fmt(r['cold_p95_ms'], '.0f')} | "
                       f"{_fmt(r['static_frames_s'])} |")
        out.append("")
    if "build" in results:
        out += ["## Book build (jupyter-book build -W --keep-going into a temporary folder)", "",
                "| step | seconds | exit code | warnings |", "|---|---:|---:|---:|"]
        for r in results["build"]:
            out.append(f"| {r['step']} | {r.get('skipped') or _fmt(r['seconds'])} | {r.get('returncode', '-')} | "
                       f"{r.get('warnings', '-')} |")
        out.append("")
    if "suite" in results:
        out += ["## Test suite", "", "| run | command | seconds | exit code | summary |", "|---|---|---:|---:|---|"]
        for r in results["suite"]:
            out.append(f"| {r['run']} | `{r['command']}` | {_fmt(r['seconds'])} | {r['returncode']} | {r['summary']} |")
        out.append("")
    return "\n".join(out)


def machine() -> dict:
    import numpy as np

    info = {"when": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "platform": platform.platform(), "load_before": load_average()}
    with contextlib.suppress(Exception):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            np.show_config()
        blas = re.search(r"blas:.*?name:\s*(\S+).*?version:\s*(\S+)", buf.getvalue(), re.S)
        if blas:
            info["blas"] = f"{blas.group(1)} {blas.group(2)}"
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--skip", nargs="+", choices=SECTIONS, default=[], help="skip these sections")
    parser.add_argument("--quick", action="store_true", help="fewer cases and repeats (a smoke run)")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json", help="where to write the results")
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="BLAS threads for the network section (default 1: CPU time, robust on a busy machine)")
    parser.add_argument("--network-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.network_worker is not None:
        print(json.dumps(network_worker(args.network_worker, args.quick)))
        return 0
    sections = [s for s in (args.only or SECTIONS) if s not in args.skip]
    run = {"network": lambda quick: bench_network(quick, tuple(args.threads)), "labs": bench_labs, "notebooks": bench_notebooks, "build": bench_build,
           "suite": bench_suite}
    results: dict = {"machine": machine(), "targets": TARGETS}
    for section in sections:
        t0 = time.perf_counter()
        print(f"running {section} ...", file=sys.stderr, flush=True)
        results[section] = run[section](args.quick)
        print(f"  {section} took {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    results["machine"]["load_after"] = load_average()
    print(table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(f"\nwrote {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
