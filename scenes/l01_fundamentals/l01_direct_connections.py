"""L01.3 Why direct connections matter: the number of steps between two tokens (|i − j| in an RNN, one in
attention), then the measured gradient of the last output with respect to inputs further and further back,
for a small RNN, an LSTM and one attention layer, on a log scale.

    manim -pql scenes/l01_fundamentals/l01_direct_connections.py DirectConnections

Numbers: ``data.path_lengths()``, ``data.gradient_vs_distance()`` (autograd at render time, seeded) and
``data_history_extra.gradient_summary()`` (values at the largest distance, ratios, axis decades).
"""
from __future__ import annotations

import numpy as np
from manim import (DOWN, LEFT, RIGHT, UP, ShowPassingFlash, Axes, Create, Dot, FadeIn, FadeOut, Indicate, LogBase,
                   MoveAlongPath, Transform, VGroup, VMobject)

from scenes.kit.format import power_of_ten, quoted
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import MatrixGrid, fit_within, label
from scenes.kit.mobjects.networks import AllToAll, RecurrentChain
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l01_fundamentals.data import gradient_vs_distance, path_lengths
from scenes.l01_fundamentals.data import gradient_summary

# layout -------------------------------------------------------------------------------------------------
CURVE_COLORS = {"RNN": COLORS.head(0), "LSTM": COLORS.head(4), "attention": COLORS.WEIGHT}
X_TICK_INDICES = (0, 7, 15, 23, 31)  # which measured distances get a tick label
Y_LABEL_EVERY = 3  # label every third decade
PLOT_W, PLOT_H = 8.4, 4.6
PLOT_CENTER = np.array([-0.9, 0.2, 0.0])
CHAIN_Y, ALL_Y = 1.75, -1.85
COUNTER_X = 5.3
SRC, DST = 0, -1  # the signal runs from the first token to the last


