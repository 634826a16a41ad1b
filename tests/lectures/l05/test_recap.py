"""Lecture 5's references card: the manifest's list, the plan's papers."""
from __future__ import annotations

from scenes.course import COURSE
from scenes.kit import references as R
from scenes.l05_kv_cache import data as d


def test_references_are_the_manifests_and_cover_the_plans_card():
    refs = d.references()
    assert refs == tuple(COURSE.lecture("05").references) and refs is not d.references.__wrapped__()
    assert {R.VASWANI, R.SHAZEER_2019, R.POPE, R.KWON, R.YU, R.LEVIATHAN, R.CHEN_2023_SPECULATIVE, R.JIANG_2023,
            R.DAO_2023_DECODING} <= set(refs)
