"""Lecture 4's references card: the manifest's list, the plan's papers."""
from __future__ import annotations

from scenes.course import COURSE
from scenes.kit import references as R
from scenes.l04_context import data as d


def test_references_are_the_manifests_and_cover_the_plans_card():
    refs = d.references()
    assert refs == tuple(COURSE.lecture("04").references) and refs is not d.references.__wrapped__()
    assert {R.VASWANI, R.KAPLAN, R.DEVLIN, R.BROWN, R.DAO_2022, R.CHEN_2023_PI, R.PENG, R.ROZIERE, R.JIANG_2023,
            R.XIAO, R.LIU_2023_RING, R.LIU_2023_LOST, R.HSIEH, R.GEMINI, R.LLAMA, R.GEMMA_2024,
            R.GEMMA_2025} <= set(refs)


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("Recap")


def test_each_reference_on_one_page_and_each_page_says_its_papers():
    """Every reference on exactly one page, and each page's sentence names the papers shown on that page."""
    from scenes.kit.recap_scene import page_bounds
    from scenes.l04_context.l04_recap import Recap
    refs = d.references()
    bounds = page_bounds(len(refs), Recap.PAGES)
    assert [i for a, b in bounds for i in range(a, b)] == list(range(len(refs)))
    said = {R.VASWANI: "Transformer", R.KAPLAN: "scaling laws", R.DEVLIN: "BERT", R.BROWN: "GPT-3",
            R.DAO_2022: "FlashAttention", R.CHEN_2023_PI: "position interpolation", R.PENG: "YaRN",
            R.ROZIERE: "Code Llama", R.JIANG_2023: "Mistral", R.XIAO: "StreamingLLM", R.LIU_2023_RING: "Ring",
            R.LIU_2023_LOST: "Lost in the Middle", R.HSIEH: "RULER", R.GEMINI: "Gemini", R.LLAMA: "Llama 3",
            R.GEMMA_2024: "Gemma", R.GEMMA_2025: "Gemma"}
    assert len(Recap.REFERENCE_SPEECH) == len(bounds)
    for (a, b), speech in zip(bounds, Recap.REFERENCE_SPEECH):
        for ref in refs[a:b]:
            assert said[ref] in speech, (said[ref], speech)
