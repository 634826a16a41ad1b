"""L04.4 Key metrics for long context: two families side by side (quality: does the model use its context?
systems: what does the context cost?); perplexity and the per-position loss (the registry's ``perplexity``) with
the lab's "loss by position" curve for plain RoPE, training length marked; the pitfall, measured: perplexity up
by a fraction of a percent at twice the training length while the same model's needle accuracy falls; RULER's
effective length (cited); the systems metrics, each with what measures it here and one reading; two pitfalls
computed (per-window vs per-token averaging, the label shift) and the BOS token inside a haystack.

Numbers: ``data.loss_by_position()``, ``flat_perplexity()``, ``effective_length()``, ``systems_metrics()``,
``averaging()``, ``label_shift()``, ``pitfalls()``; formula: ``perplexity``. This file holds layout and timing only.

    manim -pql scenes/l04_context/l04_metrics.py LongContextMetrics
"""
from __future__ import annotations

from manim import DOWN, LEFT, RIGHT, UP, Create, CurvedArrow, DashedLine, FadeIn, FadeOut, LaggedStart, VGroup

from scenes.kit.equations import equation
from scenes.kit.format import grouped, percent, shown, spoken, subscript
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import DataTable, LineChart, MetricCard, TokenRow, ValueBars, fit_within, label
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.line_chart import source_lines
from scenes.kit.references import HSIEH
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l04_context import data

QUALITY, SYSTEMS = COLORS.WEIGHT, COLORS.K
CARD_W = 6.5                      # each family card in the overview
EQ_Y, EQ_H = 2.45, 0.95           # the perplexity formula under the heading
CHART_W, CHART_H = 6.0, 2.7
CHART_X, CHART_TOP = -2.6, 1.4   # the loss chart (cards go to its right in the pitfall)
SIDE_W = 5.1                      # the right-hand column of cards, flush with the safe area
TABLE_Y = 0.75
EXAMPLE_Y = -2.35                 # the reading under the systems table
WINDOW_COLORS = (COLORS.head(0), COLORS.head(2), COLORS.head(4))
RoPE = COLORS.K


