"""RunningStats built from Lecture 6's tile trace (L06.2: m, ℓ and the rescale factor per row of a 4 × 4 tile
grid), and TileGrid.mark_tiles from the causal walk's statuses."""
from __future__ import annotations

import pytest

from scenes.kit.format import shown
from scenes.kit.mobjects import RunningStats, TileGrid
from scenes.kit.theme import COLORS
from scenes.l06_flash import data

COLS = ["m", "ℓ", "rescale"]


def _stats(block=0):
    t = data.tile_trace()
    grid = TileGrid(t.n, t.n, t.block_q, t.block_k, cell_size=0.34, row_label=None)
    stats = RunningStats.beside(grid, COLS, block=block, colors=[COLORS.SCORE, COLORS.WEIGHT, COLORS.ACCENT])
    return t, grid, stats


def test_rows_sit_on_the_grid_rows_of_their_block():
    t, grid, stats = _stats()
    assert stats.n_rows == t.block_q and stats.block == 0
    for block in range(t.grid[0]):
        stats.follow(grid, block)              # builds the move; apply it for the geometry check
        stats.shift(stats._shift_to(grid, block, 0.3))
        for r in range(stats.n_rows):
            y = grid.cells[block * t.block_q + r][0].get_y()
            assert all(col[r].get_y() == pytest.approx(y, abs=1e-6) for col in stats.slots)
        assert stats.slots.get_left()[0] == pytest.approx(grid.get_right()[0] + 0.3, abs=1e-6)
    with pytest.raises(IndexError):
        stats._shift_to(grid, t.grid[0], 0.3)


def test_entries_are_the_traces_values_and_only_changes_flash():
    t, _grid, stats = _stats()
    assert stats.shown_texts() == [["·"] * 4] * 3
    first = t.steps[0]
    stats.update_values([first.m, first.l, None])
    assert stats.shown_texts() == [[shown(x) for x in first.m], [shown(x) for x in first.l], ["·"] * 4]
    assert len(stats.changed) == 8
    for prev, st in zip(t.steps[:3], t.steps[1:4]):          # row block 0, K/V blocks 1-3
        stats.update_values([prev.m, prev.l, prev.rescale], flash=False)
        stats.update_values([st.m, st.l, st.rescale])
        want = {(c, r) for c, (a, b) in enumerate(zip((prev.m, prev.l, prev.rescale), (st.m, st.l, st.rescale)))
                for r in range(4) if shown(a[r]) != shown(b[r])}
        assert set(stats.changed) == want
        assert stats.shown_texts() == [[shown(x) for x in v] for v in (st.m, st.l, st.rescale)]
    assert (0, 0) not in stats.changed                        # row 0's max did not grow at the last block
    for c, col in enumerate(stats.entries):                   # each entry inside its slot, right-aligned
        for r, e in enumerate(col):
            s = stats.slots[c][r]
            assert s.get_left()[0] < e.get_left()[0] and e.get_right()[0] < s.get_right()[0]
            assert abs(e.get_y() - s.get_y()) < 0.1


def test_headers_above_and_bad_input():
    _, _, stats = _stats()
    assert [h.original_text for h in stats.headers] == COLS
    assert all(h.get_bottom()[1] > stats.frame.get_top()[1] for h in stats.headers)
    with pytest.raises(ValueError):
        stats.update_values([[1.0] * 4, [1.0] * 4])
    with pytest.raises(ValueError):
        RunningStats([], 4)
    one = RunningStats(["m", "ℓ"], 1, values=[[float("-inf")], [0.0]])
    assert one.shown_texts() == [[shown(float("-inf"))], [shown(0.0)]]


def test_tile_grid_marks_the_causal_walk():
    c = data.causal_tiles()
    grid = TileGrid(16, 16, 4, 4)
    marks = grid.mark_tiles(c.status)
    assert len(marks.skipped) == c.skipped and len(marks.masked) == c.masked
    assert marks.masked_cells == sum(c.masked_entries)
    for (bi, bj) in marks.skipped:
        assert bj > bi
    shade = marks.masked[(0, 0)][0]                           # cell (0, 1): key 1 after query 0
    assert shade.get_center() == pytest.approx(grid.cells[0][1].get_center())
    plain = TileGrid(16, 16, 4, 4)
    assert len(plain) == len(grid)                            # marking adds nothing to the grid itself
    with pytest.raises(ValueError):
        grid.mark_tiles([["full"] * 4] * 3)