class DirectConnections(LectureScene):
    def construct(self):
        self.topic("L01.3", "Why direct connections matter")
        self.paths()
        self.grids()
        self.gradients()
        self.far_end()

    # -- 1. steps between two tokens -----------------------------------------------------------------------
    def counter(self, value: int, y: float, color: str) -> VGroup:
        num = label(str(value), size=SIZES.HEADING + 10, color=color, mono=True, weight="BOLD")
        word = label("step" if value == 1 else "steps", size=SIZES.LABEL, color=COLORS.TEXT)
        return VGroup(num, word).arrange(RIGHT, buff=BUFF.SMALL, aligned_edge=DOWN).move_to([COUNTER_X, y, 0])

    def paths(self):
        p = path_lengths()
        n = len(p.tokens)
        dst = n + DST if DST < 0 else DST
        tok = [quoted(w) for w in p.tokens]
        chain = RecurrentChain(p.tokens, cell_text="RNN", cell_width=1.0, gap=0.55).move_to([-1.3, CHAIN_Y, 0])
        allx = AllToAll(p.tokens, token_buff=0.55).move_to([-1.3, ALL_Y, 0])
        allx.arc_group.set_stroke(COLORS.GRID, 2)
        direct = allx.arc(SRC, dst).copy().set_stroke(COLORS.ACCENT, 5)
        rnn_title = label("recurrent network", size=SIZES.LABEL, color=COLORS.MUTED)
        rnn_title.move_to([SAFE.left, chain.get_top()[1] + 0.35, 0], aligned_edge=LEFT)
        att_title = label("attention", size=SIZES.LABEL, color=COLORS.MUTED)
        att_title.move_to([SAFE.left, allx.get_top()[1] + 0.35, 0], aligned_edge=LEFT)

        # the RNN path: from the token into the first cell, then one link at a time
        steps = [p.rnn[k][SRC] for k in range(SRC + 1, dst + 1)]  # path length after each link
        counters = [self.counter(v, CHAIN_Y, COLORS.ACCENT) for v in steps]
        dot = Dot(chain.tokens.boxes[SRC].get_top(), radius=0.1, color=COLORS.ACCENT)
        with self.narrate(
            "Why does a direct connection matter? Count the steps. In a recurrent network, for "
            f"{tok[dst]} to learn anything from {tok[SRC]}, the signal passes through every cell in between: "
            f"{steps[-1]} steps here, n minus one in a sentence of n tokens, and each cell waits for the one "
            "before it."
        ) as t:
            self.play(FadeIn(rnn_title), FadeIn(chain), run_time=0.2 * t.duration)
            self.play(Indicate(chain.tokens.items[SRC], color=COLORS.ACCENT),
                      Indicate(chain.tokens.items[dst], color=COLORS.ACCENT), FadeIn(dot), run_time=0.15 * t.duration)
            self.play(dot.animate.move_to(chain.links[SRC].get_start()), run_time=0.05 * t.duration)
            shown = None
            for k, link in enumerate(chain.path(SRC, dst)):
                begin = link.get_start() if k == 0 else chain.cells[SRC + k].get_left()  # through the cell
                path = VMobject().set_points_as_corners([begin, link.get_end()])
                anims = [MoveAlongPath(dot, path), link.animate.set_color(COLORS.ACCENT)]
                anims.append(FadeIn(counters[k]) if shown is None else Transform(shown, counters[k]))
                self.play(*anims, run_time=0.08 * t.duration)
                if shown is None:
                    shown = counters[k]
            self.wait_for(t)

        one = self.counter(p.attention[dst][SRC], ALL_Y, COLORS.ACCENT)
        dot2 = Dot(allx.tokens.boxes[SRC].get_top(), radius=0.1, color=COLORS.ACCENT)
        with self.narrate(
            f"In attention, {tok[dst]} reads {tok[SRC]} directly: {p.attention[dst][SRC]} step, however far apart "
            "they are."
        ) as t:
            self.play(FadeIn(att_title), FadeIn(allx.tokens), Create(allx.arc_group), run_time=0.3 * t.duration)
            self.play(Create(direct), MoveAlongPath(dot2, direct.copy()), run_time=0.3 * t.duration)
            self.play(FadeIn(one), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.play(*(FadeOut(m) for m in self.mobjects), run_time=0.6)

    # -- 2. every pair at once --------------------------------------------------------------------------
    def grids(self):
        p = path_lengths()
        vmax = float(max(max(r) for r in p.rnn))
        kw = dict(decimals=0, heat=True, vmin=0.0, vmax=vmax, row_labels=p.tokens, col_labels=p.tokens,
                  cell_size=0.85, font_size=SIZES.NUMBER)
        rnn = MatrixGrid(p.rnn, **kw)
        att = MatrixGrid(p.attention, **kw)
        pair = VGroup(rnn, att).arrange(RIGHT, buff=1.6).move_to([0, -0.1, 0])
        fit_within(pair, SAFE.width, 5.2)
        t_rnn = label("recurrent network", size=SIZES.LABEL, color=COLORS.TEXT).next_to(rnn, UP, buff=BUFF.MEDIUM)
        t_att = label("attention", size=SIZES.LABEL, color=COLORS.TEXT).next_to(att, UP, buff=BUFF.MEDIUM)
        t_att.align_to(t_rnn, DOWN)
        note = label("steps from the word in each column to the word in each row", size=SIZES.SMALL,
                     color=COLORS.MUTED).next_to(pair, DOWN, buff=BUFF.MEDIUM)
        far = rnn.highlight_cell(len(p.tokens) - 1, 0)
        far_steps = p.rnn[-1][0]
        far_att = att.highlight_cell(len(p.tokens) - 1, 0)
        with self.narrate(
            "Here are the step counts for every pair of words. For the recurrent network, they grow with the "
            f"distance between the words, up to {far_steps} in the corners. For attention, every pair is "
            f"{p.attention[0][-1]} step apart; only the diagonal, a word and itself, is {p.attention[0][0]}."
        ) as t:
            self.play(FadeIn(t_rnn), FadeIn(rnn), FadeIn(note), run_time=0.3 * t.duration)
            self.play(Create(far), run_time=0.15 * t.duration)
            self.play(FadeIn(t_att), FadeIn(att), run_time=0.2 * t.duration)
            self.play(Create(far_att), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.play(*(FadeOut(m) for m in self.mobjects), run_time=0.6)

    # -- 3. the measured gradients ------------------------------------------------------------------------
    def plot_frame(self, g, s) -> tuple[Axes, VGroup]:
        """Log-scale axes with a grid line per decade, tick labels, axis names and the measurement's source."""
        lo, hi = s.decades[0], s.decades[-1]
        axes = Axes(x_range=[0, g.distances[-1], 1], y_range=[lo, hi, 1], x_length=PLOT_W, y_length=PLOT_H,
                    tips=False, y_axis_config={"scaling": LogBase()},
                    axis_config={"color": COLORS.GRID, "stroke_width": 2, "tick_size": 0.05})
        axes.move_to(PLOT_CENTER)
        grid = VGroup(*(axes.get_horizontal_line(axes.c2p(g.distances[-1], 10.0 ** e))
                        .set_stroke(COLORS.GRID, 1, opacity=0.5) for e in s.decades[1:]))
        y_ticks = VGroup()
        for e in s.decades[::-1][::Y_LABEL_EVERY]:
            y_ticks.add(label(power_of_ten(e), size=SIZES.SMALL, color=COLORS.MUTED)
                        .next_to(axes.c2p(0, 10.0 ** e), LEFT, buff=BUFF.SMALL))
        x_ticks = VGroup(*(label(str(g.distances[k]), size=SIZES.SMALL, color=COLORS.MUTED, mono=True)
                           .next_to(axes.c2p(g.distances[k], 10.0 ** lo), DOWN, buff=BUFF.SMALL)
                           for k in X_TICK_INDICES))
        x_name = label("distance back from the last token", size=SIZES.LABEL, color=COLORS.TEXT)
        x_name.next_to(x_ticks, DOWN, buff=BUFF.SMALL).set_x(axes.get_x())
        y_name = label("gradient size (log scale)", size=SIZES.LABEL, color=COLORS.TEXT)
        y_name.next_to(axes.c2p(0, 10.0 ** hi), UP, buff=BUFF.MEDIUM).align_to(y_ticks, LEFT)
        source = label(f"measured with autograd \u00b7 float64 \u00b7 width {s.width} \u00b7 {s.n_seeds} seeds, "
                       "geometric mean \u00b7 untrained, default initialisation", size=SIZES.SMALL,
                       color=COLORS.MUTED)
        fit_within(source, SAFE.width, None)
        source.move_to([0, SAFE.bottom + source.height / 2, 0])
        return axes, VGroup(grid, y_ticks, x_ticks, x_name, y_name, source)

    def curves(self, g, s, axes: Axes) -> dict[str, tuple]:
        """Per network: (the measured curve, a dot at the largest distance, its name and value beside it)."""
        values = {"RNN": g.rnn, "LSTM": g.lstm, "attention": g.attention}
        out = {}
        for end in s.ends:
            col = CURVE_COLORS[end.name]
            graph = axes.plot_line_graph(g.distances, values[end.name], add_vertex_dots=False,
                                         line_color=col, stroke_width=5)
            dot = Dot(axes.c2p(s.distance, end.value), radius=0.08, color=col)
            name = label(end.name, size=SIZES.LABEL, color=col, weight="BOLD")
            val = label(end.shown, size=SIZES.LABEL, color=col)
            tag = VGroup(name, val).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT).next_to(dot, RIGHT,
                                                                                              buff=BUFF.MEDIUM)
            out[end.name] = (graph["line_graph"], dot, tag)
        return out

    def gradients(self):
        g = gradient_vs_distance()
        s = gradient_summary()
        axes, (grid, *furniture) = self.plot_frame(g, s)
        curves = self.curves(g, s, axes)
        with self.narrate(
            "Steps matter because learning flows backwards along the same paths, and every step back "
            "multiplies the gradient by another factor; a long product of factors below one collapses "
            "towards zero. "
            "We take a small RNN, an LSTM and a single attention layer, feed them "
            f"{s.length} random inputs, and ask autograd: how strongly does the last output depend on an input "
            "d steps back?"
        ) as t:
            self.play(Create(axes), FadeIn(grid), run_time=0.25 * t.duration)
            self.play(*(FadeIn(m) for m in furniture), run_time=0.25 * t.duration)
            self.wait_for(t)
        with self.narrate(
            "<bookmark mark='rnn'/>On a log scale, the RNN's gradient shrinks by roughly the same factor at "
            "every step: a straight line down. <bookmark mark='lstm'/>The LSTM shrinks more slowly, but it "
            "still shrinks. <bookmark mark='att'/>Attention stays flat."
        ) as t:
            for mark, name in (("rnn", "RNN"), ("lstm", "LSTM"), ("att", "attention")):
                curve, dot, tag = curves[name]
                self.wait_until_bookmark(mark)
                self.play(Create(curve), run_time=1.6)
                self.play(FadeIn(dot), FadeIn(tag, shift=LEFT * 0.1), run_time=0.4)
            self.wait_for(t)
        self.plot = s, axes, curves

    def far_end(self):
        s, axes, curves = self.plot
        by_name = {e.name: e for e in s.ends}
        at_d = axes.get_vertical_line(axes.c2p(s.distance, 10.0 ** s.decades[-1])).set_stroke(COLORS.ACCENT, 2)
        at_d_label = label(f"distance {s.distance}", size=SIZES.SMALL, color=COLORS.ACCENT)
        at_d_label.next_to(axes.c2p(s.distance, 10.0 ** s.decades[-1]), UP, buff=BUFF.SMALL)
        with self.narrate(
            f"At distance {s.distance}, the RNN's gradient is about {by_name['RNN'].spoken}, the LSTM's about "
            f"{by_name['LSTM'].spoken}, and attention's about {by_name['attention'].spoken}: "
            f"{s.ratio_attention_rnn_words} times larger than the RNN's."
        ) as t:
            self.play(Create(at_d), FadeIn(at_d_label), run_time=0.15 * t.duration)
            for name in ("RNN", "LSTM", "attention"):
                self.play(Indicate(curves[name][2], color=COLORS.ACCENT, scale_factor=1.1),
                          run_time=0.18 * t.duration)
            self.wait_for(t)
        with self.narrate(
            f"These are untrained networks, averaged over {s.n_seeds} random seeds, but the lesson holds: with "
            "direct connections, a word at the start of a long passage can still shape the word at the end."
        ) as t:
            flash = curves["attention"][0].copy().set_stroke(COLORS.TEXT, 8)
            self.play(ShowPassingFlash(flash, time_width=0.4), run_time=0.3 * t.duration)
            self.wait_for(t)
