"""Lecture 6's references card: the manifest's list, the plan's papers."""
from __future__ import annotations

from scenes.course import COURSE
from scenes.kit import references as R
from scenes.l06_flash import data as d


def test_references_are_the_manifests_and_cover_the_plans_card():
    refs = d.references()
    assert refs == tuple(COURSE.lecture("06").references) and refs is not d.references.__wrapped__()
    assert refs == (R.DAO_2022, R.DAO_2023_FLASH2, R.SHAH, R.MILAKOV, R.RABE, R.DONG, R.TILLET)
    assert [r.arxiv for r in refs[:6]] == ["2205.14135", "2307.08691", "2407.08608", "1805.02867", "2112.05682",
                                           "2412.05496"]
    assert refs[6].venue == "MAPL '19" and refs[6].arxiv is None
