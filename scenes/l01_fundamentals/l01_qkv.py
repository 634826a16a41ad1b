"""L01.4 Query/Key/Value framework: the soft dictionary, then Q, K, V as learned projections of the tokens.

Numbers: ``data.soft_dictionary()`` and ``data.qkv_projections()``; formula: ``equation("qkv_projection")``.
This file holds layout and timing only.

    manim -pql scenes/l01_fundamentals/l01_qkv.py QueryKeyValue
"""
from __future__ import annotations

import itertools

from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Indicate, LaggedStart, ReplacementTransform,
                   RoundedRectangle, Transform, VGroup, Write)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import MatrixGrid, TokenRow, label
from scenes.kit.mobjects.lookup import KeyPlane, LookupTable
from scenes.kit.mobjects.text import expression
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l01_fundamentals import data

TITLE = "Query, key, value"
ROLE_COLORS = {"Q": COLORS.Q, "K": COLORS.K, "V": COLORS.V}
CELL = 0.92  # three 5×4 / 4×4 grids side by side fill the safe width




def table_box_height() -> float:
    """Height of a key box of the look-up table (query boxes match it)."""
    return label("Ag", size=SIZES.BODY).height + 0.3


def _clauses(eq, count: int) -> list[VGroup]:
    """The glyphs of a registry equation split at its ``,\\quad`` separators (commas stay with the clause
    before): one VGroup per clause, left to right."""
    glyphs = sorted(eq[0], key=lambda g: g.get_x())
    gaps = sorted(range(1, len(glyphs)), key=lambda k: glyphs[k].get_left()[0] - glyphs[k - 1].get_right()[0])
    cuts = sorted(gaps[-(count - 1):]) if count > 1 else []
    bounds = [0, *cuts, len(glyphs)]
    return [VGroup(*glyphs[a:b]) for a, b in itertools.pairwise(bounds)]


