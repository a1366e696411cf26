"""Sphinx extension for this book's site: self-contained, and accessible in the theme's own markup.

Loaded by ``_config.yml`` (``sphinx.local_extensions``). It only edits the HTML of each page:

* drops sphinx-thebe's scripts and styles. Thebe (live code through Binder) is switched off in
  ``launch_buttons``, yet Jupyter Book 1 always loads sphinx-thebe, whose inline configuration is
  emitted twice per page (a console error: ``Identifier 'THEBE_JS_URL' has already been declared``)
  and names a CDN. Readers who want a kernel use the Binder launch button or a local Jupyter.
* citation lists (docutils 0.21) are ``role="list"`` containers of ``role="doc-biblioentry"`` items,
  a deprecated role that is not a list item, so assistive technology sees a list with no items
  (axe: aria-required-children, critical). The entries become ``role="listitem"``.
* MyST-NB's toggles for hidden code (``<summary aria-label="Toggle hidden content">``) hide their
  visible text ("Show code cell source") from screen readers behind a different name (WCAG 2.5.3,
  label in name). Without the aria-label the visible text is the name.
* sphinx-exercise gives the body of every exercise and every solution the same element id
  (``exercise-content``, ``solution-content``), so a page with several exercises repeats ids. Nothing
  links to these bodies; their ids are dropped. Its solution titles read "Solution to" followed by a
  link whose text begins with the space (" Exercise 1"); the space moves out of the link.
* sphinx-togglebutton makes the whole title of a dropdown solution clickable, and its click handler
  raises an error (``button is not defined``) when the click lands on the link to the exercise in
  that title. ``static/book.js`` stops such clicks at the link, which then just follows its target.
* pydata-sphinx-theme 0.17 puts a search field in a header bar of its own unless the theme option
  ``navbar_persistent`` is set, which sphinx-book-theme does not do: every page had two search fields
  (header and sidebar). The option is set to none, so the sidebar's field (and, on a phone, the
  article header's search button) is the one way to search.

and it writes the site's ``index.html`` (the root of the site, which redirects to the first page)
as a small complete page: sphinx-external-toc's one-line redirect has no ``<link rel="icon">``, so a
browser opening the site's root asked for ``/favicon.ico``, which does not exist (a 404 in the
console).

and, for the API reference, it reads the docstrings of ``helpers`` as the plain text with formulas
they are: a bar is an absolute value or a norm (``|v - 1| < tol``), never a reStructuredText
substitution, so bars outside literals, literal blocks and grid tables are escaped before autodoc
parses them (otherwise each is a build error: "Undefined substitution referenced").
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from docutils import nodes
from sphinx_exercise.nodes import solution_node

_BODY_FIXES = [
    (re.compile(r'(<div class="citation"[^>]*?) role="doc-biblioentry"'), r'\1 role="listitem"'),
    (re.compile(r'<summary aria-label="Toggle hidden content">'), "<summary>"),
]


def _is_thebe(asset) -> bool:
    filename = getattr(asset, "filename", None) or ""
    body = (getattr(asset, "attributes", None) or {}).get("body", "") or ""
    return "thebe" in filename or "THEBE_JS_URL" in body


def _page_context(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = [js for js in context["script_files"] if not _is_thebe(js)]
    if "css_files" in context:
        context["css_files"] = [css for css in context["css_files"] if not _is_thebe(css)]
    body = context.get("body")
    if body:
        for pattern, replacement in _BODY_FIXES:
            body = pattern.sub(replacement, body)
        context["body"] = body


_SHARED_IDS = {"exercise-content", "solution-content"}


def _doctree_fixes(app, doctree, docname):
    """doctree-resolved: unique element ids in exercises and solutions, and a solution title whose
    link to its exercise does not start with a space (see the module docstring)."""
    for section in doctree.findall(nodes.section):
        if section["ids"] and set(section["ids"]) <= _SHARED_IDS:
            section["ids"] = []
    for title in doctree.findall(nodes.title):
        if not isinstance(title.parent, solution_node):
            continue
        for i, child in enumerate(title.children):
            if not isinstance(child, nodes.reference) or not child.children or i == 0:
                continue
            first, before = child.children[0], title.children[i - 1]
            if isinstance(first, nodes.Text) and first.startswith(" ") and isinstance(before, nodes.Text):
                child.replace(first, nodes.Text(first.lstrip(" ")))
                title.replace(before, nodes.Text(before.rstrip(" ") + " "))


def _config_inited(app, config):
    options = dict(config.html_theme_options or {})
    options.setdefault("navbar_persistent", [])
    config.html_theme_options = options


_INDEX = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{icon}<link rel="canonical" href="{target}">
<meta http-equiv="refresh" content="0; url={target}">
</head>
<body>
<p><a href="{target}">{title}</a></p>
</body>
</html>
"""


def _write_index(app, exception):
    """build-finished: the site root redirects to the first page, as a complete page with an icon."""
    if exception is not None or app.builder.format != "html" or app.config.root_doc == "index":
        return
    target = html.escape(app.builder.get_target_uri(app.config.root_doc), quote=True)
    favicon = app.config.html_favicon or ""
    icon = ""
    if favicon and not re.match(r"^[a-z][a-z0-9+.-]*://", favicon):
        icon = f'<link rel="icon" href="_static/{html.escape(Path(favicon).name, quote=True)}">\n'
    page = _INDEX.format(lang=html.escape(app.config.language or "en"), title=html.escape(app.config.html_title or ""),
                         icon=icon, target=target)
    Path(app.outdir, "index.html").write_text(page, encoding="utf-8")


_LITERAL = re.compile(r"(``.*?``)")


def _escape_bars(line: str) -> str:
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else re.sub(r"(?<!\\)\|", r"\\|", p) for i, p in enumerate(parts))


def _plain_bars(app, what, name, obj, options, lines):
    """autodoc-process-docstring: escape bars that are not markup (see the module docstring)."""
    literal_indent = None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                continue  # inside a literal block
            literal_indent = None
        if stripped.startswith(("|", "+-", "+=")):
            continue  # a grid table or a line block
        lines[i] = _escape_bars(line)
        if line.rstrip().endswith("::"):
            literal_indent = indent


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("doctree-resolved", _doctree_fixes)
    app.connect("html-page-context", _page_context, priority=900)
    app.connect("build-finished", _write_index, priority=900)
    app.add_js_file("book.js")
    app.connect("autodoc-process-docstring", _plain_bars)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
