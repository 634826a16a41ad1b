"""DeviceSplit: the heads of attn_ref's module split over devices; blocks in their boxes, the Σ below them."""
import pytest

import attn_ref as ar
from scenes.kit.mobjects import DeviceSplit, find_overlaps
from scenes.kit.theme import COLORS


@pytest.fixture(scope="module")
def split():
    mha = ar.MultiHeadAttention(8, 4)
    per = mha.n_heads // 2
    groups = [tuple(range(k * per, (k + 1) * per)) for k in range(2)]
    notes = [[f"columns {g[0] * mha.head_dim}\u2013{(g[-1] + 1) * mha.head_dim - 1}"] for g in groups]
    return DeviceSplit(groups, notes=notes, output="partial sums added")


def test_each_block_sits_in_its_devices_box(split):
    assert split.groups == [(0, 1), (2, 3)]
    for i in range(4):
        k = split.device_of(i)
        box, block = split.boxes[k], split.block(i)
        assert box.get_left()[0] < block.get_left()[0] and block.get_right()[0] < box.get_right()[0]
        assert box.get_bottom()[1] < block.get_bottom()[1] and block.get_top()[1] < box.get_top()[1]
        assert block[0].get_fill_color().to_hex().upper() == COLORS.head(i).upper()
        assert block[1].original_text == f"head {i + 1}"
    assert split.boxes[0].get_right()[0] < split.boxes[1].get_left()[0]
    assert [n[0].original_text for n in split.notes] == ["columns 0\u20133", "columns 4\u20137"]


def test_sigma_below_the_boxes_fed_by_one_arrow_each(split):
    assert len(split.arrows) == 2
    assert split.node.get_top()[1] < split.boxes.get_bottom()[1]
    assert split.output.get_top()[1] < split.node.get_bottom()[1]
    assert split.node[1].original_text == "\u03a3" and split.reduce_label.original_text == "all-reduce"
    texts = [*split.titles, *(b[1] for g in split.blocks for b in g), *(m for n in split.notes for m in n),
             split.node[1], split.reduce_label, split.output]
    assert find_overlaps(texts) == []
    assert split.highlight_device(1).width > split.boxes[1].width


def test_without_reduce_and_bad_groups():
    s = DeviceSplit([(0,), (1,), (2,)], reduce=False, block_color=COLORS.expert, block_label=lambda i: f"E{i}")
    assert len(s.arrows) == 0 and len(s.node) == 0
    with pytest.raises(ValueError):
        s.all_reduce()
    with pytest.raises(ValueError, match="two devices"):
        DeviceSplit([(0, 1), (1, 2)])
    with pytest.raises(KeyError):
        s.block(7)
