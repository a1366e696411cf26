"""The built book in a real browser: headless Chromium (Debian's package) driven by Playwright.

Every page listed in ``_toc.yml`` is loaded from a server on 127.0.0.1 and checked for what a reader
would notice: errors, failed requests and requests to other hosts (the site's root included), raw
TeX, broken or undescribed images, repeated element ids, more than one search field, solution links
that misbehave, labs that do not respond, launch buttons that point to the wrong notebook, search,
and accessibility (axe-core, serious and critical violations, theme chrome included) in the light and
the dark colour mode, with figures that stay legible (dark ink on a light ground) in the dark one. A
full-page screenshot (JPEG) of every page, in both modes, is written to ``tests/screenshots/``
(``--screenshots DIR`` to change) for a human look.

On CI a missing browser fails the run; elsewhere these tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from _book import ROOT, source_of, toc_pages

AXE = ROOT / "tests" / "vendor" / "axe.min.js"  # axe-core 4.14.1, see tests/vendor/README.md
PAGES = toc_pages()
NOTEBOOK_PAGES = [p for p in PAGES if source_of(p).suffix == ".ipynb"]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
VIEWPORT = {"width": 1280, "height": 900}


def _lab_count(docname: str) -> int:
    """Number of static labs in a notebook's committed outputs (``helpers.labs.Lab.show``)."""
    source = source_of(docname)
    if source.suffix != ".ipynb":
        return 0
    nb = json.loads(source.read_text(encoding="utf-8"))
    return sum("".join(out.get("data", {}).get("text/html", "")).count('class="ib-lab"')
               for cell in nb["cells"] for out in cell.get("outputs", []))


LAB_PAGES = [p for p in PAGES if _lab_count(p)]
SOLUTION_PAGES = [p for p in NOTEBOOK_PAGES if "{solution-start}" in source_of(p).read_text(encoding="utf-8")]
PHONE = {"width": 390, "height": 844}
# Full-page screenshots as JPEG: encoding a tall page as PNG costs 2-6 s, and they are for a human look
# and for the dark-mode figure check (median and 1 % quantile of grey levels, which JPEG keeps). A page
# taller than JPEG's 65535 pixels (the API reference) is saved as PNG.
JPEG_MAX = 65535
# The dark mode changes colours only (the theme's second palette on the same page), so axe-core runs
# the rules that read colours there; the light-mode run has every rule.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


def per_page(docnames: list[str]) -> list:
    """Parameters for per-page tests, with the page as id: all tests of one page run on one xdist
    worker (see conftest.work_unit), so each page is visited once."""
    return [pytest.param(d, id=d) for d in docnames]


# -- loading a page and recording what happened ------------------------------------------------

@dataclass
class Visit:
    """What loading one page did: everything the per-page tests below assert on."""

    docname: str
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    math: dict = field(default_factory=dict)
    raw_tex: list[str] = field(default_factory=list)
    axe: list[dict] = field(default_factory=list)
    screenshot: Path | None = None
    first_screen: bytes = b""
    binder_links: list[str] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)
    icon: dict = field(default_factory=dict)
    search_desktop: list[str] = field(default_factory=list)
    search_phone: list[str] = field(default_factory=list)
    search_opens: bool = False
    dark_theme: str = ""
    dark_axe: list[dict] = field(default_factory=list)
    dark_figures: list[dict] = field(default_factory=list)
    dark_screenshot: Path | None = None


def open_page(browser, site, url: str, visit: Visit | None = None, *, mode: str | None = None, settle: bool = True):
    """A new page with every request watched; requests to any other host are recorded and blocked.

    ``mode="dark"`` (or ``"light"``) opens it in that colour mode, as the theme's switch leaves it:
    the choice is in the page's local storage before any script runs. ``settle=False`` returns as
    soon as the page has loaded (for a page that goes on to another one at once).
    """
    visit = visit or Visit(url)
    context = browser.new_context(viewport=VIEWPORT, service_workers="block",
                                  color_scheme=mode if mode in ("light", "dark") else "no-preference")
    if mode:
        context.add_init_script(f"try {{ localStorage.setItem('mode', '{mode}'); }} catch (e) {{}}")

    def route(r):
        u = r.request.url
        parts = urlsplit(u)
        if parts.scheme in ("data", "blob") or parts.netloc == site.host:
            r.continue_()
        else:
            visit.foreign.append(u)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: visit.console_errors.append(f"{m.text} ({m.location.get('url', '')})")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: visit.failed.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: visit.failed.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
    page.goto(url, wait_until="load")
    if settle:
        wait_for_math(page)
        page.wait_for_load_state("networkidle")
    return context, page


