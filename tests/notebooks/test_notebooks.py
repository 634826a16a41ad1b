"""Companion notebooks: each ready lecture's notebook is committed, up to date with its generator, runs top
to bottom with nbclient (kernel: this interpreter), imports no manim and no scene package, and prints
exactly the numbers the lecture's data builders give (float tolerance 1e-9, strings and ints exact).
"""
from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import json
import math
import os
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from scenes.course import COURSE, chapter_title  # noqa: E402
from scenes.kit import data_builders  # noqa: E402
from scenes.kit.notebook import NotebookSpec, TopicCells, build, load_spec, notebook_path, parse_reports, render  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
READY = [lec for lec in COURSE.lectures if lec.ready]
TOL = 1e-9
RUN_LIMIT_S = 120.0
IMPORT_PROBE = ("import resource, sys\nprint('IMPORTED', sorted(m for m in sys.modules "
                "if m.split('.')[0] in ('manim', 'manim_voiceover', 'scenes')))\n"
                "u = resource.getrusage(resource.RUSAGE_SELF)\nprint('CPU_SECONDS', u.ru_utime + u.ru_stime)\n"
                "print('EXECUTABLE', sys.executable)")


def _script():
    spec = importlib.util.spec_from_file_location("notebooks_script", ROOT / "scripts" / "notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


KERNEL = "attn-lectures-test-python"


def execute(nb, cwd: Path) -> tuple[str, float]:
    """Run a notebook in a fresh kernel (this interpreter, this checkout's attn_ref); its stdout and seconds.

    The kernel spec is written to a temp folder and is the only one the kernel manager sees, so no kernel
    installed for the user (another "python3") can stand in for this interpreter."""
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    specs = cwd / "kernels" / KERNEL
    specs.mkdir(parents=True, exist_ok=True)
    (specs / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "attn-lectures test", "language": "python"}))
    only_ours = KernelSpecManager(kernel_dirs=[str(specs.parent)])
    km = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=only_ours)
    client = nbclient.NotebookClient(nb, km=km, kernel_name=KERNEL, timeout=300, allow_errors=False,
                                     resources={"metadata": {"path": str(cwd)}})
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    env.pop("ATTN_MANIFEST", None)
    t0 = time.perf_counter()
    client.execute(env=env)
    seconds = time.perf_counter() - t0
    out = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                  for o in c.get("outputs", []) if o.get("name") == "stdout")
    return out, seconds


def run_in_process(sources: list[str]) -> str:
    """Run code cells in one fresh namespace here (matplotlib off screen); their stdout."""
    import contextlib
    import io
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buf, namespace = io.StringIO(), {"__name__": "__notebook__"}
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # plt.show() on Agg
        for src in sources:
            exec(compile(src, "<cell>", "exec"), namespace)
    plt.close("all")
    return buf.getvalue()


def mismatches(got, want, where: str) -> list[str]:
    """Where a printed value differs from the builder's (lists and tuples alike; NaN equals NaN; None (JSON
    null) equals only None)."""
    if isinstance(want, (tuple, list)):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where}: notebook {str(got)[:80]} vs builder {str(want)[:80]}"]
        return [m for k, (g, w) in enumerate(zip(got, want)) for m in mismatches(g, w, f"{where}[{k}]")]
    if want is None or got is None:  # a value the builder leaves out (an unscored position, a scheme not run)
        return [] if got is None and want is None else [f"{where}: notebook {got!r} vs builder {want!r}"]
    if isinstance(want, (bool, str)) or isinstance(got, (bool, str)):
        return [] if type(got) is type(want) and got == want else [f"{where}: notebook {got!r} vs builder {want!r}"]
    if isinstance(want, int) and not isinstance(got, int):
        return [f"{where}: notebook {got!r} vs builder int {want!r}"]
    g, w = float(got), float(want)
    if math.isnan(w) or math.isnan(g):
        same = math.isnan(w) and math.isnan(g)
    else:
        same = g == w or math.isclose(g, w, rel_tol=TOL, abs_tol=1e-15)
    return [] if same else [f"{where}: notebook {g!r} vs builder {w!r}"]


def _builders(spec: NotebookSpec, lec) -> dict:
    importlib.import_module(spec.data_package)
    return {fn.__name__: fn for fn in data_builders.registered(lec.id)}


def check_reports(reports: dict, spec: NotebookSpec, builders: dict) -> list[str]:
    """Every topic reported exactly its checked keys, each equal to the builder's value."""
    from scenes.kit.notebook import resolve

    problems = []
    for t in spec.topics:
        got = reports.get(t.topic)
        if got is None:
            problems.append(f"{t.topic}: the notebook printed no NUMBERS line")
            continue
        if set(got) != set(t.checks):
            problems.append(f"{t.topic}: printed keys {sorted(set(got) ^ set(t.checks))} are not the checked ones")
        for key, path in t.checks.items():
            if key in got:
                problems += mismatches(got[key], resolve(path, builders), f"{t.topic} {key} ({path})")
    return problems


