"""Kit mobjects built from real attn_ref data: inside the frame, labelled parts apart, numbers truthful.

Graphical regression: a few mobjects are drawn to one small PNG each and compared with the frames in
tests/kit/frames/ (regenerate with UPDATE_FRAMES=1 after an intended visual change, and look at them).
"""
import inspect
import itertools
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from manim import Camera, Transform, VGroup, tempconfig

import attn_ref as ar
from scenes.kit.format import shown
from scenes.kit.mobjects import (ArcDiagram, AttentionGrid, BenchmarkChart, CitationLine, CodePanel,
                                 HeadStack, MaskOverlay, MatrixGrid, RecapCard, ReferencesCard, SoftmaxBars,
                                 TileGrid, TitleCard, TokenRow, VectorColumn, bbox, find_overlaps, fit_to_frame,
                                 fit_within, inside_frame, overlaps, provenance_line)
from scenes.kit.mobjects.code_panel import body_lines, resolve, source_of
from scenes.kit.references import Reference
from scenes.kit.theme import BUFF, COLORS, FRAME, SAFE, heat_color

HERE = Path(__file__).parent
BENCH = HERE / "data" / "bench_example.json"
FRAMES = HERE / "frames"
TOKENS = ["the", "cat", "sat", "on", "the", "mat"]


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(1)
    n = len(TOKENS)
    q, k, v = (torch.randn(1, 4, n, 8, generator=g, dtype=torch.float64) for _ in range(3))
    scores = ar.attention_scores(q, k)
    _, weights = ar.sdpa(q, k, v, return_weights=True)
    _, causal = ar.sdpa(q, k, v, is_causal=True, return_weights=True)
    return {"q": q[0], "scores": scores[0], "weights": weights[0], "causal": causal[0],
            "mask": ar.causal_mask(n, n)}


def flat(rows):
    return [m for row in rows for m in row]


def assert_apart(mobs, what):
    pairs = find_overlaps(list(mobs))
    assert not pairs, f"{what}: overlapping pairs {pairs[:5]}"


def assert_none_overlap(group_a, group_b, what):
    hits = [(i, j) for i, a in enumerate(group_a) for j, b in enumerate(group_b) if overlaps(a, b)]
    assert not hits, f"{what}: {hits[:5]}"


def contains(outer, inner, tol=1e-6) -> bool:
    a, b = bbox(outer), bbox(inner)
    return a[0] - tol <= b[0] and a[1] - tol <= b[1] and b[2] <= a[2] + tol and b[3] <= a[3] + tol


# ----------------------------------------------------------------------------------------------- layout
def test_layout_helpers():
    from manim import Rectangle, Square

    big = Rectangle(width=40, height=3).shift([30, 9, 0])
    assert not inside_frame(big)
    fit_to_frame(big)
    assert inside_frame(big, margin=BUFF.MARGIN - 1e-6)
    assert big.width <= SAFE.width + 1e-6
    small = Square(1)
    fit_within(small, 5, 5)
    assert math.isclose(small.width, 1)  # never scaled up
    a, b, c = Square(1), Square(1).shift([1, 0, 0]), Square(1).shift([0.9, 0, 0])
    assert not overlaps(a, b)  # touching edges is not overlapping
    assert overlaps(a, c) and overlaps(a, b, buff=0.05)
    assert find_overlaps([a, b, c]) == [(0, 2), (1, 2)]
    assert not overlaps(a, VGroup())


# ----------------------------------------------------------------------------------------------- tokens, vectors
def test_token_row():
    row = TokenRow(TOKENS, show_indices=True, role="Q")
    assert [lab.original_text for lab in row.labels] == TOKENS
    assert_apart(row.boxes, "token boxes")
    for box, lab in zip(row.boxes, row.labels):
        assert contains(box, lab)
    assert_none_overlap(row.indices, row.boxes, "indices vs boxes")
    assert row[2] is row.items[2]
    # one baseline: glyphs without descenders end at the same height
    bottoms = {t: round(lab.get_bottom()[1], 2) for t, lab in zip(TOKENS, row.labels)}
    assert abs(bottoms["on"] - bottoms["mat"]) < 0.02 and abs(bottoms["cat"] - bottoms["mat"]) < 0.02
    assert inside_frame(fit_to_frame(row))