def wait_for_math(page) -> None:
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
    }""")


def load_all_images(page) -> None:
    """Make lazily loaded images load now and wait until every image has loaded or failed."""
    page.evaluate("""async () => {
        const imgs = Array.from(document.images);
        imgs.forEach(img => { if (img.loading === 'lazy') img.loading = 'eager'; });
        await Promise.all(imgs.map(img => img.complete ? null :
            new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
    }""")


_MATH_STATE = """() => {
    const math = Array.from(document.querySelectorAll('.math'));
    return {
        total: math.length,
        untypeset: math.filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 80)),
        errors: Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
                     .map(el => el.getAttribute('data-mjx-error') || el.textContent).slice(0, 10),
    };
}"""

# Text that is still TeX: delimiters, or a backslash command, outside code and outside typeset math.
_RAW_TEX = r"""() => {
    const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, .math';
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const tex = /\\[()\[\]]|\$\$|\\(frac|operatorname|mathbb|mathcal|sigma|phi|sum|prod|sqrt|partial|delta|chi|left|right|begin|end|text|cdot|odot|top|lVert|rVert|big|tfrac|dfrac|mathrm|quad|qquad)\b|(^|[^\w$])\$[^$\s][^$]*[^$\s]\$(?![\w$])/;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.parentElement && n.parentElement.closest(skip)) continue;
        if (tex.test(n.textContent)) out.push(n.textContent.trim().slice(0, 120));
    }
    return out.slice(0, 20);
}"""

_DUPLICATE_IDS = """() => {
    const seen = {};
    document.querySelectorAll('[id]').forEach(el => { seen[el.id] = (seen[el.id] || 0) + 1; });
    return Object.entries(seen).filter(([, n]) => n > 1).map(([id, n]) => `${id} (${n}x)`);
}"""

# Search fields and buttons a reader can see (the search dialog itself is closed until one is used).
_VISIBLE_SEARCH = """() => Array.from(document.querySelectorAll(
        '.search-button-field, .search-button, form.bd-search, input[type=search]'))
    .filter(el => !el.closest('dialog:not([open])'))
    .filter(el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
                    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; })
    .map(el => el.className || el.tagName)"""

_ICON = """async () => {
    const link = document.querySelector('link[rel~="icon"]');
    if (!link) return {href: null, status: null};
    const response = await fetch(link.href);
    return {href: link.href, status: response.status};
}"""

_IMAGES = """() => Array.from(document.images).map(img => ({
    src: img.currentSrc.startsWith('data:') ? img.currentSrc.slice(0, 40) + '...' : img.currentSrc,
    alt: img.getAttribute('alt'),
    loaded: img.complete && img.naturalWidth > 0,
    content: !!img.closest('article, .bd-article'),
}))"""


@pytest.fixture(scope="session")
def visits(browser, site, screenshots):
    """Load each toc page once (lazily) and record a :class:`Visit`; the tests below share them."""
    cache: dict[str, Visit] = {}
    axe_source = AXE.read_text(encoding="utf-8")

    def get(docname: str) -> Visit:
        if docname in cache:
            return cache[docname]
        visit = Visit(docname)
        context, page = open_page(browser, site, f"{site.url}{docname}.html", visit)
        try:
            load_all_images(page)
            visit.images = page.evaluate(_IMAGES)
            visit.math = page.evaluate(_MATH_STATE)
            visit.raw_tex = page.evaluate(_RAW_TEX)
            visit.screenshot, _ = full_page_screenshot(page, screenshots / docname.replace("/", "__"))
            visit.first_screen = page.screenshot()
            launch = page.get_by_role("button", name=re.compile("launch", re.I))
            if launch.count():
                launch.first.click()  # open the launch menu, as a reader would, before reading its links
                binder = page.locator('a[href^="https://mybinder.org/"]')
                binder.first.wait_for(state="visible")
                visit.binder_links = [binder.nth(i).get_attribute("href") for i in range(binder.count())]
                page.keyboard.press("Escape")
            visit.axe = serious_axe_violations(page, axe_source)
            visit.duplicate_ids = page.evaluate(_DUPLICATE_IDS)
            visit.icon = page.evaluate(_ICON)
            visit.search_desktop = page.evaluate(_VISIBLE_SEARCH)
            if len(visit.search_desktop) == 1:
                page.locator(".search-button-field, .search-button").filter(visible=True).first.click()
                visit.search_opens = page.locator("dialog[open] input[type=search]").is_visible()
                page.keyboard.press("Escape")
            page.set_viewport_size(PHONE)
            page.wait_for_timeout(100)  # the theme lays the page out again for a phone
            visit.search_phone = page.evaluate(_VISIBLE_SEARCH)
        finally:
            context.close()
        _visit_dark(browser, site, screenshots, visit, axe_source)
        cache[docname] = visit
        return visit

    return get


def full_page_screenshot(page, stem: Path) -> tuple[Path, bytes]:
    """A full-page screenshot at ``stem`` + ``.jpg`` (``.png`` for a page too tall for JPEG)."""
    height = page.evaluate("document.documentElement.scrollHeight")
    path = stem.with_suffix(".jpg" if height <= JPEG_MAX else ".png")
    options = {"type": "jpeg", "quality": 85} if path.suffix == ".jpg" else {"type": "png"}
    return path, page.screenshot(path=str(path), full_page=True, **options)


def serious_axe_violations(page, axe_source: str, rules: list[str] | None = None) -> list[dict]:
    """axe-core on the whole page as it is now (every rule, or only ``rules``): serious and critical violations."""
    page.add_script_tag(content=axe_source)
    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    result = page.evaluate("""async (options) => {
        const r = await axe.run(document, options);
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
    }""", options)
    return [v for v in result if v["impact"] in ("serious", "critical")]


def _visit_dark(browser, site, screenshots, visit: Visit, axe_source: str) -> None:
    """The same page in the dark colour mode: axe-core again, and a look at every figure as drawn."""
    from PIL import Image

    context, page = open_page(browser, site, f"{site.url}{visit.docname}.html", visit, mode="dark")
    try:
        load_all_images(page)
        visit.dark_theme = page.evaluate("document.documentElement.dataset.theme")
        # One full-page screenshot, and every figure cut out of it where the page drew it (an element
        # screenshot per figure costs most of a second each, the crop nothing).
        boxes = page.evaluate("""() => [...document.querySelectorAll('article img')].map(img => {
            const r = img.getBoundingClientRect();
            return {src: (img.getAttribute('src') || '').slice(0, 60), x: r.left + window.scrollX,
                    y: r.top + window.scrollY, w: r.width, h: r.height};
        })""")
        visit.dark_screenshot, shot_bytes = full_page_screenshot(
            page, screenshots / f"{visit.docname.replace('/', '__')}--dark")
        with (Image.open(io.BytesIO(shot_bytes)) if boxes else contextlib.nullcontext()) as shot:
            gray = shot.convert("L") if boxes else None
            for box in boxes:
                if box["w"] < 2 or box["h"] < 2:
                    continue
                crop = gray.crop((round(box["x"]), round(box["y"]), round(box["x"] + box["w"]),
                                  round(box["y"] + box["h"])))
                hist = crop.histogram()
                total = sum(hist)

                def quantile(q, hist=hist, total=total):
                    acc = 0
                    for level, count in enumerate(hist):
                        acc += count
                        if acc >= q * total:
                            return level
                    return 255

                visit.dark_figures.append({"src": box["src"], "ground": quantile(0.5), "ink": quantile(0.01)})
        visit.dark_axe = serious_axe_violations(page, axe_source, rules=COLOUR_RULES)
    finally:
        context.close()


# -- every page ----------------------------------------------------------------------------------

@pytest.mark.parametrize("docname", per_page(PAGES))
def test_page_loads_cleanly(visits, docname):
    """No console errors, no failed requests, no request to any host but the local server."""
    visit = visits(docname)
    assert not visit.console_errors, f"console errors on {docname}:\n" + "\n".join(visit.console_errors)
    assert not visit.failed, f"failed requests on {docname}:\n" + "\n".join(visit.failed)
    assert not visit.foreign, f"requests to other hosts from {docname}:\n" + "\n".join(visit.foreign)
    # A page without an icon makes the browser ask for /favicon.ico, which the site does not have
    # (a 404 in the console of a desktop browser; headless Chromium does not ask, so check the link).
    assert visit.icon.get("href"), f"{docname} declares no <link rel=icon>"
    assert visit.icon["status"] == 200, f"the icon of {docname} does not load: {visit.icon}"


def test_site_root_opens_the_first_page_cleanly(browser, site):
    """The site's root (index.html) sends the reader to the first page, with no error and no failed
    request on the way, and declares the icon (else a browser asks for the missing /favicon.ico)."""
    root_page = PAGES[0]
    text = (site.root / "index.html").read_text(encoding="utf-8")
    icon = re.search(r'<link rel="icon" href="([^"]+)"', text)
    assert icon and (site.root / icon.group(1)).is_file(), f"index.html declares no icon that exists:\n{text}"
    assert re.search(r"<title>[^<]+</title>", text) and '<html lang="' in text, text
    visit = Visit("index")
    context, page = open_page(browser, site, site.url, visit, settle=False)
    try:
        page.wait_for_url(f"{site.url}{root_page}.html", timeout=10_000)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert not visit.console_errors, visit.console_errors
    # The redirect leaves the page at once: a request it started (its icon) may be cancelled by the
    # navigation, which is no error. Any other failure, and any HTTP error, is.
    failed = [f for f in visit.failed if not f.endswith(": net::ERR_ABORTED")]
    assert not failed, failed
    assert not visit.foreign, visit.foreign


@pytest.mark.parametrize("docname", per_page(PAGES))
def test_element_ids_are_unique(visits, docname):
    dupes = visits(docname).duplicate_ids
    assert not dupes, f"ids used more than once on {docname}: {dupes}"


@pytest.mark.parametrize("docname", per_page(PAGES))
def test_one_search_field(visits, docname):
    """One way to search on the screen, on a desktop and on a phone, and it opens the search."""
    visit = visits(docname)
    assert len(visit.search_desktop) == 1, f"{docname} (desktop) shows {len(visit.search_desktop)} search fields: {visit.search_desktop}"
    assert visit.search_opens, f"{docname}: the search field does not open the search dialog"
    assert len(visit.search_phone) == 1, f"{docname} (phone) shows {len(visit.search_phone)} search fields: {visit.search_phone}"


@pytest.mark.parametrize("docname", per_page(PAGES))
def test_math_is_typeset(visits, docname):
    visit = visits(docname)
    assert not visit.math["untypeset"], f"math left as TeX on {docname}: {visit.math['untypeset'][:5]}"
    assert not visit.math["errors"], f"MathJax errors on {docname}: {visit.math['errors']}"
    assert not visit.raw_tex, f"raw TeX visible on {docname}: {visit.raw_tex}"
    source = source_of(docname).read_text(encoding="utf-8")
    if "$" in source or "{math}" in source:
        assert visit.math["total"] > 0, f"{docname} has math in its source but none on the page"


_FILENAME_ALT = re.compile(r"^[\w./-]+\.(png|jpe?g|svg|gif|webp)$", re.I)
_GENERIC_ALT = {"image", "figure", "plot", "png", "picture", "graph", "chart", "img"}


@pytest.mark.parametrize("docname", per_page(PAGES))
def test_images_load_and_have_meaningful_alt_text(visits, docname):
    """Every image loads; its alt text is not empty, generic or a file name. A figure in the text
    must describe what it shows (at least four words); a logo in the theme may just name itself."""
    for img in visits(docname).images:
        assert img["loaded"], f"broken image on {docname}: {img['src']}"
        alt = (img["alt"] or "").strip()
        words = 4 if img["content"] else 1
        assert len(alt.split()) >= words and alt.lower() not in _GENERIC_ALT and not _FILENAME_ALT.match(alt), (
            f"image on {docname} lacks a meaningful alt text (got {img['alt']!r}): {img['src']}")


@pytest.mark.parametrize("docname", per_page(PAGES))
def test_no_serious_accessibility_violations(visits, docname):
    """axe-core on the whole page, theme chrome included, with no rule disabled."""
    violations = visits(docname).axe
    assert not violations, f"axe-core on {docname}:\n" + "\n".join(
        f"[{v['impact']}] {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations)


@pytest.mark.parametrize("docname", per_page(PAGES))
def test_no_serious_accessibility_violations_in_dark_mode(visits, docname):
    """axe-core's colour rules again with the theme's dark colour mode on (its colours are a second palette)."""
    visit = visits(docname)
    assert visit.dark_theme == "dark", f"{docname} did not switch to the dark mode ({visit.dark_theme!r})"
    assert not visit.dark_axe, f"axe-core on {docname} (dark mode):\n" + "\n".join(
        f"[{v['impact']}] {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in visit.dark_axe)


# A figure legible on a dark page: it sits on a light ground (its median grey level, as drawn on the
# screen) and has dark ink on it (its darkest percent). A figure with a transparent background would
# show the page's near-black ground (median about 20) and fail; the theme draws figures on white,
# dimmed to about 220 in the dark mode.
LIGHT_GROUND, DARK_INK = 150, 100


@pytest.mark.parametrize("docname", per_page(PAGES))
def test_figures_legible_in_dark_mode(visits, docname):
    if "image/png" in source_of(docname).read_text(encoding="utf-8"):
        assert visits(docname).dark_figures, f"{docname} has figures, but none was found on the dark page"
    for fig in visits(docname).dark_figures:
        assert fig["ground"] >= LIGHT_GROUND and fig["ink"] <= DARK_INK, (
            f"a figure on {docname} is hard to read in the dark mode (ground {fig['ground']}, "
            f"ink {fig['ink']} of 255): {fig['src']}")


@pytest.mark.parametrize("docname", per_page(PAGES))
def test_full_page_screenshot_written(visits, docname):
    """The full-page screenshot exists at the page's size, and the page does not render blank."""
    from PIL import Image

    visit = visits(docname)
    with warnings.catch_warnings():  # our own screenshot: a tall page has "too many" pixels for PIL
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        shot = Image.open(visit.screenshot)  # reads the header only: a tall page is big to decode
    with shot:
        assert shot.format == visit.screenshot.suffix[1:].upper().replace("JPG", "JPEG"), (
            f"{visit.screenshot} is not a {visit.screenshot.suffix} file")
        width, height = shot.size
    assert width == VIEWPORT["width"] and height >= VIEWPORT["height"], f"odd screenshot size {width}x{height}"
    with Image.open(io.BytesIO(visit.first_screen)) as image:
        low, high = image.convert("L").getextrema()
    assert high - low > 100, f"the first screen of {docname} is blank"


