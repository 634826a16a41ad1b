"""L03.4 Benefits over other positional approaches: the six schemes side by side (relative?, extra
parameters, a bias matrix inside the kernel, the lab's needle accuracy at 4× the training length), what
does and does not go stale in a KV cache, the lab's experiment 2 per scheme (own tiny models: needle
accuracy beyond the training length, and PI's loss inside it), and ALiBi's cited 1.3B result, which is
measured in perplexity.

Numbers: ``data.comparison_table()``, ``lab_results()``, ``cited_alibi()`` and ``pitfalls()`` (the stale
dynamic-NTK key); this file holds layout and timing only.

    manim -pql scenes/l03_rope/l03_benefits.py RopeBenefits
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Create, DashedVMobject, FadeIn, FadeOut, LaggedStart, RoundedRectangle,
                   VGroup)

from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitationLine, DataTable, LineChart, ValueBars, fit_within, label
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.line_chart import source_lines
from scenes.kit.mobjects.text import paragraph
from scenes.kit.references import PRESS
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l03_rope import data

TABLE_Y = 0.6           # centre of the comparison table
NOTE_Y = -2.75          # the KV-cache note under the table
BARS_HEIGHT = 2.3       # the needle bars' tallest bar
CHART_W, CHART_H = 7.2, 2.6
RELATIVE, PARAMS, BIAS, ACC = 1, 2, 3, 4   # the table's columns after the scheme name
RoPE, PI = COLORS.K, COLORS.ACCENT


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


class RopeBenefits(LectureScene):
    """L03.4: the comparison table, the cache note, the lab's needle and loss panels, ALiBi's cited result."""

    def construct(self):
        self.topic("L03.4", "Benefits over other positional approaches")
        self.table_step()
        self.kernel_and_cache()
        self.needle_step()
        self.pi_loss_step()
        self.cited_step()

    # ------------------------------------------------------------------------------------ the table
    def table_step(self):
        t = self.t = data.comparison_table()
        lab = data.lab_results()
        rows = []
        for r in t.rows:
            rel = yes_no(r.relative) if r.has_positions else "no positions"
            acc = shown(r.accuracy_at_4x, 3) if r.accuracy_at_4x is not None else "not run"
            rows.append([r.scheme, rel, shown(r.extra_params, 0), yes_no(r.bias_in_kernel), acc])
        self.names = [r.scheme for r in t.rows]
        table = self.table = DataTable(
            ["scheme", t.columns[0], t.columns[1], t.columns[2], f"needle at {shown(lab.longest_factor, 0)}× (lab)"],
            rows, align="llrlr", font_size=SIZES.BODY, row_height=0.72)
        fit_within(table, SAFE.width, 4.8)
        table.move_to([0, TABLE_Y, 0])
        self.title = heading("Ways to encode order")
        rope = self.names.index("RoPE")
        with self.narrate("Here are the ways to give attention a sense of order, side by side. Sinusoidal and "
                          "learned embeddings are added to the input. T5 and ALiBi add a bias to the scores. "
                          "RoPE rotates the queries and keys. And NoPE uses nothing but the causal mask.") as tr:
            self.play(FadeIn(self.title), FadeIn(table.header), Create(table.rule), run_time=0.2 * tr.duration)
            self.play(LaggedStart(*(FadeIn(r, shift=RIGHT * 0.2) for r in table.rows), lag_ratio=0.5),
                      run_time=0.7 * tr.duration)
        rel_rows = [i for i, r in enumerate(t.rows) if r.relative]
        boxes = VGroup(*(table.highlight_cell(i, RELATIVE) for i in rel_rows))
        with self.narrate("T5, ALiBi and RoPE are relative: for fixed content, their scores depend only on the "
                          "distance between the two tokens. The absolute embeddings are not, and NoPE has no positions "
                          "at all.") as tr:
            self.play(Create(boxes), run_time=0.3 * tr.duration)
        learned = next(r for r in t.rows if r.scheme == "learned absolute")
        t5 = next(r for r in t.rows if r.scheme == "T5 bias")
        param_rows = [i for i, r in enumerate(t.rows) if r.extra_params]
        pboxes = VGroup(*(table.highlight_cell(i, PARAMS) for i in param_rows))
        with self.narrate(f"Only the learned schemes cost parameters: in our lab model, a learned table adds "
                          f"{spoken(learned.extra_params, 0)} weights, and T5's buckets add "
                          f"{spoken(t5.extra_params, 0)}. ALiBi and RoPE are fixed functions, and cost "
                          "nothing.") as tr:
            self.play(FadeOut(boxes), Create(pboxes), run_time=0.3 * tr.duration)
        self.wait_for(tr)
        self.play(FadeOut(pboxes), run_time=0.4)
        self.rope_row = rope

    # ------------------------------------------------------------------------------------ kernel and cache
    def kernel_and_cache(self):
        t, table = self.t, self.table
        bias_rows = [i for i, r in enumerate(t.rows) if r.bias_in_kernel]
        bias = VGroup(*(table.highlight_cell(i, BIAS, color=COLORS.V) for i in bias_rows))
        rope = table.highlight_row(self.rope_row, color=RoPE)
        with self.narrate("The column that matters most in practice is the bias. T5 and ALiBi add a bias "
                          "matrix to the scores, so a fused attention kernel must build or read that matrix "
                          "inside its inner loop.") as tr:
            self.play(Create(bias), run_time=0.3 * tr.duration)
        with self.narrate("RoPE acts on the queries and keys before the kernel runs. The kernel sees ordinary "
                          "q and k, and needs no change at all. That is RoPE's practical win.") as tr:
            self.play(FadeOut(bias), Create(rope), run_time=0.3 * tr.duration)
        self.wait_for(tr)
        pf = data.pitfalls()
        note = paragraph(wrap(f"KV cache: every scheme here keeps cached keys valid.  What goes stale: a "
                              f"length-dependent scaling (dynamic NTK) — a cached key differs from its re-rotated "
                              f"self by up to {shown(pf.dynamic_cached_key_error, 2)}.", SAFE.width * 0.95,
                              SIZES.LABEL), size=SIZES.LABEL, color=COLORS.TEXT)
        fit_within(note, SAFE.width, None)
        note.move_to([0, NOTE_Y, 0])
        with self.narrate("Notice what the table leaves out: a column for the key value cache. Every scheme "
                          "here keeps cached keys valid, because a key's rotation depends only on its own "
                          "position. What goes stale is a scaling that depends on the current length, such as "
                          f"dynamic NTK: a cached key then differs from its re-rotated self by up to "
                          f"{spoken(pf.dynamic_cached_key_error, 2)}.") as tr:
            self.play(FadeIn(note, shift=UP * 0.2), run_time=0.2 * tr.duration)
        self.wait_for(tr)
        self.play(FadeOut(VGroup(table, rope, note, self.title)), run_time=0.6)

    # ------------------------------------------------------------------------------------ the needle
    def needle_step(self):
        lab = self.lab = data.lab_results()
        by = {s.scheme: s for s in lab.schemes}
        order = list(lab.plan_schemes) + [s.scheme for s in lab.schemes if s.scheme not in lab.plan_schemes]
        acc = [by[k].accuracy_by_length[-1] for k in order]
        colors = [RoPE if k == "rope" else COLORS.WEIGHT for k in order]
        names = [by[k].label.replace(" ", "\n", 1) for k in order]   # two short lines under a bar
        bars = ValueBars(acc, names, decimals=3, colors=colors, max_height=BARS_HEIGHT,
                         bar_width=0.8, spacing=0.6)
        fit_within(bars, SAFE.width - 0.4, None)
        title = label(f"needle found at {shown(lab.longest_factor, 0)}× the training length "
                      f"({shown(lab.lengths[-1], 0)} tokens, trained at {shown(lab.train_length, 0)})",
                      size=SIZES.BODY)
        caption = source_lines(lab.caption, SAFE.width)
        src = source_lines(lab.source, SAFE.width)
        fit_within(title, SAFE.width, None)
        group = VGroup(title, bars, caption, src).arrange(DOWN, buff=BUFF.MEDIUM)
        group.move_to([0, 0, 0])
        caption.align_to(title, LEFT)
        src.align_to(title, LEFT)
        src.shift(UP * 0.5 * BUFF.MEDIUM)
        self.needle = group
        with self.narrate(f"Now our own measurement, on tiny two-layer models trained on sequences of "
                          f"{spoken(lab.train_length, 0)} tokens, then asked to find a needle in "
                          f"{spoken(lab.lengths[-1], 0)}.") as tr:
            self.play(FadeIn(title), FadeIn(caption), FadeIn(src), FadeIn(bars.axis), FadeIn(bars.names),
                      run_time=0.3 * tr.duration)
            self.play(LaggedStart(*(FadeIn(VGroup(b, v), shift=UP * 0.2) for b, v in zip(bars.bars, bars.values)),
                                  lag_ratio=0.2), run_time=0.6 * tr.duration)
        k = order.index("rope")
        box = bars.highlight(k, color=RoPE)
        with self.narrate(f"NoPE, ALiBi and YaRN found it almost every time: "
                          f"{spoken(by['nope'].accuracy_by_length[-1], 3)}, "
                          f"{spoken(by['alibi'].accuracy_by_length[-1], 3)} and "
                          f"{spoken(by['rope_yarn'].accuracy_by_length[-1], 3)}; so did PI. Plain RoPE managed only "
                          f"{spoken(by['rope'].accuracy_by_length[-1], 3)}: beyond the training length its slow "
                          "planes reach angles it never saw.") as tr:
            self.play(Create(box), run_time=0.3 * tr.duration)
        self.wait_for(tr)
        self.play(FadeOut(VGroup(group, box)), run_time=0.6)

    # ------------------------------------------------------------------------------------ PI's loss
    def pi_loss_step(self):
        lab = self.lab
        by = {s.scheme: s for s in lab.schemes}
        series = []
        for k in ("rope", "rope_pi"):
            pts = [(i, v) for i, v in enumerate(by[k].loss_by_position) if v is not None]
            series.append((by[k].label, [p for p, _ in pts], [v for _, v in pts]))
        chart = LineChart(series, x_label="position", y_label="loss", width=CHART_W, height=CHART_H,
                          x_range=(0, lab.loss_length, lab.train_length), colors=[RoPE, PI], stroke_width=3,
                          source=lab.source)
        chart.move_to([-1.9, -0.3, 0])
        mark = chart.mark_x(lab.train_length, color=COLORS.MUTED)
        mark.add(label("training length", size=SIZES.SMALL, color=COLORS.MUTED).next_to(
            mark[0].get_top(), RIGHT + DOWN, buff=BUFF.SMALL))
        rope, pi = by["rope"], by["rope_pi"]
        means = VGroup(
            label(f"mean loss at {shown(lab.inside_from, 0)}–{shown(lab.train_length - 1, 0)}", size=SIZES.LABEL,
                  color=COLORS.MUTED),
            label(f"{rope.label}  {shown(rope.mean_loss_inside, 3)}", size=SIZES.LABEL, color=RoPE),
            label(f"{pi.label}  {shown(pi.mean_loss_inside, 3)}", size=SIZES.LABEL, color=PI),
        ).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        means.next_to(chart.axes, RIGHT, buff=BUFF.LARGE).align_to(chart.axes, UP)
        with self.narrate("But position interpolation pays for its score. Here is the loss at every position, "
                          f"on sequences of {spoken(lab.loss_length, 0)} tokens.") as tr:
            self.play(FadeIn(chart.frame_parts()), FadeIn(mark), run_time=0.3 * tr.duration)
            self.play(chart.create_series(0), chart.create_series(1), run_time=0.6 * tr.duration)
        with self.narrate(f"Inside the training length, PI's loss is {spoken(pi.mean_loss_inside, 3)}, against "
                          f"{spoken(rope.mean_loss_inside, 3)} for plain RoPE.") as tr:
            self.play(FadeIn(means, shift=LEFT * 0.2), run_time=0.3 * tr.duration)
        with self.narrate(f"Applied without fine-tuning, PI divides every angle by {spoken(lab.loss_factor, 0)}, "
                          "the fastest planes included. Neighbouring tokens now sit closer together than anything "
                          "this model trained on, so it needs more of the text before its "
                          "predictions settle. That is why PI is used with fine-tuning.") as tr:
            self.play(means[2].animate.scale(1.15, about_edge=LEFT), run_time=0.2 * tr.duration)
        self.wait_for(tr)
        self.play(FadeOut(VGroup(chart, mark, means)), run_time=0.6)

    # ------------------------------------------------------------------------------------ ALiBi, cited
    def cited_step(self):
        c = data.cited_alibi()
        width = SAFE.width * 0.8
        quote = paragraph(wrap(f"“{c.quote}”", width, SIZES.BODY), size=SIZES.BODY, color=COLORS.TEXT)
        extra = label(f"{c.faster}, {c.less_memory}", size=SIZES.LABEL, color=COLORS.TEXT)
        tag = label("published", size=SIZES.SMALL, color=COLORS.MUTED)
        body = VGroup(tag, quote, extra).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.MEDIUM)
        fit_within(body, width, None)
        frame = DashedVMobject(RoundedRectangle(corner_radius=0.12, width=body.width + 2 * BUFF.MEDIUM,
                                                height=body.height + 2 * BUFF.MEDIUM).move_to(body)
                               .set_stroke(COLORS.MUTED, 1.5), num_dashes=90)
        card = VGroup(frame, body).move_to([0, 0.9, 0])
        cite = CitationLine(PRESS, venue=False)
        caveat = label(c.caveat, size=SIZES.BODY, color=COLORS.ACCENT)
        fit_within(caveat, SAFE.width, None)
        caveat.next_to(card, DOWN, buff=BUFF.LARGE)
        with self.narrate(f"ALiBi's headline result is about perplexity. Press and colleagues trained a "
                          f"{c.params} parameter model on {spoken(c.train_length, 0)} tokens and evaluated it on "
                          f"{spoken(c.eval_length, 0)}, where it matched a sinusoidal model trained on "
                          f"{spoken(c.eval_length, 0)}, while training {c.faster} and with "
                          f"{c.less_memory}.") as tr:
            self.play(FadeIn(card), FadeIn(cite), run_time=0.3 * tr.duration)
        with self.narrate("That shows the model stays fluent past its training length. It does not show that "
                          "it uses the far tokens: a model that only looks nearby can keep a low perplexity. "
                          "A retrieval test, like our needle, measures that.") as tr:
            self.play(FadeIn(caveat, shift=UP * 0.2), run_time=0.3 * tr.duration)
        summary = VGroup(
            label("RoPE on its own does not extrapolate best", size=SIZES.BODY, color=COLORS.MUTED),
            label("position enters through q and k alone", size=SIZES.BODY, color=RoPE),
            label("no parameters  ·  no bias in the kernel  ·  cached keys stay valid", size=SIZES.BODY),
            label("more reach: scaling (next)", size=SIZES.BODY, color=COLORS.ACCENT),
        ).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.LARGE)
        fit_within(summary, SAFE.width, None)
        summary.move_to([0, 0, 0])
        with self.narrate("So RoPE's win is not that it extrapolates best; on its own, it does not. It is that "
                          "position enters through q and k alone: no parameters, no bias in the kernel, and "
                          "cached keys that stay valid. Stretching its reach is a matter of scaling, which "
                          "comes next.") as tr:
            self.play(FadeOut(VGroup(card, caveat, cite)), run_time=0.15 * tr.duration)
            self.play(LaggedStart(*(FadeIn(m, shift=UP * 0.2) for m in summary), lag_ratio=0.6),
                      run_time=0.6 * tr.duration)
        self.wait_for(tr)
