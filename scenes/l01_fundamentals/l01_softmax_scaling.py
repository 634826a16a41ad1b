"""L01.6 Softmax and scaling deep dive: softmax step by step on one real score row, temperature, why the
scores are divided by √d_k (measured variance and saturation), and the max-subtraction that keeps softmax
finite.

Numbers: ``data.softmax_walkthrough()``, ``temperature_rows()``, ``dot_product_variance()``, ``saturation()``,
``stable_softmax_demo()`` (+ ``softmax_extra()`` for sums that add up on screen); formulas:
``softmax``, ``softmax_temperature``, ``variance_qk``, ``variance_scaled``, ``softmax_stable``.
This file holds layout and timing only.

    manim -pql scenes/l01_fundamentals/l01_softmax_scaling.py SoftmaxScaling
"""
from __future__ import annotations

from collections.abc import Sequence

from manim import (DOWN, LEFT, RIGHT, UP, Create, Dot, FadeIn, FadeOut, Indicate, LaggedStart, Line,
                   ReplacementTransform, Transform, VGroup, VMobject, Write)

from scenes.kit.equations import equation
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import SoftmaxBars, label
from scenes.kit.format import shown, spoken
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l01_fundamentals import data
from scenes.l01_fundamentals.data import softmax_extra

TITLE = "Softmax and scaling"
STEP = 1.55  # column pitch of the softmax table (one column per key, bars underneath)
Y_MAX = 0.5  # bar height scale: a weight of 0.5 fills the bars' full height
BARS_ZOOM = 1.25  # the bars grow once the table above them has gone
UNSCALED, SCALED = COLORS.ACCENT, COLORS.WEIGHT
SQRT_DK = "\u221ad\u2096"  # √dₖ in words' font, for legends


def num(x: float, decimals: int = 2, color: str = COLORS.TEXT, size: float = SIZES.NUMBER) -> VGroup:
    return label(shown(x, decimals), size=size, color=color, mono=True)


def line_chart(series: Sequence[tuple[Sequence[float], str]], x_labels: Sequence[str], y_ticks: Sequence[float],
               *, width: float, height: float, title: str, x_title: str) -> VGroup:
    """A small line chart: points at evenly spaced x (the x labels say which values), y from 0 to the last
    tick. Parts: ``.axes``, ``.lines`` (line+dots per series), ``.ends`` (the last value of each series,
    labelled), ``.title``, ``.ticks``."""
    top = y_ticks[-1]
    n = len(x_labels)
    xs = [width * (k + 0.5) / n for k in range(n)]
    chart = VGroup()
    axes = VGroup(Line([0, 0, 0], [width, 0, 0]), Line([0, 0, 0], [0, height, 0])).set_stroke(COLORS.GRID, 2)
    grid = VGroup(*(Line([0, height * t / top, 0], [width, height * t / top, 0]).set_stroke(COLORS.GRID, 1,
                                                                                               opacity=0.5)
                    for t in y_ticks[1:]))
    ticks = VGroup()
    for t in y_ticks:
        ticks.add(label(shown(t, 1 if t % 1 else 0), size=SIZES.SMALL, color=COLORS.MUTED,
                        mono=True).next_to([0, height * t / top, 0], LEFT, buff=BUFF.SMALL))
    for x, text in zip(xs, x_labels):
        ticks.add(label(text, size=SIZES.SMALL, color=COLORS.MUTED, mono=True).next_to([x, 0, 0], DOWN,
                                                                                      buff=BUFF.SMALL))
    lines, ends = VGroup(), VGroup()
    for values, color in series:
        pts = [[x, height * min(v, top) / top, 0] for x, v in zip(xs, values)]
        line = VMobject().set_points_as_corners(pts).set_stroke(color, 5)
        dots = VGroup(*(Dot(p, radius=0.07, color=color) for p in pts))
        lines.add(VGroup(line, dots))
        ends.add(num(values[-1], 2, color, SIZES.LABEL).next_to(pts[-1], RIGHT, buff=BUFF.SMALL))
    chart.add(grid, axes, ticks, lines, ends)
    chart.title = label(title, size=SIZES.LABEL, color=COLORS.TEXT).next_to(axes, UP, buff=BUFF.MEDIUM)
    chart.title.set_x(width / 2)
    chart.x_title = label(x_title, size=SIZES.SMALL, color=COLORS.MUTED)
    chart.x_title.next_to(ticks, DOWN, buff=BUFF.SMALL).set_x(width / 2)
    chart.add(chart.title, chart.x_title)
    chart.axes, chart.lines, chart.ends, chart.ticks, chart.grid = axes, lines, ends, ticks, grid
    return chart


