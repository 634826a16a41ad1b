"""L02.2 Parameter matrices breakdown: W_Q, W_K, W_V (d_model × H·d_h) and W_O (H·d_v × d_model) as blocks cut
per head; every head's block reads the whole d_model vector (the split is on the output); the storage
conventions of papers, nn.Linear and nn.MultiheadAttention; the parameter count of three published models,
the same with one head.

Numbers: ``data.head_slices()``, ``data.storage_convention()``, ``data.parameter_counts()``; formulas:
``head_dim``, ``attention_params`` (E2.2). This file holds layout and timing only.

    manim -pql scenes/l02_multihead/l02_parameter_matrices.py ParameterMatrices
"""
from __future__ import annotations

import numpy as np
from manim import (DOWN, LEFT, RIGHT, UP, Brace, Create, FadeIn, FadeOut, Group, Indicate, LaggedStart, Line,
                   SurroundingRectangle, VGroup, Write)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import BlockMatrix, MatrixGrid, fit_within, label, matrix_name
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.text import set_on_line
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l02_multihead import data

BLOCK = 2.7  # side of each weight matrix block in the first step
BLOCK_XS = (-4.95, -1.65, 1.65, 4.95)
BLOCK_Y = 0.1
CELL = 0.9  # W_Q's number cells in the second step
X_CELL = 0.58  # the cells of x and q (no numbers)
W_X, W_Y = 0.0, 0.45  # centre of W_Q's cells
X_X = -5.15  # centre of the token vector x
Q_X = 4.4  # centre of the output q = x W_Q
NOTE_Y = (-2.75, -3.3)  # the wrong claim and the right one
ROW_YS = (0.55, -0.5, -1.55)  # the parameter table's model rows
COL_XS = (-5.3, -2.6, -1.4, -0.4, 1.8, 4.85)  # name, d_model, H, bias, count with H heads, count with 1 head
STORE_Y = (2.05, 1.05)  # the papers' and nn.Linear's lines


def dims(shape) -> str:
    """A tensor shape as the screen shows it: (4, 2)."""
    return "(" + ", ".join(shown(v, 0) for v in shape) + ")"


def w_name(role: str, head: int | None = None, size: float = SIZES.BODY) -> VGroup:
    """W^Q, or W^Q_h with the head number in the head's colour (h counted from 1)."""
    sub = None if head is None else shown(head, 0)
    return matrix_name("W", role if role != "OUTPUT" else "O", sub, color=COLORS.TEXT, sup_color=COLORS[role],
                       sub_color=None if head is None else COLORS.head(head - 1), size=size)


