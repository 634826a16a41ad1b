"""L01.5 Dot-product attention mathematics: QKᵀ and its shapes, one score worked product by product, the
score grid, the weighted sum of value rows for one query, and the SDPA equation assembled piece by piece.

Numbers: ``data.dot_product_walkthrough()`` (+ ``data_qkv_extra.score_grid_extra()`` for Kᵀ and rounding that
adds up on screen); formulas: ``qk_shape``, ``score_dot``, ``attention_weights``, ``weighted_sum``, ``sdpa``.
This file holds layout and timing only.

    manim -pql scenes/l01_fundamentals/l01_dot_product.py DotProductAttention
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Group, Indicate, LaggedStart, Line,
                   ReplacementTransform, VGroup, Write)

from scenes.kit.equations import equation
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitationLine, MatrixGrid, VectorColumn, label, number
from scenes.kit.mobjects.text import format_number
from scenes.kit.mobjects.layout import check_safe_area as check_frame
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.references import VASWANI
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l01_fundamentals import data
from scenes.l01_fundamentals.data import score_grid_extra
TITLE = "Dot-product attention"
CELL = 1.06  # two-decimal numbers at SIZES.SMALL fit a cell this wide




def say_number(x: float, decimals: int = 2) -> str:
    """A number as the narration writes it, with a real minus sign (the lexicon says "minus")."""
    return format_number(x, decimals)


def sdpa_parts(eq) -> dict[str, VGroup]:
    """Split ``equation("sdpa", isolate=[softmax, √d_k, =])`` into the pieces the narration names:
    ``lhs`` Attention(Q, K, V), ``equals``, ``softmax`` (the word and its brackets), ``num`` (QKᵀ),
    ``den`` (the fraction bar and √d_k) and ``v`` (the final V). Found by position, from the isolated parts."""
    ids = dict((tex, []) for tex, _ in eq.matched_strings_and_ids)
    for tex, i in eq.matched_strings_and_ids:
        ids[tex].append(eq.id_to_vgroup_dict[i])
    equals = ids["="][0]
    soft = ids[r"\operatorname{softmax}"][0]
    sqrt = ids[r"\sqrt{d_{k}}"][0]
    last_v = max(ids["V"], key=lambda g: g.get_x())
    glyphs = list(eq[0])
    used = {id(g) for grp in (soft, sqrt, last_v) for g in grp.family_members_with_points()}
    x_eq = equals.get_left()[0]
    lhs = [g for g in glyphs if g.get_x() < x_eq]
    rest = [g for g in glyphs if g.get_x() > equals.get_right()[0] and id(g) not in used]
    bar = max((g for g in rest if g.height < 0.08), key=lambda g: g.width)
    num = [g for g in rest if g is not bar and g.get_y() > bar.get_y() and bar.get_left()[0] <= g.get_x()
           <= bar.get_right()[0]]
    brackets = [g for g in rest if g is not bar and g not in num]
    return {"lhs": VGroup(*lhs), "equals": VGroup(*equals), "softmax": VGroup(*soft, *brackets),
            "num": VGroup(*num), "den": VGroup(bar, *sqrt), "v": VGroup(*last_v)}


class DotProductAttention(LectureScene):
    """L01.5: S = QKᵀ (shapes), S_ij = q_i · k_j worked out, the grid, o_i = Σ_j A_ij v_j, then SDPA."""

    def construct(self):
        self.topic("L01.5", "Dot-product attention mathematics")
        self.w = data.dot_product_walkthrough()
        self.extra = score_grid_extra()
        self.title = heading(TITLE)
        self.shapes()
        self.one_score()
        self.full_grid()
        self.weighted_sum()
        self.assemble()
        check_frame(self)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.8)

    # ------------------------------------------------------------------------------------ Q Kᵀ shapes
    def shapes(self):
        w, tokens = self.w, self.w.tokens
        small = 0.65
        q = MatrixGrid(data.qkv_projections().q, show_numbers=False, role="Q", row_labels=tokens, row_role="Q",
                       cell_size=small, label_size=SIZES.SMALL)
        kt = MatrixGrid(self.extra.kt, show_numbers=False, role="K", cell_size=small)
        s = MatrixGrid(w.scores, show_numbers=False, role="SCORE", row_labels=tokens, row_role="Q",
                       cell_size=small, label_size=SIZES.SMALL)
        times, equals = label("\u00d7", size=SIZES.HEADING), label("=", size=SIZES.HEADING)
        row = VGroup(q, times, kt, equals, s).arrange(RIGHT, buff=0.4)
        for m in (times, equals):
            m.set_y(s.cells.get_y())
        row.move_to([0, -0.3, 0])
        for m in (q, kt):
            m.shift(UP * (s.cells.get_y() - m.cells.get_y()))
        names = VGroup()
        for grid, text, color, shape in ((q, "Q", COLORS.Q, w.q_shape), (kt, "K\u1d40", COLORS.K, w.kt_shape),
                                         (s, "Q K\u1d40", COLORS.SCORE, w.scores_shape)):
            nm = label(text, size=SIZES.BODY, color=color)
            dims = label(f"{shape[0]} \u00d7 {shape[1]}", size=SIZES.LABEL, color=COLORS.MUTED)
            names.add(VGroup(nm, dims).arrange(DOWN, buff=BUFF.SMALL).next_to(grid.cells, DOWN, buff=BUFF.MEDIUM))
        bottom = min(n.get_bottom()[1] for n in names)
        for n in names:
            n.shift(UP * (bottom - n.get_bottom()[1]))
        eq = equation("qk_shape").move_to([0, 2.35, 0])
        n_q, d_k = w.q_shape
        m_k = w.kt_shape[1]
        with self.narrate("Stack the queries of all the tokens as the rows of a matrix Q, and the keys as the "
                          "rows of K. Transposing K turns every key into a column, so one "
                          "matrix product, Q Kᵀ, compares every query with every key.") as t:
            self.play(FadeIn(self.title), run_time=0.6)
            self.play(FadeIn(q), FadeIn(names[0]), run_time=0.25 * t.duration)
            self.play(FadeIn(times), FadeIn(kt), FadeIn(names[1]), run_time=0.25 * t.duration)
            self.play(FadeIn(equals), FadeIn(s), FadeIn(names[2]), run_time=0.25 * t.duration)
        with self.narrate(f"In shapes, n by d_k times d_k by m gives n by m: one score for "
                          f"every pair of a query and a key. For our sentence, that is {n_q} by {d_k}, times "
                          f"{d_k} by {m_k}: a {n_q} by {m_k} grid.") as t:
            self.play(Write(eq), run_time=0.4 * t.duration)
            self.play(LaggedStart(*(Indicate(n[1], color=COLORS.ACCENT) for n in names), lag_ratio=0.35),
                      run_time=0.45 * t.duration)
        check_frame(self)
        self.shape_mobs = VGroup(q, times, kt, equals, names[0], names[1], eq)
        self.small_s, self.small_s_name = s, names[2]

    # ------------------------------------------------------------------------------------ one score
    def one_score(self):
        w, tokens = self.w, self.w.tokens
        i, j = w.query_index, w.key_index
        s = MatrixGrid(w.scores, role="SCORE", row_labels=tokens, col_labels=tokens, row_role="Q", col_role="K",
                       cell_size=CELL, font_size=SIZES.SMALL, label_size=SIZES.LABEL)
        s.move_to([SAFE.left + s.width / 2 + 0.05, 0, 0]).align_to([0, SAFE.top - 0.75, 0], UP)
        for row in s.numbers:
            for t in row:
                t.set_color(COLORS.SCORE)
        self.s = s
        caption = label("row = query,  column = key", size=SIZES.SMALL, color=COLORS.MUTED)
        caption.next_to(s.cells, DOWN, buff=BUFF.SMALL)
        self.caption = caption

        # the worked product, right of the grid: q and k as columns, products, their sum
        entry = 0.62
        q_col = VectorColumn(w.q_row, label_text=f"query {tokens[i]}", role="Q", entry_height=entry)
        k_col = VectorColumn(w.k_row, label_text=f"key {tokens[j]}", role="K", entry_height=entry)
        p_col = VectorColumn(w.products_shown, label_text="products", role="SCORE", entry_height=entry)
        cols = VGroup(q_col, k_col, p_col).arrange(RIGHT, buff=0.75, aligned_edge=DOWN)
        cols.move_to([(s.get_right()[0] + SAFE.right) / 2, 0.15, 0])
        times = VGroup(*(label("\u00d7", size=SIZES.LABEL, color=COLORS.MUTED).move_to(
            [(q_col.get_right()[0] + k_col.get_left()[0]) / 2, e.get_y(), 0]) for e in q_col.entries))
        equals = VGroup(*(label("=", size=SIZES.LABEL, color=COLORS.MUTED).move_to(
            [(k_col.get_right()[0] + p_col.get_left()[0]) / 2, e.get_y(), 0]) for e in q_col.entries))
        rule = Line(p_col.brackets.get_corner(DOWN + LEFT), p_col.brackets.get_corner(DOWN + RIGHT))
        rule.shift(DOWN * 0.2).set_stroke(COLORS.TEXT, 2)
        total = number(w.score_shown, 2, SIZES.BODY, COLORS.SCORE)
        total.next_to(rule, DOWN, buff=0.2).align_to(p_col.entries, RIGHT)
        total_name = label("sum", size=SIZES.LABEL, color=COLORS.MUTED)
        total_name.next_to(rule, LEFT, buff=0.35).set_y(total.get_y())
        eq = equation("score_dot").move_to([cols.get_x(), 2.45, 0])
        hi_row, hi_col = s.highlight_row(i, COLORS.Q), s.highlight_col(j, COLORS.K)

        with self.narrate("Let's compute one score by hand. Each row of the grid "
                          f"belongs to one query, each column to one key. Take the query of {tokens[i]} and the "
                          f"key of {tokens[j]}.") as t:
            self.play(FadeOut(self.shape_mobs),
                      ReplacementTransform(self.small_s.cells, s.cells),
                      ReplacementTransform(self.small_s.frame, s.frame),
                      ReplacementTransform(self.small_s.row_labels, s.row_labels),
                      FadeIn(s.col_labels),
                      FadeOut(self.small_s_name), run_time=0.3 * t.duration)
            self.play(FadeIn(caption), run_time=0.1 * t.duration)
            self.play(Create(hi_row), ReplacementTransform(s.row_labels[i].copy(), q_col.label),
                      FadeIn(VGroup(q_col.brackets, q_col.entries), shift=RIGHT * 0.3), run_time=0.22 * t.duration)
            self.play(Create(hi_col), ReplacementTransform(s.col_labels[j].copy(), k_col.label),
                      FadeIn(VGroup(k_col.brackets, k_col.entries), shift=RIGHT * 0.3), run_time=0.22 * t.duration)

        with self.narrate("Multiply their numbers position by position, then add up the products. That is the dot "
                          "product: large when the two vectors point the same way, negative when they point in "
                          "opposite directions.") as t:
            self.play(Write(eq), FadeIn(times), run_time=0.2 * t.duration)
            self.play(FadeIn(equals), FadeIn(p_col.brackets), FadeIn(p_col.label), run_time=0.1 * t.duration)
            self.play(LaggedStart(*(ReplacementTransform(VGroup(a.copy(), b.copy()), p)
                                    for a, b, p in zip(q_col.entries, k_col.entries, p_col.entries)),
                                  lag_ratio=0.35), run_time=0.45 * t.duration)

        with self.narrate(f"The sum, {say_number(w.score_shown)}, is the score of {tokens[i]} against "
                          f"{tokens[j]}, and it lands in row {tokens[i]}, column {tokens[j]}.") as t:
            self.play(Create(rule), FadeIn(total_name),
                      ReplacementTransform(VGroup(*(p.copy() for p in p_col.entries)), total),
                      run_time=0.35 * t.duration)
            self.play(ReplacementTransform(total.copy(), s.numbers[i][j]), run_time=0.35 * t.duration)
        check_frame(self)
        self.panel = VGroup(q_col, k_col, p_col, times, equals, rule, total, total_name, eq)
        self.hi = VGroup(hi_row, hi_col)

    # ------------------------------------------------------------------------------------ the whole grid
    def full_grid(self):
        w, s, x = self.w, self.s, self.extra
        i, tokens = w.query_index, w.tokens
        rest = [s.numbers[a][b] for a in range(len(tokens)) for b in range(len(tokens)) if (a, b) != (i, w.key_index)]
        centre = RIGHT * (0.0 - s.cells.get_x())  # the panel is gone: the grid moves to the middle
        with self.narrate(f"Do the same for every pair, and the grid fills up. In the row of {tokens[i]}, the "
                          f"highest score goes to "
                          f"\"{tokens[x.row_max_key]}\", and the lowest to \"{tokens[x.row_min_key]}\".") as t:
            self.play(FadeOut(self.panel), FadeOut(self.hi[1]),
                      VGroup(s, self.caption, self.hi[0]).animate.shift(centre), run_time=0.15 * t.duration)
            peak = s.highlight_cell(i, x.row_max_key, COLORS.ACCENT)
            self.play(LaggedStart(*(FadeIn(n, scale=0.7) for n in rest), lag_ratio=0.04), run_time=0.4 * t.duration)
            self.play(Create(peak), run_time=0.15 * t.duration)
            self.play(Indicate(s.numbers[i][x.row_min_key], color=COLORS.ACCENT), run_time=0.15 * t.duration)
        check_frame(self)
        self.peak = peak

    # ------------------------------------------------------------------------------------ weighted sum of V
    def weighted_sum(self):
        w, s, x = self.w, self.s, self.extra
        i, tokens = w.query_index, w.tokens
        n = len(tokens)
        v = MatrixGrid(w.v, role="V", cell_size=CELL, font_size=SIZES.SMALL)
        v.move_to([0.2, 0, 0]).align_to([0, SAFE.top - 0.62, 0], UP)
        for row in v.numbers:
            for t in row:
                t.set_color(COLORS.V)
        weighted = v.with_values(x.weighted_values_shown)
        for row in weighted.numbers:
            for t in row:
                t.set_color(COLORS.V)
        weights = VGroup(*(number(p, 2, SIZES.NUMBER, COLORS.WEIGHT) for p in w.weights_row_shown))
        keys = VGroup(*(label(tok, size=SIZES.LABEL, color=COLORS.K) for tok in tokens))
        timeses = VGroup(*(label("\u00d7", size=SIZES.SMALL, color=COLORS.MUTED) for _ in tokens))
        for r in range(n):
            y = v.cells[r][0].get_y()
            timeses[r].move_to([v.cells.get_left()[0] - 0.3, y, 0])
            weights[r].move_to([timeses[r].get_left()[0] - 0.2 - weights[r].width / 2, y, 0])
            keys[r].move_to([weights.get_left()[0] - 0.25 - keys[r].width / 2, y, 0])
        weight_head = label(f"weights of {tokens[i]}", size=SIZES.SMALL, color=COLORS.WEIGHT)
        weight_head.next_to(VGroup(keys, weights), UP, buff=BUFF.SMALL)
        v_name = label("value rows", size=SIZES.SMALL, color=COLORS.V).next_to(v.cells, UP, buff=BUFF.SMALL)
        weight_head.set_y(v_name.get_y())
        rule = Line(v.cells.get_corner(DOWN + LEFT) + DOWN * 0.12, v.cells.get_corner(DOWN + RIGHT) + DOWN * 0.12)
        rule.set_stroke(COLORS.TEXT, 2)
        out = MatrixGrid([x.output_shown], role="OUTPUT", cell_size=CELL, font_size=SIZES.SMALL)
        out.next_to(rule, DOWN, buff=0.12).align_to(v.cells, LEFT)
        for t in out.numbers[0]:
            t.set_color(COLORS.OUTPUT)
        out_name = label(f"output of {tokens[i]}", size=SIZES.LABEL, color=COLORS.OUTPUT)
        out_name.next_to(out.cells, LEFT, buff=0.3)
        plus = label("+", size=SIZES.HEADING, color=COLORS.MUTED).next_to(rule, LEFT, buff=0.15)
        eq_a = equation("attention_weights").scale(0.8)
        eq_o = equation("weighted_sum").scale(0.9)
        eqs = VGroup(eq_a, eq_o).arrange(DOWN, buff=BUFF.LARGE, aligned_edge=LEFT)
        eqs.move_to([(v.cells.get_right()[0] + SAFE.right) / 2 + 0.1, 0.9, 0])
        row_copy = VGroup(*(s.numbers[i][b].copy() for b in range(n)))
        top = x.row_max_key
        with self.narrate(f"Softmax, which we open up next, turns the row, divided by the square root of d_k, "
                          f"into positive weights that add up to one. For "
                          f"{tokens[i]}, the largest, {say_number(w.weights_row_shown[top])}, goes to "
                          f"{tokens[top]}.") as t:
            self.add(row_copy)
            self.play(FadeOut(VGroup(s, self.caption, self.hi[0], self.peak, self.title)),
                      *(c.animate.move_to(wt) for c, wt in zip(row_copy, weights)), FadeIn(keys),
                      run_time=0.3 * t.duration)
            self.play(FadeIn(eq_a), FadeIn(weight_head), ReplacementTransform(row_copy, weights),
                      run_time=0.3 * t.duration)

        with self.narrate(f"The output for {tokens[i]} is the weighted sum of the value rows: every row of V is "
                          "scaled by its weight. Rows with large weights dominate; rows with tiny weights barely "
                          "count.") as t:
            self.play(FadeIn(v.cells), FadeIn(v.frame), FadeIn(v.numbers), FadeIn(v_name), FadeIn(timeses),
                      FadeIn(eq_o), run_time=0.25 * t.duration)
            self.play(*(ReplacementTransform(v.numbers[r], weighted.numbers[r]) for r in range(n)),
                      run_time=0.3 * t.duration)
            self.play(*(weighted.numbers[r].animate.set_opacity(0.3 + 0.7 * min(1.0, 2.5 * w.weights_row[r]))
                        for r in range(n)), run_time=0.2 * t.duration)

        with self.narrate(f"Add them up, and the result is a new vector for {tokens[i]}: a blend of what "
                          "every token had to offer, mixed in the proportions that the scores chose.") as t:
            self.play(Create(rule), FadeIn(plus), run_time=0.15 * t.duration)
            self.play(FadeIn(out.cells), FadeIn(out.frame), FadeIn(out_name),
                      *(ReplacementTransform(VGroup(*(weighted.numbers[r][c].copy() for r in range(n))),
                                             out.numbers[0][c]) for c in range(len(out.numbers[0]))),
                      run_time=0.4 * t.duration)
        check_frame(self)
        self.ws_mobs = VGroup(keys, weights, weight_head, timeses, v.cells, v.frame, weighted.numbers, v_name, rule,
                              plus, out, out_name, eqs)

    # ------------------------------------------------------------------------------------ SDPA assembled
    def assemble(self):
        eq = equation("sdpa", isolate=[r"\operatorname{softmax}", r"\sqrt{d_{k}}", "="], font_size=64)
        parts = sdpa_parts(eq)
        parts["softmax"].set_color(COLORS.WEIGHT)
        rhs = VGroup(parts["softmax"], parts["num"], parts["den"], parts["v"])
        eq.move_to([0, 0.5, 0]).shift(LEFT * rhs.get_x())  # the right-hand side is built in the middle
        home = -eq.get_x()  # where the whole equation is centred at the end
        VGroup(parts["lhs"], parts["equals"]).shift(RIGHT * home)
        notes = {
            "num": ("every query against every key", COLORS.SCORE),
            "den": ("keeps the scores in a sensible range", COLORS.SCORE),
            "softmax": ("weights that add up to one, along each row", COLORS.WEIGHT),
            "v": ("a blend of the values", COLORS.V),
        }
        def note(key):  # under its own part, inside the frame
            text, color = notes[key]
            lab = label(text, size=SIZES.BODY, color=color)
            x = min(max(parts[key].get_x(), SAFE.left + lab.width / 2), SAFE.right - lab.width / 2)
            return lab.move_to([x, parts[key].get_bottom()[1] - 0.5, 0])

        paper = VASWANI  # the paper that introduced the equation
        cite = CitationLine(paper, venue=False)
        steps = (("num", "Put the pieces together, and you have the equation at the heart of every transformer. "
                         "First, Q Kᵀ: the score of every query against every key."),
                 ("den", "Divided by the square root of d_k, to keep those scores in a sensible range. The next "
                         "section shows why."),
                 ("softmax", "Softmax, along each row, turns the scores into weights that add up to one."),
                 ("v", "And multiplying by V blends the values in those proportions."))
        shown = None
        for k, (key, text) in enumerate(steps):
            with self.narrate(text) as t:
                if k == 0:
                    self.play(FadeOut(self.ws_mobs), FadeIn(self.title), run_time=0.2 * t.duration)
                n = note(key)
                if shown is not None:
                    self.play(FadeOut(shown), run_time=0.3)
                self.play(FadeIn(parts[key], scale=1.15), FadeIn(n, shift=UP * 0.15),
                          run_time=min(1.5, 0.35 * t.duration))
                self.play(Indicate(parts[key], color=COLORS.ACCENT, scale_factor=1.06), run_time=0.3 * t.duration)
                shown = n
        with self.narrate(f"That is scaled dot-product attention, exactly as it was written in {paper.title}, "
                          f"in {paper.year}.") as t:
            self.play(FadeOut(shown), rhs.animate.shift(RIGHT * home), run_time=0.3 * t.duration)
            self.play(FadeIn(parts["lhs"]), FadeIn(parts["equals"]), FadeIn(cite), run_time=0.35 * t.duration)
