"""Lecture 3's references card: the manifest's list, the plan's papers."""
from __future__ import annotations

from scenes.course import COURSE
from scenes.kit import references as R
from scenes.l03_rope import data as d


def test_references_are_the_manifests_and_cover_the_plans_card():
    refs = d.references()
    assert refs == tuple(COURSE.lecture("03").references) and refs is not d.references.__wrapped__()
    assert {R.VASWANI, R.SHAW, R.RAFFEL, R.SU, R.PRESS, R.HAVIV, R.KAZEMNEJAD, R.CHEN_2023_PI, R.PENG, R.ROZIERE,
            R.LLAMA, R.DING} <= set(refs)


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("Recap")


def test_reference_pages_list_every_reference_once_with_one_sentence_each():
    from scenes.kit.recap_scene import page_bounds
    from scenes.l03_rope.l03_recap import Recap
    bounds = page_bounds(len(d.references()), Recap.PAGES)
    assert [i for a, b in bounds for i in range(a, b)] == list(range(len(d.references())))
    assert len(Recap.REFERENCE_SPEECH) == len(bounds)