class QueryKeyValue(LectureScene):
    """L01.4: an exact dictionary vs attention's similarity-weighted blend; Q = XW_Q, K = XW_K, V = XW_V."""

    def construct(self):
        self.topic("L01.4", "Query/Key/Value framework")
        self.title = heading(TITLE)
        self.dictionary()
        self.soft_lookup()
        self.roles()
        self.projections()

    # ------------------------------------------------------------------------------------ dictionary
    def dictionary(self):
        sd = data.soft_dictionary()
        exact = sd.keys.index(sd.exact_query)
        table = LookupTable(sd.keys, sd.values, value_name=sd.value_name, row_height=0.9, font_size=SIZES.BODY,
                            number_size=SIZES.BODY, header_size=SIZES.LABEL, score_width=1.4, weight_width=2.7)
        table.shift(RIGHT * (0.9 - table.get_x()) + UP * (0.45 - table.key_boxes.get_y()))
        query_head = label("query", size=SIZES.SMALL, color=COLORS.Q)
        query = self._query_box(sd.exact_query)
        query.next_to(table.key_boxes[exact], LEFT, buff=1.6)
        query_head.next_to(query, UP, buff=BUFF.SMALL)
        result_head = label("returns", size=SIZES.BODY, color=COLORS.MUTED)
        result_head.move_to([table.key_boxes.get_x(), table.key_boxes.get_bottom()[1] - 0.8, 0])

        with self.narrate("Start with a Python dictionary. Its keys are animals, and each "
                          f"value is how many {sd.value_name} that animal has.") as t:
            self.play(FadeIn(self.title), run_time=0.6)
            self.play(LaggedStart(*(FadeIn(r, shift=LEFT * 0.2) for r in table.rows), lag_ratio=0.25),
                      FadeIn(table.headers), Create(table.rule), run_time=min(3.0, 0.45 * t.duration))

        weights = table.weight_column(sd.exact_weights)
        weight_head = table.header("weight", "weight", COLORS.WEIGHT)
        hit = table.highlight_row(exact, COLORS.Q)
        answer = label(shown(sd.exact_value, 0), size=SIZES.HEADING, color=COLORS.V, mono=True)
        answer.next_to(result_head, RIGHT, buff=BUFF.MEDIUM).align_to(result_head, DOWN)
        with self.narrate(f"Looking up {sd.exact_query} finds the one exact match and returns its value: "
                          f"{spoken(sd.exact_value, 0)}. All the weight goes to a single row.") as t:
            self.play(FadeIn(query_head), FadeIn(query, shift=RIGHT * 0.3), run_time=0.6)
            self.play(Create(hit), query.animate.next_to(hit, LEFT, buff=BUFF.MEDIUM),
                      query_head.animate.next_to(hit, LEFT, buff=BUFF.MEDIUM).shift(UP * 0.55),
                      run_time=0.3 * t.duration)
            self.play(FadeIn(weight_head), FadeIn(weights), run_time=0.2 * t.duration)
            self.play(FadeIn(result_head), ReplacementTransform(table.value_texts[exact].copy(), answer),
                      run_time=0.2 * t.duration)

        miss = label(f"KeyError: '{sd.soft_query}'", size=SIZES.BODY, color=COLORS.MASK, mono=True)
        miss.next_to(result_head, RIGHT, buff=BUFF.MEDIUM)
        soft_query = self._query_box(sd.soft_query).move_to(query)
        with self.narrate(f"But ask for {sd.soft_query}, and the look-up fails, even though a {sd.soft_query} is "
                          f"obviously close to a {sd.exact_query}.") as t:
            self.play(Transform(query, soft_query), FadeOut(VGroup(hit, weights, weight_head, answer)),
                      run_time=0.25 * t.duration)
            self.play(FadeIn(miss, shift=UP * 0.1), run_time=0.2 * t.duration)
        self.looked_up = sd, table, query, query_head, result_head, miss

    # ------------------------------------------------------------------------------------ soft look-up
    def soft_lookup(self):
        """The keys and the query become vectors; scores, weights and the blended value."""
        sd, table, query, query_head, result_head, miss = self.looked_up
        plane = KeyPlane(sd.key_vectors, sd.keys, query=sd.query_vector, query_name=sd.soft_query, unit=0.88,
                         font_size=SIZES.LABEL)
        shift = RIGHT * (SAFE.right - 0.1 - table.get_right()[0])
        plane.move_to([SAFE.left + plane.width / 2 + 0.1, table.key_boxes.get_y(), 0])
        with self.narrate("Attention replaces the exact match with a similarity. Give every key a vector, and the "
                          f"query too: {sd.soft_query} points almost the same way as {sd.exact_query}, a little "
                          f"towards {sd.keys[1]}, and away from {sd.keys[2]} and {sd.keys[3]}.") as t:
            self.play(FadeOut(miss), FadeOut(query_head), table.animate.shift(shift),
                      result_head.animate.shift(shift), query.animate.shift(shift), run_time=0.12 * t.duration)
            self.play(Create(plane.axes), LaggedStart(*(Create(a) for a in plane.key_arrows), lag_ratio=0.2),
                      LaggedStart(*(FadeIn(lab) for lab in plane.key_labels), lag_ratio=0.2),
                      run_time=0.35 * t.duration)
            self.play(ReplacementTransform(query, plane.query_label), Create(plane.query_arrow),
                      run_time=0.25 * t.duration)

        scores = table.score_column(sd.scores)
        score_head = table.header("q \u00b7 k", "score", COLORS.SCORE)
        soft = table.weight_column(sd.weights)
        weight_head = table.header("weight", "weight", COLORS.WEIGHT)
        s_cat, s_bird = (spoken(sd.scores[k], 1) for k in (0, 1))
        w_cat, w_bird = (spoken(sd.weights_shown[k], 2) for k in (0, 1))
        with self.narrate(f"The similarity is the dot product of the query with each key: {s_cat} for "
                          f"{sd.keys[0]}, {s_bird} for {sd.keys[1]}, negative for the others. Softmax turns the "
                          "scores into positive weights that add up "
                          f"to one: {w_cat} for {sd.keys[0]}, {w_bird} for {sd.keys[1]}, and almost nothing for the "
                          "rest.") as t:
            self.play(FadeIn(score_head), LaggedStart(*(FadeIn(s, shift=RIGHT * 0.2) for s in scores),
                                                      lag_ratio=0.3), run_time=0.4 * t.duration)
            self.play(FadeIn(weight_head), FadeIn(soft.tracks),
                      LaggedStart(*(ReplacementTransform(s.copy(), b) for s, b in zip(scores, soft.bars)),
                                  lag_ratio=0.15),
                      LaggedStart(*(FadeIn(n) for n in soft.numbers), lag_ratio=0.15),
                      run_time=0.4 * t.duration)

        blend = label(f"{shown(sd.blended_value, 2)} {sd.value_name}", size=SIZES.HEADING, color=COLORS.V)
        blend.next_to(result_head, RIGHT, buff=BUFF.MEDIUM)
        blend_text = label("a blend of every value", size=SIZES.LABEL, color=COLORS.MUTED)
        blend_text.next_to(blend, DOWN, buff=BUFF.SMALL).align_to(blend, LEFT)
        value_copies = VGroup(*(v.copy() for v in table.value_texts))
        with self.narrate(f"Instead of one value, we return a blend of all of them: "
                          f"{spoken(sd.blended_value, 2)} {sd.value_name}. No animal has that many "
                          f"{sd.value_name}, and that is the point: a smooth mixture, mostly "
                          f"{sd.keys[0]} with a little {sd.keys[1]}, which gradient descent can learn.") as t:
            self.play(LaggedStart(*(ReplacementTransform(v, blend) for v in value_copies), lag_ratio=0.1),
                      run_time=0.3 * t.duration)
            self.play(FadeIn(blend_text), run_time=0.1 * t.duration)
            self.play(*(v.animate.set_opacity(0.25 + 0.75 * sd.weights[k]) for k, v in enumerate(table.value_texts)),
                      run_time=0.2 * t.duration)
        self.play(FadeOut(VGroup(table, plane, scores, score_head, soft, weight_head, blend, blend_text,
                                 result_head)), run_time=0.8)

    def _query_box(self, text: str) -> VGroup:
        lab = label(text, size=SIZES.BODY, color=COLORS.TEXT)
        box = RoundedRectangle(width=lab.width + 0.4, height=table_box_height(), corner_radius=0.08,
                               stroke_color=COLORS.Q, stroke_width=2.5, fill_color=COLORS.Q, fill_opacity=0.15)
        return VGroup(box, lab.move_to(box))

    # ------------------------------------------------------------------------------------ three roles
    def roles(self):
        qp = data.qkv_projections()
        row = TokenRow(qp.tokens, font_size=SIZES.BODY, buff=0.85).move_to(UP * 0.9)
        tags = VGroup()
        for box in row.boxes:
            squares = VGroup(*(RoundedRectangle(width=0.38, height=0.38, corner_radius=0.06, stroke_width=0,
                                                fill_color=c, fill_opacity=0.95) for c in ROLE_COLORS.values()))
            letters = VGroup(*(label(r, size=SIZES.SMALL, color=COLORS.BACKGROUND, weight="BOLD").move_to(s)
                               for r, s in zip(ROLE_COLORS, squares)))
            squares.arrange(RIGHT, buff=0.07).next_to(box, DOWN, buff=BUFF.MEDIUM)
            for lab, s in zip(letters, squares):
                lab.move_to(s)
            tags.add(VGroup(*(VGroup(s, lab) for s, lab in zip(squares, letters))))
        captions = VGroup(
            label("query: what am I looking for?", size=SIZES.LABEL, color=COLORS.Q),
            label("key: what do I contain?", size=SIZES.LABEL, color=COLORS.K),
            label("value: what do I hand over?", size=SIZES.LABEL, color=COLORS.V),
        ).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL).next_to(tags, DOWN, buff=BUFF.LARGE)
        with self.narrate("Attention does this for every token of a sentence, and each token plays all three "
                          "roles: as a query, it asks what it is looking for; as a key, it advertises what it "
                          "contains; as a value, it carries what it hands over when chosen.") as t:
            self.play(FadeIn(row, shift=UP * 0.2), run_time=0.15 * t.duration)
            for r in range(3):
                self.play(LaggedStart(*(FadeIn(tag[r], scale=0.6) for tag in tags), lag_ratio=0.08),
                          FadeIn(captions[r], shift=RIGHT * 0.2), run_time=0.22 * t.duration)
        self.play(FadeOut(VGroup(row, tags, captions)), run_time=0.6)

    # ------------------------------------------------------------------------------------ projections
    def projections(self):
        qp = data.qkv_projections()
        n, d = len(qp.x), len(qp.x[0])

        def grid(values, role=None, labels=None):
            return MatrixGrid(values, role=role, row_labels=labels, cell_size=CELL, font_size=SIZES.SMALL,
                              label_size=SIZES.LABEL)

        x = grid(qp.x, labels=qp.tokens)
        ws = {r: grid(w, r) for r, w in (("Q", qp.w_q), ("K", qp.w_k), ("V", qp.w_v))}
        outs = {r: grid(m, r) for r, m in (("Q", qp.q), ("K", qp.k), ("V", qp.v))}
        times, equals = label("\u00d7", size=SIZES.HEADING), label("=", size=SIZES.HEADING)
        VGroup(x, times, ws["Q"], equals, outs["Q"]).arrange(RIGHT, buff=0.15).move_to([0, -0.45, 0])
        ws["Q"].align_to(x.cells, UP)  # W's rows line up with X's first rows, the product's rows with X's
        outs["Q"].align_to(x.cells, UP)
        for r in "KV":
            ws[r].move_to(ws["Q"])
            outs[r].move_to(outs["Q"])
        times.set_y(x.cells.get_y())
        equals.set_y(x.cells.get_y())

        def name(main, sub, color, under, shape):
            mob = expression(main, (sub, color, "sub")) if sub else expression((main, color))
            dims = label(f"{shape[0]} \u00d7 {shape[1]}", size=SIZES.SMALL, color=COLORS.MUTED)
            return VGroup(mob, dims).arrange(RIGHT, buff=BUFF.MEDIUM).next_to(under, DOWN, buff=BUFF.MEDIUM)

        names = {"X": name("X", "", COLORS.TEXT, x.cells, (n, d))}
        for r in "QKV":
            names["W" + r] = name("W", r, ROLE_COLORS[r], ws[r].cells, (d, d))
            names[r] = name(r, "", ROLE_COLORS[r], outs[r].cells, (n, d))
        eq = equation("qkv_projection").move_to([0, 2.55, 0])
        clauses = _clauses(eq, 3)

        with self.narrate("Where do these three vectors come from? Each token starts as an embedding, one row of a "
                          f"matrix X: {n} tokens, {d} numbers each. Real models use thousands.") as t:
            self.play(FadeIn(x.row_labels, shift=RIGHT * 0.2), FadeIn(x.cells), run_time=0.3 * t.duration)
            self.play(LaggedStart(*(FadeIn(x.numbers[i]) for i in range(n)), lag_ratio=0.2),
                      FadeIn(names["X"]), run_time=0.4 * t.duration)

        with self.narrate("Multiply X by a learned matrix, W_Q, and every row becomes a query. These are the "
                          "real numbers of our example.") as t:
            self.play(Write(clauses[0]), run_time=0.15 * t.duration)
            self.play(FadeIn(times), FadeIn(ws["Q"]), FadeIn(names["WQ"]), run_time=0.2 * t.duration)
            self.play(FadeIn(equals), Create(outs["Q"].cells), Create(outs["Q"].frame), FadeIn(names["Q"]),
                      run_time=0.1 * t.duration)
            self.play(outs["Q"].product_rows(x, ws["Q"]), run_time=0.45 * t.duration)

        for k, (r, text) in enumerate((("K", "A second matrix, W_K, turns the same rows into keys."),
                                       ("V", "And a third, W_V, turns them into values. Same tokens, three "
                                             "different learned views of them."))):
            prev = "QK"[k]
            with self.narrate(text) as t:
                self.play(Write(clauses[k + 1]), FadeOut(ws[prev]), FadeOut(names["W" + prev]), FadeOut(outs[prev]),
                          FadeOut(names[prev]), FadeIn(ws[r]), FadeIn(names["W" + r]), FadeIn(outs[r].cells),
                          FadeIn(outs[r].frame), FadeIn(names[r]), run_time=0.3 * t.duration)
                self.play(outs[r].product_rows(x, ws[r]), run_time=0.55 * t.duration)

        # Q, K, V side by side, the inputs gone (fresh grids: the ones above were animated away)
        trio = VGroup(*(VGroup(grid(m, r), expression((r, ROLE_COLORS[r])))
                        for r, m in (("Q", qp.q), ("K", qp.k), ("V", qp.v))))
        for g in trio:
            g[1].next_to(g[0].cells, DOWN, buff=BUFF.MEDIUM)
        trio.arrange(RIGHT, buff=1.0, aligned_edge=UP).move_to([0, -0.7, 0])
        with self.narrate("Training adjusts the three matrices so that each query lands close to the keys it should "
                          "attend to. Queries ask, keys answer, and values are delivered. Next, we make the "
                          "similarity precise.") as t:
            self.play(FadeOut(VGroup(x, names["X"], times, ws["V"], names["WV"], equals)),
                      run_time=0.12 * t.duration)
            self.play(ReplacementTransform(outs["V"], trio[2][0]), ReplacementTransform(names["V"], trio[2][1]),
                      FadeIn(trio[0], shift=RIGHT * 0.3), FadeIn(trio[1], shift=RIGHT * 0.3),
                      run_time=0.22 * t.duration)
            self.play(LaggedStart(*(Indicate(g[0].frame, color=ROLE_COLORS[r], scale_factor=1.03)
                                    for r, g in zip("QKV", trio)), lag_ratio=0.4), run_time=0.4 * t.duration)
