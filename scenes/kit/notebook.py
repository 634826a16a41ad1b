"""Companion notebooks: one Jupyter notebook per ready lecture, generated from its manifest entry and
its notebook spec, so a viewer can recompute every number on screen with ``attn_ref`` and torch.

A lecture's spec lives beside its scenes (``scenes/lNN_<slug>/notebook.py``, attribute ``NOTEBOOK``):
a :class:`NotebookSpec` of setup cells and one :class:`TopicCells` per outline topic (explanation,
code cells, one "try this" cell, and ``checks``: which builder field each printed number must equal).
Code cells are templates: ``$NAME`` / ``${NAME}`` is replaced by ``repr(spec.values[NAME])`` (a long
tuple one item a line), so the seeds and inputs the notebook uses are the data modules' own constants.
Every topic's code ends with ``report("L01.5", key=value, ...)``, which prints one line
``NUMBERS L01.5 {json}``; the tests execute the notebook and compare each key with ``checks[key]``
(``"builder.field.0.field"``, ``*`` for every item) of the builders.

Output is deterministic (same bytes on every run): cells carry fixed ids, no outputs and no execution
counts (outputs hold PNGs whose bytes depend on the matplotlib and font versions; the tests execute
the notebook instead), and JSON keys are sorted. Topic titles and references come from the manifest.
``nbformat`` (dev extra) is imported only by the functions that build or read notebooks.
"""
from __future__ import annotations

import importlib
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from scenes.course import Course, Lecture, chapter_title

__all__ = [
    "BENCH_RESULT_HELPER",
    "GAUSSIAN_HELPER",
    "HEATMAP_HELPER",
    "HELPERS",
    "LAB_SOURCE_HELPER",
    "LOAD_LAB_HELPER",
    "MAX_ABS_HELPER",
    "NOTEBOOK_DIR",
    "REPORT_HELPER",
    "REPORT_RE",
    "SHOW_HELPER",
    "NotebookSpec",
    "TopicCells",
    "build",
    "helpers",
    "load_spec",
    "notebook_path",
    "parse_reports",
    "render",
    "resolve",
]

NOTEBOOK_DIR = "notebooks"
"""Where the generated notebooks live, relative to the repository root."""
REPORT_RE = re.compile(r"^NUMBERS (\S+) (\{.*\})$", re.M)
"""A topic's machine-readable line, as the notebook's ``report`` prints it."""
NBFORMAT_MINOR = 5  # cell ids (nbformat 4.5)


@dataclass(frozen=True)
class TopicCells:
    """One topic's section: an explanation (markdown), code cells, one "try this" cell and the checks.

    ``checks`` maps each key the topic's ``report(...)`` prints to the builder field it must equal
    (``"worked_example.weights"``, ``"gradient_summary.ends.0.shown"``). ``unchecked`` names the
    topic's builders whose values the notebook does not print, with the reason (shown in the notebook).
    """

    topic: str
    explanation: str
    code: tuple[str, ...]
    try_this: str
    checks: Mapping[str, str]
    unchecked: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NotebookSpec:
    """A lecture's notebook: intro (markdown), setup code, topics in chapter order, template values."""

    intro: str
    setup: tuple[str, ...]
    topics: tuple[TopicCells, ...]
    values: Mapping[str, object] = field(default_factory=dict)
    data_package: str = ""  # the lecture's data package, imported before the checks resolve builders


def notebook_path(lec: Lecture) -> str:
    """The notebook's path in the repository: ``notebooks/01-attention-fundamentals.ipynb``."""
    return f"{NOTEBOOK_DIR}/{lec.stem}.ipynb"


def load_spec(lec: Lecture) -> NotebookSpec:
    """The lecture's ``NOTEBOOK`` from ``<package>/notebook.py``; a clear error when it has none."""
    module = lec.package.strip("/").replace("/", ".") + ".notebook"
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name not in (module, module.rpartition(".")[0]):
            raise
        raise LookupError(f"lecture {lec.id} has no notebook spec: add {lec.package}/notebook.py with a "
                          f"NOTEBOOK = NotebookSpec(...) (see docs/authoring.md)") from None
    spec = getattr(mod, "NOTEBOOK", None)
    if not isinstance(spec, NotebookSpec):
        raise TypeError(f"{module}.NOTEBOOK must be a NotebookSpec, got {type(spec).__name__}")
    return spec