# -- labs, launch buttons, search ----------------------------------------------------------------

@pytest.mark.parametrize("docname", per_page(LAB_PAGES))
def test_static_lab_controls_change_the_figure(browser, site, docname):
    """Move every control of every lab: the frame (src) and its description (alt) change, and the
    lab's script raises no error."""
    visit = Visit(docname)
    context, page = open_page(browser, site, f"{site.url}{docname}.html", visit)
    try:
        labs = page.locator("div.ib-lab")
        assert labs.count() == _lab_count(docname), "the page does not show every lab of the notebook"
        for i in range(labs.count()):
            lab = labs.nth(i)
            img = lab.locator("img.ib-lab-frame")
            controls = lab.locator("[data-k]")
            assert controls.count() >= 1, f"lab {i} on {docname} has no controls"
            for k in range(controls.count()):
                control = controls.nth(k)
                before = (img.get_attribute("src"), img.get_attribute("alt"))
                if control.evaluate("el => el.tagName") == "SELECT":
                    options = control.locator("option")
                    current = control.input_value()
                    other = next(options.nth(j).get_attribute("value") for j in range(options.count())
                                 if options.nth(j).get_attribute("value") != current)
                    control.select_option(other)
                else:
                    at_max = control.evaluate("el => +el.value >= +el.max")
                    output = lab.locator(f'output[for="{control.get_attribute("id")}"]')
                    shown = output.text_content()
                    control.focus()
                    page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
                    assert output.text_content() != shown, f"lab {i} control {k}: the value shown did not change"
                after = (img.get_attribute("src"), img.get_attribute("alt"))
                assert after[0] != before[0], f"lab {i} control {k} on {docname}: the figure did not change"
                assert after[1] != before[1], f"lab {i} control {k} on {docname}: the alt text did not change"
                page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle(),
                                       timeout=5_000)  # the new frame decodes and shows
    finally:
        context.close()
    assert not visit.console_errors, f"errors while moving the lab controls on {docname}: {visit.console_errors}"


