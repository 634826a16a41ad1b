"""L05.6 Performance: every measured number against the result files read with json, the bandwidth floor
recomputed, the token bound from the configs' numbers, split-K against torch's SDPA and a plain log-sum-exp;
E5.7 and E5.8 (wrong versions fail)."""
from __future__ import annotations

import pytest
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import cache as E
from scenes.l05_kv_cache import data as d
from scenes.l05_kv_cache.data import _shared as sh
from scenes.l05_kv_cache.data import performance as pf

from ._helpers import assert_one_topic_section, assert_scene_constructs, logsumexp, raw_bench, with_clauses

GPU = raw_bench("gpu-nvidia-h200.json")
CPU = raw_bench("cpu-amd-epyc.json")


def test_decode_bandwidth_is_the_file():
    b = d.decode_bandwidth()
    assert b.available and b.device == "NVIDIA H200" and b.peak_gb_per_s == 4800.0 and (b.batch, b.heads) == (8, 32)
    recs = [r for r in GPU["records"] if r["suite"] == "decode" and r["method"] != "cache_sizes"]
    assert [s.variant for s in b.series] == ["MHA", "GQA-8", "MQA", "MLA"]
    for s in b.series:
        rows = sorted((r for r in recs if r["method"] == s.variant), key=lambda r: r["context"])
        assert s.contexts == (1024, 4096, 16384, 65536) == tuple(r["context"] for r in rows)
        for k, r in enumerate(rows):
            assert (s.time_ms[k], s.tokens_per_s[k], s.gb_per_s[k], s.share_of_peak[k], s.cache_bytes[k]) == (
                r["time_ms"], r["tokens_per_s"], r["gb_per_s"], r["share_of_peak_bw"], r["cache_bytes_read"])
            floor_ms = r["cache_bytes_read"] / 4.8e12 * 1e3
            assert s.bound_ms[k] == pytest.approx(floor_ms, rel=1e-12)
            assert s.bound_over_time[k] == pytest.approx(r["share_of_peak_bw"], rel=1e-9) and s.bound_over_time[k] < 1
    mha = b.series[0]
    assert mha.share_of_peak[-1] > 0.95 and mha.time_ms[-1] > 40 * mha.time_ms[0]
    assert "NVIDIA H200" in b.source and "decode rerun at attn_ref 3bf7f27b" in b.source and "tokens/s" in b.note


def test_generation_speed_is_the_files_and_says_there_is_no_sweep():
    g = d.generation_speed()
    for row, raw in zip(g.rows, (GPU, CPU)):
        gen = {r["method"]: r for r in raw["records"] if r["suite"] == "generation"}
        assert row.cache_tokens_per_s == gen["kv_cache"]["tokens_per_s"]
        assert row.recompute_tokens_per_s == gen["recompute"]["tokens_per_s"]
        assert row.speedup == pytest.approx(gen["kv_cache"]["tokens_per_s"] / gen["recompute"]["tokens_per_s"])
        assert (row.prompt, row.new_tokens) == (64, gen["kv_cache"]["new_tokens"])
    assert [r.file for r in g.rows] == ["gpu-nvidia-h200.json", "cpu-amd-epyc.json"]
    assert g.rows[0].speedup == pytest.approx(1.105, abs=1e-3) and g.rows[1].speedup == pytest.approx(2.628, abs=1e-3)
    assert not g.sweep_available and "one generated length" in g.sweep_reason


def test_bytes_per_token_file_equals_formula():
    b = d.bytes_per_token()
    assert b.available and b.reason == ""
    assert b.variants == ("MHA", "GQA-8", "MQA", "MLA") and b.kv_heads == (32, 8, 1, 1)
    assert b.measured_bytes == b.computed_bytes == (2 * 32 * 128 * 2, 2 * 8 * 128 * 2, 2 * 1 * 128 * 2, 576 * 2)


def test_token_bound_llama2_7b():
    t = d.token_bound()
    w = 2 * 6_738_415_616
    assert t.weight_bytes == w and t.contexts == (4096, 32768, 131072)
    assert t.kv_bytes == tuple(524_288 * n for n in t.contexts)
    for bw, row, tps in zip((3.35e12, 4.8e12), t.bound_ms, t.max_tokens_per_s):
        for n_kv, ms, rate in zip(t.kv_bytes, row, tps):
            assert ms == pytest.approx((w + n_kv) / bw * 1e3, rel=1e-12) and rate == pytest.approx(1e3 / ms)
    assert t.bound_ms[0][0] == pytest.approx(4.664, abs=1e-3) and t.beyond_context == (False, True, True)


