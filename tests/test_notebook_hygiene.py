"""Notebook hygiene, checked on the committed chapter notebooks (no kernel needed, so it is fast).

What a reader must never see in a committed notebook or in the book built from it: errors,
warnings on stderr, paths of the machine that ran it, memory addresses, placeholder text,
figures without alt text or caption, unbounded outputs; and the lab cells must carry the tags
CONTRIBUTING.md prescribes (so nbval and the static book treat them as designed).

Each check is a function returning a list of problems; ``test_hygiene`` runs every check on every
notebook (one test per pair), and ``test_checks_catch_a_bad_notebook`` proves each check can fail.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from _notebooks import DATA_URI, WIDGET_VIEW, chapter_notebooks, text_outputs

NOTEBOOKS = chapter_notebooks()
OUTPUT_BUDGET = 2_000_000         # bytes of outputs per notebook (figures and lab frames included)
SINGLE_OUTPUT_BUDGET = 1_000_000  # bytes of any one output
MAX_FRAMES = 48
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
LOCAL_PATH = re.compile(r"(/home/|/Users/|/work/|/tmp/|/root/|/private/var/|/opt/|site-packages|[A-Za-z]:\\\\Users)")
ADDRESS = re.compile(r"(\b0x[0-9a-fA-F]{6,}\b|<Figure size|\[<matplotlib|<matplotlib\.|object at )")
PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b")
LAB_SHOW = re.compile(r"^(?!\s*(H|helpers|plt|plotting)\.)\s*[A-Za-z_][\w.]*\.show\(\s*\)\s*;?\s*$", re.M)
LAB_LIVE = re.compile(r"\.live\(\s*\)")
FIGURE_NAME = re.compile(r"^fig-[a-z0-9_]+-[a-z0-9-]+$")  # fig-<chapter>-<slug>
FRAMES = re.compile(r'<script type="application/json" class="ib-lab-frames">(.*?)</script>', re.S)


def code_cells(nb):
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", []))


def html_of(output) -> str:
    html = output.get("data", {}).get("text/html", "")
    return html if isinstance(html, str) else "".join(html)


def is_lab_show(cell) -> bool:
    return bool(LAB_SHOW.search(cell.source)) or any('class="ib-lab"' in html_of(o) for o in cell.get("outputs", []))


def _texts(nb):
    """Sources of every cell and every text output (images and embedded frames left out)."""
    for i, cell in enumerate(nb.cells):
        yield i, "source", cell.source
    yield from text_outputs(nb)


# -- the checks --------------------------------------------------------------------------------

def kernelspec(nb):
    return [] if nb.metadata.get("kernelspec") == KERNELSPEC else [f"kernelspec {nb.metadata.get('kernelspec')}"]


def committed_with_outputs(nb):
    """Every code cell has been executed (the notebooks are committed with their outputs)."""
    never = [i for i, c in code_cells(nb) if c.get("execution_count") is None]
    return [f"{len(never)} code cell(s) never executed, e.g. cells {never[:5]}: "
            "run python scripts/execute_notebooks.py"] if never else []


def no_error_outputs(nb):
    return [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in code_cells(nb) for o in c.outputs
            if o.get("output_type") == "error"]


def no_stderr(nb):
    return [f"cell {i}: {o.get('text', '')[:200]!r}" for i, c in code_cells(nb) for o in c.outputs
            if o.get("output_type") == "stream" and o.get("name") == "stderr"]


def no_local_file_paths(nb):
    return [f"cell {i} {kind}: {m.group(0)}" for i, kind, text in _texts(nb) for m in [LOCAL_PATH.search(text)] if m]


def no_memory_addresses(nb):
    return [f"cell {i} {kind}: {m.group(0)}" for i, kind, text in _texts(nb) if kind != "source"
            for m in [ADDRESS.search(text)] if m]


def no_placeholder_text(nb):
    return [f"cell {i} {kind}: {m.group(0)}" for i, kind, text in _texts(nb) for m in [PLACEHOLDER.search(text)] if m]


def output_size_within_budget(nb):
    sizes = [(i, len(json.dumps(o))) for i, c in code_cells(nb) for o in c.outputs]
    total = sum(s for _, s in sizes)
    problems = [f"outputs take {total / 1e6:.2f} MB (budget {OUTPUT_BUDGET / 1e6:.1f} MB)"] if total > OUTPUT_BUDGET else []
    return problems + [f"cell {i}: one output of {s / 1e6:.2f} MB" for i, s in sizes if s > SINGLE_OUTPUT_BUDGET]


def no_widget_views_or_state(nb):
    """Live-widget outputs only mean something with a kernel; the static book shows the pre-rendered lab."""
    problems = [f"cell {i}: widget view output" for i, c in code_cells(nb) for o in c.outputs
                if WIDGET_VIEW in o.get("data", {})]
    return problems + (["widget state in the notebook metadata"] if "widgets" in nb.metadata else [])


def figures_have_alt_caption_and_name(nb):
    problems = []
    for i, cell in code_cells(nb):
        n_png = sum("image/png" in o.get("data", {}) for o in cell.outputs)
        if not n_png:
            continue
        meta = cell.metadata.get("mystnb", {})
        if not meta.get("figure", {}).get("caption", "").strip():
            problems.append(f"cell {i}: no mystnb.figure.caption")
        if not meta.get("image", {}).get("alt", "").strip():
            problems.append(f"cell {i}: no mystnb.image.alt")
        if not FIGURE_NAME.match(meta.get("figure", {}).get("name", "")):
            problems.append(f"cell {i}: mystnb.figure.name {meta.get('figure', {}).get('name')!r} is not fig-<chapter>-<slug>")
        if not tags(cell) & {"hide-input", "remove-input"}:
            problems.append(f"cell {i}: a plot cell needs the hide-input tag")
        if n_png > 1:
            problems.append(f"cell {i}: {n_png} figures in one cell (a caption belongs to one image)")
    return problems


def lab_frames_have_alt_text(nb):
    problems = []
    for i, cell in code_cells(nb):
        for o in cell.outputs:
            html = html_of(o)
            if 'class="ib-lab"' not in html:
                continue
            blob = FRAMES.search(html)
            frames = json.loads(blob.group(1)) if blob else {}
            if not frames:
                problems.append(f"cell {i}: lab output without frames")
            if not all(f.get("alt", "").strip() for f in frames.values()):
                problems.append(f"cell {i}: a lab frame lacks alt text")
            if len(frames) > MAX_FRAMES:
                problems.append(f"cell {i}: {len(frames)} frames (at most {MAX_FRAMES})")
            if not re.search(r'<img class="ib-lab-frame" src="data:image/png;base64,[^"]+" alt="[^"]+">', html):
                problems.append(f"cell {i}: the default lab frame has no alt text")
    return problems


def lab_cells_are_tagged(nb):
    """lab.show() cells: remove-input + nbval-ignore-output; lab.live(); cells: remove-output + nbval-ignore-output."""
    problems, shows, lives = [], 0, 0
    for i, cell in code_cells(nb):
        if is_lab_show(cell):
            shows += 1
            if not {"remove-input", "nbval-ignore-output"} <= tags(cell):
                problems.append(f"cell {i} shows a lab: tags {sorted(tags(cell))}, need remove-input, nbval-ignore-output")
        if LAB_LIVE.search(cell.source):
            lives += 1
            if not {"remove-output", "nbval-ignore-output"} <= tags(cell):
                problems.append(f"cell {i} runs a live lab: tags {sorted(tags(cell))}, need remove-output, "
                                "nbval-ignore-output")
            if not cell.source.rstrip().endswith(";"):
                problems.append(f"cell {i}: end lab.live() with ';' so that no text repr is emitted")
    if shows != lives:
        problems.append(f"{shows} static lab(s) but {lives} live lab(s): show each lab both ways")
    return problems


def nbval_ignore_only_for_labs(nb):
    """A cell whose output cannot be compared is marked for that reason: only the lab cells qualify."""
    return [f"cell {i} skips nbval comparison without being a lab cell" for i, c in code_cells(nb)
            if "nbval-ignore-output" in tags(c) and not (LAB_LIVE.search(c.source) or is_lab_show(c))]


def images_only_in_figures_and_labs(nb):
    return [f"cell {i}: an HTML output embeds an image outside a lab" for i, c in code_cells(nb) for o in c.outputs
            if DATA_URI.search(html_of(o)) and 'class="ib-lab"' not in html_of(o)]


CHECKS = [kernelspec, committed_with_outputs, no_error_outputs, no_stderr, no_local_file_paths, no_memory_addresses,
          no_placeholder_text, output_size_within_budget, no_widget_views_or_state, figures_have_alt_caption_and_name,
          lab_frames_have_alt_text, lab_cells_are_tagged, nbval_ignore_only_for_labs, images_only_in_figures_and_labs]


# -- the tests ---------------------------------------------------------------------------------

def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, "no chapters/*.ipynb found"


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_hygiene(path, check):
    problems = check(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_figure_names_are_unique_across_the_book():
    """Figure names are Sphinx labels, global to the book: two chapters must not share one."""
    seen: dict[str, str] = {}
    clashes = []
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            name = cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
            if name:
                if name in seen:
                    clashes.append(f"{name} in {seen[name]} and {path.stem}")
                seen[name] = path.stem
    assert not clashes


def _bad_notebook():
    v4 = nbformat.v4
    png = {"image/png": "iVBORw0KGgo="}
    lab_html = ('<div class="ib-lab" id="lab-x"><img class="ib-lab-frame" src="data:image/png;base64,AAAA" alt="">'
                '<script type="application/json" class="ib-lab-frames">{"0": {"src": "", "alt": ""}}</script></div>')
    cells = [
        v4.new_markdown_cell("TODO: write this section"),
        v4.new_code_cell("x = 1", outputs=[v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])]),
        v4.new_code_cell("print(x)", outputs=[v4.new_output("stream", name="stderr", text="RuntimeWarning: overflow\n")]),
        v4.new_code_cell("open('f')", outputs=[v4.new_output("execute_result", data={
            "text/plain": "<Figure size 640x480 with 1 Axes> at /home/me/book"}, execution_count=3)]),
        v4.new_code_cell("plot()", outputs=[v4.new_output("display_data", data=png), v4.new_output("display_data", data=png)]),
        v4.new_code_cell("lab.show()", outputs=[v4.new_output("display_data", data={"text/html": lab_html})]),
        v4.new_code_cell("lab.live()", outputs=[v4.new_output("display_data", data={WIDGET_VIEW: {"model_id": "1"}})]),
        v4.new_code_cell("y = 2", metadata={"tags": ["nbval-ignore-output"]}),
        v4.new_code_cell("big()", outputs=[v4.new_output("display_data", data={
            "text/html": '<img src="data:image/png;base64,' + "A" * 2_100_000 + '">'})]),
    ]
    for k, cell in enumerate(cells[1:-2]):
        cell.execution_count = k + 1
    nb = v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python2", "display_name": "Python 2"}, "widgets": {}})
    return nbformat.from_dict(json.loads(json.dumps(nb)))


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_checks_catch_a_bad_notebook(check):
    """Every check finds at least one problem in a notebook that has them all: no check is vacuous."""
    assert check(_bad_notebook())
