"""L06.3 Memory hierarchy optimization: HBM traffic against sequence length on log-log axes, standard attention
against FlashAttention for three SRAM sizes M (``ar.attention_io``'s exact byte counts, E6.4's Θ-expressions at
N = 4096, d = 64, M = 98,304, said to drop constants) and FlashAttention's lower bound (FA1 Proposition 3); then
recomputation: what the forward keeps for the backward (Q, K, V, O and one LSE per row, recorded with autograd's
saved-tensor hooks: nothing N × N), E6.3, P = exp(S − LSE) rebuilt tile by tile; then peak memory measured on the
H200 (naive, the teaching flash loop, torch SDPA) with its source line, beside the flash-attn README's cited
savings (not comparable: a different baseline and pass); last, O(N) extra memory is not linear attention, and
the result is exact.

Numbers: ``data.io_scaling()``, ``recomputation()``, ``memory_measured()``, ``memory_cited()``; formulas E6.4
(``attention_hbm_io``) and E6.3 (``log_sum_exp``). This file holds layout and timing only.

    manim -pql scenes/l06_flash/l06_hierarchy.py MemoryHierarchy
"""
from __future__ import annotations

from manim import DOWN, LEFT, UP, Create, FadeIn, FadeOut, LaggedStart, SurroundingRectangle, VGroup

from scenes.kit.equations import equation
from scenes.kit.format import grouped, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitedBars, LogLogPlot, SavedTensors, TileGrid, fit_within, label
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.line_chart import source_lines
from scenes.kit.mobjects.text import paragraph, set_on_line
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l06_flash import data

TOP = SAFE.top - 0.85              # under the heading
PLOT_W, PLOT_H = 6.6, 3.3          # both log-log plots
PLOT_SHARE = 0.58                  # of the safe width, for a plot with its labels
MEM_SHARE = 0.5                    # the memory plot: room for the cited panel beside it
FLASH_COLORS = (COLORS.SCORE, COLORS.K, COLORS.WEIGHT)   # flash, small → large SRAM
STD_COLOR = COLORS.V
MEM_COLORS = (COLORS.V, COLORS.SCORE, COLORS.WEIGHT)    # naive, attn_ref.flash_attention, torch SDPA
MEM_NAMES = ("naive (S and P)", "attn_ref flash loop", "torch SDPA")
CELL = 0.15                        # SavedTensors cell side
TILE_CELL = 0.21                   # the rebuilt-P grid's cell side
MILLION = 1e6
KIB, MIB = 2 ** 10, 2 ** 20


def kilo(n: int) -> str:
    """A sequence length as the axis writes it: 4096 -> 4K, 256 -> 256."""
    return f"{grouped(n / 1024)}K" if n >= 1024 else grouped(n)


def card(lines: list[tuple], width: float, size: float = SIZES.LABEL) -> VGroup:
    """Lines (text, colour) or (text, colour, size) wrapped to ``width``, left-aligned, one paragraph each."""
    out = VGroup(*(paragraph(wrap(t, width, z[0] if z else size), size=z[0] if z else size, color=c,
                             line_spacing=0.5) for t, c, *z in lines))
    out.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.MEDIUM)
    return fit_within(out, width, None)


