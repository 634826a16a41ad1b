"""L06.1 IO-aware attention computation. The memory pyramid as FlashAttention Fig. 1 draws it for the A100 (cited)
beside the H100 SXM datasheet numbers, with the point a careful viewer checks: the "20 MB of SRAM" is summed over
all SMs, one thread block sees one SM's share. Then Algorithm 0 (standard attention) for one head, N = 1024,
d = 64, fp16: S written to HBM, read back, P written, read back, with HBM byte counters (``StepCounter``); then the
fused forward, where S and P exist only as tiles on chip (8.91 MB against 1.05 MB, E6.4). The roofline of each
pass on the H100 (every one memory-bound, the matmuls included) and FlashAttention Fig. 2 (cited): more FLOPs,
far fewer bytes, exact.

    manim -pql scenes/l06_flash/l06_io_aware.py IOAwareAttention

Numbers: ``data.memory_pyramid()``, ``data.standard_vs_fused()``, ``data.memory_bound()``, ``data.fig2_cited()``;
this file holds layout and timing only.
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Create, DashedVMobject, FadeIn, FadeOut, Group, Rectangle,
                   RoundedRectangle, SurroundingRectangle, Transform, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitationLine, DataTable, MemoryPyramid, MetricCard, RooflinePlot, StepCounter, \
    fit_within, label
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.text import paragraph
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l06_flash import data

PYRAMID_WIDTH, PYRAMID_TOP = 3.2, 2.45    # the pyramid's bottom width; top of the pyramid and of the H100 card
STAGE_Y = -1.35                   # centre of the chip and HBM boxes
CHIP_X, CHIP_W = -5.4, 2.3
HBM_X, HBM_W = -2.35, 3.3
BOX_H = 2.7
LINES_TOP = 2.45                  # the algorithm's first line
LINE_STEP = 0.5
COUNTER_X, COUNTER_Y = 3.55, 0.35
TILE = 0.42                       # Q, K, V, O blocks in HBM
SQUARE = 1.05                     # S and P (N × N) in HBM
PLOT_W, PLOT_H = 7.4, 4.6
MB, GB_, TB = 1e6, 1e9, 1e12
UNITS = (("TB/s", "terabytes per second"), ("GB/s", "gigabytes per second"), ("MB", "megabytes"),
         ("GB", "gigabytes"), ("TB", "terabyte"), (">", "more than"))


def said(screen: str) -> str:
    """A cited screen string ("19 TB/s", "> 1 TB") as the narration says it: the same digits, units in words."""
    for unit, words in UNITS:
        screen = screen.replace(unit, words)
    return screen


def mb(value: float) -> str:
    return f"{shown(value / MB, 2)} MB"


def source_line(text: str, y: float | None = None) -> VGroup:
    line = CitationLine(text, font_size=SIZES.SMALL)
    if y is not None:
        line.set_y(y)
    return line


class IOAwareAttention(LectureScene):
    """L06.1: where the bytes live, and why standard attention spends its time moving S and P."""

    def construct(self):
        self.p, self.s = data.memory_pyramid(), data.standard_vs_fused()
        self.m, self.f = data.memory_bound(), data.fig2_cited()
        self.topic("L06.1", "IO-aware attention computation")
        self.pyramid()
        self.h100()
        self.standard()
        self.fused()
        self.roofline()
        self.published()

    def clear(self, keep=()):
        """Fade out everything but ``keep``; remove what faded (parts animated on their own were added one by one)."""
        keep_family = {id(x) for k in keep for x in k.get_family()}
        gone = [m for m in self.mobjects if id(m) not in keep_family]
        if gone:
            self.play(FadeOut(Group(*gone)), run_time=0.6)
            self.remove(*gone)

    # ------------------------------------------------------------------------------------ pyramid
    def pyramid(self):
        p = self.p
        sram, hbm, dram = p.a100
        self.title = heading("Where the bytes live")
        pyr = self.pyr = MemoryPyramid([(lv.name, lv.bandwidth, lv.capacity) for lv in p.a100], width=PYRAMID_WIDTH,
                                       cited="published: FlashAttention, Figure 1 (A100)", column_gap=0.4)
        pyr.move_to([SAFE.left + pyr.width / 2, PYRAMID_TOP - pyr.height / 2, 0])
        pyr.shift(DOWN * 0.3)
        self.cite = source_line(p.a100_source)
        with self.narrate("Attention on a GPU is limited less by arithmetic than by moving bytes. Here is the memory "
                          "hierarchy as the FlashAttention paper draws it for the A100.") as t:
            self.play(FadeIn(self.title), FadeIn(self.cite), run_time=0.25 * t.duration)
            self.play(pyr.build(), run_time=0.6 * t.duration)
        hl = pyr.highlight(sram.name)
        with self.narrate(f"At the top, the on-chip SRAM: {said(sram.bandwidth)}, but only "
                          f"{said(sram.capacity)}.") as t:
            self.play(pyr.focus(sram.name), Create(hl), run_time=0.4 * t.duration)
        hl2 = pyr.highlight(hbm.name)
        with self.narrate(f"Below it, the high-bandwidth memory, HBM: {said(hbm.capacity)}, but an order of "
                          f"magnitude slower, at {said(hbm.bandwidth)}. And below that, CPU memory, "
                          f"{said(dram.bandwidth)}.") as t:
            self.play(pyr.focus(hbm.name), Transform(hl, hl2), run_time=0.35 * t.duration)
            self.wait(0.3 * t.duration)
            self.play(pyr.unfocus(), FadeOut(hl), run_time=0.25 * t.duration)

    def h100(self):
        p, s = self.p, self.s
        per_sm = p.h100_smem_per_sm_bytes / 1024
        rows = [("bandwidth", f"{shown(p.h100_hbm_bytes_per_s / TB, 2)} TB/s"),
                ("HBM", f"{shown(p.h100_hbm_bytes / GB_, 0)} GB"),
                ("L2 cache", f"{shown(p.h100_l2_bytes / MB, 0)} MB"),
                ("SRAM / SM", f"≤ {shown(per_sm, 0)} KB"),
                (f"× {shown(p.h100_sms, 0)} SMs", f"{shown(p.h100_smem_total_bytes / MB, 1)} MB")]
        card = self.card = MetricCard("H100 SXM · datasheet", rows, color=COLORS.K)
        card.move_to([SAFE.right - card.width / 2, PYRAMID_TOP - card.height / 2, 0])
        cite2 = paragraph(wrap(p.h100_source, SAFE.width, SIZES.SMALL), size=SIZES.SMALL, color=COLORS.MUTED)
        fit_within(cite2, SAFE.width, None)
        cite2.next_to(self.cite, UP, buff=BUFF.TIGHT).set_x(SAFE.left, direction=LEFT)
        with self.narrate(f"On the H100 SXM, the datasheet gives {spoken(p.h100_hbm_bytes_per_s / TB, 2)} terabytes "
                          f"per second of HBM bandwidth and {spoken(p.h100_hbm_bytes / GB_, 0)} gigabytes, a "
                          f"{spoken(p.h100_l2_bytes / MB, 0)} megabyte L2 cache, and up to "
                          f"{spoken(per_sm, 0)} kilobytes of shared memory in each streaming "
                          "multiprocessor.") as t:
            self.play(FadeIn(card.frame), FadeIn(card.title), FadeIn(cite2), run_time=0.2 * t.duration)
            self.play(FadeIn(card.rows[:4], lag_ratio=0.3), run_time=0.6 * t.duration)
        box = card.highlight_row(4)
        sram = self.pyr.highlight(0)
        with self.narrate(f"A detail worth checking: the SRAM figure is summed over all the multiprocessors, "
                          f"{spoken(p.h100_sms, 0)} of them here. One block of threads sees only its own "
                          f"multiprocessor's share: about {spoken(s.sram_bytes / 1024, 0)} kilobytes on the A100. "
                          "That is the budget a kernel plans with.") as t:
            self.play(FadeIn(card.rows[4]), Create(box), Create(sram), run_time=0.3 * t.duration)
            self.play(Transform(box, card.highlight_row(3)), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.clear()

    # ------------------------------------------------------------------------------------ the stage
    def stage(self) -> VGroup:
        """Two boxes: the chip (SRAM and the tensor cores) and HBM, with Q, K, V and O blocks in HBM."""
        chip = RoundedRectangle(corner_radius=0.15, width=CHIP_W, height=BOX_H).set_stroke(COLORS.WEIGHT, 3)
        chip.move_to([CHIP_X, STAGE_Y, 0])
        hbm = RoundedRectangle(corner_radius=0.15, width=HBM_W, height=BOX_H).set_stroke(COLORS.K, 3)
        hbm.move_to([HBM_X, STAGE_Y, 0])
        chip_t = label("on chip: SRAM", size=SIZES.LABEL, color=COLORS.WEIGHT).next_to(chip, UP, buff=BUFF.SMALL)
        hbm_t = label("HBM", size=SIZES.LABEL, color=COLORS.K).next_to(hbm, UP, buff=BUFF.SMALL)
        self.blocks = {}
        col = VGroup()
        for name, color in (("Q", COLORS.Q), ("K", COLORS.K), ("V", COLORS.V), ("O", COLORS.OUTPUT)):
            sq = Rectangle(width=TILE, height=TILE).set_stroke(color, 2).set_fill(color, 0.35)
            tx = label(name, size=SIZES.LABEL, color=COLORS.TEXT).move_to(sq)
            self.blocks[name] = VGroup(sq, tx)
            col.add(self.blocks[name])
        col.arrange(DOWN, buff=0.18).move_to([hbm.get_right()[0] - 0.45, STAGE_Y, 0])
        self.blocks["O"].set_opacity(0.25)
        self.chip, self.hbm = chip, hbm
        return VGroup(chip, hbm, chip_t, hbm_t, col)

    def square(self, name: str, color: str, where) -> VGroup:
        sq = Rectangle(width=SQUARE, height=SQUARE).set_stroke(color, 2).set_fill(color, 0.35)
        tx = label(name, size=SIZES.BODY, color=COLORS.TEXT).move_to(sq)
        return VGroup(sq, tx).move_to(where)

    def lines(self, texts, y0: float = LINES_TOP) -> VGroup:
        out = VGroup()
        for k, text in enumerate(texts):
            lab = label(text, size=SIZES.LABEL, color=COLORS.MUTED)
            out.add(lab.move_to([SAFE.left + lab.width / 2, y0 - k * LINE_STEP, 0]))
        return out

    def counter(self, lines, title: str, color: str) -> StepCounter:
        reads, writes, cr, cw = [0], [0], 0, 0
        for x in lines:
            cr, cw = cr + x.reads, cw + x.writes
            reads.append(cr)
            writes.append(cw)
        total = [0] + [x.cum_bytes for x in lines]
        steps = ["start"] + [f"line {k + 1}" for k in range(len(lines))]
        c = StepCounter(title, [("read", reads), ("written", writes), ("total", total)], title_size=SIZES.LABEL,
                        increments=[[0] + [x.reads for x in lines], [0] + [x.writes for x in lines], None],
                        steps=steps, step_text=str, fmt=mb, colors=[COLORS.K, COLORS.ACCENT, COLORS.TEXT],
                        color=color, row_height=0.5)
        return c.place(COUNTER_X, COUNTER_Y)

    # ------------------------------------------------------------------------------------ Algorithm 0
    def mark_line(self, lines: VGroup, k: int):
        """Line ``k`` in the text colour with an accent bar, the others muted."""
        anims = [ln.animate.set_color(COLORS.TEXT if i == k else COLORS.MUTED) for i, ln in enumerate(lines)]
        return anims

    def standard(self):
        s = self.s
        std = s.standard
        self.title = heading("Standard attention: S and P go through HBM")
        self.stage_parts = self.stage()
        self.alg = self.lines([x.label for x in std])
        self.c_std = self.counter(std, "standard: HBM bytes", COLORS.ACCENT)
        setup = label(f"one head, N = {shown(s.n, 0)}, d = {shown(s.d, 0)}, fp16", size=SIZES.LABEL,
                      color=COLORS.MUTED)
        setup.next_to(self.c_std.card, DOWN, buff=BUFF.MEDIUM).set_x(self.c_std.card.get_x())
        self.setup = setup
        self.cite = source_line(s.source)
        b = self.blocks
        chip_c = self.chip.get_center()
        hbm_left = [self.hbm.get_left()[0] + 0.15 + SQUARE / 2, STAGE_Y + 0.65, 0]
        hbm_left2 = [self.hbm.get_left()[0] + 0.3 + 1.5 * SQUARE, STAGE_Y - 0.35, 0]
        with self.narrate("Standard attention, Algorithm zero in the paper, runs in three passes, each a separate "
                          f"kernel. Take one head with N equal to {spoken(s.n, 0)} and d equal to "
                          f"{spoken(s.d, 0)}, in half precision.") as t:
            self.play(FadeIn(self.title), FadeIn(self.stage_parts), FadeIn(self.cite), run_time=0.35 * t.duration)
            self.play(FadeIn(self.alg), FadeIn(self.c_std), FadeIn(setup), run_time=0.35 * t.duration)
        with self.narrate("First: load Q and K, compute the scores S equals Q K transpose, and write S to HBM. S "
                          f"alone is {spoken(s.score_matrix_bytes / MB, 1)} megabytes.") as t:
            q, k = b["Q"].copy(), b["K"].copy()
            self.play(*self.mark_line(self.alg, 0), q.animate.move_to(chip_c + LEFT * 0.4),
                      k.animate.move_to(chip_c + RIGHT * 0.4), run_time=0.25 * t.duration)
            S = self.square("S", COLORS.SCORE, chip_c)
            self.play(FadeOut(q), FadeOut(k), FadeIn(S), run_time=0.15 * t.duration)
            self.play(S.animate.move_to(hbm_left), self.c_std.show_step(1), run_time=0.3 * t.duration)
        with self.narrate("Second: read S back, apply the softmax, and write P. Masking and dropout, when used, are "
                          "more passes just like this one: a few operations per element of an N by N matrix, each "
                          "paying a full read and a full write.") as t:
            s_in = S.copy()
            self.play(*self.mark_line(self.alg, 1), s_in.animate.move_to(chip_c), run_time=0.2 * t.duration)
            P = self.square("P", COLORS.WEIGHT, chip_c)
            self.play(FadeOut(s_in), FadeIn(P), run_time=0.1 * t.duration)
            self.play(P.animate.move_to(hbm_left2), self.c_std.show_step(2), run_time=0.25 * t.duration)
        with self.narrate("Third: read P and V back, multiply, and write the output O. In total "
                          f"{spoken(s.standard_bytes / MB, 2)} megabytes crossed the HBM bus, and most of it was S "
                          "and P going out and coming back.") as t:
            p_in, v = P.copy(), b["V"].copy()
            self.play(*self.mark_line(self.alg, 2), p_in.animate.move_to(chip_c + LEFT * 0.3),
                      v.animate.move_to(chip_c + RIGHT * 0.8), run_time=0.2 * t.duration)
            o = b["O"].copy().set_opacity(1).move_to(chip_c)
            self.play(FadeOut(p_in), FadeOut(v), FadeIn(o), run_time=0.1 * t.duration)
            self.play(o.animate.move_to(b["O"]), b["O"].animate.set_opacity(1), self.c_std.show_step(3),
                      run_time=0.25 * t.duration)
            self.remove(o)
            box = self.c_std.highlight_row(2)
            self.play(Create(box), Create(SurroundingRectangle(VGroup(S, P), color=COLORS.ACCENT, buff=0.04)),
                      run_time=0.2 * t.duration)
        self.wait_for(t)
        self.SP = VGroup(S, P)

    # ------------------------------------------------------------------------------------ fused
    def fused(self):
        s = self.s
        fu = s.fused
        title = heading("Fused: S and P never leave the chip")
        total = label(f"standard: {mb(s.standard_bytes)}", size=SIZES.BODY, color=COLORS.ACCENT)
        total.move_to([COUNTER_X, self.c_std.card.frame.get_top()[1] + 0.55, 0])
        self.clear(keep=[self.title, self.stage_parts, self.cite])
        self.play(Transform(self.title, title), FadeIn(total), self.blocks["O"].animate.set_opacity(0.25),
                  run_time=0.5)
        alg = self.lines([x.label for x in fu])
        c = self.counter(fu, "fused: HBM bytes", COLORS.WEIGHT)
        c.shift(DOWN * 0.35)
        b = self.blocks
        chip_c = self.chip.get_center()
        with self.narrate("Now fuse the three passes into one kernel. Each block of queries is loaded into shared "
                          "memory once, and the keys and values stream past it, tile by tile.") as t:
            self.play(FadeIn(alg), FadeIn(c), run_time=0.3 * t.duration)
            q = b["Q"].copy()
            self.play(*self.mark_line(alg, 0), q.animate.scale(0.8).move_to(chip_c + UP * 0.8 + LEFT * 0.7),
                      c.show_step(1), run_time=0.3 * t.duration)
        with self.narrate(f"With {spoken(s.sram_bytes / 1024, 0)} kilobytes of shared memory a query block holds "
                          f"{spoken(s.block_r, 0)} rows, so K and V stream past {spoken(s.kv_passes, 0)} times. The "
                          "scores and probabilities exist only as small tiles on chip, used and thrown away.") as t:
            kv = VGroup(b["K"].copy(), b["V"].copy())
            self.play(*self.mark_line(alg, 1), kv.animate.scale(0.8).arrange(RIGHT, buff=0.1).move_to(
                chip_c + UP * 0.8 + RIGHT * 0.5), c.show_step(2), run_time=0.3 * t.duration)
            tiles = VGroup(self.square("S", COLORS.SCORE, chip_c).scale(0.5),
                           self.square("P", COLORS.WEIGHT, chip_c).scale(0.5)).arrange(RIGHT, buff=0.25)
            tiles.move_to(chip_c + DOWN * 0.55)
            self.play(FadeIn(tiles, lag_ratio=0.5), run_time=0.25 * t.duration)
            self.play(FadeOut(tiles), run_time=0.15 * t.duration)
        eq = equation("attention_hbm_io")
        fit_within(eq, SAFE.width / 2, None)
        eq.move_to([SAFE.left + eq.width / 2, alg.get_y(), 0])
        o = b["O"].copy().set_opacity(1).move_to(chip_c + DOWN * 0.55)
        ratio = label(f"{shown(s.ratio, 1)}× fewer bytes", size=SIZES.BODY, color=COLORS.WEIGHT)
        ratio.next_to(c.card, DOWN, buff=BUFF.MEDIUM).set_x(c.card.get_x())
        with self.narrate("Only the output, and one log-sum-exp per row, go back to HBM: "
                          f"{spoken(s.fused_bytes / MB, 2)} megabytes instead of {spoken(s.standard_bytes / MB, 2)}, "
                          f"{spoken(s.ratio, 1)} times less traffic.") as t:
            self.play(*self.mark_line(alg, 2), FadeIn(o), run_time=0.15 * t.duration)
            self.play(o.animate.move_to(b["O"]), b["O"].animate.set_opacity(1), c.show_step(3),
                      run_time=0.3 * t.duration)
            self.remove(o)
            self.play(FadeIn(ratio), Create(c.highlight_row(2)), run_time=0.25 * t.duration)
        with self.narrate("In general, standard attention moves order N d plus N squared elements; the fused "
                          "version, order N squared d squared over M, where M is the shared memory. With d squared "
                          "much smaller than M, that is many times less.") as t:
            self.play(FadeOut(alg), run_time=0.12 * t.duration)
            self.play(FadeIn(eq), run_time=0.25 * t.duration)
        self.wait_for(t)
        self.clear()

    # ------------------------------------------------------------------------------------ roofline
    def roofline(self):
        m = self.m
        title = heading("Every pass of standard attention is memory-bound")
        plot = RooflinePlot([(m.device, m.peak_flops / TB, m.bandwidth / TB)], x_range=(0.01, 1e4, 1),
                            y_range=(0.1, 1e4, 1), width=PLOT_W, height=PLOT_H)
        fit_within(plot, None, SAFE.height - 1.6)
        plot.move_to([SAFE.left + plot.width / 2 + 0.1, -0.25, 0])
        by = {p.name: p for p in m.passes}
        mat = by["S = QKᵀ"]
        value = {p.name: shown(p.intensity, 2) if p.intensity < 10 else shown(p.intensity, 0) for p in m.passes}
        where = {"mask": UP + LEFT, "dropout": DOWN + RIGHT, "softmax": DOWN + RIGHT}
        marks = VGroup(*(plot.mark(by[n].intensity, n, color=COLORS.SCORE, direction=where[n])
                         for n in ("mask", "dropout", "softmax")))
        mm = plot.mark(mat.intensity, "QKᵀ and PV", color=COLORS.ACCENT, direction=UP + LEFT)
        rows = [(p.name, value[p.name]) for p in m.passes]
        card = MetricCard("FLOP per byte", rows, color=COLORS.SCORE,
                          note=f"ridge: {shown(m.ridge_point, 0)}", note_color=COLORS.K)
        card.move_to([SAFE.right - card.width / 2, -0.1, 0])
        cite = source_line(m.assumption)
        with self.narrate("Why does this traffic dominate? Put each pass on the H100's roofline. The ridge sits at "
                          f"{spoken(m.ridge_point, 0)} FLOPs per byte: a kernel below it waits on memory, however "
                          "fast the tensor cores are.") as t:
            self.play(FadeIn(title), FadeIn(plot.frame_parts()), FadeIn(cite), run_time=0.3 * t.duration)
            self.play(plot.create_roof(), FadeIn(plot.legend), run_time=0.4 * t.duration)
        with self.narrate(f"Masking does {spoken(by['mask'].intensity, 2)} FLOPs per byte, dropout "
                          f"{spoken(by['dropout'].intensity, 1)}, softmax {spoken(by['softmax'].intensity, 2)}: far "
                          "below the ridge.") as t:
            self.play(FadeIn(card.frame), FadeIn(card.title), FadeIn(card.rows[1:4]),
                      *(plot.reveal(k) for k in marks), run_time=0.5 * t.duration)
        with self.narrate(f"Even the two matrix products reach only {spoken(mat.intensity, 0)}, because one side of "
                          "each is the N by N matrix S or P, read from or written to HBM.") as t:
            self.play(plot.reveal(mm), FadeIn(card.rows[0]), FadeIn(card.rows[4]), FadeIn(card.rule),
                      FadeIn(card.note), run_time=0.4 * t.duration)
            self.play(Create(card.highlight_row(0)), Create(card.highlight_row(4)), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.clear()

    # ------------------------------------------------------------------------------------ published
    def published(self):
        f = self.f
        title = heading("Published: FlashAttention, Figure 2")
        rows = [["GFLOPs", shown(f.gflops[0], 1), shown(f.gflops[1], 1)],
                ["HBM reads and writes (GB)", shown(f.hbm_gb[0], 1), shown(f.hbm_gb[1], 1)],
                ["runtime (ms)", shown(f.runtime_ms[0], 1), shown(f.runtime_ms[1], 1)]]
        table = DataTable(["measure", "standard", "FlashAttention"], rows, font_size=SIZES.BODY,
                          header_size=SIZES.BODY, row_height=0.8, column_colors=[None, COLORS.ACCENT, COLORS.WEIGHT])
        fit_within(table, SAFE.width - 1.0, None)
        setup = label(f.setup, size=SIZES.LABEL, color=COLORS.TEXT)
        fit_within(setup, SAFE.width - 1.0, None)
        tag = label("published, not measured here", size=SIZES.LABEL, color=COLORS.MUTED)
        body = VGroup(tag, setup, table).arrange(DOWN, buff=BUFF.MEDIUM)
        table.shift(DOWN * BUFF.SMALL)
        box = RoundedRectangle(corner_radius=0.12, width=body.width + 0.5, height=body.height + 0.5).move_to(body)
        frame = DashedVMobject(box.set_stroke(COLORS.MUTED, 1.5), num_dashes=90)
        panel = VGroup(frame, body).move_to([0, 0.55, 0])
        moral = label("exact attention, in a different order: more FLOPs, far fewer bytes", size=SIZES.BODY,
                      color=COLORS.WEIGHT)
        fit_within(moral, SAFE.width, None)
        moral.next_to(panel, DOWN, buff=BUFF.LARGE)
        cite = source_line(f.source)
        with self.narrate("The paper measured this on an A100, for the attention of GPT-2 medium, forward and "
                          "backward.") as t:
            self.play(FadeIn(title), FadeIn(cite), FadeIn(frame), FadeIn(tag), run_time=0.3 * t.duration)
            self.play(FadeIn(setup), FadeIn(table.header), Create(table.rule), run_time=0.4 * t.duration)
        with self.narrate(f"FlashAttention does more arithmetic, {spoken(f.gflops[1], 1)} gigaflops against "
                          f"{spoken(f.gflops[0], 1)}, since its backward pass recomputes the scores. But it reads and "
                          f"writes {spoken(f.hbm_gb[1], 1)} gigabytes of HBM instead of {spoken(f.hbm_gb[0], 1)}, and "
                          f"runs in {spoken(f.runtime_ms[1], 1)} milliseconds instead of "
                          f"{spoken(f.runtime_ms[0], 1)}.") as t:
            self.play(FadeIn(table.rows[0], shift=RIGHT * 0.2), run_time=0.2 * t.duration)
            box = table.highlight_row(0)
            self.play(Create(box), run_time=0.1 * t.duration)
            self.play(FadeIn(table.rows[1], shift=RIGHT * 0.2), Transform(box, table.highlight_row(1)),
                      run_time=0.25 * t.duration)
            self.play(FadeIn(table.rows[2], shift=RIGHT * 0.2), Transform(box, table.highlight_row(2)),
                      run_time=0.25 * t.duration)
        with self.narrate("So FlashAttention is not an approximation. It is exact attention, computed in a different "
                          "order: more FLOPs, and far fewer bytes.") as t:
            self.play(FadeOut(box), FadeIn(moral, shift=UP * 0.2), run_time=0.3 * t.duration)
        self.wait_for(t)
