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

and, for the API reference, it reads the docstrings of ``helpers`` as the plain text with formulas
they are: a bar is an absolute value or a norm (``|v - 1| < tol``), never a reStructuredText
substitution, so bars outside literals, literal blocks and grid tables are escaped before autodoc
parses them (otherwise each is a build error: "Undefined substitution referenced").
"""

from __future__ import annotations

import re

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
    app.connect("html-page-context", _page_context, priority=900)
    app.connect("autodoc-process-docstring", _plain_bars)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
