"""L06.5 Flash Attention 1 vs 2: the two loop orders side by side on the running example (N = 16, d = 4,
blocks of 4), each a ``TileGrid`` driven by its trace: FlashAttention-1's outer loop runs over K/V blocks and
its inner loop over Q blocks (O_i, ℓ_i, m_i read from and written back to HBM after every tile, O renormalised
each time); FlashAttention-2's outer loop runs over Q blocks (Õ kept un-normalised on chip, one division and
one write of O and its LSE per row block). ``StepCounter``s tick the HBM reads, writes, O-tile writes and
divisions per trace step; both give the same O. Then E6.7 (FA-1's update) against E6.2 (the online-softmax
update), the cited A100 matmul vs non-matmul throughput (FA-2 §3.1), the launch picture (``SMOccupancy``: FA-1
one thread block per batch × head, FA-2 also one per Q block), split-Q across warps, and the published FA-2
and FA-3 figures (cited only).

    manim -pql scenes/l06_flash/l06_versions.py FlashVersions

Numbers: ``data.loop_orders()``, ``data.parallelism()``, ``data.versions_cited()``; formulas E6.7
(``fa1_output_update``) and E6.2 (``online_softmax_update``). This file holds layout and timing only.
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Create, DashedVMobject, FadeIn, FadeOut, Group, Line, Rectangle,
                   RoundedRectangle, SurroundingRectangle, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import grouped, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import SMOccupancy, StepCounter, TileGrid, equation_rows, fit_within, label
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.cited import CitedBars
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.text import paragraph
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l06_flash import data

PANEL_X = (-3.55, 3.55)        # centres of the FA-1 and FA-2 halves
PANEL_TITLE_Y = 2.75              # "FlashAttention-k"; the loop order under it
CELL = 0.13                     # TileGrid cells: 16 × 16 → 2.08 units
GRID_DX = -0.55                # the grid's cells left of the panel centre (the O column goes right)
GRID_Y = 1.0
O_COL_W = 0.42                 # the "O in HBM" column, one box per Q block
COUNTER_Y = -2.12
COUNTER_H = 2.9                # the card's height at most (below the grid's labels)
SLOW_STEPS = (4, 8)            # trace steps narrated one by one, then the rest quickly
EQ_SIZE = 36
SM_COLUMNS = 12
SM_CELL = 0.2


def dashed_card(body: VGroup, width: float, height: float | None = None) -> VGroup:
    """A dashed frame (a citation, not our measurement) around ``body``, its text at the top left."""
    h = (height or body.height) + 2 * BUFF.MEDIUM
    frame = DashedVMobject(RoundedRectangle(corner_radius=0.12, width=width + 2 * BUFF.MEDIUM, height=h)
                           .set_stroke(COLORS.MUTED, 1.5), num_dashes=90)
    body.move_to(frame, aligned_edge=UP + LEFT).shift(DOWN * BUFF.MEDIUM + RIGHT * BUFF.MEDIUM)
    return VGroup(frame, body)


class FlashVersions(LectureScene):
    """L06.5: FA-1 vs FA-2 loop orders with HBM counters, E6.7 vs E6.2, occupancy and split-Q, cited figures."""

    def construct(self):
        self.lo, self.par, self.cited = data.loop_orders(), data.parallelism(), data.versions_cited()
        self.topic("L06.5", "Flash Attention 1 vs 2")
        self.setup_stage()
        self.loop_orders()
        self.totals()
        self.equations()
        self.rescaling_cost()
        self.occupancy()
        self.split_q()
        self.horizon()

    # ------------------------------------------------------------------------------------ the two traces
    def panel(self, order, x: float, title: str, color: str) -> VGroup:
        grid = TileGrid(self.lo.n, self.lo.n, self.lo.block, self.lo.block, cell_size=CELL, show_block_sizes=False,
                        font_size=SIZES.LABEL)
        grid.shift([x + GRID_DX - grid.cells.get_x(), GRID_Y - grid.cells.get_y(), 0])
        name, loop = title.split(": ")
        head = VGroup(label(name, size=SIZES.BODY, color=color), label(loop, size=SIZES.LABEL, color=COLORS.TEXT))
        head.arrange(DOWN, buff=BUFF.TIGHT).move_to([x, PANEL_TITLE_Y - head.height / 2 + 0.3, 0])
        boxes = VGroup()
        left = grid.get_right()[0] + BUFF.MEDIUM
        for bi in range(grid.n_tiles[0]):
            t = grid.tile(bi, 0)
            boxes.add(Rectangle(width=O_COL_W, height=t.height).set_stroke(COLORS.GRID, 2)
                      .set_fill(COLORS.PANEL, 1).move_to([left + O_COL_W / 2, t.get_y(), 0]))
        o_name = label("O in HBM", size=SIZES.LABEL, color=COLORS.OUTPUT)
        o_name.next_to(boxes, DOWN, buff=BUFF.SMALL)
        steps = order.steps
        reads = [0, *(s.cum_reads for s in steps)]
        writes = [order.init_writes, *(s.cum_writes for s in steps)]
        counter = StepCounter("HBM traffic (elements)",
                              [("reads", reads), ("writes", writes),
                               ("O tiles divided by ℓ", [0, *(s.cum_normalisations for s in steps)]),
                               ("O tiles written", [0, *(s.o_tile_writes for s in steps)])],
                              increments=[[0, *(s.reads for s in steps)],
                                          [order.init_writes, *(s.writes for s in steps)], None, None],
                              steps=range(len(steps) + 1), step_text=lambda k: f"tiles done: {grouped(k)}",
                              colors=[COLORS.K, COLORS.OUTPUT, COLORS.SCORE, COLORS.OUTPUT], row_height=0.36,
                              title_size=SIZES.LABEL)
        fit_within(counter, None, COUNTER_H)
        counter.place(x, COUNTER_Y)
        cursor = grid.highlight_tile(steps[0].i, steps[0].j)
        p = VGroup(head, grid, boxes, o_name, counter)
        p.grid, p.boxes, p.counter, p.cursor, p.order, p.head = grid, boxes, counter, cursor, order, head
        p.visited, p.written = VGroup(), set()
        return p

    def setup_stage(self):
        lo = self.lo
        self.title = heading("Same tiles, different loop order")
        self.fa1 = self.panel(lo.fa1, PANEL_X[0], f"FlashAttention-1: outer loop over {lo.fa1.outer}", COLORS.K)
        self.fa2 = self.panel(lo.fa2, PANEL_X[1], f"FlashAttention-2: outer loop over {lo.fa2.outer}", COLORS.Q)
        self.divider = Line([0, PANEL_TITLE_Y + 0.2, 0], [0, SAFE.bottom + 0.1, 0], stroke_color=COLORS.GRID,
                            stroke_width=2)
        with self.narrate("FlashAttention one and two compute exactly the same tiles of the score matrix. What "
                          "changed is the order of the two loops, and where the running output lives.") as t:
            self.play(FadeIn(self.title), run_time=0.2 * t.duration)
            self.play(FadeIn(self.fa1.head), FadeIn(self.fa1.grid), FadeIn(self.fa2.head), FadeIn(self.fa2.grid),
                      Create(self.divider), run_time=0.4 * t.duration)
        with self.narrate(f"Both run on our example: {spoken(lo.n, 0)} tokens, head dimension {spoken(lo.d, 0)}, "
                          f"blocks of {spoken(lo.block, 0)}. Beside each grid, the output in HBM, and below it, "
                          "the elements each version moves between HBM and the chip.") as t:
            self.play(*(FadeIn(VGroup(p.boxes, p[3])) for p in (self.fa1, self.fa2)), run_time=0.3 * t.duration)
            self.play(FadeIn(self.fa1.counter), FadeIn(self.fa2.counter), run_time=0.3 * t.duration)
        self.wait_for(t)

    def step_anims(self, p, k: int) -> list:
        """Trace step ``k`` (0-based) of panel ``p``: the cursor on tile (i, j), the tile marked done, the O box
        of row block i lit when the step writes O, the counter ticking."""
        s = p.order.steps[k]
        tile = p.grid.tile(s.i, s.j)
        done = p.grid.highlight_tile(s.i, s.j, color=COLORS.WEIGHT, opacity=0.25).set_stroke(width=0)
        p.visited.add(done)
        anims = [p.cursor.animate.move_to(tile), FadeIn(done), p.counter.show_step(k + 1)]
        if s.writes > 0:
            p.written.add(s.i)
        for bi, box in enumerate(p.boxes):
            now = bi == s.i and s.writes > 0
            anims.append(box.animate.set_stroke(COLORS.ACCENT if now else COLORS.GRID, 5 if now else 2)
                         .set_fill(COLORS.OUTPUT if bi in p.written else COLORS.PANEL, 0.7 if bi in p.written else 1))
        return anims

    def run_steps(self, ks, duration: float):
        each = duration / len(ks)
        for k in ks:
            self.play(*self.step_anims(self.fa1, k), *self.step_anims(self.fa2, k), run_time=each)

    def loop_orders(self):
        a, b = SLOW_STEPS
        with self.narrate("Look at the loop order first, because many explainers get it wrong. Version one's outer "
                          "loop runs over key and value blocks: it loads one K V block, then walks down the column "
                          "through every query block. Version two turns it around: its outer loop runs over query "
                          "blocks, and the keys and values stream past one query block, along the row.") as t:
            self.play(FadeIn(self.fa1.cursor), FadeIn(self.fa2.cursor), run_time=0.1 * t.duration)
            self.allow_overlap(self.fa1.cursor, self.fa1.grid, reason="the cursor marks the current tile")
            self.allow_overlap(self.fa2.cursor, self.fa2.grid, reason="the cursor marks the current tile")
            self.run_steps(range(0, a), 0.8 * t.duration)
        with self.narrate("That order decides the traffic. In version one, the query block's output, with its "
                          "running max and sum, is read from HBM at every step, rescaled, divided by the new sum, "
                          "and written back. In version two the output stays on chip, un-normalised, and is "
                          "written once, after the last key block, with one log-sum-exp per row.") as t:
            self.run_steps(range(a, b), 0.85 * t.duration)
        self.wait_for(t)
        with self.narrate("Let the rest run.") as t:
            self.run_steps(range(b, len(self.lo.fa1.steps)), t.duration)

    def totals(self):
        f1, f2 = self.lo.fa1, self.lo.fa2
        with self.narrate(f"At the end, version one has written an output tile {spoken(f1.o_tile_writes, 0)} "
                          f"times and divided by the sum {spoken(f1.normalisations, 0)} times: once per key block, "
                          f"for every query block. Version two: {spoken(f2.o_tile_writes, 0)} and "
                          f"{spoken(f2.normalisations, 0)}.") as t:
            boxes = VGroup(*(VGroup(p.counter.highlight_row(2), p.counter.highlight_row(3))
                             for p in (self.fa1, self.fa2)))
            self.play(FadeOut(self.fa1.cursor), FadeOut(self.fa2.cursor), Create(boxes), run_time=0.3 * t.duration)
        self.wait_for(t)
        note = label(f"moved in all: {grouped(f1.io_elements)} vs {grouped(f2.io_elements)} elements · same O "
                     f"(largest difference {shown(self.lo.same_output, sci=1)})", size=SIZES.LABEL,
                     color=COLORS.WEIGHT)
        fit_within(note, SAFE.width, None)
        note.move_to(self.title, aligned_edge=LEFT)
        with self.narrate(f"In all, version one moves {spoken(f1.io_elements, 0)} elements, version two "
                          f"{spoken(f2.io_elements, 0)}. And the outputs are the same: they differ by "
                          f"{spoken(self.lo.same_output, sci=1)}, rounding in double precision.") as t:
            rows = VGroup(*(VGroup(p.counter.highlight_row(0), p.counter.highlight_row(1))
                            for p in (self.fa1, self.fa2)))
            self.play(FadeOut(boxes), Create(rows), run_time=0.3 * t.duration)
            self.play(FadeOut(self.title), FadeIn(note, shift=DOWN * 0.2), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # ------------------------------------------------------------------------------------ E6.7 vs E6.2
    def equations(self):
        lo = self.lo
        title = heading("Normalise every step, or once")
        e1 = equation("fa1_output_update", font_size=EQ_SIZE)
        fit_within(e1, SAFE.width - 0.6, None)
        e2 = equation_rows("online_softmax_update", font_size=EQ_SIZE)
        fit_within(e2, SAFE.width - 0.6, None)
        t1 = label("FlashAttention-1, every tile (O in HBM, normalised)", size=SIZES.LABEL, color=COLORS.K)
        s1 = label(lo.source_fa1, size=SIZES.SMALL, color=COLORS.MUTED)
        t2 = label("FlashAttention-2, along the row (Õ on chip), one division at the end", size=SIZES.LABEL,
                   color=COLORS.Q)
        s2 = label(lo.source_fa2, size=SIZES.SMALL, color=COLORS.MUTED)
        for s in (t1, t2, s1, s2):
            fit_within(s, SAFE.width - 0.6, None)
        top = VGroup(t1, e1, s1).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        low = VGroup(t2, e2, s2).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        VGroup(top, low).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.LARGE)
        VGroup(top, low).move_to([0, (SAFE.top - 0.7 + SAFE.bottom) / 2, 0]).align_to([SAFE.left + 0.2, 0, 0],
                                                                                      LEFT)
        with self.narrate("Here is version one's update, from the first paper. The stored output is multiplied "
                          "back by its old sum, rescaled to the new max, the new block is added, and everything "
                          "is divided by the new sum. A normalisation at every step.") as t:
            self.play(FadeIn(title), FadeIn(top), run_time=0.3 * t.duration)
            box1 = SurroundingRectangle(e1, color=COLORS.ACCENT, buff=0.08)
            self.play(Create(box1), run_time=0.2 * t.duration)
        self.wait_for(t)
        with self.narrate("Version two keeps the un-normalised output, rescales it only when the max grows, and "
                          "divides by the sum once, at the very end.") as t:
            self.play(FadeOut(box1), FadeIn(low), run_time=0.35 * t.duration)
            box2 = SurroundingRectangle(e2[-1], color=COLORS.ACCENT, buff=0.08)
            self.play(Create(box2), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    def rescaling_cost(self):
        c = self.cited
        title = heading("Why a few divisions matter")
        bars = CitedBars([("A100 throughput (TFLOP/s)", (c.a100_matmul_tflops, c.a100_nonmatmul_tflops))],
                         ["matmul", "non-matmul"], citation=c.fa2_source, width=7.0, font_size=SIZES.LABEL,
                         title_size=SIZES.LABEL, value_strings=[shown(c.a100_matmul_tflops, 0),
                                                                shown(c.a100_nonmatmul_tflops, 1)],
                         colors=[COLORS.ACCENT, COLORS.SCORE], max_height=1.8, bar_width=0.9, spacing=1.0)
        bars.move_to([-2.6, 0, 0]).align_to([0, SAFE.top - 0.95, 0], UP)
        quote = paragraph(wrap(f"“{c.ratio_quote}”", 4.2, SIZES.BODY), size=SIZES.BODY, color=COLORS.TEXT)
        quote.next_to(bars, RIGHT, buff=BUFF.LARGE)
        with self.narrate("Why bother removing a few divisions? The second paper gives the reason. An A100 does "
                          f"{spoken(c.a100_matmul_tflops, 0)} teraflops per second of matrix multiplication in half "
                          f"precision, but only {spoken(c.a100_nonmatmul_tflops, 1)} of everything else.") as t:
            self.play(FadeIn(title), FadeIn(bars), run_time=0.4 * t.duration)
        with self.narrate(f"So each non-matmul flop is {spoken(c.ratio, 0)} times more expensive. Fewer rescalings "
                          "and one division per row keep the chip on matrix multiplies.") as t:
            self.play(FadeIn(quote, shift=LEFT * 0.2), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # ------------------------------------------------------------------------------------ parallelism
    def occupancy(self):
        p = self.par
        case = next(c for c in p.cases if c.batch == 1 and c.sms == max(s for _, s in p.sm_counts))
        a100 = next(c for c in p.cases if c.batch == 1 and c.sms == min(s for _, s in p.sm_counts))
        dev = case.label.split("(")[-1].rstrip(")")
        title = heading(f"Filling the GPU: batch {grouped(case.batch)}, {grouped(case.heads)} heads, "
                        f"{grouped(case.n)} tokens")
        fit_within(title, SAFE.width, None)
        occ = [SMOccupancy(case.sms, blocks, columns=SM_COLUMNS, cell=SM_CELL, title=f"{name} on the {dev}",
                           color=color)
               for name, blocks, color in (("FlashAttention-1", case.fa1_blocks, COLORS.K),
                                           ("FlashAttention-2", case.fa2_blocks, COLORS.Q))]
        for o, x in zip(occ, PANEL_X):
            o.move_to([x, -0.3, 0])
        with self.narrate("The second change is parallelism. Version one launches one thread block per batch "
                          "element and head. Take a long sequence: batch "
                          f"{spoken(case.batch, 0)}, {spoken(case.heads, 0)} heads, {spoken(case.n, 0)} tokens. "
                          f"That is {spoken(case.fa1_blocks, 0)} blocks for the {spoken(case.sms, 0)} streaming "
                          f"multiprocessors of an H100.") as t:
            self.play(FadeIn(title), FadeIn(occ[0]), run_time=0.3 * t.duration)
            self.play(occ[0].launch(), run_time=0.3 * t.duration)
        other = label(f"{a100.label.split('(')[-1].rstrip(')')}: {grouped(a100.fa1_blocks)} of "
                      f"{grouped(a100.sms)} SMs busy", size=SIZES.LABEL, color=COLORS.MUTED)
        other.next_to(occ[0].status, DOWN, buff=BUFF.SMALL)
        with self.narrate(f"{spoken(occ[0].idle(0), 0)} of them sit idle. On an A100, with "
                          f"{spoken(a100.sms, 0)}, it is no better.") as t:
            self.play(occ[0].mark_idle(), run_time=0.3 * t.duration)
            self.play(FadeIn(other), run_time=0.2 * t.duration)
        self.wait_for(t)
        with self.narrate(f"Version two also gives every block of {spoken(case.block_r, 0)} queries its own thread "
                          f"block: {spoken(case.fa2_blocks, 0)} blocks. They fill every multiprocessor, in "
                          f"{spoken(occ[1].waves, 0)} waves.") as t:
            self.play(FadeIn(occ[1]), run_time=0.25 * t.duration)
            self.play(occ[1].launch(lag_ratio=0.005), run_time=0.3 * t.duration)
            self.play(occ[1].show_wave(occ[1].waves - 1), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    def split_q(self):
        p = self.par
        title = heading("Inside a block: split Q across warps")
        strip_h, w = 0.55, 5.0
        warps = VGroup()
        for k in range(p.warps):
            r = Rectangle(width=w, height=strip_h).set_stroke(COLORS.GRID, 2).set_fill(COLORS.head(k), 0.35)
            r.move_to([-3.0, 1.2 - k * (strip_h + 0.08), 0])
            warps.add(VGroup(r, label(f"warp {grouped(k + 1)}: its own Q rows", size=SIZES.LABEL).move_to(r)))
        kv = VGroup(*(VGroup(Rectangle(width=1.4, height=2.4).set_stroke(col, 3).set_fill(col, 0.15),
                             label(name, size=SIZES.BODY, color=col)) for name, col in (("K", COLORS.K),
                                                                                        ("V", COLORS.V))))
        for g in kv:
            g[1].move_to(g[0])
        kv.arrange(RIGHT, buff=BUFF.MEDIUM).move_to([3.6, warps.get_y(), 0])
        lines = VGroup(*(Line(s[0].get_right(), kv.get_left(), stroke_color=COLORS.MUTED, stroke_width=2)
                         for s in warps))
        text = paragraph(wrap(p.split_q, SAFE.width - 0.4, SIZES.LABEL), size=SIZES.LABEL, color=COLORS.TEXT)
        fit_within(text, SAFE.width, None)
        text.next_to(VGroup(warps, kv), DOWN, buff=BUFF.LARGE).align_to([SAFE.left, 0, 0], LEFT)
        src = label(p.source, size=SIZES.SMALL, color=COLORS.MUTED)
        fit_within(src, SAFE.width, None)
        src.move_to([SAFE.left + src.width / 2, SAFE.bottom + src.height / 2, 0])
        with self.narrate(f"Inside a block, version two splits the queries across its {spoken(p.warps, 0)} warps, "
                          "not the keys. Each warp owns its rows and sees all of K and V, so no warp needs "
                          "another's partial sums: there is no reduction through shared memory.") as t:
            self.play(FadeIn(title), FadeIn(warps), FadeIn(kv), run_time=0.3 * t.duration)
            self.play(Create(lines), run_time=0.2 * t.duration)
            self.play(FadeIn(text), FadeIn(src), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # ------------------------------------------------------------------------------------ cited figures
    def horizon(self):
        c = self.cited
        title = heading("Published results, and the horizon")
        width = (SAFE.width - BUFF.LARGE) / 2 - 2 * BUFF.MEDIUM
        cards = VGroup()
        for head, lines, src in (("FlashAttention-2 (A100)", c.fa2_claims, c.fa2_source),
                                 ("FlashAttention-3 (Hopper)", (*c.fa3_claims[1:], *c.fa3_features[:2]),
                                  c.fa3_source)):
            body = VGroup(label("published", size=SIZES.SMALL, color=COLORS.MUTED),
                          label(head, size=SIZES.BODY, color=COLORS.ACCENT),
                          *(paragraph(wrap(s, width, SIZES.LABEL), size=SIZES.LABEL) for s in lines),
                          paragraph(wrap(src, width, SIZES.SMALL), size=SIZES.SMALL, color=COLORS.MUTED))
            body.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL * 1.4)
            fit_within(body, width, None)
            cards.add(body)
        tall = max(b.height for b in cards)
        cards = VGroup(*(dashed_card(b, width, tall) for b in cards))
        cards.arrange(RIGHT, buff=BUFF.LARGE, aligned_edge=UP)
        fit_within(cards, SAFE.width, SAFE.top - 0.8 - SAFE.bottom)
        cards.move_to([0, (SAFE.top - 0.7 + SAFE.bottom) / 2, 0])
        with self.narrate(f"Together, the second paper reports about {spoken(c.fa2_speedup, 0)} times the speed of "
                          f"version one, {spoken(c.fa2_peak_low, 0)} to {spoken(c.fa2_peak_high, 0)} percent of "
                          f"the A100's peak, and up to {spoken(c.fa2_tflops, 0)} teraflops per second per GPU when "
                          "training end to end.") as t:
            self.play(FadeIn(title), FadeIn(cards[0]), run_time=0.3 * t.duration)
        with self.narrate("FlashAttention three is the horizon, built for Hopper: warp specialisation with TMA "
                          "loads, ping-pong scheduling that overlaps softmax with matrix multiplies, and FP8. It "
                          f"reports up to {spoken(c.fa3_fp16_tflops, 0)} teraflops per second in half precision. "
                          "These are the papers' numbers; the next topic measures our own.") as t:
            self.play(FadeIn(cards[1]), run_time=0.3 * t.duration)
        self.wait_for(t)
