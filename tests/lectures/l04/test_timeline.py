"""L04.5 Path from 2K to 100K+: markers in order, preset numbers from the presets, sources on every marker."""
from __future__ import annotations

import attn_ref as ar
from scenes.l04_context import data as d


def test_timeline_markers():
    t = d.timeline()
    by = {m.name: m for m in t.markers}
    assert by["BERT"].context == 512 and "1810.04805" in by["BERT"].source
    assert by["GPT-2"].context == ar.GPT2_SMALL.context == 1024 and by["GPT-2"].from_preset
    assert by["GPT-3"].context == 2048 and "2005.14165" in by["GPT-3"].source and "sparse" in by["GPT-3"].technique
    assert by["Llama 2"].context == ar.LLAMA2_7B.context == 4096
    assert by["Position Interpolation"].context == 32768 and by["Code Llama"].context == 16384
    assert by["Code Llama (use)"].context == 100_000 and "10⁶" in by["Code Llama"].note
    assert by["Mistral 7B"].context == 8192 and "W = 4096" in by["Mistral 7B"].note
    assert by["YaRN"].context == by["Llama 3.1"].context == by["Gemma 3"].context == 131072
    assert by["Gemini 1.5"].context == 1_000_000 and by["Gemini 1.5"].verify and "[verify]" in by["Gemini 1.5"].note
    assert all(m.source for m in t.markers) and all(t.axis_min <= m.context <= t.axis_max for m in t.markers)
    lectures = {tech: lec for tech, lec, _ in t.techniques}
    assert lectures["exact IO-aware kernels (FlashAttention)"] == "L06" and "2402.10171" in t.techniques[5][2]
    assert "2310.01889" in t.techniques[6][2]


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("ContextTimeline")


def test_one_topic_section_with_the_outline_title():
    from ._helpers import assert_one_topic_section
    assert_one_topic_section("l04_timeline.py", "L04.5")