@pytest.fixture(scope="module", params=[lec.id for lec in READY])
def executed(request, tmp_path_factory):
    lec = COURSE.lecture(request.param)
    path = ROOT / notebook_path(lec)
    assert path.exists(), f"{notebook_path(lec)} is missing: run scripts/notebooks.py --lecture {lec.id}"
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(IMPORT_PROBE))
    out, seconds = execute(nb, tmp_path_factory.mktemp(f"nb{lec.id}"))
    cpu = next(ln.split()[1] for ln in out.splitlines() if ln.startswith("CPU_SECONDS "))
    print(f"\n{notebook_path(lec)} ran in {seconds:.1f} s wall, kernel CPU {float(cpu):.1f} s")
    return lec, load_spec(lec), out, seconds


def test_ready_lectures_have_notebooks():
    assert READY, "no ready lecture"
    for lec in READY:
        assert isinstance(load_spec(lec), NotebookSpec)


def test_notebook_prints_the_builders_numbers(executed):
    lec, spec, out, _ = executed
    reports = parse_reports(out)
    assert sorted(reports) == sorted(t.topic for t in spec.topics)
    assert check_reports(reports, spec, _builders(spec, lec)) == []


def test_notebook_runs_fast_and_imports_no_scene_package(executed):
    lec, _, out, seconds = executed
    assert seconds < RUN_LIMIT_S, f"{notebook_path(lec)} took {seconds:.0f} s (limit {RUN_LIMIT_S:.0f} s)"
    probe = [ln for ln in out.splitlines() if ln.startswith("IMPORTED ")]
    assert probe == ["IMPORTED []"], probe
    assert f"EXECUTABLE {sys.executable}" in out.splitlines()  # the kernel is this interpreter


@pytest.mark.parametrize("lec", READY, ids=lambda lec: lec.id)
def test_code_cells_import_only_attn_ref_torch_and_plotting(lec):
    nb = nbformat.reads((ROOT / notebook_path(lec)).read_text(encoding="utf-8"), as_version=4)
    allowed = {"attn_ref", "torch", "matplotlib", "itertools", "json", "math"}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] in allowed, f"cell {cell.id} imports {name}"
        assert "scenes." not in cell.source and "manim" not in cell.source, cell.id


def test_every_builder_of_every_topic_is_checked():
    for lec in READY:
        spec = load_spec(lec)
        _builders(spec, lec)  # imports the data package
        registry = data_builders.builders(lec.id)
        for t in spec.topics:
            named = {path.split(".")[0] for path in t.checks.values()} | set(t.unchecked)
            missing = {fn.__name__ for fn in registry.get(t.topic, ())} - named
            assert not missing, f"{t.topic}: builders {sorted(missing)} are neither checked nor explained"


def test_a_changed_builder_value_is_caught(executed):
    """A builder that drifts from the notebook (one weight of the worked example moved by 1e-6) fails."""
    lec, spec, out, _ = executed
    if lec.id != "01":
        pytest.skip("the drift probe uses Lecture 1's worked example")
    builders = _builders(spec, lec)
    topic = next(t for t in spec.topics if t.topic == "L01.7")
    name, field = topic.checks["weights"].split(".")
    original = builders[name]()
    rows = [list(r) for r in getattr(original, field)]
    rows[0][0] += 1e-6
    drifted = {**builders, name: lambda: dataclasses.replace(original, **{field: tuple(map(tuple, rows))})}
    problems = check_reports(parse_reports(out), spec, drifted)
    assert len(problems) == 1 and problems[0].startswith(f"{topic.topic} weights ({name}.{field})[0][0]"), problems


def test_a_changed_seed_in_the_notebook_is_caught():
    """A copy of Lecture 1's notebook with another embedding seed prints numbers the builders reject (its
    setup and L01.4 cells, run in this process: the kernel run is tested above)."""
    lec = COURSE.lecture("01")
    spec = load_spec(lec)
    nb = nbformat.reads((ROOT / notebook_path(lec)).read_text(encoding="utf-8"), as_version=4)
    keep = [c for c in nb.cells if c.cell_type == "code" and c.id.startswith(("setup-", "l01-4-code"))]
    assert any("EMBED_SEED = 0" in c.source for c in keep)
    for c in keep:
        c.source = c.source.replace("EMBED_SEED = 0", "EMBED_SEED = 1")
    out = run_in_process([c.source for c in keep])
    reports = parse_reports(out)
    only = dataclasses.replace(spec, topics=tuple(t for t in spec.topics if t.topic == "L01.4"))
    problems = check_reports(reports, only, _builders(spec, lec))
    assert any(p.startswith("L01.4 x (qkv_projections.x)") for p in problems), problems
    assert not any(p.startswith("L01.4 blended") for p in problems)  # the soft dictionary has no embeddings


