"""The course manifest: outline topics, lectures, coverage of ready lectures, section-name checks."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from pipeline_helpers import FIXTURE_DIR, FIXTURE_MANIFEST, REPO_ROOT, fixture_course

from scenes import course as C
from scenes.pipeline import coverage
from scenes.pipeline.render import compare_sections

OUTLINE_MD = REPO_ROOT.parent / "shared" / "OUTLINE.md"


def test_outline_shape():
    assert len(C.TOPICS) == 74
    assert [x.id for x in C.COURSE.lectures] == [f"{i:02d}" for i in range(1, 13)]
    for lec in C.COURSE.lectures:
        assert lec.topic_ids, lec.id
        assert all(t.startswith(f"L{lec.id}.") for t in lec.topic_ids)
    assert [t for x in C.COURSE.lectures for t in x.topic_ids] == list(C.TOPICS)


@pytest.mark.skipif(not OUTLINE_MD.exists(), reason="../shared/OUTLINE.md not present")
def test_topics_match_outline_md():
    text = OUTLINE_MD.read_text(encoding="utf-8")
    assert C.parse_outline(text) == C.TOPICS
    titles = dict(re.findall(r"^## L(\d{2}) (.+?)\s*$", text, flags=re.M))
    assert titles == {x.id: x.title for x in C.COURSE.lectures}


def test_manifest_is_consistent():
    assert C.COURSE.validate() == []
    slugs = [x.slug for x in C.COURSE.lectures]
    assert len(set(slugs)) == 12
    for lec in C.COURSE.lectures:
        assert lec.description and lec.tags and lec.references, lec.id
        for ref in lec.references:
            assert ref.arxiv is None or re.fullmatch(r"\d{4}\.\d{4,5}", ref.arxiv), ref
            assert ref.arxiv or ref.url or ref.venue, f"{ref}: no arXiv id, link or venue"


def test_every_ready_lecture_covers_all_its_topics():
    for lec in C.COURSE.lectures:
        if lec.ready:
            assert lec.scenes, f"lecture {lec.id} is ready without scenes"
            assert lec.uncovered_topics() == [], f"lecture {lec.id} leaves topics uncovered"
    assert coverage.problems(C.COURSE) == []


def test_section_names_round_trip():
    assert C.section("L01.5") == "L01.5 Dot-product attention mathematics"
    assert C.section("L01.1", "L01.2", title="History") == "L01.1+L01.2 History"
    assert C.section("L01.1") == "L01.1 Brief historical context"  # duration hint dropped
    assert C.parse_section_name("L01.1+L01.2 History") == (("L01.1", "L01.2"), "History")
    assert C.parse_section_name("Recap") == ((), "Recap")
    with pytest.raises(ValueError):
        C.section("L99.1")


def test_section_parsing_agrees_with_the_kit():
    ls = pytest.importorskip("scenes.kit.lecture_scene")
    for name in ["L01.5 Dot-product attention mathematics", "L01.1+L01.2 History and evolution", "Recap",
                 "References"]:
        ids, title = ls.parse_section_name(name)
        assert (tuple(ids), title) == C.parse_section_name(name)
        assert ls.section_name(list(ids) or None, title) == name


def test_uncovered_topic_of_a_ready_lecture_is_detected():
    from dataclasses import replace

    fx = fixture_course()
    lec = fx.lecture("90")
    assert lec.ready and lec.uncovered_topics() == []
    broken = replace(fx, lectures=(replace(lec, topic_ids=(*lec.topic_ids, "L90.4")),),
                     topics={**fx.topics, "L90.4": "Delta topic"})
    assert broken.lecture("90").uncovered_topics() == ["L90.4"]
    assert any("L90.4" in p for p in coverage.problems(broken))
    # unknown topic ids in section names and colliding outputs are manifest problems too
    bad = replace(fx, topics={k: v for k, v in fx.topics.items() if k != "L90.3"})
    assert any("unknown topic L90.3" in p for p in bad.validate())


def test_coverage_script(tmp_path):
    out = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "coverage.py"), "--check"],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "L12.5" in out.stdout and "ready" in out.stdout
    # a fixture manifest whose ready lecture misses a topic fails --check
    (tmp_path / "m.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(FIXTURE_DIR)!r})\n"
        "from dataclasses import replace\n"
        "from manifest import FIXTURE_COURSE as F\n"
        "L = F.lectures[0]\n"
        "COURSE = replace(F, lectures=(replace(L, scenes=L.scenes[:1]),))\n")
    out = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "coverage.py"), "--check",
                          "--manifest", f"{tmp_path / 'm.py'}:COURSE"],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "L90.3" in out.stdout


def test_manifest_sections_are_checked_against_the_real_scene():
    """The manifest's section list for a scene is compared with the sections the scene really
    starts (its construct() run as a manim dry run), so a renamed section cannot go unnoticed."""
    from scenes.pipeline.probe import sections_of

    good, wrong = fixture_course(), fixture_course("WRONG")
    spec = good.lecture("90").scenes[1]
    names = sections_of(spec.path(good.root), spec.scene, good.root)
    assert names == ["L90.3 Gamma topic", "Recap"]
    assert compare_sections(spec.sections, names) is None
    msg = compare_sections(wrong.lecture("90").scenes[1].sections, names)
    assert msg and "Summary" in msg and "Recap" in msg
    assert FIXTURE_MANIFEST.exists()


def test_compare_sections_ignores_manims_implicit_first_section():
    assert compare_sections(["A"], ["autocreated", "A"]) is None
    assert compare_sections(["A", "B"], ["A"]) is not None
