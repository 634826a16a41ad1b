"""L02.1 Why a single attention head isn't enough: one head's output is a weighted average of its values, so
it stays inside their convex hull; a query that needs two tokens gets their midpoint, a blend of neither,
while two heads take one token each and keep both side by side in the concatenation. Then the lab's
head-count ablation (same parameters, 1 head fails, 2 and 4 heads succeed) and Vaswani et al.'s Table 3
rows (A) as a citation.

    manim -pql scenes/l02_multihead/l02_why_heads.py WhyHeads

Numbers: ``data.convex_hull()``, ``two_token_query()``, ``head_count()``, ``vaswani_table3()``; formula:
``convex_hull`` (E2.5). This file holds layout and timing only.
"""
from __future__ import annotations

from manim import (DOWN, LEFT, ORIGIN, RIGHT, UP, Create, FadeIn, FadeOut, GrowFromEdge, Indicate, LaggedStart,
                   ReplacementTransform, SurroundingRectangle, Transform, VGroup, Write)

from scenes.kit.equations import equation
from scenes.kit.format import quoted, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitedBars, MatrixGrid, ValueBars, VectorPlane, fit_within, label
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.text import paragraph
from scenes.kit.references import VASWANI
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l02_multihead import data

PLANE_W, PLANE_H = 5.0, 4.6  # the value plane of step 1 (each axis fills it: an affine map keeps the hull)
PLANE_X, PLANE_Y = -3.2, -1.05
PANEL_X = 2.9  # centre of the right-hand column (weights, notes)
SMALL_PLANE_W, SMALL_PLANE_H = 4.6, 3.6  # the two heads' planes of step 2
CONCAT_Y = -2.45
BARS_H = 2.6
IN_HULL = r"\in \operatorname{conv}"  # the part of E2.5 lit up when the hull is named
NOTE_W = 6.6  # the two-line 'untrained' note of the one-head query
ROW_PITCH = 0.42  # the weight table's line pitch


def note(text: str, color: str = COLORS.MUTED, size: float = SIZES.LABEL):
    return label(text, size=size, color=color)


def source_lines(text: str):
    """A lab source line at the bottom of the safe area, wrapped to its width, in the small size."""
    p = paragraph(wrap(text, SAFE.width, SIZES.SMALL), size=SIZES.SMALL, color=COLORS.MUTED, line_spacing=0.5)
    fit_within(p, SAFE.width, None)
    return p.move_to([SAFE.left + p.width / 2, SAFE.bottom + p.height / 2, 0])


