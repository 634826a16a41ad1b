"""Lecture 2's references card: the manifest's list, the plan's papers."""
from __future__ import annotations

from scenes.course import COURSE
from scenes.kit import references as R
from scenes.l02_multihead import data as d


def test_references_are_the_manifests_and_cover_the_plans_card():
    refs = d.references()
    assert refs == tuple(COURSE.lecture("02").references) and refs is not d.references.__wrapped__()
    assert {R.VASWANI, R.VOITA, R.MICHEL, R.CLARK, R.ELHAGE, R.OLSSON, R.BHOJANAPALLI, R.SHOEYBI, R.JAIN} <= set(refs)


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("Recap")


def test_both_reference_pages_together_list_every_reference_once():
    """The recap splits the card in two pages: together they are the manifest's list, numbered on."""
    from scenes.kit.mobjects import ReferencesCard
    from scenes.l02_multihead.l02_recap import FIRST_PAGE
    refs = d.references()
    first = ReferencesCard(refs[:FIRST_PAGE])
    second = ReferencesCard(refs[FIRST_PAGE:], start=FIRST_PAGE + 1)
    assert first.citations + second.citations == list(refs)
    assert first.markers + second.markers == [f"[{k}]" for k in range(1, len(refs) + 1)]
