"""Kit blocks: BlockMatrix (a matrix cut per head) and TensorLayout (a buffer viewed and transposed), against
torch's own view/transpose and attn_ref's head split."""
import numpy as np
import pytest
import torch
from manim import AnimationGroup, Scene, VGroup

import attn_ref as ar
from scenes.kit.format import shown
from scenes.kit.mobjects import BlockMatrix, TensorLayout, find_overlaps, inside_frame, matrix_name
from scenes.kit.theme import COLORS

L, H, D_H = 5, 2, 3


@pytest.fixture(scope="module")
def q():
    """Q = X W_Q of a real module: (L, H·d_h), and its heads as attn_ref splits them."""
    torch.manual_seed(0)
    mha = ar.MultiHeadAttention(H * D_H, H, causal=False).double()
    x = torch.randn(1, L, H * D_H, dtype=torch.float64)
    steps = []
    with torch.no_grad():
        mha(x, trace=steps.append)
        flat_q = mha.q_proj(x)[0]
    return flat_q, steps[-1]["q"][0]  # (L, H·d_h), (H, L, d_h)


def layout(values) -> TensorLayout:
    flat = values.reshape(-1).tolist()
    head = [(m // D_H) % H for m in range(len(flat))]
    return TensorLayout([shown(v, 2) for v in flat], [COLORS.head(h) for h in head])


def texts(cells: VGroup) -> list[str]:
    return [c[1].original_text for c in cells]


def rows_of(cells: VGroup) -> list[list[str]]:
    """Texts of ``cells`` grouped by screen row (top to bottom), each row left to right."""
    by_y = {}
    for c in cells:
        by_y.setdefault(round(float(c.get_y()), 3), []).append(c)
    return [[c[1].original_text for c in sorted(by_y[y], key=lambda c: c.get_x())] for y in sorted(by_y, reverse=True)]


def test_transpose_puts_each_head_together_as_attn_ref_splits_it(q):
    flat_q, heads = q
    lay = layout(flat_q)
    assert len(lay.cells) == L * H * D_H and lay.shape == (L * H * D_H,)
    lay.place_as((L, H, D_H), perm=(1, 0, 2), roles=("hblock", "row", "col"), gap=0.6)
    for h in range(H):
        block = lay.cells_at((h,))
        want = [[shown(v, 2) for v in row] for row in heads[h].tolist()]
        assert rows_of(block) == want  # head h's block shows attn_ref's head h, row by row
    # the blocks sit side by side, head 1 left of head 2, with the gap between them
    left, right = lay.cells_at((0,)), lay.cells_at((1,))
    assert left.get_right()[0] + 0.5 < right.get_left()[0]


def test_view_alone_matches_torchs_view_and_mixes_heads(q):
    flat_q, _ = q
    lay = layout(flat_q)
    lay.place_as((H, L, D_H), roles=("hblock", "row", "col"))
    wrong = flat_q.reshape(1, L, H * D_H).view(1, H, L, D_H)[0]
    for h in range(H):
        assert rows_of(lay.cells_at((h,))) == [[shown(v, 2) for v in row] for row in wrong[h].tolist()]
    colours = {c[0].get_fill_color().to_hex().upper() for c in lay.cells_at((0,))}
    assert colours == {COLORS.head(0).upper(), COLORS.head(1).upper()}  # a "head" holding both heads' numbers


def test_memory_order_never_changes_and_the_view_keeps_rows(q):
    flat_q, _ = q
    lay = layout(flat_q)
    before = texts(lay.cells)
    lay.place_as((L, H, D_H), roles=("row", "hblock", "col"))
    assert texts(lay.cells) == before
    assert rows_of(lay.cells) == [[shown(v, 2) for v in row] for row in flat_q.tolist()]
    # the flat strip is one row in memory order
    lay.place_as((L * H * D_H,))
    assert rows_of(lay.cells) == [before]
    assert not find_overlaps(list(lay.cells))


def test_arrange_as_animates_to_the_same_places_as_place_as(q):
    flat_q, _ = q
    a, b = layout(flat_q), layout(flat_q)
    anim = a.arrange_as((L, H, D_H), perm=(1, 0, 2), roles=("hblock", "row", "col"))
    b.place_as((L, H, D_H), perm=(1, 0, 2), roles=("hblock", "row", "col"))
    scene = Scene()
    scene.add(a)
    anim.begin()
    anim.interpolate(1.0)
    anim.finish()
    assert np.allclose([c.get_center() for c in a.cells], [c.get_center() for c in b.cells], atol=1e-6)
    assert a.shape == (L, H, D_H) and a.perm == (1, 0, 2)


def test_layout_rejects_wrong_shapes(q):
    lay = layout(q[0])
    with pytest.raises(ValueError):
        lay.place_as((L, H))
    with pytest.raises(ValueError):
        lay.place_as((L, H, D_H), perm=(0, 0, 1))
    with pytest.raises(ValueError):
        lay.place_as((L, H, D_H), roles=("row", "diagonal", "col"))


def test_block_matrix_tiles_its_body_per_head():
    cfg = ar.TRANSFORMER_BASE
    n = cfg.n_heads
    names = [matrix_name("W", "Q", shown(h + 1, 0)) for h in range(n)]
    m = BlockMatrix(matrix_name("W", "Q"), n, width=4.0, height=2.0, color=COLORS.Q, shape="d_model × H·d_h",
                    block_names=names)
    assert len(m.blocks) == n and len(m.dividers) == n - 1
    widths = [b.width for b in m.blocks]
    assert np.allclose(widths, 4.0 / n) and np.isclose(sum(widths), m.body.width)
    assert np.isclose(m.blocks[0].get_left()[0], m.body.get_left()[0])
    assert np.isclose(m.blocks[-1].get_right()[0], m.body.get_right()[0])
    for b, t in zip(m.blocks, m.block_names):  # each name inside its block
        assert b.get_left()[0] <= t.get_left()[0] and t.get_right()[0] <= b.get_right()[0]
    assert m.name.get_bottom()[1] > m.body.get_top()[1] > m.body.get_bottom()[1] > m.shape_label.get_top()[1]
    assert inside_frame(m)


def test_block_matrix_rows_and_split():
    m = BlockMatrix("W_O", 3, axis="rows", width=2.0, height=3.0, block_colors=[COLORS.Q, COLORS.K, COLORS.V])
    assert np.allclose([b.height for b in m.blocks], 1.0)
    assert m.blocks[0].get_y() > m.blocks[1].get_y() > m.blocks[2].get_y()
    assert all(b.get_fill_opacity() == 0 for b in m.blocks)  # invisible until split
    m.shift([1.5, -0.5, 0])  # the cut moves with the block
    assert np.allclose(m.blocks[1].get_center(), m.body.get_center())
    anim = m.split()
    assert isinstance(anim, AnimationGroup) and m.is_split
    anim.begin()
    anim.interpolate(1.0)
    anim.finish()
    assert all(b.get_fill_opacity() > 0 for b in m.blocks)
    with pytest.raises(ValueError):
        m.split()
    with pytest.raises(ValueError):
        BlockMatrix("W", 2, axis="diagonal")


def test_matrix_name_sup_and_sub_apart():
    name = matrix_name("W", "Q", "1", sup_color=COLORS.Q, sub_color=COLORS.head(0))
    assert name.sup.get_bottom()[1] > name.sub.get_top()[1]
    assert name.sup.get_left()[0] > name.base.get_right()[0] - 1e-6
    assert not find_overlaps([name.base, name.sup, name.sub])
