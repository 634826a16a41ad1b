"""L04.6 Current approaches: the 2 × 2 map, every method says what it gives up, cited facts as the plan states."""
from __future__ import annotations

import attn_ref as ar
from scenes.l04_context import data as d


def test_approach_map():
    a = d.approach_map()
    cells = {(c.exactness, c.target): c for c in a.cells}
    assert set(cells) == {("exact", "compute"), ("exact", "memory"), ("approximate", "compute"),
                          ("approximate", "memory")}
    names = {m.name: m for c in a.cells for m in c.methods}
    assert {"FlashAttention-2/3", "GQA", "MLA", "KV quantisation", "interleaved local/global layers",
            "attention sinks + window (StreamingLLM)", "linear / SSM hybrids", "Ring Attention"} <= set(names)
    assert all(m.gives and m.gives_up for m in names.values())
    assert f"W = {ar.MISTRAL_7B.window}" in names["sliding window"].gives
    inter = names["interleaved local/global layers"]
    assert "1:1, W = 4096, global 8192" in inter.gives and "5:1, W = 1024" in inter.gives
    assert "2408.00118" in inter.source and "2503.19786" in inter.source
    assert "2309.17453" in names["attention sinks + window (StreamingLLM)"].source
    assert names["KV quantisation"].source == ""                       # no catalogue paper: no citation invented
    assert "not the quadratic FLOPs" in a.note


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("CurrentApproaches")


def test_one_topic_section_with_the_outline_title():
    from ._helpers import assert_one_topic_section
    assert_one_topic_section("l04_approaches.py", "L04.6")
