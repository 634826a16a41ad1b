"""L04.3 Needle in haystack experiments: the lab's protocol animated on one sample (filler, the needle inserted at
depth d by the lab's exact rule, three distractors, the question, the scored answer; gkamradt's inserter for
reference); the accuracy heat maps (needle depth × context length) of our tiny models for RoPE, PI, YaRN, NoPE and
ALiBi with the training length marked; one answer-position attention row (mass on the needle vs the
distractors); the multi-needle and sliding-window variants; the softmax-dilution curve p = e^Δ / (e^Δ + N) and the
margin Δ = ln(pN / (1 − p)) that must grow like ln N; the published figures (Lost in the Middle, RULER) apart.

Numbers: ``data.protocol()``, ``heat_maps()``, ``answer_rows()``, ``multi_needle()``, ``sliding_window()``,
``dilution()``, ``cited_niah()``; formula: ``softmax_dilution``. This file holds layout and timing only.

    manim -pql scenes/l04_context/l04_needle.py NeedleHaystack
"""
from __future__ import annotations

import math

from manim import (DOWN, LEFT, RIGHT, UP, Arrow, Create, DashedLine, FadeIn, FadeOut, LaggedStart, Line,
                   Rectangle, SurroundingRectangle, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import grouped, percent, power_of_ten, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import HeatMap, LineChart, TokenRow, fit_within, label
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.line_chart import source_lines
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l04_context import data

NEEDLE, DISTRACT, QUESTION, FILLER = COLORS.ACCENT, COLORS.K, COLORS.Q, COLORS.PANEL
STRIP_Y, STRIP_H = 1.95, 0.5                 # the 64-token haystack strip
ZOOM_Y = 0.55                                 # the zoomed tokens under it
RULE_Y = -0.4                                # top of the inserter's rule lines
BIG_CELL = 0.82                               # the RoPE map alone
SMALL_CELL = 0.44                             # five maps side by side
ROW_CELL = 0.41                               # the 32-token answer row
CHART_W, CHART_H = 4.6, 2.9
TRAIN = COLORS.V                              # the training-length marker: visible on yellow and dark cells


def pct(x: float) -> str:
    return f"{grouped(percent(x))}%"


def say_token(lab: str) -> str:
    """A token label as the voice says it: 'k4' → 'k four' (the digits stay the label's own)."""
    return f"{lab[0]} {spoken(int(lab[1:]), 0)}" if lab[1:].isdigit() else lab


def lines(text: str, width: float, size: float = SIZES.LABEL, color: str = COLORS.TEXT) -> VGroup:
    out = VGroup(*(label(t, size=size, color=color) for t in wrap(text, width, size)))
    return out.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)


def source_at_bottom(text: str) -> VGroup:
    src = source_lines(text, SAFE.width)
    return src.move_to([SAFE.left + src.width / 2, SAFE.bottom + src.height / 2, 0])


def depth_map(h, m, multiples: bool = False, **kw) -> HeatMap:
    """One scheme's accuracy with depth as rows and context length as columns (the builder stores length × depth);
    ``multiples``: columns labelled by length / training length (1×, 2×, 4×), narrow enough for small maps."""
    values = [[m.accuracy[j][i] for j in range(len(h.lengths))] for i in range(len(h.depths))]
    cols = [grouped(x) for x in h.multiples] if multiples else [grouped(n) for n in h.lengths]
    return HeatMap(values, col_labels=cols, col_values=h.lengths, title=m.label, **kw)


