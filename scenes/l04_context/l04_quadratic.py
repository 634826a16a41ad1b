"""L04.1 Quadratic scaling problem: the causal score grid for n = 8 … 128 (cells shrinking, then a filled area)
with a counter of the scores b·h·n² and their fp16 bytes per layer, beside the layer's keys and values as a
token strip that grows linearly; the counter run on to 128K tokens; then the FLOPs per token of one
Llama-2-7B-shaped layer as stacked bars (dense 2·P_layer under attention 4·n·d, causal 2·n·d) with the
crossover n* and the 12d² rule n* = 6d; what "quadratic" means, and what FlashAttention removes.

    manim -pql scenes/l04_context/l04_quadratic.py QuadraticScaling

Numbers: ``data.score_grids()``, ``data.score_counter()``, ``data.flops_per_token()``; formulas:
``score_bytes``, ``attention_flops_causal``, ``attention_mlp_crossover``. This file holds layout and timing only.
"""
from __future__ import annotations

import math

from manim import (DOWN, LEFT, UP, Create, FadeIn, FadeOut, Indicate, LaggedStart, Polygon, Rectangle,
                   ReplacementTransform, RoundedRectangle, Square, Transform, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import grouped, percent, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import DataTable, StackedBars, fit_within, label
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l04_context import data

EQ_Y, EQ_H = 2.45, 0.8            # the formula strip under the heading
GRID_SIDE = 3.6                   # the score grid keeps its size: its cells shrink as n doubles
GRID_X, GRID_Y = -4.1, -0.6
CELL_LIMIT = 32                   # up to this n the grid is drawn cell by cell, past it as a filled area
PANEL_X = 0.0                     # left edge of the counter panel
PANEL_TOP = 1.45
VALUE_X = SAFE.right              # right edge of the counter values
STRIP_Y = -2.55                   # the token strip (keys and values, one column per token)
STRIP_W = SAFE.right - PANEL_X    # its width at the largest drawn n
STRIP_H = 0.45
KEPT, MASKED, KV = COLORS.SCORE, COLORS.MASK, COLORS.K
CHART_W, CHART_H = 10.2, 3.6
CHART_X, CHART_Y = 0.55, -2.45    # centre x of the plot, y of its baseline
DENSE, ATTN = COLORS.K, COLORS.SCORE
MARKER_TOP = 0.62                 # crossover markers stop at this fraction of the value axis (under the legend)
CARD_HEAD = 2.2                   # room for a card's name at its left
GIGA = 10 ** 9                    # FLOPs shown in GFLOP
BYTE_UNITS = ((2 ** 40, "TiB", "tebibytes"), (2 ** 30, "GiB", "gibibytes"), (2 ** 20, "MiB", "mebibytes"),
              (2 ** 10, "KiB", "kibibytes"))


def in_units(nbytes: int) -> tuple[float, str, str]:
    """(value, screen unit, spoken unit) in the largest binary unit that keeps the value ≥ 1."""
    for size, unit, words in BYTE_UNITS:
        if nbytes >= size:
            return nbytes / size, unit, words
    return float(nbytes), "B", "bytes"


def bytes_shown(nbytes: int) -> str:
    v, unit, _ = in_units(nbytes)
    return f"{grouped(v)} {unit}"


def bytes_spoken(nbytes: int) -> str:
    v, _, words = in_units(nbytes)
    return f"{spoken(v, 0)} {words}"


def kilo(n: int) -> str:
    """A context length as the chart names it: 512, 1K, … 128K."""
    return f"{grouped(n // 1024)}K" if n >= 1024 else grouped(n)


def formula(name: str, y: float = EQ_Y, height: float = EQ_H):
    eq = equation(name)
    fit_within(eq, SAFE.width, height)
    return eq.move_to([0, y, 0])


def score_grid(n: int) -> VGroup:
    """The causal n × n grid at a fixed size: kept cells (j ≤ i) in the score colour, masked ones dimmed;
    cell by cell up to ``CELL_LIMIT``, past it the same staircase as two filled areas."""
    s, x0, y0 = GRID_SIDE / n, GRID_X - GRID_SIDE / 2, GRID_Y + GRID_SIDE / 2
    if n <= CELL_LIMIT:
        cells = VGroup()
        for i in range(n):
            for j in range(n):
                sq = Square(side_length=s, stroke_color=COLORS.BACKGROUND, stroke_width=max(0.5, 4 * s))
                sq.set_fill(KEPT if j <= i else MASKED, opacity=0.85 if j <= i else 0.35)
                cells.add(sq.move_to([x0 + (j + 0.5) * s, y0 - (i + 0.5) * s, 0]))
        return cells
    stairs = [[x0, y0, 0]]
    for i in range(n):      # right edge of row i's kept cells is column i + 1
        stairs += [[x0 + (i + 1) * s, y0 - i * s, 0], [x0 + (i + 1) * s, y0 - (i + 1) * s, 0]]
    stairs.append([x0, y0 - GRID_SIDE, 0])
    kept = Polygon(*stairs, stroke_width=0).set_fill(KEPT, 0.85)
    masked = Polygon(*stairs[:-1], [x0 + GRID_SIDE, y0, 0], stroke_width=0).set_fill(MASKED, 0.35)
    return VGroup(masked, kept)


def token_strip(n: int, n_max: int) -> VGroup:
    """Keys and values of the layer: one column per token, at a fixed width per token (linear in n)."""
    w = STRIP_W / n_max
    cols = VGroup(*(Rectangle(width=w, height=STRIP_H, stroke_color=COLORS.BACKGROUND, stroke_width=1)
                    .set_fill(KV, 0.85).move_to([PANEL_X + (k + 0.5) * w, STRIP_Y, 0]) for k in range(n)))
    return cols


class QuadraticScaling(LectureScene):
    """L04.1: the score grid against the token strip, the counter to 128K, FLOPs per token, what is quadratic."""

    def construct(self):
        self.topic("L04.1", "Quadratic scaling problem")
        self.grid_step()
        self.growth_step()
        self.long_context_step()
        self.flops_step()
        self.crossover_step()
        self.meaning_step()

    # ------------------------------------------------------------------------------------ the grid at n = 8
    def grid_step(self):
        g, c = data.score_grids(), data.score_counter()
        row, crow = g.rows[0], c.rows[0]
        self.n_max = g.rows[-1].n
        title = heading("Scores grow like n², keys and values like n")
        eq = formula("score_bytes")
        grid = score_grid(row.n)
        caption = self.grid_caption(row)
        with self.narrate("Every attention layer scores each query against each key. With n tokens that is an n "
                          "by n grid. A causal mask sets the upper half to minus infinity, but a plain "
                          "implementation still stores every cell.") as t:
            self.play(FadeIn(title), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(FadeIn(sq) for sq in grid), lag_ratio=0.02), FadeIn(caption),
                      run_time=0.5 * t.duration)
        self.wait_for(t)
        panel = self.counter_panel(c, crow)
        strip = token_strip(crow.n, self.n_max)
        strip_tag = label("K and V: one column per token", size=SIZES.LABEL, color=KV)
        strip_tag.next_to([PANEL_X, STRIP_Y + STRIP_H / 2, 0], UP, buff=BUFF.SMALL, aligned_edge=LEFT)
        with self.narrate(f"Here n is {spoken(row.n, 0)}. For one sequence and {spoken(c.n_heads, 0)} heads, one "
                          f"layer holds {spoken(crow.score_elements, 0)} scores: "
                          f"{bytes_spoken(crow.score_bytes)} in half precision.") as t:
            self.play(FadeIn(eq), run_time=0.25 * t.duration)
            self.play(FadeIn(panel.header), FadeIn(panel.rows[:2]), run_time=0.4 * t.duration)
        self.wait_for(t)
        with self.narrate(f"Beside it, the keys and values this layer keeps for the same tokens: "
                          f"{bytes_spoken(crow.kv_bytes)}, one column per token.") as t:
            self.play(FadeIn(strip_tag), LaggedStart(*(FadeIn(r) for r in strip), lag_ratio=0.1),
                      FadeIn(panel.rows[2]), run_time=0.5 * t.duration)
        self.wait_for(t)
        self.title, self.eq, self.grid, self.caption = title, eq, grid, caption
        self.panel, self.strip, self.strip_tag = panel, strip, strip_tag

    def grid_caption(self, row) -> VGroup:
        """n above the grid, its cells and the kept ones under it."""
        n = label(f"n = {grouped(row.n)}", size=SIZES.BODY, color=COLORS.TEXT)
        n.next_to([GRID_X, GRID_Y + GRID_SIDE / 2, 0], UP, buff=BUFF.SMALL)
        counts = label(f"{grouped(row.cells)} cells, {grouped(row.kept)} kept", size=SIZES.LABEL, color=KEPT)
        counts.next_to([GRID_X, GRID_Y - GRID_SIDE / 2, 0], DOWN, buff=BUFF.SMALL)
        return VGroup(n, counts)

    def counter_panel(self, c, row) -> VGroup:
        header = label(f"per layer, b = {grouped(c.batch)}, h = {grouped(c.n_heads)}, fp16", size=SIZES.LABEL,
                       color=COLORS.MUTED)
        header.move_to([PANEL_X + header.width / 2, PANEL_TOP, 0])
        names = ("scores b·h·n²", "S in bytes", "K and V in bytes")
        colors = (KEPT, KEPT, KV)
        rows = VGroup()
        for k, (name, col) in enumerate(zip(names, colors)):
            y = PANEL_TOP - 0.65 * (k + 1)
            tag = label(name, size=SIZES.BODY, color=col)
            rows.add(VGroup(tag.move_to([PANEL_X + tag.width / 2, y, 0]), self.counter_value(k, row, y)))
        panel = VGroup(header, rows)
        panel.header, panel.rows = header, rows
        return panel

    def counter_value(self, k: int, row, y: float):
        text = (grouped(row.score_elements), bytes_shown(row.score_bytes), bytes_shown(row.kv_bytes))[k]
        v = label(text, size=SIZES.BODY, color=COLORS.TEXT, mono=True)
        return v.move_to([VALUE_X - v.width / 2, y, 0])

    # ------------------------------------------------------------------------------------ doubling n
    def growth_step(self):
        g, c = data.score_grids(), data.score_counter()
        by = {r.n: r for r in c.rows}
        with self.narrate("Now double the context, and double it again. Each time, the strip of keys and values "
                          "grows by two. The grid grows by four.") as t:
            per = 0.9 * t.duration / (len(g.rows) - 1)
            for row in g.rows[1:]:
                self.grow_to(row, by[row.n], per)
        self.wait_for(t)
        last = by[g.rows[-1].n]
        with self.narrate(f"At {spoken(last.n, 0)} tokens the scores take {bytes_spoken(last.score_bytes)}, the "
                          f"keys and values {bytes_spoken(last.kv_bytes)}. The two are equal at "
                          f"{spoken(c.kv_equals_scores_at, 0)} tokens, twice the head dimension of "
                          f"{spoken(c.head_dim, 0)}; past that the grid wins, and keeps winning.") as t:
            self.play(Indicate(self.panel.rows[1][1], color=KEPT), run_time=0.3 * t.duration)
            self.play(Indicate(self.panel.rows[2][1], color=KV), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(self.grid, self.caption, self.panel, self.strip, self.strip_tag)), run_time=0.6)

    def grow_to(self, row, crow, run_time: float) -> None:
        grid, caption = score_grid(row.n), self.grid_caption(row)
        strip = token_strip(row.n, self.n_max)
        values = [self.counter_value(k, crow, r[1].get_y()) for k, r in enumerate(self.panel.rows)]
        self.play(ReplacementTransform(self.grid, grid), ReplacementTransform(self.caption, caption),
                  ReplacementTransform(self.strip, strip),
                  *(Transform(r[1], v) for r, v in zip(self.panel.rows, values)), run_time=run_time)
        self.grid, self.caption, self.strip = grid, caption, strip

    # ------------------------------------------------------------------------------------ the counter to 128K
    def long_context_step(self):
        c = data.score_counter()
        long = [r for r in c.rows if r.n > data.score_grids().rows[-1].n]
        table = DataTable(["n", "scores b·h·n²", "S in bytes", "K and V in bytes"],
                          [[grouped(r.n), shown(r.score_elements, sci=2), bytes_shown(r.score_bytes),
                            bytes_shown(r.kv_bytes)] for r in long],
                          column_colors=[COLORS.TEXT, KEPT, KEPT, KV], row_height=0.55)
        fit_within(table, SAFE.width, 4.2)
        table.move_to([0, -0.75, 0])
        k16 = next(i for i, r in enumerate(long) if r.score_bytes / 2 ** 30 == c.gib_at_16k)
        r16, top = long[k16], long[-1]
        with self.narrate("Run the counter on to the lengths people actually use.") as t:
            self.play(FadeIn(table.header), FadeIn(table.rule),
                      LaggedStart(*(FadeIn(r) for r in table.rows), lag_ratio=0.25), run_time=0.9 * t.duration)
        box = table.highlight_row(k16)
        with self.narrate(f"At {spoken(r16.n, 0)} tokens, one score tensor is {bytes_spoken(r16.score_bytes)} "
                          f"per layer, against {bytes_spoken(r16.kv_bytes)} of keys and values.") as t:
            self.play(Create(box), run_time=0.3 * t.duration)
        self.wait_for(t)
        box2 = table.highlight_row(len(long) - 1)
        with self.narrate(f"At {spoken(top.n, 0)} it is {bytes_spoken(top.score_bytes)}, more than any single "
                          "GPU holds, for one layer. And the softmax writes a second tensor of the same size, the "
                          "weights P.") as t:
            self.play(ReplacementTransform(box, box2), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(table, box2, self.eq, self.title)), run_time=0.6)

    # ------------------------------------------------------------------------------------ FLOPs per token
    def flops_step(self):
        f = data.flops_per_token()
        self.f = f
        title = heading("FLOPs per token per layer vs context length")
        eq = formula("attention_flops_causal", height=0.95)
        self.bars = self.flops_chart(f, causal=False)
        with self.narrate(f"Memory is one cost, arithmetic the other. Take one layer shaped like Llama-2-7B, "
                          f"with d equal to {spoken(f.d_model, 0)}. Per token, its projections and its MLP "
                          f"cost two FLOPs per weight, about {spoken(f.rows[0].dense, rough=True)} FLOPs, "
                          "whatever the context.") as t:
            self.play(FadeIn(title), FadeIn(self.bars.frame), run_time=0.3 * t.duration)
            self.play(self.bars.grow_series(0), FadeIn(self.bars.legend[0]), run_time=0.5 * t.duration)
        self.wait_for(t)
        with self.narrate("Attention adds four times n times d per token: each query meets n keys, and its "
                          "weights meet n values. Per token that grows linearly; summed over all n tokens, "
                          "it is the quadratic term.") as t:
            self.play(FadeIn(eq), run_time=0.3 * t.duration)
            self.play(self.bars.grow_series(1), FadeIn(self.bars.legend[1]), run_time=0.5 * t.duration)
        self.wait_for(t)
        k4 = next(i for i, r in enumerate(f.rows) if r.n == data.MODEL.context)
        box = self.bars.highlight(k4)
        r4 = f.rows[k4]
        share = label(f"attention {grouped(percent(r4.attention_share))} %", size=SIZES.LABEL, color=COLORS.ACCENT)
        share.next_to(box, UP, buff=BUFF.SMALL)
        with self.narrate(f"At {spoken(r4.n, 0)} tokens, attention is only {spoken(percent(r4.attention_share), 0)} "
                          "percent of this layer's FLOPs. At a few thousand tokens, the MLP still "
                          "dominates.") as t:
            self.play(Create(box), FadeIn(share), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(box, share, eq)), run_time=0.5)
        self.title = title

    def flops_chart(self, f, causal: bool) -> StackedBars:
        attn = [(r.attention_causal if causal else r.attention) / GIGA for r in f.rows]
        top = math.ceil(max(r.dense + r.attention for r in f.rows) / GIGA * 2) / 2
        ticks = [i / 2 for i in range(int(2 * top) + 1)]
        name = "attention 2·n·d (causal)" if causal else "attention 4·n·d"
        bars = StackedBars([("dense 2·P_layer (projections + MLP)", [r.dense / GIGA for r in f.rows]),
                            (name, attn)], [kilo(r.n) for r in f.rows], value_range=(0, top, 0.5),
                           tick_strings=[shown(t, 1) for t in ticks], colors=[DENSE, ATTN],
                           value_label="GFLOP per token", category_label="context length n",
                           width=CHART_W, height=CHART_H, legend="inside")
        bars.shift([CHART_X - bars.slot_x((len(f.rows) - 1) / 2), CHART_Y - bars.level(0), 0])
        return bars

    # ------------------------------------------------------------------------------------ the crossover
    def crossover_step(self):
        f, bars = self.f, self.bars
        eq = formula("attention_mlp_crossover")
        dense = f.rows[0].dense / GIGA
        line = bars.reference_line(2 * dense, "attention = dense")
        first = f.rows[0].n
        mark = bars.marker(math.log2(f.crossover / first), f"n* = {grouped(f.crossover)}",
                           top=MARKER_TOP * bars.top)
        with self.narrate(f"The two are equal where two P layer equals four n d: at {spoken(f.crossover, 0)} "
                          "tokens, where each bar reaches twice the dense part.") as t:
            self.play(FadeIn(eq), run_time=0.3 * t.duration)
            self.play(Create(line[0]), FadeIn(line[1]), Create(mark[0]), FadeIn(mark[1]), run_time=0.5 * t.duration)
        self.wait_for(t)
        causal = self.flops_chart(f, causal=True)
        mark_c = bars.marker(math.log2(f.crossover_causal / first), f"causal {grouped(f.crossover_causal)}",
                             top=MARKER_TOP * bars.top)
        with self.narrate("With a causal mask, each query sees half the keys on average, so attention costs half "
                          f"as much and the crossover moves to {spoken(f.crossover_causal, 0)}.") as t:
            self.play(Transform(bars.bars, causal.bars), Transform(bars.legend[1], causal.legend[1]),
                      FadeOut(mark), run_time=0.5 * t.duration)
            self.play(Create(mark_c[0]), FadeIn(mark_c[1]), run_time=0.3 * t.duration)
        self.wait_for(t)
        with self.narrate(f"For a GPT-style layer with twelve d squared weights, the rule is short: n star is six "
                          f"d. GPT-2 small, with d of {spoken(f.gpt_rule_d, 0)}, crosses at "
                          f"{spoken(f.gpt_rule_crossover, 0)} tokens.") as t:
            self.play(Indicate(eq, color=COLORS.ACCENT, scale_factor=1.05), run_time=0.4 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(bars, line, mark_c, eq, self.title)), run_time=0.6)

    # ------------------------------------------------------------------------------------ what is quadratic
    def meaning_step(self):
        title = heading("What exactly is quadratic")
        cards = VGroup(
            self.card("FLOPs", ("attention 4·n·d per token, n² per sequence;", "the MLP dominates up to n*"),
                      "still there with FlashAttention", ATTN, COLORS.V),
            self.card("memory", ("S and P: b·h·n² numbers each,", "quadratic from the first token"),
                      "removed by FlashAttention (L06)", COLORS.ACCENT, COLORS.WEIGHT))
        cards.arrange(DOWN, buff=BUFF.MEDIUM).move_to([0, -0.1, 0])
        with self.narrate("So when someone says attention is quadratic, be precise. The FLOPs are quadratic "
                          "only in the attention term, and at a few thousand tokens the MLP still dominates "
                          "them.") as t:
            self.play(FadeIn(title), run_time=0.2 * t.duration)
            self.play(FadeIn(cards[0][:3]), run_time=0.4 * t.duration)
        self.wait_for(t)
        with self.narrate("The memory for S and P is quadratic from the start. FlashAttention, in Lecture 6, "
                          "never materialises those tensors: it removes the quadratic memory, not the quadratic "
                          "FLOPs. The rest of this lecture measures where each of the two costs bites.") as t:
            self.play(FadeIn(cards[1][:3]), run_time=0.3 * t.duration)
            self.play(FadeIn(cards[1][3]), FadeIn(cards[0][3]), run_time=0.3 * t.duration)
        self.wait_for(t)

    def card(self, name: str, what: tuple[str, ...], verdict: str, color: str, verdict_color: str) -> VGroup:
        """A full-width card: the name at the left, what is quadratic beside it, the verdict under that."""
        head = label(name, size=SIZES.HEADING, color=color)
        body = VGroup(*(label(line, size=SIZES.BODY, color=COLORS.TEXT) for line in what))
        tail = label(verdict, size=SIZES.BODY, color=verdict_color)
        text = VGroup(*body, tail).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        tail.shift(DOWN * BUFF.SMALL)
        fit_within(text, SAFE.width - CARD_HEAD - 3 * BUFF.MEDIUM, None)
        text.move_to([SAFE.left + CARD_HEAD + 2 * BUFF.MEDIUM + text.width / 2, 0, 0])
        head.move_to([SAFE.left + BUFF.MEDIUM + head.width / 2, text.get_y(), 0])
        frame = RoundedRectangle(corner_radius=0.15, width=SAFE.width, height=text.height + 2 * BUFF.MEDIUM)
        frame.set_stroke(color, 2).set_fill(COLORS.PANEL, 1).move_to([0, text.get_y(), 0])
        return VGroup(frame, head, body, tail)
