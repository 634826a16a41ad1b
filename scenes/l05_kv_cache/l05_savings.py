"""L05.2 Memory savings mathematics: two counters per decode step, FLOPs saved and bytes spent (one layer, one
head, d = 128: without a cache step t costs 2d·t(t+1) attention FLOPs, with it 4dt), beside the per-step bars
(the cached step still grows: order t per step, order T² per generation); the sums' ratios (T + 2)/3 for
attention and (T + 1)/2 for the dense layers; the cache's bytes per token for Llama-2-7B (MHA), Llama-2-70B
(GQA-8), Mistral-7B (GQA-8) and DeepSeek-V2 (MLA) at 4K, 32K and 128K tokens; Llama-2-7B's cache against its
weights. The trade: quadratic recompute for linear memory, the memory Lectures 8 and 9 attack.

Numbers: ``data.counters()`` and ``data.cache_memory()``; formulas: ``cache_attention_flops``,
``cache_dense_flops``, ``kv_cache_bytes``. This file holds layout and timing only.

    manim -pql scenes/l05_kv_cache/l05_savings.py MemorySavings
"""
from __future__ import annotations

from manim import DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, GrowFromEdge, LaggedStart, Line, \
    Group, Rectangle, VGroup

from scenes.kit.equations import equation
from scenes.kit.format import grouped, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CapacityBar, DataTable, StepCounter, fit_within, label
from scenes.kit.mobjects.layout import scene_heading
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l05_kv_cache import data

GIB = 2 ** 30                      # binary units, as the builder counts (KiB per token, GiB per sequence)
NO_CACHE, CACHED = COLORS.SCORE, COLORS.Q          # per-step attention FLOPs bars
SAVED, SPENT = COLORS.WEIGHT, COLORS.K             # the two counters
WEIGHTS = COLORS.WEIGHT
# step 1: per-step bars (left) and the counter (right)
CHART_LEFT, CHART_BOTTOM = SAFE.left + 0.3, -2.4
CHART_W, CHART_H = 6.6, 3.55
LEGEND_TOP = 2.95                  # the chart's title, then its legend, above the tallest bar
COUNTER_Y = 0.3
# step 2: the two sums and the ratio table
EQ1_Y, EQ2_Y, EQ_H = 1.95, 0.4, 0.95
TABLE_Y = -2.0
RATIO_FROM = 2                     # ratio rows from the builder's third T on (T = 1 and 2 are trivial)
# step 3: cache per model and context
BARS_LEFT, BARS_W = -2.3, 5.9
MODEL_TOP, MODEL_GAP, BAR_H, BAR_GAP = 2.1, 1.4, 0.24, 0.12
WHAT_IF_OPACITY = 0.3              # past the model's trained context
# step 4: Llama-2-7B's cache beside its weights
CAP_W, CAP_H, CAP_YS = 11.6, 0.5, (2.0, 0.35, -1.3)


def kilo(n: int) -> str:
    """A context length as a tag: 32768 -> "32K" (binary thousands, as the lecture names its lengths)."""
    return f"{grouped(n // 1024)}K"


def heading(text: str):
    h = fit_within(scene_heading(text), SAFE.width, None)
    return h.move_to([SAFE.left + h.width / 2, SAFE.top - h.height / 2, 0])


def formula(name: str, y: float, height: float = EQ_H):
    eq = equation(name)
    fit_within(eq, SAFE.width, height)
    return eq.move_to([0, y, 0])


