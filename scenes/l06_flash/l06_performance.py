"""L06.6 Performance gains: the FlashAttention-3 paper's forward figure (H100 SXM, FP16, hdim 128, non-causal)
as a framed citation on the left; on the right, apart and on its own axes, our measured H200 prefill chart
(naive, attn_ref.sdpa, each torch SDPA backend that ran, our Triton kernel) with its source line, first
d = 128 non-causal, then causal; how the FLOPs are counted (E6.8) and the 2× of a causal run counted as
non-causal (triton #1849); the lecture's message.

Numbers: ``data.fa3_cited()``, ``data.prefill_measured()``, ``data.flops_convention()``; formula E6.8
(``attention_flops_convention``). This file holds layout and timing only.

    manim -pql scenes/l06_flash/l06_performance.py PerformanceGains
"""
from __future__ import annotations

from manim import DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, LaggedStart, Line, Transform, VGroup

from scenes.kit.format import grouped, percent, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitationPanel, LineChart, equation_rows, fit_within, label
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.line_chart import source_lines
from scenes.kit.mobjects.wrong_right import issue_citation
from scenes.kit.references import SHAH
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l06_flash import data

LEFT_W = 5.3                        # the citation panel / formula column, once the chart is in
GAP = 0.55                          # between the left column and the chart
TOP = SAFE.top - 0.8                # under the heading
PLOT_H = 2.6                        # the measured chart's plot height
Y_RANGE = (0, 700, 700 // 7)           # TFLOP/s axis of both measured panels (asserted to hold the data)
CITED_NAMES = ("Standard", "FA2", "Triton", "cuDNN", "FA3")   # the figure's legend, as the brief names rows
METHOD_NAMES = {"naive": "naive", "attn_ref.sdpa": "attn_ref.sdpa", "torch_sdpa[math]": "SDPA math",
                "torch_sdpa[efficient_attention]": "SDPA efficient", "torch_sdpa[flash_attention]": "SDPA flash",
                "torch_sdpa[cudnn_attention]": "SDPA cuDNN", "triton_fa2": "our Triton"}
METHOD_COLORS = {"naive": COLORS.MUTED, "attn_ref.sdpa": COLORS.HEADS[8], "torch_sdpa[math]": COLORS.HEADS[9],
                 "torch_sdpa[efficient_attention]": COLORS.HEADS[0], "torch_sdpa[flash_attention]": COLORS.K,
                 "torch_sdpa[cudnn_attention]": COLORS.HEADS[4], "triton_fa2": COLORS.ACCENT}


def kilo(n: int) -> str:
    """A sequence length as the figure writes it: 4096 -> 4K, 512 -> 512."""
    return f"{grouped(n / 1024)}K" if n >= 1024 else grouped(n)


def panel_of(p, head_dim: int, causal: bool):
    return next(x for x in p.panels if x.head_dim == head_dim and x.causal == causal)


def series_of(panel, method: str):
    return next(s for s in panel.series if s.method == method)


class PerformanceGains(LectureScene):
    """L06.6: the cited FA3 figure beside (never on) our measured H200 chart; FLOPs counting; the message."""

    def construct(self):
        self.topic("L06.6", "Performance gains")
        self.published_step()
        self.measured_step()
        self.causal_step()
        self.message_step()

    # ------------------------------------------------------------------------------------ published
    def published_step(self):
        c = data.fa3_cited()
        rows = {r.method: r for r in c.rows}
        std, fa2, tri, cud, fa3 = c.rows
        self.title = heading("Performance: published, then measured")
        self.panel = CitationPanel([kilo(n) for n in c.seqlens], [(nm, r.tflops) for nm, r in zip(CITED_NAMES, c.rows)],
                                   citation=SHAH, conditions=c.setup, source=c.source.split(" · ")[-1],
                                   unit="TFLOP/s", missing="OOM")
        fit_within(self.panel, SAFE.width, TOP - SAFE.bottom)
        self.panel.move_to([0, TOP - self.panel.height / 2, 0])
        assert rows["Standard"].tflops[-1] is None
        with self.narrate("First, what the FlashAttention-3 paper reports: the forward pass on an H100 S X M, in "
                          "half precision, head dimension 128, no causal mask, sixteen thousand tokens per "
                          "batch.") as t:
            self.play(FadeIn(self.title), FadeIn(self.panel), run_time=0.3 * t.duration)
        self.wait_for(t)
        with self.narrate("Each number is teraflops per second: the floating-point work of attention, counted by "
                          "one fixed formula, divided by the measured time. Higher is better.") as t:
            self.play(self.panel.table.header.animate.set_color(COLORS.ACCENT), run_time=0.2 * t.duration)
            self.wait(0.5 * t.duration)
            self.play(self.panel.table.header.animate.set_color(COLORS.MUTED), run_time=0.2 * t.duration)
        self.wait_for(t)
        box = self.panel.highlight_row(0)
        with self.narrate(f"Standard attention stalls near {spoken(std.tflops[-2], 0)} teraflops per second, and "
                          "at 16K it runs out of memory.") as t:
            self.play(Create(box), run_time=0.2 * t.duration)
            self.wait(0.45 * t.duration)
            oom = self.panel.highlight_cell(0, len(c.seqlens) - 1, color=COLORS.V)
            self.play(Transform(box, oom), run_time=0.2 * t.duration)
        self.wait_for(t)
        with self.narrate(f"FlashAttention-2 reaches {spoken(fa2.tflops[-1], 0)}, the Triton tutorial kernel "
                          f"{spoken(tri.tflops[-1], 0)}, cuDNN {spoken(cud.tflops[-1], 0)}, and FlashAttention-3, "
                          f"built for Hopper, {spoken(fa3.tflops[-1], 0)}.") as t:
            for i, frac in ((1, 0.2), (2, 0.25), (3, 0.2), (4, 0.25)):
                self.play(Transform(box, self.panel.highlight_row(i)), run_time=0.15 * t.duration)
                self.wait((frac - 0.15) * t.duration)
        self.wait_for(t)
        self.play(FadeOut(box), run_time=0.4)

    # ------------------------------------------------------------------------------------ measured
    def chart(self, p, panel, width: float, height: float = PLOT_H) -> VGroup:
        """One measured panel: its plot (no legend: ours is a grid above), on the fixed TFLOP/s axis."""
        assert max(v for s in panel.series for v in s.tflops) < Y_RANGE[1]
        series = [(METHOD_NAMES[s.method], list(range(len(panel.seqlens))), s.tflops) for s in panel.series]
        ch = LineChart(series, x_label="sequence length (batch × length = 16K tokens)", y_label="TFLOP/s",
                       width=width, height=height, x_range=(0, len(panel.seqlens) - 1, 1), y_range=Y_RANGE,
                       colors=[METHOD_COLORS[s.method] for s in panel.series], markers=True, legend=False)
        for k, (tick, n) in enumerate(zip(list(ch.x_ticks), panel.seqlens)):  # lengths, not positions
            ch.x_ticks.submobjects[k] = label(kilo(n), size=SIZES.SMALL, color=COLORS.MUTED, mono=True).move_to(tick)
        return ch

    def measured_step(self):
        p = data.prefill_measured()
        full = panel_of(p, 128, False)
        right_l = SAFE.left + LEFT_W + GAP
        width = SAFE.right - right_l
        form = label(f"form factor (SXM or NVL): {p.form_factor.split(':')[0]} in the file", size=SIZES.SMALL,
                     color=COLORS.MUTED)
        src = VGroup(form, source_lines(p.source, SAFE.width, SIZES.CAPTION)).arrange(DOWN, aligned_edge=LEFT,
                                                                                      buff=BUFF.TIGHT)
        src.move_to([SAFE.left + src.width / 2, SAFE.bottom + src.height / 2, 0])
        sub = label(f"Measured: {p.device}, {p.dtype}", size=SIZES.LABEL, color=COLORS.TEXT)
        self.panel_title = label(f"d = {full.head_dim}, non-causal", size=SIZES.LABEL, color=COLORS.ACCENT)
        head = VGroup(sub, self.panel_title).arrange(RIGHT, buff=BUFF.MEDIUM)
        w0 = head.width
        fit_within(head, width, None)
        self.head_scale = head.width / w0
        head.move_to([right_l + head.width / 2, TOP - head.height / 2, 0])
        legend = VGroup(*(VGroup(Line(LEFT * 0.2, RIGHT * 0.2).set_stroke(METHOD_COLORS[s.method], 6),
                                 label(METHOD_NAMES[s.method], size=SIZES.LABEL, color=METHOD_COLORS[s.method]))
                          .arrange(RIGHT, buff=BUFF.SMALL) for s in full.series))
        legend.arrange_in_grid(rows=3, buff=(BUFF.MEDIUM, BUFF.SMALL), col_alignments="lll")
        fit_within(legend, width, None)
        legend.next_to(head, DOWN, buff=BUFF.SMALL).align_to(head, LEFT)
        self.plot_w = width - 1.1
        room = legend.get_bottom()[1] - BUFF.MEDIUM - src.get_top()[1] - BUFF.SMALL
        ch = self.chart(p, full, self.plot_w)
        self.plot_h = PLOT_H + max(0.0, room - ch.height)      # the plot takes the height left over
        ch = self.chart(p, full, self.plot_w, self.plot_h)
        fit_within(ch, width, room)
        ch.move_to([SAFE.right - ch.width / 2, src.get_top()[1] + BUFF.SMALL + ch.height / 2, 0])
        self.measured = VGroup(head, legend, ch, src)
        self.ch, self.src = ch, src
        target = self.panel.copy()
        fit_within(target, LEFT_W, None)
        target.move_to([SAFE.left + target.width / 2, TOP - target.height / 2, 0])
        with self.narrate(f"On the right, apart and on its own axes: our measurement, on an {p.device}, with the "
                          "paper's shapes. The file does not record whether the card is S X M or N V L, so we "
                          "do not claim it.") as t:
            self.play(Transform(self.panel, target), run_time=0.25 * t.duration)
            self.play(FadeIn(head), FadeIn(src), FadeIn(ch.frame_parts()), run_time=0.25 * t.duration)
            self.play(FadeIn(legend), run_time=0.15 * t.duration)
        self.wait_for(t)
        slow = [k for k, x in enumerate(full.series) if x.method in ("naive", "attn_ref.sdpa", "torch_sdpa[math]")]
        with self.narrate(f"{spoken(len(full.series), 0)} methods. Torch's S D P A appears once per backend, "
                          f"labelled by the backend that actually ran: all {spoken(len(p.backends_ran), 0)} of "
                          "them did.") as t:
            self.play(LaggedStart(*(ch.create_series(k) for k in range(len(full.series))), lag_ratio=0.25),
                      run_time=0.8 * t.duration)
        self.wait_for(t)
        with self.narrate("The three lines at the bottom write the full n by n score matrix to memory: the naive "
                          "version in plain PyTorch, our readable attn_ref S D P A, and PyTorch's math fallback. "
                          "They never get far.") as t:
            self.play(*(ch.series[k][0].animate.set_stroke(width=8) for k in slow), run_time=0.25 * t.duration)
            self.wait(0.5 * t.duration)
            self.play(*(ch.series[k][0].animate.set_stroke(width=4) for k in slow), run_time=0.2 * t.duration)
        self.wait_for(t)
        tri = series_of(full, "triton_fa2")
        cud = series_of(full, "torch_sdpa[cudnn_attention]")
        last = len(full.seqlens) - 1
        dot = ch.dot_at(last, tri.tflops[-1], radius=0.11)
        val = label(f"{shown(tri.tflops[-1], 0)}", size=SIZES.LABEL, color=COLORS.ACCENT, mono=True)
        val.next_to(dot, UP, buff=BUFF.TIGHT)
        self.val = VGroup(dot, val)
        ratio = p.triton_over_flash_backend
        ahead = next(k for k in range(len(ratio)) if all(r > 1 for r in ratio[k:]))
        with self.narrate(f"Our Triton kernel reaches {spoken(tri.tflops[-1], 0)} teraflops per second at 16K, "
                          f"{spoken(percent(p.triton_share_of_peak[-1]), 0)} percent of the H200's peak, and "
                          f"{spoken(ratio[-1], 2)} times PyTorch's flash backend in the same run. cuDNN leads, at "
                          f"{spoken(cud.tflops[-1], 0)}.") as t:
            self.play(FadeIn(dot, scale=2), FadeIn(val), run_time=0.2 * t.duration)
            self.wait(0.55 * t.duration)
            c_dot = ch.dot_at(last, cud.tflops[-1], color=METHOD_COLORS[cud.method], radius=0.11)
            c_val = label(shown(cud.tflops[-1], 0), size=SIZES.LABEL, color=METHOD_COLORS[cud.method], mono=True)
            c_val.next_to(c_dot, UP, buff=BUFF.TIGHT)
            self.val.add(c_dot, c_val)
            self.play(FadeIn(c_dot, scale=2), FadeIn(c_val), run_time=0.15 * t.duration)
        self.wait_for(t)
        lo = ch.dot_at(0, tri.tflops[0], radius=0.11)
        with self.narrate(f"At {spoken(full.seqlens[0], 0)} tokens it is slower than the flash backend, "
                          f"{spoken(ratio[0], 2)} times its rate; from {spoken(full.seqlens[ahead] / 1024, 0)}K "
                          "on, it is ahead.") as t:
            self.play(FadeIn(lo, scale=2), run_time=0.2 * t.duration)
            self.wait(0.4 * t.duration)
            self.play(FadeOut(lo), run_time=0.2 * t.duration)
        self.wait_for(t)
        tri_row = self.panel.highlight_row(CITED_NAMES.index("Triton"))
        with self.narrate("And the paper's Triton row? It was measured on an H100, a different GPU with less "
                          "memory bandwidth. That is no race: compare within one chart, never across the "
                          "two.") as t:
            self.play(Create(tri_row), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(tri_row), FadeOut(self.panel), run_time=0.5)

    # ------------------------------------------------------------------------------------ causal and FLOPs
    def causal_step(self):
        p, f = data.prefill_measured(), data.flops_convention()
        causal = panel_of(p, 128, True)
        new = self.chart(p, causal, self.plot_w, self.plot_h)  # same axes, built the same way: same size, same place
        new.scale(self.ch.axes.width / new.axes.width)
        new.shift(self.ch.origin - new.origin)
        clauses = equation_rows("attention_flops_convention", font_size=SIZES.EQUATION)
        right = label(f"counted causal: {shown(f.true_causal_tflops, 0)} TFLOP/s", size=SIZES.LABEL,
                      color=COLORS.WEIGHT)
        wrong = label(f"counted as non-causal: {shown(f.inflated_causal_tflops, 0)} TFLOP/s", size=SIZES.LABEL,
                      color=COLORS.V)
        cite = label(issue_citation("triton-lang/triton#1849"), size=SIZES.SMALL, color=COLORS.MUTED)
        where = label(f"our Triton, causal, d = {f.d}, n = {kilo(f.n)}", size=SIZES.LABEL, color=COLORS.TEXT)
        pair = VGroup(where, right, wrong, cite).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        fit_within(pair, LEFT_W, None)
        pair.move_to([SAFE.left + pair.width / 2, 0, 0]).align_to(
            [0, self.src.get_top()[1] + BUFF.MEDIUM, 0], DOWN)
        fit_within(clauses, LEFT_W, TOP - pair.get_top()[1] - BUFF.LARGE)
        clauses.move_to([SAFE.left + clauses.width / 2, TOP - clauses.height / 2, 0])
        title = label(f"d = {causal.head_dim}, causal", size=SIZES.LABEL, color=COLORS.ACCENT)
        title.scale(self.head_scale).move_to(self.panel_title, aligned_edge=LEFT)
        tri = series_of(causal, "triton_fa2")
        with self.narrate("How are these teraflops counted? The forward's two matrix products cost four times "
                          "batch, times heads, times n squared, times d. The backward costs two and a half times "
                          "that.") as t:
            self.play(FadeIn(clauses[0]), run_time=0.2 * t.duration)
            self.wait(0.4 * t.duration)
            self.play(FadeIn(clauses[2]), FadeIn(clauses[3]), run_time=0.2 * t.duration)
        self.wait_for(t)
        with self.narrate("With a causal mask, half the scores are skipped, so the count is halved, using the "
                          "same causal flag the kernel received.") as t:
            self.play(FadeIn(clauses[1]), run_time=0.2 * t.duration)
            self.play(FadeOut(self.val), Transform(self.panel_title, title), Transform(self.ch, new),
                      run_time=0.4 * t.duration)
        self.wait_for(t)
        k = causal.seqlens.index(f.n)
        dot = self.ch.dot_at(k, tri.tflops[k], radius=0.11)
        with self.narrate(f"Causal, our kernel reaches {spoken(tri.tflops[-1], 0)} at 16K. At {spoken(f.n, 0)} "
                          f"tokens it runs at {spoken(f.true_causal_tflops, 0)}. Count the causal run as if it "
                          f"were full, as an early Triton tutorial benchmark did, and it would claim "
                          f"{spoken(f.inflated_causal_tflops, 0)}: twice the truth.") as t:
            self.play(FadeIn(dot, scale=2), FadeIn(where), FadeIn(right), run_time=0.3 * t.duration)
            self.wait(0.3 * t.duration)
            self.play(FadeIn(wrong), FadeIn(cite), run_time=0.2 * t.duration)
        self.wait_for(t)
        with self.narrate("One method is missing on purpose: our teaching implementation, with its Python loops, "
                          "is timed for memory only, never for speed.") as t:
            self.wait(0.1 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(self.title, clauses, pair, dot, self.measured)), run_time=0.6)

    # ------------------------------------------------------------------------------------ the message
    def message_step(self):
        lines = VGroup(*(label(s, size=SIZES.BODY, color=c) for s, c in (
            ("exact attention, not an approximation", COLORS.TEXT),
            ("more FLOPs: the backward recomputes the scores", COLORS.TEXT),
            ("far fewer bytes between HBM and on-chip SRAM", COLORS.ACCENT),
            ("extra memory O(N) instead of O(N²)", COLORS.WEIGHT)))).arrange(DOWN, aligned_edge=LEFT,
                                                                             buff=BUFF.LARGE)
        fit_within(lines, SAFE.width, None)
        lines.move_to([0, 0.2, 0])
        head = heading("What FlashAttention buys")
        with self.narrate("So, the message of this lecture. FlashAttention computes exact attention: the textbook "
                          "formula, in a different order. It does more arithmetic, not less, because the backward "
                          "recomputes the scores instead of storing them. But it moves far fewer bytes between the "
                          "GPU's main memory and its on-chip memory, and its extra memory grows linearly with the "
                          "sequence, not quadratically. For standard attention, those bytes, not the arithmetic, "
                          "were what cost the time.") as t:
            self.play(FadeIn(head), FadeIn(lines[0], shift=UP * 0.2), run_time=0.2 * t.duration)
            self.play(FadeIn(lines[1], shift=UP * 0.2), run_time=0.15 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(FadeIn(lines[2], shift=UP * 0.2), run_time=0.15 * t.duration)
            self.wait(0.1 * t.duration)
            self.play(FadeIn(lines[3], shift=UP * 0.2), run_time=0.15 * t.duration)
        self.wait_for(t)
