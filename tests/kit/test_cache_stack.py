"""CacheStack: Lecture 5's KV cache (two layers, one KV head drawn, d_h = 8) built from the builder's cached K/V
rows, then grown by append as generation runs (L05.1); rows, labels, geometry, and a GQA-style two-head cache."""
from __future__ import annotations

import numpy as np
import pytest

from scenes.kit.mobjects import CacheStack
from scenes.kit.theme import COLORS
from scenes.l05_kv_cache import data


def _prefill():
    g = data.generation_trace()
    n = len(g.prompt)
    labels = [str(t) for t in g.prompt]
    return g, n, CacheStack([k[:n] for k in g.cache_k], [v[:n] for v in g.cache_v], labels, capacity=len(g.cache_k[0]))


def test_rows_labels_and_values_from_the_builder():
    g, n, cache = _prefill()
    assert cache.n_layers == g.n_layers == 2 and cache.n_rows == n
    assert [lab.original_text for lab in cache.row_labels[0]] == [str(t) for t in g.prompt] == cache.labels
    assert [t.original_text for t in cache.stack_titles[0]] == ["K", "V"]
    assert [t.original_text for t in cache.layer_titles] == ["layer 1", "layer 2"]
    assert np.array_equal(cache.values["K"][:, 0], np.array(g.cache_k)[:, :n])
    assert np.array_equal(cache.values["V"][:, 0], np.array(g.cache_v)[:, :n])
    assert len(cache.slots) == g.n_layers * 2 * len(g.cache_k[0])          # capacity 7 per stack, drawn empty
    for layer in range(2):
        for which in "KV":
            st = cache.stack(layer, which)
            assert len(st) == n and all(len(r) == g.head_dim for r in st)
    # a larger |value| is a more opaque cell, in its role colour
    row = cache.row(0, 0, "K")
    vals = np.abs(np.array(g.cache_k[0][0]))
    assert row[int(vals.argmax())].get_fill_opacity() > row[int(vals.argmin())].get_fill_opacity()
    assert row[0].get_fill_color().to_hex().upper() == COLORS.K.upper()


def test_geometry_rows_go_down_k_left_of_v_layers_stacked():
    _, n, cache = _prefill()
    k0, v0 = cache.stack(0, "K"), cache.stack(0, "V")
    for i in range(1, n):
        assert k0[i].get_y() == pytest.approx(k0[i - 1].get_y() - cache.row_height)
    assert k0.get_right()[0] < v0.get_left()[0]
    assert cache.stack_titles[0][0].get_bottom()[1] > k0.get_top()[1]
    # layer 2 starts below layer 1's reserved capacity (its empty slots), not just below its rows
    assert cache.stack_titles[1][0].get_top()[1] < k0.get_top()[1] - cache.capacity * cache.row_height
    for layer in range(2):
        for lab, r in zip(cache.row_labels[layer], cache.stack(layer, "K")):
            assert lab.get_right()[0] < r.get_left()[0] and lab.get_y() == pytest.approx(r.get_y(), abs=0.02)


def test_append_adds_one_row_per_stack_where_the_slot_is_even_after_moving():
    g, n, cache = _prefill()
    cache.scale(0.8).move_to([2.0, -1.0, 0])
    slot_of = {}
    per_stack = cache.capacity
    for s, slot in enumerate(cache.slots):
        slot_of[(s // per_stack, s % per_stack)] = slot          # (stack index over layers, row)
    anim = cache.append([k[n:n + 1] for k in g.cache_k], [v[n:n + 1] for v in g.cache_v], [str(g.tokens_cache[n])])
    assert anim is not None and cache.n_rows == n + 1
    assert cache.labels[-1] == str(g.tokens_cache[n]) and cache.row_labels[1][-1].original_text == cache.labels[-1]
    assert len(cache.highlight) == 4                              # one frame per stack (2 layers × K, V)
    for idx, st in enumerate(s for layer in cache.stacks for s in layer):
        assert len(st) == n + 1
        assert np.allclose(st[n].get_center(), slot_of[(idx, n)].get_center(), atol=1e-6)
        assert st[n].width == pytest.approx(slot_of[(idx, n)].width)
    assert np.array_equal(cache.values["K"][0, 0, n], np.array(g.steps[1].new_k))
    with pytest.raises(ValueError):
        cache.append([k[:2] for k in g.cache_k], [v[:2] for v in g.cache_v], ["a", "b"])   # past capacity 7


def test_several_kv_heads_draw_one_stack_per_head():
    g = data.generation_trace()
    k = np.array(g.cache_k)[:, None].repeat(2, axis=1)            # (layers, 2 heads, positions, d)
    cache = CacheStack(k, k, [str(t) for t in g.tokens_cache[:len(g.cache_k[0])]])
    assert [t.original_text for t in cache.stack_titles[0]] == ["K h0", "K h1", "V h0", "V h1"]
    assert cache.stack(0, "K", 1).get_left()[0] > cache.stack(0, "K", 0).get_right()[0]
