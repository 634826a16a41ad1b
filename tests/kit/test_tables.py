"""DataTable: built from attn_ref's model presets; columns aligned, rows apart, the highlight on its row."""
import pytest

import attn_ref as ar
from scenes.kit.format import shown
from scenes.kit.mobjects import DataTable, find_overlaps
from scenes.kit.theme import COLORS

PRESETS = (ar.TRANSFORMER_BASE, ar.GPT2_SMALL, ar.LLAMA2_7B, ar.LLAMA2_70B)


@pytest.fixture(scope="module")
def table():
    rows = [[c.name, shown(c.d_model, 0), shown(c.n_heads, 0), shown(c.head_dim, 0)] for c in PRESETS]
    return DataTable(["model", "d_model", "H", "d_h"], rows, title="d_h = d_model / H",
                     sources=[c.source.split(",")[0] for c in PRESETS], source="attn_ref presets",
                     column_colors=[None, None, None, COLORS.ACCENT])


def test_cells_hold_the_strings_given(table):
    assert [table.cell(i, 3).original_text for i in range(len(PRESETS))] == [str(c.head_dim) for c in PRESETS]
    assert table.cell(0, 0).original_text == PRESETS[0].name
    assert table.cell(2, 4).original_text == "Touvron et al. 2023"  # the source column is the last
    assert [h.original_text for h in table.header] == ["model", "d_model", "H", "d_h", "source"]
    assert table.title.original_text == "d_h = d_model / H" and table.source_line.original_text == "attn_ref presets"


def test_numeric_columns_right_aligned_text_left_aligned(table):
    for j in (1, 2, 3):
        rights = [m.get_right()[0] for m in table.columns[j]]
        assert max(rights) - min(rights) < 1e-6
    lefts = [m.get_left()[0] for m in table.columns[0]]
    assert max(lefts) - min(lefts) < 1e-6
    assert table.cell(0, 3)[0].get_fill_color().to_hex().upper() == COLORS.ACCENT.upper()


def test_rows_in_order_nothing_overlaps(table):
    ys = [table.row_y(i) for i in range(table.n_rows)]
    assert ys == sorted(ys, reverse=True)
    texts = [*table.header, *(m for r in table.rows for m in r), table.title, table.source_line]
    assert find_overlaps(texts) == []
    assert table.rule.get_y() < min(h.get_bottom()[1] for h in table.header)
    assert table.rule.get_y() > max(m.get_top()[1] for m in table.rows[0])


def test_highlight_frames_its_row_after_scaling(table):
    t = table.copy()
    t.scale(0.6).shift([1, -1, 0])
    box = t.highlight_row(1)
    cell = t.cell(1, 1)
    assert box.get_bottom()[1] < cell.get_bottom()[1] and box.get_top()[1] > cell.get_top()[1]
    assert box.get_top()[1] < t.cell(0, 1).get_bottom()[1] and box.get_bottom()[1] > t.cell(2, 1).get_top()[1]
    assert box.width == pytest.approx(t.rule.width)
    c = t.highlight_cell(1, 3)
    assert c.get_left()[0] < t.cell(1, 3).get_left()[0] and c.get_right()[0] > t.cell(1, 3).get_right()[0]


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="row 0 has 2 cells"):
        DataTable(["a", "b", "c"], [["1", "2"]])
    with pytest.raises(ValueError, match="align"):
        DataTable(["a", "b"], [["1", "2"]], align="lx")
    with pytest.raises(ValueError, match="sources"):
        DataTable(["a"], [["1"], ["2"]], sources=["s"])