class WhyHeads(LectureScene):
    closing_fade = 1.0

    def construct(self):
        self.topic("L02.1", "Why single attention head isn't enough")
        self.hull()
        self.two_tokens()
        self.two_heads()
        self.lab_result()
        self.table3()

    # -- one head = one weighted average ------------------------------------------------------------------
    def weight_rows(self, tokens, weights, highlight=()):
        """One line per key: the token, then its weight (the one under discussion in the accent colour)."""
        rows = VGroup()
        names = [label(quoted(tok), size=SIZES.LABEL, color=COLORS.V) for tok in tokens]
        number_x = max(n.width for n in names) + BUFF.MEDIUM
        for k, (tok, w, name) in enumerate(zip(tokens, weights, names)):
            color = COLORS.ACCENT if tok in highlight else COLORS.TEXT
            num = label(shown(w), size=SIZES.LABEL, color=color, mono=True)
            name.move_to([name.width / 2, -k * ROW_PITCH, 0])
            num.move_to([number_x + num.width / 2, -k * ROW_PITCH, 0])
            rows.add(VGroup(name, num))
        return rows

    def hull(self):
        c = self.c = data.convex_hull()
        title = heading("One head: one weighted average")
        eq = equation("convex_hull", isolate=(IN_HULL,))
        fit_within(eq, SAFE.width, None)
        eq.next_to(title, DOWN, buff=BUFF.MEDIUM).set_x(0)
        plane = self.plane = VectorPlane(c.values, [quoted(t) for t in c.tokens], width=PLANE_W, height=PLANE_H,
                                         uniform=False, extent=[f.output for f in c.frames])
        plane.move_to([PLANE_X, PLANE_Y, 0])
        hull = self.hull_poly = plane.hull_polygon(c.hull)
        caption = note(f"head 1's values, dᵥ = {len(c.values[0])}: points in a plane", COLORS.V)
        caption.move_to([PANEL_X, 1.3, 0])
        untrained = note(c.weights_origin)
        untrained.move_to([PANEL_X, SAFE.bottom + 0.25, 0])
        with self.narrate(
                "Start with a single head of our running example. Its value vectors have two numbers each, so "
                "every token's value is a point in a plane.") as t:
            self.play(FadeIn(title), run_time=0.2 * t.duration)
            self.play(LaggedStart(*(FadeIn(VGroup(d, lab)) for d, lab in zip(plane.dots, plane.labels)),
                                  lag_ratio=0.2), FadeIn(caption), FadeIn(untrained), run_time=0.6 * t.duration)
        f0 = c.frames[0]
        q_title = note(f"query {quoted(c.query)}: weights", COLORS.TEXT)
        rows = self.weight_rows(c.tokens, f0.shown_weights)
        sharp = note(f"scores × {shown(f0.sharpness, 1)}", COLORS.SCORE)
        dot = plane.output_dot(f0.weights)
        legend = VGroup(dot.copy().move_to(ORIGIN), note("the head's output", COLORS.OUTPUT)).arrange(RIGHT)
        panel = VGroup(q_title, rows, sharp, legend).arrange(DOWN, buff=BUFF.MEDIUM, aligned_edge=LEFT)
        panel.move_to([PANEL_X, -0.9, 0])
        with self.narrate(
                f"One query, {c.query}, has one row of attention weights. They are never negative and they add "
                "up to one, so the head's output is a weighted average of these points. With equal weights it "
                "sits at their centre.") as t:
            self.play(FadeOut(caption), Write(eq), run_time=0.35 * t.duration)
            self.play(FadeIn(panel), run_time=0.2 * t.duration)
            self.play(FadeIn(dot, scale=2), run_time=0.2 * t.duration)
        self.dot, self.panel = dot, panel
        with self.narrate(
                "Now sharpen the weights by multiplying the scores. The output slides toward the value with "
                f"the largest weight, {c.tokens[max(range(len(c.tokens)), key=lambda j: c.frames[-1].weights[j])]}, "
                "but whatever the weights, it never leaves the shaded region: the convex hull of the "
                "values.") as t:
            self.play(Create(hull), run_time=0.15 * t.duration)
            step = 0.75 / (len(c.frames) - 1)
            for f in c.frames[1:]:
                self.play(dot.animate.move_to(plane.to_screen(f.output)), plane.weight_opacity(f.weights),
                          Transform(rows, self.weight_rows(c.tokens, f.shown_weights).move_to(rows)),
                          Transform(sharp, note(f"scores × {shown(f.sharpness, 1)}", COLORS.SCORE).move_to(sharp)),
                          run_time=step * t.duration)
        with self.narrate(
                "This holds for every head and every query: an average of points can never land outside them. "
                "Whatever one head returns is a blend of its values.") as t:
            self.play(Indicate(eq.get_part_by_tex(IN_HULL), color=COLORS.OUTPUT), run_time=0.4 * t.duration)
            self.play(hull.animate.set_fill(opacity=0.3), run_time=0.3 * t.duration)
        self.play(FadeOut(VGroup(panel, dot, title)), plane.weight_opacity([1.0] * len(c.tokens)),
                  hull.animate.set_fill(opacity=0.15), run_time=0.6)
        self.eq, self.untrained = eq, untrained

    # -- a query that needs two tokens ---------------------------------------------------------------------
    def two_tokens(self):
        q = self.q2 = data.two_token_query()
        plane = self.plane
        prev, subj = q.wanted
        ip, is_ = q.tokens.index(prev), q.tokens.index(subj)
        title = heading(f"A query that needs two tokens: {quoted(q.query)}")
        rows = self.weight_rows(q.tokens, q.one_head_shown, highlight=q.wanted)
        need = note(f"it needs {quoted(prev)} (its previous token) and {quoted(subj)} (the subject)", COLORS.TEXT)
        need.next_to(title, DOWN, buff=BUFF.MEDIUM).align_to(title, LEFT)
        panel = VGroup(note(f"one head: weights of {quoted(q.query)}", COLORS.TEXT), rows)
        panel.arrange(DOWN, buff=BUFF.MEDIUM, aligned_edge=LEFT).move_to([PANEL_X, 0.2, 0])
        chord = plane.segment(q.values[ip], q.values[is_], COLORS.ACCENT, 3)
        dot = plane.output_dot(q.one_head_weights)
        mid = VGroup(note("output = the midpoint,", COLORS.OUTPUT),
                     note(f"{shown(q.distance_to_nearest_value)} from the nearest value", COLORS.OUTPUT))
        mid.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
        mid.next_to(panel, DOWN, buff=BUFF.MEDIUM).align_to(panel, LEFT)
        untrained = paragraph(wrap(q.weights_origin, NOTE_W, SIZES.LABEL), size=SIZES.LABEL,
                              color=COLORS.MUTED, line_spacing=0.5)
        untrained.move_to([SAFE.right - untrained.width / 2, SAFE.bottom + untrained.height / 2, 0])
        with self.narrate(
                f"Now take the query {q.query}. Suppose it needs two things: its previous token, {prev}, and the "
                f"subject of the sentence, {subj}. One head has one softmax row, so to cover both it must split "
                f"its weight, {spoken(q.one_head_shown[ip], 1)} and {spoken(q.one_head_shown[is_], 1)}.") as t:
            self.play(FadeOut(self.eq), ReplacementTransform(self.untrained, untrained), FadeIn(title),
                      run_time=0.25 * t.duration)
            self.play(FadeIn(need), run_time=0.25 * t.duration)
            self.play(FadeIn(panel), plane.weight_opacity(q.one_head_weights),
                      self.hull_poly.animate.set_fill(opacity=0.06),
                      run_time=0.3 * t.duration)
        with self.narrate(
                f"The output lands on the midpoint between the two values, {spoken(q.distance_to_nearest_value)} "
                "away from the nearest one. It is a blend that is neither token: the head can average, but it "
                "cannot look at two places and keep them apart.") as t:
            self.play(Create(chord), run_time=0.25 * t.duration)
            self.play(FadeIn(dot, scale=2), FadeIn(mid), run_time=0.3 * t.duration)
            self.play(Indicate(dot, color=COLORS.OUTPUT, scale_factor=1.6), run_time=0.2 * t.duration)
        self.play(FadeOut(VGroup(title, need, panel, chord, dot, mid, plane, self.hull_poly)), run_time=0.7)
        self.untrained = untrained

    def two_heads(self):
        q = self.q2
        title = heading("Two heads: one token each, kept side by side")
        planes, outs, tags = VGroup(), VGroup(), VGroup()
        for h, want in enumerate(q.wanted):
            color = COLORS.head(h)
            p = VectorPlane(q.head_values[h], [quoted(t) for t in q.tokens], width=SMALL_PLANE_W,
                            height=SMALL_PLANE_H, uniform=False, label_size=SIZES.LABEL)
            p.move_to([(-1 if h == 0 else 1) * (SAFE.width / 4 + 0.1), 0.45, 0])
            j = q.tokens.index(want)
            tag = note(f"head {h + 1} → {quoted(want)}: {shown(q.head_shown[h][j])}", color)
            tag.next_to(p, UP, buff=BUFF.SMALL)
            planes.add(p)
            tags.add(tag)
            outs.add(p.output_dot(q.head_weights[h], color=color))
        concat = MatrixGrid([q.concat], cell_size=0.95)
        for j, num in enumerate(concat.numbers[0]):
            num.set_color(COLORS.head(j // len(q.head_outputs[0])))
        cap = note("concatenation [ head 1 | head 2 ]")
        row = VGroup(cap, concat).arrange(RIGHT, buff=BUFF.MEDIUM).move_to([0, CONCAT_Y, 0])
        untrained = note(q.weights_origin)
        untrained.move_to([0, SAFE.bottom + untrained.height / 2, 0])
        with self.narrate(
                "Give the layer two heads instead, each with its own projections and its own plane of values. "
                f"The first head puts about {spoken(q.head_shown[0][q.tokens.index(q.wanted[0])], 1)} of its weight "
                f"on the token {q.wanted[0]}; the second, about "
                f"{spoken(q.head_shown[1][q.tokens.index(q.wanted[1])], 1)} on {q.wanted[1]}.") as t:
            self.play(FadeIn(title), FadeIn(planes), ReplacementTransform(self.untrained, untrained),
                      run_time=0.35 * t.duration)
            for h in range(2):
                self.play(FadeIn(tags[h]), planes[h].weight_opacity(q.head_weights[h]), FadeIn(outs[h], scale=2),
                          run_time=0.3 * t.duration)
        with self.narrate(
                "Each output is one token's value, sharp, not a blend, and the concatenation holds both side by "
                "side, in separate coordinates. Nothing was averaged away, and the output projection that follows "
                "can read both.") as t:
            self.play(FadeIn(row), run_time=0.4 * t.duration)
            self.play(*(Indicate(VGroup(*concat.numbers[0][2 * h:2 * h + 2]), color=COLORS.head(h))
                        for h in range(2)), run_time=0.3 * t.duration)
        self.play(FadeOut(VGroup(title, planes, outs, tags, row, untrained)), run_time=0.7)

    # -- measured: the lab's head-count ablation -------------------------------------------------------------
    def lab_result(self):
        hc = data.head_count()
        title = heading("Measured: same parameters, more heads")
        bars = ValueBars([r.accuracy for r in hc.runs], [f"{r.n_heads} head" + ("s" if r.n_heads > 1 else "")
                                                          for r in hc.runs],
                         value_strings=[r.accuracy_shown for r in hc.runs],
                         sublabels=[shown(r.n_params, 0) for r in hc.runs],
                         colors=[COLORS.head(k) for k in range(len(hc.runs))], max_height=BARS_H,
                         bar_width=1.0, spacing=1.0, title="accuracy on two-key questions")
        bars.move_to([SAFE.left + bars.width / 2 + BUFF.MEDIUM, -0.2, 0])
        chance = bars.reference_line(hc.chance_one_value, f"knows one value: {shown(hc.chance_one_value, 3)}")
        src = source_lines(hc.source)
        myth = VGroup(note("\u201cmore heads =", COLORS.TEXT), note("more parameters / compute\u201d", COLORS.TEXT))
        myth.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
        cross = note("false at fixed d_model: see L02.2, L02.4", COLORS.V)
        myth_card = VGroup(label("Misconception", size=SIZES.BODY, color=COLORS.ACCENT), myth, cross)
        myth_card.arrange(DOWN, buff=BUFF.MEDIUM, aligned_edge=LEFT)
        fit_within(myth_card, SAFE.right - bars.get_right()[0] - BUFF.LARGE, None)
        myth_card.move_to([SAFE.right - myth_card.width / 2, 0.2, 0])
        one, two = hc.runs[0], hc.runs[1]
        with self.narrate(
                "Our lab measured this. Small attention models answer questions whose answer needs two tokens "
                f"kept apart. With one head, only {spoken(one.accuracy, 3)} of answers are right, barely above "
                f"the {spoken(hc.chance_one_value, 3)} you would get knowing just one of the two values. With two "
                f"or four heads, accuracy is {spoken(two.accuracy, 1)}: every answer right.") as t:
            self.play(FadeIn(title), FadeIn(bars.axis), FadeIn(bars.title), FadeIn(bars.names),
                      FadeIn(src), run_time=0.25 * t.duration)
            self.play(LaggedStart(*(GrowFromEdge(VGroup(b), DOWN) for b in bars.bars), lag_ratio=0.3),
                      FadeIn(bars.values), run_time=0.35 * t.duration)
            self.play(Create(chance), run_time=0.2 * t.duration)
        box = SurroundingRectangle(bars.sublabels, color=COLORS.ACCENT, buff=0.06)
        params = note("parameters", COLORS.ACCENT).next_to(box, RIGHT, buff=BUFF.SMALL)
        with self.narrate(
                f"Every model had the same {spoken(one.n_params, rough=True)} parameters: more heads only cut the same "
                "width into thinner slices. So the common belief that more heads cost more parameters or more "
                "compute is false at a fixed model width; the next topics prove it.") as t:
            self.play(FadeIn(bars.sublabels), Create(box), FadeIn(params), run_time=0.3 * t.duration)
            self.play(FadeIn(myth_card, shift=LEFT * 0.3), run_time=0.3 * t.duration)
        self.play(FadeOut(VGroup(title, bars, chance, src, myth_card, box, params)), run_time=0.7)

    # -- published: Vaswani et al. Table 3 rows (A) ------------------------------------------------------------
    def table3(self):
        t3 = data.vaswani_table3()
        title = heading("Published: the original paper")
        names = [f"h = {h}" for h in t3.heads]
        subs = [f"dₖ {dk}" for dk in t3.d_k]
        table = CitedBars([("BLEU (higher is better)", t3.bleu), ("perplexity (lower is better)", t3.perplexity, 2)],
                          names, citation=f"{VASWANI.short(venue=False)} · {t3.conditions}", baseline="cut", decimals=1,
                          sublabels=subs, colors=[COLORS.ACCENT] + [COLORS.MUTED] * (len(t3.heads) - 1),
                          max_height=1.25, bar_width=0.55, width=SAFE.width)
        table.next_to(title, DOWN, buff=BUFF.MEDIUM).set_x(0)
        quote = paragraph(wrap(f"{quoted(t3.mechanism_quote.split('. ')[-1])}", SAFE.width, SIZES.BODY),
                          size=SIZES.BODY, color=COLORS.TEXT)
        quote.next_to(table, DOWN, buff=BUFF.SMALL)
        who = note(f"{VASWANI.cite}, §3.2.2").next_to(quote, DOWN, buff=BUFF.SMALL)
        single, best = t3.bleu[0], max(t3.bleu)
        with self.narrate(
                "The original transformer paper saw the same thing at scale. Its Table 3 varies the number of "
                f"heads while holding the computation constant. One head scores {spoken(single, 1)} BLEU, "
                f"{spoken(t3.single_head_gap, 1)} below the best, {spoken(best, 1)}; with "
                f"{t3.heads[-1]} heads, each only {t3.d_k[-1]} wide, quality drops again.") as t:
            self.play(FadeIn(title), FadeIn(table), run_time=0.3 * t.duration)
            self.play(Create(table.charts[0].highlight(0)), Create(table.charts[1].highlight(0)),
                      run_time=0.25 * t.duration)
        with self.narrate(
                "The authors give the reason in one line: with a single attention head, averaging "
                "inhibits this. That is the convex hull we just watched.") as t:
            self.play(FadeIn(quote), FadeIn(who), run_time=0.4 * t.duration)
        self.wait(0.5)