class SoftmaxScaling(LectureScene):
    """L01.6: exp → sum → divide; temperature; Var(q·k) = d_k and the ÷√d_k fix; saturation; stable softmax."""

    def construct(self):
        self.topic("L01.6", "Softmax and scaling deep dive")
        self.title = heading(TITLE)
        self.walkthrough()
        self.temperature()
        self.variance()
        self.saturation()
        self.stable()

    # ------------------------------------------------------------------------------------ exp, sum, divide
    def walkthrough(self):
        sw, ex = data.softmax_walkthrough(), softmax_extra()
        n = len(sw.tokens)
        x0 = -1.3 - STEP * (n - 1) / 2 + 1.3
        col_x = [x0 + STEP * j for j in range(n)]
        y_score, y_exp = 1.45, 0.6
        bars = SoftmaxBars(sw.weights, sw.tokens, bar_width=0.9, spacing=STEP - 0.9, max_height=2.4, y_max=Y_MAX,
                           font_size=SIZES.NUMBER, label_size=SIZES.LABEL, label_color=COLORS.K)
        bars.shift(RIGHT * (col_x[0] - bars.bars[0].get_x()) + UP * (-2.75 - bars.baseline.get_y()))
        scores = VGroup(*(num(v, 2, COLORS.SCORE).move_to([x, y_score, 0]) for v, x in zip(sw.scores, col_x)))
        exps = VGroup(*(num(v, 2, COLORS.TEXT).move_to([x, y_exp, 0]) for v, x in zip(ex.exps_shown, col_x)))
        row_x = col_x[0] - 1.25
        names = VGroup(label("score", size=SIZES.LABEL, color=COLORS.SCORE),
                       label("exp(score)", size=SIZES.LABEL, color=COLORS.TEXT),
                       label("weight", size=SIZES.LABEL, color=COLORS.WEIGHT))
        for nm, y in zip(names, (y_score, y_exp, bars.bars.get_y())):
            nm.move_to([row_x - nm.width / 2, y, 0])
        query = label(f"query {sw.query}: one row of scaled scores", size=SIZES.SMALL, color=COLORS.Q)
        query.move_to([row_x - names[1].width, 2.2, 0], aligned_edge=LEFT)
        total = VGroup(label("sum", size=SIZES.LABEL, color=COLORS.MUTED), num(ex.total_shown, 2, COLORS.TEXT,
                                                                                 SIZES.BODY))
        total.arrange(RIGHT, buff=BUFF.SMALL).move_to([col_x[-1] + 1.6, y_exp, 0])
        brace = Line([col_x[0] - 0.5, y_exp - 0.38, 0], [col_x[-1] + 0.5, y_exp - 0.38, 0]).set_stroke(
            COLORS.GRID, 2)
        eq = equation("softmax").scale(0.9).move_to([3.3, 2.75, 0])
        arrow_exp = VGroup(*(Line([x, y_score - 0.22, 0], [x, y_exp + 0.22, 0]).set_stroke(COLORS.MUTED, 2)
                             .add_tip(tip_length=0.12, tip_width=0.12) for x in col_x))
        self.bars, self.col_x = bars, col_x

        with self.narrate(f"Softmax turns a row of scores into weights in two moves. Here is the row of "
                          f"{sw.query}, already divided by the square root of d_k.") as t:
            self.play(FadeIn(self.title), FadeIn(eq), run_time=0.25 * t.duration)
            self.play(FadeIn(query), FadeIn(names[0]), FadeIn(bars.labels), FadeIn(bars.baseline),
                      LaggedStart(*(FadeIn(s, shift=DOWN * 0.2) for s in scores), lag_ratio=0.15),
                      run_time=0.45 * t.duration)
        with self.narrate("First, exponentiate: every score becomes positive, and the larger scores grow "
                          "faster.") as t:
            self.play(FadeIn(names[1]), LaggedStart(*(Create(a) for a in arrow_exp), lag_ratio=0.1),
                      LaggedStart(*(ReplacementTransform(s.copy(), e) for s, e in zip(scores, exps)),
                                  lag_ratio=0.15), run_time=0.6 * t.duration)
        with self.narrate(f"Then normalise: add up the exponentials, {spoken(ex.total_shown, 2)}, and divide "
                          "each one by that sum. The weights are positive and add up to exactly one.") as t:
            self.play(Create(brace), ReplacementTransform(exps.copy(), total), run_time=0.3 * t.duration)
            self.play(FadeIn(names[2]),
                      LaggedStart(*(ReplacementTransform(e.copy(), b) for e, b in zip(exps, bars.bars)),
                                  lag_ratio=0.12),
                      LaggedStart(*(FadeIn(v) for v in bars.values), lag_ratio=0.12), run_time=0.45 * t.duration)
        self.add(bars)
        self.walk = VGroup(scores, exps, names, query, total, brace, arrow_exp)
        self.eq = eq

    # ------------------------------------------------------------------------------------ temperature
    def temperature(self):
        tr = data.temperature_rows()
        temps = list(tr.temperatures)
        one = temps.index(1.0)  # T = 1: the plain softmax
        k_cold, k_hot = temps.index(min(temps)), temps.index(max(temps))
        order = [k_cold, k_hot, one]
        eq = equation("softmax_temperature").scale(0.9).move_to(self.eq)
        eq.shift(LEFT * max(0.0, eq.get_right()[0] - SAFE.right))

        bigger = self.bars.copy().scale(BARS_ZOOM, about_point=self.bars.baseline.get_center())

        def t_label(k):
            return label(f"T = {tr.temperatures[k]:g}", size=SIZES.HEADING, color=COLORS.ACCENT).move_to(
                [bigger.baseline.get_x(), 1.75, 0])

        tag = t_label(one)
        ghost = bigger.bars.copy().set_fill(opacity=0).set_stroke(COLORS.WEIGHT, 2, opacity=0.55)
        with self.narrate("Divide the scores by a temperature T, and you control how peaked "
                          f"the weights are. At T equal to one, nothing changes: the largest weight is "
                          f"{spoken(tr.max_weight[one], 2)}.") as t:
            self.play(FadeOut(self.walk), ReplacementTransform(self.eq, eq), Transform(self.bars, bigger),
                      run_time=0.3 * t.duration)
            self.play(FadeIn(tag), run_time=0.2 * t.duration)
            self.add(ghost)
        lines = {
            k_cold: f"Cool it to {temps[k_cold]:g}, and the differences are magnified: the largest weight rises "
                    f"to {spoken(tr.max_weight[k_cold], 2)}.",
            k_hot: f"Heat it to {temps[k_hot]:g}, and everything flattens towards uniform.",
            one: "Dividing by the square root of d_k is a temperature too, and it is chosen for a good reason.",
        }
        for k in order:
            with self.narrate(lines[k]) as t:
                self.play(self.bars.animate_to(tr.weights[k]), Transform(tag, t_label(k)),
                          run_time=min(2.0, 0.6 * t.duration))
        self.temp_mobs = VGroup(self.bars, tag, eq, ghost)

    # ------------------------------------------------------------------------------------ Var(q·k) = d_k
    def variance(self):
        dv = data.dot_product_variance()
        n = len(dv.d_k)
        eq1, eq2 = equation("variance_qk").scale(0.85), equation("variance_scaled").scale(0.85)
        head_w = max(eq1.width, eq2.width)
        left = SAFE.left + 0.2
        col_x = [left + head_w + 1.2 + 1.85 * k for k in range(n)]
        y_head, y1, y2 = 1.6, 0.4, -1.0
        head = VGroup(label("d\u2096", size=SIZES.BODY, color=COLORS.MUTED).move_to([left + head_w - 0.2, y_head, 0]),
                      *(label(str(d), size=SIZES.BODY, color=COLORS.TEXT, mono=True).move_to([x, y_head, 0])
                        for d, x in zip(dv.d_k, col_x)))
        rule = Line([left, y_head - 0.4, 0], [col_x[-1] + 0.9, y_head - 0.4, 0]).set_stroke(COLORS.GRID, 2)
        eq1.move_to([left + eq1.width / 2, y1, 0])
        eq2.move_to([left + eq2.width / 2, y2, 0])
        row1 = VGroup(*(num(v, 2, COLORS.SCORE, SIZES.BODY).move_to([x, y1, 0]) for v, x in zip(dv.measured, col_x)))
        row2 = VGroup(*(num(v, 2, COLORS.WEIGHT, SIZES.BODY).move_to([x, y2, 0])
                        for v, x in zip(dv.measured_scaled, col_x)))
        note = label(f"measured: {dv.samples:,} random pairs per width, entries with mean 0 and variance 1",
                     size=SIZES.SMALL, color=COLORS.MUTED).move_to([0, -2.4, 0])
        first, last = dv.d_k[0], dv.d_k[-1]
        with self.narrate("Why the square root of d_k? Suppose the entries of a query and a key are random, with "
                          "mean zero and variance one. Their dot product sums d_k products of variance one, so "
                          "the variance of q dot k is d_k.") as t:
            self.play(FadeOut(self.temp_mobs), run_time=0.15 * t.duration)
            self.play(Write(eq1), run_time=0.3 * t.duration)
            self.play(FadeIn(head), Create(rule), run_time=0.2 * t.duration)
        with self.narrate(f"Measured on {dv.samples:,} random pairs per width: "
                          f"{spoken(dv.measured[0], 2)} for d_k of {first}, and "
                          f"{spoken(dv.measured[-1], 2)} for {last}. The scores spread out like the "
                          "square root of the width.") as t:
            self.play(LaggedStart(*(FadeIn(v, shift=DOWN * 0.15) for v in row1), lag_ratio=0.4), FadeIn(note),
                      run_time=0.7 * t.duration)
        with self.narrate("Divide by the square root of d_k, and the variance is back to one, whatever the "
                          "width.") as t:
            self.play(Write(eq2), run_time=0.35 * t.duration)
            self.play(LaggedStart(*(FadeIn(v, shift=DOWN * 0.15) for v in row2), lag_ratio=0.2),
                      run_time=0.45 * t.duration)
        self.var_mobs = VGroup(eq1, eq2, head, rule, row1, row2, note)

    # ------------------------------------------------------------------------------------ saturation
    def saturation(self):
        sa = data.saturation()
        x_labels = [str(d) for d in sa.d_k]
        x_title = "key width d\u2096 (log scale)"
        w, h = 4.3, 3.5
        left = line_chart([(sa.max_weight_unscaled, UNSCALED), (sa.max_weight_scaled, SCALED)], x_labels,
                          [0.0, 0.5, 1.0], width=w, height=h, title="largest weight", x_title=x_title)
        right = line_chart([(sa.jacobian_norm_unscaled, UNSCALED), (sa.jacobian_norm_scaled, SCALED)], x_labels,
                           [0.0, 0.2, 0.4], width=w, height=h, title="gradient size (Jacobian norm)",
                           x_title=x_title)
        charts = VGroup(left, right).arrange(RIGHT, buff=1.3).move_to([0, -0.45, 0])
        legend = VGroup(
            VGroup(Line(LEFT * 0.25, RIGHT * 0.25).set_stroke(UNSCALED, 5),
                   label(f"without \u00f7{SQRT_DK}", size=SIZES.LABEL, color=UNSCALED)).arrange(RIGHT, buff=0.15),
            VGroup(Line(LEFT * 0.25, RIGHT * 0.25).set_stroke(SCALED, 5),
                   label(f"with \u00f7{SQRT_DK}", size=SIZES.LABEL, color=SCALED)).arrange(RIGHT, buff=0.15),
        ).arrange(RIGHT, buff=1.0).move_to([0, 2.55, 0])
        note = label(f"softmax over {sa.n_keys} random keys, mean of {sa.samples} draws", size=SIZES.SMALL,
                     color=COLORS.MUTED).next_to(charts, DOWN, buff=BUFF.MEDIUM)
        first, last = sa.d_k[0], sa.d_k[-1]
        with self.narrate("Without the scaling, that growing spread wrecks the softmax: the largest score "
                          f"takes nearly all of the weight. With {sa.n_keys} keys, the top weight "
                          f"averages {spoken(sa.max_weight_unscaled[0], 2)} at d_k of {first}, and "
                          f"{spoken(sa.max_weight_unscaled[-1], 2)} at {last}.") as t:
            self.play(FadeOut(self.var_mobs), run_time=0.12 * t.duration)
            self.play(FadeIn(legend[0]), FadeIn(VGroup(left.grid, left.axes, left.ticks, left.title, left.x_title)),
                      FadeIn(note), run_time=0.2 * t.duration)
            self.play(Create(left.lines[0]), run_time=0.4 * t.duration)
            self.play(FadeIn(left.ends[0]), run_time=0.1 * t.duration)
        with self.narrate("A saturated softmax has almost no gradient. The size of its Jacobian falls from "
                          f"{spoken(sa.jacobian_norm_unscaled[0], 2)} to "
                          f"{spoken(sa.jacobian_norm_unscaled[-1], 2)}, and "
                          "learning stalls.") as t:
            self.play(FadeIn(VGroup(right.grid, right.axes, right.ticks, right.title, right.x_title)),
                      run_time=0.2 * t.duration)
            self.play(Create(right.lines[0]), run_time=0.5 * t.duration)
            self.play(FadeIn(right.ends[0]), run_time=0.1 * t.duration)
        with self.narrate(f"With the scaling, both stay put at every width: the top weight near "
                          f"{spoken(sa.max_weight_scaled[-1], 2)}, and the gradient near "
                          f"{spoken(sa.jacobian_norm_scaled[-1], 2)}.") as t:
            self.play(FadeIn(legend[1]), Create(left.lines[1]), Create(right.lines[1]), run_time=0.55 * t.duration)
            self.play(FadeIn(left.ends[1]), FadeIn(right.ends[1]), run_time=0.15 * t.duration)
        self.sat_mobs = VGroup(charts, legend, note)

    # ------------------------------------------------------------------------------------ stable softmax
    def stable(self):
        st, ex = data.stable_softmax_demo(), softmax_extra()
        n = len(st.scores)
        col = 1.45
        panels = {"naive": -3.4, "stable": 3.3}  # centre x of each panel
        ys = {"s": 1.1, "e": 0.1, "sum": -0.85, "p": -1.85}

        def xs(panel):
            return [panels[panel] + col * (k - (n - 1) / 2) for k in range(n)]

        def cell(v, decimals, color):  # ∞ is a small glyph in the mono font: draw it larger
            if v == float("inf"):
                return label(shown(v), size=SIZES.HEADING + 8, color=color)
            return num(v, decimals, color, SIZES.BODY)

        def row(values, panel, y, color, decimals=2):
            return VGroup(*(cell(v, decimals, color).move_to([x, y, 0]) for v, x in zip(values, xs(panel))))

        names = VGroup(*(label(t, size=SIZES.LABEL, color=c).move_to([0, ys[k], 0]) for k, t, c in (
            ("s", "scores", COLORS.SCORE), ("e", "exp", COLORS.TEXT), ("sum", "sum", COLORS.MUTED),
            ("p", "softmax", COLORS.WEIGHT))))
        naive_s = row(st.scores, "naive", ys["s"], COLORS.SCORE, 0)
        naive_e = row(st.naive_exps, "naive", ys["e"], COLORS.MASK)
        naive_sum = cell(st.naive_total, 2, COLORS.MASK).move_to([panels["naive"], ys["sum"], 0])
        naive_p = row(st.naive_weights, "naive", ys["p"], COLORS.MASK)
        shifted = row(st.shifted, "stable", ys["s"], COLORS.SCORE, 0)
        stable_e = row(ex.shifted_exps_shown, "stable", ys["e"], COLORS.TEXT)
        stable_sum = num(ex.shifted_total_shown, 2, COLORS.TEXT, SIZES.BODY).move_to([panels["stable"], ys["sum"], 0])
        stable_p = row(st.weights_shown, "stable", ys["p"], COLORS.WEIGHT)
        head_naive = label(f"naive, in {st.naive_dtype}", size=SIZES.LABEL, color=COLORS.MASK)
        head_stable = label(f"subtract the max, {shown(st.max_score, 0)}, first", size=SIZES.LABEL,
                            color=COLORS.WEIGHT)
        head_naive.move_to([panels["naive"], 2.05, 0])
        head_stable.move_to([panels["stable"], 2.05, 0])
        moved = row(st.scores, "stable", ys["s"], COLORS.SCORE, 0)
        eq = equation("softmax_stable").scale(0.8).move_to([0, -3.0, 0])
        big = ", ".join(spoken(v, 0) for v in st.scores[:-1])
        with self.narrate("One last practical detail: exponentials overflow. In "
                          f"{st.naive_dtype}, e to the x is already infinite once x passes about "
                          f"{spoken(st.overflow_threshold, 2)}.") as t:
            self.play(FadeOut(self.sat_mobs), run_time=0.15 * t.duration)
            self.play(FadeIn(head_naive), FadeIn(names), run_time=0.3 * t.duration)
        with self.narrate(f"Feed in scores of {big} and {spoken(st.scores[-1], 0)}: every exponential is "
                          "infinite, and infinity over infinity turns the whole row into NaN.") as t:
            self.play(LaggedStart(*(FadeIn(v) for v in naive_s), lag_ratio=0.2), run_time=0.2 * t.duration)
            self.play(LaggedStart(*(ReplacementTransform(a.copy(), b) for a, b in zip(naive_s, naive_e)),
                                  lag_ratio=0.2), run_time=0.25 * t.duration)
            self.play(ReplacementTransform(naive_e.copy(), naive_sum), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(FadeIn(v, scale=1.3) for v in naive_p), lag_ratio=0.2), run_time=0.2 * t.duration)
        with self.narrate("Subtracting the same number from every score leaves the softmax "
                          "unchanged, so subtract the largest one. Now the biggest exponent is zero, and nothing "
                          "can overflow.") as t:
            self.play(FadeIn(head_stable), Write(eq), run_time=0.3 * t.duration)
            self.play(ReplacementTransform(naive_s.copy(), moved), run_time=0.25 * t.duration)
            self.play(ReplacementTransform(moved, shifted), run_time=0.25 * t.duration)
        with self.narrate("Now the weights come out right. Every serious implementation does this, including our "
                          "reference library.") as t:
            self.play(LaggedStart(*(ReplacementTransform(a.copy(), b) for a, b in zip(shifted, stable_e)),
                                  lag_ratio=0.2), run_time=0.2 * t.duration)
            self.play(ReplacementTransform(stable_e.copy(), stable_sum), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(FadeIn(v, scale=1.3) for v in stable_p), lag_ratio=0.2), run_time=0.2 * t.duration)
            self.play(Indicate(stable_p, color=COLORS.WEIGHT, scale_factor=1.1), run_time=0.2 * t.duration)