class NeedleHaystack(LectureScene):
    """L04.3: protocol, heat maps, answer row, variants, dilution, citations."""

    def construct(self):
        self.topic("L04.3", "Needle in haystack experiments")
        self.protocol_step()
        self.heat_step()
        self.row_step()
        self.variants_step()
        self.dilution_step()
        self.cited_step()

    # ------------------------------------------------------------------------------------ the protocol
    def protocol_step(self):
        p = data.protocol()
        n = p.context_len
        w = min(0.19, SAFE.width / n)
        kind = [FILLER] * n
        for s in p.distractor_starts:
            kind[s:s + 3] = [DISTRACT] * 3
        kind[p.needle_start:p.needle_start + 3] = [NEEDLE] * 3
        kind[p.haystack_len:] = [QUESTION] * (n - p.haystack_len)
        cells = VGroup(*(Rectangle(width=w, height=STRIP_H).set_stroke(COLORS.GRID, 1).set_fill(FILLER, 1)
                         for _ in range(n))).arrange(RIGHT, buff=0).move_to([0, STRIP_Y, 0])
        title = heading("Needle in a haystack: the lab's task")
        count = label(f"{grouped(n)} tokens: {grouped(p.haystack_len)} of haystack, then the question",
                      size=SIZES.LABEL, color=COLORS.MUTED).next_to(cells, DOWN, buff=BUFF.SMALL)
        with self.narrate(f"Here is the test on the lab's own task: {spoken(n, 0)} tokens, a haystack of "
                          f"{spoken(p.haystack_len, 0)} filler tokens, then a short question.") as t:
            self.play(FadeIn(title), LaggedStart(*(FadeIn(c) for c in cells), lag_ratio=0.02),
                      run_time=0.6 * t.duration)
            self.play(FadeIn(count), *(cells[k].animate.set_fill(QUESTION, 1) for k in range(p.haystack_len, n)),
                      run_time=0.3 * t.duration)
        self.wait_for(t)

        lo, hi = p.needle_start - 2, p.needle_start + 5
        zoom = TokenRow(["…", *p.labels[lo:hi], "…"], font_size=SIZES.LABEL)
        zoom.move_to([cells[p.needle_start + 1].get_x(), ZOOM_Y, 0])
        zoom.shift(RIGHT * max(0.0, SAFE.left - zoom.get_left()[0]))
        for k in range(3):
            zoom.boxes[3 + k].set_stroke(NEEDLE, 3).set_fill(NEEDLE, 0.25)
        seg = VGroup(*cells[lo:hi])
        links = VGroup(Line(seg.get_corner(DOWN + LEFT), zoom.items[1].get_corner(UP + LEFT)),
                       Line(seg.get_corner(DOWN + RIGHT), zoom.items[-2].get_corner(UP + RIGHT))).set_stroke(
            COLORS.MUTED, 1.5)
        arrow = Arrow(cells[p.needle_start].get_top() + UP * 0.75, cells[p.needle_start].get_top(), buff=0.04,
                      color=NEEDLE, stroke_width=4, max_tip_length_to_length_ratio=0.35)
        depth = label(f"depth {pct(p.depth)} → token {grouped(p.needle_start)}", size=SIZES.LABEL,
                      color=NEEDLE).next_to(arrow, RIGHT, buff=BUFF.SMALL).align_to(arrow, UP)
        rules = p.inserter.split("; ")
        rule = lines(rules[0], SAFE.width - 0.6, color=NEEDLE).move_to([0, RULE_Y, 0], aligned_edge=UP)
        rule.set_x(SAFE.left, direction=LEFT)
        key, value = p.labels[p.needle_start + 1], p.labels[p.needle_start + 2]
        span = p.needle_value_pos - p.needle_start + 1
        with self.narrate(f"The needle is {spoken(span, 0)} tokens: a marker, a key, {say_token(key)}, and its value, "
                          f"{say_token(value)}. The lab puts it at depth d, here "
                          f"{spoken(percent(p.depth), 0)} percent: it starts at token {spoken(p.needle_start, 0)}, "
                          f"d times the haystack length minus "
                          f"{spoken(span, 0)}, rounded, "
                          "with no backtracking.") as t:
            self.play(FadeOut(count), *(cells[k].animate.set_fill(NEEDLE, 1) for k in range(p.needle_start,
                                                                                          p.needle_start + 3)),
                      Create(arrow), FadeIn(depth), run_time=0.3 * t.duration)
            self.play(Create(links), FadeIn(zoom), run_time=0.3 * t.duration)
            self.play(FadeIn(rule), run_time=0.2 * t.duration)
        self.wait_for(t)

        rest = lines(f"{rules[1]}; {rules[2]}", SAFE.width - 0.6, color=DISTRACT).next_to(
            rule, DOWN, buff=BUFF.SMALL).align_to(rule, LEFT)
        with self.narrate(f"{spoken(len(p.distractor_starts), 0).capitalize()} distractors, needles with other "
                          "keys and other values, land at random free places.") as t:
            self.play(*(cells[k].animate.set_fill(DISTRACT, 1) for s in p.distractor_starts for k in range(s, s + 3)),
                      FadeIn(rest), run_time=0.5 * t.duration)
        self.wait_for(t)

        ref = p.reference_inserter.split("; ")[0]
        ref_text = lines(ref, SAFE.width, color=COLORS.MUTED).next_to(rest, DOWN, buff=BUFF.MEDIUM).align_to(
            rule, LEFT)
        with self.narrate("For reference, Greg Kamradt's original test inserts at a fraction of the length, then "
                          "backs up to the previous full stop, so the needle starts a sentence.") as t:
            self.play(FadeIn(ref_text), run_time=0.3 * t.duration)
        self.wait_for(t)

        q = p.labels[p.haystack_len:]
        ask = TokenRow(list(q), font_size=SIZES.LABEL, role="q")
        answer = TokenRow([p.answer], font_size=SIZES.LABEL, role="weight")
        to = label("→", size=SIZES.BODY)
        qa = VGroup(ask, to, answer).arrange(RIGHT, buff=BUFF.SMALL)
        qa.move_to([SAFE.right - qa.width / 2, ZOOM_Y, 0])
        qlink = Line(VGroup(*cells[p.haystack_len:]).get_bottom(), ask.get_top()).set_stroke(COLORS.MUTED, 1.5)
        score = lines(p.scoring, SAFE.width, color=COLORS.WEIGHT).move_to(ref_text, aligned_edge=UP + LEFT)
        with self.narrate(f"The question: a query marker and the key, {say_token(q[-1])}. The model's top "
                          f"prediction at the last position must be {say_token(p.answer)}, right or wrong; each map "
                          f"cell averages {spoken(data.heat_maps().n_eval, 0)} samples.") as t:
            self.play(Create(qlink), FadeIn(ask), run_time=0.3 * t.duration)
            self.play(FadeIn(to), FadeIn(answer, shift=RIGHT * 0.2), FadeOut(ref_text), FadeIn(score),
                      run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, cells, arrow, depth, links, zoom, rule, rest, qlink, qa, score)),
                  run_time=0.6)

    # ------------------------------------------------------------------------------------ the heat maps
    def heat_step(self):
        h = data.heat_maps()
        rope = h.maps[0]
        big = depth_map(h, rope, row_labels=[pct(d) for d in h.depths], row_title="needle depth",
                        col_title="context length (tokens)", legend_title="accuracy", cell_size=BIG_CELL,
                        title_size=SIZES.BODY)
        title = heading("Accuracy: our tiny models")
        src = source_at_bottom(h.source)
        line = big.mark_col(h.train_length, f"trained at {grouped(h.train_length)}", color=TRAIN)
        group = VGroup(big, line)         # between the heading and the source line
        top, bottom = title.get_bottom()[1] - BUFF.MEDIUM, src.get_top()[1] + BUFF.MEDIUM
        fit_within(group, None, top - bottom)
        group.move_to([-2.4, (top + bottom) / 2, 0])
        worst = min((v, i, j) for i, row in enumerate(big.values) for j, v in enumerate(row))
        by_len = VGroup(label("mean over depths", size=SIZES.LABEL, color=COLORS.MUTED), *(
            label(f"{grouped(n)} tokens: {shown(a, 2)}", size=SIZES.LABEL, mono=True)
            for n, a in zip(h.lengths, rope.accuracy_by_length))).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        by_len.move_to([2.0, 0.6, 0], aligned_edge=LEFT)
        with self.narrate("Now sweep it. Rows are needle depths, columns context lengths, each cell the accuracy of "
                          f"our tiny models, trained at {spoken(h.train_length, 0)} tokens: the dashed line.") as t:
            self.play(FadeIn(title), FadeIn(VGroup(big.grid.cells, big.row_labels, big.col_labels, big.row_title,
                                                   big.col_title, big.title, big.legend)), FadeIn(src),
                      run_time=0.4 * t.duration)
            self.play(Create(line[0]), FadeIn(line[1]), run_time=0.25 * t.duration)
        self.wait_for(t)
        box = big.box_cell(worst[1], worst[2])
        with self.narrate(f"Plain RoPE is perfect up to the line. At {spoken(h.multiples[1], 0)} times the "
                          f"training length it falls to {spoken(rope.accuracy_by_length[1], 2)}, at "
                          f"{spoken(h.multiples[2], 0)} times to "
                          f"{spoken(rope.accuracy_by_length[2], 2)}, and the worst cell is the needle farthest "
                          f"from the question, at depth {spoken(percent(h.depths[worst[1]]), 0)}: "
                          f"{spoken(worst[0], 2)}.") as t:
            self.play(FadeIn(big.numbers), FadeIn(by_len), run_time=0.35 * t.duration)
            self.play(Create(box), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(big, line, box, by_len)), run_time=0.5)

        maps = VGroup(*(depth_map(h, m, row_labels=[pct(d) for d in h.depths] if k == 0 else None,
                                  legend=k == len(h.maps) - 1, legend_title="accuracy", show_numbers=False,
                                  cell_size=SMALL_CELL, multiples=True) for k, m in enumerate(h.maps)))
        maps.arrange(RIGHT, buff=0.5, aligned_edge=DOWN)
        fit_within(maps, SAFE.width, None)
        maps.move_to([0, 1.2, 0])
        marks = VGroup(*(m.mark_col(h.train_length, f"trained at {grouped(h.train_length)}" if k == 0 else None,
                                    color=TRAIN) for k, m in enumerate(maps)))
        x_title = label("context length ÷ training length", size=SIZES.LABEL, color=COLORS.MUTED).next_to(
            maps, DOWN, buff=BUFF.SMALL)
        caption = lines(h.caption, SAFE.width, color=COLORS.MUTED).next_to(x_title, DOWN, buff=BUFF.MEDIUM)
        caption.set_x(0)
        with self.narrate(f"{spoken(len(h.maps), 0).capitalize()} position schemes. Position interpolation and "
                          "YaRN, applied to that very RoPE model without fine-tuning, stay near one. NoPE and ALiBi "
                          "pass every cell.") as t:
            self.play(LaggedStart(*(FadeIn(m) for m in maps), lag_ratio=0.25), run_time=0.45 * t.duration)
            self.play(*(Create(m[0]) for m in marks), FadeIn(marks[0][1]), FadeIn(x_title),
                      run_time=0.15 * t.duration)
        self.wait_for(t)
        layers = data.sliding_window().n_layers                # the experiment's one model config
        with self.narrate(f"Keep the scale in mind: {spoken(layers, 0)}-layer models, stretched "
                          f"{spoken(h.multiples[-1], 0)} times.") as t:
            self.play(FadeIn(caption), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, maps, marks, x_title, caption, src)), run_time=0.5)

    # ------------------------------------------------------------------------------------ one answer row
    def row_step(self):
        ar_ = data.answer_rows()
        r = ar_.rows[0]
        w = r.weights[r.best_row]
        row = HeatMap([w], col_labels=list(r.labels), legend=False, show_numbers=False,
                      cell_size=ROW_CELL, col_title="key position", label_size=SIZES.LABEL)
        fit_within(row, SAFE.width, None)
        row.move_to([0, 0.55, 0])
        title = heading("Where the answer position looks")
        sub = label(f"{ar_.rows[0].scheme.replace('rope', 'RoPE')}: the head with most weight on the needle, "
                    f"{grouped(len(r.tokens))}-token example", size=SIZES.LABEL, color=COLORS.MUTED)
        fit_within(sub, SAFE.width, None)
        sub.next_to(title, DOWN, buff=BUFF.MEDIUM).align_to(title, LEFT)
        src = source_at_bottom(ar_.source)
        with self.narrate("Why does a model pass? Look at the answer position's attention row, stored for a "
                          f"{spoken(len(r.tokens), 0)}-token example.") as t:
            self.play(FadeIn(title), FadeIn(sub), FadeIn(src), run_time=0.3 * t.duration)
            self.play(FadeIn(row), run_time=0.4 * t.duration)
        self.wait_for(t)
        nv = r.needle_value_pos
        nbox = SurroundingRectangle(VGroup(*row.cells[0][nv - 2:nv + 1]), color=NEEDLE, buff=0.03, stroke_width=5)
        dboxes = VGroup(*(SurroundingRectangle(VGroup(*row.cells[0][p - 2:p + 1]), color=DISTRACT, buff=0.03,
                                               stroke_width=4) for p in r.distractor_value_pos))
        ntext = label(f"needle: {shown(r.needle_mass[r.best_row], 3)}", size=SIZES.LABEL, color=NEEDLE)
        ntext.next_to(row.cells, UP, buff=BUFF.MEDIUM).set_x(nbox.get_x())
        dtext = label(f"{grouped(len(r.distractor_value_pos))} distractors: "
                      f"{shown(r.distractor_mass[r.best_row], 3)}", size=SIZES.LABEL, color=DISTRACT)
        dtext.next_to(row.cells, UP, buff=BUFF.MEDIUM).set_x(dboxes.get_x())
        if dtext.get_left()[0] < ntext.get_right()[0] + BUFF.MEDIUM:
            dtext.next_to(ntext, RIGHT, buff=BUFF.LARGE)
        with self.narrate(f"In the RoPE model's best head, {spoken(r.needle_mass[r.best_row], 3)} of the weight "
                          f"sits on the needle, nearly all of it on the value token itself, and only "
                          f"{spoken(r.distractor_mass[r.best_row], 3)} on the "
                          f"{spoken(len(r.distractor_value_pos), 0)} distractors together.") as t:
            self.play(Create(nbox), FadeIn(ntext), run_time=0.35 * t.duration)
            self.play(Create(dboxes), FadeIn(dtext), run_time=0.3 * t.duration)
        self.wait_for(t)
        others = VGroup(*(label(f"{o.scheme.replace('nope', 'NoPE').replace('alibi', 'ALiBi')}: needle "
                                f"{shown(o.needle_mass[o.best_row], 3)}, distractors "
                                f"{shown(o.distractor_mass[o.best_row], 3)}", size=SIZES.LABEL, mono=True)
                          for o in ar_.rows[1:])).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        others.next_to(row, DOWN, buff=BUFF.LARGE).set_x(0)
        with self.narrate("The NoPE and ALiBi models do the same: find the matching key, read the value beside "
                          "it.") as t:
            self.play(FadeIn(others), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.allow_overlap(nbox, row, reason="highlight box on the needle's cells")
        self.play(FadeOut(VGroup(title, sub, src, row, nbox, dboxes, ntext, dtext, others)), run_time=0.5)

    # ------------------------------------------------------------------------------------ two variants
    def variants_step(self):
        mn, sw = data.multi_needle(), data.sliding_window()
        h = data.heat_maps()
        names = [m.label for m in h.maps]
        left = LineChart([(nm, mn.lengths, acc) for nm, acc in zip(names, mn.accuracy_by_length)],
                         x_label="context length", y_label="accuracy", width=CHART_W, height=CHART_H,
                         y_range=(0, 1, 0.5), x_range=(mn.lengths[0], mn.lengths[-1], mn.lengths[0]),
                         markers=True, legend=False)
        k = 1 if len(sw.lengths) > 1 else 0
        right = LineChart([("sliding window", sw.distances, sw.accuracy[k])], x_label="needle distance (tokens)",
                          y_label="accuracy", width=CHART_W, height=CHART_H, y_range=(0, 1, 0.5), markers=True,
                          colors=(COLORS.WEIGHT,))
        left.move_to([-3.3, 0.1, 0])
        right.move_to([3.5, 0.1, 0])
        title = heading("Two variants")
        t_left = label(f"{grouped(mn.n_needles)} needles, {grouped(mn.n_queries)} questions", size=SIZES.LABEL)
        t_left.next_to(left.axes, UP, buff=BUFF.LARGE).align_to(left.axes, LEFT)
        key = VGroup(*(label(nm, size=SIZES.LABEL, color=c) for nm, c in zip(names, left.colors))).arrange(
            DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
        key.next_to(left.point(mn.lengths[0], 0.1), RIGHT, buff=BUFF.SMALL).align_to(left.point(0, 0.05), DOWN)
        t_right = label(f"sliding window, W = {grouped(sw.window)}", size=SIZES.LABEL)
        t_right.next_to(right.axes, UP, buff=BUFF.LARGE).align_to(right.axes, LEFT)
        reach = right.mark_x(sw.reach, f"reach {grouped(sw.reach)}")
        hop = right.mark_x(sw.one_hop_reach, color=COLORS.WEIGHT)
        hop.add(label(f"{grouped(sw.one_hop_reach)} back", size=SIZES.LABEL, color=COLORS.WEIGHT).next_to(
            right.point(sw.one_hop_reach, 0.82), RIGHT, buff=BUFF.SMALL))
        chance = DashedLine(right.point(sw.distances[0], sw.chance), right.point(sw.distances[-1], sw.chance),
                            dash_length=0.06).set_stroke(COLORS.MUTED, 2)
        chance_note = VGroup(label(f"chance {shown(sw.chance, 4)}", size=SIZES.LABEL, color=COLORS.MUTED),
                             label(f"beyond reach {shown(sw.beyond_reach, 3)}", size=SIZES.LABEL,
                                   color=COLORS.WEIGHT)).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
        chance_note.next_to(right.point(sw.reach + 6, 0.3), RIGHT, buff=0).align_to(right.point(0, 0.62), UP)
        src = source_at_bottom(mn.source)
        rope_multi = mn.accuracy_by_length[0]
        with self.narrate(f"With {spoken(mn.n_needles, 0)} needles and {spoken(mn.n_queries, 0)} questions, RoPE "
                          f"falls further, to {spoken(rope_multi[-1], 3)} at {spoken(mn.lengths[-1], 0)} tokens; the "
                          "others hold.") as t:
            self.play(FadeIn(title), FadeIn(t_left), FadeIn(left.frame_parts()), FadeIn(key), FadeIn(src),
                      run_time=0.3 * t.duration)
            self.play(*(left.create_series(i) for i in range(len(names))), run_time=0.5 * t.duration)
        self.wait_for(t)
        with self.narrate(f"A sliding-window model, window {spoken(sw.window, 0)}, retrieves perfectly within "
                          f"{spoken(sw.one_hop_reach, 0)} tokens, and beyond that it guesses at chance. Past its "
                          f"reach of {spoken(sw.reach, 0)} tokens, the needle cannot affect the answer at all.") as t:
            self.play(FadeIn(t_right), FadeIn(right.frame_parts()), run_time=0.2 * t.duration)
            self.play(right.create_series(0), Create(hop[0]), FadeIn(hop[1]), run_time=0.35 * t.duration)
            self.play(Create(chance), Create(reach[0]), FadeIn(reach[1]), FadeIn(chance_note),
                      run_time=0.25 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, left, right, t_left, t_right, key, reach, hop, chance, chance_note,
                                 src)), run_time=0.5)

    # ------------------------------------------------------------------------------------ dilution
    def dilution_step(self):
        dl = data.dilution()
        eq = equation("softmax_dilution")
        fit_within(eq, SAFE.width * 0.7, 1.0)
        eq.move_to([0, SAFE.top - eq.height / 2 - 0.05, 0])
        decades = [math.log10(n) for n in dl.n_distractors]
        shown_deltas = (1, 2, 4)                       # Δ = 2, 4, 8 of the builder's grid
        cols = (COLORS.K, COLORS.SCORE, COLORS.ACCENT)
        left = LineChart([(f"Δ = {grouped(dl.deltas[i])}", decades, dl.weights[i]) for i in shown_deltas],
                         x_label="N distractors", y_label="needle weight p", width=CHART_W, height=CHART_H,
                         y_range=(0, 1, 0.5), x_range=(0, decades[-1], 2), colors=cols)
        right = LineChart([(f"p = {shown(p, 1)}", decades, row) for p, row in zip(dl.target_p, dl.margins)],
                          x_label="N distractors", y_label="margin Δ needed", width=CHART_W, height=CHART_H,
                          y_range=(0, 18, 6), x_range=(0, decades[-1], 2), colors=(COLORS.WEIGHT, COLORS.Q))
        for ch in (left, right):
            for tick, v in zip(ch.x_ticks, range(0, round(decades[-1]) + 1, 2)):
                new = label(power_of_ten(v), size=SIZES.SMALL, color=COLORS.MUTED, mono=True).move_to(tick)
                tick.become(new)
        left.move_to([-3.3, -0.75, 0])
        right.move_to([3.5, -0.75, 0])
        i4 = shown_deltas[1]
        with self.narrate("Underneath is a plain softmax fact. A needle with a logit advantage delta over N equal "
                          "distractors gets the weight e to the delta, over e to the delta plus N.") as t:
            self.play(FadeIn(eq), run_time=0.4 * t.duration)
        self.wait_for(t)
        with self.narrate(f"Computed with the course's softmax: at a fixed delta of {spoken(dl.deltas[i4], 0)}, the "
                          f"weight falls from {spoken(dl.weights[i4][0], 2)} against "
                          f"{spoken(dl.n_distractors[0], 0)} distractor to "
                          f"{spoken(dl.weights[i4][3], 3)} against {spoken(dl.n_distractors[3], 0)}.") as t:
            self.play(FadeIn(left.frame_parts()), run_time=0.25 * t.duration)
            self.play(*(left.create_series(i) for i in range(len(shown_deltas))), run_time=0.5 * t.duration)
        self.wait_for(t)
        n_k = dl.context_128k // 1024
        note = label(f"{grouped(n_k)}K context: Δ = {shown(dl.margin_128k[0], 1)} (p = {shown(dl.target_p[0], 1)})"
                     f", {shown(dl.margin_128k[1], 1)} (p = {shown(dl.target_p[1], 1)})", size=SIZES.LABEL,
                     color=COLORS.TEXT)
        fit_within(note, SAFE.width, None)
        note.move_to([0, SAFE.bottom + note.height / 2 + 0.05, 0])
        slope = label(f"+ {shown(dl.per_decade, 2)} per tenfold N", size=SIZES.LABEL, color=COLORS.WEIGHT)
        slope.next_to(right.point(0.3, 16), RIGHT, buff=0).align_to(right.point(0.3, 17.5), UP)
        with self.narrate(f"To hold the weight fixed, delta must grow like the log of N: "
                          f"{spoken(dl.per_decade, 2)} more for every tenfold longer context. In a "
                          f"{spoken(n_k, 0)} K context, a weight of {spoken(dl.target_p[0], 1)} needs a margin of "
                          f"{spoken(dl.margin_128k[0], 1)}.") as t:
            self.play(FadeIn(right.frame_parts()), run_time=0.2 * t.duration)
            self.play(right.create_series(0), right.create_series(1), FadeIn(slope), run_time=0.45 * t.duration)
            self.play(FadeIn(note), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(eq, left, right, note, slope)), run_time=0.5)

    # ------------------------------------------------------------------------------------ published figures
    def cited_step(self):
        c = data.cited_niah()
        lost, ruler = c[0], c[1]
        title = heading("Published, not measured here")
        cards = VGroup()
        for item in (lost, ruler):
            head = lines(item.what, 5.8, size=SIZES.LABEL, color=COLORS.ACCENT)
            body = lines(f"“{item.figure}”" if item is ruler else item.figure, 5.8, size=SIZES.LABEL)
            cite = source_lines(item.source, 5.8)
            card = VGroup(head, body, cite).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.MEDIUM)
            frame = SurroundingRectangle(card, color=COLORS.GRID, buff=0.25, corner_radius=0.1)
            cards.add(VGroup(frame, card))
        cards.arrange(RIGHT, buff=0.5, aligned_edge=UP)
        fit_within(cards, SAFE.width, None)
        cards.next_to(title, DOWN, buff=BUFF.LARGE).set_x(0)
        verdict = label("vanilla needle test: necessary, not sufficient", size=SIZES.BODY, color=COLORS.ACCENT)
        verdict.move_to([0, SAFE.bottom + 0.5, 0])
        with self.narrate("Published studies show this is only a first test. In Lost in the Middle, accuracy is "
                          "U-shaped in the position of the relevant document: for GPT-3.5-Turbo, a document in the "
                          "middle did worse than none at all.") as t:
            self.play(FadeIn(title), FadeIn(cards[0]), run_time=0.3 * t.duration)
        self.wait_for(t)
        with self.narrate("RULER found that models with nearly perfect vanilla needle scores drop sharply on its "
                          "harder tasks as the context grows.") as t:
            self.play(FadeIn(cards[1]), run_time=0.3 * t.duration)
        self.wait_for(t)
        with self.narrate("And our needle repeats the question's key exactly. Passing the vanilla test is "
                          "necessary, not sufficient.") as t:
            self.play(FadeIn(verdict, shift=UP * 0.2), run_time=0.3 * t.duration)
        self.wait_for(t)
