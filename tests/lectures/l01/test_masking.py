"""L01.9 Masking: causal masks, a ragged batch with a key-padding mask and the zoom on its shortest sentence,
upper-left vs lower-right alignment when decoding with a cache, and the scene's dry run."""
from __future__ import annotations

import torch

import attn_ref as ar
from scenes.l01_fundamentals import data as d

from ._helpers import T, assert_one_topic_section, assert_rows_sum_to_one_shown, assert_scene_constructs, batched

FILE, SCENE, TOPIC = "l01_masking.py", "Masking", "L01.9"


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs(SCENE)


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section(FILE, TOPIC)


# ------------------------------------------------------------------------------------------ data


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
    assert_rows_sum_to_one_shown(c.weights_shown)
    w = d.worked_example()
    sdpa = torch.nn.functional.scaled_dot_product_attention
    ref = sdpa(batched(w.q), batched(w.k), batched(w.v), is_causal=True)[0, 0]
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
        assert_rows_sum_to_one_shown(pm.weights_shown[b])
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


def test_padding_view_matches_attn_ref():
    pm, pv = d.padding_masking(), d.padding_view()
    assert pv.index == min(range(len(pm.lengths)), key=lambda i: pm.lengths[i])  # the shortest sentence
    assert pv.tokens == pm.padded[pv.index] and pv.n_real == pm.lengths[pv.index]
    assert all(t == d.PAD for t in pv.tokens[pv.n_real:]) and d.PAD not in pv.tokens[:pv.n_real]
    n = len(pv.tokens)
    mask = torch.tensor(pv.mask)
    assert mask.shape == (n, n)
    assert torch.equal(mask, ar.padding_mask([pv.n_real], n)[0].expand(n, n))  # True = real key

    # recomputed from scratch: the sentence through W_Q, W_K, W_V, one sdpa call with and without the mask
    q, k, v = (x[None, None] for x in d.project(pv.tokens))
    _, p_masked = ar.sdpa(q, k, v, attn_mask=mask, return_weights=True)
    _, p_raw = ar.sdpa(q, k, v, return_weights=True)
    torch.testing.assert_close(d.as_tensor(pv.weights_masked), p_masked[0, 0], rtol=0, atol=1e-12)
    torch.testing.assert_close(d.as_tensor(pv.weights_unmasked), p_raw[0, 0], rtol=0, atol=1e-12)

    # pad keys get exactly zero with the mask; without it they take real weight
    assert (p_masked[0, 0, :, pv.n_real:] == 0).all()
    assert all(x == 0.0 for x in pv.pad_mass_masked)
    torch.testing.assert_close(d.as_tensor(pv.pad_leak), p_raw[0, 0, :, pv.n_real:].sum(-1), rtol=0, atol=1e-12)
    # the narration: the real query that wastes most gives "more than half" of its attention to padding
    assert max(pv.pad_leak[:pv.n_real]) > 0.5

    # shown weights: two decimals, each row adds up to 1.00, and equal to what the kit grid would print
    pairs = ((pv.weights_masked_shown, pv.weights_masked), (pv.weights_unmasked_shown, pv.weights_unmasked))
    for shown, exact in pairs:
        s = d.as_tensor(shown)
        torch.testing.assert_close(s.sum(-1), torch.ones(n, dtype=torch.float64), rtol=0, atol=1e-12)
        torch.testing.assert_close(s, ar.round_to_sum(d.as_tensor(exact)), rtol=0, atol=0)


def test_numbers_the_scene_speaks():
    """Facts the narration states in words (not as numbers) hold for the data."""
    a = d.alignment_demo()
    assert a.max_diff_lower_right < 1e-12 < 0.1 < a.max_diff_upper_left  # lower-right exact, upper-left off
    c = d.causal_masking()
    assert c.weights_shown[0][0] == 1.0  # "the first token can only see itself"