@pytest.mark.parametrize("lec", READY, ids=lambda lec: lec.id)
def test_committed_notebook_is_the_fresh_generation(lec):
    text = render(COURSE, lec)
    assert render(COURSE, lec) == text  # deterministic
    committed = (ROOT / notebook_path(lec)).read_text(encoding="utf-8")
    assert committed == text, f"regenerate: .venv/bin/python scripts/notebooks.py --lecture {lec.id}"
    nb = json.loads(text)
    codes = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in codes)


def test_check_names_the_command_and_writing_makes_it_pass(tmp_path, capsys):
    manifest = tmp_path / "manifest.py"
    manifest.write_text("from dataclasses import replace\nfrom pathlib import Path\n"
                        "from scenes.course import COURSE as C\n"
                        f"COURSE = replace(C, root=Path({str(tmp_path)!r}))\n")
    script = _script()
    args = ["--lecture", "01", "--manifest", f"{manifest}:COURSE"]
    assert script.main([*args, "--check"]) == 1
    err = capsys.readouterr().err
    assert "is missing" in err and "scripts/notebooks.py --lecture 01" in err
    assert script.main(args) == 0
    written = tmp_path / notebook_path(COURSE.lecture("01"))
    assert written.read_bytes() == (ROOT / notebook_path(COURSE.lecture("01"))).read_bytes()
    assert script.main([*args, "--check"]) == 0
    written.write_text(written.read_text().replace("EMBED_SEED = 0", "EMBED_SEED = 7"))
    capsys.readouterr()
    assert script.main([*args, "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert script.main(args) == 0 and script.main([*args, "--check"]) == 0


def test_sections_follow_the_manifest():
    lec = COURSE.lecture("01")
    nb = build(COURSE, lec, load_spec(lec))
    heads = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## L")]
    assert heads == [f"## {t} {chapter_title(t)}" for t in lec.topic_ids]
    refs = next(c.source for c in nb.cells if c.source.startswith("## References"))
    assert all(r.text() in refs for r in lec.references)
    assert sum(c.id.endswith("-try") for c in nb.cells) == len(lec.topic_ids)
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    spec = load_spec(lec)
    noted = dataclasses.replace(spec.topics[0], unchecked={"history": "text only, no numbers"})
    nb = build(COURSE, lec, dataclasses.replace(spec, topics=(noted, *spec.topics[1:])))
    assert "*Not recomputed here:* `history`: text only, no numbers" in nb.cells[len(spec.setup) + 1].source


def test_bad_specs_are_refused():
    lec = COURSE.lecture("01")
    spec = load_spec(lec)
    with pytest.raises(ValueError, match="topics"):
        build(COURSE, lec, dataclasses.replace(spec, topics=spec.topics[::-1]))
    broken = TopicCells(spec.topics[0].topic, "x", ("print($NOT_A_VALUE)",), "pass", {})
    with pytest.raises(ValueError, match="NOT_A_VALUE"):
        build(COURSE, lec, dataclasses.replace(spec, topics=(broken, *spec.topics[1:])))
    bare = next(lec for lec in COURSE.lectures if not (ROOT / lec.package / "notebook.py").exists())
    with pytest.raises(LookupError, match="no notebook spec"):
        load_spec(bare)
    script = _script()
    assert script.main(["--lecture", bare.id, "--check"]) == 2
    with pytest.raises(ValueError, match="twice"):
        parse_reports('NUMBERS L01.1 {"a": 1}\nNUMBERS L01.1 {"a": 2}\n')


def test_mismatches_compares_as_documented():
    assert mismatches([1.0, [2.0, float("nan")]], (1.0 + 1e-12, (2.0, float("nan"))), "x") == []
    assert mismatches([1.0, [2.0, 0.0]], (1.0, (2.0, float("nan"))), "x") == ["x[1][1]: notebook 0.0 vs builder nan"]
    assert mismatches([1.0], (1.0, 2.0), "x")[0].startswith("x: notebook")
    assert mismatches([[1.0 + 1e-12, float("-inf")]], ((1.0, float("-inf")),), "x") == []
    assert mismatches(9.8e-12, 9.9e-12, "x") and not mismatches(9.8e-12, 9.8e-12 * (1 + 1e-12), "x")
    assert mismatches(True, 1, "x") and mismatches("0.030", "0.03", "x") and mismatches(3.0, 3, "x")
    assert mismatches([None, 1.0], (None, 1.0), "x") == []
    assert mismatches(None, 0.0, "x") == ["x: notebook None vs builder 0.0"] and mismatches(0.0, None, "x")