@pytest.mark.parametrize("docname", per_page(SOLUTION_PAGES))
def test_solution_title_links_go_to_their_exercise(browser, site, docname):
    """A solution's title ("Solution to Exercise 1") links to the exercise; following that link raises
    no error and neither opens nor closes the solution (the rest of the title does toggle it)."""
    visit = Visit(docname)
    context, page = open_page(browser, site, f"{site.url}{docname}.html", visit)
    try:
        solutions = page.locator("div.solution")
        assert solutions.count() >= 1, f"{docname} has solutions in its source but none on the page"
        for i in range(solutions.count()):
            solution = solutions.nth(i)
            link = solution.locator(".admonition-title a.reference")
            assert link.count() == 1, f"solution {i} on {docname} has no link to its exercise"
            text = link.text_content()
            assert text == text.strip() and text.startswith("Exercise"), f"odd link text {text!r}"
            hidden = "toggle-hidden" in (solution.get_attribute("class") or "")
            target = link.get_attribute("href")
            link.click()
            page.wait_for_function("h => location.hash === h", arg=target, timeout=5_000)
            assert ("toggle-hidden" in (solution.get_attribute("class") or "")) == hidden, (
                f"following the exercise link toggled solution {i} on {docname}")
            assert page.locator(f"[id='{target[1:]}']").count() == 1, f"the link's target {target} is missing"
        first = solutions.first
        first.locator(".admonition-title").click(position={"x": 5, "y": 5})  # the title away from the link
        assert "toggle-hidden" not in (first.get_attribute("class") or ""), "the solution's title does not open it"
    finally:
        context.close()
    assert not visit.console_errors, f"errors while following solution links on {docname}: {visit.console_errors}"


