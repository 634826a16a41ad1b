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
