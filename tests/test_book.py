"""The book: its sources hang together, it builds with warnings as errors, and the site is self-contained."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit


from _book import ROOT, source_of, toc_pages


# -- sources (no build needed) -----------------------------------------------------------------

def test_toc_lists_exactly_the_chapters_that_exist():
    pages = toc_pages()
    assert len(pages) == len(set(pages)), f"a page is listed twice in _toc.yml: {pages}"
    for page in pages:
        source_of(page)  # raises if the file is missing
    notebooks = {f"chapters/{p.stem}" for p in (ROOT / "chapters").glob("*.ipynb")}
    missing = sorted(notebooks - set(pages))
    assert not missing, f"chapter notebooks not in _toc.yml (add them, or they are not part of the book): {missing}"


def test_api_reference_documents_every_helpers_module():
    """chapters/api.md has an automodule for every public module of helpers (new modules included)."""
    helpers = ROOT / "helpers"
    modules = sorted(".".join(p.relative_to(helpers).with_suffix("").parts).removesuffix(".__init__")
                     for p in helpers.rglob("*.py") if not p.stem.startswith("_") or p.stem == "__init__")
    modules = [m for m in modules if m != "__init__"]  # helpers itself is the page's first automodule
    api = (ROOT / "chapters" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. automodule:: helpers\.([\w.]+)", api, flags=re.M))
    missing = [m for m in modules if m not in documented]
    assert not missing, ("add a section with `.. automodule:: helpers.<name>` and `:members:` to "
                         f"chapters/api.md for: {missing}")
    stale = sorted(documented - set(modules))
    assert not stale, f"chapters/api.md documents modules that no longer exist: {stale}"


def test_no_cell_escapes_nbval():
    """nbval runs and compares every cell. Only lab cells may skip the comparison, and only by the
    `nbval-ignore-output` tag (test_notebook_hygiene.py checks those tags); no cell is skipped, and no
    comment marker (NBVAL_IGNORE_OUTPUT, NBVAL_SKIP, ...) switches checks off unseen."""
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "code":
                continue
            tags = cell.get("metadata", {}).get("tags", [])
            source = "".join(cell.get("source", ""))
            assert "nbval-skip" not in tags, f"{path.name} cell {i}: skipped by nbval"
            assert not re.search(r"#\s*NBVAL_", source), f"{path.name} cell {i}: nbval comment marker"


# -- the build -----------------------------------------------------------------------------------

def test_book_builds_without_warnings(book_build):
    log_tail = "\n".join(book_build.log.splitlines()[-60:])
    assert book_build.returncode == 0, f"jupyter-book build -W --keep-going failed:\n{log_tail}"
    warnings = [line for line in book_build.log.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line)]
    assert not warnings, "build warnings:\n" + "\n".join(warnings)
    print(f"book built in {book_build.seconds:.1f} s")


def test_every_toc_page_is_built(book_build):
    for page in toc_pages():
        assert (book_build.html / f"{page}.html").is_file(), f"{page}.html was not built"


class _AssetLinks(HTMLParser):
    """Collects every URL the browser would fetch while loading a page (not plain links)."""

    FETCHED_LINK_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "apple-touch-icon",
                         "manifest", "prefetch", "dns-prefetch", "preconnect"}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed", "track") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and set((a.get("rel") or "").lower().split()) & self.FETCHED_LINK_RELS and a.get("href"):
            self.urls.append(a["href"])
        if tag == "object" and a.get("data"):
            self.urls.append(a["data"])
        if a.get("style") and "url(" in a["style"]:
            self.urls.extend(re.findall(r"url\(['\"]?([^'\")]+)", a["style"]))


def _is_remote(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") or url.startswith("//")


def test_site_loads_nothing_from_other_hosts(book_build):
    """No page, stylesheet or script of the built site refers to an asset on another host."""
    html_root = book_build.html
    offenders = []
    for page in sorted(html_root.rglob("*.html")):
        parser = _AssetLinks()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        offenders += [f"{page.relative_to(html_root)}: {u}" for u in parser.urls if _is_remote(u)]
    for css in sorted(html_root.rglob("*.css")):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8", errors="replace")):
            if _is_remote(url):
                offenders.append(f"{css.relative_to(html_root)}: {url}")
        for url in re.findall(r"@import\s+(?:url\()?['\"]?([^'\")\s;]+)", css.read_text(encoding="utf-8", errors="replace")):
            if _is_remote(url):
                offenders.append(f"{css.relative_to(html_root)}: @import {url}")
    assert not offenders, "third-party assets in the site:\n" + "\n".join(offenders[:50])


def test_vendored_assets_are_in_the_site(book_build):
    mathjax = book_build.html / "_static" / "mathjax"
    assert (mathjax / "tex-svg-full.js").stat().st_size > 1_000_000
    assert "Apache License" in (mathjax / "LICENSE").read_text(encoding="utf-8")
    page = (book_build.html / "chapters" / "notation.html").read_text(encoding="utf-8")
    assert re.search(r'<script[^>]+src="\.\./_static/mathjax/tex-svg-full\.js', page), "notation page does not load the local MathJax"


def test_the_bibliography_parses_and_every_key_is_unique():
    """references.bib parses (a missing brace fails the whole build) and no key is defined twice."""
    from pybtex.database import parse_file

    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,\s]+),", text, flags=re.M)
    assert len(parse_file(str(ROOT / "references.bib")).entries) == len(keys) > 50
    assert len(set(keys)) == len(keys), sorted(k for k in set(keys) if keys.count(k) > 1)
