"""The layout check (scenes/kit/layout_check.py, scripts/check_layout.py): overlapping text, content outside
the safe area and text too small at 1080p are found, with the scene time; declared overlaps and clean
layouts give nothing. Geometry tests run in process; the scene tests dry-run tiny LectureScenes."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from manim import Dot, MathTex, Square, Text, VGroup

from scenes.kit.layout_check import (CAP_PX_PER_POINT, MIN_CAP_PX, OVERLAP_MIN, GlyphOrigins, LayoutCheck,
                                     cap_height_px,
                                     findings_path, format_time, text_units)
from scenes.kit.mobjects.text import label, number
from scenes.kit.theme import FONTS, SAFE, SIZES

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "lectures"))
from scene_checks import dry_run_failures  # noqa: E402

_spec = importlib.util.spec_from_file_location("check_layout", ROOT / "scripts" / "check_layout.py")
check_layout = sys.modules["check_layout"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_layout)

PX = 1080 / 8  # pixels per scene unit at 1080p


def _observe(*steps, allowed=()):
    """Run a LayoutCheck over ``steps`` of (time, mobjects); its findings."""
    check = LayoutCheck("T")
    for t, mobs in steps:
        check.observe(mobs, t, allowed)
    return check.findings()


# ------------------------------------------------------------------------------- geometry, in process
def test_cap_height_constants_match_manim():
    """The px-per-point constants are what manim draws: "H" measured at two sizes, in both engines."""
    for size in (18, 44):
        text = Text("H", font=FONTS.BODY, font_size=size)
        tex = MathTex("H", font_size=size)
        assert text.height * PX == pytest.approx(size * CAP_PX_PER_POINT["text"], rel=0.02)
        assert tex.height * PX == pytest.approx(size * CAP_PX_PER_POINT["tex"], rel=0.02)
        assert cap_height_px(text) == pytest.approx(text.height * PX, rel=0.02)


def test_smallest_named_size_is_legible_and_half_of_it_is_not():
    caption = label("Hg caption", size=SIZES.CAPTION)
    assert cap_height_px(caption) >= MIN_CAP_PX
    assert cap_height_px(number(0.5, size=SIZES.CAPTION)) >= MIN_CAP_PX
    assert _observe((0, [caption])) == []
    caption.scale(0.5)  # the scale follows: 12 px
    (f,) = _observe((0, [caption]))
    assert f.kind == "small-text" and f.texts == ["Hg caption"]


@pytest.mark.parametrize(("place", "found"), [("across", True), ("touching", False), ("apart", False)])
def test_overlap_needs_real_intrusion(place, found):
    """A label pushed well into another overlaps; one that touches it (0.01 units inside) does not."""
    a, b = label("queries"), label("keys")
    if place == "across":
        b.move_to(a).shift([0.1, -0.3 * a.height, 0])
    else:
        b.next_to(a, direction=[0, -1, 0], buff=0.0 if place == "touching" else 0.1)
        b.shift([0, OVERLAP_MIN / 2 if place == "touching" else 0.0, 0])
    out = _observe((1.0, [a, b]))
    assert [(f.kind, sorted(f.texts)) for f in out] == ([("overlap", ["keys", "queries"])] if found else [])


def test_invisible_text_and_text_inside_one_unit_do_not_count():
    a = label("hidden label")
    b = label("shown label").move_to(a)
    a.set_opacity(0)
    assert _observe((0, [a, b])) == []
    c = label("several words of one label")  # its own glyphs overlap each other: one unit
    assert _observe((0, [c])) == []
    assert [t for _, _, t, _ in text_units([VGroup(c, VGroup(b))])] == ["several words of one label", "shown label"]


def test_text_under_an_opaque_shade_is_hidden():
    """A −∞ label on a mask shade over a cell's number: the number is hidden, the pair is no overlap."""
    num = number(0.25)
    shade = Square(1.0).set_fill("#C2255C", 1.0).set_stroke(width=0).move_to(num)
    inf = label("−∞", size=SIZES.SMALL).move_to(num)
    assert _observe((0, [num, shade, inf])) == []
    assert [f.kind for f in _observe((0, [shade, num, inf]))] == ["overlap"]  # the number drawn on top
    shade.set_fill(opacity=0.5)
    assert [f.kind for f in _observe((0, [num, shade, inf]))] == ["overlap"]  # seen through the shade