class LongContextMetrics(LectureScene):
    """L04.4: the two families, perplexity and its pitfall, RULER's effective length, systems metrics, pitfalls."""

    def construct(self):
        self.topic("L04.4", "Key metrics for long context")
        self.families()
        self.perplexity_step()
        self.flat_step()
        self.effective_step()
        self.systems_step()
        self.averaging_step()
        self.shift_step()

    # ------------------------------------------------------------------------------------ two families
    def families(self):
        sm = data.systems_metrics()
        title = self.title = heading("Two families of metrics")
        quality = MetricCard("quality: is the context used?",
                             ["perplexity, loss by position", "retrieval accuracy (needle)",
                              "effective length (RULER)"], color=QUALITY, width=CARD_W)
        systems = MetricCard("systems: what does it cost?", [m.name for m in sm.metrics], color=SYSTEMS,
                             width=CARD_W)
        pair = MetricCard.pair(quality, systems, buff=BUFF.MEDIUM)
        fit_within(pair, SAFE.width, SAFE.height - 1.4)
        pair.move_to([0, -0.3, 0])
        with self.narrate("How do we tell whether a model really handles a long context? Two families of metrics "
                          "answer two different questions.") as t:
            self.play(FadeIn(title), run_time=0.3 * t.duration)
        with self.narrate("Quality metrics ask whether the model uses what is in its context.") as t:
            self.play(FadeIn(quality.frame), FadeIn(quality.title), run_time=0.3 * t.duration)
            self.play(LaggedStart(*(FadeIn(r, shift=RIGHT * 0.2) for r in quality.rows), lag_ratio=0.4),
                      run_time=0.6 * t.duration)
        with self.narrate("Systems metrics ask what that context costs, in time and in memory.") as t:
            self.play(FadeIn(systems.frame), FadeIn(systems.title), run_time=0.3 * t.duration)
            self.play(LaggedStart(*(FadeIn(r, shift=RIGHT * 0.2) for r in systems.rows), lag_ratio=0.3),
                      run_time=0.6 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(pair, title)), run_time=0.6)

    # ------------------------------------------------------------------------------------ perplexity, by position
    def perplexity_step(self):
        lb = self.lb = data.loss_by_position()
        rope = next(s for s in lb.schemes if s.scheme == "rope")
        title = self.title = heading("Quality: perplexity and loss by position")
        eq = self.eq = equation("perplexity")
        fit_within(eq, SAFE.width, EQ_H)
        eq.move_to([0, EQ_Y, 0])
        pts = [(i, v) for i, v in enumerate(rope.loss_by_position) if v is not None]
        chart = self.chart = LineChart(
            [("plain RoPE, our tiny model", [p for p, _ in pts], [v for _, v in pts])],
            x_label="position t", y_label="loss (nats)", width=CHART_W, height=CHART_H,
            x_range=(0, lb.loss_length, lb.train_length), y_log=True, colors=[RoPE], stroke_width=3,
            legend=False)
        chart.move_to([CHART_X, CHART_TOP - chart.height / 2, 0])
        src = self.src = source_lines(lb.source, SAFE.width)
        src.move_to([SAFE.left + src.width / 2, SAFE.bottom + src.height / 2, 0])
        name = label("RoPE, our tiny model", size=SIZES.LABEL, color=RoPE)
        name.move_to(chart.point(chart.x_hi, 3.0), aligned_edge=RIGHT)   # top right, above the curve there
        chart.add(name)
        mark = self.mark = chart.mark_x(lb.train_length, color=COLORS.MUTED)
        mark.add(label("training length", size=SIZES.LABEL, color=COLORS.MUTED).next_to(mark[0], UP,
                                                                                        buff=BUFF.TIGHT))
        with self.narrate("Start with quality. Perplexity is the exponential of the average negative "
                          "log-likelihood per token. Split that average by position instead, and you get the loss "
                          "at each position t, averaged over documents.") as t:
            self.play(FadeIn(title), run_time=0.1 * t.duration)
            self.play(FadeIn(eq, shift=DOWN * 0.2), run_time=0.3 * t.duration)
        with self.narrate(f"Here it is for one of our tiny models with rotary embeddings, trained on "
                          f"{spoken(lb.train_length, 0)} tokens and read {spoken(lb.loss_length, 0)} tokens at a "
                          f"time, in one forward pass, with no sliding window, averaged over "
                          f"{spoken(lb.n_documents, 0)} documents.") as t:
            self.play(FadeIn(chart.frame_parts()), FadeIn(mark), FadeIn(src), run_time=0.3 * t.duration)
            self.play(chart.create_series(0), FadeIn(name), run_time=0.6 * t.duration)
        self.wait_for(t)

    # ------------------------------------------------------------------------------------ the flat-perplexity pitfall
    def flat_step(self):
        f, lb, chart = data.flat_perplexity(), self.lb, self.chart
        n, s0 = lb.train_length, lb.scored_from
        at1, at2, at4 = lb.lengths
        ppl = MetricCard("perplexity", [(f"inside, {grouped(s0)}–{grouped(n - 1)}", shown(f.ppl_inside, 3)),
                                        (f"beyond, {grouped(n)}–{grouped(at2 - 1)}", shown(f.ppl_2x, 3))],
                         note=f"+{shown(percent(f.ppl_change), 2)} %", color=RoPE, width=SIDE_W)
        acc = MetricCard("needle accuracy", [(f"at {grouped(at1)}", shown(f.accuracy_inside, 2)),
                                             (f"at {grouped(at2)}", shown(f.accuracy_2x, 2)),
                                             (f"at {grouped(at4)}", shown(f.accuracy_4x, 3))],
                         color=COLORS.ACCENT, width=SIDE_W)
        side = VGroup(ppl, acc).arrange(DOWN, buff=BUFF.MEDIUM)
        top, bottom = SAFE.top - 0.75, self.src.get_top()[1] + BUFF.MEDIUM      # below the heading, above the source
        fit_within(side, SIDE_W, top - bottom)
        side.move_to([SAFE.right - side.width / 2, (top + bottom) / 2, 0])
        with self.narrate(f"Now the pitfall. Inside the training length, this model's perplexity is "
                          f"{spoken(f.ppl_inside, 3)}. At twice the training length it is {spoken(f.ppl_2x, 3)}: "
                          f"up by only {spoken(percent(f.ppl_change), 2)} percent.") as t:
            self.play(FadeOut(self.eq), run_time=0.1 * t.duration)
            self.play(FadeIn(ppl.frame), FadeIn(ppl.title), FadeIn(ppl.rows[0]), run_time=0.25 * t.duration)
            self.play(FadeIn(ppl.rows[1]), Create(ppl.rule), FadeIn(ppl.note), run_time=0.25 * t.duration)
        box = acc.highlight_row(1)
        with self.narrate(f"Yet the same model's needle accuracy falls from {spoken(f.accuracy_inside, 2)} to "
                          f"{spoken(f.accuracy_2x, 2)}, and to {spoken(f.accuracy_4x, 3)} at four times.") as t:
            self.play(FadeIn(acc.frame), FadeIn(acc.title), FadeIn(acc.rows[0]), run_time=0.2 * t.duration)
            self.play(FadeIn(acc.rows[1]), Create(box), run_time=0.3 * t.duration)
            self.play(FadeIn(acc.rows[2]), run_time=0.2 * t.duration)
        with self.narrate("Filler text can be predicted from the last few tokens; a needle cannot. And a "
                          "sliding-window perplexity is worse still: it never asks the model to look beyond its "
                          "window, so long-range failure stays invisible.") as t:
            self.play(box.animate.move_to(acc.highlight_row(2)), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(chart, self.mark, self.src, side, box, self.title)), run_time=0.6)

    # ------------------------------------------------------------------------------------ RULER, cited
    def effective_step(self):
        e = data.effective_length()
        title = heading("Quality: effective length")
        card = MetricCard("RULER's effective length", [
            e.definition,
            (f"threshold: {e.threshold_model} at {grouped(e.threshold_length)} tokens", shown(e.threshold, 1))],
            citation=HSIEH)
        fit_within(card, SAFE.width, None)
        card.move_to([0, 0.6, 0])
        claim = label("claimed context ≠ effective context", size=SIZES.BODY, color=COLORS.ACCENT)
        claim.next_to(card, DOWN, buff=BUFF.LARGE)
        with self.narrate("So long-context benchmarks test retrieval and reasoning directly. RULER turns its "
                          "tasks into one number, the effective length: the longest length at which a model's "
                          f"average score stays above a threshold, {e.threshold_model}'s score at "
                          f"{spoken(e.threshold_length, 0)} tokens, {spoken(e.threshold, 1)}.") as t:
            self.play(FadeIn(title), FadeIn(card.frame), FadeIn(card.tag), FadeIn(card.title),
                      run_time=0.2 * t.duration)
            self.play(FadeIn(card.rows[0]), FadeIn(card.citation), run_time=0.3 * t.duration)
            self.play(FadeIn(card.rows[1], shift=UP * 0.2), run_time=0.2 * t.duration)
        with self.narrate("The context length a model claims is what it accepts. The effective length is what it "
                          "can use.") as t:
            self.play(FadeIn(claim, shift=UP * 0.2), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, card, claim)), run_time=0.6)

    # ------------------------------------------------------------------------------------ systems
    def systems_step(self):
        sm = data.systems_metrics()
        title = heading("Systems: what the context costs")
        table = DataTable(["metric", "measured here by"], [[m.name, m.measured_by] for m in sm.metrics],
                          align="ll", font_size=SIZES.LABEL, row_height=0.68)
        fit_within(table, SAFE.width, 4.0)
        table.move_to([0, TABLE_Y, 0])
        src = source_lines(sm.source, SAFE.width)
        src.move_to([SAFE.left + src.width / 2, SAFE.bottom + src.height / 2, 0])

        def reading(k):
            text = label(sm.metrics[k].example, size=SIZES.LABEL, color=SYSTEMS)
            fit_within(text, SAFE.width, None)
            return text.move_to([0, EXAMPLE_Y, 0])

        ex = [reading(0)]

        def show(k):
            new = reading(k)
            out = (FadeOut(ex[0], shift=UP * 0.15), FadeIn(new, shift=UP * 0.15))
            ex[0] = new
            return out
        box = table.highlight_row(0, color=SYSTEMS)
        with self.narrate("Now the systems family. Time to first token is the latency of prefill, the whole "
                          "prompt at once; our prefill suite times its attention part.") as t:
            self.play(FadeIn(title), FadeIn(table.header), Create(table.rule), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(FadeIn(r, shift=RIGHT * 0.2) for r in table.rows), lag_ratio=0.3),
                      run_time=0.35 * t.duration)
            self.play(Create(box), FadeIn(ex[0]), FadeIn(src), run_time=0.2 * t.duration)
        with self.narrate("Time per output token is one decode step over the cache.") as t:
            self.play(box.animate.move_to(table.highlight_row(1)), *show(1),
                      run_time=0.3 * t.duration)
        with self.narrate("Throughput is the tokens per second over the whole batch: the same decode suite "
                          "measures both.") as t:
            self.play(box.animate.move_to(table.highlight_row(2)), *show(2),
                      run_time=0.3 * t.duration)
        with self.narrate("The cache's bytes per token, and the largest batch that fits at a given context, are "
                          "arithmetic on the model's shape and the memory left after its weights.") as t:
            self.play(box.animate.move_to(table.highlight_row(3)), *show(3),
                      run_time=0.25 * t.duration)
            self.wait(0.2 * t.duration)
            self.play(box.animate.move_to(table.highlight_row(4)), *show(4),
                      run_time=0.25 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, table, box, ex[0], src)), run_time=0.6)

    # ------------------------------------------------------------------------------------ averaging
    def averaging_step(self):
        a = data.averaging()
        title = self.title = heading("Pitfalls, computed")
        colors = [c for w, c in zip(a.windows, WINDOW_COLORS) for _ in range(w)]
        bars = ValueBars(a.nll, [str(k + 1) for k in range(len(a.nll))], decimals=2, colors=colors,
                         max_height=2.2, bar_width=0.55, spacing=0.35)
        fit_within(bars, SAFE.width - 1.0, None)
        bars.move_to([0, 0.55, 0])
        means, start = VGroup(), 0
        for w, m in zip(a.windows, a.window_means):
            lo, hi = bars.bars[start].get_left()[0], bars.bars[start + w - 1].get_right()[0]
            means.add(DashedLine([lo, bars.level(m), 0], [hi, bars.level(m), 0], dash_length=0.1)
                      .set_stroke(COLORS.TEXT, 4))
            start += w
        caption = label("token loss (nats), scored in windows of " + ", ".join(grouped(w) for w in a.windows),
                        size=SIZES.LABEL, color=COLORS.MUTED)
        caption.next_to(bars, UP, buff=BUFF.MEDIUM)
        per_window = label(f"mean of window means:  perplexity {shown(a.ppl_per_window, 2)}", size=SIZES.BODY,
                           color=COLORS.V)
        per_token = label(f"mean over tokens:  perplexity {shown(a.ppl_per_token, 2)}", size=SIZES.BODY,
                          color=COLORS.WEIGHT)
        results = VGroup(per_window, per_token).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.MEDIUM)
        results.next_to(bars, DOWN, buff=BUFF.LARGE)
        self.play(FadeIn(title), run_time=0.4)
        ws = [spoken(w, 0) for w in a.windows]
        with self.narrate(f"Two more pitfalls are plain arithmetic. Here are {spoken(len(a.nll), 0)} token losses, "
                          f"scored in windows of {ws[0]}, {ws[1]} and {ws[2]}.") as t:
            self.play(FadeIn(caption), FadeIn(bars.axis), FadeIn(bars.names), run_time=0.2 * t.duration)
            self.play(LaggedStart(*(FadeIn(VGroup(b, v), shift=UP * 0.2) for b, v in zip(bars.bars, bars.values)),
                                  lag_ratio=0.15), run_time=0.6 * t.duration)
        with self.narrate(f"Average the window means, and the short last window counts as much as a full one: "
                          f"perplexity {spoken(a.ppl_per_window, 2)}.") as t:
            self.play(LaggedStart(*(Create(m) for m in means), lag_ratio=0.4), run_time=0.4 * t.duration)
            self.play(FadeIn(per_window, shift=UP * 0.2), run_time=0.3 * t.duration)
        with self.narrate(f"Average over tokens, as the definition says, and it is {spoken(a.ppl_per_token, 2)}."
                          ) as t:
            self.play(FadeIn(per_token, shift=UP * 0.2), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(caption, bars, means, results)), run_time=0.6)

    # ------------------------------------------------------------------------------------ label shift, BOS
    def shift_step(self):
        ls, pf = data.label_shift(), data.pitfalls()
        row = TokenRow([subscript("x", k + 1) for k in range(ls.trg_len)], role="Q", min_width=0.8, buff=0.35)
        row.move_to([0, 1.5, 0])
        arrows = VGroup(*(CurvedArrow(row.boxes[k].get_top() + UP * 0.05, row.boxes[k + 1].get_top() + UP * 0.05,
                                      angle=-1.2, color=COLORS.WEIGHT, stroke_width=3, tip_length=0.15)
                          for k in range(ls.valid_predictions)))
        first = row.highlight(0, color=COLORS.MUTED)
        note = label(f"a window of {grouped(ls.trg_len)} tokens:  {grouped(ls.valid_predictions)} predictions",
                     size=SIZES.BODY, color=COLORS.WEIGHT)
        note.next_to(row, DOWN, buff=BUFF.LARGE)
        bos = pf[-1]
        card = MetricCard(bos.name, wrap(bos.what_goes_wrong, SAFE.width - 1.0, SIZES.LABEL),
                          note=bos.shown_by, note_color=COLORS.MUTED, color=COLORS.MASK, row_height=0.45)
        fit_within(card, SAFE.width, None)
        card.next_to(note, DOWN, buff=BUFF.MEDIUM)
        with self.narrate(f"And a window of {spoken(ls.trg_len, 0)} tokens gives only "
                          f"{spoken(ls.valid_predictions, 0)} predictions: the first token has no prefix to be "
                          "predicted from.") as t:
            self.play(FadeIn(row), run_time=0.2 * t.duration)
            self.play(LaggedStart(*(Create(a) for a in arrows), lag_ratio=0.3), Create(first),
                      run_time=0.5 * t.duration)
            self.play(FadeIn(note, shift=UP * 0.2), run_time=0.2 * t.duration)
        with self.narrate(f"Weight each window's mean loss by {spoken(ls.trg_len, 0)}, and you count a token that "
                          "was never scored.") as t:
            self.play(first.animate.set_stroke(COLORS.V, 4), run_time=0.3 * t.duration)
        with self.narrate("Last, a haystack built by tokenising its pieces separately can hide a beginning of "
                          "sequence token in the middle: an attention sink the model never saw there in "
                          "training.") as t:
            self.play(FadeIn(card, shift=UP * 0.2), run_time=0.3 * t.duration)
        self.wait_for(t)
