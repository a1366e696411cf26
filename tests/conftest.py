"""Shared fixtures: the book built once per test session, served on 127.0.0.1, and a headless Chromium.

The whole suite runs from one command at the repository root (``make test``)::

    python -m pytest -n 2

``pyproject.toml`` adds ``--nbval --nbval-current-env`` and collects ``tests/`` and ``chapters/``, so
that command runs the helpers unit tests, every chapter notebook under nbval (strict), the book build
and the browser tests. Under pytest-xdist every cell of one notebook stays on one worker (they share a
kernel), every browser test of one page stays on one worker (they share one visit of the page; see
:func:`work_unit`), and the book is built once per run, by whichever worker first needs it.

How nbval runs the chapters (one BLAS thread, figures compared too) is set in chapters/conftest.py,
beside the notebooks, so that it also holds for ``pytest chapters/x.ipynb``.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from _book import ROOT, source_of, toc_pages  # noqa: F401 - shared with the test modules

CHROMIUM = Path(os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "tests" / "screenshots"


def in_ci() -> bool:
    """True on CI (``CI`` set to anything but an empty string, ``0`` or ``false``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# -- options and collection --------------------------------------------------------------------

def pytest_addoption(parser):
    group = parser.getgroup("book", "course book build and browser tests")
    group.addoption("--book-html", default=None,
                    help="test this already built site (a _build/html folder) instead of building the "
                         "book; for quick iterations on the browser tests only")
    group.addoption("--screenshots", default=str(SCREENSHOTS),
                    help="folder for the full-page screenshots of the browser tests (default: tests/screenshots)")


def work_unit(nodeid: str) -> str:
    """The group of tests that must run on one xdist worker, from a test's node id.

    * every cell of a notebook (nbval: ``chapters/x.ipynb::Cell 3``): the cells share one kernel;
    * every test of a module with the same parameter (``tests/test_browser.py::test_x[chapters/intro]``):
      the browser tests of one page share one visit of the page, and other modules parametrized by
      notebook share one execution of it;
    * any other test on its own.
    """
    path, _, rest = nodeid.partition("::")
    if path.endswith(".ipynb"):
        return path
    if rest.endswith("]") and "[" in rest:
        return path + rest[rest.index("["):]
    return nodeid


def pytest_xdist_make_scheduler(config, log):
    """Schedule by :func:`work_unit` (xdist's own ``xdist_group`` marks do not take effect with this
    pytest: xdist renames ``item._nodeid``, which pytest 9 no longer reads)."""
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return WorkUnitScheduling(config, log)


# -- the built book ----------------------------------------------------------------------------

@dataclass
class BookBuild:
    returncode: int
    log: str
    html: Path
    seconds: float


@pytest.fixture(scope="session")
def book_build(request, tmp_path_factory, worker_id) -> BookBuild:
    """Build the book once per test run into a temporary folder, with warnings as errors.

    Under pytest-xdist every worker asks for the build; the first one builds while holding a lock in
    the run's shared temporary folder, and the others wait for it and reuse the result.
    """
    reuse = request.config.getoption("--book-html")
    if reuse:
        html = Path(reuse).resolve()
        if not (html / "index.html").exists():
            raise pytest.UsageError(f"--book-html {html} holds no built site (no index.html)")
        return BookBuild(0, "(reused an existing build)", html, 0.0)
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # the folder all workers of this run share
    out, result = shared / "book", shared / "book-build.json"
    with open(shared / "book-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not result.exists():
                result.write_text(json.dumps(_build_book(out)), encoding="utf-8")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    built = json.loads(result.read_text(encoding="utf-8"))
    return BookBuild(built["returncode"], built["log"], out / "_build" / "html", built["seconds"])


def _build_book(out: Path) -> dict:
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else shutil.which("jupyter-book") or "jupyter-book",
           "build", str(ROOT), "--path-output", str(out), "-W", "--keep-going"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    return {"returncode": proc.returncode, "log": proc.stdout + proc.stderr, "seconds": time.perf_counter() - start}


@pytest.fixture(scope="session")
def worker_id(request) -> str:
    """pytest-xdist's worker name (``gw0`` ...), or ``master`` without xdist."""
    workerinput = getattr(request.config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "master"


@dataclass
class Site:
    url: str
    root: Path
    host: str


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="session")
def site(book_build) -> Site:
    """The built site served on 127.0.0.1 (a free port), for the session."""
    # With --keep-going the site is complete even when the build warned; test_book.py fails the
    # warnings, and the browser tests still check every page.
    if not (book_build.html / "index.html").exists():
        pytest.fail("the book did not build; see test_book.py::test_book_builds_without_warnings")
    handler = functools.partial(_QuietHandler, directory=str(book_build.html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_address[1]}"
    try:
        yield Site(url=f"http://{host}/", root=book_build.html, host=host)
    finally:
        server.shutdown()
        server.server_close()


# -- the browser -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from Debian's package, driven by Playwright. Missing: a failure on CI."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: install Debian's chromium package (make test does)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshots(request) -> Path:
    folder = Path(request.config.getoption("--screenshots")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder
