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