class MemoryHierarchy(LectureScene):
    """L06.3: HBM traffic vs N for several SRAM sizes, the lower bound, recomputation, measured peak memory."""

    def construct(self):
        self.topic("L06.3", "Memory hierarchy optimization")
        self.traffic_step()
        self.recompute_step()
        self.measured_step()
        self.caveats_step()

    # ------------------------------------------------------------------------------------ HBM traffic vs N
    def traffic_step(self):
        s = data.io_scaling()
        title = heading("HBM traffic: standard vs flash")
        eq = equation("attention_hbm_io")
        plot = LogLogPlot(x_range=(s.lengths[0] / 1.5, s.lengths[-1] * 1.5, 1), y_range=(1e5, 1e10, 1),
                          x_label="sequence length N", y_label="HBM bytes, one head", width=PLOT_W, height=PLOT_H,
                          x_ticks=[(n, kilo(n)) for n in s.lengths])
        plot.set_legend([("standard", STD_COLOR)] + [(f"flash, M = {grouped(m)}", c)
                                                     for m, c in zip(s.m_elems, FLASH_COLORS)], columns=2)
        std = plot.line(s.lengths, s.standard, color=STD_COLOR)
        flash = VGroup(*(plot.line(s.lengths, row, color=c) for row, c in zip(s.flash, FLASH_COLORS)))
        src = source_lines(f"{s.note}; {s.source}", SAFE.width)
        src.move_to([0, SAFE.bottom + src.height / 2, 0])
        chart = VGroup(plot, std, flash)
        fit_within(chart, SAFE.width * PLOT_SHARE, TOP - src.get_top()[1] - BUFF.MEDIUM)
        chart.align_to([SAFE.left, 0, 0], LEFT).align_to([0, TOP, 0], UP)
        room = SAFE.right - chart.get_right()[0] - BUFF.LARGE
        fit_within(eq, room, None)
        eq.move_to([SAFE.right - room / 2, TOP - eq.height / 2, 0])
        with self.narrate("How many bytes cross between HBM and the chip? Standard attention writes the N by N "
                          "scores and weights and reads them back, so its traffic grows like N d plus N squared. "
                          "FlashAttention's grows like N squared d squared over M, the on-chip memory in "
                          "elements.") as t:
            self.play(FadeIn(title), FadeIn(eq), run_time=0.2 * t.duration)
            self.play(FadeIn(plot.frame_parts()), FadeIn(plot.legend[0][0]), FadeIn(src), run_time=0.15 * t.duration)
            self.play(Create(std), run_time=0.25 * t.duration)
        self.wait_for(t)
        with self.narrate(f"These lines are the exact byte counts of our attention I O model, for one head with d = "
                          f"{spoken(s.d, 0)}. "
                          "Each flash line is one SRAM size: more SRAM, bigger blocks, fewer passes over the keys "
                          "and values, fewer bytes. At long lengths all the lines rise as N squared, parallel here; "
                          "the gap between them is set by M over d squared.") as t:
            self.play(FadeIn(plot.legend[0][1:]), FadeIn(plot.legend[1:]),
                      LaggedStart(*(Create(f) for f in flash), lag_ratio=0.4), run_time=0.6 * t.duration)
        self.wait_for(t)
        n, big = s.example_n, len(s.m_elems) - 1
        k = s.lengths.index(n)
        dots = VGroup(plot.dot_at(n, s.standard[k], color=COLORS.ACCENT, radius=0.11),
                      plot.dot_at(n, s.flash[big][k], color=COLORS.ACCENT, radius=0.11))
        theta = card([(f"N = {grouped(n)}, d = {s.example_d}, M = {grouped(s.example_m)} "
                       f"({shown(s.sram_bytes[big] / KIB, 0)} KB of fp16)", COLORS.TEXT),
                      (f"Θ, no constants: Nd + N² ≈ {shown(s.theta_standard / MILLION, 1)}M, "
                       f"N²d²/M ≈ {shown(s.theta_flash / MILLION, 2)}M", COLORS.ACCENT)], room)
        exact = card([(f"exact counts: {shown(s.exact_standard_elems / MILLION, 1)}M vs "
                       f"{shown(s.exact_flash_elems / MILLION, 2)}M elements", COLORS.TEXT)], room)
        VGroup(theta, exact).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.LARGE).move_to(
            [SAFE.right - room / 2, 0, 0]).align_to([0, eq.get_bottom()[1] - BUFF.LARGE, 0], UP)
        ratio = s.exact_standard_elems / s.exact_flash_elems
        with self.narrate(f"Take N = {spoken(n, 0)} and M = {spoken(s.example_m, 0)} elements, "
                          f"{spoken(s.sram_bytes[big] / KIB, 0)} kilobytes in half precision. The two expressions give "
                          f"{spoken(s.theta_standard / MILLION, 1)} million against "
                          f"{spoken(s.theta_flash / MILLION, 2)} million. They drop constants: the exact counts are "
                          f"{spoken(s.exact_standard_elems / MILLION, 1)} million against "
                          f"{spoken(s.exact_flash_elems / MILLION, 2)} million, still {spoken(ratio, 0)} times "
                          "fewer.") as t:
            self.play(FadeIn(dots, scale=2), FadeIn(theta), run_time=0.3 * t.duration)
            self.wait(0.3 * t.duration)
            self.play(FadeIn(exact), run_time=0.15 * t.duration)
        self.wait_for(t)
        c = data.memory_cited()
        bound = card([("lower bound: " + c.lower_bound, COLORS.WEIGHT),
                      (c.lower_bound_source, COLORS.MUTED, SIZES.SMALL)], room)
        bound.move_to(theta, aligned_edge=UP + LEFT)
        with self.narrate("Could any exact algorithm do better? Proposition 3 of the FlashAttention paper says no: "
                          "none beats N squared d squared over M asymptotically for every SRAM size. So this is "
                          "the right target, not merely a good one.") as t:
            self.play(FadeOut(theta), FadeOut(exact), run_time=0.1 * t.duration)
            self.play(FadeIn(bound), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, eq, chart, dots, bound, src)), run_time=0.6)

    # ------------------------------------------------------------------------------------ recomputation
    def recompute_step(self):
        r = data.recomputation()
        title = heading("Recomputation: keep one LSE per row, not P")
        n = r.n
        d = r.saved_shapes[0][-1]
        colors = (COLORS.Q, COLORS.K, COLORS.V, COLORS.OUTPUT, COLORS.SCORE)
        kept = list(zip(("Q", "K", "V", "O", "LSE"), r.saved_shapes, colors))
        strip = SavedTensors(kept, dropped=[("P", (n, n), COLORS.WEIGHT)], unit=CELL, gap=BUFF.LARGE,
                             kept_caption=f"kept: {grouped(r.saved_elems)} elements",
                             dropped_caption=f"plain autograd keeps {grouped(r.plain_saved_elems)}")
        fit_within(strip, SAFE.width, None)
        strip.move_to([0, TOP - strip.height / 2, 0])
        hooks = label(f"recorded with autograd's saved-tensor hooks, N = {n}, d = {d}", size=SIZES.SMALL,
                      color=COLORS.MUTED)
        hooks.move_to([SAFE.left + hooks.width / 2, SAFE.bottom + hooks.height / 2, 0])
        with self.narrate("The backward pass needs the attention weights P. Storing them would cost N squared "
                          "memory, the very thing we avoided. So the forward keeps only what autograd's hooks "
                          f"recorded here: Q, K, V, the output O, and one log-sum-exp per row. "
                          f"{spoken(r.saved_elems, 0)} numbers for our {spoken(n, 0)} tokens, nothing N by N.") as t:
            self.play(FadeIn(title), FadeIn(hooks), strip.reveal_kept(), run_time=0.55 * t.duration)
            self.play(strip.reveal_dropped(), run_time=0.3 * t.duration)
        self.wait_for(t)
        eq = equation("log_sum_exp")
        fit_within(eq, SAFE.width * 0.55, None)
        eq.next_to(strip, DOWN, buff=BUFF.MEDIUM)
        lse_box = strip.highlight("LSE")
        with self.narrate("The log-sum-exp is the running max plus the log of the running sum: both are already "
                          "on chip when the forward ends.") as t:
            self.play(Create(lse_box), FadeIn(eq), run_time=0.4 * t.duration)
        self.wait_for(t)
        b = data.BLOCK
        grid = TileGrid(n, n, b, b, values=r.p_rebuilt, cell_size=TILE_CELL, show_block_sizes=False)
        eq_top = eq.copy().move_to([0, TOP - eq.height / 2, 0])
        lower = eq_top.get_bottom()[1] - BUFF.LARGE
        fit_within(grid, None, lower - hooks.get_top()[1] - BUFF.MEDIUM)
        grid.align_to([0, lower, 0], UP).align_to([SAFE.left + BUFF.LARGE, 0, 0], LEFT)
        tiles = [VGroup(*(grid.cells[i][j] for i in range(bi * b, (bi + 1) * b) for j in range(bj * b, (bj + 1) * b)))
                 for bi in range(grid.n_tiles[0]) for bj in range(grid.n_tiles[1])]
        right = SAFE.right - grid.get_right()[0] - BUFF.LARGE
        check = card([(f"{r.tiles_rebuilt} tiles rebuilt: P = exp(S − LSE) equals softmax to "
                       f"{shown(r.rebuilt_diff, sci=2)}", COLORS.WEIGHT)], right)
        big = card([(f"at N = {kilo(r.lengths[-1])}, one head: LSE {shown(r.lse_bytes[-1] / KIB, 0)} KiB (fp32), "
                     f"P {shown(r.p_bytes[-1] / MIB, 0)} MiB (fp16)", COLORS.ACCENT)], right)
        VGroup(check, big).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.LARGE).move_to(
            [SAFE.right - right / 2, grid.get_y(), 0])
        with self.narrate(f"In the backward, each tile of scores is recomputed from Q and K, and P is rebuilt as e "
                          f"to the S minus the log-sum-exp, tile by tile. All {spoken(r.tiles_rebuilt, 0)} tiles "
                          f"match softmax, to {spoken(r.rebuilt_diff, sci=2)}.") as t:
            self.play(FadeOut(strip), FadeOut(lse_box), eq.animate.move_to(eq_top), run_time=0.15 * t.duration)
            self.play(FadeIn(grid.tile_group), FadeIn(grid.axis_labels), run_time=0.1 * t.duration)
            self.add_foreground_mobjects(grid.tile_group)          # tile outlines stay over the filled cells
            self.play(LaggedStart(*(FadeIn(x) for x in tiles), lag_ratio=0.5), run_time=0.5 * t.duration)
            self.play(FadeIn(check), run_time=0.1 * t.duration)
        self.wait_for(t)
        with self.narrate(f"The saving grows with length. At {spoken(r.lengths[-1] / 1024, 0)}K tokens, one head's "
                          f"log-sum-exp takes {spoken(r.lse_bytes[-1] / KIB, 0)} kibibytes; its P would take "
                          f"{spoken(r.p_bytes[-1] / MIB, 0)} mebibytes. Recomputing costs extra flops, and flops "
                          "are cheap where bytes are not.") as t:
            self.play(FadeIn(big, shift=UP * 0.2), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.remove_foreground_mobjects(grid.tile_group)
        self.add(grid.tile_group)
        self.play(FadeOut(VGroup(title, eq, grid, check, big, hooks)), run_time=0.6)

    # ------------------------------------------------------------------------------------ measured + cited
    def measured_step(self):
        m, c = data.memory_measured(), data.memory_cited()
        title = heading(f"Peak memory, measured on the {m.device.replace('NVIDIA ', '')}")
        naive, loop, sdpa = m.series
        lengths = naive.lengths
        plot = LogLogPlot(x_range=(lengths[0] / 1.5, lengths[-1] * 1.5, 1), y_range=(0.5, 2e4, 1),
                          x_label="sequence length N", y_label="peak extra memory (MiB)", width=PLOT_W,
                          height=PLOT_H, x_ticks=[(n, kilo(n)) for n in lengths])
        plot.set_legend(list(zip(MEM_NAMES, MEM_COLORS)), columns=3)
        lines = VGroup(*(plot.line(s.lengths, s.peak_extra_mib, color=col) for s, col in zip(m.series, MEM_COLORS)))
        src = source_lines(f"{m.source}. Forward only, fp16, batch {m.batch} × {m.heads} heads, d = {m.head_dim}",
                           SAFE.width)
        src.move_to([0, SAFE.bottom + src.height / 2, 0])
        chart = VGroup(plot, lines)
        fit_within(chart, SAFE.width * MEM_SHARE, TOP - src.get_top()[1] - BUFF.MEDIUM)
        chart.align_to([SAFE.left, 0, 0], LEFT).align_to([0, TOP, 0], UP)
        with self.narrate(f"Now measured, on an {m.device.replace('NVIDIA ', '')}: the peak extra memory of one "
                          f"forward pass, {spoken(m.heads, 0)} heads in half precision. The naive version holds "
                          f"scores and weights: {spoken(naive.peak_extra_mib[0], 0)} mebibytes at "
                          f"{spoken(lengths[0] / 1024, 0)}K tokens, {spoken(naive.peak_extra_mib[-1], 0)} at "
                          f"{spoken(lengths[-1] / 1024, 0)}K, growing as N squared.") as t:
            self.play(FadeIn(title), FadeIn(plot.frame_parts()), FadeIn(plot.legend), FadeIn(src),
                      run_time=0.25 * t.duration)
            self.play(Create(lines[0]), run_time=0.4 * t.duration)
        self.wait_for(t)
        with self.narrate(f"Our teaching flash loop grows linearly, from {spoken(loop.peak_extra_mib[0], 0)} to "
                          f"{spoken(loop.peak_extra_mib[-1], 0)}. PyTorch's fused attention allocates only the "
                          f"output: {spoken(sdpa.peak_extra_mib[0], 0)} to {spoken(sdpa.peak_extra_mib[-1], 0)}."
                          ) as t:
            self.play(Create(lines[1]), run_time=0.35 * t.duration)
            self.play(Create(lines[2]), run_time=0.35 * t.duration)
        self.wait_for(t)
        room = SAFE.right - chart.get_right()[0] - BUFF.LARGE
        (n1, x1), (n2, x2) = c.readme_savings
        cited = CitedBars([("memory saving (×)", tuple(x for _, x in c.readme_savings), 0)],
                          [kilo(n) for n, _ in c.readme_savings], citation=c.readme_source, width=room,
                          colors=[COLORS.WEIGHT, COLORS.WEIGHT], max_height=1.0, bar_width=0.8, spacing=0.6,
                          value_strings=[f"{shown(x, 0)}×" for _, x in c.readme_savings])
        caveat = card([("not comparable: other baseline; ours: forward only", COLORS.TEXT)], room)
        fit_within(cited, room, TOP - src.get_top()[1] - caveat.height - 2 * BUFF.MEDIUM)
        cited.move_to([SAFE.right - room / 2, 0, 0]).align_to([0, TOP, 0], UP)
        caveat.next_to(cited, DOWN, buff=BUFF.MEDIUM).set_x(SAFE.right - room / 2)
        with self.narrate(f"The flash attention README reports memory savings of {spoken(x1, 0)} times at "
                          f"{spoken(n1 / 1024, 0)}K and {spoken(x2, 0)} times at {spoken(n2 / 1024, 0)}K. Our "
                          "ratios are not comparable with those: a different baseline, and we measured the forward "
                          "pass only.") as t:
            self.play(FadeIn(cited), run_time=0.3 * t.duration)
            self.play(FadeIn(caveat), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, chart, src, cited, caveat)), run_time=0.6)

    # ------------------------------------------------------------------------------------ what it is not
    def caveats_step(self):
        title = heading("What FlashAttention is, and is not")
        pairs = (("“linear attention”", "O(N) extra memory; all N × N scores still computed"),
                 ("fewer FLOPs", "more FLOPs (recomputation), far fewer bytes"),
                 ("an approximation", "exact: the same softmax, in a different order"))
        heads = VGroup(label("not", size=SIZES.LABEL, color=COLORS.MUTED), label("but", size=SIZES.LABEL,
                                                                               color=COLORS.MUTED))
        rows = VGroup(*(VGroup(label("✗ " + w, size=SIZES.BODY, color=COLORS.MASK),
                               label("✓ " + r, size=SIZES.BODY, color=COLORS.WEIGHT)) for w, r in pairs))
        col = max(row[0].width for row in rows) + BUFF.LARGE
        for k, row in enumerate(rows):
            row[0].move_to([SAFE.left + row[0].width / 2, 1.2 - 1.1 * k, 0])
            row[1].move_to([SAFE.left + col + row[1].width / 2, row[0].get_y(), 0])
        heads[0].next_to(rows[0][0], UP, buff=BUFF.LARGE).align_to(rows[0][0], LEFT)
        heads[1].next_to(rows[0][1], UP, buff=BUFF.LARGE).align_to(rows[0][1], LEFT)
        line_y = heads[0].get_y()
        for h in heads:
            set_on_line(h, line_y)
        table = VGroup(heads, rows)
        fit_within(table, SAFE.width - 2 * BUFF.MEDIUM, None)
        table.move_to([0, -0.1, 0])
        frames = VGroup(*(SurroundingRectangle(row[1], buff=BUFF.SMALL, color=COLORS.WEIGHT, corner_radius=0.08)
                          for row in rows))
        lines = ("Three things a careful viewer checks. FlashAttention needs only order N extra memory, but it "
                 "is not linear attention: it still computes all N squared scores.",
                 "It does more arithmetic, not less: the backward recomputes the scores. What it saves is bytes.",
                 "And it is exact, not an approximation: the same softmax, computed in a different order.")
        for k, text in enumerate(lines):
            with self.narrate(text) as t:
                first = (FadeIn(title), FadeIn(heads)) if k == 0 else ()
                self.play(*first, FadeIn(rows[k][0]), run_time=0.2 * t.duration)
                self.play(FadeIn(rows[k][1]), Create(frames[k]), run_time=0.2 * t.duration)
            self.wait_for(t)
