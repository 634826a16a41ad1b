"""L05.1 Core caching concept: the two generations against a sampler written out here, the per-step rows against
a full forward without the cache, the work counters against closed forms and a hand count of the matmuls, and
E5.1 / E5.2 (a wrong formula fails)."""
from __future__ import annotations

import pytest
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import cache as E
from scenes.l05_kv_cache import data as d
from scenes.l05_kv_cache.data import _shared as sh

from ._helpers import CFG, HD, forward_flops, torch_attention, with_clauses


def _sample_by_hand() -> list[int]:
    """generate's sampler written out: full forward, softmax at T = 1, torch.multinomial with a seeded generator."""
    m, toks = d.model(), list(d.PROMPT)
    g = torch.Generator().manual_seed(d.GEN_SEED)
    for _ in range(d.NEW_TOKENS):
        with torch.no_grad():
            logits = m(torch.tensor([toks]))[0, -1]
        toks.append(int(torch.multinomial(torch.softmax(logits, -1)[None], 1, generator=g)[0, 0]))
    return toks


def test_both_generations_give_the_same_tokens():
    g = d.generation_trace()
    assert g.identical and g.tokens_cache == g.tokens_no_cache == tuple(_sample_by_hand())
    assert g.tokens_cache[:5] == d.PROMPT and len(g.tokens_cache) == 8
    assert g.cache_shape_per_layer == (1, CFG["n_kv_heads"], 7, HD) and g.queries_kept == 0
    assert "untrained" in g.caption


def test_each_step_rows_are_the_full_forwards():
    g = d.generation_trace()
    m = d.model()
    for s in g.steps:
        t = s.context_len
        assert t == 5 + s.step and s.cache_len == t and s.token == g.tokens_cache[t]
        assert s.max_weight_diff < 1e-12 and s.max_logit_diff < 1e-12
        ids = torch.tensor([list(g.tokens_cache[:t])])
        trace = []
        with torch.no_grad():
            m(ids, trace=trace)
        layer0 = next(x for x in trace if x.kind == "mha.forward")
        k, v, q = layer0["k"], layer0["v"], layer0["q"]
        assert torch.allclose(torch.tensor(s.new_k, dtype=torch.float64), k[0, 0, -1], atol=1e-12, rtol=0)
        assert torch.allclose(torch.tensor(s.new_v, dtype=torch.float64), v[0, 0, -1], atol=1e-12, rtol=0)
        # E5.2: the newest query against all t keys (no mask) with torch's SDPA weights = the cached row
        scores = (q[0, 0, -1] @ k[0, 0].T) / HD ** 0.5
        assert len(s.attention_row) == t and sum(s.attention_row) == pytest.approx(1, abs=1e-12)
        row = torch.tensor(s.attention_row, dtype=torch.float64)
        assert torch.allclose(row, torch.softmax(scores, -1), atol=1e-12, rtol=0)
        out = torch_attention(q[:, :1, -1:], k[:, :1], v[:, :1])
        assert torch.allclose(out[0, 0, 0], torch.softmax(scores, -1) @ v[0, 0], atol=1e-12)


def test_work_counters():
    g = d.generation_trace()
    L, H = CFG["n_layers"], CFG["n_heads"]
    for s in g.steps:
        t = s.context_len
        run = t if s.step == 0 else 1
        assert (s.tokens_run_no_cache, s.tokens_run_cache, s.kv_rows_no_cache, s.kv_rows_cache) == (t, run, t, run)
        assert s.score_cells_no_cache == sum(range(1, t + 1))
        assert s.score_cells_cache == (sum(range(1, t + 1)) if s.step == 0 else t)
        assert s.attention_flops_no_cache == L * H * 2 * HD * t * (t + 1)
        assert s.attention_flops_cache == (L * H * 2 * HD * t * (t + 1) if s.step == 0 else L * H * 4 * HD * t)
        # torch's FlopCounter over the whole step = every matmul counted by hand
        assert s.counted_flops_no_cache == forward_flops(t, t)
        assert s.counted_flops_cache == forward_flops(run, t)
    assert [s.attention_flops_no_cache for s in g.steps] == [3840, 5376, 7168]
    assert [s.attention_flops_cache for s in g.steps] == [3840, 1536, 1792]