def test_groups_of_whole_texts_are_not_parts():
    """Rows of numbers (VGroups whose every leaf is a glyph) are their numbers, not parts of something."""
    grid = VGroup(VGroup(number(0.5)), VGroup(number(0.25), number(1.0)))
    assert [t for _, _, t, _ in text_units([grid], GlyphOrigins())] == ["0.50", "0.25", "1.00"]


def test_label_in_the_empty_corner_of_a_formula_box_is_not_an_overlap():
    """The glyph test: a tall fraction's box has empty corners; a label there touches no glyph."""
    eq = MathTex(r"\frac{a}{b} + c + d + e + f", font_size=60)
    lab = label("e", size=SIZES.SMALL)
    lab.move_to([eq.get_right()[0] - lab.width / 2, eq.get_top()[1] - lab.height / 2, 0])
    assert _observe((0, [eq, lab])) == []
    lab.move_to(eq[0][0])  # over the fraction's glyphs
    assert [f.kind for f in _observe((0, [eq, lab]))] == ["overlap"]


def test_a_persisting_overlap_is_one_finding_with_its_span():
    a, b = label("alpha"), label("beta")
    b.move_to(a)
    far = b.copy().shift([0, 3, 0])
    out = _observe((1.0, [a, b]), (2.0, [a, b]), (3.5, [a, b]), (4.0, [a, far]), (6.0, [a, b]))
    assert [(f.start, f.end) for f in out] == [(1.0, 3.5), (6.0, 6.0)]
    assert "00:01.0-00:03.5 (2.5 s) overlap: 'alpha' x 'beta'" in out[0].line()


def test_labels_stacked_on_one_spot_are_one_finding():
    labels = [label(f"h{k}") for k in range(4)]
    apart = label("elsewhere").shift([0, 3, 0])
    other = label("other").move_to(apart)
    (stack, pair) = _observe((1.0, [*labels, apart, other]))
    assert sorted(stack.texts) == ["h0", "h1", "h2", "h3"] and sorted(pair.texts) == ["elsewhere", "other"]


def test_declared_overlap_is_skipped_and_parts_of_a_formula_are_named():
    eq = MathTex(r"\operatorname{softmax}\left(\frac{QK^\top}{\sqrt{d_k}}\right)V")
    part = VGroup(*eq[0][-6:])  # glyphs of a formula, put on screen as a plain group
    lab = label("a blend of the values").move_to(part)
    (f,) = _observe((0, [part, lab]))
    assert f.texts[0].startswith("part of '\\operatorname{softmax}") and f.texts[1] == "a blend of the values"
    assert _observe((0, [part, lab]), allowed=[(lab, part, "on purpose")]) == []


def test_glyphs_of_a_text_that_is_gone_still_count():
    def glyphs():
        return VGroup(*label("temporary")[:4])  # the Text is garbage once this returns

    part = glyphs()
    (f,) = _observe((0, [part, label("over it").move_to(part)]))
    assert f.texts[0].startswith("4 glyph(s) at (") and f.texts[1] == "over it"


def test_safe_area_is_found_with_the_texts_inside():
    box = VGroup(Square(1), label("edge note")).move_to([SAFE.right, 0, 0])
    (f,) = _observe((2.0, [box, Dot()]))
    assert f.kind == "safe-area" and f.texts == ["edge note"]


def test_findings_path_and_time_format(tmp_path):
    assert findings_path("S", "") is None
    assert findings_path("S", str(tmp_path)) == tmp_path / "S.json"
    assert findings_path("S", str(tmp_path / "x.json")) == tmp_path / "x.json"
    assert format_time(122.44) == "02:02.4" and format_time(5) == "00:05.0" and format_time(59.96) == "01:00.0"


