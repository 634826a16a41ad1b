"""The notebooks' shared helpers (scenes/kit/notebook.py HELPERS): one source, pasted verbatim into every
ready lecture's setup cell (the notebooks stay self-contained), and it runs and prints what the tests parse."""
from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from scenes.course import COURSE
from scenes.kit.notebook import HELPERS, REPORT_HELPER, helpers, load_spec, notebook_path, parse_reports

ROOT = Path(__file__).resolve().parents[2]
READY = [lec for lec in COURSE.lectures if lec.ready]
NB_LECTURES = [lec for lec in COURSE.lectures if (ROOT / lec.package / "notebook.py").exists()]
DEF_RE = re.compile(r"^def (\w+)\(", re.M)


def _setup_sources(lec) -> list[str]:
    nb = json.loads((ROOT / notebook_path(lec)).read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code" and c["id"].startswith("setup-")]


@pytest.mark.parametrize("lec", READY, ids=lambda lec: lec.id)
def test_every_ready_notebook_pastes_the_shared_helpers_verbatim(lec):
    setup = "\n".join(_setup_sources(lec))
    assert REPORT_HELPER.strip("\n") in setup  # every topic ends with report(...)
    for name in set(DEF_RE.findall(setup)) & set(HELPERS):
        assert HELPERS[name].strip("\n") in setup, f"{notebook_path(lec)}: {name} is not the shared source"


@pytest.mark.parametrize("lec", NB_LECTURES, ids=lambda lec: lec.id)
def test_no_spec_retypes_a_shared_helper(lec):
    spec = load_spec(lec)
    text = (ROOT / lec.package / "notebook.py").read_text(encoding="utf-8")
    for name in HELPERS:
        assert f"\ndef {name}(" not in text, f"{lec.package}/notebook.py retypes {name}: use helpers({name!r})"
    setup = "\n".join(spec.setup)
    assert REPORT_HELPER.strip("\n") in setup


def test_helpers_joins_in_order_and_refuses_unknown_names():
    src = helpers("show", "report")
    assert src.startswith("\n\ndef show(") and src.endswith("\n") and not src.endswith("\n\n")
    assert src.index("def show(") < src.index("def report(") and "\n\n\ndef report(" in src
    assert all("$" not in s for s in HELPERS.values())  # setup cells are string.Template templates
    with pytest.raises(KeyError, match="no_such"):
        helpers("report", "no_such")


def test_helpers_execute_and_print_the_parsed_format():
    torch = pytest.importorskip("torch")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns: dict = {}
    exec("import json\nimport torch\nimport attn_ref as ar\nfrom attn_ref.lab import result_path\n"
         + helpers(*HELPERS), ns)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ns["report"]("L99.1", w=torch.tensor([[0.25, 0.75]], dtype=torch.float64), n=3, label="x")
        ns["show"]("M", [[1.0, -0.001], [0.5, 2.0]], rows=("a", "b"), cols=("k1", "k2"))
        ns["show"]("v", [1.23456], decimals=3)
    out = buf.getvalue()
    assert parse_reports(out) == {"L99.1": {"w": [[0.25, 0.75]], "n": 3, "label": "x"}}
    assert out.splitlines()[1:] == ["M", " " * 8 + "      k1      k2", "       a    1.00    0.00",
                                    "       b    0.50    2.00", "v", " " * 8 + "   1.235"]
    fig, ax = plt.subplots()
    ns["heatmap"](ax, [[0.2, 0.8], [0.5, 0.5]], ("q1", "q2"), ("k1", "k2"), "P")
    assert [t.get_text() for t in ax.texts] == ["0.20", "0.80", "0.50", "0.50"] and ax.get_title() == "P"
    plt.close(fig)
    prov = {"attn_ref_version": "1.0", "torch_version": "2.0", "date": "2026-01-02T03:04", "command": "lab run"}
    assert ns["lab_source"]({"name": "e", "seed": 1, "provenance": prov}) == (
        "Lab experiment e (seed 1): attn_ref 1.0, torch 2.0, CPU, 2026-01-02; `lab run`")
