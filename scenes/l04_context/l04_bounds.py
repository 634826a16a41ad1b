"""L04.2 Memory and computation bounds: three memory bars per context length on a log scale (one layer's
materialised S, the whole KV cache, the weights of Llama-2-7B in fp16); the roofline of the H100 SXM and H200
with flash prefill per head (AI = n/2) and decode with MHA and GQA (AI = g); our H200 measurements of peak
memory (naive slope ≈ 2, tiled ≈ 1) and prefill time (both ≈ 2); the decode floor t ≥ bytes / bandwidth.

Numbers: ``data.memory_bars()``, ``roofline()``, ``measured_memory()``, ``measured_prefill()``,
``decode_floor()``; formulas: ``kv_cache_bytes``, ``roofline_bound``, ``attention_intensity``. This file holds
layout and timing only.

    manim -pql scenes/l04_context/l04_bounds.py MemoryComputeBounds
"""
from __future__ import annotations

import math

from manim import (DOWN, LEFT, RIGHT, UP, Create, DashedLine, FadeIn, FadeOut, GrowFromEdge, LaggedStart, Line,
                   Rectangle, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import grouped, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import LogLogPlot, RooflinePlot, fit_within, label
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.line_chart import source_lines
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l04_context import data

# memory bars (log scale)
BAR_LO, BAR_DECADES = 0.1, 5            # the y-axis runs from 0.1 GiB over five decades
BAR_ORIGIN = (-5.4, -2.7)
BAR_H = 4.4
BAR_W, BAR_PITCH, GROUP_GAP = 0.5, 0.7, 0.75
S_COLOR, KV_COLOR, W_COLOR = COLORS.SCORE, COLORS.K, COLORS.MUTED
EQ_H = 0.75
# roofline
ROOF_W, ROOF_H = 9.0, 4.1
ROOF_ORIGIN = (-3.6, -2.66)        # the axes' corner
COMPUTE_AT = (10.0 ** 4, 3.0)               # where "compute-bound" sits under the flat roof (data coords)
POINT_COLORS = (COLORS.WEIGHT, COLORS.WEIGHT, COLORS.ACCENT, COLORS.Q)
# measured
PLOT_W, PLOT_H = 4.2, 2.8
MEM_COLORS = (COLORS.V, COLORS.WEIGHT, COLORS.K)
METHOD_NAMES = {"naive": "naive, writes S", "attn_ref.flash_attention": "tiled, attn_ref",
                "torch_sdpa": "tiled, torch SDPA", "torch_sdpa[flash_attention]": "flash, torch SDPA"}
# decode floor
FLOOR_X0, FLOOR_W, FLOOR_ROW, FLOOR_BAR = -4.2, 8.0, 0.8, 0.5


def formula(name: str, y: float, height: float = EQ_H):
    eq = equation(name)
    fit_within(eq, SAFE.width, height)
    return eq.move_to([0, y, 0])


def gib(v: float) -> str:
    return shown(v, 0 if float(v).is_integer() else 1)


def kilo(n: int) -> str:
    return f"{grouped(n / 1024)}K"


class MemoryComputeBounds(LectureScene):
    """L04.2: memory bars, the roofline, measured memory and prefill time, the decode floor."""

    def construct(self):
        self.topic("L04.2", "Memory and computation bounds")
        self.memory_step()
        self.roofline_step()
        self.measured_step()
        self.decode_step()

    # ------------------------------------------------------------------------------------ memory bars
    def bar_axes(self, mb) -> VGroup:
        x0, y0 = BAR_ORIGIN
        width = len(mb.bars) * (3 * BAR_PITCH + GROUP_GAP)
        self.level = lambda v: y0 + BAR_H * math.log10(v / BAR_LO) / BAR_DECADES
        grid, ticks = VGroup(), VGroup()
        for k in range(BAR_DECADES + 1):
            v = BAR_LO * 10 ** k
            grid.add(Line([x0, self.level(v), 0], [x0 + width, self.level(v), 0]).set_stroke(COLORS.GRID, 1, 0.5))
            ticks.add(label(gib(v), size=SIZES.SMALL, color=COLORS.MUTED, mono=True).next_to(
                [x0, self.level(v), 0], LEFT, buff=BUFF.SMALL))
        axis = VGroup(Line([x0, y0, 0], [x0 + width, y0, 0]), Line([x0, y0, 0], [x0, y0 + BAR_H, 0])).set_stroke(
            COLORS.GRID, 2)
        unit = label("GiB, log scale", size=SIZES.LABEL, color=COLORS.TEXT).next_to(axis[1], UP, buff=BUFF.SMALL)
        unit.align_to(ticks, LEFT)
        return VGroup(grid, axis, ticks, unit)

    def memory_step(self):
        mb = data.memory_bars()
        title = heading(f"Memory at each context length: {mb.model}, fp16")
        axes = self.bar_axes(mb)
        x0, y0 = BAR_ORIGIN
        kinds = (("S of one layer", S_COLOR, "scores_gib"), ("KV cache, all layers", KV_COLOR, "kv_cache_gib"),
                 ("weights", W_COLOR, "weights_gib"))
        bars = [VGroup() for _ in kinds]
        values = [VGroup() for _ in kinds]
        names = VGroup()
        for g, bar in enumerate(mb.bars):
            left = x0 + GROUP_GAP / 2 + g * (3 * BAR_PITCH + GROUP_GAP)
            for k, (_, color, field) in enumerate(kinds):
                v = getattr(bar, field)
                cx = left + (k + 0.5) * BAR_PITCH
                r = Rectangle(width=BAR_W, height=self.level(v) - y0).set_stroke(width=0).set_fill(color, 0.85)
                r.move_to([cx, y0, 0], aligned_edge=DOWN)
                bars[k].add(r)
                values[k].add(label(gib(v), size=SIZES.NUMBER, color=color, mono=True).next_to(r, UP, buff=0.06))
            names.add(label(kilo(bar.n), size=SIZES.LABEL).move_to([left + 1.5 * BAR_PITCH, y0 - 0.3, 0]))
        legend = VGroup(*(VGroup(Rectangle(width=0.3, height=0.2).set_stroke(width=0).set_fill(c, 0.85),
                                 label(t, size=SIZES.LABEL, color=c)).arrange(RIGHT, buff=BUFF.SMALL)
                          for t, c, _ in kinds)).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        legend.move_to([-3.6, 1.4, 0], aligned_edge=LEFT)

        def grow(k):
            return LaggedStart(*(GrowFromEdge(VGroup(b, v), DOWN) for b, v in zip(bars[k], values[k])),
                               lag_ratio=0.25)

        s4, s16, s128 = mb.bars[0].scores_gib, mb.bars[1].scores_gib, mb.bars[-1].scores_gib
        with self.narrate(f"Where does the memory go? Take {mb.model} in half precision, and three bars "
                          "for each context length, on a log scale: every gridline is ten times the one "
                          "below.") as t:
            self.play(FadeIn(title), FadeIn(axes), FadeIn(names), run_time=0.5 * t.duration)
        with self.narrate(f"If a kernel writes out the score matrix S, one layer alone needs {spoken(s4, 0)} "
                          f"gibibyte at {spoken(mb.bars[0].n, 0)} tokens, {spoken(s16, 0)} at "
                          f"{spoken(mb.bars[1].n, 0)}, and {spoken(s128, 0)} at {spoken(mb.bars[-1].n, 0)}. "
                          "That is the quadratic, and the probabilities P double it.") as t:
            self.play(FadeIn(legend[0]), grow(0), run_time=0.7 * t.duration)
        eq = formula("kv_cache_bytes", 2.45)
        eq.set_x(1.6)
        kv4, kv128 = mb.bars[0].kv_cache_gib, mb.bars[-1].kv_cache_gib
        with self.narrate(f"The KV cache grows only linearly: K and V, times layers, KV heads, head size and "
                          f"tokens. That is {spoken(kv4, 0)} gibibytes at {spoken(mb.bars[0].n, 0)} tokens, "
                          f"{spoken(kv128, 0)} at {spoken(mb.bars[-1].n, 0)}.") as t:
            self.play(FadeIn(eq), FadeIn(legend[1]), grow(1), run_time=0.7 * t.duration)
        cap = mb.device_memory_gib
        gpu = data.roofline().devices[0].name.split()[0]     # the 80 GB card of memory_bars: H100
        line = DashedLine([x0, self.level(cap), 0], [x0 + axes[1][0].get_length(), self.level(cap), 0],
                          dash_length=0.1).set_stroke(COLORS.ACCENT, 3)
        cap_tag = label(f"one {gpu}'s memory: {shown(cap, 1)} GiB", size=SIZES.LABEL, color=COLORS.ACCENT)
        cap_tag.next_to(line.get_left(), UP + RIGHT, buff=BUFF.TIGHT).shift(RIGHT * 0.1)
        w = mb.bars[0].weights_gib
        ratio = mb.bars[-1].kv_over_weights
        with self.narrate(f"The weights stay at {spoken(w, 1)} gibibytes. At {spoken(mb.bars[2].n, 0)} tokens "
                          f"the cache has outgrown them; at {spoken(mb.bars[-1].n, 0)} it is {spoken(ratio, 1)} "
                          "times larger, "
                          f"and nearly fills an {gpu}'s memory on its own.") as t:
            self.play(FadeIn(legend[2]), grow(2), run_time=0.45 * t.duration)
            self.play(Create(line), FadeIn(cap_tag), run_time=0.3 * t.duration)
        box = Rectangle(width=legend[1].width + 0.3, height=legend[1].height + 0.2).set_stroke(COLORS.ACCENT, 3)
        box.move_to(legend[1])
        with self.narrate("But S exists only inside a naive kernel; flash attention never writes it. The KV cache "
                          "is kept for the whole generation.") as t:
            self.play(bars[0].animate.set_fill(opacity=0.25), Create(box), run_time=0.4 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, axes, names, legend, line, cap_tag, eq, box, *bars, *values)), run_time=0.6)

    # ------------------------------------------------------------------------------------ roofline
    def roofline_step(self):
        rl = data.roofline()
        h100, h200 = rl.devices
        title = heading("The roofline: time is bounded by FLOPs or by bytes")
        bound = formula("roofline_bound", 2.0, 1.0)
        plot = RooflinePlot([(d.name, d.peak_tflops, d.bandwidth_tbs) for d in rl.devices], x_range=(0.1, 10.0 ** 5, 1),
                            y_range=(0.1, 10.0 ** 4, 1), width=ROOF_W, height=ROOF_H)
        plot.shift([*ROOF_ORIGIN, 0] - plot.origin)
        with self.narrate("Time has a bound too. A kernel needs at least its FLOPs divided by peak compute, or "
                          "its bytes divided by memory bandwidth, whichever is longer.") as t:
            self.play(FadeIn(title), FadeIn(bound), run_time=0.4 * t.duration)
        self.wait_for(t)
        with self.narrate(f"On log axes that is a roofline: a slope where bandwidth limits, a flat roof at peak "
                          f"compute. The {h100.name.split()[0]}'s ridge sits at {spoken(h100.ridge, 0)} FLOPs per "
                          "byte. "
                          f"The H200 has the same compute and more bandwidth, so its ridge is lower, at "
                          f"{spoken(h200.ridge, 0)}.") as t:
            self.play(FadeOut(bound), FadeIn(plot.frame_parts()), FadeIn(plot.legend[0][0]),
                      plot.create_roof(0), run_time=0.5 * t.duration)
            self.play(FadeIn(plot.legend[0][1]), plot.create_roof(1), run_time=0.35 * t.duration)
        intensity = formula("attention_intensity", 2.62, 0.7)
        pts = h100.points
        marks = [plot.mark(p.intensity, (f"{p.short}: AI {grouped(p.intensity)}" if p.group == 1 else
                                         f"{p.short}, g = {p.group}: AI {grouped(p.intensity)}"),
                           color=c, direction=d, buff=bf)
                 for p, c, d, bf in zip(pts, POINT_COLORS, (DOWN + RIGHT, UP, DOWN + RIGHT, DOWN + RIGHT),
                                        (BUFF.SMALL, BUFF.SMALL, BUFF.SMALL, BUFF.SMALL))]
        with self.narrate(f"For one head, prefill does four n squared d FLOPs on eight n d bytes: an intensity of n "
                          f"over two. At {spoken(pts[0].n, 0)} tokens that is {spoken(pts[0].intensity, 0)}, already "
                          f"past the ridge; at {spoken(pts[1].n, 0)}, {spoken(pts[1].intensity, 0)}. Prefill is "
                          "compute-bound.") as t:
            self.play(FadeIn(intensity), run_time=0.2 * t.duration)
            self.play(plot.reveal(marks[0]), run_time=0.25 * t.duration)
            self.play(plot.reveal(marks[1]), run_time=0.25 * t.duration)
        with self.narrate(f"Decoding one token reads the whole K and V of a head, and each byte serves only the "
                          f"query heads that share it. Multi-head attention sits at {spoken(pts[2].intensity, 0)}, "
                          f"grouped-query attention with {spoken(pts[3].group, 0)} query heads per KV head at "
                          f"{spoken(pts[3].intensity, 0)}: far left of the ridge.") as t:
            self.play(plot.reveal(marks[2]), run_time=0.3 * t.duration)
            self.play(plot.reveal(marks[3]), run_time=0.3 * t.duration)
        regions = plot.region_labels(compute_at=COMPUTE_AT)
        with self.narrate("Decode is memory-bound, so counting its FLOPs does not predict its speed; counting "
                          "bytes does.") as t:
            self.play(FadeIn(regions), run_time=0.4 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, intensity, plot, regions, *marks)), run_time=0.6)

    # ------------------------------------------------------------------------------------ measured
    def measured_step(self):
        mm, mp = data.measured_memory(), data.measured_prefill()
        title = heading("Measured on one H200: naive vs tiled attention")
        mem = self.loglog(mm.series[0].seqlens, (0.1, 10.0 ** 5, 1), "peak memory (MiB)")
        for s, c in zip(mm.series, MEM_COLORS):
            mem.series.add(mem.line(s.seqlens, s.peak_mib, c))
        mem.set_legend([(f"{METHOD_NAMES[s.method]}: slope {shown(s.slope, 2)}", c)
                        for s, c in zip(mm.series, MEM_COLORS)], width=PLOT_W + 1.0)
        pre = self.loglog(mp.series[0].seqlens, (10.0 ** -3, 10.0 ** 2, 1), "ms per sequence")
        for s, c in zip(mp.series, (COLORS.V, COLORS.K)):
            pre.series.add(pre.line(s.seqlens, s.time_per_seq_ms, c))
        pre.set_legend([(f"{METHOD_NAMES[s.method]}: slope {shown(s.slope_per_seq, 2)}", c)
                        for s, c in zip(mp.series, (COLORS.V, COLORS.K))], width=PLOT_W + 1.0)
        VGroup(mem, pre).arrange(RIGHT, buff=1.1, aligned_edge=DOWN).move_to([0.2, 0.1, 0])
        sources = "; ".join(dict.fromkeys((mm.source, mp.source)))
        shapes = (f"{sources}. Memory: batch {mm.batch}, {mm.heads} heads, head dim {mm.head_dim}. Prefill: "
                  f"{mp.heads} heads, head dim {mp.head_dim}, non-causal, {grouped(mp.tokens_per_call)} tokens per "
                  f"call. Slopes fitted on log-log axes.")
        src = source_lines(shapes, SAFE.width)
        src.move_to([0, SAFE.bottom + src.height / 2, 0])
        naive, ours, sdpa = mm.series
        with self.narrate(f"Our own measurements on an H200 agree. Peak memory of one attention call, on log-log "
                          f"axes: the naive kernel, which writes S, climbs with slope {spoken(naive.slope, 2)}. "
                          "Quadratic.") as t:
            self.play(FadeIn(title), FadeIn(mem.frame_parts()), FadeIn(src),
                      run_time=0.35 * t.duration)
            self.play(FadeIn(mem.legend[0]), Create(mem.series[0]), run_time=0.45 * t.duration)
        with self.narrate(f"The tiled kernels, ours and PyTorch's, climb with slopes {spoken(ours.slope, 2)} and "
                          f"{spoken(sdpa.slope, 2)}. Linear.") as t:
            self.play(FadeIn(mem.legend[1:]), Create(mem.series[1]), Create(mem.series[2]),
                      run_time=0.7 * t.duration)
        nv, fl = mp.series
        with self.narrate(f"Time is another story. Prefill time per sequence grows with slope "
                          f"{spoken(nv.slope_per_seq, 2)} for the naive kernel and {spoken(fl.slope_per_seq, 2)} "
                          "for flash. Tiling removes the quadratic memory, not the quadratic FLOPs.") as t:
            self.play(FadeIn(pre.frame_parts()), FadeIn(pre.legend), run_time=0.3 * t.duration)
            self.play(Create(pre.series[0]), Create(pre.series[1]), run_time=0.5 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, mem, pre, src)), run_time=0.6)

    def loglog(self, seqlens, y_range, y_label) -> LogLogPlot:
        p = LogLogPlot(x_range=(seqlens[0] / 1.25, seqlens[-1] * 1.25, 1), y_range=y_range,
                       x_label="sequence length n", y_label=y_label, width=PLOT_W, height=PLOT_H,
                       x_ticks=[(n, kilo(n) if n >= 1024 else grouped(n)) for n in seqlens])
        p.series = VGroup()
        p.add(p.series)
        return p

    # ------------------------------------------------------------------------------------ decode floor
    def decode_step(self):
        df, rl = data.decode_floor(), data.roofline()
        h100 = rl.devices[0]
        title = heading("The decode floor: bytes over bandwidth")
        sub = label(f"{df.model}, batch {df.batch}, on the {h100.name} ({shown(h100.bandwidth_tbs, 2)} TB/s)",
                    size=SIZES.LABEL, color=COLORS.MUTED)
        sub.next_to(title, DOWN, buff=BUFF.SMALL).align_to(title, LEFT)
        scale = FLOOR_W / max(r.total_ms_h100 for r in df.rows)
        rows = VGroup()
        for i, r in enumerate(df.rows):
            y = 1.2 - i * FLOOR_ROW
            wbar = Rectangle(width=df.weights_ms_h100 * scale, height=FLOOR_BAR).set_stroke(width=0)
            wbar.set_fill(W_COLOR, 0.85)
            wbar.move_to([FLOOR_X0, y, 0], aligned_edge=LEFT)
            kbar = Rectangle(width=r.kv_ms_h100 * scale, height=FLOOR_BAR).set_stroke(width=0).set_fill(KV_COLOR, 0.9)
            kbar.next_to(wbar, RIGHT, buff=0)
            name = label(f"{kilo(r.context)} tokens", size=SIZES.LABEL).next_to([FLOOR_X0, y, 0], LEFT, buff=0.2)
            total = label(f"≥ {shown(r.total_ms_h100, 2)} ms", size=SIZES.NUMBER, color=COLORS.TEXT,
                          mono=True).next_to(kbar, RIGHT, buff=0.15)
            rows.add(VGroup(name, wbar, kbar, total))
        axis = Line([FLOOR_X0, 1.55, 0], [FLOOR_X0, 1.2 - (len(df.rows) - 1) * FLOOR_ROW - 0.35, 0]).set_stroke(
            COLORS.GRID, 2)
        legend = VGroup(label(f"weights, {shown(df.weights_bytes / 1e9, 2)} GB: ≥ {shown(df.weights_ms_h100, 2)} ms",
                              size=SIZES.LABEL, color=W_COLOR),
                        label("KV cache: grows with context", size=SIZES.LABEL, color=KV_COLOR)).arrange(
            RIGHT, buff=BUFF.LARGE).move_to([0, 2.0, 0])
        k4 = next(r for r in df.rows if r.kv_ms_h100 == df.kv_4k_ms_h100)
        note = label(f"{kilo(k4.context)}: KV {grouped(df.kv_4k_gib)} GiB ≥ {shown(df.kv_4k_ms_h100, 3)} ms",
                     size=SIZES.LABEL, color=KV_COLOR)
        last = df.rows[-1]
        with self.narrate("Now put the two together for decoding. Every new token streams every weight and the "
                          "whole KV cache from memory at least once, so its time is at least those bytes over "
                          "the bandwidth.") as t:
            self.play(FadeIn(title), FadeIn(sub), Create(axis), run_time=0.4 * t.duration)
        with self.narrate(f"For {df.model} on an {h100.name.split()[0]}, the weights alone take at least "
                          f"{spoken(df.weights_ms_h100, 2)} milliseconds per token.") as t:
            self.play(FadeIn(legend[0]), LaggedStart(*(GrowFromEdge(r[1], LEFT) for r in rows), lag_ratio=0.1),
                      FadeIn(VGroup(*(r[0] for r in rows))), run_time=0.7 * t.duration)
        note.next_to(rows[1][3], RIGHT, buff=BUFF.MEDIUM)
        with self.narrate(f"At {spoken(k4.context, 0)} tokens the cache adds {spoken(df.kv_4k_gib, 0)} gibibytes: "
                          f"at least {spoken(df.kv_4k_ms_h100, 3)} milliseconds more. At "
                          f"{spoken(last.context, 0)} tokens, the cache alone takes {spoken(last.kv_ms_h100, 1)} "
                          "milliseconds, far "
                          "more than the weights.") as t:
            self.play(FadeIn(legend[1]), LaggedStart(*(GrowFromEdge(r[2], LEFT) for r in rows), lag_ratio=0.15),
                      run_time=0.45 * t.duration)
            self.play(FadeIn(VGroup(*(r[3] for r in rows))), FadeIn(note), run_time=0.25 * t.duration)
        box = Rectangle(width=rows[-1][2].width + 0.15, height=FLOOR_BAR + 0.18).move_to(rows[-1][2])
        box.set_stroke(COLORS.ACCENT, 3)
        with self.narrate("No FLOP count enters this floor. Once flash attention stops writing S, the KV cache, "
                          "linear in length but multiplied by layers, heads and batch, is what limits serving.") as t:
            self.play(Create(box), run_time=0.3 * t.duration)
        self.wait_for(t)
