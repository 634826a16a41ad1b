"""Lecture 1 recap and references: the papers (one list for the references card and the video
description), the cards they are drawn on, and the Recap scene's dry run."""
from __future__ import annotations

from scenes.course import COURSE
from scenes.kit.references import Reference
from scenes.l01_fundamentals import data as d

from ._helpers import assert_scene_constructs

FILE, SCENE = "l01_recap.py", "Recap"


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs(SCENE)


def test_references():
    refs = {r.arxiv for r in d.references()}
    assert {"1409.0473", "1508.04025", "1706.03762", "1409.3215"} <= refs
    venues = " ".join(r.venue for r in d.references())
    assert "Neural Computation 9(8)" in venues and "Cognitive Science 14(2)" in venues
    assert all(r.short() for r in d.references())


def test_references_card_and_description_are_one_list():
    refs = d.references()
    assert all(isinstance(r, Reference) for r in refs)
    assert refs == COURSE.lecture("01").references
    assert [r.year for r in refs] == sorted(r.year for r in refs)  # oldest first
    assert len({(r.authors, r.year, r.title) for r in refs}) == len(refs)


def test_card_lines_give_the_arxiv_id_else_the_venue():
    """What the references card prints: the arXiv id when there is one, the journal otherwise."""
    for r in d.references():
        line = r.short(venue=False)
        assert (f"arXiv:{r.arxiv}" in line) if r.arxiv else (r.venue in line)
        assert (r.venue not in line) if r.arxiv else ("arXiv" not in line)
