"""L02.3 Linear projections in detail: X (L × d_model) times W_Q gives Q (L × H·d_h) in one product; Q's
buffer viewed as (B, L, H, d_h) and transposed to (B, H, L, d_h) puts each head's queries together, and head
h's block equals X W_Q^(h); the view (B, H, L, d_h) without the transpose makes "heads" that mix tokens and a
different attention map; cross-attention (3 decoder queries, 5 encoder keys) gives a rectangular grid.

Numbers: ``data.split_heads()``, ``data.cross_attention()``; formula: ``multihead`` (E2.1). This file holds
layout and timing only.

    manim -pql scenes/l02_multihead/l02_projections.py Projections
"""
from __future__ import annotations

import numpy as np
from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Group, Indicate, LaggedStart, ReplacementTransform,
                   SurroundingRectangle, VGroup, Write)

from scenes.kit.equations import equation
from scenes.kit.format import quoted, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import AttentionGrid, MatrixGrid, TensorLayout, fit_within, label, matrix_name
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l02_multihead import data

CELL = 0.66  # every number cell of the projection and the memory layout
PRODUCT_Y = -0.35  # centre of X, W_Q and Q's cells
X_X, W_X, Q_X = -4.25, -0.45, 3.85
LAYOUT_Y = -0.25  # centre of the tensor layouts
STRIP_Y = 0.9
CODE_Y = 2.45  # the line of code above the layout
SPLIT_GAP = 0.7  # gap between the heads' blocks
RIGHT_X, WRONG_X = -3.3, 3.3  # the side-by-side pitfall
MAP_CELL = 0.62
CROSS_CELL = 0.72


def w_q(head: int | None = None, size: float = SIZES.LABEL):
    sub = None if head is None else shown(head, 0)
    return matrix_name("W", "Q", sub, sup_color=COLORS.Q, sub_color=None if head is None else COLORS.head(head - 1),
                       size=size)


def code(text: str) -> VGroup:
    return label(text, size=SIZES.LABEL, mono=True, color=COLORS.TEXT)


