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


def test_each_reference_on_one_page_and_each_page_says_its_papers():
    """Every reference on exactly one page, and each page's sentence names the papers shown on that page."""
    from scenes.kit.recap_scene import page_bounds
    from scenes.l06_flash.l06_recap import Recap
    refs = d.references()
    bounds = page_bounds(len(refs), Recap.PAGES)
    assert [i for a, b in bounds for i in range(a, b)] == list(range(len(refs)))
    said = {R.DAO_2022: "FlashAttention,", R.DAO_2023_FLASH2: "FlashAttention 2", R.SHAH: "FlashAttention 3",
            R.MILAKOV: "online normalizer", R.RABE: "without quadratic memory", R.DONG: "FlexAttention",
            R.TILLET: "Triton"}
    assert len(Recap.REFERENCE_SPEECH) == len(bounds)
    for (a, b), speech in zip(bounds, Recap.REFERENCE_SPEECH):
        for ref in refs[a:b]:
            assert said[ref] in speech, (said[ref], speech)


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("Recap")
