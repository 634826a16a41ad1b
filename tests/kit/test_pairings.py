"""ChannelRow: a vector's channels as cells, pair links between the channels of each RoPE pair, and the lines
of a permutation — built from the L03.3 pairings builder."""
from __future__ import annotations

import numpy as np
import pytest
from manim import DOWN, UP

from scenes.kit.format import shown, subscript
from scenes.kit.mobjects import ChannelRow
from scenes.l03_rope import data


def _row(names_side=UP):
    p = data.pairings()
    return p, ChannelRow(p.x, names=[subscript("x", i) for i in range(p.head_dim)], names_side=names_side)


def test_cells_hold_the_values_in_order():
    p, row = _row()
    assert len(row) == len(row.cells) == p.head_dim
    assert [e.original_text for e in row.entries] == [shown(v) for v in p.x]
    xs = [c.get_x() for c in row.cells]
    assert xs == sorted(xs) and np.allclose(np.diff(xs), row.cell_width)
    assert all(n.get_bottom()[1] > row.cells.get_top()[1] for n in row.names)   # names above


def test_pair_links_join_the_pairs_on_their_side():
    p, row = _row()
    half = row.pair_links(p.half_pairs, side=UP)
    inter = row.pair_links(p.interleaved_pairs, side=DOWN)
    assert [a.pair for a in half] == list(p.half_pairs) and [a.pair for a in inter] == list(p.interleaved_pairs)
    for links, side in ((half, UP), (inter, DOWN)):
        for arc in links:
            a, b = arc.pair
            assert np.allclose(arc.get_start(), row.anchor(a, side), atol=1e-6)
            assert np.allclose(arc.get_end(), row.anchor(b, side), atol=1e-6)
    assert half.get_bottom()[1] >= row.names.get_top()[1] - 1e-6       # above the names, never across them
    assert inter.get_top()[1] <= row.cells.get_bottom()[1] + 1e-6
    assert len({a.get_stroke_color().to_hex() for a in half}) == len(half)   # one colour per plane
    # a longer link bows further
    assert half[0].height > inter[0].height
    with pytest.raises(ValueError):
        row.pair_links([(0, 0)])


def test_permutation_lines_go_from_source_to_target():
    p, row = _row()
    perm = p.permutation
    other = ChannelRow([p.x[i] for i in perm], names_side=DOWN).shift(DOWN * 2)
    lines = row.permutation_lines(other, perm)
    assert [ln.source for ln in lines] == list(perm)
    for j, ln in enumerate(lines):
        assert np.isclose(ln.get_start()[0], row.cells[perm[j]].get_x())
        assert np.isclose(ln.get_end()[0], other.cells[j].get_x())
        assert other.entries[j].original_text == row.entries[perm[j]].original_text
    with pytest.raises(ValueError):
        row.permutation_lines(other, [0] * len(perm))


def test_entries_share_one_size():
    _, row = _row()
    assert max(e.width for e in row.entries) <= 0.86 * row.cell_width + 1e-9
    dots = [e[e.original_text.index(".")].height for e in row.entries]   # the decimal point: same glyph in each
    assert max(dots) - min(dots) < 1e-6
