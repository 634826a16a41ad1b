"""L03.2 RoPE mathematics: a 2-D query and key turned by mθ and nθ; both shifted by t, both turn together and
their dot product stays put (computed by ``attn_ref.apply_rope``); the same in matrices and complex numbers;
d/2 planes as clock dials, each with its wavelength (2π … ≈ 54,410 tokens for d = 128, base 10⁴); the (m, n)
score grid, Toeplitz for RoPE and not for added sinusoids; RoFormer's decay bound beside a random score that
does not decay; norms kept, v never rotated.

    manim -pql scenes/l03_rope/l03_rope_math.py RopeMath

Numbers: ``data.shift_invariance()``, ``planes()``, ``score_grids()``, ``decay()``, ``norms()``; formulas:
``rope_rotation``, ``rope_complex``, ``rope_relative``, ``rope_frequencies``, ``rope_decay_bound``,
``rope_norm``. This file holds layout and timing only.
"""
from __future__ import annotations

import math

from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Group, Indicate, LaggedStart, RoundedRectangle,
                   Square, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitationLine, DialRow, LineChart, MatrixGrid, RotationDial, fit_within, label
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l03_rope import data

DIAL_CENTRE = (-3.4, -0.45)  # the one-plane dial of the opening
DIAL_RADIUS = 2.3
PANEL_X = 0.0  # left edge of the readouts beside it
PANEL_TOP = 1.6
ROW_Y = -1.2  # centre of the row of plane dials
ROW_RADIUS = 0.8
CELL = 0.42  # score-grid cells: two 12 × 12 grids side by side
GRID_X = (-3.35, 3.45)
GRID_Y = 0.2
CHART_W, CHART_H = 9.4, 3.5
CHART_ORIGIN = (-4.1, -2.05)
TABLE_X = (-0.6, 1.4, 3.2)  # right edges of the norms table's columns
BOUND, CONSTANT, RANDOM = COLORS.ACCENT, COLORS.WEIGHT, COLORS.SCORE


def angle(v) -> float:
    return math.atan2(v[1], v[0])


def dim(*mobs, opacity: float = 0.25):
    return [m.animate.set_opacity(opacity) for m in mobs]


