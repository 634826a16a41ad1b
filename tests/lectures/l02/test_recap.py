"""Lecture 2's references card: the manifest's list, the plan's papers."""
from __future__ import annotations

from scenes.course import COURSE
from scenes.kit import references as R
from scenes.l02_multihead import data as d


def test_references_are_the_manifests_and_cover_the_plans_card():
    refs = d.references()
    assert refs == tuple(COURSE.lecture("02").references) and refs is not d.references.__wrapped__()
    assert {R.VASWANI, R.VOITA, R.MICHEL, R.CLARK, R.ELHAGE, R.OLSSON, R.BHOJANAPALLI, R.SHOEYBI, R.JAIN} <= set(refs)