# ------------------------------------------------------------------------------------ scenes, dry run
SCENES = '''
from manim import FadeIn, FadeOut, MathTex, VGroup
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects.text import label
from scenes.kit.theme import SAFE


def formula():
    return MathTex(r"\\operatorname{softmax}\\left(\\frac{QK^\\top}{\\sqrt{d_k}}\\right)V", font_size=64)


def parts(eq):
    """The formula in parts, each a plain group of its glyphs (as DotProductAttention shows it)."""
    glyphs = list(eq[0])
    return VGroup(*glyphs[:-1]), VGroup(glyphs[-1])


class Across(LectureScene):
    """A label laid across the formula's denominator for 3 s, then taken away."""
    declare = False

    def construct(self):
        self.section("Across")
        eq = formula()
        rest, v = parts(eq)
        self.play(FadeIn(rest), FadeIn(v), run_time=1.0)  # t = 1.0
        self.wait(1.0)  # 2.0
        note = label("a blend of the values").move_to(rest.get_bottom() + [1.0, 0.25, 0])
        if self.declare:
            self.allow_overlap(note, VGroup(rest, v), reason="test: drawn across on purpose")
        self.play(FadeIn(note), run_time=0.5)  # 2.5: the overlap starts
        self.wait(3.0)  # 5.5: last seen
        self.play(FadeOut(note), run_time=0.5)  # 6.0: gone
        self.wait(1.0)


class Declared(Across):
    declare = True


class Clean(LectureScene):
    def construct(self):
        self.section("Clean")
        rest, v = parts(formula())  # the formula itself is gone: its glyphs still count
        note = label("a blend of the values").next_to(VGroup(rest, v), direction=[0, -1, 0], buff=0.4)
        self.play(FadeIn(rest), FadeIn(v), FadeIn(note), run_time=1.0)
        self.wait(2.0)


class Edge(LectureScene):
    def construct(self):
        self.section("Edge")
        note = label("over the edge").move_to([SAFE.right, 0, 0])
        self.play(FadeIn(note), run_time=1.0)
        self.wait(1.0)


class Small(LectureScene):
    def construct(self):
        self.section("Small")
        note = label("fine print", size=8)
        self.play(FadeIn(note), run_time=1.0)
        self.wait(1.0)


class Broken(LectureScene):
    def construct(self):
        raise RuntimeError("this scene fails on purpose")
'''

MANIFEST = '''
from scenes.course import COURSE, Course, Lecture, SceneSpec

COURSE = Course(title="Layout fixture", root=COURSE.root, topics={{}}, lectures=(
    Lecture(id="90", slug="layout", title="Layout", description="", package="{pkg}", ready=True,
            scenes=tuple(SceneSpec("{file}", s) for s in
                         ("Across", "Declared", "Clean", "Edge", "Small", "Broken"))),
))
'''
FRAME = 1 / 30  # the checker's frame rate: manim rounds a wait to whole frames


@pytest.fixture(scope="module")
def fixture_course(tmp_path_factory):
    d = tmp_path_factory.mktemp("layout")
    (d / "layout_scenes.py").write_text(SCENES)
    (d / "manifest.py").write_text(MANIFEST.format(pkg=d, file=d / "layout_scenes.py"))
    return f"{d / 'manifest.py'}:COURSE", d


def _run(fixture_course, *scenes, tmp_path, extra=()):
    manifest, _ = fixture_course
    out = tmp_path / "result.json"
    args = ["--lecture", "90", "--manifest", manifest, "--out-dir", str(tmp_path), "--json", str(out), *extra]
    rc = check_layout.main([*args, *(a for s in scenes for a in ("--scene", s))])
    return rc, {r["scene"]: r for r in json.loads(out.read_text())}


def test_check_layout_finds_each_kind_with_its_time(fixture_course, tmp_path, capsys):
    rc, res = _run(fixture_course, "Across", "Declared", "Edge", "Small", tmp_path=tmp_path)
    assert rc == 1
    (f,) = res["Across"]["findings"]
    assert f["kind"] == "overlap"
    assert f["texts"][1] == "a blend of the values" and f["texts"][0].startswith("part of '\\operatorname{softmax}")
    assert f["start"] == pytest.approx(2.5, abs=FRAME) and f["end"] == pytest.approx(5.5, abs=FRAME)
    assert res["Declared"]["findings"] == []
    (d,) = res["Declared"]["declared"]
    assert d["a"] == ["a blend of the values"] and d["reason"] == "test: drawn across on purpose"
    assert d["b"][0].startswith("part of '\\operatorname{softmax}")
    assert [(g["kind"], g["texts"]) for g in res["Edge"]["findings"]] == [("safe-area", ["over the edge"])]
    assert [(g["kind"], g["texts"]) for g in res["Small"]["findings"]] == [("small-text", ["fine print"])]
    printed = capsys.readouterr().out
    assert "Across 00:02.5-00:05.5 (3.0 s) overlap: 'part of" in printed
    assert "[4/4] L90 Small: 1 finding(s)" in printed
    assert "Declared declared overlap: a blend of the values x part of" in printed