class RopeMath(LectureScene):
    """L03.2: why RoPE's score sees only n − m, one plane, then all of them; Toeplitz grids; the decay bound."""

    def construct(self):
        self.topic("L03.2", "RoPE mathematics")
        self.one_plane()
        self.shifting()
        self.equations()
        self.planes()
        self.score_grids()
        self.decay()
        self.norms_and_values()

    # -- one plane: q at m, k at n --------------------------------------------------------------------------
    def one_plane(self):
        s = self.s = data.shift_invariance()
        longest = max(math.hypot(*s.q), math.hypot(*s.k))
        dial = self.dial = RotationDial(angle(s.q), angle(s.k), radius=DIAL_RADIUS,
                                        q_length=0.95 * math.hypot(*s.q) / longest,
                                        k_length=0.95 * math.hypot(*s.k) / longest)
        dial.shift([*DIAL_CENTRE, 0] - dial.centre)
        title = self.title = heading("One plane: the query at position m, the key at n")
        theta = label(f"θ = {shown(s.theta, 1)} radian per token", size=SIZES.BODY)
        shift = self._shift_text(0)
        pos = self._positions_text(0)
        gap = self._angle_text(0)
        dot = self._dot_text(0)
        src = label("computed with attn_ref.apply_rope", size=SIZES.SMALL, color=COLORS.MUTED)
        panel = self.panel = VGroup(theta, shift, pos, gap, dot, src).arrange(DOWN, aligned_edge=LEFT,
                                                                           buff=BUFF.MEDIUM)
        panel.move_to([PANEL_X + panel.width / 2, PANEL_TOP - panel.height / 2, 0])
        self.readouts = [shift, pos, gap, dot]
        with self.narrate("Start with the smallest case: a query and a key with only two numbers each, drawn as "
                          "arrows in one plane.") as t:
            self.play(FadeIn(title), Create(dial.circle), FadeIn(dial.zero_mark), run_time=0.35 * t.duration)
            self.play(FadeIn(dial.q_hand), FadeIn(dial.k_hand), FadeIn(dial.hand_labels), FadeIn(dial.arc),
                      run_time=0.4 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "RoPE turns the query by m times theta, where m is its position, and the key by n times theta. "
                f"Here theta is {spoken(s.theta, 1)} radians per token, the query sits at position "
                f"{spoken(s.m, 0)}, and the key at position {spoken(s.n, 0)}.") as t:
            self.play(FadeIn(theta), FadeIn(pos), run_time=0.25 * t.duration)
            self.wait(0.2 * t.duration)
            self.play(dial.turn_hands(s.m * s.theta, s.n * s.theta), run_time=0.4 * t.duration)
            self.wait_for(t)
        with self.narrate("Their dot product depends only on their lengths and on the angle between them. "
                          f"Here it is {spoken(s.dots[0], 3)}.") as t:
            self.play(Indicate(dial.arc, color=COLORS.ACCENT), FadeIn(gap), run_time=0.4 * t.duration)
            self.play(FadeIn(dot), FadeIn(src), run_time=0.3 * t.duration)
            self.wait_for(t)

    def _shift_text(self, k: int):
        return label(f"shift t = {self.s.shifts[k]}", size=SIZES.BODY, color=COLORS.ACCENT)

    def _positions_text(self, k: int):
        s = self.s
        return label(f"positions: q at {s.m + s.shifts[k]}, k at {s.n + s.shifts[k]}", size=SIZES.BODY)

    def _angle_text(self, k: int):
        return label(f"angle from q to k: {shown(self.s.angle_between[k])} rad", size=SIZES.BODY)

    def _dot_text(self, k: int):
        return label(f"q · k = {shown(self.s.dots[k], 3)}", size=SIZES.HEADING, color=COLORS.SCORE)

    def _readout(self, k: int):
        """Swap the readouts to shift k's at once, like a counter: a cross-fade of two numbers reads as neither.
        The dot product's text is the same at every shift, so it stays."""
        new = [self._shift_text(k), self._positions_text(k), self._angle_text(k)]
        for old, n in zip(self.readouts, new):
            n.move_to(old, aligned_edge=LEFT)
            self.remove(old)
            self.add(n)
        self.readouts[:3] = new

    def shifting(self):
        s, dial = self.s, self.dial
        with self.narrate(
                "Now shift both tokens by the same t, as if the same two words appeared later in the text. Both "
                "arrows turn by t times theta, together. The angle between them stays, and so does the dot "
                f"product: computed with apply rope at every shift, up to t equals {spoken(s.shifts[-1], 0)}, it "
                f"stays at {spoken(s.dots[-1], 3)}.") as t:
            self.play(FadeIn(self.readouts[0]), run_time=0.1 * t.duration)
            self.wait(0.15 * t.duration)
            steps = len(s.shifts) - 1
            for k in range(1, len(s.shifts)):
                delta = math.fmod((s.shifts[k] - s.shifts[k - 1]) * s.theta, 2 * math.pi)
                self._readout(k)
                self.play(dial.turn(delta), run_time=0.55 * t.duration / steps)
                self.play(Indicate(self.readouts[3], color=COLORS.SCORE, scale_factor=1.1),
                          run_time=0.1 * t.duration / steps)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.8)

    # -- the same in matrices and complex numbers -------------------------------------------------------------
    def equations(self):
        eqs = [equation(n) for n in ("rope_rotation", "rope_complex", "rope_relative")]
        names = ["rotations compose: only n − m is left", "complex form: a pair is one complex number",
                 "d dimensions: d/2 planes, one block-diagonal rotation"]
        rows = VGroup()
        for eq, name in zip(eqs, names):
            fit_within(eq, SAFE.width, 1.3)
            rows.add(VGroup(label(name, size=SIZES.LABEL, color=COLORS.MUTED), eq).arrange(DOWN, buff=BUFF.SMALL))
        rows.arrange(DOWN, buff=BUFF.LARGE).move_to([0, -0.1, 0])
        fit_within(rows, SAFE.width, SAFE.height - 0.3)
        texts = [
            "In matrices: rotations compose by adding their angles, so the transpose of the query's rotation, "
            "times the key's rotation, is one rotation by n minus m, times theta. The absolute positions cancel; "
            "only the distance is left.",
            "In complex numbers, the pair is a single number, and turning it by m theta is multiplying by e to "
            "the i m theta. The conjugate of the key's factor cancels the shared part, leaving e to the i, times "
            "m minus n, times theta.",
            "A real head has d dimensions. RoPE splits them into d over 2 pairs and turns each pair in its own "
            "plane. The score is then the content, x m through the query matrix and x n through the key matrix, "
            "joined by one rotation that depends on n minus m alone.",
        ]
        for k, (row, text) in enumerate(zip(rows, texts)):
            with self.narrate(text) as t:
                anims = dim(*rows[:k]) if k else []
                self.play(*anims, FadeIn(row[0]), run_time=0.15 * t.duration)
                self.play(FadeIn(row[1], shift=UP * 0.15), run_time=0.3 * t.duration)
                self.wait_for(t)
        self.play(FadeOut(rows), run_time=0.7)

    # -- d/2 planes, each at its own speed ----------------------------------------------------------------------
    def planes(self):
        p = data.planes()
        eq = equation("rope_frequencies").scale(0.85).move_to([0, 2.35, 0])
        title = heading("d/2 planes, each at its own speed")
        notes = VGroup(*(label(line.strip(), size=SIZES.LABEL, color=c)
                         for line, c in zip(p.index_note.split(";"), (COLORS.TEXT, COLORS.MUTED))))
        notes.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL).next_to(eq, DOWN, buff=BUFF.MEDIUM)
        lam = [p.wavelength[i] for i in p.dial_planes]
        row = DialRow(p.dial_angles[0], p.dial_k_angles[0], lam, titles=[f"plane {i}" for i in p.dial_planes],
                      radius=ROW_RADIUS, k_length=0.7)
        row.move_to([0, ROW_Y, 0])
        readout = self._plane_positions(p, 0, row)
        legend = label(f"yellow: q at p, cyan: k at p + {p.dial_gap} · planes by the code's index · "
                       f"d = {p.head_dim}, b = {shown(p.base, 0)}", size=SIZES.LABEL, color=COLORS.MUTED)
        fit_within(legend, SAFE.width, None)
        legend.move_to([0, SAFE.bottom + legend.height / 2, 0])
        with self.narrate(
                "Each plane turns at its own speed. In the paper, theta i is b to the minus 2 times i minus 1, "
                "over d, with i counted from one. In code, inv freq of i is b to the minus 2 i over d, counted "
                "from zero: the same numbers, with the index shifted by one. The wavelength, lambda, is the "
                "number of tokens for one full turn.") as t:
            self.play(FadeIn(title), FadeIn(eq), run_time=0.25 * t.duration)
            self.play(FadeIn(notes[0]), run_time=0.2 * t.duration)
            self.play(FadeIn(notes[1]), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"Here are {spoken(len(p.dial_planes), 0)} of the {spoken(len(p.theta), 0)} planes of a head of "
                f"width {spoken(p.head_dim, 0)}, with base {spoken(p.base, 0)}. In every dial, the query's hand "
                f"is at position p, and the key's hand at p plus {spoken(p.dial_gap, 0)}.") as t:
            self.play(LaggedStart(*(FadeIn(dl) for dl in row.dials), lag_ratio=0.2), run_time=0.5 * t.duration)
            self.play(FadeIn(readout), FadeIn(legend), run_time=0.2 * t.duration)
            self.wait_for(t)
        last = len(p.dial_positions) - 1
        with self.narrate(
                "Step the positions forward. The fastest plane turns one radian per token: a full turn every "
                f"{spoken(p.fastest_wavelength)} tokens. The slowest has a wavelength of "
                f"{spoken(p.slowest_wavelength, 0)} tokens: after {spoken(p.dial_positions[last], 0)} tokens it has "
                f"turned only {spoken(p.dial_angles[last][-1], 3)} radians. In every plane, the gap between the two "
                "hands never changes. Fast planes tell neighbours apart; slow planes still separate tokens "
                "thousands of positions away.") as t:
            for k in range(1, len(p.dial_positions)):
                deltas = [math.fmod(b - a, 2 * math.pi) % (2 * math.pi)
                          for a, b in zip(p.dial_angles[k - 1], p.dial_angles[k])]
                new = self._plane_positions(p, k, row)
                self.remove(readout)  # swapped at once, like a counter: a cross-fade of two numbers reads as neither
                self.add(new)
                self.play(row.turn(deltas), run_time=0.6 * t.duration / last)
                readout = new
            self.play(Indicate(row.dials[0].caption), Indicate(row.dials[-1].caption), run_time=0.1 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.8)

    @staticmethod
    def _plane_positions(p, k: int, row):
        pos = p.dial_positions[k]
        out = label(f"q at position {pos},  k at position {pos + p.dial_gap}", size=SIZES.BODY, color=COLORS.ACCENT)
        return out.next_to(row, DOWN, buff=BUFF.MEDIUM)

    # -- the (m, n) score grid: Toeplitz or not --------------------------------------------------------------
    def score_grids(self):
        g = data.score_grids()
        ticks = [str(i) for i in range(g.n)]
        grids, titles, spreads = [], VGroup(), VGroup()
        for x, scores, name, dev in ((GRID_X[0], g.rope_scores, "RoPE: rope(q, m) · rope(k, n)", g.rope_deviation),
                                     (GRID_X[1], g.sinusoidal_scores, "added sinusoids: (q + PE_m) · (k + PE_n)",
                                      g.sinusoidal_deviation)):
            grid = MatrixGrid(scores, heat=True, show_numbers=False, cell_size=CELL, row_labels=ticks,
                              col_labels=ticks, label_size=SIZES.SMALL)
            grid.move_cells_to(x, GRID_Y)
            grids.append(grid)
            t = label(name, size=SIZES.LABEL, color=COLORS.TEXT)
            fit_within(t, 6.4, None)
            titles.add(t.next_to(grid, UP, buff=BUFF.SMALL).set_x(grid.cells.get_x()))
            spread = shown(dev, sci=2) if dev < 1e-3 else shown(dev)
            spreads.add(label(f"diagonal spread ≤ {spread}", size=SIZES.LABEL,
                              color=COLORS.ACCENT).next_to(grid, DOWN, buff=BUFF.MEDIUM).set_x(grid.cells.get_x()))
        axes = label(f"rows: query position m   columns: key position n   d = {g.head_dim}, same q and k at "
                     f"every position · {g.caption} · each grid its own colour range", size=SIZES.SMALL,
                     color=COLORS.MUTED)
        fit_within(axes, SAFE.width, None)
        axes.move_to([0, SAFE.bottom + axes.height / 2, 0])
        off = 2  # the diagonal n − m = 2 is framed in both grids
        frames = [VGroup(*(Square(CELL).set_stroke(COLORS.ACCENT, 4).move_to(gr.cells[i][i + off])
                           for i in range(g.n - off))) for gr in grids]
        with self.narrate(
                f"Now fix the content: one query and one key with {spoken(g.head_dim, 0)} dimensions, the same "
                "vectors at every position, and compute the score for every pair of positions: m down the rows, "
                "n across the columns.") as t:
            self.play(FadeIn(titles[0]), FadeIn(grids[0]), FadeIn(axes), run_time=0.5 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "With RoPE, each diagonal holds a single value, because the score depends only on n minus m. "
                "The grid is Toeplitz: along any diagonal, the values differ by at most "
                f"{spoken(g.rope_deviation, sci=2)}, which is rounding error.") as t:
            self.play(Create(frames[0]), run_time=0.35 * t.duration)
            self.play(FadeIn(spreads[0]), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "Add sinusoidal position vectors to the same query and key instead, and the diagonals break apart: "
                f"the spread reaches {spoken(g.sinusoidal_deviation)}. Cross terms between content and absolute "
                "position leak into the score. Both grids come from seeded random vectors, untrained.") as t:
            self.play(FadeIn(titles[1]), FadeIn(grids[1]), run_time=0.3 * t.duration)
            self.play(Create(frames[1]), run_time=0.25 * t.duration)
            self.play(FadeIn(spreads[1]), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.8)

    # -- long-term decay: a bound, not the score -------------------------------------------------------------
    def decay(self):
        dc = data.decay()
        eq = equation("rope_decay_bound").scale(0.75)
        eq.move_to([0, SAFE.top - eq.height / 2, 0])
        series = [("RoFormer bound B(r)", dc.distances, dc.bound_relative),
                  ("score, q = k = all ones", dc.distances, dc.constant_relative),
                  ("score, random q and k", dc.distances, dc.random_relative)]
        chart = LineChart(series, x_label="relative distance r (tokens)", y_label=f"÷ largest at r ≤ {dc.near}",
                          width=CHART_W, height=CHART_H, x_range=(0, dc.distances[-1], 256), y_range=(-2, 3, 1),
                          colors=[BOUND, CONSTANT, RANDOM], stroke_width=3)
        chart.shift([*CHART_ORIGIN, 0] - chart.origin)
        cite = CitationLine(f"{dc.cited_figure} · {dc.caption}")
        with self.narrate(
                "RoFormer also proves a long-term decay. Its bound, B of r, adds up the sizes of partial sums of "
                f"the rotations. For width {spoken(dc.head_dim, 0)}, it starts at {spoken(dc.bound_at_zero, 1)} "
                "and falls as the distance r grows. Here each curve is divided by its largest size within the "
                f"first {spoken(dc.near, 0)} tokens.") as t:
            self.play(FadeIn(eq), run_time=0.2 * t.duration)
            self.play(FadeIn(chart.frame_parts()), FadeIn(cite), run_time=0.2 * t.duration)
            self.play(chart.create_series(0), run_time=0.35 * t.duration)
            self.wait_for(t)
        with self.narrate("For a query and a key with constant content, all ones, the score follows the bound "
                          f"down: beyond {spoken(dc.far, 0)} tokens it stays below "
                          f"{spoken(dc.constant_far_over_near)} of its size near the start.") as t:
            self.play(chart.create_series(1), run_time=0.6 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "But take a random query and key, and the actual score oscillates and does not decay: beyond "
                f"{spoken(dc.far, 0)} tokens it swings {spoken(dc.random_far_over_near)} times as wide as within "
                f"the first {spoken(dc.near, 0)} tokens. The decay belongs to a bound, and to constant vectors. "
                "It is not a guarantee that attention to far tokens fades.") as t:
            self.play(chart.create_series(2), run_time=0.45 * t.duration)
            self.play(Indicate(chart.legend[2]), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.8)

    # -- norms kept; q and k only --------------------------------------------------------------------------
    def norms_and_values(self):
        nv = data.norms()
        eq = equation("rope_norm").scale(0.85)
        eq.move_to([0, 2.4, 0])
        title = heading("Lengths kept; only q and k turn")
        rows = VGroup()
        table = [("position", "‖q‖", "‖k‖")] + [(str(pos), shown(a), shown(b))
                                                 for pos, (a, b) in zip(nv.positions, nv.norms_after)]
        column_colors = (COLORS.TEXT, COLORS.Q, COLORS.K)
        for k, cells in enumerate(table):
            row = VGroup(*(label(c, size=SIZES.BODY, color=COLORS.MUTED if k == 0 else column_colors[j], mono=k > 0)
                           for j, c in enumerate(cells)))
            for lab, x in zip(row, TABLE_X):
                lab.move_to([x - lab.width / 2, 1.55 - k * 0.48, 0])   # right-aligned columns
            rows.add(row)
        chips = VGroup()
        for name in (*nv.rotated, *nv.not_rotated):
            turned = name in nv.rotated
            text = label(name, size=SIZES.BODY, color=COLORS.Q if name == "q" else COLORS.K if name == "k"
                         else COLORS.V if name == "v" else COLORS.TEXT)
            box = RoundedRectangle(width=text.width + 0.5, height=0.7, corner_radius=0.12).set_stroke(
                COLORS.ACCENT if turned else COLORS.GRID, 3)
            tag = label("rotated" if turned else "never rotated", size=SIZES.LABEL,
                        color=COLORS.ACCENT if turned else COLORS.MUTED)
            chips.add(VGroup(VGroup(box, text.move_to(box)), tag).arrange(DOWN, buff=BUFF.SMALL))
        chips.arrange(RIGHT, buff=BUFF.LARGE * 1.5, aligned_edge=UP).move_to([0, -2.75, 0])
        with self.narrate(
                "Two last facts. A rotation's transpose is its inverse, and its determinant is one, so RoPE never "
                f"changes a vector's length: the query's norm is {spoken(nv.norms_before[0])} and the key's is "
                f"{spoken(nv.norms_before[1])}, at position zero and at position {spoken(nv.positions[-1], 0)} "
                "alike.") as t:
            self.play(FadeIn(title), FadeIn(eq), run_time=0.3 * t.duration)
            self.play(LaggedStart(*(FadeIn(r, shift=RIGHT * 0.2) for r in rows), lag_ratio=0.3),
                      run_time=0.45 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "And RoPE rotates only the query and the key, after their projections, in every head. The value "
                "vector and the embedding are never rotated: position changes where attention looks, not what it "
                "carries.") as t:
            self.play(LaggedStart(*(FadeIn(c, shift=UP * 0.2) for c in chips[:2]), lag_ratio=0.3),
                      run_time=0.35 * t.duration)
            self.play(LaggedStart(*(FadeIn(c, shift=UP * 0.2) for c in chips[2:]), lag_ratio=0.3),
                      run_time=0.35 * t.duration)
            self.wait_for(t)
        self.wait(0.5)