class ParameterMatrices(LectureScene):
    """L02.2: four matrices cut per head, the whole input read by every head, storage, parameter counts."""

    def construct(self):
        self.s = data.head_slices()
        self.topic("L02.2", "Parameter matrices breakdown")
        self.four_matrices()
        self.whole_vector()
        self.storage()
        self.counts()

    # -- W_Q, W_K, W_V, W_O as blocks cut per head --------------------------------------------------------
    def four_matrices(self):
        s = self.s
        title = heading("Four weight matrices per layer")
        mats = VGroup()
        for x, role in zip(BLOCK_XS, ("Q", "K", "V", "OUTPUT")):
            rows = role == "OUTPUT"
            lines = ("H·d_v ×", "d_model") if rows else ("d_model ×", "H·d_h")  # two lines: neighbours stay apart
            shape = VGroup(*(label(t, size=SIZES.LABEL, color=COLORS.MUTED) for t in lines)).arrange(DOWN, buff=0.1)
            names = [w_name(role, h + 1, SIZES.BODY) for h in range(s.n_heads)]
            m = BlockMatrix(w_name(role), s.n_heads, axis="rows" if rows else "cols", width=BLOCK, height=BLOCK,
                            color=COLORS[role], shape=shape, block_names=names)
            mats.add(m.move_to([x, BLOCK_Y, 0]))
        with self.narrate(
                "A multi-head attention layer owns four weight matrices. The query, key and value projections each "
                "take a vector of d model numbers and return H times d h numbers. The output projection takes H "
                "times d v numbers back to d model.") as t:
            self.play(FadeIn(title), run_time=0.1 * t.duration)
            self.play(LaggedStart(*(FadeIn(m) for m in mats[:3]), lag_ratio=0.4),
                      run_time=0.45 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(FadeIn(mats[3]), run_time=0.15 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"Each matrix is cut per head. Here H is {spoken(s.n_heads, 0)}, as in our running example. The "
                "query matrix splits into column blocks, one per head: W Q one and W Q two. Keys and values split "
                "the same way. The output matrix splits into row blocks instead, because it reads the heads' "
                "outputs laid side by side.") as t:
            self.play(LaggedStart(*(m.split() for m in mats[:3]), lag_ratio=0.3), run_time=0.5 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(mats[3].split(), run_time=0.25 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # -- every head reads the whole vector -------------------------------------------------------------------
    def whole_vector(self):
        s = self.s
        d, hd, n = s.d_model, s.head_dim, s.n_heads
        title = heading("Every head reads the whole vector")
        w = MatrixGrid(np.array(s.w_q), cell_size=CELL, font_size=SIZES.NUMBER).move_cells_to(W_X, W_Y)
        w_lab = w_name("Q").next_to(w.cells, LEFT, buff=BUFF.MEDIUM).align_to(w.cells, UP)
        frames = VGroup(*(SurroundingRectangle(VGroup(*(w.cells[i][j] for i in range(d)
                                                        for j in range(h * hd, (h + 1) * hd))),
                                               color=COLORS.head(h), buff=0.0, stroke_width=5) for h in range(n)))
        names = VGroup(*(w_name("Q", h + 1).next_to(frames[h], UP, buff=BUFF.SMALL) for h in range(n)))
        brace = Brace(frames[0], DOWN, buff=0.1, color=COLORS.head(0))
        block_dims = label(f"{dims(s.block_shape)}: d_model × d_h", size=SIZES.LABEL, color=COLORS.head(0))
        block_dims.next_to(brace, DOWN, buff=BUFF.TIGHT)
        x = MatrixGrid(np.zeros((1, d)), show_numbers=False, cell_size=X_CELL).move_cells_to(X_X, W_Y)
        x_lab = label("x: one token", size=SIZES.LABEL, color=COLORS.TEXT).next_to(x.cells, UP, buff=BUFF.SMALL)
        x_dims = label(f"d_model = {shown(d, 0)}", size=SIZES.LABEL, color=COLORS.MUTED)
        x_dims.next_to(x.cells, DOWN, buff=BUFF.SMALL)
        times = label("×", size=SIZES.HEADING).move_to([(x.cells.get_right()[0] + w_lab.get_left()[0]) / 2,
                                                       w.cells.get_y(), 0])
        q = MatrixGrid(np.zeros((1, d)), show_numbers=False, cell_size=X_CELL).move_cells_to(Q_X, W_Y)
        q_lab = VGroup(label("q = x", size=SIZES.LABEL), w_name("Q", size=SIZES.LABEL)).arrange(RIGHT, buff=0.1)
        q_lab[1].shift(UP * (q_lab[0][-1].get_bottom()[1] - q_lab[1].base.get_bottom()[1]))  # one baseline
        q_lab.next_to(q.cells, UP, buff=BUFF.SMALL)
        q_parts = VGroup(*(VGroup(*q.cells[0][h * hd:(h + 1) * hd]) for h in range(n)))
        arrow_to_q = label("→", size=SIZES.HEADING).move_to([(frames.get_right()[0] + q.cells.get_left()[0]) / 2,
                                                            w.cells.get_y(), 0])
        with self.narrate(
                f"Here is the running example's query matrix: d model is {spoken(d, 0)}, and there are "
                f"{spoken(n, 0)} heads. Head one's block, W Q one, has all {spoken(s.block_shape[0], 0)} rows and "
                f"{spoken(s.block_shape[1], 0)} columns.") as t:
            self.play(FadeIn(title), FadeIn(w), FadeIn(w_lab), run_time=0.3 * t.duration)
            self.play(Create(frames), FadeIn(names), run_time=0.3 * t.duration)
            self.play(Create(brace), FadeIn(block_dims), run_time=0.25 * t.duration)
            self.wait_for(t)
        x_box = x.highlight_row(0, COLORS.head(0))
        with self.narrate(
                "Multiply a token's vector x by it, and every entry of x takes part: each one meets a row of the "
                "block. Head two's block reads the same whole vector. Each block gives its head d h numbers of "
                "the query.") as t:
            self.play(FadeIn(x), FadeIn(x_lab), FadeIn(x_dims), FadeIn(times), run_time=0.2 * t.duration)
            self.play(Create(x_box), Indicate(frames[0], color=COLORS.head(0)), run_time=0.2 * t.duration)
            self.play(FadeIn(arrow_to_q), FadeIn(q_lab), FadeIn(q.cells),
                      q_parts[0].animate.set_fill(COLORS.head(0), 0.7), run_time=0.2 * t.duration)
            self.play(x_box.animate.set_color(COLORS.head(1)), Indicate(frames[1], color=COLORS.head(1)),
                      q_parts[1].animate.set_fill(COLORS.head(1), 0.7), run_time=0.25 * t.duration)
            self.wait_for(t)
        wrong = label("✗  each head gets its own slice of the embedding", size=SIZES.LABEL, color=COLORS.MASK)
        wrong.move_to([0, NOTE_Y[0], 0])
        strike = Line(wrong.get_left(), wrong.get_right()).set_stroke(COLORS.MASK, 4)
        right = label("✓  every head reads all of x; the split is on the output q", size=SIZES.LABEL,
                      color=COLORS.WEIGHT).move_to([0, NOTE_Y[1], 0])
        fit_within(VGroup(wrong, right), SAFE.width, None)
        x_halves = [x.cells[0][j].copy().set_fill(COLORS.head(j // hd), 0.7) for j in range(d)]
        with self.narrate(
                "This is the most common mistake in explanations of multi-head attention: the claim that each "
                "head gets its own slice of the embedding. It does not. Every head projects the whole vector. "
                "The splitting happens on the projection's output, the H times d h numbers, never on the "
                "input.") as t:
            self.play(FadeOut(x_box), FadeIn(wrong), *(FadeIn(c) for c in x_halves), run_time=0.25 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(Create(strike), *(FadeOut(c) for c in x_halves), run_time=0.2 * t.duration)
            self.play(FadeIn(right), Indicate(q.cells, color=COLORS.ACCENT), run_time=0.25 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # -- papers vs PyTorch ---------------------------------------------------------------------------------------
    def storage(self):
        c = self.storage_data = data.storage_convention()
        title = heading("How the weights are stored")
        who = [label(t, size=SIZES.LABEL, color=COLORS.MUTED) for t in ("papers", "nn.Linear")]
        lines = [label(f"y = x W,   W: {dims(c.paper_shape)} = (d_model, d_h)", size=SIZES.LABEL, mono=True),
                 label(f"weight: {dims(c.linear_weight_shape)} = (out, in),   y = x Wᵀ", size=SIZES.LABEL,
                       mono=True)]
        for y, a, b in zip(STORE_Y, who, lines):
            a.move_to([SAFE.left + a.width / 2, y, 0])
            b.move_to([SAFE.left + 2.6 + b.width / 2, y, 0])
        packed = BlockMatrix(label("in_proj_weight", size=SIZES.LABEL, mono=True), 3, axis="rows", width=1.8,
                             height=2.7, color=COLORS.TEXT, shape=dims(c.in_proj_shape),
                             block_names=[w_name(r, None, SIZES.LABEL) for r in ("Q", "K", "V")],
                             block_colors=[COLORS.Q, COLORS.K, COLORS.V], block_opacity=0.3)
        packed.move_to([SAFE.left + packed.width / 2, -1.45, 0])
        ranges = VGroup(*(label(f"rows [{shown(a, 0)}:{shown(b, 0)}]", size=SIZES.LABEL, color=col, mono=True)
                          .next_to(packed.blocks[k], RIGHT, buff=BUFF.MEDIUM)
                          for k, ((a, b), col) in enumerate(zip(c.in_proj_rows, (COLORS.Q, COLORS.K, COLORS.V)))))
        notes = VGroup(
            label("torch.nn.MultiheadAttention", size=SIZES.LABEL, mono=True),
            label("3·d_model × d_model: q, k, v in that order", size=SIZES.LABEL),
            label("loaded with our weights:", size=SIZES.LABEL, color=COLORS.WEIGHT),
            label(f"max |torch − ours| = {shown(c.torch_vs_ours_max_diff, sci=2)}", size=SIZES.LABEL,
                  color=COLORS.WEIGHT)).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        notes[2:].shift(DOWN * BUFF.SMALL)
        left = ranges.get_right()[0] + BUFF.LARGE
        fit_within(notes, SAFE.right - left, None)
        notes.move_to([left + notes.width / 2, packed.body.get_y(), 0])
        with self.narrate(
                "One warning before you read code. Papers write x times W, with W of shape d model by d k. "
                "PyTorch's Linear layer stores the transpose, out by in, and computes x times W transposed.") as t:
            self.play(FadeIn(title), FadeIn(who[0]), FadeIn(lines[0]), run_time=0.3 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(FadeIn(who[1]), FadeIn(lines[1]), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "And PyTorch's own multi-head attention module packs all three projections into one input "
                "projection weight, with three times d model rows and d model columns: queries first, then keys, then "
                "values. Loaded with our "
                f"weights, it matches ours to {spoken(c.torch_vs_ours_max_diff, sci=2)}.") as t:
            self.play(FadeIn(packed), FadeIn(notes[0]),
                      run_time=0.2 * t.duration)
            self.play(packed.split(lag_ratio=0.3), LaggedStart(*(FadeIn(r) for r in ranges), lag_ratio=0.3),
                      FadeIn(notes[1]), run_time=0.4 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(FadeIn(notes[2:]), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.6)

    # -- the count, with H heads and with one -------------------------------------------------------------------
    def counts(self):
        models = data.parameter_counts().models
        title = heading("Parameters per attention layer")
        eqs = VGroup(equation("head_dim", font_size=SIZES.EQUATION * 0.8),
                     equation("attention_params", font_size=SIZES.EQUATION * 0.8)).arrange(RIGHT, buff=1.0)
        eqs.next_to(title, DOWN, buff=BUFF.MEDIUM).set_x(0)
        fit_within(eqs, SAFE.width, None)
        header = ["model", "d_model", "H", "bias", "parameters", "with H = 1"]
        head_row = VGroup(*(set_on_line(label(h, size=SIZES.LABEL, color=COLORS.MUTED).set_x(x), ROW_YS[0] + 0.9)
                            for h, x in zip(header, COL_XS)))
        rows = []
        for m, y in zip(models, ROW_YS):
            cells = [label(m.name, size=SIZES.LABEL), label(shown(m.d_model, 0), size=SIZES.LABEL, mono=True),
                     label(shown(m.n_heads, 0), size=SIZES.LABEL, mono=True),
                     label("yes" if m.bias else "no", size=SIZES.LABEL),
                     label(m.params_shown, size=SIZES.LABEL, mono=True, color=COLORS.ACCENT),
                     label(m.params_one_head_shown, size=SIZES.LABEL, mono=True, color=COLORS.ACCENT)]
            rows.append(VGroup(*(set_on_line(c.set_x(x), y) for c, x in zip(cells, COL_XS))))
        head_row[0].align_to([SAFE.left, 0, 0], LEFT)
        for r in rows:
            r[0].align_to(head_row[0], LEFT)
        rule = Line([SAFE.left, ROW_YS[0] + 0.5, 0], [SAFE.right, ROW_YS[0] + 0.5, 0]).set_stroke(COLORS.GRID, 2)
        moral = label("H decides how the matrices are cut, not how big they are", size=SIZES.BODY, color=COLORS.TEXT)
        fit_within(moral, SAFE.width, None)
        moral.move_to([0, ROW_YS[-1] - 1.2, 0])
        one_col = VGroup(head_row[-1], *(r[-1] for r in rows))
        base, gpt, llama = models
        with self.narrate(
                "Now count. Each of the four matrices is d model by H times d h, and H times d h is d model. So "
                "attention holds four times d model squared weights, plus four times d model biases when the model "
                "uses them.") as t:
            self.play(FadeIn(title), Write(eqs[0]), run_time=0.35 * t.duration)
            self.play(Write(eqs[1]), run_time=0.35 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"The Transformer base model, with d model {spoken(base.d_model, 0)}, has "
                f"{spoken(base.params, 0)} attention parameters per layer. GPT-2 small, with biases, has "
                f"{spoken(gpt.params, 0)}. {llama.name} has {spoken(llama.params, 0)}.") as t:
            self.play(FadeIn(head_row[:-1]), Create(rule), run_time=0.1 * t.duration)
            for r in rows:
                self.play(LaggedStart(*(FadeIn(c, shift=RIGHT * 0.1) for c in r[:-1]), lag_ratio=0.12),
                          run_time=0.22 * t.duration)
                self.wait(0.08 * t.duration)
            self.wait_for(t)
        box = SurroundingRectangle(one_col, color=COLORS.ACCENT, buff=BUFF.SMALL)
        with self.narrate(
                "Now set H to one: a single head as wide as the model. The counts do not move. The number of heads "
                "decides how the matrices are cut, not how big they are.") as t:
            self.play(FadeIn(head_row[-1]), LaggedStart(*(FadeIn(r[-1], shift=LEFT * 0.2) for r in rows),
                                                        lag_ratio=0.2), run_time=0.4 * t.duration)
            self.play(Create(box), run_time=0.2 * t.duration)
            self.play(FadeIn(moral, shift=UP * 0.1), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.wait(0.5)