def test_skipping_the_frames_finds_what_drawing_them_finds(fixture_course, tmp_path):
    """The default dry run draws no frame (each animation jumps to its end state); the observer, which looks
    after each step, sees the same findings at the same times as with every frame drawn."""
    def found(extra, sub):
        (tmp_path / sub).mkdir()
        rc, res = _run(fixture_course, "Across", "Edge", tmp_path=tmp_path / sub, extra=extra)
        return rc, [(g["kind"], g["texts"], g["start"], g["end"]) for r in res.values() for g in r["findings"]]

    (rc_skip, skipped), (rc_drawn, drawn) = found([], "skip"), found(["--draw-frames"], "drawn")
    assert rc_skip == rc_drawn == 1 and len(skipped) == len(drawn) == 2
    for (k1, t1, s1, e1), (k2, t2, s2, e2) in zip(skipped, drawn):
        assert (k1, t1) == (k2, t2) and s1 == pytest.approx(s2, abs=FRAME) and e1 == pytest.approx(e2, abs=FRAME)
    assert check_layout.SKIP_FRAMES[0] in check_layout.dry_run_command(Path("x.py"), "X")
    assert check_layout.SKIP_FRAMES[0] not in check_layout.dry_run_command(Path("x.py"), "X", draw_frames=True)


def test_check_layout_exit_codes(fixture_course, tmp_path, capsys):
    assert _run(fixture_course, "Clean", tmp_path=tmp_path)[0] == 0
    rc, res = _run(fixture_course, "Broken", tmp_path=tmp_path)
    assert rc == 2 and res["Broken"]["error"] == "exit 1"
    assert "this scene fails on purpose" in capsys.readouterr().out
    manifest, _ = fixture_course
    assert check_layout.main(["--lecture", "90", "--manifest", manifest, "--scene", "Nope"]) == 2
    assert (tmp_path / "Broken.log.attempt1").is_file()  # a scene that fails is run twice before it counts


def test_a_scene_that_fails_once_is_run_again(fixture_course, tmp_path, monkeypatch, capsys):
    """Two dry runs can race on a cold LaTeX cache and one crash: the scene runs once more, alone."""
    real, calls = check_layout.check_scene, []

    def flaky(course, path, scene, out_dir, *args):
        calls.append(scene)
        if calls.count(scene) == 1:
            (out_dir / f"{scene}.log").write_text("latex failed but did not produce a log file")
            return check_layout.SceneResult(scene, str(path), 0.1, error="exit 1", log="raced")
        return real(course, path, scene, out_dir, *args)

    monkeypatch.setattr(check_layout, "check_scene", flaky)
    rc, res = _run(fixture_course, "Clean", tmp_path=tmp_path)
    assert rc == 0 and calls == ["Clean", "Clean"] and res["Clean"]["error"] == ""
    assert "L90 Clean: exit 1, running it again" in capsys.readouterr().out
    assert "latex failed" in (tmp_path / "Clean.log.attempt1").read_text()


def test_shared_dry_run_reports_layout_findings(fixture_course):
    _, d = fixture_course
    scenes = {"layout_scenes.py": ("Across", "L90.1")}
    (failure,) = dry_run_failures(d, scenes, layout=True)
    assert "Across" in failure and "overlap" in failure and "a blend of the values" in failure
    assert dry_run_failures(d, {"layout_scenes.py": ("Clean", "L90.1")}, layout=True) == []


@pytest.mark.slow
def test_every_ready_lecture_is_clean():
    """Every scene of every ready lecture, dry-run with the layout check: no findings, no failures (the
    dry runs are shared with the lecture topic tests: scene_checks.lecture_check)."""
    from scene_checks import lecture_check

    from scenes.course import COURSE

    ready = [lec for lec in COURSE.lectures if lec.ready]
    assert ready, "no lecture is marked ready"
    problems = [p for lec in ready for p in lecture_check(lec.id).values() if p]
    assert not problems, "\n".join(problems)
