"""BlockTable: L05.4's paged KV cache (block size 4, lengths 7 / 3 / 10, blocks handed out round robin): each
position in the slot its table names, waste only in the last block, links to the right pool rows."""
from __future__ import annotations

import pytest

from scenes.kit.mobjects import BlockTable
from scenes.l05_kv_cache import data


def table() -> BlockTable:
    pb = data.paged_blocks()
    return BlockTable(pb.block_tables, pb.lengths, pb.block)


def test_positions_land_in_the_slots_their_tables_name():
    pb = data.paged_blocks()
    t = table()
    t.shift([1.5, -0.7, 0]).scale(0.9)                          # the fills follow the table
    assert len(t.pool) == pb.blocks_used and all(len(row) == pb.block for row in t.slots)
    for s, p in pb.order:
        fill = t.slot(s, p)
        cell = t.slots[pb.block_tables[s][p // pb.block]][p % pb.block]
        assert fill.get_center() == pytest.approx(cell.get_center())
        assert fill[0].width == pytest.approx(cell.width)
        assert fill[1].original_text == str(p)
    assert [[e[1].original_text for e in row[1]] for row in t.tables] == [[str(b) for b in tb]
                                                                          for tb in pb.block_tables]
    assert [row[0].original_text for row in t.tables] == ["A:", "B:", "C:"]


def test_waste_is_under_a_block_and_only_in_the_last_block():
    pb = data.paged_blocks()
    t = table()
    assert [t.waste(s) for s in range(len(pb.lengths))] == list(pb.waste_per_sequence)
    assert all(w < pb.block for w in pb.waste_per_sequence)
    assert len(t.empty_slots()) == pb.slots_reserved - pb.slots_used
    for s in range(len(pb.lengths)):
        last = t.slots[pb.block_tables[s][-1]]
        assert all(any(c is e for e in t.empty_slots(s)) for c in last[pb.block - t.waste(s):])


def test_links_point_at_the_named_blocks_and_gathered_row_is_contiguous():
    pb = data.paged_blocks()
    t = table()
    for s, tb in enumerate(pb.block_tables):
        arrows = t.links(s)
        assert len(arrows) == len(tb)
        for a, b in zip(arrows, tb):
            y = a.get_end()[1]
            assert t.pool[b].get_bottom()[1] <= y <= t.pool[b].get_top()[1]       # ends at row b, no other
            assert a.get_end()[0] < t.pool[b].get_left()[0] + 1e-6
    row = t.gathered_row(2)
    assert [f[1].original_text for f in row] == [str(p) for p in range(pb.lengths[2])]
    assert row.get_top()[1] < t.pool.get_bottom()[1]


def test_inconsistent_tables_raise():
    with pytest.raises(ValueError, match="need"):
        BlockTable([(0,), (1,)], (7, 3), 4)                      # 7 positions need 2 blocks of 4
    with pytest.raises(ValueError, match="two tables"):
        BlockTable([(0, 1), (1,)], (7, 3), 4)