def _repository() -> tuple[str, str, str]:
    repo = CONFIG["repository"]
    owner_name = urlsplit(repo["url"]).path.strip("/").removesuffix(".git")
    return owner_name, repo.get("branch", "main"), (repo.get("path_to_book") or "").strip("/")


@pytest.mark.parametrize("docname", per_page(NOTEBOOK_PAGES))
def test_launch_button_opens_this_notebook_on_binder(visits, docname):
    links = visits(docname).binder_links
    assert len(links) == 1, f"{docname}: expected one Binder link in the launch menu, found {links}"
    parts = urlsplit(links[0])
    owner_name, branch, path_to_book = _repository()
    assert parts.scheme == "https" and parts.netloc == "mybinder.org", links[0]
    assert parts.path == f"/v2/gh/{owner_name}/{branch}", f"{docname}: wrong repository or branch in {links[0]}"
    urlpath = parse_qs(parts.query)["urlpath"][0]
    notebook = "/".join(filter(None, [path_to_book, f"{docname}.ipynb"]))
    assert urlpath == f"lab/tree/{notebook}", f"{docname}: Binder opens {urlpath!r}, not {notebook!r}"
    assert (ROOT / notebook).is_file()


def _search_word(docname: str, titles: dict[str, str]) -> str:
    """A word of the page's title that no other page's title has (the longest such word)."""
    def words(text):
        return {w.lower() for w in re.findall(r"[A-Za-z]{4,}", text)}

    others = set().union(*(words(t) for d, t in titles.items() if d != docname))
    candidates = sorted(words(titles[docname]) - others, key=len, reverse=True)
    return candidates[0] if candidates else sorted(words(titles[docname]), key=len, reverse=True)[0]


