"""SavedTensors: what FlashAttentionFunction keeps for its backward (Lecture 6's recomputation builder: Q, K, V, O
and one LSE per row, recorded with autograd's saved-tensor hooks), P (N × N) crossed out as not kept."""
from __future__ import annotations

import math

import pytest

from scenes.kit.format import grouped
from scenes.kit.mobjects import SavedTensors
from scenes.kit.mobjects.layout import find_overlaps
from scenes.kit.mobjects.saved_tensors import display_shape, grid_shape
from scenes.kit.theme import COLORS
from scenes.l06_flash import data

UNIT = 0.12


def _strip(**kw):
    r = data.recomputation()
    colors = (COLORS.Q, COLORS.K, COLORS.V, COLORS.OUTPUT, COLORS.SCORE)
    kept = list(zip(("Q", "K", "V", "O", "LSE"), r.saved_shapes, colors))
    st = SavedTensors(kept, dropped=[("P", (r.n, r.n), COLORS.WEIGHT)], unit=UNIT,
                      kept_caption=f"kept: {grouped(r.saved_elems)} elements", **kw)
    return r, st


def test_boxes_are_sized_by_the_element_counts_autograd_recorded():
    r, st = _strip()
    assert st.kept_elements == r.saved_elems == 272 and st.dropped_elements == r.n * r.n
    assert [it.name.original_text for it in st.kept] == ["Q", "K", "V", "O", "LSE"]
    for it, shape in zip(st.kept, r.saved_shapes):
        assert it.elements == math.prod(shape)
        assert it.box.width * it.box.height == pytest.approx(it.elements * UNIT ** 2)
    assert st.box("Q").height == pytest.approx(r.n * UNIT) and st.box("Q").width == pytest.approx(4 * UNIT)
    assert st.box("LSE").width == pytest.approx(UNIT) and st.box("LSE").height == pytest.approx(r.n * UNIT)
    assert st.box("P").width == pytest.approx(r.n * UNIT)
    assert [it.shape_label.original_text for it in st.kept] == ["16 × 4"] * 4 + ["16"]
    assert st.kept_caption[0].original_text == f"kept: {grouped(r.saved_elems)} elements"


def test_p_is_crossed_out_after_the_kept_tensors_and_nothing_overlaps():
    _, st = _strip()
    p = st.item("P")
    assert p.is_dropped and p.tag.original_text == "not kept" and len(p.cross) == 2
    assert p.cross.get_center() == pytest.approx(p.box.get_center())
    assert all(a.get_right()[0] < b.get_left()[0] for a, b in zip(st.kept, st.kept[1:]))
    assert st.kept.get_right()[0] < st.dropped.get_left()[0]
    tops = [it.box.get_top()[1] for it in (*st.kept, *st.dropped)]
    assert max(tops) - min(tops) < 1e-6                                  # boxes share a top edge
    texts = [m for it in (*st.kept, *st.dropped) for m in (it.name, it.shape_label)] + [p.tag, st.kept_caption]
    assert not find_overlaps(texts)
    assert st.kept_caption.get_top()[1] < min(it.get_bottom()[1] for it in st.kept)
    frame = st.highlight("LSE")
    assert frame.width > st.item("LSE").width and frame.get_center() == pytest.approx(st.item("LSE").get_center())


def test_shapes_and_bad_input():
    assert grid_shape((16,)) == (16, 1) and grid_shape((2, 16, 4)) == (32, 4) and grid_shape((1, 1, 16)) == (16, 1)
    assert display_shape((1, 1, 16, 4)) == (16, 4) and display_shape((1,)) == (1,)
    with pytest.raises(ValueError):
        grid_shape((16, 0))
    with pytest.raises(ValueError):
        SavedTensors([])
    with pytest.raises(ValueError):
        SavedTensors([("Q", (4, 4), COLORS.Q)], dropped=[("Q", (4, 4), COLORS.Q)])
    with pytest.raises(ValueError):
        SavedTensors([("Q", (4, 4), COLORS.Q)]).reveal_dropped()
