"""L02.7 Parallel computation benefits: the heads become a batch axis (one batched call over B·H independent
problems = a loop over heads, same FLOPs), the measured batched-vs-loop time from the committed "heads" benchmark
(with its source line and device), and tensor parallelism by heads (Megatron-LM): W_Q/W_K/W_V split by columns,
W_O by rows, the partial outputs summed by one all-reduce, checked on numbers.

Numbers: ``data.batched_heads()``, ``head_loop_timing()``, ``tensor_parallel()``; formula: ``concat_project_sum``;
paper: ``SHOEYBI`` (Megatron-LM). This file holds layout and timing only.

    manim -pql scenes/l02_multihead/l02_parallel.py ParallelHeads
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Group, Indicate, LaggedStart, Line,
                   Rectangle, ReplacementTransform, SurroundingRectangle, VGroup, Write)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitationLine, DataTable, DeviceSplit, fit_within, label
from scenes.kit.mobjects.layout import scene_heading
from scenes.kit.references import SHOEYBI
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l02_multihead import data

D_H = "d\u2095"
TIMES = "\u00d7"
SLAB = (0.68, 1.0)                 # one (L × d_h) problem drawn as a slab: width, height
SLAB_GAP = 0.12
GRID_Y = 0.55                      # centre of the B × H grid of problems
CHART_W, CHART_H = 10.5, 3.7        # the timing bars
BATCHED, LOOP = COLORS.WEIGHT, COLORS.ACCENT


def n0(x) -> str:
    return shown(x, 0)


def span(a: int, b: int) -> str:
    """Columns a … b−1 as the screen writes them: "0–3"."""
    return f"{n0(a)}\u2013{n0(b - 1)}"


class ParallelHeads(LectureScene):
    """L02.7: heads as a batch axis, batched vs loop timing, tensor parallelism by heads."""

    def construct(self):
        self.topic("L02.7", "Parallel computation benefits")
        self.batch_axis()
        self.timing()
        self.split()
        self.all_reduce()

    def clear(self, run_time: float):
        self.play(FadeOut(Group(*self.mobjects)), run_time=run_time)

    # ------------------------------------------------------------------------------------ heads as a batch axis
    def batch_axis(self):
        b = data.batched_heads()
        title = scene_heading("Heads are a batch axis")
        slabs = VGroup()
        for _ in range(b.batch):
            for h in range(b.n_heads):
                slabs.add(Rectangle(width=SLAB[0], height=SLAB[1], stroke_width=2, stroke_color=COLORS.head(h))
                          .set_fill(COLORS.head(h), opacity=0.55))
        slabs.arrange_in_grid(rows=b.batch, cols=b.n_heads, buff=SLAB_GAP).move_to([0, GRID_Y, 0])
        rows = VGroup(*(label(f"sequence {i + 1}", size=SIZES.LABEL, color=COLORS.MUTED)
                        .next_to(slabs[i * b.n_heads], LEFT, buff=BUFF.MEDIUM) for i in range(b.batch)))
        heads = VGroup(*(label(f"h{h + 1}", size=SIZES.LABEL, color=COLORS.head(h)).next_to(slabs[h], UP,
                                                                                          buff=BUFF.SMALL)
                         for h in range(b.n_heads)))
        row_w = b.problems * (SLAB[0] + SLAB_GAP)
        if row_w > SAFE.width:  # the flattened row of B·H problems must fit
            slabs.scale(SAFE.width / row_w)
        shape = label(f"(B, H, L, {D_H}) = ({n0(b.batch)}, {n0(b.n_heads)}, {n0(b.n)}, {n0(b.head_dim)})",
                      size=SIZES.BODY, color=COLORS.TEXT, mono=True).next_to(slabs, DOWN, buff=BUFF.LARGE)
        flat = label(f"(B\u00b7H, L, {D_H}) = ({', '.join(n0(v) for v in b.batched_shape)})",
                     size=SIZES.BODY, color=COLORS.TEXT, mono=True).move_to(shape)
        loop_note = label(f"loop: {n0(b.problems)} calls", size=SIZES.BODY, color=LOOP)
        batch_note = label("batched: 1 call", size=SIZES.BODY, color=BATCHED)
        notes = VGroup(loop_note, batch_note).arrange(RIGHT, buff=1.5).next_to(shape, DOWN, buff=BUFF.MEDIUM)
        same = label(f"same FLOPs: {shown(b.flops_loop, rough=True)} both ways; outputs equal "
                     f"(max difference {shown(b.max_diff_loop_vs_batched, 0)})", size=SIZES.LABEL,
                     color=COLORS.TEXT)
        fit_within(same, SAFE.width, None)
        same.next_to(notes, DOWN, buff=BUFF.MEDIUM)
        with self.narrate(f"No head waits for another, so the heads become one more batch axis: "
                          f"{spoken(b.batch, 0)} sequences times "
                          f"{spoken(b.n_heads, 0)} heads is {spoken(b.problems, 0)} independent attention problems, "
                          f"each {spoken(b.n, 0)} tokens by {spoken(b.head_dim, 0)}.") as t:
            self.play(FadeIn(title), run_time=0.1 * t.duration)
            self.play(LaggedStart(*(FadeIn(s, scale=0.8) for s in slabs), lag_ratio=0.05), FadeIn(rows),
                      FadeIn(heads), run_time=0.45 * t.duration)
            self.play(FadeIn(shape), run_time=0.15 * t.duration)
            self.play(FadeOut(rows), FadeOut(heads), ReplacementTransform(shape, flat),
                      slabs.animate.arrange(RIGHT, buff=SLAB_GAP).move_to([0, GRID_Y, 0]), run_time=0.2 * t.duration)
        cursor = SurroundingRectangle(slabs[0], color=LOOP, buff=0.05, stroke_width=5)
        with self.narrate(f"You can loop over them in Python, one call per head, or hand all "
                          f"{spoken(b.problems, 0)} to one batched matrix multiply. The outputs are identical, and "
                          f"so is the work: {spoken(b.flops_loop, rough=True)} operations either way.") as t:
            self.play(FadeIn(loop_note), Create(cursor), run_time=0.1 * t.duration)
            for s in slabs[1:]:
                self.play(cursor.animate.move_to(s), run_time=0.3 / (len(slabs) - 1) * t.duration)
            box = SurroundingRectangle(slabs, color=BATCHED, buff=0.1, stroke_width=5)
            self.play(FadeOut(cursor), FadeIn(batch_note), Create(box), run_time=0.2 * t.duration)
            self.play(FadeIn(same, shift=UP * 0.1), run_time=0.2 * t.duration)
        self.clear(0.6)

    # ------------------------------------------------------------------------------------ measured time
    def timing(self):
        tm = data.head_loop_timing()
        title = scene_heading("Same FLOPs, different time")
        if not tm.available or not tm.chart_heads:
            note = label("no heads benchmark committed yet: no timing shown", size=SIZES.BODY, color=COLORS.MUTED)
            with self.narrate("How much faster is the batched call? That needs a measurement, and none is "
                              "committed yet, so we show no number.") as t:
                self.play(FadeIn(title), FadeIn(note), run_time=0.3 * t.duration)
            self.clear(0.6)
            return
        chart = self.timing_bars(tm)
        fit_within(chart, SAFE.width, SAFE.height - title.height - BUFF.LARGE)
        source = label(tm.chart_source, size=SIZES.SMALL, color=COLORS.MUTED)
        fit_within(source, SAFE.width, None)
        source.move_to([SAFE.left + source.width / 2, SAFE.bottom + source.height / 2, 0])
        room_top, room_bottom = title.get_bottom()[1] - BUFF.MEDIUM, source.get_top()[1] + BUFF.MEDIUM
        fit_within(chart, SAFE.width, room_top - room_bottom)
        chart.move_to([0, (room_top + room_bottom) / 2, 0])  # centred in the room between title and source
        best = max(range(len(tm.chart_speedup)), key=lambda i: tm.chart_speedup[i])
        wins = all(s > 1 for s in tm.chart_speedup)
        device = "a two core CPU" if tm.chart_device == "CPU" else "a GPU"
        with self.narrate(f"Does it pay off? Torch's fused attention on {device}, {spoken(tm.chart_seqlen, 0)} "
                          "tokens, total width fixed: each pair of bars is the same work, green batched, orange "
                          "looped.") as t:
            self.play(FadeIn(title), FadeIn(chart.frame), FadeIn(source), run_time=0.3 * t.duration)
            self.play(LaggedStart(*(Create(g) for g in chart.groups), lag_ratio=0.15), run_time=0.5 * t.duration)
        verdict = "wins at every head count" if wins else "is not always ahead"
        with self.narrate(f"The batched call {verdict} here, and its best lead is with many thin heads: "
                          f"{spoken(tm.chart_speedup[best], 2)} times faster with {spoken(tm.chart_heads[best], 0)} "
                          f"heads, where the loop makes {spoken(tm.chart_heads[best], 0)} small calls "
                          f"instead of one.") as t:
            self.play(LaggedStart(*(FadeIn(s) for s in chart.speedups), lag_ratio=0.15), run_time=0.5 * t.duration)
            self.play(Indicate(chart.speedups[best], color=COLORS.ACCENT), run_time=0.3 * t.duration)
        with self.narrate("On a GPU it matters more: every call launches a kernel, and one thin head cannot keep "
                          "thousands of cores busy.") as t:
            self.wait_for(t)
        self.clear(0.6)

    def timing_bars(self, tm) -> VGroup:
        """Grouped bars, batched and loop per head count, time on a linear axis; speedup labels over the pairs."""
        n = len(tm.chart_heads)
        top = max(tm.chart_loop_ms + tm.chart_batched_ms)
        slot = CHART_W / n
        bw = 0.32 * slot
        axis = Line([0, 0, 0], [CHART_W, 0, 0]).set_stroke(COLORS.GRID, 2)
        groups, ticks, speedups = VGroup(), VGroup(), VGroup()
        for i, (h, w, b, lp, s) in enumerate(zip(tm.chart_heads, tm.chart_head_dims, tm.chart_batched_ms,
                                                 tm.chart_loop_ms, tm.chart_speedup)):
            x = (i + 0.5) * slot
            pair = VGroup()
            for v, col, dx in ((b, BATCHED, -bw / 2 - 0.02), (lp, LOOP, bw / 2 + 0.02)):
                hgt = CHART_H * v / top
                pair.add(Rectangle(width=bw, height=hgt, stroke_width=0, fill_color=col, fill_opacity=0.9)
                         .move_to([x + dx, hgt / 2, 0]))
            groups.add(pair)
            ticks.add(VGroup(label(n0(h), size=SIZES.LABEL, color=COLORS.TEXT, mono=True),
                             label(n0(w), size=SIZES.LABEL, color=COLORS.MUTED, mono=True))
                      .arrange(DOWN, buff=BUFF.TIGHT).next_to([x, 0, 0], DOWN, buff=BUFF.SMALL))
            speedups.add(label(f"{shown(s, 2)}{TIMES}", size=SIZES.LABEL, color=COLORS.TEXT)
                         .next_to(pair, UP, buff=BUFF.SMALL))
        axis_title = label(f"heads H (and below, head width {D_H})", size=SIZES.LABEL, color=COLORS.TEXT)
        axis_title.next_to(ticks, DOWN, buff=BUFF.SMALL).set_x(CHART_W / 2)
        y_top = label(f"{shown(top, 1)} ms", size=SIZES.LABEL, color=COLORS.MUTED).next_to([0, CHART_H, 0], LEFT,
                                                                                        buff=BUFF.SMALL)
        y_axis = Line([0, 0, 0], [0, CHART_H, 0]).set_stroke(COLORS.GRID, 2)
        gridline = Line([0, CHART_H, 0], [CHART_W, CHART_H, 0]).set_stroke(COLORS.GRID, 1, opacity=0.5)
        legend = VGroup(label("batched: one call", size=SIZES.LABEL, color=BATCHED),
                        label("loop over heads", size=SIZES.LABEL, color=LOOP),
                        label(f"time per forward, {tm.chart_device}", size=SIZES.LABEL, color=COLORS.MUTED)
                        ).arrange(RIGHT, buff=0.8)
        legend.next_to(speedups, UP, buff=BUFF.MEDIUM).set_x(CHART_W / 2)
        chart = VGroup()
        chart.frame = VGroup(axis, y_axis, gridline, y_top, ticks, axis_title, legend)
        chart.groups, chart.speedups = groups, speedups
        chart.add(chart.frame, groups, speedups)
        return chart

    # ------------------------------------------------------------------------------------ tensor parallelism
    def split(self):
        tp = data.tensor_parallel()
        title = scene_heading("Tensor parallelism: split by heads")
        notes = [[f"W_Q, W_K, W_V: columns {span(*c)}", f"W_O: rows {span(*r)}",
                  f"{n0(tp.params_per_device)} of {n0(tp.params_total)} parameters"]
                 for c, r in zip(tp.qkv_columns, tp.o_rows)]
        devices = DeviceSplit(tp.heads_per_device, notes=notes, output="output = sum of the partial outputs",
                              drop=0.6)
        fit_within(devices, SAFE.width, SAFE.height - title.height - BUFF.MEDIUM - 1.9)
        devices.next_to(title, DOWN, buff=BUFF.MEDIUM).set_x(0)
        cite = CitationLine(SHOEYBI)
        self.devices, self.tp_title, self.cite = devices, title, cite
        first, second = tp.heads_per_device
        with self.narrate(f"The same independence lets one layer run on several devices. Megatron-LM splits the "
                          f"heads: device zero holds heads {spoken(first[0] + 1, 0)} and {spoken(first[1] + 1, 0)}, "
                          f"device one heads {spoken(second[0] + 1, 0)} and {spoken(second[1] + 1, 0)}.") as t:
            self.play(FadeIn(title), FadeIn(cite), run_time=0.2 * t.duration)
            self.play(FadeIn(devices.boxes), FadeIn(devices.titles), run_time=0.25 * t.duration)
            self.play(LaggedStart(*(FadeIn(b, shift=DOWN * 0.15) for g in devices.blocks for b in g),
                                  lag_ratio=0.25), run_time=0.4 * t.duration)
        with self.narrate("Each device keeps only its heads' columns of the query, key and value matrices, and the "
                          "matching rows of the output matrix: half of the layer's parameters. It computes its "
                          "heads without talking to the other device.") as t:
            self.play(LaggedStart(*(FadeIn(m) for note in devices.notes for m in note), lag_ratio=0.3),
                      run_time=0.6 * t.duration)
            self.play(*(Indicate(g, color=COLORS.TEXT, scale_factor=1.05) for g in devices.blocks),
                      run_time=0.3 * t.duration)

    def all_reduce(self):
        tp, devices = data.tensor_parallel(), self.devices
        eq = equation("concat_project_sum").scale(0.8)
        fit_within(eq, SAFE.width, None)
        room_top = devices.get_bottom()[1] - BUFF.MEDIUM
        room_bottom = self.cite.get_top()[1] + BUFF.MEDIUM
        fit_within(eq, None, room_top - room_bottom)
        eq.move_to([0, (room_top + room_bottom) / 2, 0])
        with self.narrate("Why rows of the output matrix? Concatenating the heads and multiplying by W O equals "
                          "adding each head times its own block of rows. So each device holds a partial output, "
                          "and one all-reduce adds them up.") as t:
            self.play(Write(eq), run_time=0.4 * t.duration)
            self.play(devices.all_reduce(), run_time=0.5 * t.duration)
        i = tp.example_row
        names = ["device 0 partial", "device 1 partial", "all-reduce sum", "one device, whole layer"]
        table = DataTable([f"token {n0(i + 1)}'s output", *(n0(j + 1) for j in range(tp.d_model))],
                          [[nm, *(shown(v, 2) for v in m[i])]
                           for nm, m in zip(names, (*tp.partials, tp.all_reduce, tp.full))],
                          column_colors=[None] * (tp.d_model + 1))
        fit_within(table, SAFE.width, None)
        table.next_to(self.tp_title, DOWN, buff=BUFF.LARGE).set_x(0)
        for j in range(tp.d_model + 1):
            table.cell(2, j).set_color(COLORS.OUTPUT)
            table.cell(3, j).set_color(COLORS.WEIGHT)
        rule = Line(table.rule.get_left(), table.rule.get_right()).set_stroke(COLORS.GRID, 2)
        rule.move_to([table.rule.get_x(), (table.row_y(1) + table.row_y(2)) / 2, 0])
        diff = label(f"largest difference: {shown(tp.max_diff, sci=2)}", size=SIZES.BODY, color=COLORS.WEIGHT)
        diff.next_to(table, DOWN, buff=BUFF.LARGE)
        token = "the first token" if i == 0 else f"token {spoken(i + 1, 0)}"
        with self.narrate(f"On numbers, for {token}: the two partial outputs add up to the output of the "
                          f"whole layer on one device, to within {spoken(tp.max_diff, sci=2)}, the rounding of "
                          "double precision.") as t:
            self.play(FadeOut(devices), eq.animate.next_to(diff, DOWN, buff=BUFF.LARGE), run_time=0.2 * t.duration)
            self.play(FadeIn(table.header), Create(table.rule), FadeIn(table.rows[0]), FadeIn(table.rows[1]),
                      run_time=0.25 * t.duration)
            self.play(Create(rule), FadeIn(table.rows[2], shift=DOWN * 0.1), run_time=0.2 * t.duration)
            self.play(FadeIn(table.rows[3], shift=DOWN * 0.1), FadeIn(diff), run_time=0.2 * t.duration)
        with self.narrate(f"The split is free mathematically because heads never talk to each other inside the "
                          f"layer. The only price is that one sum: {spoken(tp.all_reduce_numbers, 0)} numbers here, "
                          "tokens times d model in general, once per layer.") as t:
            self.play(Indicate(table.rows[3], color=COLORS.WEIGHT, scale_factor=1.03), run_time=0.4 * t.duration)
        self.wait(0.5)
