"""L05.3 Implementation: the cache layout and post-RoPE keys against a rotation written out here, the masks
against the index formulas, the cached schedules against the full forward, the copy counts against closed
forms, the rolling buffer and sinks, and E5.5 (a wrong mask formula fails)."""
from __future__ import annotations

import math

import pytest
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import cache as E
from scenes.l05_kv_cache import data as d
from scenes.l05_kv_cache.data import implementation as im

from ._helpers import CFG, HD, lower_right, upper_left, with_clauses


def _rope_half(x: torch.Tensor, pos: int) -> torch.Tensor:
    """rotate_half RoPE of one head vector at one position, base 10⁴, written out (no attn_ref)."""
    h = x.shape[-1] // 2
    th = torch.tensor([10_000.0 ** (-2 * i / x.shape[-1]) for i in range(h)], dtype=torch.float64) * pos
    a, b = x[:h], x[h:]
    return torch.cat([a * th.cos() - b * th.sin(), b * th.cos() + a * th.sin()])


def test_cache_layout_and_keys_stored_after_rope():
    c = d.cache_layout()
    assert c.shape_per_layer == (1, CFG["n_kv_heads"], 8, HD) and c.static_shape == (1, CFG["n_kv_heads"], 32, HD)
    assert c.cache_positions == ((0, 1, 2, 3, 4), (5,), (6,), (7,)) and c.q_lens == (5, 1, 1, 1)
    assert c.stored_vs_rotated < 1e-12 and c.stored_vs_unrotated > 0.1
    assert c.dynamic_bytes == c.formula_bytes == 2 * 2 * 8 * HD * 8 and c.static_bytes == 2 * 2 * 32 * HD * 8
    # the cache's layer-0 keys = RMSNorm(embedding) · W_kᵀ, rotated at the absolute position (by hand)
    m, seq = d.model(), d.generation_trace().tokens_cache
    caches = m.new_caches(1)
    with torch.no_grad():
        m(torch.tensor([list(seq)]), caches=caches)
        e = m.embed.weight[list(seq)]
        h = e / torch.sqrt((e ** 2).mean(-1, keepdim=True) + 1e-6) * m.blocks[0].attn_norm.weight
        k = (h @ m.blocks[0].attn.k_proj.weight.T).view(len(seq), CFG["n_kv_heads"], HD)
    for p in range(len(seq)):
        for head in range(CFG["n_kv_heads"]):
            assert torch.allclose(caches[0].keys[0, head, p], _rope_half(k[p, head], p), atol=1e-12, rtol=0)


def test_masks_are_the_index_formulas_and_the_upper_left_run_is_wrong():
    m = d.masks()
    cases = {c.name: c for c in m.cases}
    assert [(c.n_q, c.n_k) for c in m.cases] == [(5, 5), (1, 6), (3, 7)]
    for c in m.cases:
        assert [list(r) for r in c.lower_right] == lower_right(c.n_q, c.n_k)
        assert [list(r) for r in c.upper_left] == upper_left(c.n_q, c.n_k)
    assert cases["decode"].lower_right_all_true and not cases["chunked prefill"].lower_right_all_true
    assert cases["prefill"].wrong_max_logit_diff < 1e-12          # square: both alignments agree
    assert cases["decode"].wrong_max_logit_diff > 0.1 and cases["chunked prefill"].wrong_max_logit_diff > 0.1
    assert m.documented_3x4_lower_right == ((True, True, False, False), (True, True, True, False), (True,) * 4)
    assert m.documented_3x4_upper_left == ((True, False, False, False), (True, True, False, False),
                                           (True, True, True, False))


def test_e5_5_holds_and_the_upper_left_formula_fails():
    assert EQUATIONS["causal_mask_lower_right"].check()
    wrong = Clause(E.M_idx[E.i0, E.j0], E.Iverson(E.sp.Le(E.j0, E.i0, evaluate=False)))
    with pytest.raises(EquationError):
        with_clauses("causal_mask_lower_right", wrong).check()


def test_cached_schedules_equal_the_full_forward():
    e = d.equivalence()
    assert e.schedules == ((5, 1, 1, 1), (4, 3, 1), (1,) * 8) and e.sequence == d.generation_trace().tokens_cache
    assert max(e.max_diff) < 1e-12 and all(len(p) == 8 and max(p) < 1e-12 for p in e.max_diff_per_position)
    assert e.upper_left_chunked_diff > 0.1


def test_static_vs_dynamic_copy_counts():
    s = d.static_vs_dynamic()
    row = 1 * CFG["n_kv_heads"] * HD
    assert s.row_elems == row and s.steps == im.COPY_STEPS == 16
    assert s.dynamic_copied == tuple(2 * (t + 1) * row for t in range(16))
    assert s.static_written == (2 * row,) * 16
    assert s.dynamic_total == row * 16 * 17 == 4352 and s.static_total == 2 * row * 16 == 512
    assert s.dynamic_buffer_moves == 16 and s.static_buffer_moves == 0
    assert s.static_nbytes == 2 * 16 * row * 4 and s.dynamic_nbytes == tuple(2 * (t + 1) * row * 4 for t in range(16))


def test_rolling_buffer_and_sinks():
    r = d.rolling_buffer()
    W, n = r.window, r.tokens
    for p, slots in enumerate(r.slots):
        want = [None] * W
        for q in range(p + 1):
            want[q % W] = q
        assert list(slots) == want
        assert r.held[p] == tuple(range(max(0, p + 1 - W), p + 1))
        sink = sorted(set(range(min(r.sink, p + 1))) | set(range(max(0, p + 1 - W), p + 1)))
        assert r.sink_held[p] == tuple(sink)
    assert r.slots_match_cache and r.sink_held[-1] == (0, 1, 6, 7, 8, 9)
    assert r.max_logit_diff < 1e-12 and r.sink_max_logit_diff < 1e-12
    full = 32 * 8 * 128 * 2 * 2 * 32768
    assert r.mistral_full_gib == full / 2 ** 30 == 4.0 and r.mistral_rolling_gib == 0.5 and r.mistral_ratio == 8
    assert r.mistral_tokens == 32768 and r.mistral_window == 4096
    assert r.mistral_rolling_gib / r.mistral_full_gib == r.mistral_window / r.mistral_tokens
    assert "8x" in r.cited_quote and "2310.06825" in r.cited_source and "2309.17453" in r.sink_source
    assert n == im.ROLL_TOKENS


def test_padded_cache_positions():
    p = d.padded_cache()
    assert p.lengths == (5, 3) and p.slots == (0, 1, 2, 3, 4) and p.next_slot == 5
    for row, (mask, pos) in enumerate(zip(p.mask, p.positions)):
        assert list(mask) == [t >= 5 - p.lengths[row] for t in range(5)]
        count = 0
        for t, real in enumerate(mask):
            count += real
            assert pos[t] == (count - 1 if real else 0)
    assert p.next_position == (5, 3)
    assert math.isclose(sum(p.positions[1]), 3)


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("CacheImplementation")


def test_one_topic_section_with_the_outline_title():
    from ._helpers import assert_one_topic_section
    assert_one_topic_section("l05_implementation.py", "L05.3")
