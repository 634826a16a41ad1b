"""L06.2 Tiling strategies. One row first: query row 4 of the running example against 16 keys in 4 blocks, the
online softmax (Milakov & Gimelshein): the running max m, the running sum ℓ rescaled by e^(m_old − m_new) whenever
the max grows (twice here), and e^(s − m)/ℓ equal to ``ar.softmax``; then E6.2 and the log-sum-exp (E6.3). Then the
2-D walk of ``ar.flash_attention`` (version 2) on the 16 × 16 grid in 4 × 4 tiles: per step the tile lit, the
block's m, ℓ and rescale factors (``RunningStats``), the partial output Õ/ℓ converging; at the end O equals
``ar.sdpa``. Causal: tiles above the diagonal never loaded, diagonal tiles masked. The paper's block sizes (E6.5)
for an A100 and an H100; N = 18 with a partial last tile.

    manim -pql scenes/l06_flash/l06_tiling.py TilingStrategies

Numbers: ``data.online_softmax_row()``, ``tile_trace()``, ``causal_tiles()``, ``block_sizes()``,
``ragged_tiles()``; formulas: ``softmax_stable`` (E6.1), ``online_softmax_update`` (E6.2), ``log_sum_exp`` (E6.3),
``flash_block_sizes`` (E6.5). This file holds layout and timing only.
"""
from __future__ import annotations

import numpy as np
from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Group, Indicate, LaggedStart, ReplacementTransform,
                   SurroundingRectangle, Transform, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import grouped, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import (CitationLine, DataTable, MatrixGrid, RunningStats, TileGrid, equation_rows, fit_within,
                                 label)
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l06_flash import data

UNLIT = COLORS.PANEL
STAT_COLORS = [COLORS.SCORE, COLORS.WEIGHT, COLORS.ACCENT]
STAT_NAMES = ["m", "ℓ", "rescale"]
EQ_Y = 2.3
# one row
STRIP_CELL, STRIP_LEFT, STRIP_Y = 0.5, -6.5, 0.95
ZOOM_Y, ZOOM_X0, ZOOM_STEP = -0.25, -3.9, 1.15
M_LINE_Y, L_LINE_Y, LINE_X = -1.05, -1.65, -6.3
CHECK_Y = -2.6
# the grid
CELL, GRID_LEFT, GRID_TOP = 0.31, -4.5, 2.2
O_CELL, O_X, O_Y = 0.62, 5.45, 1.0
GAP_Y = -0.65
END_Y = -1.75
CHECK = "\u2713"


def unlit(grid: TileGrid) -> TileGrid:
    """Remember every cell's heat colour (``grid.lit``) and paint the cells unlit."""
    grid.lit = [[c.get_fill_color() for c in row] for row in grid.cells]
    for row in grid.cells:
        for c in row:
            c.set_fill(UNLIT, 1)
    return grid


def light(grid: TileGrid, rows: tuple[int, int], cols: tuple[int, int]):
    return [grid.cells[i][j].animate.set_fill(grid.lit[i][j], 1) for i in range(*rows) for j in range(*cols)]


def at_corner(grid: TileGrid, left: float, top: float) -> TileGrid:
    grid.shift(np.array([left, top, 0]) - grid.cells[0][0].get_corner(UP + LEFT))
    return grid