def test_prefix_invariance_decoder_vs_encoder():
    p = d.prefix_invariance()
    assert p.prefix == d.PROMPT and p.appended == d.generation_trace().tokens_cache[5]
    assert max(p.decoder_k_diff + p.decoder_v_diff) < 1e-12
    assert p.encoder_k_diff[0] < 1e-12 and p.encoder_v_diff[0] < 1e-12      # layer 1 reads the embeddings only
    assert p.encoder_k_diff[1] > 1e-2 and p.encoder_v_diff[1] > 1e-2        # layer 2 has seen the new token
    k_long = sh.layer_kv((*d.PROMPT, p.appended))[-1][0]
    assert torch.equal(torch.tensor(p.old_k_rows, dtype=torch.float64), k_long[0, :5])


def test_e5_1_and_e5_2_hold_and_wrong_versions_fail():
    assert EQUATIONS["kv_prefix_invariance"].check() and EQUATIONS["decode_attention_row"].check()
    shifted = Clause(E.LayerRows("K", E.ell, 2, E.t, 2, E._add(E.t, 1)), E.LayerRows("K", E.ell, 2, E.t, 1, E.t))
    with pytest.raises(EquationError):
        with_clauses("kv_prefix_invariance", shifted).check()
    no_sqrt = Clause(E.o_t, E.sp.MatMul(E.Softmax(E.q_t * E.K_1t.T), E.V_1t))
    with pytest.raises(EquationError):
        with_clauses("decode_attention_row", no_sqrt).check()


def test_full_pattern_and_cache_contents():
    """weights_full: the t × t causal pattern of a forward without the cache (softmax of QKᵀ/√d_h, masked, by hand);
    its last row is the cached step's row. cache_k/cache_v: each layer's K/V over the 7 cached positions of one
    full forward, and row t is the K/V row the cache side appended at step t (layer 0)."""
    g = d.generation_trace()
    m = d.model()
    for s in g.steps:
        t = s.context_len
        trace = []
        with torch.no_grad():
            m(torch.tensor([list(g.tokens_cache[:t])]), trace=trace)
        layer0 = next(x for x in trace if x.kind == "mha.forward")
        q, k = layer0["q"][0, 0], layer0["k"][0, 0]
        scores = (q @ k.T) / HD ** 0.5
        scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        full = torch.tensor(s.weights_full, dtype=torch.float64)
        assert full.shape == (t, t) and torch.allclose(full, torch.softmax(scores, -1), atol=1e-12, rtol=0)
        assert torch.allclose(full[-1], torch.tensor(s.attention_row, dtype=torch.float64), atol=1e-12, rtol=0)
    n = len(g.tokens_cache) - 1
    kv = sh.layer_kv(g.tokens_cache[:n])
    for layer, (k, v) in enumerate(kv):
        assert torch.allclose(torch.tensor(g.cache_k[layer], dtype=torch.float64), k[0], atol=1e-12, rtol=0)
        assert torch.allclose(torch.tensor(g.cache_v[layer], dtype=torch.float64), v[0], atol=1e-12, rtol=0)
    for s in g.steps[1:]:
        assert g.cache_k[0][s.context_len - 1] == pytest.approx(s.new_k, abs=1e-12)
        assert g.cache_v[0][s.context_len - 1] == pytest.approx(s.new_v, abs=1e-12)


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("CachingConcept")


def test_one_topic_section_with_the_outline_title():
    from ._helpers import assert_one_topic_section
    assert_one_topic_section("l05_caching.py", "L05.1")
