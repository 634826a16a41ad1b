"""L04.7 Real-world implications: an 80 GB H100 filled with Llama-2-7B's fp16 weights and then its KV cache (30
requests of 4096 tokens, not one of 131,072; an upper bound), the same card with a GQA-8 cache and an MLA-sized
latent (Lecture 9 preview); the cache one 131,072-token sequence takes in real models; the measured decode step
against context on the H200 beside its bandwidth floor; the prefill floor that makes the time to first token grow
faster than the prompt; and the three costs, one figure each.

Numbers: ``data.memory_fill()``, ``preset_caches()``, ``decode_vs_context()``, ``prefill_cost()`` and
``takeaways()``; this file holds layout and timing only.

    manim -pql scenes/l04_context/l04_implications.py RealWorldImplications
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, LaggedStart, RoundedRectangle, VGroup)

from scenes.kit.format import grouped, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CapacityBar, LineChart, ValueBars, fit_within, label
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.layout import scene_heading
from scenes.kit.mobjects.line_chart import source_lines
from scenes.kit.mobjects.text import paragraph
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l04_context import data

GB = 1e9                       # the card's unit (decimal gigabytes, as the datasheet counts)
BAR_W = 10.4                   # the memory bar's width
BAR_LEFT = SAFE.left + 0.1     # its left end
BAR_H = 0.55
SOLO_Y = 1.0                   # the first bar alone
ROWS_Y = (2.05, 0.05, -1.95)   # the three bars together
NOTE_Y = -1.2                  # the budget note under the first bar
CHART_W, CHART_H = 6.6, 3.5
CARD_W, CARD_H = 4.25, 5.6
WEIGHTS, KV, LONG = COLORS.WEIGHT, COLORS.K, COLORS.MASK


def heading(text: str):
    """The step's title at the top left, shrunk to the safe width if it is longer."""
    h = fit_within(scene_heading(text), SAFE.width, None)
    return h.move_to([SAFE.left + h.width / 2, SAFE.top - h.height / 2, 0])


def kilo(n: int) -> str:
    """A context length as a tick: 65536 -> "64K" (binary thousands, as the lecture names its lengths)."""
    return f"{grouped(n // 1024)}K"


