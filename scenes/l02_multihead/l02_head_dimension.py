"""L02.4 Head dimension calculations: d_h = d_model / H for six published models (each row's source on screen)
and Gemma 2 2B, whose 8 heads of 256 do not tile d_model 2304; the attention FLOPs and parameters, the same for
H = 1 … 32; the scale 1/√d_h, not 1/√d_model (measured: flatter scores and weights); and the head sizes fused
kernels are built for.

Numbers: ``data.head_dims()``, ``flop_invariance()``, ``scale_sharpness()``; formulas: ``head_dim``,
``attention_flops_heads``, ``multihead``. This file holds layout and timing only.

    manim -pql scenes/l02_multihead/l02_head_dimension.py HeadDimension
"""
from __future__ import annotations

from collections import defaultdict

from manim import (DOWN, LEFT, RIGHT, UP, Create, DashedLine, FadeIn, FadeOut, Group, Indicate, LaggedStart,
                   Line, Rectangle, SurroundingRectangle, VGroup, Write)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitationLine, DataTable, fit_within, label
from scenes.kit.mobjects.layout import scene_heading
from scenes.kit.references import DAO_2023_FLASH2
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l02_multihead import data

D_H = "d\u2095"                     # dₕ in the words' font
SQRT = "\u221a"
TABLE_TOP = 2.55                    # top of the tables, under the heading
EQ_SCALE = 0.8
BAR_W, BAR_GAP, BAR_MAX = 0.3, 0.1, 2.5   # the top-5 weight bars: width, gap, height of the y_max weight
CHIP_X = (-4.3, 0.0, 4.3)           # the three head sizes' columns in the last step


def heading(text: str):
    return scene_heading(text)


def n0(x) -> str:
    return shown(x, 0)


