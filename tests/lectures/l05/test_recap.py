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


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("Recap")


def test_each_reference_on_one_page_and_each_page_says_its_papers():
    """Every reference on exactly one page, and each page's sentence names the papers shown on that page."""
    from scenes.kit.recap_scene import page_bounds
    from scenes.l05_kv_cache.l05_recap import Recap
    refs = d.references()
    bounds = page_bounds(len(refs), Recap.PAGES)
    assert [i for a, b in bounds for i in range(a, b)] == list(range(len(refs)))
    said = {R.VASWANI: "Transformer", R.SHAZEER_2019: "multi-query", R.POPE: "scaling transformer inference",
            R.KWON: "PagedAttention", R.YU: "Orca", R.LEVIATHAN: "speculative decoding",
            R.CHEN_2023_SPECULATIVE: "speculative sampling", R.JIANG_2023: "Mistral",
            R.DAO_2023_DECODING: "Flash-Decoding"}
    assert len(Recap.REFERENCE_SPEECH) == len(bounds)
    for (a, b), speech in zip(bounds, Recap.REFERENCE_SPEECH):
        for ref in refs[a:b]:
            assert said[ref] in speech, (said[ref], speech)