class RealWorldImplications(LectureScene):
    """L04.7: the memory fill, real models' caches at 128K, decode vs context, prefill growth, three costs."""

    def construct(self):
        self.topic("L04.7", "Real-world implications")
        self.fill_step()
        self.layouts_step()
        self.presets_step()
        self.decode_step()
        self.prefill_step()
        self.takeaways_step()

    # ------------------------------------------------------------------------------------ one card, MHA
    def bar(self, fill, y: float) -> CapacityBar:
        m = self.m
        title = fill.label + (" · hypothetical" if fill.hypothetical else "")
        bar = CapacityBar(m.memory_bytes, width=BAR_W, height=BAR_H, title=title,
                          capacity_text=f"{grouped(m.memory_bytes / GB)} GB")
        bar.shift(RIGHT * (BAR_LEFT - bar.frame.get_left()[0]) + UP * (y - bar.frame.get_y()))
        return bar

    def fill_step(self):
        m = self.m = data.memory_fill()
        mha = m.bars[0]
        llama = next(p for p in data.preset_caches() if p.name == "Llama-2-7B")
        title = heading(f"Llama-2-7B on one {m.device}")
        bar = self.bar1 = self.bar(mha, SOLO_Y)
        with self.narrate(f"Now serve a model. Take Llama-2-7B on one H100 with "
                          f"{spoken(m.memory_bytes / GB, 0)} gigabytes of memory. Its weights in 16-bit floats "
                          f"take {spoken(m.weights_gb, 2)} gigabytes.") as t:
            self.play(FadeIn(title), FadeIn(bar), run_time=0.3 * t.duration)
            self.play(bar.add_segment("weights", m.weights_bytes, WEIGHTS, f"weights {shown(m.weights_gb, 2)} GB"),
                      run_time=0.3 * t.duration)
        long_bytes = mha.kv_bytes_per_token * m.long_request_tokens
        ghost = bar.ghost(long_bytes, f"one {grouped(m.long_request_tokens)}-token request: "
                                      f"{grouped(llama.cache_gib_128k)} GiB", color=LONG)
        with self.narrate(f"Everything else is for the KV cache, at {spoken(llama.kib_per_token, 0)} kibibytes per "
                          f"token. One request of {spoken(m.long_request_tokens, 0)} tokens needs "
                          f"{spoken(llama.cache_gib_128k, 0)} gibibytes, and that runs past the end of the card: "
                          "not one full-length request fits.") as t:
            ghost[1].align_to(ghost[0], RIGHT)            # under the part that runs past the card
            self.play(Create(ghost[0]), FadeIn(ghost[1]), run_time=0.4 * t.duration)
        self.wait_for(t)
        budget = label(f"at most {grouped(mha.budget_tokens)} cached tokens across the whole batch",
                       size=SIZES.BODY, color=KV)
        caveat = label(m.caveat, size=SIZES.LABEL, color=COLORS.MUTED)
        notes = VGroup(budget, caveat).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        fit_within(notes, SAFE.width, None)
        notes.move_to([0, NOTE_Y, 0]).set_x(SAFE.left + notes.width / 2)
        per_request = mha.kv_bytes_per_token * m.request_tokens
        with self.narrate(f"What does fit is at most {spoken(mha.budget_tokens, 0)} tokens in total, shared by the "
                          f"whole batch: {spoken(mha.requests_4k, 0)} requests of {spoken(m.request_tokens, 0)} "
                          "tokens. And that is an upper bound, before activations and the allocator.") as t:
            self.play(FadeOut(ghost), run_time=0.1 * t.duration)
            self.play(bar.add_segment("kv", mha.requests_4k * per_request, KV,
                                      f"{grouped(mha.requests_4k)} requests × {grouped(m.request_tokens)} tokens",
                                      count=mha.requests_4k), run_time=0.4 * t.duration)
            self.play(FadeIn(notes, shift=UP * 0.2), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.title, self.notes = title, notes

    # ------------------------------------------------------------------------------------ GQA-8 and MLA-sized
    def layouts_step(self):
        m = self.m
        self.play(FadeOut(self.notes), self.bar1.animate.shift(UP * (ROWS_Y[0] - SOLO_Y)), run_time=0.6)
        long_bytes = [b.kv_bytes_per_token * m.long_request_tokens for b in m.bars]
        bars = [self.bar1]
        for fill, y in zip(m.bars[1:], ROWS_Y[1:]):
            b = self.bar(fill, y)
            b.segment("weights", m.weights_bytes, WEIGHTS, "weights")
            bars.append(b)
        gqa, mla = m.bars[1], m.bars[2]
        with self.narrate(f"Now keep the same weights but shrink the cache. With grouped-query attention and "
                          f"eight KV heads, the cache is a quarter the size, so four times the tokens fit: "
                          f"{spoken(gqa.requests_4k, 0)} short requests, or {spoken(gqa.requests_128k, 0)} "
                          "full-length ones.") as t:
            self.play(FadeIn(bars[1]), run_time=0.25 * t.duration)
            self.play(bars[1].add_segment("kv", gqa.requests_128k * long_bytes[1], KV,
                                          f"{grouped(gqa.requests_128k)} × {grouped(m.long_request_tokens)} tokens",
                                          count=gqa.requests_128k), run_time=0.35 * t.duration)
        with self.narrate(f"A latent cache the size of DeepSeek-V2's, which Lecture 9 explains, fits "
                          f"{spoken(mla.requests_128k, 0)} of them.") as t:
            self.play(FadeIn(bars[2]), run_time=0.3 * t.duration)
            self.play(bars[2].add_segment("kv", mla.requests_128k * long_bytes[2], KV,
                                          f"{grouped(mla.requests_128k)} × {grouped(m.long_request_tokens)} tokens",
                                          count=mla.requests_128k), run_time=0.5 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(*bars, self.title)), run_time=0.6)

    # ------------------------------------------------------------------------------------ real models at 128K
    def presets_step(self):
        presets = data.preset_caches()
        m = self.m
        colors = [COLORS.V if p.attention == "MHA" else COLORS.SCORE if p.attention == "MLA" else KV for p in presets]
        bars = ValueBars([p.cache_gib_128k for p in presets], [p.name.replace(" ", "\n", 1) for p in presets],
                         decimals=1, sublabels=[p.attention for p in presets], colors=colors, max_height=3.6,
                         bar_width=0.8, spacing=0.7)
        fit_within(bars, SAFE.width - 0.4, 5.0)
        bars.move_to([0, -0.25, 0])
        title = heading(f"KV cache of one {grouped(m.long_request_tokens)}-token sequence, in GiB")
        src = source_lines("model shapes: each paper's table and the released config.json (attn_ref presets)",
                           SAFE.width)
        src.move_to([0, SAFE.bottom + src.height / 2, 0]).set_x(SAFE.left + src.width / 2)
        by = {p.name: p for p in presets}
        l70, l3, ds = by["Llama-2-70B"], by["Llama-3-8B"], by["DeepSeek-V2"]
        with self.narrate(f"Real models at full length: Llama-2-70B, with grouped queries, still needs "
                          f"{spoken(l70.cache_gib_128k, 0)} gibibytes for one sequence; Llama-3-8B needs "
                          f"{spoken(l3.cache_gib_128k, 0)}, and DeepSeek-V2, with its latent cache, "
                          f"{spoken(ds.cache_gib_128k, 1)}.") as t:
            self.play(FadeIn(title), FadeIn(src), FadeIn(bars.axis), FadeIn(bars.names), FadeIn(bars.sublabels),
                      run_time=0.2 * t.duration)
            self.play(LaggedStart(*(FadeIn(VGroup(b, v), shift=UP * 0.2) for b, v in zip(bars.bars, bars.values)),
                                  lag_ratio=0.3), run_time=0.6 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(bars, title, src)), run_time=0.6)

    # ------------------------------------------------------------------------------------ decode vs context
    def decode_step(self):
        dv = data.decode_vs_context()
        mha = next(s for s in dv.series if s.method == "MHA")
        idx = list(range(len(mha.contexts)))
        chart = LineChart([("measured (MHA)", idx, mha.time_ms), ("bandwidth floor", idx, mha.floor_ms)],
                          x_label="context length (tokens)", y_label="ms per decode step", width=CHART_W,
                          height=CHART_H, x_range=(0, len(idx) - 1, 1), y_range=(0.01, 10, 1), y_log=True,
                          colors=[COLORS.V, COLORS.WEIGHT], markers=True, source=dv.source)
        ticks = [label(kilo(n), size=SIZES.SMALL, color=COLORS.MUTED, mono=True).move_to(old)
                 for n, old in zip(mha.contexts, chart.x_ticks)]
        chart.x_ticks.submobjects = ticks             # the positions stay; the ticks name the lengths
        chart.move_to([SAFE.left + chart.width / 2 + 0.1, -0.35, 0])
        title = heading(f"Decode: one new token for each of {grouped(dv.batch)} requests")
        side_w = SAFE.right - chart.get_right()[0] - BUFF.LARGE
        lines = [f"at {grouped(mha.contexts[-1])} tokens:", f"{shown(mha.time_ms[-1], 2)} ms per step",
                 f"{shown(mha.share_of_peak[-1], 2)} of peak bandwidth",
                 f"log-log slope {shown(mha.slope, 2)}"]
        side = paragraph(lines, size=SIZES.LABEL, color=COLORS.TEXT)
        side[1].set_color(COLORS.V)
        note = paragraph(wrap("one layer's attention: 32 query heads × 128", side_w, SIZES.LABEL), size=SIZES.LABEL,
                         color=COLORS.MUTED)
        panel = VGroup(side, note).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.LARGE)
        fit_within(panel, side_w, None)
        panel.next_to(chart.axes, RIGHT, buff=BUFF.LARGE + 0.4).align_to(chart.axes, UP)
        with self.narrate(f"Memory also sets the speed. This is our benchmark on an H200: one layer's attention "
                          f"step for a batch of {spoken(dv.batch, 0)}, at contexts from "
                          f"{spoken(mha.contexts[0], 0)} to {spoken(mha.contexts[-1], 0)} tokens.") as t:
            self.play(FadeIn(title), FadeIn(chart.frame_parts()), run_time=0.3 * t.duration)
            self.play(chart.create_series(0), FadeIn(note), run_time=0.5 * t.duration)
        with self.narrate(f"Beside it, the floor: the bytes of the cache divided by the memory bandwidth. At "
                          f"{spoken(mha.contexts[-1], 0)} tokens the step takes {spoken(mha.time_ms[-1], 2)} "
                          f"milliseconds, {spoken(mha.share_of_peak[-1], 2)} of peak bandwidth. The time grows "
                          "in step with the context: decode is memory-bound.") as t:
            self.play(chart.create_series(1), run_time=0.3 * t.duration)
            self.play(FadeIn(side, shift=LEFT * 0.2), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(chart, title, panel)), run_time=0.6)

    # ------------------------------------------------------------------------------------ prefill
    def prefill_step(self):
        p = data.prefill_cost()
        names = [f"{kilo(a)}→{kilo(b)}" for a, b in zip(p.lengths, p.lengths[1:])]
        bars = ValueBars(p.growth_per_doubling, names, decimals=2, colors=COLORS.ACCENT, max_height=3.4,
                         bar_width=0.8, spacing=0.6, baseline="cut")
        fit_within(bars, SAFE.width - 2.6, 4.4)
        bars.move_to([-1.0, -0.1, 0])
        ref = bars.reference_line(2.0, "×2: linear")
        title = heading("Prefill: time to first token as the prompt doubles")
        floor = label(f"compute floor, {p.model} on an H100: {grouped(p.ttft_floor_ms[0])} ms at "
                      f"{grouped(p.lengths[0])} tokens, {grouped(p.ttft_floor_ms[-1])} ms at "
                      f"{grouped(p.lengths[-1])}", size=SIZES.LABEL, color=COLORS.MUTED)
        fit_within(floor, SAFE.width, None)
        floor.move_to([0, SAFE.bottom + floor.height / 2 + 0.1, 0])
        with self.narrate(f"The first token has its own cost. Each time the prompt doubles, the compute floor of "
                          f"the time to first token grows by {spoken(p.growth_per_doubling[0], 2)} at first, and "
                          f"by {spoken(p.growth_per_doubling[-1], 2)} for the last doubling: the attention term "
                          "grows with the square of the length.") as t:
            self.play(FadeIn(title), FadeIn(bars.axis), FadeIn(bars.names), FadeIn(ref), run_time=0.2 * t.duration)
            self.play(LaggedStart(*(FadeIn(VGroup(b, v), shift=UP * 0.2) for b, v in zip(bars.bars, bars.values)),
                                  lag_ratio=0.3), run_time=0.5 * t.duration)
            self.play(FadeIn(floor), run_time=0.15 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(bars, ref, title, floor)), run_time=0.6)

    # ------------------------------------------------------------------------------------ three costs
    def takeaways_step(self):
        tk = data.takeaways()
        p, mha = data.prefill_cost(), self.m.bars[0]
        colors = (COLORS.V, KV, COLORS.Q)
        cards = VGroup()
        for x, col in zip(tk, colors):
            box = RoundedRectangle(corner_radius=0.15, width=CARD_W, height=CARD_H).set_stroke(col, 2)
            box.set_fill(COLORS.PANEL, 1)
            name = label(x.cost, size=SIZES.HEADING, color=col)
            fig = paragraph(wrap(x.figure, CARD_W - 0.6, SIZES.LABEL), size=SIZES.LABEL, color=COLORS.TEXT)
            src = paragraph(wrap(x.source, CARD_W - 0.6, SIZES.SMALL), size=SIZES.SMALL, color=COLORS.MUTED)
            body = VGroup(name, fig, src).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.MEDIUM)
            fit_within(body, CARD_W - 0.5, CARD_H - 0.5)
            body.align_to(box, UP + LEFT).shift(DOWN * 0.25 + RIGHT * 0.25)
            cards.add(VGroup(box, body))
        cards.arrange(RIGHT, buff=BUFF.MEDIUM)
        fit_within(cards, SAFE.width, None)
        cards.move_to([0, -0.5, 0])
        title = heading("Long context has three costs")
        with self.narrate(f"So long context has three costs. Latency: the first token's floor grows "
                          f"{spoken(p.growth_per_doubling[-1], 2)} times over the last doubling. Memory: "
                          f"{spoken(mha.budget_tokens, 0)} cached tokens fill the card.") as t:
            self.play(FadeIn(title), FadeIn(cards[0], shift=UP * 0.2), run_time=0.35 * t.duration)
            self.play(FadeIn(cards[1], shift=UP * 0.2), run_time=0.3 * t.duration)
        with self.narrate("And reliability: models use facts best at the start or the end of the context, and "
                          "miss them in the middle; so put the key facts at the ends of your prompt.") as t:
            self.play(FadeIn(cards[2], shift=UP * 0.2), run_time=0.3 * t.duration)
        self.wait_for(t)