class TilingStrategies(LectureScene):
    """L06.2: the online softmax on one row, the 4 × 4 tile walk with running (m, ℓ), causal tiles, block sizes."""

    def construct(self):
        self.r, self.t = data.online_softmax_row(), data.tile_trace()
        self.topic("L06.2", "Tiling strategies")
        self.one_row()
        self.one_row_result()
        self.grid_setup()
        self.grid_first_block()
        self.grid_rest()
        self.causal()
        self.sizes()
        self.ragged()

    def clear(self):
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # ------------------------------------------------------------------------------------ one row
    def row_lines(self, st) -> VGroup:
        m = label(f"m = max({shown(st.m_old)}, {shown(st.block_max)}) = {shown(st.m_new)}", size=SIZES.LABEL,
                  color=COLORS.SCORE, mono=True)
        if st.block == 0:
            ell = label(f"ℓ = sum of e^(s − m) = {shown(st.l_new)}", size=SIZES.LABEL, color=COLORS.WEIGHT, mono=True)
        else:
            ell = label(f"ℓ = {shown(st.rescale)} × {shown(st.l_old)} + {shown(st.block_sum)} = {shown(st.l_new)}",
                        size=SIZES.LABEL, color=COLORS.WEIGHT, mono=True)
        m.move_to([LINE_X + m.width / 2, M_LINE_Y, 0])
        ell.move_to([LINE_X + ell.width / 2, L_LINE_Y, 0])
        return VGroup(m, ell)

    def zoom(self, st) -> VGroup:
        title = label(f"block {st.block + 1}", size=SIZES.LABEL, color=COLORS.ACCENT)
        title.move_to([LINE_X + title.width / 2, ZOOM_Y, 0])
        nums = VGroup(*(label(shown(s), size=SIZES.NUMBER, color=COLORS.SCORE, mono=True)
                        .move_to([ZOOM_X0 + k * ZOOM_STEP, ZOOM_Y, 0]) for k, s in enumerate(st.scores)))
        k = list(st.scores).index(st.block_max)
        box = SurroundingRectangle(nums[k], color=COLORS.SCORE, buff=0.08)
        note = label(f"block max {shown(st.block_max)}", size=SIZES.LABEL, color=COLORS.SCORE)
        note.next_to(nums, RIGHT, buff=BUFF.LARGE)
        g = VGroup(title, nums, box, note)
        g.box = box
        return g

    def block_step(self, st, t, first=False):
        """Block ``st``: tile lit, zoom on its scores, the m and ℓ lines, the stats updated."""
        b0, b1 = st.cols
        hl = self.strip.highlight_tile(0, st.block, opacity=0)
        zoom, lines = self.zoom(st), self.row_lines(st)
        old = [] if first else [FadeOut(self.cur)]
        self.play(*old, *light(self.strip, (0, 1), (b0, b1)), Create(hl), FadeIn(zoom), run_time=0.3 * t.duration)
        self.play(FadeIn(lines[0]), run_time=0.15 * t.duration)
        self.play(FadeIn(lines[1]), self.stats.update_values([[st.m_new], [st.l_new],
                                                              [None if first else st.rescale]]),
                  run_time=0.25 * t.duration)
        self.cur = VGroup(hl, zoom, lines)

    def one_row(self):
        r = self.r
        s = r.steps
        title = heading("One row, one block of keys at a time")
        eq = equation("softmax_stable")
        fit_within(eq, SAFE.width, 0.9).move_to([0, EQ_Y, 0])
        self.eq = eq
        strip = TileGrid(1, len(r.scores), 1, r.block, values=[r.scores], cell_size=STRIP_CELL, row_label=None,
                         col_label="keys", show_block_sizes=False, font_size=SIZES.LABEL)
        self.strip = unlit(at_corner(strip, STRIP_LEFT, STRIP_Y + STRIP_CELL / 2))
        cap = label(f"query row {r.row}: its scaled scores, in blocks of {r.block}", size=SIZES.LABEL, color=COLORS.Q)
        cap.move_to([STRIP_LEFT + cap.width / 2, STRIP_Y + 0.6, 0])
        self.cap = cap
        self.stats = RunningStats.beside(strip, STAT_NAMES, block=0, colors=STAT_COLORS, col_width=1.45)
        with self.narrate("Softmax subtracts the row's maximum before it exponentiates, so that nothing overflows. "
                          "But a tiled kernel sees the keys one block at a time. How can it normalise a row it has "
                          "not finished reading?") as t:
            self.play(FadeIn(title), FadeIn(eq), run_time=0.3 * t.duration)
            self.play(FadeIn(strip), FadeIn(cap), run_time=0.3 * t.duration)
        with self.narrate(f"Keep two numbers per row: the running max, m, and the running sum, ell. Block one peaks "
                          f"at {spoken(s[0].block_max)}, so m is {spoken(s[0].m_new)}, and the sum of "
                          f"e to the score minus m is {spoken(s[0].l_new)}.") as t:
            self.play(FadeIn(self.stats), run_time=0.15 * t.duration)
            self.block_step(s[0], t, first=True)
        self.wait_for(t)
        with self.narrate(f"Block two peaks at {spoken(s[1].block_max)}, below the max. m stays, the factor is one, "
                          f"and ell simply grows to {spoken(s[1].l_new)}.") as t:
            self.block_step(s[1], t)
        self.wait_for(t)
        with self.narrate(f"Block three holds {spoken(s[2].block_max)}: a new max. Every term already in ell was "
                          f"taken against the old max, so ell is first multiplied by e to the old max minus the new, "
                          f"{spoken(s[2].rescale)}, then the block is added: {spoken(s[2].l_new)}.") as t:
            self.rescale_note = label("rescale = e^(m_old − m_new)", size=SIZES.LABEL, color=COLORS.ACCENT)
            self.rescale_note.next_to(self.stats, DOWN, buff=BUFF.MEDIUM).set_x(self.stats.slots.get_x())
            self.block_step(s[2], t)
            self.rescale_box = self.stats.highlight_entry(2, 0)
            self.play(FadeIn(self.rescale_note), Create(self.rescale_box), run_time=0.15 * t.duration)
        self.wait_for(t)
        with self.narrate(f"Block four brings {spoken(s[3].block_max)}, the max grows again, the old sum shrinks by "
                          f"a factor of {spoken(s[3].rescale)}, and ell ends at {spoken(s[3].l_new)}.") as t:
            self.block_step(s[3], t)
        self.wait_for(t)

    def one_row_result(self):
        r, t_ = self.r, self.t
        check = label(f"{CHECK}  e^(s − m)/ℓ = softmax of the row:  max difference {shown(r.max_diff, sci=2)}",
                      size=SIZES.LABEL, color=COLORS.WEIGHT)
        fit_within(check, SAFE.width, None)
        check.move_to([0, CHECK_Y, 0])
        cite = CitationLine(r.source)
        with self.narrate(f"Now divide e to each score minus m by ell. That is softmax of the row, exactly: the "
                          f"largest difference from the library's softmax is {spoken(r.max_diff, sci=2)}, rounding. "
                          "One pass over the keys: Milakov and Gimelshein's online normaliser.") as t:
            self.play(FadeIn(check, shift=UP * 0.2), FadeIn(cite), run_time=0.3 * t.duration)
        self.wait_for(t)
        upd = equation_rows("online_softmax_update", font_size=SIZES.EQUATION)   # one clause per row: legible
        fit_within(upd, SAFE.width, 2.9).move_to([0, EQ_Y - 0.85, 0])
        lse = equation("log_sum_exp")
        fit_within(lse, SAFE.width * 0.8, 1.1).next_to(upd, DOWN, buff=BUFF.LARGE)
        lse_val = label(f"row {r.row}:  m + log ℓ = {shown(r.m)} + log {shown(r.l)} = {shown(t_.lse[r.row])}",
                        size=SIZES.LABEL, color=COLORS.TEXT, mono=True)
        lse_val.next_to(lse, DOWN, buff=BUFF.MEDIUM)
        with self.narrate("The same recurrence carries a partial output, O tilde, rescaled by the same factor; one "
                          "division by ell at the very end gives the output.") as t:
            self.play(FadeOut(self.cur), FadeOut(check), FadeOut(self.rescale_note), FadeOut(self.rescale_box),
                      FadeOut(self.strip), FadeOut(self.cap), FadeOut(self.stats),
                      ReplacementTransform(self.eq, upd), run_time=0.4 * t.duration)
        self.wait_for(t)
        with self.narrate(f"And m plus the log of ell, here {spoken(t_.lse[r.row])}, is the row's log-sum-exp: the "
                          "one number per row the backward pass will need.") as t:
            self.play(FadeIn(lse), run_time=0.3 * t.duration)
            self.play(FadeIn(lse_val), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.clear()

    # ------------------------------------------------------------------------------------ the grid
    def scores(self) -> np.ndarray:
        """The tiles' scores put back in place (the 16 × 16 S the kernel never holds at once)."""
        s = np.zeros((self.t.n, self.t.n))
        for st in self.t.steps:
            s[st.rows[0]:st.rows[1], st.cols[0]:st.cols[1]] = st.scores
        return s

    def o_panel(self, st) -> VGroup:
        g = MatrixGrid(st.normalised, heat=True, vmin=-1.5, vmax=1.5, cell_size=O_CELL, role="output")
        g.move_to([O_X, O_Y, 0])
        return g

    def gap_value(self, st):
        v = label(shown(st.to_out, auto=True), size=SIZES.BODY, color=COLORS.OUTPUT if not st.last else COLORS.WEIGHT,
                  mono=st.to_out >= 1e-3)
        return v.move_to([O_X, GAP_Y - 0.5, 0])

    def grid_step(self, st, dur, highlight=True):
        rows, cols = st.rows, st.cols
        anims = light(self.grid, rows, cols)
        hl = self.grid.highlight_tile(st.i, st.j, opacity=0)
        new_o, new_gap = self.o_panel(st), self.gap_value(st)
        if self.stats.block != st.i:
            self.play(self.stats.follow(self.grid, st.i), FadeOut(self.o_title),
                      run_time=0.25 * dur)
            self.o_title = self.o_title_for(st)
            self.play(FadeIn(self.o_title), run_time=0.1 * dur)
        self.play(*anims, Transform(self.hl, hl), run_time=0.3 * dur)
        self.play(self.stats.update_values([st.m, st.l, None if st.j == 0 else st.rescale], flash=highlight),
                  Transform(self.o, new_o), Transform(self.gap, new_gap), run_time=0.35 * dur)

    def o_title_for(self, st):
        t = VGroup(label("Õ/ℓ", size=SIZES.BODY, color=COLORS.OUTPUT),
                   label(f"queries {st.rows[0]}–{st.rows[1] - 1}", size=SIZES.LABEL, color=COLORS.OUTPUT))
        t.arrange(DOWN, buff=BUFF.TIGHT)
        return t.move_to([O_X, O_Y + 2 * O_CELL + BUFF.SMALL + t.height / 2, 0])

    def grid_setup(self):
        t = self.t
        title = heading(f"The grid: {t.n} × {t.n} scores in {t.grid[0]} × {t.grid[1]} tiles")
        grid = TileGrid(t.n, t.n, t.block_q, t.block_k, values=self.scores(), cell_size=CELL, row_label=None,
                        col_label="keys", font_size=SIZES.LABEL)
        self.grid = unlit(at_corner(grid, GRID_LEFT, GRID_TOP))
        self.stats = RunningStats.beside(grid, STAT_NAMES, block=0, colors=STAT_COLORS, col_width=1.05,
                                         font_size=SIZES.SMALL, header_size=SIZES.LABEL)
        first = t.steps[0]
        self.o_title = self.o_title_for(first)
        self.o = self.o_panel(first).set_opacity(0)
        gap_name = label("gap to final O", size=SIZES.LABEL, color=COLORS.MUTED).move_to([O_X, GAP_Y, 0])
        self.gap = self.gap_value(first).set_opacity(0)
        self.hl = grid.highlight_tile(0, 0, opacity=0).set_stroke(opacity=0)
        self.cite = CitationLine(t.source)
        self.add(self.hl)
        with self.narrate(f"Now the whole matrix: {spoken(t.n, 0)} queries against {spoken(t.n, 0)} keys, cut into "
                          f"tiles of {spoken(t.block_q, 0)} by {spoken(t.block_k, 0)}. FlashAttention two keeps one "
                          "block of query rows on chip, with its m, ell and partial output, and streams the key and "
                          "value blocks past it.") as tr:
            self.play(FadeIn(title), FadeIn(grid), FadeIn(self.cite), run_time=0.35 * tr.duration)
            self.play(FadeIn(self.stats), FadeIn(self.o_title), FadeIn(gap_name), run_time=0.25 * tr.duration)
        self.wait_for(tr)
        self.grid_extra = VGroup(title, gap_name)

    def grid_first_block(self):
        s = self.t.steps
        with self.narrate(f"First tile. Each of the {spoken(self.t.block_q, 0)} rows gets its own max and sum, "
                          "exactly as our single row did, and O tilde over ell is the output as if the keys "
                          "ended here.") as tr:
            self.grid_step(s[0], tr.duration)
        self.wait_for(tr)
        f = s[1].rescale
        with self.narrate(f"Second key block. Rows one, two and three meet larger scores, so their sums and partial "
                          f"outputs are scaled by {spoken(f[1])}, {spoken(f[2])} and {spoken(f[3])}. Row zero's max "
                          "holds: its factor is one.") as tr:
            self.grid_step(s[1], tr.duration)
            box = self.stats.highlight_column(2)
            self.play(Create(box), run_time=0.1 * tr.duration)
        self.wait_for(tr)
        self.play(FadeOut(box), run_time=0.3)
        with self.narrate(f"Third block: more rescaling. Fourth: no max grows, every factor is one. The gap to the "
                          f"final output has fallen from {spoken(s[0].to_out)} to {spoken(s[3].to_out, sci=2)}: "
                          "these four rows are done.") as tr:
            self.grid_step(s[2], 0.45 * tr.duration)
            self.grid_step(s[3], 0.45 * tr.duration)
        self.wait_for(tr)

    def grid_rest(self):
        t = self.t
        s = t.steps
        nxt = s[t.grid[1]]
        with self.narrate(f"The next row block starts fresh. Its first row is our row four: m is "
                          f"{spoken(nxt.m[0])} and ell {spoken(nxt.l[0])}, the same numbers as before. The "
                          f"remaining {spoken(len(s) - 5, 0)} tiles go the same way.") as tr:
            rest = s[t.grid[1]:]
            for st in rest:
                self.grid_step(st, tr.duration / len(rest) * 0.95, highlight=st is nxt)
        self.wait_for(tr)
        done = VGroup(label(f"{CHECK} O = sdpa", size=SIZES.BODY, color=COLORS.WEIGHT),
                      label("max difference", size=SIZES.LABEL, color=COLORS.WEIGHT),
                      label(shown(t.max_diff, sci=2), size=SIZES.LABEL, color=COLORS.WEIGHT))
        done.arrange(DOWN, buff=BUFF.SMALL)
        done.move_to([min(O_X, SAFE.right - done.width / 2), END_Y - done.height / 2, 0])
        with self.narrate(f"All {spoken(len(s), 0)} tiles done. O matches the reference attention to "
                          f"{spoken(t.max_diff, sci=2)}. The full score matrix never existed in one piece: at any "
                          "moment, only one tile of it did.") as tr:
            self.play(FadeIn(done, shift=UP * 0.2), FadeOut(self.hl), run_time=0.3 * tr.duration)
        self.wait_for(tr)
        self.play(FadeOut(VGroup(self.stats, self.o, self.o_title, self.gap, done, self.grid_extra, self.cite)),
                  run_time=0.6)

    # ------------------------------------------------------------------------------------ causal
    def causal(self):
        c = data.causal_tiles()
        g = self.grid
        title = heading("Causal: skip whole tiles")
        self.play(*(cell.animate.set_fill(UNLIT, 1) for row in g.cells for cell in row), FadeIn(title),
                  run_time=0.6)
        marks = g.mark_tiles(c.status)
        rows = [("skipped, never loaded", c.skipped, COLORS.MUTED), ("masked, on the diagonal", c.masked, COLORS.MASK),
                ("full, no mask needed", c.full, COLORS.TEXT), ("K and V elements not read", c.kv_reads_saved,
                                                                  COLORS.K)]
        card = VGroup()
        for k, (name, v, col) in enumerate(rows):
            n = label(name, size=SIZES.LABEL, color=col)
            val = label(grouped(v), size=SIZES.BODY, color=col, mono=True)
            n.move_to([1.0 + n.width / 2, 1.6 - 0.7 * k, 0])
            val.move_to([SAFE.right - val.width / 2, 1.6 - 0.7 * k, 0])
            card.add(VGroup(n, val))
        check = label(f"{CHECK} O = causal sdpa, max difference {shown(c.out_diff, sci=2)}", size=SIZES.LABEL,
                      color=COLORS.WEIGHT)
        fit_within(check, SAFE.right - 1.0, None)
        check.move_to([1.0 + check.width / 2, -1.7, 0])
        bi = g.block_rows
        with self.narrate("With a causal mask, a query sees only keys at or before it. A tile above the diagonal "
                          f"is masked entirely, so it is never loaded: {spoken(c.skipped, 0)} of "
                          f"{spoken(c.computed + c.skipped, 0)} tiles skipped, and {spoken(c.kv_reads_saved, 0)} "
                          "key and value elements never read.") as tr:
            self.play(FadeIn(VGroup(*marks.skipped.values())), run_time=0.3 * tr.duration)
            self.play(FadeIn(card[0]), FadeIn(card[3]), run_time=0.2 * tr.duration)
        self.wait_for(tr)
        with self.narrate(f"The {spoken(c.masked, 0)} diagonal tiles are computed with the mask applied inside, "
                          f"{spoken(c.masked_entries[0], 0)} entries each set to minus infinity; the other "
                          f"{spoken(c.full, 0)} need no mask at all. The result is exact causal attention, "
                          f"to {spoken(c.out_diff, sci=2)}.") as tr:
            self.play(LaggedStart(*(a for i, j in c.order for a in light(g, (i * bi, (i + 1) * bi),
                                                                           (j * bi, (j + 1) * bi))),
                                  lag_ratio=0.01), FadeIn(VGroup(*marks.masked.values())),
                      run_time=0.35 * tr.duration)
            self.play(FadeIn(card[1]), FadeIn(card[2]), run_time=0.15 * tr.duration)
            self.play(FadeIn(check), run_time=0.15 * tr.duration)
        self.wait_for(tr)
        self.clear()

    # ------------------------------------------------------------------------------------ block sizes
    def sizes(self):
        b = data.block_sizes()
        title = heading("How big is a tile on a real GPU?")
        eq = equation("flash_block_sizes")
        eq.move_to([0, EQ_Y, 0])
        table = DataTable(["GPU, shared memory", "d", "M, fp16 elements", "B_c keys", "B_r queries"],
                          [[r.device, shown(r.d, 0), grouped(r.m_elems), shown(r.b_c, 0), shown(r.b_r, 0)]
                           for r in b.rows], font_size=SIZES.LABEL, row_height=0.6)
        fit_within(table, SAFE.width, None)
        table.move_to([0, -0.35, 0])
        cite = CitationLine(b.source)
        a64, a128, h64, h128 = b.rows
        with self.narrate("How large are the tiles on a real GPU? The FlashAttention paper sizes them from M, the "
                          "on-chip memory of one thread block, so that query, key, value and output blocks fit "
                          "together: B c is M over four d, rounded up; B r is the smaller of that and d.") as tr:
            self.play(FadeIn(title), FadeIn(eq), FadeIn(cite), run_time=0.3 * tr.duration)
            self.play(FadeIn(table.header), Create(table.rule), run_time=0.2 * tr.duration)
        with self.narrate(f"An A100 lets a block use {spoken(a64.m_elems, 0)} half-precision numbers. With d "
                          f"{spoken(a64.d, 0)}, that is {spoken(a64.b_c, 0)} keys by {spoken(a64.b_r, 0)} queries; "
                          f"with d {spoken(a128.d, 0)}, {spoken(a128.b_c, 0)} by {spoken(a128.b_r, 0)}. An H100 "
                          f"gives {spoken(h64.b_c, 0)} and {spoken(h128.b_c, 0)} keys.") as tr:
            self.play(LaggedStart(*(FadeIn(row, shift=RIGHT * 0.2) for row in table.rows), lag_ratio=0.4),
                      run_time=0.7 * tr.duration)
        self.wait_for(tr)
        with self.narrate("Real kernels round these to powers of two, tuned per GPU. And the megabytes of on-chip "
                          "memory on a spec sheet are summed over all the SMs: a block sees one SM's share.") as tr:
            self.play(Create(table.highlight_row(0)), run_time=0.2 * tr.duration)
        self.wait_for(tr)
        self.clear()

    # ------------------------------------------------------------------------------------ ragged
    def ragged(self):
        rg = data.ragged_tiles()
        title = heading(f"N = {rg.n}: a partial last tile")
        g = TileGrid(rg.n, rg.n, rg.block, rg.block, cell_size=0.27, row_label="queries", col_label="keys",
                     font_size=SIZES.LABEL)
        at_corner(g, -4.4, 2.2)
        last_r, last_c = len(rg.row_blocks) - 1, len(rg.col_blocks) - 1
        edge = VGroup(*(g.highlight_tile(i, last_c, COLORS.K, 0.25) for i in range(last_r)),
                      *(g.highlight_tile(last_r, j, COLORS.Q, 0.25) for j in range(last_c)))
        corner = g.highlight_tile(last_r, last_c, COLORS.ACCENT, 0.5)
        r0, r1 = rg.row_blocks[-1]
        lines = VGroup(label(f"blocks of {rg.block}: the last holds {r1 - r0}", size=SIZES.LABEL),
                       label(f"corner tile {rg.last_tile_shape[0]} × {rg.last_tile_shape[1]}", size=SIZES.LABEL,
                             color=COLORS.ACCENT),
                       label(f"{rg.steps} tiles", size=SIZES.LABEL),
                       VGroup(label(f"{CHECK} O = sdpa", size=SIZES.LABEL, color=COLORS.WEIGHT),
                              label(f"max difference {shown(rg.max_diff, sci=2)}", size=SIZES.LABEL,
                                    color=COLORS.WEIGHT)).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
                       ).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.LARGE)
        lines.move_to([1.5 + lines.width / 2, 0.2, 0])
        with self.narrate(f"And when the length is not a multiple of the block? Take {spoken(rg.n, 0)} tokens: "
                          f"{spoken(len(rg.row_blocks) - 1, 0)} full blocks and a last block of {spoken(r1 - r0, 0)}. "
                          "The loop simply clips its bounds.") as tr:
            self.play(FadeIn(title), FadeIn(g), run_time=0.3 * tr.duration)
            self.play(FadeIn(edge), FadeIn(lines[0]), run_time=0.3 * tr.duration)
        with self.narrate(f"The corner tile is {spoken(rg.last_tile_shape[0], 0)} by "
                          f"{spoken(rg.last_tile_shape[1], 0)}, {spoken(rg.steps, 0)} tiles in all, and the output "
                          f"still matches, to {spoken(rg.max_diff, sci=2)}.") as tr:
            self.play(FadeIn(corner), FadeIn(lines[1]), run_time=0.3 * tr.duration)
            self.play(FadeIn(lines[2]), run_time=0.15 * tr.duration)
            self.play(FadeIn(lines[3]), Indicate(corner), run_time=0.3 * tr.duration)
        self.wait_for(tr)
