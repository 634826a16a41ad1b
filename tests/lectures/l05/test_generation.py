"""L05.4 Generation patterns: the roofline points against the FLOPs and bytes written out for Llama-2-7B, the
sampling bars against torch.softmax and a hand nucleus, the padded batch against a greedy loop without attn_ref's
generate, the block tables' invariants, speculative verification; E5.9 (a wrong nucleus fails)."""
from __future__ import annotations

import math

import pytest
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import cache as E
from scenes.l05_kv_cache import data as d
from scenes.l05_kv_cache.data import generation as gn

from ._helpers import assert_one_topic_section, assert_scene_constructs, lower_right, with_clauses

P_LAYER = 4 * 4096 ** 2 + 3 * 4096 * 11008     # Llama-2-7B: Q, K, V, O and the SwiGLU MLP
N_PARAMS = 6_738_415_616


def test_timeline_points_are_the_hand_counts():
    t = d.timeline()
    assert t.model == "Llama-2-7B" and t.device == "H100 SXM5 80GB" and t.ridge_point == pytest.approx(295.34, abs=0.01)
    assert (t.peak_tflops, t.bandwidth_tbs) == pytest.approx((989.4, 3.35), rel=1e-12)
    assert t.peak_tflops / t.bandwidth_tbs == pytest.approx(t.ridge_point, rel=1e-12)
    kv_token = 2 * 32 * 32 * 128 * 2
    for p in t.points:
        causal = p.n_q == p.n_k
        attn = 4 * p.n_q * p.n_k * 4096 // (2 if causal else 1)
        flops = 32 * (2 * p.n_q * P_LAYER + attn) + 2 * 4096 * 32000
        nbytes = 2 * N_PARAMS + kv_token * (p.n_k - p.n_q) + kv_token * p.n_q
        assert p.flops == flops and p.bytes == nbytes and p.intensity == pytest.approx(flops / nbytes, rel=1e-12)
        assert p.time_s == pytest.approx(max(flops / 989.4e12, nbytes / 3.35e12), rel=1e-12)
    pre, *dec = t.points
    assert (pre.label, pre.n_q, pre.bound) == ("prefill", 2048, "compute") and pre.intensity > 1000
    assert [p.n_k for p in dec] == [2049, 2050, 2051, 2052]
    assert all(p.bound == "memory" and p.n_q == 1 and 0.9 < p.intensity < 1.1 for p in dec)


def test_sampling_bars():
    s = d.sampling()
    z = torch.tensor(s.logits, dtype=torch.float64)
    assert len(z) == 10 and s.temperatures == (0.7, 1.0, 1.3)
    for temp, p in zip(s.temperatures, s.probs):
        assert torch.allclose(torch.tensor(p, dtype=torch.float64), torch.softmax(z / temp, -1), atol=1e-12)
    assert max(s.probs[0]) > max(s.probs[1]) > max(s.probs[2])                # lower T: sharper
    assert s.greedy == tuple(1.0 if i == int(z.argmax()) else 0.0 for i in range(10))
    top5 = sorted(range(10), key=lambda i: -s.logits[i])[:5]
    p1 = torch.softmax(z, -1)
    for i in range(10):
        want = float(p1[i] / p1[top5].sum()) if i in top5 else 0.0
        assert s.top_k_probs[i] == pytest.approx(want, abs=1e-12)
    assert s.top_k_threshold == sorted(s.logits)[-5]
    order = sorted(range(10), key=lambda i: -float(p1[i]))
    assert list(s.order) == order
    mass, kept = 0.0, 0
    while mass < 0.9:
        mass += float(p1[order[kept]])
        kept += 1
    assert s.top_p_kept == kept == 7 and s.top_p_mass == pytest.approx(mass, abs=1e-12) and mass >= 0.9
    for rank, i in enumerate(order):
        want = float(p1[i]) / mass if rank < kept else 0.0
        assert s.top_p_probs[i] == pytest.approx(want, abs=1e-12)
    assert "not a trained model" in s.caption


def test_e5_9_holds_and_a_wrong_nucleus_fails():
    assert EQUATIONS["top_p_nucleus"].check()
    from_two = Clause(E.k_star, E.MinSet(E.k_var, E.sp.Ge(E.sp.Sum(E.SortedP(E.r_var), (E.r_var, 2, E.k_var)),
                                                         E.p_top, evaluate=False)))
    with pytest.raises(EquationError):
        with_clauses("top_p_nucleus", from_two).check()


def _greedy_alone(prompt, new):
    m, toks = d.model(), list(prompt)
    for _ in range(new):
        with torch.no_grad():
            toks.append(int(m(torch.tensor([toks]))[0, -1].argmax()))
    return tuple(toks[len(prompt):])


def test_padded_batch_equals_each_prompt_alone():
    b = d.padded_batch()
    assert b.prompts == gn.PADDED_PROMPTS and b.equal and b.max_logit_diff < 1e-12
    assert b.alone_tokens == tuple(_greedy_alone(p, gn.PADDED_NEW) for p in b.prompts) == b.batched_tokens
    assert b.padded[1] == (0, 0, 9, 4, 30) and b.mask[1] == (False, False, True, True, True)
    assert b.positions == ((0, 1, 2, 3, 4), (0, 0, 0, 1, 2))


def test_paged_block_tables():
    p = d.paged_blocks()
    assert p.block == 4 and p.lengths == (7, 3, 10)
    all_blocks = [b for t in p.block_tables for b in t]
    assert sorted(all_blocks) == list(range(p.blocks_used)) == list(range(6))     # each block used once
    assert [len(t) for t in p.block_tables] == [math.ceil(n / 4) for n in p.lengths]
    assert p.waste_per_sequence == tuple(4 * math.ceil(n / 4) - n for n in p.lengths) and max(p.waste_per_sequence) < 4
    assert p.slots_used == 20 and p.slots_reserved == 24 and p.static_reserved == 3 * 32
    assert any(t != tuple(range(t[0], t[0] + len(t))) for t in p.block_tables)   # not contiguous
    assert len(p.order) == 20 and p.order[:3] == ((0, 0), (1, 0), (2, 0))
    assert p.gather_equal and p.max_attention_diff == 0.0
    assert "2309.06180" in p.cited and "OSDI" in p.orca


def test_speculative_verification():
    s = d.speculative()
    assert s.k == 4 and s.prompt == d.PROMPT and len(s.draft_tokens) == 4 and len(s.target_greedy) == 5
    assert s.verify_vs_sequential < 1e-12 and s.verify_upper_left_diff > 0.1
    assert [list(r) for r in s.verify_mask] == lower_right(4, 9)
    assert s.target_greedy[0] == _greedy_alone(d.PROMPT, 1)[0]
    acc = 0
    while acc < 4 and s.draft_tokens[acc] == s.target_greedy[acc]:
        acc += 1
    assert s.accepted == acc
    assert s.output_equals_target_generate and s.target_calls == len(s.accepted_per_call)
    assert sum(a + 1 for a in s.accepted_per_call) >= gn.SPEC_NEW > sum(a + 1 for a in s.accepted_per_call[:-1])
    assert "2211.17192" in s.cited


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("GenerationPatterns")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l05_generation.py", "L05.4")