def test_vector_column(data):
    qv = data["q"][0, 1]
    col = VectorColumn(qv, label_text="q (cat)", role="Q")
    assert [e.original_text for e in col.entries] == [shown(x) for x in qv.tolist()]
    assert_apart(col.entries, "entries")
    assert col.label.get_bottom()[1] > col.brackets.get_top()[1]
    assert col.entries[0].get_color().to_hex().upper() == COLORS.Q
    assert shown(-0.5) == "\u22120.50" and shown(-0.001) == "0.00"
    assert shown(float("-inf")) == "\u2212\u221e"


# ----------------------------------------------------------------------------------------------- grids
def test_matrix_grid(data):
    s = data["scores"][0]
    grid = MatrixGrid(s, heat=True, row_labels=TOKENS, col_labels=TOKENS, row_role="Q", col_role="K")
    fit_to_frame(grid)
    assert inside_frame(grid, margin=BUFF.MARGIN - 1e-6)
    nums = flat(grid.numbers)
    assert [t.original_text for t in nums] == [shown(x) for x in s.flatten().tolist()]
    assert_apart(nums, "grid numbers")
    for i in range(6):
        for j in range(6):
            assert contains(grid.cells[i][j], grid.numbers[i][j])
    assert_none_overlap(grid.row_labels, flat(grid.cells), "row labels vs cells")
    assert_none_overlap(grid.col_labels, flat(grid.cells), "column labels vs cells")
    assert_apart(grid.col_labels, "column labels")
    assert_apart(grid.row_labels, "row labels")
    lo, hi = float(s.min()), float(s.max())
    k = int(torch.argmax(s))
    assert grid.cells[k // 6][k % 6].get_fill_color().to_hex().upper() == heat_color(hi, lo, hi).upper()
    assert contains(grid.highlight_cell(2, 3), grid.cells[2][3])
    assert contains(grid.highlight_row(1), grid.cells[1]) and contains(grid.highlight_col(4), grid.col(4))
    moved = grid.with_values(s * 2)
    assert np.allclose(moved.cells.get_center(), grid.cells.get_center())
    assert math.isclose(moved.cells.width, grid.cells.width)
    assert isinstance(Transform(grid, moved), Transform)


def test_matrix_grid_shows_minus_infinity(data):
    s = data["scores"][0].masked_fill(~data["mask"], float("-inf"))
    grid = MatrixGrid(s)
    assert grid.numbers[0][5].original_text == "\u2212\u221e"
    assert grid.cells[0][5].get_fill_color().to_hex().upper() == COLORS.MASK


def test_attention_grid_rows_show_exactly_one(data):
    w = data["weights"][0]
    grid = AttentionGrid(w, TOKENS, TOKENS, show_row_sums=True)
    fit_to_frame(grid)
    assert inside_frame(grid, margin=BUFF.MARGIN - 1e-6)
    shown = [[t.original_text for t in row] for row in grid.numbers]
    for row in shown:
        assert sum(int(x.replace(".", "")) for x in row) == 100  # the numbers drawn add to 1.00
    assert grid.row_sum_texts() == ["1.00"] * 6
    assert np.allclose(grid.displayed, ar.round_to_sum(w, 2).numpy())
    assert np.all(np.abs(grid.displayed - w.numpy()) < 0.01)
    cells, dots, nums = flat(grid.cells), flat(grid.dots), flat(grid.numbers)
    assert_apart(nums, "weights")
    for dot, num in zip(dots, nums):
        assert not overlaps(dot, num), "a dot covers its number"
    assert_none_overlap(grid.row_labels, cells, "queries vs cells")
    assert_none_overlap(grid.col_labels, cells, "keys vs cells")
    assert_none_overlap([grid.caption], cells, "caption vs cells")
    assert_none_overlap(grid.row_sums, cells, "row sums vs cells")
    assert_none_overlap(grid.axis_titles, list(grid.row_labels) + list(grid.col_labels) + cells, "axis titles")
    assert grid.caption.original_text == "softmax along each row"
    # dot area grows with the weight
    order = np.argsort(w.flatten().numpy())
    widths = np.array([d.width for d in dots])[order]
    assert np.all(np.diff(widths) >= -1e-9)
    assert all(lab.get_color().to_hex().upper() == COLORS.Q for lab in grid.row_labels)
    causal = grid.with_values(data["causal"][0])  # e.g. Transform(grid, causal) when the mask arrives
    assert np.allclose(causal.cells.get_center(), grid.cells.get_center())
    assert causal.row_sum_texts() == ["1.00"] * 6 and len(flat(causal.dots)) == 36


def test_attention_grid_rounding_and_validation():
    third = torch.full((1, 3), 1 / 3, dtype=torch.float64)
    grid = AttentionGrid(third, ["a"], ["x", "y", "z"], show_dots=False, caption=None, axis_titles=False)
    assert [t.original_text for t in grid.numbers[0]] == ["0.34", "0.33", "0.33"]  # naive: 0.33 × 3 = 0.99
    with pytest.raises(ValueError, match="sum to 1"):
        AttentionGrid(torch.full((2, 2), 0.3), ["a", "b"], ["x", "y"])
    with pytest.raises(ValueError, match="expected"):
        AttentionGrid(torch.eye(2), ["a"], ["x", "y"])


def test_mask_overlay(data):
    grid = AttentionGrid(data["causal"][0], TOKENS, TOKENS)
    overlay = MaskOverlay(grid, data["mask"])
    expected = [(i, j) for i in range(6) for j in range(6) if j > i]
    assert overlay.positions == expected and len(overlay.shades) == len(overlay.labels) == 15
    for (i, j), shade, lab in zip(overlay.positions, overlay.shades, overlay.labels):
        assert np.allclose(shade.get_center(), grid.cells[i][j].get_center())
        assert contains(grid.cells[i][j], lab)
        assert grid.displayed[i, j] == 0
    with pytest.raises(TypeError):
        MaskOverlay(grid, data["mask"].float())


# ----------------------------------------------------------------------------------------------- charts
def test_softmax_bars_and_temperature(data):
    scores = data["scores"][0, 2]
    p = ar.softmax(scores)
    bars = SoftmaxBars(p, TOKENS)
    assert sum(int(v.original_text.replace(".", "")) for v in bars.values) == 100
    heights = np.array([b.height for b in bars.bars])
    assert np.allclose(heights / heights.max(), (p / p.max()).numpy(), atol=1e-3)
    assert_apart(list(bars.bars) + list(bars.values) + list(bars.labels), "bars, values, labels")
    assert all(lab.get_top()[1] <= bars.baseline.get_y() + 1e-6 for lab in bars.labels)
    hot = ar.softmax(scores / 4.0)
    target = bars.with_probs(hot)
    assert np.allclose(target.baseline.get_center(), bars.baseline.get_center())
    assert np.ptp([b.height for b in target.bars]) < np.ptp(heights)  # T = 4 flattens
    assert isinstance(bars.animate_to(hot), Transform)
    assert inside_frame(fit_to_frame(bars))


def test_benchmark_chart_shows_provenance():
    raw = json.loads(BENCH.read_text())
    for kind, logs in (("line", dict(log_x=2, log_y=True)), ("bar", {})):
        chart = BenchmarkChart(BENCH, kind=kind, **logs)
        fit_to_frame(chart)
        assert inside_frame(chart, margin=BUFF.MARGIN - 1e-6)
        line = chart.provenance_text
        assert line == provenance_line(raw, str(BENCH))
        for key in ("device", "dtype", "date", "torch", "command"):
            assert str(raw["provenance"][key]) in line
        assert raw["provenance"]["commit"][:10] in line and BENCH.name in line
        assert " ".join(chart.provenance_lines()) == line  # all of it is drawn
        assert chart.provenance.get_top()[1] < min(t.get_bottom()[1] for t in chart.x_ticks)
        assert_apart(chart.x_ticks, "x ticks")
        assert_apart(chart.y_ticks, "y ticks")
        assert len(chart.series) == len(raw["series"])


def test_benchmark_file_validation(tmp_path):
    raw = json.loads(BENCH.read_text())
    del raw["provenance"]["commit"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    with pytest.raises(ValueError, match="commit"):
        BenchmarkChart(bad)
    raw = json.loads(BENCH.read_text())
    raw["series"][0]["y"] = raw["series"][0]["y"][:-1]
    bad.write_text(json.dumps(raw))
    with pytest.raises(ValueError, match="x and"):
        BenchmarkChart(bad)


# ----------------------------------------------------------------------------------------------- diagrams
def test_arc_diagram(data):
    w = data["causal"][0]
    arcs = ArcDiagram(TOKENS, w, query=4, min_weight=0.0)
    assert set(arcs.arcs) == {(4, j) for j in range(6) if w[4, j] > 0}
    keys = sorted(arcs.arcs, key=lambda ij: float(w[ij]))
    widths = [arcs.arc(*ij).get_stroke_width() for ij in keys]
    assert widths == sorted(widths)
    assert all(a.get_bottom()[1] >= arcs.tokens.boxes.get_top()[1] - 1e-6 for a in arcs.arc_group)
    every = ArcDiagram(TOKENS, w)
    assert len(every.arcs) == int((w >= 0.02).sum())
    assert inside_frame(fit_to_frame(every))


def test_head_stack(data):
    stack = HeadStack(data["weights"])
    assert len(stack.heads) == 4
    assert [f.get_stroke_color().to_hex().upper() for f in stack.frames] == list(COLORS.HEADS[:4])
    row = HeadStack(data["weights"], layout="row")
    assert_apart(row.frames, "head frames in a row")
    assert_apart(list(row.labels) + list(row.frames), "labels vs frames")
    assert inside_frame(fit_to_frame(row))


def test_tile_grid():
    tiles = TileGrid(8, 6, 3, 4)
    assert tiles.n_tiles == (3, 2) and len(tiles.tiles) == 6
    assert contains(tiles.tile(1, 0).copy().scale(1.001), VGroup(*(tiles.cells[r][c] for r in range(3, 6)
                                                                    for c in range(4))))
    assert contains(tiles.highlight_tile(2, 1).scale(1.001), tiles.cells[7][5])
    assert_none_overlap(list(tiles.block_labels) + list(tiles.axis_labels), flat(tiles.cells), "labels vs cells")
    assert inside_frame(fit_to_frame(tiles))


# ----------------------------------------------------------------------------------------------- code, cards
def test_code_panel_is_the_library_source():
    panel = CodePanel("attn_ref.core.softmax")  # a whole function, docstring included
    assert panel.source == inspect.getsource(ar.core.softmax)
    assert panel.first_line == inspect.getsourcelines(ar.core.softmax)[1]
    assert inside_frame(panel, margin=BUFF.MARGIN - 1e-6)
    first, last = body_lines("attn_ref.core.sdpa")
    part = CodePanel("attn_ref.core.sdpa", lines=(first, last))
    lines = inspect.getsource(ar.core.sdpa).splitlines(keepends=True)
    assert part.source == "".join(lines[first - 1:last])
    assert "return" in part.source.splitlines()[-1] and '"""' not in part.source
    assert part.effective_font_size >= 16  # the body alone is shown large enough to read at 1080p
    assert resolve("attn_ref.softmax") is ar.softmax
    with pytest.raises(ValueError):
        source_of("attn_ref.core.sdpa", lines=(0, 3))


def test_cards():
    vaswani = Reference("Vaswani et al.", 2017, "Attention Is All You Need", arxiv="1706.03762", venue="NeurIPS 2017")
    title = TitleCard(1, "Attention Fundamentals", "From recurrent networks to attention, with real numbers")
    assert inside_frame(title, margin=BUFF.MARGIN - 1e-6)
    assert_apart([title.number, title.title, title.rule, title.subtitle], "title card parts")
    cite = CitationLine(vaswani)
    assert cite.text.original_text == vaswani.short() == ("Vaswani et al. 2017 \u00b7 Attention Is All You Need \u00b7 "
                                                          "NeurIPS 2017 \u00b7 arXiv:1706.03762")
    assert CitationLine(vaswani, venue=False).text.original_text == vaswani.short(venue=False)
    assert inside_frame(cite, margin=BUFF.MARGIN - 1e-6) and cite.get_bottom()[1] < -FRAME.HEIGHT / 2 + 1
    recap = RecapCard(["Attention reads every token directly, in one step, and this sentence is long enough "
                       "to wrap onto a second line.", "Softmax runs along each row."])
    assert inside_frame(recap, margin=BUFF.MARGIN - 1e-6)
    assert_apart([recap.heading, *recap.items], "recap parts")
    elman = Reference("Elman", 1990, "Finding Structure in Time", venue="Cognitive Science 14(2), 179\u2013211")
    refs = ReferencesCard([vaswani, Reference("Bahdanau, Cho & Bengio", 2014, "Neural Machine Translation by "
                                              "Jointly Learning to Align and Translate", arxiv="1409.0473"), elman])
    assert inside_frame(refs, margin=BUFF.MARGIN - 1e-6)
    assert_apart([refs.heading, *refs.items], "reference parts")
    assert refs.citations[0] is vaswani and refs.lines == [r.short(venue=False) for r in refs.citations]
    # a paper with an arXiv id shows the id (not the venue), one without shows its venue
    assert refs.lines[0] == "Vaswani et al. 2017 \u00b7 Attention Is All You Need \u00b7 arXiv:1706.03762"
    assert refs.lines[2].endswith("Finding Structure in Time \u00b7 Cognitive Science 14(2), 179\u2013211")
    assert refs.markers == ["[1]", "[2]", "[3]"]
    page2 = ReferencesCard([vaswani, elman], title="References (2 of 2)", start=4)  # a second page goes on counting
    assert page2.markers == ["[4]", "[5]"]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="start"):
            ReferencesCard([vaswani], start=bad)
    many = ReferencesCard([Reference(f"Author {k} et al.", 2000 + k, "A title long enough to wrap onto a second "
                                     "line of the references card when it is set at this size", arxiv="1706.03762")
                           for k in range(12)])
    assert many.height == pytest.approx(SAFE.height, abs=1e-6)        # shrunk to the safe area…
    assert inside_frame(many, margin=BUFF.MARGIN - 1e-6)                # …and still inside it


# ----------------------------------------------------------------------------------------------- frames
def render(mob, width=640, height=360) -> np.ndarray:
    with tempconfig({"pixel_width": width, "pixel_height": height, "background_color": COLORS.BACKGROUND}):
        cam = Camera()
        cam.capture_mobjects([mob])
        return np.asarray(cam.get_image().convert("RGB"), dtype=np.int16)


def compare_frame(name: str, image: np.ndarray) -> None:
    from PIL import Image

    path = FRAMES / f"{name}.png"
    if os.environ.get("UPDATE_FRAMES") == "1":
        FRAMES.mkdir(exist_ok=True)
        Image.fromarray(image.astype(np.uint8)).save(path)
    if not path.exists():
        pytest.fail(f"no stored frame {path}; run with UPDATE_FRAMES=1 and look at it")
    ref = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
    assert ref.shape == image.shape, f"{name}: size {image.shape} vs stored {ref.shape}"
    diff = np.abs(ref - image).max(axis=2)
    changed = float((diff > 40).mean())
    assert diff.mean() < 1.5 and changed < 0.005, (
        f"{name}: frame differs from {path} (mean {diff.mean():.2f}, {changed:.2%} of pixels changed)")


def test_frame_attention_grid_with_mask(data):
    grid = AttentionGrid(data["causal"][0], TOKENS, TOKENS, show_row_sums=True)
    scene = VGroup(grid, MaskOverlay(grid, data["mask"], text=None, opacity=0.35))
    fit_to_frame(scene)
    compare_frame("attention_grid", render(scene))


def test_frame_tokens_and_bars(data):
    tokens = TokenRow(TOKENS, show_indices=True)
    bars = SoftmaxBars(ar.softmax(data["scores"][0, 3]), TOKENS)
    page = VGroup(tokens, bars).arrange(direction=np.array([0, -1, 0]), buff=0.8)
    fit_to_frame(page)
    compare_frame("tokens_bars", render(page))


def test_benchmark_chart_reads_a_committed_attn_ref_bench_result():
    from pathlib import Path

    from scenes.kit.mobjects import BenchmarkChart
    from scenes.kit.mobjects.layout import find_overlaps, inside_frame

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "gpu-nvidia-h200.json"
    chart = BenchmarkChart(path, figure="prefill_d128_full")
    names = [s["name"] for s in chart.data["series"]]
    assert "triton_fa2" in names and "torch_sdpa[flash_attention]" in names
    line = " ".join(chart.provenance_lines())
    assert "H200" in line and "float16" in line and "gpu-nvidia-h200.json" in line
    fit = chart.scale_to_fit_width(12) if chart.width > 12 else chart
    assert inside_frame(fit)
    bars = BenchmarkChart(path, figure="cache_bytes_per_token")
    assert [t.original_text for t in bars.x_ticks] == ["MHA", "GQA-8", "MQA", "MLA"]
    assert not find_overlaps(list(bars.x_ticks))
    with pytest.raises(ValueError, match="available"):
        BenchmarkChart(path)


# -- expression, row/column boxes, number reveal, cell placement, arcs drawn, pads (scene helpers moved here) --
def test_expression_sets_words_and_subscripts_on_one_line():
    from scenes.kit.mobjects.text import expression

    e = expression("an", ("W", COLORS.Q), ("Q", COLORS.Q, "sub"), "=", "sum")
    assert [t.original_text for t in e] == ["an", "W", "Q", "=", "sum"]
    for a, b in itertools.pairwise(e):  # left to right, apart
        assert b.get_left()[0] > a.get_right()[0]
    # "an", "W" and "sum" have no descenders: one baseline means one bottom edge
    assert e[1].get_bottom()[1] == pytest.approx(e[0].get_bottom()[1], abs=0.02)
    assert e[4].get_bottom()[1] == pytest.approx(e[0].get_bottom()[1], abs=0.02)
    sub = e[2]
    assert sub.height < e[1].height and sub.get_bottom()[1] < e[1].get_bottom()[1] - 0.05
    assert sub.get_left()[0] - e[1].get_right()[0] < 0.1  # right after its base
    assert e[1].get_color().to_hex().lower() == COLORS.Q.lower()
    with pytest.raises(ValueError, match="part"):
        expression(("x", COLORS.Q, "sup"))
    with pytest.raises(ValueError, match="no part before"):
        expression(("Q", COLORS.Q, "sub"))
    with pytest.raises(ValueError, match="at least one"):
        expression()


def test_matrix_row_and_col_boxes_enclose_cells_and_labels():
    g = MatrixGrid(np.arange(12.0).reshape(3, 4), row_labels=["a", "b", "c"], col_labels=list("wxyz"))
    rb, cb = g.row_box(1), g.col_box(2)
    for part in (g.cells[1], g.row_labels[1]):
        assert bbox(rb)[0] < bbox(part)[0] and bbox(rb)[2] > bbox(part)[2]
        assert bbox(rb)[1] < bbox(part)[1] and bbox(rb)[3] > bbox(part)[3]
    assert bbox(rb)[3] < g.cells[0][0].get_y() and bbox(rb)[1] > g.cells[2][0].get_y()  # one row only
    for part in (g.cells[0][2], g.cells[2][2], g.col_labels[2]):
        assert bbox(cb)[1] < bbox(part)[1] and bbox(cb)[3] > bbox(part)[3]
    assert g.cells[0][1].get_x() < bbox(cb)[0] and bbox(cb)[2] < g.cells[0][3].get_x()  # one column only
    bare = MatrixGrid(np.eye(2))  # no labels: the box is the cells' box grown by buff
    assert bbox(bare.row_box(0, buff=0.1))[0] == pytest.approx(bbox(bare.cells[0])[0] - 0.1, abs=0.01)


def test_matrix_reveal_numbers_and_move_cells_to():
    from manim import Animation, LaggedStart

    g = MatrixGrid([[1.0, -2.0], [3.0, 4.0]], row_labels=["a", "b"])
    anim = g.reveal_numbers(lag_ratio=0.3)
    assert isinstance(anim, LaggedStart) and isinstance(anim, Animation)
    assert len(anim.animations) == 2 and anim.lag_ratio == 0.3
    assert [a.mobject for a in anim.animations] == list(g.numbers)
    with pytest.raises(ValueError, match="no numbers"):
        MatrixGrid(np.eye(2), show_numbers=False).reveal_numbers()
    gap = g.cells.get_left()[0] - g.row_labels.get_right()[0]
    assert g.move_cells_to(2.0, -1.5) is g
    assert g.cells.get_center()[:2] == pytest.approx([2.0, -1.5])
    assert g.cells.get_left()[0] - g.row_labels.get_right()[0] == pytest.approx(gap)  # labels follow


def test_arc_diagram_draw_arcs():
    from manim import Create, LaggedStart

    w = ar.softmax(torch.tensor([[2.0, 0.0, 1.0], [0.0, 3.0, 0.0], [1.0, 1.0, 1.0]]))
    d = ArcDiagram(["a", "b", "c"], w)
    anim = d.draw_arcs(lag_ratio=0.1)
    assert isinstance(anim, LaggedStart) and anim.lag_ratio == 0.1
    assert all(isinstance(a, Create) for a in anim.animations)
    assert [a.mobject for a in anim.animations] == list(d.arc_group)
    empty = ArcDiagram(["a", "b"], [0.5, 0.5], query=0, min_weight=0.9)
    with pytest.raises(ValueError, match="no arcs"):
        empty.draw_arcs()


def test_token_row_mark_pads():
    row = TokenRow(["the", "cat", "<pad>", "<pad>"])
    before = row.boxes[0].get_stroke_color().to_hex()
    assert row.mark_pads(2) is row
    for k in (2, 3):
        assert row.boxes[k].get_stroke_color().to_hex().lower() == COLORS.MASK.lower()
        assert row.labels[k].get_color().to_hex().lower() == COLORS.MUTED.lower()
    assert row.boxes[1].get_stroke_color().to_hex() == before  # real tokens untouched
    assert row.labels[1].get_color().to_hex().lower() == COLORS.TEXT.lower()
    with pytest.raises(ValueError, match="start"):
        row.mark_pads(5)


# ----------------------------------------------------------------------------------------------- step methods
def play_through(scene_mobjects, *animations):
    """Play ``animations`` in a bare manim Scene holding ``scene_mobjects`` (dry run: nothing drawn)."""
    from manim import Scene

    with tempconfig({"dry_run": True, "frame_rate": 5, "pixel_width": 64, "pixel_height": 36}):
        scene = Scene()
        scene.add(*scene_mobjects)
        scene.play(*animations, run_time=1.0)
    return scene


def test_timeline_step_next_and_pulse():
    from manim import Animation, Indicate
    from manim.animation.animation import prepare_animation
    from scenes.kit.mobjects.timeline import Timeline

    tl = Timeline([("1986", "FFN"), ("1990", "RNN"), ("1997", "LSTM")])
    assert tl.current is None
    with pytest.raises(ValueError, match="no stop"):
        tl.pulse()  # nothing reached yet
    for stop in range(3):
        anims = tl.step_next()
        assert anims and all(isinstance(prepare_animation(a), Animation) for a in anims)
        play_through([tl], *anims)
        assert tl.current == stop
        assert tl.states == ["past"] * stop + ["current"] + ["future"] * (2 - stop)
        assert tl.lit == [k < stop for k in range(2)]  # the road travelled is drawn bright
        assert tl.nodes[stop].get_fill_color().to_hex().lower() == COLORS.ACCENT.lower()
        ping = tl.pulse()
        assert isinstance(ping, Indicate) and ping.mobject is tl.items[stop]
    with pytest.raises(ValueError, match="last stop"):
        tl.step_next()
    assert tl.pulse(0).mobject is tl.items[0]


def test_matrix_grid_product_rows():
    from manim import SurroundingRectangle, Succession

    x = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, 3.0]])
    w = np.array([[0.5, -1.0], [2.0, 1.0]])
    xg, wg, out = MatrixGrid(x), MatrixGrid(w), MatrixGrid(x @ w)
    assert [t.original_text for t in out.numbers[1]] == [shown(v) for v in (x @ w)[1]]
    anim = out.product_rows(xg, wg)
    assert isinstance(anim, Succession) and len(anim.animations) == 2 * len(x)  # light up, then write, per row
    with tempconfig({"dry_run": True}):  # a quarter into row 0's light-up: only its two highlights are seen
        from manim import Scene

        early = Scene()
        early.add_mobjects_from_animations([anim])  # as Scene.play does, then begins it
        anim._setup_scene(early)
        anim.begin()
        anim.interpolate(0.25 * 0.3 / len(x))
        lit = [m for top in early.mobjects for m in top.get_family()
               if isinstance(m, SurroundingRectangle) and m.get_stroke_opacity() > 0.01]
        assert len(lit) == 2 and all(m.get_stroke_opacity() < 0.9 for m in lit)
    anim = out.product_rows(xg, wg)
    scene = play_through([xg, wg, out.cells], anim)
    on_screen = {id(m) for top in scene.mobjects for m in top.get_family()}
    assert all(id(t) in on_screen for row in out.numbers for t in row)  # every number written, no highlight left
    assert all(t.get_fill_opacity() == pytest.approx(1.0) for row in out.numbers for t in row)
    assert not any(isinstance(m, SurroundingRectangle) for top in scene.mobjects for m in top.get_family())
    with pytest.raises(ValueError, match="does not give"):
        out.product_rows(wg, wg)
    with pytest.raises(ValueError, match="show_numbers"):
        MatrixGrid(x @ w, show_numbers=False).product_rows(xg, wg)


def test_subscript():
    from scenes.kit.format import subscript

    assert subscript("h", 3) == "h\u2083"
    assert subscript("h", 12) == "h\u2081\u2082"
    assert subscript("x", np.int64(0)) == "x\u2080"  # data builders may hand numpy integers
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="non-negative integer"):
            subscript("h", bad)
