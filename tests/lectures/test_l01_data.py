"""Lecture 1 data module: every builder checked against attn_ref, torch and closed forms."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

import attn_ref as ar
from scenes.l01_fundamentals import data as d
from scenes.l01_fundamentals.data_common import embed, shared

T = d.as_tensor


def _b(x):
    return T(x)[None, None]


def _assert_rows_sum_to_one_shown(rows):
    """Rounded rows have two decimals exactly and add up to 1.00."""
    r = T(rows)
    assert torch.allclose(r.sum(-1), torch.ones(r.shape[:-1], dtype=torch.float64), atol=1e-12, rtol=0)
    assert torch.allclose(r * 100, torch.round(r * 100), atol=1e-9, rtol=0)


def _is_immutable(x) -> bool:
    if dataclasses.is_dataclass(x):
        return all(_is_immutable(getattr(x, f.name)) for f in dataclasses.fields(x))
    if isinstance(x, tuple):
        return all(_is_immutable(v) for v in x)
    return isinstance(x, (int, float, str, bool, type(None)))


# ------------------------------------------------------------------------------------------ general


def test_every_builder_returns_frozen_plain_data():
    for fns in d.BUILDERS.values():
        for fn in fns:
            res = fn()
            items = res if isinstance(res, tuple) else (res,)
            for item in items:
                assert dataclasses.is_dataclass(item), fn.__name__
                with pytest.raises(dataclasses.FrozenInstanceError):
                    setattr(item, dataclasses.fields(item)[0].name, None)
                assert _is_immutable(item), fn.__name__


def test_builders_cover_every_l01_topic():
    assert {f"L01.{i}" for i in range(1, 10)} <= set(d.BUILDERS)


def test_deterministic_after_cache_clear():
    first = {fn.__name__: fn() for fns in d.BUILDERS.values() for fn in fns if fn is not d.gradient_vs_distance}
    d.cache_clear()
    again = {fn.__name__: fn() for fns in d.BUILDERS.values() for fn in fns if fn is not d.gradient_vs_distance}
    for name, value in first.items():
        assert value is not again[name]  # really recomputed
        assert repr(value) == repr(again[name]), name  # repr also compares NaN entries


def test_shared_inputs_are_two_decimal_and_consistent():
    s = shared()
    for m in (s.x, s.w_q, s.w_k, s.w_v):
        assert torch.allclose(m * 100, torch.round(m * 100), atol=1e-9, rtol=0)
    w, qkv, dp = d.worked_example(), d.qkv_projections(), d.dot_product_walkthrough()
    for field in ("x", "w_q", "w_k", "w_v", "q", "k", "v"):
        assert getattr(w, field) == getattr(qkv, field)
    assert dp.v == w.v and w.tokens == d.SENTENCE == qkv.tokens
    assert torch.equal(T(qkv.q), T(qkv.x) @ T(qkv.w_q))
    assert torch.equal(T(qkv.x), embed(d.SENTENCE))
    assert d.attention_patterns().heatmap == w.weights


def test_seed_is_the_first_instructive_one():
    seed = d.projection_seed()
    w = d.worked_example()
    assert w.seed == seed and d.instructive(T(w.weights))
    p = T(w.weights)
    assert not torch.allclose(p, torch.full_like(p, 0.2), atol=0.05)  # not uniform
    assert p.max() < 0.9  # not one-hot


# ------------------------------------------------------------------------------------------ L01.1–3


def test_history_and_references():
    h = d.history()
    assert [m.year for m in h] == sorted(m.year for m in h)
    by_name = {m.name: m for m in h}
    assert by_name["Elman RNN"].year == 1990 and by_name["LSTM"].year == 1997
    sources = {m.source for m in h}
    assert {"arXiv:1409.3215", "arXiv:1409.0473", "arXiv:1508.04025", "arXiv:1706.03762"} <= sources
    refs = {r.arxiv for r in d.references()}
    assert {"1409.0473", "1508.04025", "1706.03762", "1409.3215"} <= refs
    venues = " ".join(r.venue for r in d.references())
    assert "Neural Computation 9(8)" in venues and "Cognitive Science 14(2)" in venues
    assert all(r.citation for r in d.references())


def test_rnn_states_follow_the_elman_recurrence():
    r = d.rnn_states()
    assert len(r.states) == len(r.tokens) == len(d.SENTENCE) and all(len(h) == 4 for h in r.states)
    h = torch.zeros(4, dtype=torch.float64)
    for x, want in zip(T(r.inputs), T(r.states), strict=True):
        h = torch.tanh(T(r.w_ih) @ x + T(r.b_ih) + T(r.w_hh) @ h + T(r.b_hh))
        assert torch.allclose(h, want, atol=1e-12)


def test_bottleneck_vectors_have_equal_size():
    b = d.seq2seq_bottleneck()
    assert b.lengths[0] != b.lengths[1]
    assert len(b.final_states[0]) == len(b.final_states[1]) == b.state_size == 4
    assert b.input_numbers == tuple(n * 4 for n in b.lengths)
    assert b.final_states[0] == d.rnn_states().states[-1]
    assert all(s[-1] == f for s, f in zip(b.states, b.final_states, strict=True))


def test_bahdanau_alignment():
    a = d.bahdanau_alignment()
    h, s = T(a.encoder_states), T(a.decoder_state)
    e = torch.tanh(T(a.w) @ s + h @ T(a.u).T) @ T(a.v)
    assert torch.allclose(e, T(a.scores), atol=1e-12)
    assert torch.allclose(T(a.weights), torch.softmax(e, -1), atol=1e-12)
    assert math.isclose(sum(a.weights), 1.0, abs_tol=1e-12)
    _assert_rows_sum_to_one_shown([a.weights_shown])
    assert torch.allclose(T(a.context), T(a.weights) @ h, atol=1e-12)
    assert 0.3 < max(a.weights) < 0.9  # a visible but not one-hot alignment


def test_path_lengths():
    p = d.path_lengths()
    n = len(p.tokens)
    assert p.rnn[0][n - 1] == n - 1 and p.attention[0][n - 1] == 1
    assert all(p.attention[i][i] == 0 and p.rnn[i][i] == 0 for i in range(n))


def test_gradient_vs_distance_shapes_and_claims():
    g = d.gradient_vs_distance()
    assert g.distances == tuple(range(1, 33))
    for curve in (g.rnn, g.lstm, g.attention):
        assert len(curve) == 32 and all(v > 0 and math.isfinite(v) for v in curve)
    assert g.rnn[-1] < 1e-6 * g.rnn[0]  # the RNN's gradient vanishes with distance
    assert g.lstm[-1] < 1e-3 * g.lstm[0]  # the LSTM at init decays too
    assert max(g.attention) / min(g.attention) < 3  # attention: flat
    assert g.attention[-1] > 1e6 * g.rnn[-1]
    assert len(g.rnn_per_seed) == len(g.seeds)
    for geo, runs in ((g.rnn, g.rnn_per_seed), (g.lstm, g.lstm_per_seed), (g.attention, g.attention_per_seed)):
        assert torch.allclose(T(geo), T(runs).log().mean(0).exp(), rtol=1e-12, atol=0)


# ------------------------------------------------------------------------------------------ L01.4–5


def test_soft_dictionary():
    sd = d.soft_dictionary()
    assert sd.exact_weights == (1.0, 0.0, 0.0, 0.0) and sd.exact_value == 4.0 and sd.exact_miss
    scores = T(sd.key_vectors) @ T(sd.query_vector)
    assert torch.allclose(scores, T(sd.scores), atol=1e-12)
    assert torch.allclose(T(sd.weights), torch.softmax(scores, -1), atol=1e-12)
    assert math.isclose(sd.blended_value, float(T(sd.weights) @ T(sd.values)), abs_tol=1e-12)
    _assert_rows_sum_to_one_shown([sd.weights_shown])
    assert max(sd.weights) == sd.weights[sd.keys.index("cat")] < 0.95


def test_dot_product_walkthrough():
    dp = d.dot_product_walkthrough()
    assert dp.q_shape == (5, 4) and dp.kt_shape == (4, 5) and dp.scores_shape == (5, 5)
    assert math.isclose(sum(dp.products), dp.score, abs_tol=1e-12)
    assert dp.score == dp.scores[dp.query_index][dp.key_index]
    assert math.isclose(sum(dp.products_shown), dp.score_shown, abs_tol=1e-9)
    qkv = d.qkv_projections()
    assert torch.allclose(T(dp.scores), T(qkv.q) @ T(qkv.k).T, atol=1e-12)
    assert torch.allclose(T(dp.weighted_values).sum(0), T(dp.output_row), atol=1e-12)
    w = d.worked_example()
    assert dp.weights_row == w.weights[dp.query_index]
    assert torch.allclose(T(dp.output_row), T(w.output)[dp.query_index], atol=1e-12)
    assert dp.tokens[dp.query_index] == d.QUERY_TOKEN and dp.tokens[dp.key_index] == d.KEY_TOKEN


# -------------------------------------------------------------------------------------------- L01.6


def test_softmax_walkthrough_and_temperature():
    sw = d.softmax_walkthrough()
    assert math.isclose(sum(sw.exps), sw.total, rel_tol=1e-12)
    assert torch.allclose(T(sw.exps) / sw.total, T(sw.weights), atol=1e-12)
    assert torch.allclose(T(sw.weights), torch.softmax(T(sw.scores), -1), atol=1e-12)
    _assert_rows_sum_to_one_shown([sw.weights_shown])
    tr = d.temperature_rows()
    assert tr.temperatures == (0.5, 1.0, 2.0, 5.0) and tr.scores == sw.scores
    assert tr.weights[1] == sw.weights
    for t, row in zip(tr.temperatures, tr.weights, strict=True):
        assert torch.allclose(T(row), torch.softmax(T(tr.scores) / t, -1), atol=1e-12)
    _assert_rows_sum_to_one_shown(tr.weights_shown)
    assert list(tr.max_weight) == sorted(tr.max_weight, reverse=True)  # higher T, flatter
    assert list(tr.entropy) == sorted(tr.entropy)


def test_dot_product_variance():
    v = d.dot_product_variance()
    assert v.d_k == (4, 16, 64, 256, 1024) and v.samples == 20_000
    for dk, var, var_s in zip(v.d_k, v.measured, v.measured_scaled, strict=True):
        assert abs(var / dk - 1) < 0.05
        assert abs(var_s - 1) < 0.05
        assert math.isclose(var_s, var / dk, rel_tol=1e-9)


def test_saturation():
    s = d.saturation()
    assert list(s.max_weight_unscaled) == sorted(s.max_weight_unscaled)  # saturates as d_k grows
    assert s.max_weight_unscaled[-1] > 0.95
    assert list(s.jacobian_norm_unscaled) == sorted(s.jacobian_norm_unscaled, reverse=True)
    assert s.jacobian_norm_unscaled[-1] < 0.2 * s.jacobian_norm_scaled[-1]
    assert max(s.max_weight_scaled) - min(s.max_weight_scaled) < 0.05  # scaled: stable
    assert max(s.jacobian_norm_scaled) / min(s.jacobian_norm_scaled) < 1.1
    n = s.n_keys
    assert math.isclose(s.jacobian_norm_uniform, math.sqrt(n - 1) / n, rel_tol=1e-12)
    # the autograd Jacobian is diag(p) − p pᵀ
    x = torch.tensor([[0.3, -1.2, 2.0, 0.1, 0.0, 0.5, -0.4, 1.1]], dtype=torch.float64)
    p = torch.softmax(x, -1)[0]
    from scenes.l01_fundamentals.data_softmax import _jacobian_frobenius

    assert math.isclose(_jacobian_frobenius(x).item(), (torch.diag(p) - torch.outer(p, p)).norm().item(),
                        rel_tol=1e-12)


def test_stable_softmax():
    st = d.stable_softmax_demo()
    assert not any(math.isfinite(v) for v in st.naive_exps)
    assert all(math.isnan(v) for v in st.naive_weights)
    assert not math.isfinite(st.naive_total)
    assert all(v > st.overflow_threshold for v in st.scores)
    assert st.shifted == (-2.0, -1.0, 0.0)
    assert all(math.isfinite(v) for v in st.weights + st.weights_float32)
    ref = torch.softmax(torch.tensor(st.scores, dtype=torch.float64), -1)
    assert torch.allclose(T(st.weights), ref, atol=1e-15) and T(st.reference).equal(ref)
    assert torch.allclose(T(st.weights_float32), ref, atol=1e-6)
    assert torch.allclose(T(st.shifted_exps) / st.shifted_total, ref, atol=1e-15)
    _assert_rows_sum_to_one_shown([st.weights_shown])


# ------------------------------------------------------------------------------------------ L01.7–8


def test_worked_example_equals_one_sdpa_call():
    w = d.worked_example()
    assert w.code_ref == "attn_ref.core.sdpa"
    assert w.scale == 0.5 and torch.allclose(T(w.scaled), T(w.scores) * 0.5, atol=0)
    ref = ar.sdpa(_b(w.q), _b(w.k), _b(w.v))[0, 0]
    assert (T(w.output) - ref).abs().max() < 1e-12 and w.max_abs_diff < 1e-12
    assert torch.equal(T(w.sdpa_output), ref)
    torch_ref = torch.nn.functional.scaled_dot_product_attention(_b(w.q), _b(w.k), _b(w.v))[0, 0]
    assert torch.allclose(T(w.output), torch_ref, atol=1e-12)
    assert torch.allclose(T(w.weights).sum(-1), torch.ones(5, dtype=torch.float64), atol=1e-12)
    _assert_rows_sum_to_one_shown(w.weights_shown)
    assert (T(w.weights_shown) - T(w.weights)).abs().max() < 0.01


def test_attention_patterns():
    pt = d.attention_patterns()
    n = len(pt.tokens)
    assert len(pt.arcs) == n * n and [a[2] for a in pt.arcs] == sorted((a[2] for a in pt.arcs), reverse=True)
    by = {p.name: p for p in pt.canonical}
    assert list(by) == ["diagonal", "previous token", "first token", "broad"]
    for p in pt.canonical:
        _, ref = ar.sdpa(_b(p.q), _b(p.k), _b(p.q), scale=p.scale, return_weights=True)
        assert torch.allclose(T(p.weights), ref[0, 0], atol=1e-12)
        _assert_rows_sum_to_one_shown(p.weights_shown)
        assert p.description
    arg = {name: T(p.weights).argmax(-1).tolist() for name, p in by.items()}
    assert arg["diagonal"] == list(range(n))
    assert arg["previous token"][1:] == list(range(n - 1))
    assert arg["first token"] == [0] * n
    assert (T(by["broad"].weights) - 1 / n).abs().max() < 0.05
    for name in ("diagonal", "previous token", "first token"):
        assert T(by[name].weights).max(-1).values[1:].min() > 0.8  # sharp


# -------------------------------------------------------------------------------------------- L01.9


def test_causal_masking():
    c = d.causal_masking()
    n = len(c.tokens)
    mask = ar.causal_mask(n, n)
    assert T(c.mask).bool().equal(mask)
    masked, p = T(c.masked_scores), T(c.weights)
    assert torch.isneginf(masked).equal(~mask) and torch.isneginf(T(c.additive)).equal(~mask)
    assert (p[~mask] == 0).all() and (p[mask] > 0).all()  # exact zeros exactly where masked
    assert torch.equal(masked[mask], T(c.scaled)[mask])
    assert torch.allclose(p, torch.softmax(masked, -1), atol=1e-12)
    _assert_rows_sum_to_one_shown(c.weights_shown)
    ref = torch.nn.functional.scaled_dot_product_attention(
        _b(d.worked_example().q), _b(d.worked_example().k), _b(d.worked_example().v), is_causal=True)[0, 0]
    assert torch.allclose(T(c.output), ref, atol=1e-12)


def test_padding_masking():
    pm = d.padding_masking()
    assert len(pm.sentences) == 3 and len(set(pm.lengths)) == 3
    pad = T(pm.pad_mask).bool()
    assert pad.equal(ar.padding_mask(list(pm.lengths), 5))
    p = T(pm.weights)  # (3, 5, 5)
    assert p.shape == (3, 5, 5)
    key_pad = ~pad[:, None, :].expand_as(p)
    assert (p[key_pad] == 0).all() and (p[~key_pad] > 0).all()
    assert torch.allclose(p.sum(-1), torch.ones(3, 5, dtype=torch.float64), atol=1e-12)
    for b, n in enumerate(pm.lengths):
        assert pm.padded[b][n:] == ("<pad>",) * (5 - n)
        _assert_rows_sum_to_one_shown(pm.weights_shown[b])
    assert (T(pm.weights_unmasked)[key_pad] > 0).all()  # without the mask, pads take weight
    # the full sentence has no padding: the same weights as the worked example
    assert torch.allclose(p[0], T(d.worked_example().weights), atol=1e-12)


def test_alignment_demo():
    a = d.alignment_demo()
    assert (a.n_q, a.n_k) == (2, 5)
    assert T(a.upper_left).bool().equal(ar.causal_mask(2, 5, "upper_left"))
    assert T(a.lower_right).bool().equal(ar.causal_mask(2, 5, "lower_right"))
    assert a.visible_upper_left == (1, 2) and a.visible_lower_right == (4, 5)
    assert a.max_diff_lower_right < 1e-12 and a.max_diff_upper_left > 0.05
    assert torch.allclose(T(a.output_lower_right), T(a.output_full), atol=1e-12)
    assert (T(a.output_upper_left) - T(a.output_full)).abs().max() > 0.05
    assert torch.allclose(T(a.weights_lower_right), T(a.weights_full), atol=1e-12)
    assert T(a.weights_upper_left)[-1, 2:].eq(0).all()  # the last token misses 3 of 5 cached keys
    assert a.query_tokens == d.SENTENCE[-2:]
    assert torch.allclose(T(a.output_full), T(d.causal_masking().output)[-2:], atol=1e-12)
