"""MemoryPyramid built from Lecture 6's cited A100 hierarchy: labels are the builder's strings, the bottom level is
the widest, levels stack top to bottom, highlight/focus address a level by index or name, the cited tag sits above."""
from __future__ import annotations

import pytest

from scenes.kit.mobjects import MemoryPyramid
from scenes.kit.theme import COLORS
from scenes.l06_flash import data


def levels():
    return [(lv.name, lv.bandwidth, lv.capacity) for lv in data.memory_pyramid().a100]


def test_labels_are_the_builders_strings_and_the_bottom_is_widest():
    lv = levels()
    p = MemoryPyramid(lv, cited="published: FlashAttention Fig. 1 (A100)")
    assert [n.original_text for n in p.names] == [x[0] for x in lv]
    assert [b.original_text for b in p.bandwidths] == [x[1] for x in lv]
    assert [c.original_text for c in p.capacities] == [x[2] for x in lv]
    widths = [s.width for s in p.shapes]
    assert widths == sorted(widths) and widths[-1] > widths[0]
    ys = [s.get_y() for s in p.shapes]
    assert ys == sorted(ys, reverse=True)                              # level 0 on top
    for i in range(len(lv)):                                           # numbers on their level's line, right of it
        assert p.bandwidths[i].get_y() == pytest.approx(p.shapes[i].get_y())
        assert p.bandwidths[i].get_left()[0] > p.shapes[-1].get_right()[0]
        assert p.capacities[i].get_left()[0] > p.bandwidths[i].get_right()[0]
    assert p.tag.text.original_text.startswith("published")
    assert p.tag.get_bottom()[1] > max(p.shapes[0].get_top()[1], p.headers.get_top()[1])


def test_highlight_focus_and_lookup():
    p = MemoryPyramid(levels(), headers=None)
    assert len(p.headers) == 0 and len(p.tag) == 0
    assert p.index("HBM") == 1 and p.index(2) == 2
    with pytest.raises(KeyError):
        p.index("L3")
    with pytest.raises(IndexError):
        p.index(3)
    h = p.highlight("SRAM")
    assert h[0].get_center() == pytest.approx(p.shapes[0].get_center())
    assert h[1].width > p.bandwidths[0].width and h not in p
    assert len(p.focus("HBM").animations) == 3 * 4
    assert len(p.unfocus().animations) == 3 * 4


def test_bad_input():
    with pytest.raises(ValueError):
        MemoryPyramid([])
    with pytest.raises(ValueError):
        MemoryPyramid(levels(), colors=[COLORS.K])
    with pytest.raises(ValueError):
        MemoryPyramid(levels(), top_width=9.0)
