"""L05.1 Core KV caching concept: a five-token prompt and three generated tokens from the seeded, untrained
TinyDecoder, with and without the cache (same seed, same tokens). Per step the no-cache side re-lights the whole
t × t causal grid; the cache side computes only the new bottom row and appends one K row and one V row to each
layer's stack (``CacheStack``). Work counters per step (tokens run, exact attention FLOPs, torch's FLOP counter
over the whole step); the outputs agree to float64 rounding. Why it is allowed: the K and V rows of old positions
do not change when a token is appended, in every layer (E5.1, difference 0), while the same weights without the
mask (an encoder) move them; so a decode step is one softmax row against the cache (E5.2) and no past query is kept.

    manim -pql scenes/l05_kv_cache/l05_caching.py CachingConcept

Numbers: ``data.generation_trace()`` and ``data.prefix_invariance()``; this file holds layout and timing only.
"""
from __future__ import annotations

import numpy as np
from manim import (DOWN, LEFT, RIGHT, UP, AnimationGroup, Create, FadeIn, FadeOut, Group, LaggedStart, Line,
                   SurroundingRectangle, Transform, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import grouped, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import AttentionGrid, CacheStack, DataTable, MaskOverlay, fit_within, label
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l05_kv_cache import data

CELL = 0.5                      # attention grid cells (7 × 7 at most: 3.5 units)
COL_LABEL_GAP = 0.16            # clear space between neighbouring column labels ("17" "42", not "1742")
NO_CACHE_CORNER = (-5.95, 2.05)  # top-left of the no-cache grid's cells (the grid grows right and down)
CACHE_CORNER = (-1.45, 2.05)     # top-left of the cache side's grid
PANEL_Y = 2.75                  # panel titles
DIVIDER_X = -2.2
STACK_RIGHT, STACK_TOP = 6.65, 2.4
STACK_ROW, STACK_CELL = 0.26, 0.16
COUNTER_Y = -1.8                # first counter row; rows go down by COUNTER_STEP
COUNTER_STEP = 0.4
COUNTER_VALUE_DX = 4.2          # right edge of the values, from the block's left edge
MASK_OPACITY = 0.4
UNLIT = COLORS.PANEL
TABLE_Y = -0.6
EQ_Y = 1.9
ROW_STACK_TOP, ROW_STACK_ROW = 1.2, 0.22   # the whole cache beside the decode row (last step)
ROW_Y = 0.2                     # the decode row's cells


def tokens_text(ids) -> str:
    return "  ".join(shown(t, 0) for t in ids)


def change(x: float) -> str:
    """A largest change as the table shows it: an exact zero as 0, anything else with three decimals."""
    return shown(x, 3) if x else shown(x, 0)


def tokens_said(ids) -> str:
    ids = [spoken(t, 0) for t in ids]
    return ", ".join(ids[:-1]) + " and " + ids[-1]


class CachingConcept(LectureScene):
    """L05.1: generation with and without the KV cache, side by side; why the old K and V rows can be reused."""

    def construct(self):
        self.g, self.p = data.generation_trace(), data.prefix_invariance()
        self.topic("L05.1", "Core KV caching concept")
        self.setup_stage()
        self.prefill()
        self.decode_steps()
        self.identical()
        self.why_it_works()
        self.one_row()

    # ------------------------------------------------------------------------------------ helpers
    def grid(self, step, corner) -> AttentionGrid:
        """The t × t causal pattern of ``step`` (layer 1, head 1, untrained), cells unlit, mask shaded."""
        t = step.context_len
        ids = [shown(x, 0) for x in self.g.tokens_cache[:t]]
        g = AttentionGrid(step.weights_full, ids, ids, heat=True, show_numbers=False, show_dots=False,
                          cell_size=CELL, caption=None, axis_titles=False, col_label_gap=COL_LABEL_GAP)
        g.shift(np.array([corner[0], corner[1], 0]) - g.cells[0][0].get_corner(UP + LEFT))
        g.lit = [[c.get_fill_color() for c in row] for row in g.cells]
        for i, row in enumerate(g.cells):
            for j, c in enumerate(row):
                if j <= i:
                    c.set_fill(UNLIT, 1)
        g.mask = MaskOverlay(g, np.tril(np.ones((t, t), dtype=bool)), text=None, opacity=MASK_OPACITY)
        g.add(g.mask)
        return g

    @staticmethod
    def light(g: AttentionGrid, rows) -> LaggedStart:
        """Rows ``rows`` of ``g`` take their heat colours, one row after the other (the causal part only)."""
        return LaggedStart(*(AnimationGroup(*(g.cells[i][j].animate.set_fill(g.lit[i][j], 1) for j in range(i + 1)))
                             for i in rows), lag_ratio=0.35)

    def counters(self, x_left: float, step, cache: bool) -> VGroup:
        names = ["generated", "tokens run", "attention FLOPs", "torch FLOPs"]
        block = VGroup()
        for k, name in enumerate(names):
            n = label(name, size=SIZES.LABEL, color=COLORS.MUTED)
            n.move_to([x_left + n.width / 2, COUNTER_Y - k * COUNTER_STEP, 0])
            block.add(VGroup(n, self.counter_value(x_left, k, step, cache)))
        return block

    def counter_value(self, x_left: float, k: int, step, cache: bool):
        g = self.g
        t = step.context_len
        values = [tokens_text(g.tokens_cache[len(g.prompt):t + 1]),
                  grouped(step.tokens_run_cache if cache else step.tokens_run_no_cache),
                  grouped(step.attention_flops_cache if cache else step.attention_flops_no_cache),
                  grouped(step.counted_flops_cache if cache else step.counted_flops_no_cache)]
        v = label(values[k], size=SIZES.LABEL, color=COLORS.TEXT, mono=True)
        return v.move_to([x_left + COUNTER_VALUE_DX - v.width / 2, COUNTER_Y - k * COUNTER_STEP, 0])

    def counter_boxes(self, k: int, color: str = COLORS.ACCENT) -> VGroup:
        """Frames around counter row ``k`` on both sides (not added)."""
        return VGroup(*(SurroundingRectangle(b[k], color=color, buff=0.06)
                        for b in (self.left_counters, self.right_counters)))

    def update_counters(self, step) -> list:
        anims = []
        for block, x_left, cache in ((self.left_counters, self.left_x, False), (self.right_counters, self.right_x,
                                                                                  True)):
            for k, row in enumerate(block):
                anims.append(Transform(row[1], self.counter_value(x_left, k, step, cache)))
        return anims

    # ------------------------------------------------------------------------------------ the stage
    def setup_stage(self):
        g = self.g
        self.title = heading("One token at a time: recompute, or cache")
        self.caption = label(g.caption, size=SIZES.SMALL, color=COLORS.MUTED)
        fit_within(self.caption, SAFE.width, None)
        self.caption.move_to([0, SAFE.bottom + self.caption.height / 2, 0])
        with self.narrate("When a decoder generates text one token at a time, what work can it skip? Let's watch "
                          "our tiny decoder: two layers, seeded but untrained weights, so the tokens it draws are "
                          "random, not language.") as t:
            self.play(FadeIn(self.title), run_time=0.3 * t.duration)
            self.play(FadeIn(self.caption), run_time=0.2 * t.duration)
        s0 = g.steps[0]
        self.no_cache_grid = self.grid(s0, NO_CACHE_CORNER)
        self.cache_grid = self.grid(s0, CACHE_CORNER)
        no_title = label("no cache", size=SIZES.BODY, color=COLORS.TEXT)
        no_title.move_to([(SAFE.left + DIVIDER_X) / 2, PANEL_Y, 0])
        yes_title = label("with a KV cache", size=SIZES.BODY, color=COLORS.ACCENT)
        yes_title.move_to([(DIVIDER_X + SAFE.right) / 2, PANEL_Y, 0])
        divider = Line([DIVIDER_X, PANEL_Y + 0.2, 0], [DIVIDER_X, COUNTER_Y - 3.5 * COUNTER_STEP, 0],
                       stroke_color=COLORS.GRID, stroke_width=2)
        self.panels = VGroup(no_title, yes_title, divider)
        with self.narrate(f"The prompt is {spoken(len(g.prompt), 0)} tokens. We generate "
                          f"{spoken(len(g.steps), 0)} more, twice, with the same seed: once recomputing "
                          "everything at every step, and once with a key value cache.") as t:
            self.play(FadeIn(self.panels), run_time=0.3 * t.duration)
            self.play(FadeIn(self.no_cache_grid), FadeIn(self.cache_grid), run_time=0.4 * t.duration)

    def prefill(self):
        g, s0 = self.g, self.g.steps[0]
        n = len(g.prompt)
        vmax = self.vmax = float(np.abs(np.concatenate([np.ravel(g.cache_k), np.ravel(g.cache_v)])).max())
        empty = [np.zeros((0, g.head_dim))] * g.n_layers
        self.stack = CacheStack(empty, empty, [], capacity=len(g.cache_k[0]), vmax=vmax, cell_width=STACK_CELL,
                                row_height=STACK_ROW)
        self.stack.move_to([STACK_RIGHT - self.stack.width / 2, STACK_TOP - self.stack.height / 2, 0])
        self.left_x = SAFE.left + 0.1
        self.right_x = DIVIDER_X + 0.2
        self.left_counters = self.counters(self.left_x, s0, False)
        self.right_counters = self.counters(self.right_x, s0, True)
        for block in (self.left_counters, self.right_counters):   # nothing generated yet
            block[0][1].set_opacity(0)
        with self.narrate("The first step is the same on both sides. The whole prompt runs through the model, and "
                          "each query attends to itself and the keys before it: the causal grid, "
                          f"{spoken(n, 0)} by {spoken(n, 0)}. The shaded cells are masked.") as t:
            self.play(self.light(self.no_cache_grid, range(n)), self.light(self.cache_grid, range(n)),
                      run_time=0.6 * t.duration)
            self.play(FadeIn(VGroup(*(row[0] for row in self.left_counters)),
                             VGroup(*(row[0] for row in self.right_counters)),
                             VGroup(*(row[1] for row in self.left_counters[1:])),
                             VGroup(*(row[1] for row in self.right_counters[1:]))), run_time=0.3 * t.duration)
        with self.narrate(f"The cache side keeps something: in every layer, the keys and values of all "
                          f"{spoken(n, 0)} positions. Then both sides draw the first new token: "
                          f"token {spoken(s0.token, 0)}.") as t:
            self.play(FadeIn(self.stack), run_time=0.15 * t.duration)
            self.play(self.stack.append([k[:n] for k in g.cache_k], [v[:n] for v in g.cache_v],
                                        [shown(x, 0) for x in g.prompt]), run_time=0.45 * t.duration)
            self.play(*(block[0][1].animate.set_opacity(1) for block in (self.left_counters, self.right_counters)),
                      run_time=0.2 * t.duration)

    # ------------------------------------------------------------------------------------ decode
    def decode_step(self, step, tr):
        g = self.g
        t = step.context_len
        new_no, new_c = self.grid(step, NO_CACHE_CORNER), self.grid(step, CACHE_CORNER)
        self.play(FadeOut(self.no_cache_grid), FadeIn(new_no), FadeOut(self.cache_grid), FadeIn(new_c),
                  self.stack.unhighlight(), run_time=0.08 * tr.duration)
        self.no_cache_grid, self.cache_grid = new_no, new_c
        frame_all = SurroundingRectangle(new_no.cells, color=COLORS.ACCENT, buff=0.04, stroke_width=4)
        frame_row = new_c.row_box(t - 1, color=COLORS.ACCENT, buff=0.04, stroke_width=4)
        self.play(self.light(new_no, range(t)), Create(frame_all), self.light(new_c, [t - 1]), Create(frame_row),
                  self.stack.append([k[t - 1:t] for k in g.cache_k], [v[t - 1:t] for v in g.cache_v],
                                    [shown(g.tokens_cache[t - 1], 0)]),
                  run_time=0.35 * tr.duration)
        anims = self.update_counters(step)
        self.play(*anims, run_time=0.12 * tr.duration)
        return VGroup(frame_all, frame_row)

    def decode_steps(self):
        g = self.g
        s1, s2 = g.steps[1], g.steps[2]
        t1 = s1.context_len
        with self.narrate(f"Now the difference. Without the cache, the model runs all {spoken(t1, 0)} tokens again "
                          f"and re-lights the whole {spoken(t1, 0)} by {spoken(t1, 0)} grid. With the cache, it runs "
                          f"only the new token: one query, one new row against {spoken(t1, 0)} keys, and one K row "
                          "and one V row appended to each layer.") as tr:
            frames = self.decode_step(s1, tr)
        with self.narrate(f"Attention FLOPs for this step: {spoken(s1.attention_flops_no_cache, 0)} against "
                          f"{spoken(s1.attention_flops_cache, 0)}.") as tr:
            boxes = self.counter_boxes(2)
            self.play(Create(boxes), run_time=0.3 * tr.duration)
        self.wait_for(tr)
        self.play(FadeOut(frames), FadeOut(boxes), run_time=0.4)
        t2 = s2.context_len
        with self.narrate(f"Once more: {spoken(t2, 0)} tokens and the full grid on one side; one token, one row, "
                          f"and one more K and V row on the other, {spoken(s2.attention_flops_no_cache, 0)} "
                          f"attention FLOPs against {spoken(s2.attention_flops_cache, 0)}. Counting every matrix "
                          f"product with torch's FLOP counter, the whole step costs "
                          f"{spoken(s2.counted_flops_no_cache, 0)} against {spoken(s2.counted_flops_cache, 0)}."
                          ) as tr:
            frames = self.decode_step(s2, tr)
            self.boxes = VGroup(frames, self.counter_boxes(3))
            self.play(Create(self.boxes[1]), run_time=0.15 * tr.duration)
        self.wait_for(tr)

    # ------------------------------------------------------------------------------------ identical
    def identical(self):
        g = self.g
        new = g.tokens_cache[len(g.prompt):]
        logit = max(s.max_logit_diff for s in g.steps)
        lines = VGroup(label("outputs agree", size=SIZES.BODY, color=COLORS.WEIGHT),
                       label(f"same tokens: {tokens_text(new)}", size=SIZES.LABEL),
                       label("max logit difference:", size=SIZES.LABEL),
                       label(shown(logit, sci=2), size=SIZES.LABEL, mono=True)).arrange(DOWN, aligned_edge=LEFT,
                                                                                         buff=BUFF.MEDIUM)
        frame = SurroundingRectangle(lines, color=COLORS.WEIGHT, buff=BUFF.SMALL, corner_radius=0.12)
        frame.set_fill(COLORS.PANEL, opacity=0.6)
        card = VGroup(frame, lines)
        card.move_to([(self.cache_grid.cells.get_right()[0] + SAFE.right) / 2, 0.6, 0])
        with self.narrate(f"And the outputs agree: both sides draw {tokens_said(new)}. The logits differ by at "
                          f"most {spoken(logit, sci=2)}, rounding error in double precision, nothing more.") as t:
            self.play(FadeOut(self.stack), FadeOut(self.boxes), run_time=0.15 * t.duration)
            self.play(FadeIn(card), Create(self.counter_boxes(0, COLORS.WEIGHT)), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # ------------------------------------------------------------------------------------ why
    def why_it_works(self):
        p = self.p
        title = heading("Why the old rows can be reused")
        eq = equation("kv_prefix_invariance")
        fit_within(eq, SAFE.width, None)
        eq.move_to([0, EQ_Y, 0])
        layers = range(len(p.decoder_k_diff))
        header = ["model"] + [f"layer {ell + 1} {w}" for ell in layers for w in "KV"]
        dec = [p.decoder_k_diff, p.decoder_v_diff]
        enc = [p.encoder_k_diff, p.encoder_v_diff]
        rows = [["decoder (causal mask)"] + [change(dec[w][ell]) for ell in layers for w in (0, 1)],
                ["encoder (no mask)"] + [change(enc[w][ell]) for ell in layers for w in (0, 1)]]
        table = DataTable(header, rows, title="largest change of an old K or V entry after one token is appended",
                          font_size=SIZES.BODY, row_height=0.7)
        fit_within(table, SAFE.width, None)
        table.move_to([0, TABLE_Y, 0])
        caption = label(self.g.caption, size=SIZES.SMALL, color=COLORS.MUTED)
        fit_within(caption, SAFE.width, None)
        caption.move_to([0, SAFE.bottom + caption.height / 2, 0])
        with self.narrate("Why is this allowed? Run the model on the prompt, then on the prompt plus one token, and "
                          "compare the keys and values of the old positions, layer by layer.") as t:
            self.play(FadeIn(title), FadeIn(eq), FadeIn(caption), run_time=0.3 * t.duration)
            self.play(FadeIn(table.title), FadeIn(table.header), Create(table.rule), run_time=0.3 * t.duration)
        with self.narrate("With the causal mask the change is exactly zero, in both layers: each position only "
                          "ever sees itself and the tokens before it, so a token appended later cannot touch it."
                          ) as t:
            hl = table.highlight_row(0, color=COLORS.WEIGHT)
            self.play(FadeIn(table.rows[0], shift=RIGHT * 0.2), run_time=0.3 * t.duration)
            self.play(Create(hl), run_time=0.2 * t.duration)
        self.wait_for(t)
        moved = max(enc[0])
        with self.narrate("Take the same weights without the mask, an encoder. Layer one only reads the embeddings, "
                          f"but in layer two the keys move by {spoken(moved, 3)}: every old position has now seen "
                          "the new token. An encoder cannot cache this way.") as t:
            self.play(FadeOut(hl), FadeIn(table.rows[1], shift=RIGHT * 0.2), run_time=0.3 * t.duration)
            cells = VGroup(*(table.highlight_cell(1, 1 + 2 * ell + w, color=COLORS.V)
                             for ell in layers for w in (0, 1) if enc[w][ell] > 0))
            self.play(Create(cells), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # ------------------------------------------------------------------------------------ one row
    def one_row(self):
        g = self.g
        last = g.steps[-1]
        t = last.context_len
        title = heading("A decode step is one row")
        eq = equation("decode_attention_row")
        eq.move_to([0, EQ_Y, 0])
        ids = [shown(x, 0) for x in g.tokens_cache[:t]]
        cache = CacheStack(g.cache_k, g.cache_v, ids, vmax=self.vmax, cell_width=STACK_CELL, row_height=ROW_STACK_ROW)
        cache.move_to([SAFE.right - BUFF.MEDIUM - cache.width / 2, ROW_STACK_TOP - cache.height / 2, 0])
        room = cache.get_left()[0] - SAFE.left - 0.5
        row = AttentionGrid([last.attention_row], [ids[-1]], ids, cell_size=0.75, show_dots=False, axis_titles=False,
                            caption="newest query, cached keys (layer 1, head 1, untrained)", font_size=SIZES.LABEL)
        fit_within(row, room, None)
        row.move_cells_to(SAFE.left + room / 2 + 0.3, ROW_Y)
        keep = VGroup(label("kept per layer: K and V rows", size=SIZES.BODY),
                      label(f"past queries kept: {shown(g.queries_kept, 0)}", size=SIZES.BODY)
                      ).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.MEDIUM)
        fit_within(keep, room, None)
        keep.move_to([row.cells.get_x(), ROW_Y - 1.9, 0])
        with self.narrate("So a decode step is a single row: the new query against the cached keys, one softmax, "
                          "and a weighted sum of the cached values.") as tr:
            self.play(FadeIn(title), FadeIn(eq), run_time=0.25 * tr.duration)
            self.play(FadeIn(cache), run_time=0.25 * tr.duration)
            self.play(FadeIn(row), run_time=0.3 * tr.duration)
        frame = SurroundingRectangle(cache, color=COLORS.ACCENT, buff=BUFF.SMALL)
        with self.narrate("Only K and V are reused. The past queries are never needed again, so the cache holds "
                          "none of them.") as tr:
            self.play(Create(frame), FadeIn(keep[0], shift=UP * 0.2), run_time=0.3 * tr.duration)
            self.play(FadeIn(keep[1], shift=UP * 0.2), run_time=0.2 * tr.duration)
        self.wait_for(tr)
