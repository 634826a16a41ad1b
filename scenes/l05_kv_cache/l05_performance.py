"""L05.6 Performance implications: one decode step of attention on the H200 against context length per
variant (MHA / GQA-8 / MQA / MLA), beside its bandwidth floor bytes / β, and the cache bytes per token that
set it; the per-token lower bound (weights + KV) / β for Llama-2-7B on the H100 SXM and the H200; cache vs
recompute on our tiny model (one generated length only, on the H200 and a CPU) beside rasbt's CPU anchor;
split-K decoding (``ar.flash_decoding``): each split's (LSE_s, O_s), merged by E5.7 into exactly the full
attention; Flash-Decoding's and PagedAttention's published figures, as citations.

Numbers: ``data.decode_bandwidth()``, ``bytes_per_token()``, ``token_bound()``, ``generation_speed()``,
``split_k()``, ``cited()``; formulas E5.7 (``split_lse_merge``) and E5.8 (``decode_token_bound``). This file
holds layout and timing only.

    manim -pql scenes/l05_kv_cache/l05_performance.py DecodePerformance
"""
from __future__ import annotations

from manim import (DOWN, LEFT, PI, RIGHT, UP, Create, DashedVMobject, FadeIn, FadeOut, LaggedStart, RoundedRectangle,
                   VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import grouped, percent, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import (DataTable, LogLogPlot, SplitMerge, ValueBars, fit_within, label)
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.cited import CitedBars
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.line_chart import source_lines
from scenes.kit.mobjects.text import paragraph
from scenes.kit.references import DAO_2023_DECODING, KWON
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l05_kv_cache import data

PLOT_W, PLOT_H = 7.2, 3.6          # the decode-time plot (log-log)
VARIANT_COLORS = (COLORS.V, COLORS.K, COLORS.WEIGHT, COLORS.SCORE)
EQ_Y = 2.2                         # E5.8 / E5.7 under the heading
SPLIT_W = 12.0                     # the split-K strip's width
GB_PER_TB = 10 ** 3                # GB/s -> TB/s for the screen and the voice


def kilo(n: int) -> str:
    """A context length as the axis labels write it: 4096 -> 4K."""
    return f"{grouped(n / 1024)}K"


class DecodePerformance(LectureScene):
    """L05.6: measured decode time vs its floor, the token bound, cache vs recompute, split-K, cited figures."""

    def construct(self):
        self.topic("L05.6", "Performance implications")
        self.bandwidth_step()
        self.bound_step()
        self.recompute_step()
        self.split_step()
        self.cited_step()

    # ------------------------------------------------------------------------------------ measured decode step
    def bandwidth_step(self):
        b, bpt = data.decode_bandwidth(), data.bytes_per_token()
        ctx = b.series[0].contexts
        times = [t for s in b.series for t in (*s.time_ms, *s.bound_ms)]
        lo, hi = 10.0 ** -4, 10.0 ** 1
        assert min(times) > lo and max(times) < hi
        plot = LogLogPlot(x_range=(ctx[0] / 2, ctx[-1] * 2, 1), y_range=(lo, hi, 1), x_label="context (tokens)",
                          y_label="decode step (ms)", width=PLOT_W, height=PLOT_H,
                          x_ticks=[(n, kilo(n)) for n in ctx])
        plot.set_legend([(s.variant, c) for s, c in zip(b.series, VARIANT_COLORS)], columns=4)
        measured = VGroup(*(plot.line(s.contexts, s.time_ms, color=c) for s, c in zip(b.series, VARIANT_COLORS)))
        floors = VGroup(*(DashedVMobject(plot.line(s.contexts, s.bound_ms, color=c, stroke_width=2,
                                                   markers=False)[0], num_dashes=24)
                          for s, c in zip(b.series, VARIANT_COLORS)))
        src = source_lines(b.source, SAFE.width)
        src.move_to([0, SAFE.bottom + src.height / 2, 0])
        chart = VGroup(plot, measured, floors)
        fit_within(chart, SAFE.width * 0.62, SAFE.top - 0.9 - src.get_top()[1] - BUFF.MEDIUM)
        chart.align_to([SAFE.left, 0, 0], LEFT).align_to([0, SAFE.top - 0.9, 0], UP)
        room = SAFE.right - chart.get_right()[0] - BUFF.LARGE
        key_text = f"dashed: bytes read / {shown(b.peak_gb_per_s / GB_PER_TB, 1)} TB/s peak (the floor)"
        floor_key = paragraph(wrap(key_text, room, SIZES.LABEL), size=SIZES.LABEL, color=COLORS.MUTED)
        floor_key.move_to([SAFE.right - room / 2, 0, 0]).align_to([0, SAFE.top - 0.9, 0], UP)
        title = heading("One decode step on the H200")
        with self.narrate(f"Here is one decode step of attention, measured on an H200: {spoken(b.batch, 0)} "
                          "sequences, one new query each, reading the whole cache. Time grows with the "
                          "context.") as t:
            self.play(FadeIn(title), FadeIn(plot), FadeIn(src), run_time=0.25 * t.duration)
            self.play(LaggedStart(*(Create(m) for m in measured), lag_ratio=0.3), run_time=0.6 * t.duration)
        mha = b.series[0]
        with self.narrate(f"Dashed is the floor: bytes read over peak bandwidth. At "
                          f"{spoken(mha.contexts[-1] / 1024, 0)}K tokens, MHA sits on it, moving "
                          f"{spoken(mha.gb_per_s[-1] / GB_PER_TB, 2)} terabytes per second, "
                          f"{spoken(percent(mha.share_of_peak[-1]), 0)} percent of peak.") as t:
            self.play(LaggedStart(*(Create(f) for f in floors), lag_ratio=0.2), FadeIn(floor_key),
                      run_time=0.4 * t.duration)
            dot = plot.dot_at(mha.contexts[-1], mha.time_ms[-1], color=COLORS.ACCENT, radius=0.11)
            self.play(FadeIn(dot, scale=2), run_time=0.2 * t.duration)
        self.wait_for(t)
        bars = ValueBars(bpt.measured_bytes, list(bpt.variants), decimals=0, colors=list(VARIANT_COLORS),
                         value_strings=[grouped(v) for v in bpt.measured_bytes], max_height=1.5, bar_width=0.5,
                         title="cache bytes per token, one layer")
        fit_within(bars, room, None)
        note = label("file = formula", size=SIZES.LABEL, color=COLORS.MUTED).next_to(bars, DOWN, buff=BUFF.MEDIUM)
        VGroup(bars, note).move_to([SAFE.right - room / 2, 0, 0]).align_to(
            [0, src.get_top()[1] + BUFF.MEDIUM, 0], DOWN)
        with self.narrate(f"The order follows the bytes each token caches: {spoken(bpt.measured_bytes[0], 0)} "
                          f"per layer for MHA, {spoken(bpt.measured_bytes[2], 0)} for MQA. Bytes, not flops, "
                          "set the decode speed.") as t:
            self.play(FadeIn(bars), FadeIn(note), run_time=0.35 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, chart, floor_key, dot, bars, note, src)), run_time=0.6)

    # ------------------------------------------------------------------------------------ the token bound
    def bound_step(self):
        tb = data.token_bound()
        title = heading(f"{tb.model}: the fastest a token can be")
        eq = equation("decode_token_bound").move_to([0, EQ_Y - 0.2, 0])
        rows = [[kilo(n) + (" *" if beyond else ""), shown(kv / 2 ** 30, 0) + " GiB",
                 *(f"{shown(ms[k], 2)} ms" for ms in tb.bound_ms)]
                for k, (n, kv, beyond) in enumerate(zip(tb.contexts, tb.kv_bytes, tb.beyond_context))]
        table = DataTable(["context", "KV cache", *(f"{d}" for d in tb.devices)], rows, font_size=SIZES.BODY,
                          header_size=SIZES.LABEL, row_height=0.7)
        fit_within(table, SAFE.width * 0.9, None)
        table.next_to(eq, DOWN, buff=BUFF.LARGE)
        weights = label(f"weights: {shown(tb.weight_bytes / 1e9, 1)} GB in bf16, batch 1", size=SIZES.LABEL,
                        color=COLORS.MUTED).next_to(table, DOWN, buff=BUFF.MEDIUM)
        star = label(f"* beyond {tb.model}'s training context", size=SIZES.SMALL, color=COLORS.MUTED)
        star.next_to(weights, DOWN, buff=BUFF.SMALL)
        src = source_lines("β: " + " · ".join(s.split(":")[0] + " " + s.split(", ")[-2] for s in tb.device_sources),
                           SAFE.width)
        src.move_to([0, SAFE.bottom + src.height / 2, 0])
        with self.narrate("A whole decode step reads every weight and the whole cache at least once, so at batch "
                          "one its time is at least those bytes over the bandwidth.") as t:
            self.play(FadeIn(title), FadeIn(eq), run_time=0.3 * t.duration)
        self.wait_for(t)
        h100 = tb.bound_ms[0]
        with self.narrate(f"For {tb.model} on an H100: {spoken(h100[0], 2)} milliseconds per token at "
                          f"{spoken(tb.contexts[0] / 1024, 0)}K. At {spoken(tb.contexts[-1] / 1024, 0)}K the cache "
                          f"outweighs the model: {spoken(h100[-1], 1)} milliseconds, and "
                          f"{spoken(tb.bound_ms[1][-1], 1)} on the H200.") as t:
            self.play(FadeIn(table.header), Create(table.rule), FadeIn(weights), FadeIn(src),
                      run_time=0.2 * t.duration)
            self.play(LaggedStart(*(FadeIn(r, shift=RIGHT * 0.2) for r in table.rows), lag_ratio=0.4),
                      FadeIn(star), run_time=0.4 * t.duration)
            box = table.highlight_row(len(rows) - 1)
            self.play(Create(box), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, eq, table, weights, star, src, box)), run_time=0.6)

    # ------------------------------------------------------------------------------------ cache vs recompute
    def recompute_step(self):
        g, c = data.generation_speed(), data.cited()
        gpu, cpu = g.rows
        title = heading("Cache vs recompute: our tiny model")
        src = VGroup(*(source_lines(r.source, SAFE.width) for r in (gpu, cpu))).arrange(
            DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        src.move_to([SAFE.left + src.width / 2, SAFE.bottom + src.height / 2, 0])
        sweep = label(f"one length only: {shown(gpu.new_tokens, 0)} (H200) and {shown(cpu.new_tokens, 0)} (CPU) "
                      f"new tokens after {shown(gpu.prompt, 0)}; no sweep recorded", size=SIZES.LABEL,
                      color=COLORS.MUTED)
        fit_within(sweep, SAFE.width, None)
        sweep.move_to([SAFE.left + sweep.width / 2, src.get_top()[1] + BUFF.SMALL * 1.5 + sweep.height / 2, 0])
        top = SAFE.top - 0.75
        room = top - sweep.get_top()[1] - BUFF.SMALL * 1.5

        def measured_panels(bar_h: float) -> VGroup:
            out = VGroup()
            for row in (gpu, cpu):
                vals = (row.recompute_tokens_per_s, row.cache_tokens_per_s)
                out.add(ValueBars(vals, ["no cache", "cache"], decimals=1, colors=[COLORS.MUTED, COLORS.ACCENT],
                                  value_strings=[shown(v, 1) for v in vals], max_height=bar_h, bar_width=0.9,
                                  spacing=0.5, title=f"{row.device}: {shown(row.speedup, 2)}×",
                                  title_size=SIZES.LABEL))
            return out.arrange(RIGHT, buff=BUFF.LARGE * 1.2, aligned_edge=DOWN)

        panels = measured_panels(2.8)
        if panels.height > room:  # shorter bars, same text size
            panels = measured_panels(2.8 - (panels.height - room))
        unit = label("tokens per second", size=SIZES.LABEL, color=COLORS.MUTED).rotate(PI / 2)
        unit.next_to(panels, LEFT, buff=BUFF.MEDIUM)
        measured = VGroup(unit, panels)
        fit_within(measured, SAFE.width * 0.52, room)
        measured.align_to([SAFE.left, 0, 0], LEFT).align_to([0, top, 0], UP)
        left = VGroup(measured, sweep, src)
        anchor_w = SAFE.right - measured.get_right()[0] - BUFF.LARGE
        anchor = CitedBars([("tokens per second", c.rasbt_tokens_per_s, 0)], ["no cache", "cache"],
                           citation=f"{c.rasbt_source}; {c.rasbt_setup}", width=anchor_w,
                           colors=[COLORS.MUTED, COLORS.ACCENT], max_height=0.8, bar_width=0.8)
        fit_within(anchor, anchor_w, room)
        anchor.move_to([SAFE.right - anchor.width / 2, 0, 0]).align_to([0, top, 0], UP)
        with self.narrate(f"Now whole generation, on our tiny model. The cache makes it {spoken(cpu.speedup, 2)} "
                          f"times faster on a CPU, but only {spoken(gpu.speedup, 2)} times on the H200, which "
                          "spends its time launching kernels. One length only: no trend to read.") as t:
            self.play(FadeIn(title), FadeIn(measured), FadeIn(sweep), FadeIn(src), run_time=0.3 * t.duration)
            self.play(panels[1].title.animate.set_color(COLORS.ACCENT), run_time=0.1 * t.duration)
            self.wait(0.25 * t.duration)
            self.play(panels[0].title.animate.set_color(COLORS.ACCENT), run_time=0.1 * t.duration)
        self.wait_for(t)
        lo, hi = c.rasbt_tokens_per_s
        with self.narrate(f"A published anchor: Sebastian Raschka's small GPT on a CPU goes from {spoken(lo, 0)} "
                          f"to {spoken(hi, 0)} tokens per second, {spoken(c.rasbt_ratio, 2)} times.") as t:
            self.play(FadeIn(anchor), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, left, anchor)), run_time=0.6)

    # ------------------------------------------------------------------------------------ split-K
    def split_step(self):
        sk = data.split_k()
        title = heading("Split-K decoding: flash_decoding")
        sm = SplitMerge([s.cols for s in sk.splits], [s.lse for s in sk.splits], [s.out for s in sk.splits],
                        [s.weight for s in sk.splits], sk.lse, sk.merged, width=SPLIT_W)
        eq = equation("split_lse_merge")
        fit_within(sm, SAFE.width, SAFE.height - 2.5)
        sm.move_to([0, SAFE.top - 0.8 - sm.height / 2, 0])
        eq.scale(0.75)
        eq.move_to([0, SAFE.bottom + eq.height / 2, 0])
        check = label(f"merged = attention over all {sk.n_keys} keys: max difference {shown(sk.max_diff, sci=2)}",
                      size=SIZES.LABEL, color=COLORS.WEIGHT)
        fit_within(check, SAFE.width, None)
        check.move_to(eq)
        with self.narrate(f"One query over a long cache leaves most of a GPU idle. Split-K decoding cuts the "
                          f"keys and values into {spoken(len(sk.splits), 0)} splits, each for its own "
                          "workers.") as t:
            self.play(FadeIn(title), sm.reveal_strip(), run_time=0.5 * t.duration)
        with self.narrate("Each split returns its log-sum-exp, and its output normalised over its own "
                          "keys.") as t:
            self.play(sm.reveal_pairs(), run_time=0.6 * t.duration)
        big = max(range(len(sk.splits)), key=lambda s: sk.splits[s].weight)
        with self.narrate(f"The merge weights each output by e to its log-sum-exp minus the total. Split "
                          f"{spoken(big + 1, 0)}, with the largest scores, gets {spoken(sk.splits[big].weight, 2)}."
                          ) as t:
            self.play(sm.reveal_merge(), FadeIn(eq), run_time=0.5 * t.duration)
            box = sm.highlight(big)
            self.play(Create(box), run_time=0.2 * t.duration)
        self.wait_for(t)
        with self.narrate("No approximation: it equals attention over all keys, to double precision.") as t:
            self.play(FadeOut(eq), FadeIn(check), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, sm, box, check)), run_time=0.6)

    # ------------------------------------------------------------------------------------ cited
    def cited_step(self):
        c = data.cited()
        width = (SAFE.width - BUFF.LARGE) / 2 - 2 * BUFF.MEDIUM
        gen, att = c.flash_decoding_factors
        lo, hi = c.paged_attention_factors
        cards = VGroup()
        for lines, ref in (((c.flash_decoding_generation, c.flash_decoding_attention, c.flash_decoding_setup),
                            DAO_2023_DECODING),
                           ((c.paged_attention,), KWON)):
            body = VGroup(label("published", size=SIZES.SMALL, color=COLORS.MUTED),
                          *(paragraph(wrap(s, width, SIZES.BODY), size=SIZES.BODY) for s in lines[:2]),
                          paragraph(wrap(" · ".join((*lines[2:], ref.short(venue=False))), width, SIZES.SMALL),
                                    size=SIZES.SMALL, color=COLORS.MUTED))
            body.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL * 1.5)
            fit_within(body, width, None)
            cards.add(body)
        tall = max(b.height for b in cards)
        for k, body in enumerate(cards):
            frame = DashedVMobject(RoundedRectangle(corner_radius=0.12, width=width + 2 * BUFF.MEDIUM,
                                                    height=tall + 2 * BUFF.MEDIUM).move_to(body, aligned_edge=UP)
                                   .shift(UP * BUFF.MEDIUM).set_stroke(COLORS.MUTED, 1.5), num_dashes=90)
            body.align_to(frame, LEFT).shift(RIGHT * BUFF.MEDIUM)
            cards.submobjects[k] = VGroup(frame, body)
        cards.arrange(RIGHT, buff=BUFF.LARGE, aligned_edge=UP).move_to([0, 0.5, 0])
        with self.narrate(f"Running the splits in parallel, Flash-Decoding reports up to {spoken(gen, 0)} times "
                          f"faster generation on very long sequences, and attention up to {spoken(att, 0)} times "
                          "faster than FlashAttention.") as t:
            self.play(FadeIn(cards[0]), run_time=0.3 * t.duration)
        with self.narrate(f"PagedAttention wastes no cache slots, so more sequences share a GPU: {spoken(lo, 0)} "
                          f"to {spoken(hi, 0)} times the serving throughput.") as t:
            self.play(FadeIn(cards[1]), run_time=0.3 * t.duration)
        self.wait_for(t)
        msg = label("the cache saves compute and costs memory traffic", size=SIZES.BODY, color=COLORS.ACCENT)
        fit_within(msg, SAFE.width, None)
        msg.next_to(cards, DOWN, buff=BUFF.LARGE)
        with self.narrate("The cache saves compute, and costs memory traffic.") as t:
            self.play(FadeIn(msg, shift=UP * 0.2), run_time=0.3 * t.duration)
        self.wait_for(t)