class HeadDimension(LectureScene):
    """L02.4: d_h = d_model / H (table, counter-example), FLOPs independent of H, 1/√d_h, kernel sizes."""

    def construct(self):
        self.topic("L02.4", "Head dimension calculations")
        self.models()
        self.counter_example()
        self.flops()
        self.scale()
        self.kernels()

    def clear(self, run_time: float):
        self.play(FadeOut(Group(*self.mobjects)), run_time=run_time)

    # ------------------------------------------------------------------------------------ the table
    def models(self):
        hd = data.head_dims()
        rows = [*hd.rows, hd.counter_example]
        table = DataTable(["model", "d_model", "H", "d_model / H", D_H],
                          [[r.name, n0(r.d_model), n0(r.n_heads), n0(r.ratio), n0(r.head_dim)] for r in rows],
                          sources=[r.cite for r in rows], column_colors=[None, None, None, None, COLORS.ACCENT])
        fit_within(table, SAFE.width, None)
        table.move_to([0, TABLE_TOP - table.height / 2, 0])
        title = heading(f"Head width: {D_H} = d_model / H")
        eq = equation("head_dim").scale(EQ_SCALE)
        eq.move_to([SAFE.right - eq.width / 2, SAFE.top - eq.height / 2, 0])
        self.table, self.title, self.eq = table, title, eq
        base, n = hd.rows[0], len(hd.rows)
        box = table.highlight_row(0)
        with self.narrate(f"How wide is one head? Divide the model width by the number of heads. The original "
                          f"Transformer has d model {spoken(base.d_model, 0)} and {spoken(base.n_heads, 0)} heads, "
                          f"so each head is {spoken(base.head_dim, 0)} wide.") as t:
            self.play(FadeIn(title), Write(eq), run_time=0.2 * t.duration)
            self.play(FadeIn(table.header), Create(table.rule), run_time=0.15 * t.duration)
            self.play(FadeIn(table.rows[0], shift=DOWN * 0.1), Create(box), run_time=0.25 * t.duration)
        by_width = defaultdict(list)
        for r in hd.rows:
            by_width[r.head_dim].append(r.name)
        small, big = sorted(by_width)
        with self.narrate(f"The same division gives {spoken(small, 0)} for the big "
                          f"Transformer and GPT-2, and {spoken(big, 0)} for GPT-3 and both Llama 2 models. "
                          "Each row's source is on the right.") as t:
            self.play(FadeOut(box), LaggedStart(*(FadeIn(table.rows[i], shift=DOWN * 0.1) for i in range(1, n)),
                                                lag_ratio=0.3), run_time=0.55 * t.duration)
            self.play(Indicate(table.columns[4], color=COLORS.ACCENT, scale_factor=1.1), run_time=0.2 * t.duration)
            self.play(Indicate(table.sources, color=COLORS.TEXT, scale_factor=1.05), run_time=0.15 * t.duration)

    def counter_example(self):
        hd, table = data.head_dims(), self.table
        c, k = hd.counter_example, len(hd.rows)
        box = table.highlight_row(k, color=COLORS.MASK)
        ratio_box = table.highlight_cell(k, 3, color=COLORS.MASK)
        note = label(f"{n0(c.n_heads)} \u00d7 {n0(c.head_dim)} = {n0(c.q_proj_shape[1])} \u2260 {n0(c.d_model)}"
                     f"   so W_Q is {n0(c.q_proj_shape[0])} \u00d7 {n0(c.q_proj_shape[1])}",
                     size=SIZES.BODY, color=COLORS.TEXT)
        fit_within(note, SAFE.width, None)
        note.move_to([0, max(SAFE.bottom + note.height / 2 + BUFF.SMALL, table.get_bottom()[1] - 0.9), 0])
        with self.narrate(f"But d h is a design choice, not a law. Gemma 2 2B has d model "
                          f"{spoken(c.d_model, 0)} and {spoken(c.n_heads, 0)} heads, yet each head is "
                          f"{spoken(c.head_dim, 0)} wide, not {spoken(c.ratio, 0)}.") as t:
            self.play(FadeIn(table.rows[k], shift=DOWN * 0.1), Create(box), run_time=0.35 * t.duration)
            self.play(table.cell(k, 3).animate.set_color(COLORS.MASK), Create(ratio_box), run_time=0.2 * t.duration)
        with self.narrate(f"Its heads together are {spoken(c.q_proj_shape[1], 0)} wide, so the query "
                          f"projection maps {spoken(c.d_model, 0)} numbers to {spoken(c.q_proj_shape[1], 0)}: "
                          "a rectangle, not a square.") as t:
            self.play(FadeIn(note, shift=UP * 0.1), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.clear(0.6)

    # ------------------------------------------------------------------------------------ FLOPs
    def flops(self):
        f = data.flop_invariance()
        title = heading("More heads, thinner heads, same cost")
        eq = equation("attention_flops_heads").scale(EQ_SCALE).next_to(title, DOWN, buff=BUFF.MEDIUM)
        eq.set_x(0)
        table = DataTable(["heads H", D_H, "attention FLOPs", "parameters"],
                          [[n0(h), n0(w), fl, p] for h, w, fl, p in zip(f.heads, f.head_dims, f.flops_each_shown,
                                                                        f.params_each_shown)],
                          align="rrrr", column_colors=[COLORS.ACCENT, COLORS.ACCENT, COLORS.TEXT, COLORS.TEXT])
        fit_within(table, SAFE.width, None)
        table.next_to(eq, DOWN, buff=BUFF.LARGE).set_x(0)
        shape = label(f"one sequence of {n0(f.n)} tokens, d_model {n0(f.d_model)}", size=SIZES.LABEL,
                      color=COLORS.MUTED).next_to(table, DOWN, buff=BUFF.MEDIUM)
        same = SurroundingRectangle(VGroup(table.columns[2][1:], table.columns[3][1:]), color=COLORS.WEIGHT,
                                    buff=0.12, stroke_width=4)
        with self.narrate("Do more heads cost more? Count the attention core: scores and weighted sum cost four "
                          "times n squared times d h operations per head.") as t:
            self.play(FadeIn(title), run_time=0.2 * t.duration)
            self.play(Write(eq), run_time=0.5 * t.duration)
        with self.narrate("Multiply by H heads of width d model over H, and H cancels.") as t:
            self.play(Indicate(eq, color=COLORS.ACCENT, scale_factor=1.05), run_time=0.6 * t.duration)
        with self.narrate(f"For one sequence of {spoken(f.n, 0)} tokens at width {spoken(f.d_model, 0)}: one head "
                          f"of {spoken(f.head_dims[0], 0)}, or {spoken(f.heads[-1], 0)} heads of "
                          f"{spoken(f.head_dims[-1], 0)}, the count is the same "
                          f"{spoken(f.flops[0], rough=True)} operations, and the projections keep their "
                          f"{spoken(f.params[0], rough=True)} parameters.") as t:
            self.play(FadeIn(table.header), Create(table.rule), FadeIn(shape), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(FadeIn(r, shift=DOWN * 0.1) for r in table.rows), lag_ratio=0.35),
                      run_time=0.55 * t.duration)
            self.play(Create(same), run_time=0.15 * t.duration)
        self.clear(0.6)

    # ------------------------------------------------------------------------------------ 1/√d_h
    def scale(self):
        s = data.scale_sharpness()
        right, wrong = s.rows
        title = heading(f"Scale by the head's width: 1/{SQRT}{D_H}")
        eq = equation("multihead", isolate=[r"\sqrt{d_{h}}"])
        fit_within(eq, SAFE.width, None)
        eq.next_to(title, DOWN, buff=BUFF.MEDIUM).set_x(0)
        root = eq.get_part_by_tex(r"\sqrt{d_{h}}")
        root_box = SurroundingRectangle(root, color=COLORS.ACCENT, buff=0.08, stroke_width=4)
        table = DataTable(["scale", "score std", "mean top weight", "entropy"],
                          [[r.label, shown(r.score_std, 2), shown(r.mean_max_weight, 2), shown(r.mean_entropy, 2)]
                           for r in s.rows] + [["uniform", "\u2014", shown(s.uniform_weight, 3),
                                                shown(s.uniform_entropy, 2)]])
        table.move_to([SAFE.left + table.width / 2, eq.get_bottom()[1] - 1.0 - table.height / 2, 0])
        for j in range(4):
            table.cell(0, j).set_color(COLORS.WEIGHT)
            table.cell(1, j).set_color(COLORS.MASK)
            table.cell(2, j).set_color(COLORS.MUTED)
        bars = self.top_bars(s, table)
        with self.narrate("One detail to get right: each head divides its scores by the square root of its own "
                          "width, d h, not of d model. Its dot products add up only d h products.") as t:
            self.play(FadeIn(title), Write(eq), run_time=0.4 * t.duration)
            self.play(Create(root_box), run_time=0.2 * t.duration)
        with self.narrate(f"For Transformer base widths, the right scale is one over the square root of "
                          f"{spoken(s.head_dim, 0)}. Divide by the square root of {spoken(s.d_model, 0)} instead, "
                          f"and the scores shrink {spoken(s.std_ratio, 2)} times: their spread drops from "
                          f"{spoken(right.score_std, 2)} to {spoken(wrong.score_std, 2)}.") as t:
            self.play(FadeIn(table.header), Create(table.rule), FadeIn(table.rows[0]), run_time=0.3 * t.duration)
            self.play(FadeIn(table.rows[1], shift=DOWN * 0.1), run_time=0.3 * t.duration)
        with self.narrate(f"The softmax flattens toward uniform. The largest weight falls from "
                          f"{spoken(right.mean_max_weight, 2)} to {spoken(wrong.mean_max_weight, 2)}, near one over "
                          f"{spoken(s.n, 0)}, and the head can barely single out a key.") as t:
            self.play(FadeIn(table.rows[2]), run_time=0.2 * t.duration)
            self.play(FadeIn(bars.frame), LaggedStart(*(Create(b) for b in bars.right), lag_ratio=0.15),
                      run_time=0.3 * t.duration)
            self.play(LaggedStart(*(Create(b) for b in bars.wrong), lag_ratio=0.15), run_time=0.3 * t.duration)
        self.clear(0.6)

    def top_bars(self, s, table) -> VGroup:
        """One query's five largest weights under both scales, side by side, with the uniform weight dashed."""
        y_max = max(s.max_weight_row)
        left = 0.0
        caption = label("one query's 5 largest weights", size=SIZES.LABEL, color=COLORS.TEXT)
        base_y = table.get_top()[1] - caption.height - BUFF.MEDIUM - BAR_MAX
        bars = VGroup()
        bars.right, bars.wrong = VGroup(), VGroup()
        step = 2 * BAR_W + BAR_GAP * 2
        for k, (a, b) in enumerate(zip(s.max_weight_row, s.max_weight_row_wrong)):
            for v, col, grp, dx in ((a, COLORS.WEIGHT, bars.right, 0.0), (b, COLORS.MASK, bars.wrong, BAR_W)):
                h = max(0.02, BAR_MAX * v / y_max)
                grp.add(Rectangle(width=BAR_W, height=h, stroke_width=0, fill_color=col, fill_opacity=0.9)
                        .move_to([left + k * step + dx + BAR_W / 2, base_y + h / 2, 0]))
        width = 5 * step - BAR_GAP
        axis = Line([left - 0.1, base_y, 0], [left + width, base_y, 0]).set_stroke(COLORS.GRID, 2)
        uy = base_y + BAR_MAX * s.uniform_weight / y_max
        uniform = DashedLine([left - 0.1, uy, 0], [left + width, uy, 0]).set_stroke(COLORS.MUTED, 2)
        caption.next_to(axis, UP, buff=BAR_MAX + BUFF.MEDIUM).set_x(axis.get_x())
        legend = label(f"dashed: uniform, 1/{n0(s.n)}", size=SIZES.LABEL, color=COLORS.MUTED)
        legend.next_to(axis, DOWN, buff=BUFF.SMALL).set_x(axis.get_x())
        bars.frame = VGroup(axis, uniform, caption, legend)
        bars.add(bars.frame, bars.right, bars.wrong)
        bars.shift(RIGHT * (SAFE.right - bars.get_right()[0]))
        room = bars.get_left()[0] - BUFF.LARGE - SAFE.left
        if table.width > room:
            table.scale(room / table.width)
            table.set_x(SAFE.left, direction=LEFT)
        return bars

    # ------------------------------------------------------------------------------------ kernel sizes
    def kernels(self):
        hd = data.head_dims()
        groups = defaultdict(list)
        for r in (*hd.rows, hd.counter_example):
            groups[r.head_dim].append(r.name)
        widths = sorted(groups)
        title = heading(f"{D_H} in practice")
        cols = VGroup()
        for x, w in zip(CHIP_X, widths):
            chip = label(f"{D_H} = {n0(w)}", size=SIZES.HEADING, color=COLORS.ACCENT)
            names = VGroup(*(label(nm, size=SIZES.LABEL, color=COLORS.TEXT) for nm in groups[w]))
            names.arrange(DOWN, buff=BUFF.SMALL)
            col = VGroup(chip, names).arrange(DOWN, buff=BUFF.MEDIUM).move_to([x, 0.6, 0])
            col.align_to([0, 1.9, 0], UP)
            cols.add(col)
        limit = hd.fused_max_head_dim
        span = SurroundingRectangle(cols, color=COLORS.WEIGHT, buff=BUFF.MEDIUM, stroke_width=5)
        span_label = label(f"FlashAttention-2 forward: any head dimension up to {n0(limit)}", size=SIZES.BODY,
                           color=COLORS.WEIGHT).next_to(span, DOWN, buff=BUFF.MEDIUM)
        fit_within(span_label, SAFE.width, None)
        cite = CitationLine(DAO_2023_FLASH2)
        common = " or ".join(spoken(w, 0) for w in widths[:-1])
        with self.narrate(f"So in practice d h is {common} in almost every model, and "
                          f"{spoken(widths[-1], 0)} in a few, like Gemma 2.") as t:
            self.play(FadeIn(title), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(FadeIn(c, shift=UP * 0.15) for c in cols), lag_ratio=0.4),
                      run_time=0.6 * t.duration)
        with self.narrate(f"Fused attention kernels are tuned for exactly these sizes: FlashAttention two's "
                          f"forward pass supports head dimensions up to {spoken(limit, 0)}.") as t:
            self.play(Create(span), FadeIn(span_label), FadeIn(cite), run_time=0.35 * t.duration)
            self.play(LaggedStart(*(Indicate(c[0], color=COLORS.WEIGHT) for c in cols), lag_ratio=0.3),
                      run_time=0.4 * t.duration)
        self.wait(0.5)
