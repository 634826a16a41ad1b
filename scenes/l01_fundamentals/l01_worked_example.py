"""L01.7 Worked example from start to finish: the running sentence through softmax(QKᵀ/√d_k)V, one
stage at a time, checked against one call of ``attn_ref.sdpa``.

    manim -pql scenes/l01_fundamentals/l01_worked_example.py WorkedExample

Every number comes from ``data.worked_example()``; this file holds layout and timing only.
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Arrow, Create, FadeIn, FadeOut, Indicate, LaggedStart, Rectangle,
                   ReplacementTransform, Transform, VGroup, Write)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import AttentionGrid, CodePanel, MatrixGrid, SoftmaxBars, TokenRow, fit_within, label
from scenes.kit.mobjects.code_panel import body_lines
from scenes.kit.mobjects.pipeline_strip import PipelineStrip
from scenes.kit.mobjects.text import expression
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l01_fundamentals.data import D_MODEL, QUERY_TOKEN, dot_product_walkthrough, worked_example

CELL = 1.06  # wide enough for "−1.16" at SIZES.SMALL (numbers fill 84 % of a cell)
THUMB = 0.2  # cell of the small heat maps on the shelf of finished matrices
SHELF_X = -6.05  # centre of the shelf (left edge of the frame)
MAIN_LEFT = -5.05  # left edge of the big grids when the shelf is out
STAGE_Y = -0.4  # centre of the cells of the big grids, below the strip
TITLE_BUFF = BUFF.SMALL
QKV = {"Q": COLORS.Q, "K": COLORS.K, "V": COLORS.V, "P": COLORS.WEIGHT}
STAGES = (("X", None), ("Q K V", None), ("QKᵀ", "SCORE"), ("÷ √dₖ", "SCORE"), ("softmax", "WEIGHT"),
          ("P V", "OUTPUT"), ("check", "ACCENT"))


def thumb(values, role: str | None, name, name_color: str = COLORS.TEXT) -> VGroup:
    """A small heat map of a finished matrix (its numbers were shown before), named on its left."""
    grid = MatrixGrid(values, heat=True, show_numbers=False, cell_size=THUMB, role=role)
    tag = name if isinstance(name, VGroup) else label(name, size=SIZES.LABEL, color=name_color)
    tag.next_to(grid, LEFT, buff=BUFF.SMALL)
    return VGroup(grid, tag)


def big(values, tokens=None, role: str | None = None, cols=None, row_role=None, col_role=None) -> MatrixGrid:
    """A matrix with readable numbers (SIZES.SMALL); tokens as row labels when given."""
    return MatrixGrid(values, cell_size=CELL, font_size=SIZES.SMALL, row_labels=tokens, role=role,
                      col_labels=cols, row_role=row_role, col_role=col_role)


def body(grid: MatrixGrid) -> VGroup:
    """Cells, numbers and frame of a grid (what morphs from stage to stage)."""
    return VGroup(grid.cells, grid.numbers, grid.frame)


class WorkedExample(LectureScene):
    closing_fade = 1.0

    def construct(self):
        w = self.w = worked_example()
        self.toks = list(w.tokens)
        self.n, self.d = len(w.x), len(w.x[0])
        self.qi = self.toks.index(QUERY_TOKEN)  # the query followed through the example ("sat")
        self.ki = dot_product_walkthrough().key_index  # the key of the score worked out by hand in L01.5
        self.topic("L01.7", "Worked example from start to finish")
        self.intro()
        self.embeddings()
        self.projections()
        self.scores()
        self.scaling()
        self.softmax()
        self.weighted_sum()
        self.reference_code()
        self.reference_check()

    def consolidate(self, whole) -> None:
        """Replace the parts of ``whole`` that were added one by one with ``whole`` itself."""
        family = set(whole.get_family())
        self.remove(*[m for m in self.mobjects if m in family])
        self.add(whole)

    # -- intro: the one line we are about to unpack ------------------------------------------------------
    def intro(self):
        eq = equation("sdpa").move_to(UP * 0.3)
        strip = self.strip = PipelineStrip(STAGES, colors=QKV).to_edge(UP, buff=SAFE.margin)
        with self.narrate(
                "Let's put every piece together and run attention once, from start to finish, on our "
                f"{self.n}-token sentence, with every number from the reference library. The whole computation "
                "is this one line; the strip at the top breaks it into steps.") as t:
            self.play(Write(eq), run_time=0.3 * t.duration)
            self.wait(0.2 * t.duration)
            self.play(FadeIn(strip, shift=DOWN * 0.2), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(Indicate(s, color=COLORS.ACCENT, scale_factor=1.08) for s in strip.stages),
                                  lag_ratio=0.3), run_time=0.3 * t.duration)
        self.play(FadeOut(eq, shift=DOWN * 0.3), run_time=0.6)

    # -- stage 0: embeddings X ---------------------------------------------------------------------------
    def embeddings(self):
        w, toks, n, d = self.w, self.toks, self.n, self.d
        sentence = TokenRow(toks, font_size=SIZES.BODY).move_to(UP * 0.5)
        x_grid = self.x_grid = big(w.x, toks)
        x_grid.shift([-0.6 - x_grid.get_x(), STAGE_Y - x_grid.cells.get_y(), 0])
        x_title = self.x_title = expression("embeddings", "X").next_to(x_grid.cells, UP, buff=TITLE_BUFF)
        x_dims = self.x_dims = VGroup(label(f"{n} tokens", size=SIZES.LABEL, color=COLORS.MUTED),
                                      label(f"d = {D_MODEL} numbers each", size=SIZES.LABEL, color=COLORS.MUTED))
        x_dims.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL).next_to(x_grid.cells, RIGHT, buff=BUFF.LARGE)
        with self.narrate(
                f"We start with the embeddings: each of the {n} tokens enters as a row of {d} numbers, rounded "
                "to two decimals, so what you see is exactly what goes in.") as t:
            self.play(self.strip.animate.set_current(0), FadeIn(sentence, shift=UP * 0.2),
                      run_time=0.2 * t.duration)
            self.wait(0.1 * t.duration)
            self.play(*(ReplacementTransform(sentence.labels[i], x_grid.row_labels[i]) for i in range(n)),
                      FadeOut(sentence.boxes), run_time=0.25 * t.duration)
            self.play(FadeIn(x_grid.cells), FadeIn(x_title), x_grid.reveal_numbers(lag_ratio=0.2),
                      run_time=0.25 * t.duration)
            self.play(FadeIn(x_dims), run_time=0.1 * t.duration)
        self.consolidate(x_grid)

    # -- stage 1: projections X W = Q, K, V ---------------------------------------------------------------
    def projections(self):
        w, toks, qi = self.w, self.toks, self.qi
        x_small = big(w.x, toks)
        x_small.move_to([SAFE.left + 0.1 + x_small.width / 2, STAGE_Y, 0])
        x_title2 = expression("X").next_to(x_small.cells, UP, buff=TITLE_BUFF)
        times = label("×", size=SIZES.HEADING).next_to(x_small.cells, RIGHT, buff=BUFF.MEDIUM)
        w_thumbs = []
        for m, r in ((w.w_q, "Q"), (w.w_k, "K"), (w.w_v, "V")):
            grid = MatrixGrid(m, heat=True, show_numbers=False, cell_size=0.3, role=r)
            tag = expression("W", (r, COLORS[r], "sub")).next_to(grid, DOWN, buff=BUFF.SMALL)
            th = VGroup(grid, tag).next_to(times, RIGHT, buff=BUFF.MEDIUM)
            th.shift(UP * (x_small.cells.get_y() - grid.get_y()))
            w_thumbs.append(th)
        equals = label("=", size=SIZES.HEADING).next_to(w_thumbs[0], RIGHT, buff=BUFF.MEDIUM).set_y(times.get_y())
        outs = [big(m, role=r) for m, r in ((w.q, "Q"), (w.k, "K"), (w.v, "V"))]
        for g in outs:
            g.next_to(equals, RIGHT, buff=BUFF.MEDIUM).set_y(x_small.cells.get_y())
        out_titles = [expression((r, COLORS[r]), "= X W", (r, COLORS[r], "sub")).next_to(g.cells, UP,
                                                                                       buff=TITLE_BUFF)
                      for g, r in zip(outs, "QKV")]
        meaning = ["what each token is looking for", "what each token offers to be found by",
                   "the content each token hands over"]
        notes = [label(m, size=SIZES.SMALL, color=COLORS[r]).next_to(g.cells, DOWN, buff=BUFF.SMALL)
                 for m, r, g in zip(meaning, "QKV", outs)]
        hl_x, hl_q = x_small.row_box(qi), outs[0].row_box(qi)
        with self.narrate(
                "Next come three learned projections. X times W_Q gives the queries: one row per token, saying "
                f"what that token is looking for. The row of {QUERY_TOKEN} in X, times W_Q, is the row of "
                f"{QUERY_TOKEN} in Q.") as t:
            self.play(self.strip.animate.set_current(1), FadeOut(self.x_dims), FadeOut(self.x_title),
                      ReplacementTransform(self.x_grid, x_small), run_time=0.2 * t.duration)
            self.play(FadeIn(x_title2), FadeIn(times), FadeIn(w_thumbs[0]), FadeIn(equals),
                      run_time=0.15 * t.duration)
            self.play(FadeIn(outs[0].cells), FadeIn(outs[0].frame), FadeIn(out_titles[0]),
                      outs[0].reveal_numbers(lag_ratio=0.15), run_time=0.25 * t.duration)
            self.consolidate(outs[0])
            self.play(FadeIn(notes[0]), run_time=0.1 * t.duration)
            self.play(Create(hl_x), run_time=0.1 * t.duration)
            self.play(ReplacementTransform(hl_x.copy(), hl_q), run_time=0.12 * t.duration)
        self.play(FadeOut(hl_x), FadeOut(hl_q), run_time=0.4)
        with self.narrate(
                "X times W_K gives the keys, what each token offers to be found by. X times W_V gives the "
                "values, the content it hands over.") as t:
            for k in (1, 2):
                self.play(ReplacementTransform(w_thumbs[k - 1], w_thumbs[k]),
                          ReplacementTransform(outs[k - 1], outs[k]),
                          ReplacementTransform(out_titles[k - 1], out_titles[k]),
                          ReplacementTransform(notes[k - 1], notes[k]), run_time=0.15 * t.duration)
                self.wait(0.25 * t.duration)

        # the shelf: Q, K, V as small heat maps on the left, for the rest of the example
        shelf = self.shelf = VGroup(*(thumb(m, r, r, COLORS[r]) for m, r in ((w.q, "Q"), (w.k, "K"), (w.v, "V"))))
        shelf.arrange(DOWN, buff=BUFF.MEDIUM, aligned_edge=RIGHT).move_to([SHELF_X, STAGE_Y + 0.6, 0])
        self.play(FadeOut(VGroup(x_small, x_title2, times, equals, w_thumbs[2], out_titles[2], notes[2])),
                  ReplacementTransform(outs[2], shelf[2]), FadeIn(shelf[0]), FadeIn(shelf[1]), run_time=1.2)
        self.consolidate(shelf)

    # -- stage 2: scores Q Kᵀ ----------------------------------------------------------------------------
    def scores(self):
        w, toks, qi, ki = self.w, self.toks, self.qi, self.ki
        s_grid = self.s_grid = big(w.scores, toks, role="SCORE", cols=toks, row_role="Q", col_role="K")
        s_grid.shift([MAIN_LEFT - s_grid.get_left()[0], STAGE_Y - s_grid.cells.get_y(), 0])
        side_left = s_grid.get_right()[0] + BUFF.LARGE
        s_title = self.s_title = expression("scores", ("S", COLORS.SCORE), "=", ("Q", COLORS.Q), ("Kᵀ", COLORS.K))
        s_title.move_to([side_left + s_title.width / 2, s_grid.cells.get_top()[1] - 0.2, 0])
        rows_note = self.rows_note = VGroup(label("row i: query i", size=SIZES.LABEL, color=COLORS.Q),
                                            label("column j: key j", size=SIZES.LABEL, color=COLORS.K))
        rows_note.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        rows_note.next_to(s_title, DOWN, buff=BUFF.LARGE, aligned_edge=LEFT)
        cell_hl = self.cell_hl = s_grid.highlight_cell(qi, ki)
        cell_note = self.cell_note = VGroup(
            label(f"{QUERY_TOKEN} · {toks[ki]} = {shown(w.scores[qi][ki])}", size=SIZES.LABEL,
                  color=COLORS.ACCENT),
            label("worked out by hand earlier", size=SIZES.SMALL, color=COLORS.MUTED))
        cell_note.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        cell_note.next_to(rows_note, DOWN, buff=BUFF.LARGE, aligned_edge=LEFT)
        with self.narrate(
                "Now every query meets every key. The score matrix, Q times K transposed, holds one dot product "
                f"for every pair. Where the query of {QUERY_TOKEN} meets the key of {toks[ki]}, we find "
                f"{spoken(w.scores[qi][ki])}, the dot product we worked out by hand earlier.") as t:
            self.play(self.strip.animate.set_current(2), Indicate(self.shelf[0], color=COLORS.Q),
                      Indicate(self.shelf[1], color=COLORS.K), run_time=0.15 * t.duration)
            self.play(FadeIn(s_grid.cells), FadeIn(s_grid.row_labels), FadeIn(s_grid.col_labels),
                      FadeIn(s_title), run_time=0.15 * t.duration)
            self.play(s_grid.reveal_numbers(lag_ratio=0.3, shift=0.0), run_time=0.2 * t.duration)
            self.consolidate(s_grid)
            self.play(FadeIn(rows_note), run_time=0.1 * t.duration)
            self.wait(0.1 * t.duration)
            self.play(Create(cell_hl), FadeIn(cell_note), run_time=0.15 * t.duration)

    # -- stage 3: scale by 1/√d_k ---------------------------------------------------------------------------
    def scaling(self):
        w, s_grid = self.w, self.s_grid
        sc_grid = s_grid.with_values(w.scaled)
        sc_title = self.sc_title = expression(("S", COLORS.SCORE), "/ √dₖ").move_to(self.s_title, aligned_edge=LEFT)
        sc_eq = self.sc_eq = equation("scaled_score").scale(0.85).next_to(sc_title, DOWN, buff=BUFF.LARGE,
                                                                          aligned_edge=LEFT)
        sc_note = self.sc_note = VGroup(label(f"dₖ = {D_MODEL}", size=SIZES.LABEL, color=COLORS.MUTED),
                                        label(f"1 / √dₖ = {shown(w.scale)}", size=SIZES.LABEL, color=COLORS.SCORE))
        sc_note.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        sc_note.next_to(sc_eq, DOWN, buff=BUFF.LARGE, aligned_edge=LEFT)
        corner = s_grid.highlight_cell(0, 0)
        with self.narrate(
                f"Before the softmax, we divide by the square root of d_k. Here d_k is {D_MODEL}, so every "
                f"score is multiplied by {spoken(w.scale)}. The top-left score, "
                f"{spoken(w.scores[0][0])}, becomes {spoken(w.scaled[0][0])}.") as t:
            self.play(self.strip.animate.set_current(3), FadeOut(self.cell_hl), FadeOut(self.cell_note),
                      FadeOut(self.rows_note), ReplacementTransform(self.s_title, sc_title),
                      run_time=0.15 * t.duration)
            self.play(Write(sc_eq), FadeIn(sc_note), run_time=0.2 * t.duration)
            self.play(Transform(s_grid.numbers, sc_grid.numbers), run_time=0.25 * t.duration)
            self.play(Create(corner), run_time=0.1 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(corner), run_time=0.4)

    # -- stage 4: softmax along each row --------------------------------------------------------------------
    def softmax(self):
        w, toks, n, qi, s_grid = self.w, self.toks, self.n, self.qi, self.s_grid
        p_grid = self.p_grid = AttentionGrid(w.weights, toks, toks, cell_size=CELL, show_row_sums=True,
                                             axis_titles=False)
        p_grid.shift(s_grid.cells.get_center() - p_grid.cells.get_center())
        p_grid.caption.next_to(p_grid.cells, DOWN, buff=BUFF.SMALL)  # clear of the bottom of the safe area
        br = max(qi - 1, 0)  # the row read aloud before "sat": "cat"
        top_j = max(range(n), key=lambda j: w.weights_shown[br][j])  # where that row's weight goes most
        rank = self.rank = sorted(range(n), key=lambda j: -w.weights_shown[qi][j])  # "sat"'s keys, heaviest first
        bars = SoftmaxBars(w.weights[br], toks, max_height=2.2, bar_width=0.55, spacing=0.25,
                           font_size=SIZES.SMALL, label_size=SIZES.SMALL)
        side = VGroup(label(f"the row of “{toks[br]}”", size=SIZES.LABEL, color=COLORS.Q), bars)
        side.arrange(DOWN, buff=BUFF.LARGE)
        side_left = p_grid.get_right()[0] + BUFF.LARGE
        fit_within(side, SAFE.right - side_left, None)
        side.move_to([(side_left + SAFE.right) / 2, s_grid.cells.get_y(), 0])
        hl_row, self.hl_row2 = p_grid.highlight_row(br), p_grid.highlight_row(qi)
        with self.narrate(
                "Softmax then runs along each row, turning scores into weights that add up to one. The column "
                "on the right checks it: every row, rounded to two decimals, "
                f"still sums to {p_grid.row_sum_texts()[0]}. Read the row of {toks[br]}: "
                f"{spoken(w.weights_shown[br][top_j])} of its attention goes to {toks[top_j]}, "
                f"and the rest is spread thin. The row of {QUERY_TOKEN} is more divided: "
                f"{spoken(w.weights_shown[qi][rank[0]])} to {toks[rank[0]]}, and "
                f"{spoken(w.weights_shown[qi][rank[1]])} to {toks[rank[1]]}.") as t:
            self.play(self.strip.animate.set_current(4), FadeOut(self.sc_eq), FadeOut(self.sc_note),
                      FadeOut(self.sc_title), run_time=0.1 * t.duration)
            rows = [LaggedStart(FadeOut(s_grid.numbers[i], shift=RIGHT * 0.1),
                                FadeIn(VGroup(p_grid.numbers[i], p_grid.dots[i]), shift=RIGHT * 0.1), lag_ratio=0.5)
                    for i in range(n)]
            self.play(FadeOut(s_grid.cells), FadeOut(s_grid.frame), FadeIn(p_grid.cells),
                      ReplacementTransform(s_grid.row_labels, p_grid.row_labels),
                      ReplacementTransform(s_grid.col_labels, p_grid.col_labels), FadeIn(p_grid.caption),
                      LaggedStart(*rows, lag_ratio=0.35), run_time=0.25 * t.duration)
            self.remove(s_grid, *s_grid.submobjects)
            self.play(FadeIn(p_grid.row_sums_header),
                      LaggedStart(*(FadeIn(s) for s in p_grid.row_sums), lag_ratio=0.3), run_time=0.15 * t.duration)
            self.consolidate(p_grid)
            self.play(Create(hl_row), FadeIn(side), run_time=0.15 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(ReplacementTransform(hl_row, self.hl_row2), FadeOut(side), run_time=0.1 * t.duration)
            self.wait_for(t)

    # -- stage 5: the weighted sum of the values --------------------------------------------------------------
    def weighted_sum(self):
        w, toks, n, d, qi, rank, shelf = self.w, self.toks, self.n, self.d, self.qi, self.rank, self.shelf
        p_thumb = self.p_thumb = thumb(w.weights, None, "P", COLORS.WEIGHT)
        shelf4 = VGroup(*(s.copy() for s in shelf), p_thumb).arrange(DOWN, buff=BUFF.MEDIUM, aligned_edge=RIGHT)
        shelf4.move_to([SHELF_X, STAGE_Y, 0])
        v_grid = self.v_grid = big(w.v, toks, role="V")
        out_grid = self.out_grid = big(w.output, role="OUTPUT")
        wcol = VGroup(*(label(f"{shown(w.weights_shown[qi][j])} ×", size=SIZES.SMALL, color=COLORS.WEIGHT,
                              mono=True) for j in range(n)))
        wcol.arrange(DOWN, aligned_edge=RIGHT)
        x0 = shelf4.get_right()[0] + BUFF.MEDIUM
        wcol.move_to([x0 + wcol.width / 2, 0, 0])
        v_grid.next_to(wcol, RIGHT, buff=BUFF.SMALL)
        v_grid.shift(UP * (STAGE_Y - v_grid.cells.get_y()))
        for j in range(n):
            wcol[j].set_y(v_grid.cells[j][0].get_y())
        out_grid.next_to(v_grid.cells, RIGHT, buff=0.75).set_y(v_grid.cells.get_y())
        wcol_title = label(f"P of “{QUERY_TOKEN}”", size=SIZES.SMALL, color=COLORS.WEIGHT)
        wcol_title.next_to(v_grid.cells, UP, buff=TITLE_BUFF).set_x(wcol.get_x())
        v_title = self.v_title = expression(("V", COLORS.V)).next_to(v_grid.cells, UP, buff=TITLE_BUFF)
        o_title = self.o_title = expression("output", ("P", COLORS.WEIGHT), ("V", COLORS.V)).next_to(
            out_grid.cells, UP, buff=TITLE_BUFF)
        sigma = Arrow(v_grid.cells[qi][-1].get_right(), out_grid.cells[qi][0].get_left(), buff=0.1,
                      color=COLORS.OUTPUT, stroke_width=5)
        sigma_label = label("Σ", size=SIZES.BODY, color=COLORS.OUTPUT).next_to(sigma, UP, buff=BUFF.TIGHT)
        out_row = VGroup(out_grid.cells[qi], out_grid.numbers[qi])
        others = [VGroup(out_grid.cells[i], out_grid.numbers[i]) for i in range(n) if i != qi]
        top = max(w.weights[qi])
        with self.narrate(
                f"Finally, the weights mix the values. For {QUERY_TOKEN}, each value row is scaled by its "
                "weight, drawn fainter when the weight is small, and the scaled rows are added up: one new row "
                f"of {d} numbers, the output for {QUERY_TOKEN}, leaning on the values of {toks[rank[0]]} and "
                f"{toks[rank[1]]}.") as t:
            self.play(self.strip.animate.set_current(5), FadeOut(self.hl_row2),
                      ReplacementTransform(self.p_grid, p_thumb),
                      *(Transform(shelf[k], shelf4[k]) for k in range(3)), run_time=0.2 * t.duration)
            self.play(ReplacementTransform(shelf[2].copy(), body(v_grid)), FadeIn(v_grid.row_labels),
                      FadeIn(v_title), run_time=0.15 * t.duration)
            self.consolidate(v_grid)
            self.play(FadeIn(wcol_title), LaggedStart(*(FadeIn(c, shift=RIGHT * 0.2) for c in wcol), lag_ratio=0.2),
                      run_time=0.15 * t.duration)
            self.play(*(v_grid.numbers[j].animate.set_opacity(0.25 + 0.75 * w.weights[qi][j] / top)
                        for j in range(n)), run_time=0.15 * t.duration)
            self.play(Create(sigma), FadeIn(sigma_label), FadeIn(o_title), run_time=0.12 * t.duration)
            self.play(FadeIn(out_grid.frame), FadeIn(out_row, shift=RIGHT * 0.3), run_time=0.13 * t.duration)
        with self.narrate(
                "Doing this for every query at once is one matrix product, P times V: one new vector per "
                "token, each a weighted mix of the whole sentence.") as t:
            self.play(FadeOut(sigma), FadeOut(sigma_label), FadeOut(wcol), FadeOut(wcol_title),
                      v_grid.numbers.animate.set_opacity(1), run_time=0.25 * t.duration)
            self.play(LaggedStart(*(FadeIn(r, shift=RIGHT * 0.3) for r in others), lag_ratio=0.25),
                      run_time=0.45 * t.duration)
        self.consolidate(out_grid)

    # -- stage 6: check against one call of ar.sdpa -----------------------------------------------------------
    def reference_code(self):
        w = self.w
        panel = self.panel = CodePanel(w.code_ref, lines=body_lines(w.code_ref)).move_to(DOWN * 0.2)
        src = panel.source.splitlines()
        steps = [next(k for k, line in enumerate(src) if s in line) for s in ("attention_scores(", "softmax(", "@ v")]
        line_hls = self.line_hls = []
        for k, c in zip(steps, (COLORS.SCORE, COLORS.WEIGHT, COLORS.OUTPUT)):
            end = k                                      # a statement may continue on the next lines
            while src[k:end + 1] and "".join(src[k:end + 1]).count("(") > "".join(src[k:end + 1]).count(")"):
                end += 1
            lines = VGroup(*panel.code.code_lines[k:end + 1])
            r = Rectangle(width=panel.code.width - 0.16, height=lines.height + 0.07)
            line_hls.append(r.move_to([panel.code.get_x(), lines.get_y(), 0]).set_stroke(c, 3).set_fill(c, 0.12))
        with self.narrate(
                "Is this really what attention computes? Here is the reference implementation, read from the "
                "library's source. It computes the scaled scores, applies softmax along the last dimension, "
                "that is, along each row, and multiplies by V: the same three steps.") as t:
            self.play(self.strip.animate.set_current(6),
                      FadeOut(VGroup(self.v_grid, self.v_title, self.out_grid, self.o_title, self.shelf,
                                     self.p_thumb)), run_time=0.15 * t.duration)
            self.play(FadeIn(panel, shift=UP * 0.2), run_time=0.15 * t.duration)
            self.wait(0.15 * t.duration)
            for r in line_hls:
                self.play(FadeIn(r), run_time=0.1 * t.duration)
                self.wait(0.08 * t.duration)
            self.wait_for(t)

    def reference_check(self):
        w, toks, n = self.w, self.toks, self.n
        step = big(w.output, toks, role="OUTPUT")
        ref = big(w.sdpa_output, role="OUTPUT")
        eq_sign = label("=", size=SIZES.HEADING)
        pair = VGroup(step, eq_sign, ref).arrange(RIGHT, buff=BUFF.LARGE)
        pair.shift([-pair.get_x(), STAGE_Y - step.cells.get_y(), 0])
        step_title = label("step by step:  P V", size=SIZES.LABEL, color=COLORS.TEXT,
                           t2c={"P": COLORS.WEIGHT, "V": COLORS.V})
        step_title.next_to(step.cells, UP, buff=TITLE_BUFF)
        ref_title = label("one call:  ar.sdpa(Q, K, V)", size=SIZES.LABEL, color=COLORS.TEXT,
                          t2c={"Q": COLORS.Q, "K": COLORS.K, "V": COLORS.V})
        ref_title.next_to(ref.cells, UP, buff=TITLE_BUFF)
        diff = label(f"largest difference:  {shown(w.max_abs_diff, sci=2)}", size=SIZES.BODY, color=COLORS.ACCENT)
        diff.next_to(pair, DOWN, buff=BUFF.SMALL)
        with self.narrate(
                "Call it once, on the same Q, K and V, and compare. The two results agree entry for entry: the "
                f"largest difference is {spoken(w.max_abs_diff, sci=2)}, nothing but floating-point rounding.") as t:
            self.play(FadeOut(self.panel), *(FadeOut(r) for r in self.line_hls), run_time=0.12 * t.duration)
            self.play(FadeIn(step), FadeIn(step_title), run_time=0.15 * t.duration)
            self.play(FadeIn(ref), FadeIn(ref_title), FadeIn(eq_sign), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(Indicate(VGroup(step.numbers[i], ref.numbers[i]), color=COLORS.ACCENT,
                                             scale_factor=1.05) for i in range(n)), lag_ratio=0.3),
                      run_time=0.25 * t.duration)
            self.play(FadeIn(diff, shift=UP * 0.2), run_time=0.12 * t.duration)
            self.wait_for(t)
        self.wait(0.5)