class Projections(LectureScene):
    """L02.3: X W_Q → Q; view + transpose = per-head blocks; the view alone goes wrong; cross-attention."""

    def construct(self):
        self.s = data.split_heads()
        self.n = len(self.s.tokens)
        self.h, self.hd = len(self.s.heads), len(self.s.heads[0][0])
        self.topic("L02.3", "Linear projections in detail")
        self.projection()
        self.memory_layout()
        self.pitfall()
        self.cross()

    # -- X W_Q = Q, all heads at once ---------------------------------------------------------------------------
    def projection(self):
        s, hd = self.s, self.hd
        title = self.title = heading("One product for all heads")
        eq = equation("multihead", font_size=SIZES.EQUATION * 0.75)
        fit_within(eq, SAFE.width, None)
        eq.next_to(title, DOWN, buff=BUFF.MEDIUM).set_x(0)
        x = MatrixGrid(np.array(s.x), row_labels=s.tokens, cell_size=CELL).move_cells_to(X_X, PRODUCT_Y)
        w = MatrixGrid(np.array(s.w_q), cell_size=CELL).move_cells_to(W_X, PRODUCT_Y)
        q = self.q = MatrixGrid(np.array(s.q), cell_size=CELL).move_cells_to(Q_X, PRODUCT_Y)
        x_name = label("X", size=SIZES.BODY).next_to(x.cells, UP, buff=BUFF.SMALL)
        w_name = w_q(size=SIZES.BODY).next_to(w.cells, UP, buff=BUFF.SMALL)
        q_name = label("Q", size=SIZES.BODY, color=COLORS.Q).next_to(q.cells, UP, buff=BUFF.SMALL)
        shapes = VGroup(*(label(t, size=SIZES.LABEL, color=COLORS.MUTED).next_to(g.cells, DOWN, buff=BUFF.SMALL)
                          for t, g in (("L × d_model", x), ("d_model × H·d_h", w), ("L × H·d_h", q))))
        signs = VGroup(label("×", size=SIZES.HEADING).move_to([(x.cells.get_right()[0] + w.cells.get_left()[0]) / 2,
                                                              PRODUCT_Y, 0]),
                       label("=", size=SIZES.HEADING).move_to([(w.cells.get_right()[0] + q.cells.get_left()[0]) / 2,
                                                              PRODUCT_Y, 0]))
        cols = [[(i, j) for i in range(self.n) for j in range(h * hd, (h + 1) * hd)] for h in range(self.h)]
        w_frames = VGroup(*(SurroundingRectangle(VGroup(*(w.cells[i][j] for i in range(len(s.w_q))
                                                          for j in range(h * hd, (h + 1) * hd))),
                                                 color=COLORS.head(h), buff=0.0, stroke_width=5)
                            for h in range(self.h)))
        q_frames = self.q_frames = VGroup(*(SurroundingRectangle(VGroup(*(q.cells[i][j] for i, j in c)),
                                                                 color=COLORS.head(h), buff=0.0, stroke_width=5)
                                            for h, c in enumerate(cols)))
        with self.narrate(
                "Here is the definition of multi-head attention again. Each head, number i, multiplies X by its own "
                "blocks of the query, key and value matrices.") as t:
            self.play(FadeIn(title), Write(eq), run_time=0.6 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"In code, the blocks are not multiplied one at a time. X, {spoken(self.n, 0)} tokens by d model "
                f"{spoken(len(s.x[0]), 0)}, goes through the whole query matrix at once, and out comes Q: "
                f"{spoken(self.n, 0)} rows, and H times d h columns. Its first d h columns belong to head one, the "
                "next d h to head two. Keys and values are made the same way, with W K and W V.") as t:
            self.play(FadeIn(x), FadeIn(x_name), FadeIn(w), FadeIn(w_name), FadeIn(signs[0]),
                      FadeIn(shapes[:2]), run_time=0.2 * t.duration)
            self.play(FadeIn(q.cells), FadeIn(q_name), FadeIn(signs[1]), FadeIn(shapes[2]),
                      run_time=0.1 * t.duration)
            self.play(q.product_rows(x, w), run_time=0.4 * t.duration)
            self.play(Create(w_frames), Create(q_frames), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(VGroup(eq, x, x_name, w, w_name, signs, shapes[:2], w_frames)), run_time=0.6)
        self.q_parts = VGroup(q_name, shapes[2])

    # -- the buffer: view, transpose -----------------------------------------------------------------------------
    def memory_layout(self):
        s, n, h, hd = self.s, self.n, self.h, self.hd
        flat = [v for row in s.q for v in row]
        heads = [int(lab.split()[1][1:]) for lab in s.memory_order]  # "t2 h1 d0" -> head 1
        lay = self.lay = TensorLayout([shown(v, 2) for v in flat], [COLORS.head(k) for k in heads], cell_size=CELL)
        lay.place_as((n, h * hd), center=self.q.cells.get_center())
        title = heading("Q in memory: view, then transpose")
        with self.narrate(
                "In memory, Q is one flat buffer: row after row, token after token, each token's head one "
                "numbers followed by its head two numbers.") as t:
            self.play(FadeOut(VGroup(self.q, self.q_frames, self.q_parts)), FadeIn(lay),
                      ReplacementTransform(self.title, title), run_time=0.3 * t.duration)
            self.title = title
            self.play(lay.arrange_as((n * h * hd,), center=[0, STRIP_Y, 0]), run_time=0.45 * t.duration)
            buffer = label("Q's buffer, in memory order", size=SIZES.LABEL, color=COLORS.MUTED)
            buffer.next_to(lay.cells, UP, buff=BUFF.MEDIUM)
            self.play(FadeIn(buffer), run_time=0.1 * t.duration)
            self.wait_for(t)
        view = code("q.view(B, L, H, d_h)").move_to([0, CODE_Y, 0])
        rows = (n, h, hd)
        with self.narrate(
                "A view regroups the same buffer without moving a number: L rows, each with H groups of d h.") as t:
            self.play(FadeIn(view), FadeOut(buffer), run_time=0.2 * t.duration)
            self.play(lay.arrange_as(rows, roles=("row", "hblock", "col"), center=[0, LAYOUT_Y, 0]),
                      run_time=0.5 * t.duration)
            tok = self.tokens_left(lay, (0,), range(n), lambda i: s.tokens[i], by_row=True)
            self.play(FadeIn(tok), run_time=0.2 * t.duration)
            self.wait_for(t)
        trans = code("q.view(B, L, H, d_h).transpose(1, 2)").move_to([0, CODE_Y, 0])
        with self.narrate(
                "Then the transpose swaps the token axis and the head axis. Now each head holds all "
                f"{spoken(n, 0)} tokens, with d h numbers each: the shape is B, H, L, d h. Keys and values get "
                "exactly the same view and transpose.") as t:
            self.play(ReplacementTransform(view, trans), FadeOut(tok), run_time=0.2 * t.duration)
            self.play(lay.arrange_as(rows, perm=(1, 0, 2), roles=("hblock", "row", "col"), center=[0, LAYOUT_Y, 0],
                                     gap=SPLIT_GAP), run_time=0.5 * t.duration)
            names = VGroup(*(label(f"head {shown(k + 1, 0)}", size=SIZES.LABEL, color=COLORS.head(k))
                             .next_to(lay.cells_at((k,)), UP, buff=BUFF.SMALL) for k in range(h)))
            tok = self.tokens_left(lay, (0,), range(n), lambda i: s.tokens[i])
            self.play(FadeIn(names), FadeIn(tok), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.right_parts = VGroup(names, tok)
        self.trans = trans
        self.check_block(names)

    def tokens_left(self, lay: TensorLayout, prefix: tuple, rows, text, by_row: bool = False,
                    side=LEFT) -> VGroup:
        """Token labels beside the rows of the block at ``prefix`` (or, ``by_row``, of each row ``(i,)``)."""
        out = VGroup()
        for i in rows:
            cells = lay.cells_at((i,) if by_row else (*prefix, i))
            out.add(label(text(i), size=SIZES.LABEL).next_to(cells, side, buff=BUFF.SMALL))
        return out

    def check_block(self, names):
        s, lay = self.s, self.lay
        block = lay.cells_at((0,))
        prod = MatrixGrid(np.array(s.block_products[0]), cell_size=CELL)
        prod.move_cells_to(SAFE.right - prod.cells.width / 2 - 0.1, LAYOUT_Y)
        prod_name = VGroup(label("X", size=SIZES.LABEL), w_q(1)).arrange(RIGHT, buff=0.08)
        prod_name[1].shift(UP * (prod_name[0].get_bottom()[1] - prod_name[1].base.get_bottom()[1]))  # one baseline
        prod_name.next_to(prod.cells, UP, buff=BUFF.SMALL)
        frame = SurroundingRectangle(prod.cells, color=COLORS.TEXT, buff=0.05, stroke_width=5)
        eq_sign = label("=", size=SIZES.HEADING).move_to([(lay.cells.get_right()[0] + prod.cells.get_left()[0]) / 2,
                                                          LAYOUT_Y, 0])
        hl = SurroundingRectangle(block, color=COLORS.TEXT, buff=0.05, stroke_width=5)
        diff = label(f"max |difference| = {shown(s.head_equals_block_max_diff, 2)}", size=SIZES.LABEL,
                     color=COLORS.WEIGHT).next_to(prod.cells, DOWN, buff=BUFF.MEDIUM).align_to(prod.cells, RIGHT)
        with self.narrate(
                "Check it with the numbers. Head one's block is exactly X times W Q one, its column block alone: "
                f"the largest difference is {spoken(s.head_equals_block_max_diff, 2)}. The split into heads is a "
                "new view of Q, not a new computation.") as t:
            self.play(Create(hl), lay.fade_cells((1,)), run_time=0.2 * t.duration)
            self.play(FadeIn(prod), FadeIn(prod_name), Create(frame), FadeIn(eq_sign), run_time=0.3 * t.duration)
            self.play(FadeIn(diff), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(VGroup(prod, prod_name, frame, eq_sign, hl, diff)),
                  lay.fade_cells((1,), 1.0), run_time=0.5)

    # -- the view without the transpose ----------------------------------------------------------------------------
    def pitfall(self):
        s, lay, n, h, hd = self.s, self.lay, self.n, self.h, self.hd
        rows = (n, h, hd)
        wrong = lay.copy()
        right_code = code("view(B,L,H,d_h).transpose(1,2)")
        wrong_code = code("view(B,H,L,d_h)")
        fit_within(right_code, SAFE.width / 2 - 0.8, None)
        title = heading("The bug: a view without the transpose")
        right_code.move_to([RIGHT_X, CODE_Y, 0])
        right_code.shift(RIGHT * max(0.0, SAFE.left + 0.6 - right_code.get_left()[0]))
        wrong_code.move_to([WRONG_X, CODE_Y, 0])
        marks = VGroup(label("✓", size=SIZES.HEADING, color=COLORS.WEIGHT).next_to(right_code, LEFT, buff=BUFF.SMALL),
                       label("✗", size=SIZES.HEADING, color=COLORS.MASK).next_to(wrong_code, LEFT, buff=BUFF.SMALL))
        with self.narrate(
                "Now the most common bug. Skip the transpose, and view the buffer directly as B, H, L, d h. The "
                "shapes match, so nothing complains; a reshape to the same shape does exactly the same.") as t:
            self.play(ReplacementTransform(self.trans, right_code), FadeOut(self.right_parts),
                      ReplacementTransform(self.title, title),
                      lay.arrange_as(rows, perm=(1, 0, 2), roles=("hblock", "row", "col"),
                                     center=[RIGHT_X, LAYOUT_Y, 0], gap=SPLIT_GAP), run_time=0.3 * t.duration)
            self.add(wrong)
            self.play(wrong.arrange_as((h, n, hd), roles=("hblock", "row", "col"), center=[WRONG_X, LAYOUT_Y, 0],
                                       gap=SPLIT_GAP), FadeIn(wrong_code), run_time=0.4 * t.duration)
            heads = VGroup(*(label(f"head {shown(k + 1, 0)}", size=SIZES.LABEL, color=COLORS.head(k))
                             .next_to(lay.cells_at((k,)), UP, buff=BUFF.MEDIUM) for k in range(h)),
                           *(label(quoted(f"head {shown(k + 1, 0)}"), size=SIZES.LABEL, color=COLORS.MUTED)
                             .next_to(wrong.cells_at((k,)), UP, buff=BUFF.MEDIUM) for k in range(h)))
            self.play(FadeIn(marks), FadeIn(heads), run_time=0.15 * t.duration)
            self.wait_for(t)
        right_tok = self.tokens_left(lay, (0,), range(n), lambda i: s.tokens[i])
        wrong_tok = VGroup(self.tokens_left(wrong, (0,), range(n), lambda i: s.wrong_head_tokens[0][i]),
                           self.tokens_left(wrong, (1,), range(n), lambda i: s.wrong_head_tokens[1][i], side=RIGHT))
        hl = SurroundingRectangle(wrong.cells_at((0,)), color=COLORS.MASK, buff=0.06, stroke_width=5)
        first = s.wrong_head_tokens[0]
        with self.narrate(
                f"But look at what the first head now holds: {quoted(first[0])} twice, {quoted(first[2])} twice, "
                f"then {quoted(first[4])}; and every second row is really head two's numbers. This head mixes "
                "tokens and heads, and so its queries no longer belong to one token each.") as t:
            self.play(FadeIn(right_tok), FadeIn(wrong_tok[0]), Create(hl), run_time=0.3 * t.duration)
            self.play(Indicate(wrong.cells_at((0, 1)), color=COLORS.head(1)),
                      Indicate(wrong.cells_at((0, 3)), color=COLORS.head(1)), run_time=0.3 * t.duration)
            self.play(FadeIn(wrong_tok[1]), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)
        self.maps()

    def maps(self):
        s, toks = self.s, self.s.tokens
        grids = VGroup(*(AttentionGrid(w[0], toks, toks, heat=True, show_dots=False, cell_size=MAP_CELL,
                                       caption=None, axis_titles=False) for w in (s.weights, s.wrong_weights)))
        for g, x in zip(grids, (RIGHT_X, WRONG_X)):
            g.move_cells_to(x + 0.3, -0.1)
        titles = VGroup(label("head 1, with the transpose", size=SIZES.LABEL, color=COLORS.WEIGHT),
                        label("head 1, view alone", size=SIZES.LABEL, color=COLORS.MASK))
        for t_, g in zip(titles, grids):
            t_.next_to(g, UP, buff=BUFF.MEDIUM).set_x(g.cells.get_x())
        origin = label(s.weights_origin, size=SIZES.LABEL, color=COLORS.MUTED)
        diffs = label(f"max |weight difference| = {shown(s.weights_max_diff, 2)},   "
                      f"max |output difference| = {shown(s.output_max_diff, 2)}", size=SIZES.LABEL, color=COLORS.TEXT)
        foot = VGroup(diffs, origin).arrange(DOWN, buff=BUFF.SMALL).move_to([0, SAFE.bottom + 0.45, 0])
        fit_within(foot, SAFE.width, None)
        title = heading("The attention map it produces")
        with self.narrate(
                "Its attention map is simply different. On the left, head one computed the right way; on the "
                "right, the same weights after the view alone. These weights are untrained, seeded random "
                "numbers, and still the two maps disagree by as much as "
                f"{spoken(s.weights_max_diff, 2)}, and the layer's outputs by {spoken(s.output_max_diff, 2)}. "
                "No error is raised: the model just learns worse. A reshape into heads needs the "
                "transpose.") as t:
            self.play(FadeIn(title), FadeIn(grids[0]), FadeIn(titles[0]), run_time=0.15 * t.duration)
            self.play(FadeIn(grids[1]), FadeIn(titles[1]), run_time=0.15 * t.duration)
            self.play(FadeIn(origin), run_time=0.1 * t.duration)
            self.play(FadeIn(diffs), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # -- cross-attention: a rectangular grid --------------------------------------------------------------------------
    def cross(self):
        c = data.cross_attention()
        title = heading("Cross-attention")
        grids = VGroup(*(AttentionGrid(w, c.queries, c.keys, heat=True, show_dots=False, cell_size=CROSS_CELL,
                                       caption=None, axis_titles=False) for w in c.weights))
        grids.arrange(RIGHT, buff=1.2).move_to([0, -0.2, 0])
        fit_within(grids, SAFE.width, None)
        heads = VGroup(*(label(f"head {shown(k + 1, 0)}", size=SIZES.LABEL, color=COLORS.head(k))
                         .next_to(g, UP, buff=BUFF.SMALL).set_x(g.cells.get_x()) for k, g in enumerate(grids)))
        roles = VGroup(label("queries: the decoder's tokens", size=SIZES.LABEL, color=COLORS.Q),
                       label("keys and values: the encoder's sentence", size=SIZES.LABEL, color=COLORS.K))
        roles.arrange(RIGHT, buff=1.0).next_to(title, DOWN, buff=BUFF.MEDIUM).set_x(0)
        fit_within(roles, SAFE.width, None)
        origin = label(c.weights_origin, size=SIZES.LABEL, color=COLORS.MUTED)
        origin.move_to([0, SAFE.bottom + origin.height / 2 + 0.05, 0])
        n_q, n_k = c.grid_shape
        call = code("mha(x_decoder, context=x_encoder)  →  output (" + ", ".join(shown(v, 0) for v in c.output_shape)
                    + ")")
        call.next_to(origin, UP, buff=BUFF.MEDIUM)
        fit_within(call, SAFE.width, None)
        with self.narrate(
                "The same module does cross-attention. The queries come from the decoder, here "
                f"{spoken(n_q, 0)} tokens, and the keys and values from the encoder's {spoken(n_k, 0)} tokens. "
                f"Each head's grid becomes rectangular, {spoken(n_q, 0)} by {spoken(n_k, 0)}, and every row still "
                "adds up to one. The weights are untrained again.") as t:
            self.play(FadeIn(title), FadeIn(roles), run_time=0.2 * t.duration)
            self.play(LaggedStart(*(FadeIn(VGroup(g, hd)) for g, hd in zip(grids, heads)), lag_ratio=0.3),
                      run_time=0.35 * t.duration)
            self.play(FadeIn(origin), run_time=0.15 * t.duration)
            self.wait_for(t)
        out_rows, out_cols = c.output_shape
        with self.narrate(
                "In code it is the same call, given a context. The output has one row per decoder token: "
                f"{spoken(out_rows, 0)} rows of d model, {spoken(out_cols, 0)} numbers each.") as t:
            self.play(FadeIn(call), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.wait(0.5)