@pytest.fixture(scope="session")
def page_titles(site) -> dict[str, str]:
    titles = {}
    for docname in PAGES:
        text = (site.root / f"{docname}.html").read_text(encoding="utf-8")
        match = re.search(r"<h1[^>]*>(.*?)</h1>", text, flags=re.S)
        titles[docname] = re.sub(r"<[^>]+>|&\w+;|#", " ", match.group(1)) if match else docname
    return titles


@pytest.mark.parametrize("docname", per_page(PAGES))
def test_search_finds_the_page(browser, site, page_titles, docname):
    word = _search_word(docname, page_titles)
    context, page = open_page(browser, site, f"{site.url}search.html?q={word}")
    try:
        result = page.locator(f'#search-results a[href*="{docname}.html"]')
        result.first.wait_for(state="attached", timeout=20_000)
        assert result.count() >= 1
    finally:
        context.close()


# -- offline ---------------------------------------------------------------------------------------

def test_zipped_site_reads_offline(browser, site, tmp_path):
    """Zip the site, unzip it elsewhere and open it from disk with every network request refused."""
    archive = shutil.make_archive(str(tmp_path / "book"), "zip", site.root)
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(unpacked)
    context = browser.new_context(viewport=VIEWPORT)
    network = []
    context.route("**/*", lambda r: (network.append(r.request.url), r.abort()) if not r.request.url.startswith(("file:", "data:", "blob:")) else r.continue_())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto((unpacked / "chapters" / "notation.html").as_uri(), wait_until="load")
        wait_for_math(page)
        math = page.evaluate(_MATH_STATE)
    finally:
        context.close()
    assert math["total"] > 0 and not math["untypeset"] and not math["errors"], math
    assert not network, f"offline page tried the network: {network}"
    assert not errors, errors