class MemorySavings(LectureScene):
    """L05.2: FLOPs saved and bytes spent per step, the ratios of the sums, cache bytes per model, vs weights."""

    def construct(self):
        self.topic("L05.2", "Memory savings mathematics")
        self.counters_step()
        self.ratio_step()
        self.memory_step()
        self.weights_step()

    # ------------------------------------------------------------------------------------ the two counters
    def step_bars(self, c):
        """Per step, a pair of bars: the step's attention FLOPs without (left) and with the cache (right)."""
        top = max(c.flops_no_cache)
        slot = CHART_W / len(c.steps)
        axis = Line([CHART_LEFT, CHART_BOTTOM, 0], [CHART_LEFT + CHART_W, CHART_BOTTOM, 0]).set_stroke(COLORS.GRID, 2)
        pairs, ticks = VGroup(), VGroup()
        for k, (t, a, b) in enumerate(zip(c.steps, c.flops_no_cache, c.flops_cache)):
            x = CHART_LEFT + slot * (k + 0.5)
            bars = VGroup()
            for value, color, dx in ((a, NO_CACHE, -0.11), (b, CACHED, 0.11)):
                h = max(CHART_H * value / top, 0.02)
                bars.add(Rectangle(width=0.2, height=h).set_stroke(width=0).set_fill(color, 0.9).move_to(
                    [x + dx, CHART_BOTTOM + h / 2, 0]))
            pairs.add(bars)
            if t == 1 or t % 5 == 0:
                ticks.add(label(grouped(t), size=SIZES.LABEL, color=COLORS.MUTED, mono=True).next_to(
                    [x, CHART_BOTTOM, 0], DOWN, buff=BUFF.SMALL))
        x_name = label("decode step t", size=SIZES.LABEL, color=COLORS.MUTED).next_to(
            ticks, DOWN, buff=BUFF.SMALL).set_x(CHART_LEFT + CHART_W / 2)
        legend = VGroup(label("no cache: the whole triangle", size=SIZES.LABEL, color=NO_CACHE),
                        label("with cache: one new row", size=SIZES.LABEL, color=CACHED)).arrange(
            DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        title = label("attention FLOPs of each step", size=SIZES.LABEL, color=COLORS.TEXT)
        title.move_to([CHART_LEFT + title.width / 2, LEGEND_TOP - title.height / 2, 0])
        legend.next_to(title, DOWN, buff=BUFF.SMALL).align_to(title, LEFT)
        return axis, pairs, ticks, x_name, legend, title

    def counters_step(self):
        c = data.counters()
        title = heading(f"One layer, one head, d = {grouped(c.head_dim)}")
        axis, pairs, ticks, x_name, legend, chart_title = self.step_bars(c)
        counter = StepCounter("two counters", [("FLOPs saved", c.cumulative_saved), ("bytes spent", c.cache_bytes)],
                              increments=[c.flops_saved, c.bytes_added], steps=c.steps, colors=[SAVED, SPENT],
                              step_text=lambda t: f"after step {t}")
        counter.place(SAFE.right - BUFF.SMALL - counter.full_width / 2, COUNTER_Y)
        with self.narrate(f"What does the cache save, and what does it cost? Take one layer and one head, head "
                          f"width d = {spoken(c.head_dim, 0)}, and keep two counters: FLOPs saved, bytes "
                          "spent.") as t:
            self.play(FadeIn(title), FadeIn(counter.card.frame), FadeIn(counter.card.title),
                      FadeIn(counter.card.names), run_time=0.4 * t.duration)
            self.play(FadeIn(VGroup(axis, ticks, x_name, chart_title)), run_time=0.3 * t.duration)
        with self.narrate("Without a cache, step t recomputes the whole causal triangle: 2 d, times t, times t plus "
                          "one FLOPs. With the cache it computes only the new row: 4 d t. At step one the two "
                          f"agree, so nothing is saved yet, and the cache already holds "
                          f"{spoken(c.cache_bytes[0], 0)} bytes.") as t:
            self.play(FadeIn(legend[0]), GrowFromEdge(pairs[0][0], DOWN), run_time=0.25 * t.duration)
            self.play(FadeIn(legend[1]), GrowFromEdge(pairs[0][1], DOWN), run_time=0.25 * t.duration)
            self.play(FadeIn(VGroup(counter.values, counter.increments, counter.card.rule, counter.step_label)),
                      run_time=0.2 * t.duration)
        mid = len(c.steps) // 2
        with self.narrate(f"Every step adds one K row and one V row, {spoken(c.bytes_added[1], 0)} more bytes, "
                          "the same each time, while the saving grows with every step.") as t:
            for k in range(1, mid):
                self.play(counter.show_step(k), GrowFromEdge(pairs[k], DOWN), run_time=0.8 * t.duration / (mid - 1))
        last = len(c.steps) - 1
        tops = VGroup(label(grouped(c.flops_no_cache[last]), size=SIZES.LABEL, color=NO_CACHE, mono=True),
                      label(f"step {grouped(c.steps[last])} with the cache: {grouped(c.flops_cache[last])}",
                            size=SIZES.LABEL, color=CACHED))
        tops[0].next_to(pairs[last][0], UP, buff=BUFF.SMALL).align_to(pairs[last][1], RIGHT)
        tops[1].move_to([CHART_LEFT + 0.15 + tops[1].width / 2,
                         CHART_BOTTOM + pairs[last][1].height + BUFF.MEDIUM + tops[1].height / 2, 0])
        with self.narrate(f"By step {spoken(c.steps[last], 0)}, recomputing costs {spoken(c.flops_no_cache[last], 0)} "
                          f"FLOPs in that step alone, the cached step {spoken(c.flops_cache[last], 0)}; "
                          f"{spoken(c.cumulative_saved[last], 0)} FLOPs saved so far.") as t:
            for k in range(mid, last + 1):
                self.play(counter.show_step(k), GrowFromEdge(pairs[k], DOWN),
                          run_time=0.6 * t.duration / (last + 1 - mid))
            self.play(FadeIn(tops[0]), Create(counter.highlight_row(0).set_z_index(-1)), run_time=0.2 * t.duration)
        recomputed = VGroup(*(p[0] for p in pairs), tops[0])
        box_h = tops[1].get_top()[1] + BUFF.MEDIUM - CHART_BOTTOM + 0.05
        box = Rectangle(width=CHART_W + 0.2, height=box_h).set_stroke(CACHED, 3).move_to(
            [CHART_LEFT + CHART_W / 2, CHART_BOTTOM - 0.05 + box_h / 2, 0])
        with self.narrate("But the cached bars still grow. The new query reads every cached key, so a step costs "
                          "order t, and a whole generation of T tokens still costs order T squared. Recomputing "
                          "would be T cubed. The cache removes one factor of T; it does not make attention "
                          "linear.") as t:
            self.play(recomputed.animate.set_opacity(0.2), run_time=0.15 * t.duration)
            self.play(Create(box), FadeIn(tops[1]), run_time=0.25 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # ------------------------------------------------------------------------------------ the sums
    def ratio_step(self):
        c = data.counters()
        title = heading("Summed over T steps")
        eq1, eq2 = formula("cache_attention_flops", EQ1_Y), formula("cache_dense_flops", EQ2_Y)
        tags = VGroup(label("attention", size=SIZES.LABEL, color=COLORS.MUTED),
                      label("dense layers", size=SIZES.LABEL, color=COLORS.MUTED))
        for tag, eq in zip(tags, (eq1, eq2)):
            tag.next_to(eq, UP, buff=BUFF.TIGHT).set_x(SAFE.left + tag.width / 2)
        idx = list(range(RATIO_FROM, len(c.ratio_T)))
        table = DataTable(["T", "attention ratio", "dense-layer ratio"],
                          [[grouped(c.ratio_T[i]), f"{grouped(c.ratio[i])}×",
                            f"{shown(c.dense_ratio[i], 1, group=True)}×"] for i in idx],
                          column_colors=[None, NO_CACHE, COLORS.HEADS[0]], row_height=0.5)
        table.move_to([0, TABLE_Y, 0])
        last = len(idx) - 1
        with self.narrate("Add up T steps, and the ratio of the two sums is exactly T plus two, over three.") as t:
            self.play(FadeIn(title), FadeIn(tags[0]), FadeIn(eq1), run_time=0.4 * t.duration)
        with self.narrate("The dense layers, the projections and the MLP, see one new token instead of the whole "
                          "prefix: there the ratio is T plus one, over two.") as t:
            self.play(FadeIn(tags[1]), FadeIn(eq2), run_time=0.4 * t.duration)
        with self.narrate(f"At {spoken(c.ratio_T[idx[last]], 0)} tokens that is "
                          f"{spoken(c.ratio[idx[last]], 0)} times fewer attention FLOPs, and "
                          f"{spoken(c.dense_ratio[idx[last]], 1)} times fewer in the dense layers.") as t:
            self.play(FadeIn(table), run_time=0.4 * t.duration)
            self.play(Create(table.highlight_row(last)), run_time=0.2 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # ------------------------------------------------------------------------------------ bytes per model
    def model_rows(self, m):
        """Per model: name and kind, bytes per token, and three bars (cache per sequence at each context)."""
        top = max(max(r.cache_bytes) for r in m.models)
        rows = VGroup()
        for j, r in enumerate(m.models):
            y0 = MODEL_TOP - MODEL_GAP * j
            name = label(f"{r.name} ({r.kind})", size=SIZES.LABEL, color=COLORS.TEXT)
            per = label(f"{shown(r.kib_per_token, 1 if r.kib_per_token % 1 else 0)} KiB / token", size=SIZES.LABEL,
                        color=SPENT, mono=True)
            head = VGroup(name, per).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
            head.move_to([SAFE.left + head.width / 2, y0 - (BAR_H + BAR_GAP), 0])
            bars, values = VGroup(), VGroup()
            for k, (n, nbytes, beyond) in enumerate(zip(m.contexts, r.cache_bytes, r.beyond_context)):
                w = BARS_W * nbytes / top
                y = y0 - (BAR_H + BAR_GAP) * k
                rect = Rectangle(width=max(w, 0.03), height=BAR_H).set_stroke(SPENT, 1.5 if beyond else 0).set_fill(
                    SPENT, WHAT_IF_OPACITY if beyond else 0.9).move_to([BARS_LEFT + w / 2, y, 0])
                bars.add(rect)
                gib = nbytes / GIB
                values.add(label(f"{kilo(n)}: {shown(gib, 2 if gib < 1 else (2 if gib % 1 else 0))} GiB",
                                 size=SIZES.LABEL, color=COLORS.TEXT, mono=True).next_to(rect, RIGHT, buff=BUFF.SMALL))
            rows.add(VGroup(head, bars, values))
        return rows

    def memory_step(self):
        m = data.cache_memory()
        title = heading("The other counter: bytes")
        eq = formula("kv_cache_bytes", 0.3, 0.9)
        corner = eq.copy().scale(0.75)
        corner.move_to([SAFE.right - corner.width / 2, title.get_y(), 0])
        rows = self.model_rows(m)
        note = label("pale: past the model's trained context, a what-if", size=SIZES.LABEL, color=COLORS.MUTED)
        note.move_to([SAFE.right - note.width / 2, SAFE.bottom + note.height / 2, 0])
        names = [r.name for r in m.models]
        kib = [spoken(r.kib_per_token, 1 if r.kib_per_token % 1 else 0) for r in m.models]
        with self.narrate("Now the bytes: a K and a V row for every layer, every KV head and every token, in half "
                          "precision.") as t:
            self.play(FadeIn(title), FadeIn(eq), run_time=0.4 * t.duration)
        with self.narrate(f"{names[0]}, with full multi-head attention, needs {kib[0]} kibibytes per token. "
                          f"{names[1]} keeps only {spoken(m.models[1].n_kv_heads, 0)} KV heads: {kib[1]}. "
                          f"{names[2]}: {kib[2]}. {names[3]} caches one compressed latent per layer: "
                          f"{kib[3]}.") as t:
            self.play(eq.animate.become(corner), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(FadeIn(r[0]) for r in rows), lag_ratio=0.6), run_time=0.7 * t.duration)
        a = m.models[0]
        with self.narrate(f"Times the context: one sequence of {spoken(m.contexts[0], 0)} tokens in {names[0]} "
                          f"takes {spoken(a.cache_gib[0], 0)} gibibytes; of {spoken(m.contexts[-1], 0)} tokens, "
                          f"{spoken(a.cache_gib[-1], 0)}. Linear, and steep.") as t:
            self.play(LaggedStart(*(GrowFromEdge(b, LEFT) for r in rows for b in r[1]), lag_ratio=0.08),
                      LaggedStart(*(FadeIn(v) for r in rows for v in r[2]), lag_ratio=0.08),
                      FadeIn(note), run_time=0.8 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # ------------------------------------------------------------------------------------ against the weights
    def weights_step(self):
        m = data.cache_memory()
        a = m.models[0]
        scale = a.weight_bytes + max(a.cache_bytes)
        title = heading(f"{a.name}: one sequence's cache beside its weights")
        w_gib = a.weight_bytes / GIB
        bars = []
        for k, (n, nbytes, ratio, beyond, y) in enumerate(zip(m.contexts, a.cache_bytes, a.cache_over_weights,
                                                              a.beyond_context, CAP_YS)):
            bar = CapacityBar(scale, width=CAP_W, height=CAP_H, title=f"{grouped(n)} tokens: cache = "
                              f"{shown(ratio, 2)} × weights" + (" (what-if)" if beyond else ""))
            bar.shift(RIGHT * (SAFE.left + 0.05 - bar.frame.get_left()[0]) + UP * (y - bar.frame.get_y()))
            bar.frame.set_stroke(opacity=0).set_fill(opacity=0)
            bar.segment("weights", a.weight_bytes, WEIGHTS, f"weights {shown(w_gib, 2)} GiB" if k == 0 else None)
            bar.segment("cache", nbytes, SPENT)
            if beyond:
                bar.segments[1][0].set_fill(opacity=WHAT_IF_OPACITY).set_stroke(SPENT, 1.5)
            bars.append(bar)
        what_if = label(f"what-if: past {a.name}'s trained context of {grouped(a.trained_context)} tokens",
                        size=SIZES.LABEL, color=COLORS.MUTED)
        what_if.next_to(bars[-1].frame, DOWN, buff=BUFF.MEDIUM).set_x(SAFE.left + what_if.width / 2)
        with self.narrate(f"Set that beside the weights. The weights of {a.name} take {spoken(w_gib, 2)} gibibytes. "
                          f"Its cache is {spoken(a.cache_over_weights[0], 2)} of that at "
                          f"{spoken(m.contexts[0], 0)} tokens, {spoken(a.cache_over_weights[1], 2)} times the weights "
                          f"at {spoken(m.contexts[1], 0)}, and {spoken(a.cache_over_weights[2], 2)} times at "
                          f"{spoken(m.contexts[2], 0)}.") as t:
            self.play(FadeIn(title), run_time=0.1 * t.duration)
            for k, bar in enumerate(bars):
                extra = [FadeIn(what_if)] if k == len(bars) - 1 else []
                self.play(FadeIn(bar.title), GrowFromEdge(bar.segments[0], LEFT), FadeIn(bar.labels[0]),
                          GrowFromEdge(bar.segments[1], LEFT), *extra, run_time=0.25 * t.duration)
        trade = VGroup(label("the trade: quadratic recompute for linear memory", size=SIZES.BODY, color=COLORS.ACCENT),
                       label("GQA (Lecture 8) and MLA (Lecture 9) shrink that memory", size=SIZES.LABEL,
                             color=COLORS.ACCENT)).arrange(DOWN, buff=BUFF.SMALL)
        fit_within(trade, SAFE.width, None)
        trade.move_to([0, SAFE.bottom + trade.height / 2 + 0.05, 0])
        with self.narrate("That is the trade: quadratic recomputation, swapped for memory that grows with every "
                          "token. That memory is what grouped-query attention, in Lecture 8, and latent attention, "
                          "in Lecture 9, set out to shrink.") as t:
            self.play(FadeIn(trade, shift=UP * 0.2), run_time=0.3 * t.duration)
        self.wait_for(t)