def _literal(value: object) -> str:
    """``repr(value)``; a long tuple or list one item a line (the placeholder then starts a statement)."""
    text = repr(value)
    if len(text) <= 80 or not isinstance(value, (tuple, list)):
        return text
    inner = "".join(f"    {item!r},\n" for item in value)
    return f"(\n{inner})" if isinstance(value, tuple) else f"[\n{inner}]"


def _fill(code: str, values: Mapping[str, object], where: str) -> str:
    try:
        return string.Template(code).substitute({k: _literal(v) for k, v in values.items()})
    except (KeyError, ValueError) as e:
        raise ValueError(f"{where}: template placeholder {e} has no value in the spec's values") from None


def _slug(topic: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", topic).strip("-").lower()


def build(course: Course, lec: Lecture, spec: NotebookSpec):
    """The notebook (an ``nbformat`` v4 node) of ``lec``: title, intro, setup, one section per topic
    in chapter order, references. Raises ValueError when the spec's topics are not the lecture's."""
    import nbformat
    from nbformat import v4

    spec_topics = [t.topic for t in spec.topics]
    if spec_topics != list(lec.topic_ids):
        raise ValueError(f"lecture {lec.id}: the notebook spec's topics {spec_topics} are not the lecture's "
                         f"topics in chapter order {list(lec.topic_ids)}")
    cells = []

    def add(kind: str, source: str, cid: str) -> None:
        make = v4.new_markdown_cell if kind == "md" else v4.new_code_cell
        cell = make(source.strip("\n"))
        cell["id"] = cid
        cells.append(cell)

    add("md", f"# {course.title} {lec.id}: {lec.title}\n\n{spec.intro.strip()}", "title")
    for n, code in enumerate(spec.setup):
        add("code", _fill(code, spec.values, f"setup cell {n}"), f"setup-{n}")
    for t in spec.topics:
        slug = _slug(t.topic)
        note = "".join(f"\n\n*Not recomputed here:* `{name}`: {why}" for name, why in t.unchecked.items())
        add("md", f"## {t.topic} {chapter_title(t.topic)}\n\n{t.explanation.strip()}{note}", f"{slug}-md")
        for n, code in enumerate(t.code):
            add("code", _fill(code, spec.values, f"{t.topic} code cell {n}"), f"{slug}-code-{n}")
        add("md", "**Try this.**", f"{slug}-try-md")
        add("code", _fill(t.try_this, spec.values, f"{t.topic} try-this cell"), f"{slug}-try")
    if lec.references:
        refs = "\n".join(f"- {r.text()}" for r in lec.references)
        add("md", f"## References\n\n{refs}", "references")
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    nb.nbformat_minor = NBFORMAT_MINOR
    nbformat.validate(nb)
    return nb


def render(course: Course, lec: Lecture, spec: NotebookSpec | None = None) -> str:
    """The notebook file's text, byte-identical on every run (sorted keys, one trailing newline)."""
    import nbformat

    nb = build(course, lec, spec or load_spec(lec))
    return nbformat.writes(nb, version=4).rstrip("\n") + "\n"


def parse_reports(text: str) -> dict[str, dict]:
    """``{topic: numbers}`` from a notebook's printed output (``NUMBERS L01.5 {...}`` lines)."""
    out: dict[str, dict] = {}
    for topic, payload in REPORT_RE.findall(text):
        if topic in out:
            raise ValueError(f"topic {topic} reported its numbers twice")
        out[topic] = json.loads(payload)
    return out


def resolve(path: str, builders: Mapping[str, object]) -> object:
    """The value of ``"builder.field.0.field"``: call the named builder, then follow attributes and
    indices; ``*`` maps the rest of the path over a sequence (``"history.*.year"`` -> every year)."""
    name, *parts = path.split(".")
    if name not in builders:
        raise KeyError(f"check {path!r}: no builder named {name!r}")

    def follow(value, parts):
        for n, part in enumerate(parts):
            if part == "*":
                return [follow(item, parts[n + 1:]) for item in value]
            value = value[int(part)] if part.lstrip("-").isdigit() else getattr(value, part)
        return value

    return follow(builders[name](), parts)


# ---- helper functions shared by the notebooks' setup cells ----------------------------------------------
# The notebooks are self-contained (a learner's notebook cannot import ``scenes``), so a spec pastes the
# helpers' source into its setup cell with ``helpers("report", "show", ...)``. Each source assumes the setup
# cell's imports: ``json`` (report, load_lab, bench_result), ``torch`` (show, heatmap, gaussian, max_abs),
# ``attn_ref as ar`` (heatmap), ``from attn_ref.lab import result_path`` (load_lab) and
# ``from attn_ref.bench.results import RESULTS_DIR`` (bench_result). No ``$`` in them: setup cells are templates.

REPORT_HELPER = '''
def report(topic, **numbers):
    """Print a topic's key numbers on one line, at full precision (the tests compare it with the video)."""
    print("NUMBERS", topic, json.dumps(numbers, default=lambda t: t.tolist()))  # tensors as lists
'''

SHOW_HELPER = '''
def show(title, m, rows=(), cols=(), decimals=2):
    """Print a vector or matrix as the screen shows it: fixed decimals, with row and column labels."""
    m = torch.as_tensor(m, dtype=torch.float64)
    m = m[None] if m.dim() == 1 else m
    print(title)
    if cols:
        print(" " * 8 + "".join(f"{c:>8}" for c in cols))
    for r, row in enumerate(m.tolist()):
        label = rows[r] if r < len(rows) else ""
        cells = [f"{x:.{decimals}f}" for x in row]
        print(f"{label:>8}" + "".join(f"{c.lstrip('-') if float(c) == 0 else c:>8}" for c in cells))  # no -0.00
'''

HEATMAP_HELPER = '''
def heatmap(ax, p, rows, cols, title):
    """Attention weights as a heat map, each cell labelled with its weight (rows rounded to add up to 1)."""
    p = torch.as_tensor(p, dtype=torch.float64)
    ax.imshow(p, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), cols, rotation=45)
    ax.set_yticks(range(len(rows)), rows)
    for i, row in enumerate(ar.round_to_sum(p).tolist()):
        for j, x in enumerate(row):
            ax.text(j, i, f"{x:.2f}", ha="center", va="center", fontsize=8, color="w" if p[i, j] < 0.5 else "k")
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    ax.set_title(title)
'''

LOAD_LAB_HELPER = '''
def load_lab(name):
    """A lab experiment's committed result (results/experiments/<name>.json) as a dict."""
    return json.loads(result_path(name).read_text())
'''

LAB_SOURCE_HELPER = '''
def lab_source(r):
    """The source line printed under a lab figure."""
    p = r["provenance"]
    return (f"Lab experiment {r['name']} (seed {r['seed']}): attn_ref {p['attn_ref_version']}, "
            f"torch {p['torch_version']}, CPU, {p['date'][:10]}; `{p['command']}`")
'''

GAUSSIAN_HELPER = '''
def gaussian(shape, seed, std=1.0, decimals=2):
    """Seeded N(0, std^2) entries rounded to two decimals: what the screen prints is what is used."""
    g = torch.Generator().manual_seed(seed)
    return torch.round(torch.randn(shape, generator=g, dtype=torch.float64) * std, decimals=decimals)
'''

MAX_ABS_HELPER = '''
def max_abs(a, b):
    """The largest absolute difference of two tensors (0 for empty ones)."""
    return float((a - b).abs().max()) if a.numel() else 0.0
'''

BENCH_RESULT_HELPER = '''
def bench_result(name):
    """A committed benchmark result file, benchmarks/results/<name>, as a dict."""
    return json.loads((RESULTS_DIR / name).read_text())
'''

HELPERS: Mapping[str, str] = {"report": REPORT_HELPER, "show": SHOW_HELPER, "heatmap": HEATMAP_HELPER,
                              "load_lab": LOAD_LAB_HELPER, "lab_source": LAB_SOURCE_HELPER,
                              "gaussian": GAUSSIAN_HELPER, "max_abs": MAX_ABS_HELPER,
                              "bench_result": BENCH_RESULT_HELPER}
"""Each shared helper's source, by function name."""


def helpers(*names: str) -> str:
    """The source of the named helpers, in the order given, two blank lines apart (PEP 8), with a leading
    and a trailing newline: ``SETUP = (IMPORTS + helpers("report", "show") + LECTURE_CODE, ...)``."""
    unknown = [n for n in names if n not in HELPERS]
    if unknown:
        raise KeyError(f"no shared notebook helper named {unknown}; known: {sorted(HELPERS)}")
    return "\n\n" + "\n\n".join(HELPERS[n].strip("\n") + "\n" for n in names)
