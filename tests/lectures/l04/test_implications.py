"""L04.7 Real-world implications: the 80 GB fill by hand, the presets' 128K caches by closed form, the decode
sweep against the benchmark file read with json, the prefill floor by hand."""
from __future__ import annotations

import pytest

import attn_ref as ar
from scenes.l04_context import data as d

from ._helpers import GIB, KV_PER_TOKEN, LAYERS, N_PARAMS, P_LAYER, raw_bench

GPU = raw_bench("gpu-nvidia-h200.json")


def test_memory_fill_by_hand():
    m = d.memory_fill()
    w = 2 * N_PARAMS
    assert m.weights_bytes == w and m.weights_gb == pytest.approx(13.48, abs=0.005) and m.memory_bytes == 80e9
    mha, gqa, mla = m.bars
    for bar, per in ((mha, KV_PER_TOKEN), (gqa, KV_PER_TOKEN // 4), (mla, LAYERS * 576 * 2)):
        budget = (80 * 10 ** 9 - w) // per
        assert bar.kv_bytes_per_token == per and bar.budget_tokens == budget
        assert bar.requests_4k == budget // 4096 and bar.requests_128k == budget // 131072
        assert bar.fits_one_128k == (budget >= 131072)
    assert mha.budget_tokens == 126_882 and mha.requests_4k == 30 and not mha.fits_one_128k and not mha.hypothetical
    assert gqa.budget_tokens == pytest.approx(4 * mha.budget_tokens, abs=4) and gqa.hypothetical
    assert mla.kv_bytes_per_token == 36_864 and mla.fits_one_128k
    assert (m.request_tokens, m.long_request_tokens) == (4096, 131072)


def test_preset_caches_closed_form():
    by = {p.name: p for p in d.preset_caches()}
    want = {"Llama-2-7B": (2 * 32 * 32 * 128 * 2, "MHA"), "Llama-2-70B": (2 * 80 * 8 * 128 * 2, "GQA-8"),
            "Llama-3-8B": (2 * 32 * 8 * 128 * 2, "GQA-8"), "Mistral-7B": (2 * 32 * 8 * 128 * 2, "GQA-8"),
            "DeepSeek LLM 67B": (2 * 95 * 8 * 128 * 2, "GQA-8"), "DeepSeek-V2": (60 * 576 * 2, "MLA")}
    assert set(by) == set(want)
    for name, (per, kind) in want.items():
        p = by[name]
        assert (p.kv_bytes_per_token, p.attention) == (per, kind)
        assert p.cache_gib_128k == per * 131072 / GIB and p.kib_per_token == per / 1024
    assert by["Llama-2-7B"].cache_gib_128k == 64 and by["DeepSeek-V2"].kib_per_token == 67.5
    assert by["Mistral-7B"].rolling_gib_128k == 4096 * 131072 / GIB == 0.5 and by["Llama-2-7B"].rolling_gib_128k is None


def test_decode_vs_context_is_the_file():
    dv = d.decode_vs_context()
    recs = [r for r in GPU["records"] if r["suite"] == "decode" and r["method"] != "cache_sizes"]
    assert dv.available and (dv.batch, dv.heads) == (8, 32)
    assert {s.method for s in dv.series} == {r["method"] for r in recs}
    for s in dv.series:
        pts = sorted((r for r in recs if r["method"] == s.method), key=lambda r: r["context"])
        assert s.contexts == tuple(r["context"] for r in pts) and s.time_ms == tuple(r["time_ms"] for r in pts)
        assert s.tokens_per_s == tuple(r["tokens_per_s"] for r in pts)
        assert s.floor_ms == pytest.approx([1e3 * r["cache_bytes_read"] / 4.8e12 for r in pts])
        assert all(t >= f for t, f in zip(s.time_ms, s.floor_ms))           # nothing beats the bandwidth floor
    mha = next(s for s in dv.series if s.method == "MHA")
    assert mha.contexts == (1024, 4096, 16384, 65536) and mha.share_of_peak[-1] > 0.9
    assert mha.slope == pytest.approx(1.0, abs=0.05)                       # linear in context once memory-bound
    for n, ms, tps, f, ai in zip(dv.model_floor_contexts, dv.model_floor_ms, dv.model_floor_tokens_per_s,
                                 dv.model_flops_per_token, dv.model_intensity):
        assert ms == pytest.approx(1e3 * (2 * N_PARAMS + 8 * KV_PER_TOKEN * n) / 4.8e12)
        assert tps == pytest.approx(8 / (ms / 1e3))
        assert f == 32 * (2 * P_LAYER + 4 * n * 4096)                       # one new token over n cached keys
        assert ai == pytest.approx(8 * f / (2 * N_PARAMS + 8 * KV_PER_TOKEN * n)) and ai < 10   # ≪ ridge 206
    assert "rerun at 3bf7f27b" in dv.source and "H200" in dv.source


def test_prefill_cost_by_hand():
    p = d.prefill_cost()
    for n, f, ms, share in zip(p.lengths, p.flops, p.ttft_floor_ms, p.attention_share):
        att = 4 * n * n * 4096 // 2                                          # causal, per layer
        assert f == 32 * (2 * n * P_LAYER + att) and share == pytest.approx(att / (2 * n * P_LAYER + att))
        assert ms == pytest.approx(1e3 * f / 989.4e12)
    assert p.growth_per_doubling == pytest.approx([b / a for a, b in zip(p.ttft_floor_ms, p.ttft_floor_ms[1:])])
    assert all(g > 2 for g in p.growth_per_doubling)                        # superlinear everywhere
    assert p.growth_per_doubling[0] < 2.05 < 3 < p.growth_per_doubling[-1]


def test_takeaways():
    t = {x.cost: x for x in d.takeaways()}
    assert set(t) == {"latency", "memory", "reliability"}
    assert "126,882" in t["memory"].figure and "2307.03172" in t["reliability"].source
    assert f"{d.prefill_cost().growth_per_doubling[-1]:.2f}×" in t["latency"].figure
    assert ar.kv_token_budget(80e9, 2 * N_PARAMS, KV_PER_TOKEN) == 126_882


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("RealWorldImplications")


def test_one_topic_section_with_the_outline_title():
    from ._helpers import assert_one_topic_section
    assert_one_topic_section("l04_implications.py", "L04.7")