def test_split_k_merge():
    s = d.split_k()
    assert (s.n_keys, s.head_dim, len(s.splits)) == (16, 8, 4)
    assert [sp.cols for sp in s.splits] == [(0, 4), (4, 8), (8, 12), (12, 16)]
    for sp in s.splits:
        assert sp.lse == pytest.approx(logsumexp(s.scores[sp.cols[0]:sp.cols[1]]), abs=1e-12)
    assert s.lse == pytest.approx(logsumexp(s.scores), abs=1e-12)
    assert sum(sp.weight for sp in s.splits) == pytest.approx(1, abs=1e-12) and s.weights_sum == pytest.approx(1)
    merged = [sum(sp.weight * sp.out[c] for sp in s.splits) for c in range(8)]
    assert merged == pytest.approx(list(s.merged), abs=1e-12) and s.max_diff < 1e-12
    g = d.as_tensor(s.full)
    assert torch.allclose(g, d.as_tensor(s.merged), atol=1e-12)


def test_split_k_timings_are_the_file():
    s = d.split_k()
    recs = [r for r in GPU["records"] if r["suite"] == "splitk"]
    assert s.measured_available and s.measured_reason == "" and s.measured_contexts == (16384, 65536, 262144)
    for method, times in s.measured:
        assert times == tuple(next(r["time_ms"] for r in recs if r["method"] == method and r["context"] == c)
                              for c in s.measured_contexts)
    by = dict(s.measured)
    assert by["flash_decoding[128 splits]"][0] > by["flash_decoding[1 splits]"][0]   # sequential splits here
    assert "one after another" in s.measured_note and "splitk rerun at attn_ref b3ff0484" in s.source


def test_e5_7_and_e5_8_hold_and_wrong_versions_fail():
    assert EQUATIONS["split_lse_merge"].check() and EQUATIONS["decode_token_bound"].check()
    lse_cl, _ = EQUATIONS["split_lse_merge"].clauses
    unscaled = Clause(E.O_sym, E.sp.Sum(E.O_s[E.s_idx], (E.s_idx, 1, E.S)) / E.S)     # a plain mean of the splits
    with pytest.raises(EquationError):
        with_clauses("split_lse_merge", lse_cl, unscaled).check()
    weights_only = Clause(E.t_tok, E._frac(E.bytes_w, E.beta), r"\geq")
    with pytest.raises(EquationError):
        with_clauses("decode_token_bound", weights_only).check()


def test_cited_figures():
    c = d.cited()
    assert "8x" in c.flash_decoding_generation and "50x" in c.flash_decoding_attention
    assert "16 query heads, 2 KV heads" in c.flash_decoding_setup and "PyTorch blog" in c.flash_decoding_source
    assert "2–4×" in c.paged_attention and "2309.06180" in c.paged_attention_source
    assert c.rasbt_tokens_per_s == (27.0, 110.0) and round(c.rasbt_ratio, 2) == 4.07 and "Mac Mini M4" in c.rasbt_setup
    assert "03_kv-cache" in c.rasbt_source
    gen, att = c.flash_decoding_factors                # the numbers the scene speaks are the quoted ones
    assert f"{gen:.0f}x" in c.flash_decoding_generation and f"{att:.0f}x" in c.flash_decoding_attention
    lo, hi = c.paged_attention_factors
    assert f"{lo:.0f}–{hi:.0f}×" in c.paged_attention


def test_module_constants():
    assert pf.VARIANTS == ("MHA", "GQA-8", "MQA", "MLA") and pf.SPLITS == 4


def test_without_the_result_files_nothing_is_invented(tmp_path, monkeypatch):
    monkeypatch.setattr(sh, "RESULTS_DIR", tmp_path)
    b = pf.decode_bandwidth.__wrapped__()
    assert not b.available and "not committed" in b.reason and b.series == ()
    g = pf.generation_speed.__wrapped__()
    assert g.rows == () and not g.sweep_available and "no generation records" in g.sweep_reason
    t = pf.bytes_per_token.__wrapped__()
    assert not t.available and t.measured_bytes == () and "not committed" in t.reason
    s = pf.split_k.__wrapped__()
    assert not s.measured_available and s.measured == () and s.source == "" and s.max_diff < 1e-12


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("DecodePerformance")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l05_performance.py", "L05.6")
