"""L03.5 Scaling considerations: the arc of angles each plane sweeps in training (fast planes wrap, slow
planes see part of a turn and meet new angles past L); θ'_i per plane on a log scale for plain RoPE, PI,
NTK-aware, YaRN (bands and attention factor) and Llama 3.1 (bands by wavelength); raising the base; three
pitfalls (YaRN's factor dropped, original vs max positions, factor 1 must be plain RoPE).

Numbers: ``data.training_arcs()``, ``frequency_curves()``, ``ntk_aware()``, ``yarn()``, ``llama3()``,
``base_raising()``, ``pitfalls()``, ``cited_scaling()``; formulas: ``rope_pi``, ``rope_ntk``, ``rope_yarn``,
``yarn_attention_factor``, ``rope_llama3``. This file holds layout and timing only.

    manim -pql scenes/l03_rope/l03_scaling.py RopeScalingScene
"""
from __future__ import annotations


from manim import (DOWN, LEFT, RIGHT, TAU, UP, AnnularSector, Circle, Create, FadeIn, FadeOut, LaggedStart,
                   Rectangle, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitationLine, DataTable, LineChart, fit_within, label
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l03_rope import data

DIAL_PLANES = (0, 16, 32, 46, 54, 63)   # planes drawn as dials (0-based code index)
DIAL_R = 0.8
DIAL_Y = 0.1
EQ_Y = 2.95                              # centre of the formula strip above the chart
EQ_H = 1.0
CHART_W, CHART_H = 8.0, 3.3
CHART_X = -1.75                          # the plot's left part; notes go to the right
NOTE_X = 3.35
SEEN, UNSEEN = COLORS.WEIGHT, COLORS.ACCENT
CURVE_COLORS = (COLORS.TEXT, COLORS.K, COLORS.SCORE, COLORS.ACCENT)
BAND_COLORS = (COLORS.WEIGHT, COLORS.Q, COLORS.V)   # kept, blended, fully interpolated


def formula(name: str, height: float = EQ_H):
    eq = equation(name)
    fit_within(eq, SAFE.width, height)
    return eq.move_to([0, min(EQ_Y, SAFE.top - BUFF.SMALL - eq.height / 2), 0])


def frame_only(chart: LineChart) -> VGroup:
    """The chart without its series and legend (each legend entry comes with its curve)."""
    return VGroup(chart.gridlines, chart.axes, chart.y_ticks, chart.x_ticks, chart.axis_labels)


def bands(chart: LineChart, spans, names) -> VGroup:
    """Shaded plane ranges across the plot, each with its name at the top."""
    out = VGroup()
    for (lo, hi), name, color in zip(spans, names, BAND_COLORS):
        if lo < 0:
            continue
        a, b = chart.point(max(lo - 0.5, chart.x_lo), chart.y_lo), chart.point(min(hi + 0.5, chart.x_hi), chart.y_hi)
        box = Rectangle(width=b[0] - a[0], height=b[1] - a[1]).move_to((a + b) / 2)
        box.set_stroke(width=0).set_fill(color, opacity=0.13)
        tag = label(name, size=SIZES.SMALL, color=color).next_to(box.get_top(), DOWN, buff=BUFF.SMALL)
        fit_within(tag, box.width - 0.1, None)
        out.add(VGroup(box, tag))
    return out


class RopeScalingScene(LectureScene):
    """L03.5: training arcs, five frequency curves, base raising, pitfalls."""

    def construct(self):
        self.topic("L03.5", "Scaling considerations")
        self.arcs_step()
        self.curves_step()
        self.yarn_step()
        self.llama_step()
        self.base_step()
        self.pitfalls_step()

    # ------------------------------------------------------------------------------------ arcs of training
    def arcs_step(self):
        a = data.training_arcs()
        dials = VGroup()
        for i in DIAL_PLANES:
            turns = a.turns[i]
            ring = Circle(radius=DIAL_R).set_stroke(COLORS.GRID, 2)
            seen = AnnularSector(inner_radius=DIAL_R - 0.16, outer_radius=DIAL_R, angle=min(TAU, turns * TAU),
                                 color=SEEN, fill_opacity=0.9, stroke_width=0)
            past = turns * 2 * TAU   # the same plane at twice the training length
            new = (AnnularSector(inner_radius=DIAL_R - 0.16, outer_radius=DIAL_R, start_angle=turns * TAU,
                                 angle=min(TAU, past) - turns * TAU, color=UNSEEN, fill_opacity=0.9, stroke_width=0)
                   if turns < 1 else VGroup())
            name = label(f"plane {i}", size=SIZES.LABEL).next_to(ring, UP, buff=BUFF.SMALL)
            count = label(f"{shown(turns, 0 if turns >= 10 else 2)} turns", size=SIZES.LABEL, color=SEEN,
                          mono=True).next_to(ring, DOWN, buff=BUFF.SMALL)
            d = VGroup(ring, seen, name, count, new)
            d.seen, d.new, d.plane = seen, new, i
            dials.add(d)
        dials.arrange(RIGHT, buff=0.45)
        fit_within(dials, SAFE.width, None)
        dials.move_to([0, DIAL_Y, 0])
        title = heading("Angles seen in training")
        fast = VGroup(*(d for d in dials if a.turns[d.plane] >= 1))
        slow = VGroup(*(d for d in dials if a.turns[d.plane] < 1))
        with self.narrate(f"Scaling starts from one picture. Training on {spoken(a.train_length, 0)} tokens, each "
                          "plane sweeps the angles from zero up to the training length times its "
                          "frequency.") as t:
            self.play(FadeIn(title), LaggedStart(*(FadeIn(VGroup(d[0], d[2])) for d in dials), lag_ratio=0.15),
                      run_time=0.4 * t.duration)
            self.play(LaggedStart(*(Create(d.seen) for d in dials), lag_ratio=0.15), run_time=0.5 * t.duration)
        with self.narrate(f"The fast planes wrap around again and again: plane zero turns "
                          f"{spoken(a.turns[0], 0)} times, so it has seen every angle. "
                          f"{spoken(a.planes_full_turn, 0)} planes complete at least one turn.") as t:
            self.play(LaggedStart(*(FadeIn(d[3]) for d in fast), lag_ratio=0.2), run_time=0.4 * t.duration)
        with self.narrate(f"The other {spoken(a.planes_partial, 0)} see only part of a circle; the slowest, "
                          f"{spoken(a.turns[-1], 2)} of a turn.") as t:
            self.play(LaggedStart(*(FadeIn(d[3]) for d in slow), lag_ratio=0.2), run_time=0.4 * t.duration)
        legend = VGroup(label("seen in training", size=SIZES.LABEL, color=SEEN),
                        label("past the training length: never seen", size=SIZES.LABEL, color=UNSEEN)).arrange(
            RIGHT, buff=BUFF.LARGE).move_to([0, -2.6, 0])
        with self.narrate("Run past the training length, and those slow planes move into angles the model has "
                          "never seen. That is what breaks, and what every scaling method repairs.") as t:
            self.play(FadeIn(legend), LaggedStart(*(Create(d.new) for d in slow), lag_ratio=0.2),
                      run_time=0.5 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, dials, legend)), run_time=0.6)

    # ------------------------------------------------------------------------------------ PI and NTK
    def curves_step(self):
        fc = self.fc = data.frequency_curves()
        planes = list(range(len(fc.curves[0].theta)))
        chart = self.chart = LineChart([(c.label, planes, c.theta) for c in fc.curves], x_label="plane i",
                                       y_label="θ′ᵢ (radians per token)", y_log=True, y_range=(1e-5, 10, 1),
                                       x_range=(0, planes[-1], 21 if planes[-1] % 21 == 0 else 16),
                                       width=CHART_W, height=CHART_H, colors=CURVE_COLORS)
        chart.move_to([CHART_X, -0.55, 0])
        plain = fc.curves[0]
        with self.narrate(f"Every method changes the frequencies. Here they are on a log scale, plane by plane, "
                          f"for d equal to {spoken(fc.head_dim, 0)}: plain RoPE falls from "
                          f"{spoken(plain.theta[0], 0)} radian per token to "
                          f"{spoken(plain.theta[-1], sci=2)}.") as t:
            self.play(FadeIn(frame_only(chart)), run_time=0.3 * t.duration)
            self.play(chart.create_series(0), FadeIn(chart.legend[0]), run_time=0.5 * t.duration)
        cs = data.cited_scaling()
        eq = formula("rope_pi")
        cite = CitationLine(cs.sources[0], venue=False)
        quote = label(f"{cs.pi_models}, {shown(cs.pi_from, 0)} → {shown(cs.pi_to, 0)}: “{cs.pi_quote}”",
                      size=SIZES.SMALL, color=COLORS.MUTED)
        fit_within(quote, SAFE.width, None)
        quote.next_to(cite, UP, buff=BUFF.TIGHT).align_to(cite, LEFT)
        with self.narrate(f"Position interpolation divides every frequency by the factor s, here "
                          f"{spoken(fc.factor, 0)}. It is a fine-tuning method: Chen and colleagues extended "
                          f"LLaMA from {spoken(cs.pi_from, 0)} to {spoken(cs.pi_to, 0)} tokens with "
                          f"{cs.pi_quote}.") as t:
            self.play(FadeIn(eq), chart.create_series(1), FadeIn(chart.legend[1]), run_time=0.4 * t.duration)
            self.play(FadeIn(cite), FadeIn(quote), run_time=0.2 * t.duration)
        self.wait_for(t)
        ntk = data.ntk_aware()
        eq2 = formula("rope_ntk")
        note = VGroup(label("b′ for s = " + shown(ntk.factor, 0), size=SIZES.LABEL, color=COLORS.SCORE),
                      label(shown(ntk.new_base, 1), size=SIZES.BODY, color=COLORS.SCORE, mono=True)).arrange(
            DOWN, aligned_edge=LEFT, buff=BUFF.SMALL).move_to([NOTE_X, 0.3, 0], aligned_edge=LEFT)
        with self.narrate(f"NTK-aware scaling raises the base instead, to {spoken(ntk.new_base, 1)} for a factor "
                          f"of {spoken(ntk.factor, 0)}. The fastest plane keeps its frequency; only the slowest is "
                          "divided by the full factor.") as t:
            self.play(FadeOut(VGroup(eq, cite, quote)), FadeIn(eq2), chart.create_series(2), FadeIn(chart.legend[2]),
                      FadeIn(note), run_time=0.5 * t.duration)
        self.wait_for(t)
        names = label(ntk.kind_note, size=SIZES.SMALL, color=COLORS.MUTED)
        fit_within(names, SAFE.width, None)
        names.move_to([0, SAFE.bottom + names.height / 2, 0])
        with self.narrate("Careful with the names: this static NTK-aware scaling, dynamic NTK, where the base "
                          "follows the current length, and NTK-by-parts, which is YaRN's ramp, are three "
                          "different methods.") as t:
            self.play(FadeIn(names), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(names), run_time=0.4)
        self.eq, self.note = eq2, note

    # ------------------------------------------------------------------------------------ YaRN
    def yarn_step(self):
        y, chart = data.yarn(), self.chart
        eq = formula("rope_yarn")
        shade = bands(chart, (y.unchanged, y.blended, y.interpolated), ("kept", "ramp", "÷ s"))
        with self.narrate(f"YaRN splits the planes in three. Planes {spoken(y.unchanged[0], 0)} to "
                          f"{spoken(y.unchanged[1], 0)} are kept, {spoken(y.interpolated[0], 0)} to "
                          f"{spoken(y.interpolated[1], 0)} are fully interpolated, and a linear ramp joins them. "
                          "The fast planes that tell neighbours apart keep their resolution; only the slow planes "
                          "are stretched.") as t:
            self.play(FadeOut(VGroup(self.eq, self.note)), FadeIn(eq), run_time=0.2 * t.duration)
            self.play(chart.create_series(3), FadeIn(chart.legend[3]), FadeIn(shade), run_time=0.5 * t.duration)
        self.wait_for(t)
        eq2 = formula("yarn_attention_factor")
        note = VGroup(label("at s = " + shown(y.factor, 0), size=SIZES.LABEL, color=COLORS.ACCENT),
                      label("factor " + shown(y.attention_factor, 4), size=SIZES.LABEL, color=COLORS.TEXT,
                            mono=True),
                      label("logits × " + shown(y.logit_scale, 4), size=SIZES.LABEL, color=COLORS.ACCENT,
                            mono=True)).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        note.move_to([NOTE_X, 0.0, 0], aligned_edge=LEFT)
        with self.narrate(f"YaRN also multiplies the cosine and the sine by an attention factor, "
                          f"{spoken(y.attention_factor, 4)} at a factor of {spoken(y.factor, 0)}. Queries and "
                          f"keys both carry it, so the logits grow by its square, "
                          f"{spoken(y.logit_scale, 4)}.") as t:
            self.play(FadeOut(eq), FadeIn(eq2), FadeIn(note[:2]), run_time=0.3 * t.duration)
            self.play(FadeIn(note[2], shift=UP * 0.2), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(chart, shade, eq2, note)), run_time=0.6)

    # ------------------------------------------------------------------------------------ Llama 3.1
    def llama_step(self):
        fc, l3 = self.fc, data.llama3()
        planes = list(range(len(fc.llama3[0].theta)))
        chart = LineChart([(c.label, planes, c.theta) for c in fc.llama3], x_label="plane i",
                          y_label="θ′ᵢ (radians per token)", y_log=True, y_range=(1e-7, 10, 1),
                          x_range=(0, planes[-1], 21 if planes[-1] % 21 == 0 else 16), width=CHART_W,
                          height=CHART_H, colors=(COLORS.TEXT, COLORS.WEIGHT))
        chart.move_to([CHART_X, -0.55, 0])
        eq = formula("rope_llama3", 1.45)
        shade = bands(chart, (l3.unchanged, l3.blended, l3.divided), ("kept", "blend", "÷ s"))
        note = VGroup(label(f"λ < {shown(l3.high_freq_wavelength, 0)}: {shown(l3.n_unchanged, 0)} kept",
                            size=SIZES.LABEL, color=BAND_COLORS[0]),
                      label(f"blended: {shown(l3.n_blended, 0)}", size=SIZES.LABEL, color=BAND_COLORS[1]),
                      label(f"λ > {shown(l3.low_freq_wavelength, 0)}: {shown(l3.n_divided, 0)} ÷ "
                            f"{shown(l3.factor, 0)}", size=SIZES.LABEL, color=BAND_COLORS[2])).arrange(
            DOWN, aligned_edge=LEFT, buff=BUFF.SMALL).move_to([NOTE_X, 0.0, 0], aligned_edge=LEFT)
        cite = CitationLine(l3.source, venue=False)
        with self.narrate(f"Llama 3.1 draws its bands by wavelength, not by plane index. With base "
                          f"{spoken(l3.base, sci=1)}, a factor of {spoken(l3.factor, 0)} and an original length of "
                          f"{spoken(l3.train_length, 0)}, the planes with wavelengths under "
                          f"{spoken(l3.high_freq_wavelength, 0)} tokens are kept, those over "
                          f"{spoken(l3.low_freq_wavelength, 0)} are divided by the factor, and "
                          f"{spoken(l3.n_blended, 0)} in between are blended.") as t:
            self.play(FadeIn(eq), FadeIn(chart.frame_parts()), FadeIn(cite), run_time=0.25 * t.duration)
            self.play(chart.create_series(0), chart.create_series(1), FadeIn(shade), run_time=0.4 * t.duration)
            self.play(LaggedStart(*(FadeIn(n) for n in note), lag_ratio=0.4), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(chart, shade, eq, note, cite)), run_time=0.6)

    # ------------------------------------------------------------------------------------ raising the base
    def base_step(self):
        b = data.base_raising()
        rows = [[shown(base, sci=1), shown(lam, rough=True), users] for base, lam, users in
                zip(b.bases, b.slowest_wavelength, b.users)]
        table = DataTable(["base", "slowest wavelength (tokens)", "used by"], rows, align="lrl",
                          font_size=SIZES.BODY, row_height=0.75,
                          source="; ".join(s.split(" · ")[0] for s in b.sources))
        fit_within(table, SAFE.width, None)
        table.move_to([0, -0.1, 0])
        title = heading("Raising the base")
        with self.narrate(f"The bluntest tool is to raise the base and train with it. Code Llama uses "
                          f"{spoken(b.bases[-1], sci=1)}, which stretches the slowest wavelength from "
                          f"{spoken(b.slowest_wavelength[0], rough=True)} tokens to "
                          f"{spoken(b.slowest_wavelength[-1], rough=True)}. Every plane but the first "
                          f"slows down. Llama 3 uses {spoken(b.bases[1], sci=1)}, and Gemma 3 raises the base only "
                          "in its global layers, keeping the local ones as they were.") as t:
            self.play(FadeIn(title), FadeIn(table.header), Create(table.rule), FadeIn(table.source_line),
                      run_time=0.2 * t.duration)
            self.play(LaggedStart(*(FadeIn(r) for r in table.rows), lag_ratio=0.4), run_time=0.5 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(table, title)), run_time=0.5)

    # ------------------------------------------------------------------------------------ pitfalls
    def pitfalls_step(self):
        p = data.pitfalls()
        title = heading("Pitfalls")
        width = SAFE.width

        def item(head: str, body: str, color: str) -> VGroup:
            g = VGroup(label(head, size=SIZES.BODY, color=color), label(body, size=SIZES.LABEL, color=COLORS.TEXT))
            g.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
            return fit_within(g, width, None)

        bands_text = lambda bs: " / ".join(f"{shown(lo, 0)}–{shown(hi, 0)}" if lo >= 0 else "none" for lo, hi in bs)  # noqa: E731
        worst = max(v for _, v in p.factor_one_max_difference)
        items = VGroup(
            item("YaRN's attention factor dropped", f"logits shrink to {shown(p.dropped_ratio, 2)} of their value   "
                 f"({', '.join(p.issues)})", COLORS.V),
            item("original_max_position_embeddings vs max_position_embeddings",
                 f"bands from {shown(p.original_length, 0)}: {bands_text(p.yarn_bands_original)};   "
                 f"from {shown(p.wrong_length, 0)}: {bands_text(p.yarn_bands_max)}", COLORS.Q),
            item("factor 1 must give plain RoPE", f"largest |θ′ − θ| over every kind: {shown(worst, sci=2)}",
                 COLORS.WEIGHT),
        ).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.LARGE)
        items.move_to([0, -0.2, 0])
        with self.narrate(f"Three pitfalls recur in real code. First, YaRN's attention factor is dropped. The "
                          f"frequencies are right, but every logit shrinks to {spoken(p.dropped_ratio, 2)} of its "
                          "value, and attention quietly blurs. vLLM and MLX both shipped this bug.") as t:
            self.play(FadeIn(title), FadeIn(items[0], shift=UP * 0.2), run_time=0.3 * t.duration)
        with self.narrate(f"Second, YaRN's bands come from the original training length, "
                          f"{spoken(p.original_length, 0)}. Pass the new maximum, {spoken(p.wrong_length, 0)}, "
                          "and the bands shift: many more planes are left untouched, and none is fully "
                          "interpolated.") as t:
            self.play(FadeIn(items[1], shift=UP * 0.2), run_time=0.3 * t.duration)
        with self.narrate("Third, a factor of one must give back plain RoPE exactly; test it for every kind. "
                          "The common thread: keep the fast planes, stretch only the slow ones, and expect to "
                          "fine-tune.") as t:
            self.play(FadeIn(items[2], shift=UP * 0.2), run_time=0.3 * t.duration)
        self.wait_for(t)
