"""L05.5 Pitfalls: each wrong version differs from the right one and the right one equals the reference run
(a full forward or an unpadded run), checked here without the builders' helpers where it matters; E5.6."""
from __future__ import annotations

import pytest
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import cache as E
from scenes.l05_kv_cache import data as d
from scenes.l05_kv_cache.data import pitfalls as pf

from ._helpers import HD, torch_attention, with_clauses


def test_decode_and_chunked_masks():
    m = d.decode_mask()
    assert m.wrong_row == (1.0,) + (0.0,) * 5 and m.wrong_keys_seen == 1 and m.decode_n_k == 6
    assert sum(m.right_row) == pytest.approx(1, abs=1e-12) and min(m.right_row) > 0
    assert m.decode_logit_diff > 0.1 and m.decode_right_diff < 1e-12
    assert m.chunk == (3, 7) and min(m.chunk_logit_diff) > 0.01 and m.chunk_right_diff < 1e-12
    assert m.issues == ("pytorch/pytorch#103082", "pytorch/pytorch#144858")
    # the same bug in torch itself: is_causal=True with one query against 6 keys sees key 0 only
    g = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(1, 1, 1, HD, generator=g), torch.randn(1, 1, 6, HD, generator=g), torch.randn(1, 1, 6, 3)
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(out[0, 0, 0], v[0, 0, 0], atol=1e-6)


def test_padding_positions():
    p = d.padding_positions()
    assert p.mask_positions == ((0, 1, 2, 3, 4), (0, 0, 0, 1, 2))
    assert p.decode_positions_right == ((5, 3), (6, 4), (7, 5)) and p.decode_positions_mixed == ((5, 5), (6, 6), (7, 7))
    assert p.right == p.alone and p.right_logit_diff < 1e-12
    assert p.shared_logit_diff < 1e-12          # a constant shift: RoPE scores depend on differences only
    assert p.mixed_logit_diff > 1e-2            # the short row jumps by its two pads at the first decode step
    assert p.mixed_tokens_differ == (p.mixed != p.alone)
    assert p.issues == ("unslothai/unsloth#3795", "huggingface/transformers#18104")


def test_e5_6_holds_and_a_shifted_count_fails():
    assert EQUATIONS["padded_positions"].check()
    wrong = Clause(E.Idx2("p", E.b_idx, E.t0), E.sp.Sum(E.Idx2("m", E.b_idx, E.tp), (E.tp, 0, E.t0)))   # no − 1
    with pytest.raises(EquationError):
        with_clauses("padded_positions", wrong).check()


def test_window_off_by_one():
    w = d.window_off_by_one()
    assert w.window == 3 and w.right_keys == tuple(min(p + 1, 3) for p in range(8))
    assert w.wrong_keys == tuple(min(p + 1, 4) for p in range(8)) and w.logit_diff > 0.01
    assert w.flash_attn_window_size == (2, 0) and w.issue == "huggingface/transformers#29623"


def test_static_length_heuristic():
    s = d.static_length()
    assert (s.written, s.true_length, s.heuristic_length, s.overwritten_position) == (5, 5, 4, 4)
    assert s.zero_row_position == 2 and s.issue == "huggingface/transformers#30377"


def test_precision():
    p = d.precision()
    assert p.dtypes == ("float64", "float32", "bfloat16")
    f64, f32, bf16 = p.max_logit_diff
    assert f64 < 1e-14 and 0 < f32 < 1e-5 and f32 > 100 * f64
    assert p.tokens_equal[0] and p.float64_tokens == d.generation_trace().tokens_cache
    assert p.eps == (2.0 ** -52, 2.0 ** -23, 2.0 ** -7)
    assert bf16 < 0.1          # measured 0 here: bf16 rounding hides the reordering at this size


def test_dropout_in_eval_mode():
    r = d.dropout()
    assert not r.module_training and r.dropout_p == pf.DROPOUT_P
    assert r.wrong_call_diff > 0.01 and r.right_call_diff == 0 and r.right_vs_reference < 1e-12
    g = torch.Generator().manual_seed(55)
    q = torch.randn(1, 2, 4, 8, generator=g, dtype=torch.float64)
    assert not torch.equal(torch.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.5),
                           torch_attention(q, q, q))


def test_stale_cache():
    s = d.stale_cache()
    assert s.stale_cache_len == 5 and s.second_prompt == pf.SECOND_PROMPT
    assert s.stale_logit_diff > 0.01 and s.reset_logit_diff < 1e-12
    m = d.model()
    with torch.no_grad():
        fresh = m(torch.tensor([list(s.second_prompt)]))[0, -1]
    assert s.fresh_next == int(fresh.argmax())


def test_position_off_by_one():
    p = d.position_off_by_one()
    assert p.right_position == 5 and p.offsets == (-1, 0, 1)
    assert p.logit_diff[1] < 1e-12 and p.logit_diff[0] > 1e-3 and p.logit_diff[2] > 1e-3
    assert len(p.greedy_changed) == 3 and not p.greedy_changed[1]


def test_static_overflow():
    s = d.static_overflow()
    assert s.max_len == 8 and s.held == 8 and s.dynamic_len_after == 9
    assert s.error == "static cache is full: max_len=8, holds 8 tokens, got 1 more (would need 9)"
    assert "must be <= max_len=32, got 5 + 32" in s.generate_error


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("CachePitfalls")


def test_one_topic_section_with_the_outline_title():
    from ._helpers import assert_one_topic_section
    assert_one_topic_section("l05_pitfalls.py", "L05.5")
