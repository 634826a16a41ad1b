"""L02.6 Output aggregation mechanisms: the concatenated heads times W_O, re-arranged as a sum of per-head
writes h_i W_O^(i); each write drawn as an arrow into the token's residual stream, the arrows adding tip to
tail to the layer's output (equal to ``MultiHeadAttention.forward``); the concatenation order must match
W_O's row blocks; preview of MoH's routed, weighted sum (Lecture 12).

    manim -pql scenes/l02_multihead/l02_aggregation.py Aggregation

Numbers: ``data.head_writes()``; formula: ``concat_project_sum`` (E2.4). This file holds layout and timing only.
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, GrowArrow, Indicate, Line, ReplacementTransform,
                   SurroundingRectangle, VGroup, Write)

from scenes.kit.equations import equation
from scenes.kit.format import quoted, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitationLine, MatrixGrid, VectorColumn, VectorPlane, fit_within, label
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.references import JIN
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l02_multihead import data

CELL = 0.88  # matrix cell size
NUMBER_SIZE = 20  # every grid's numbers at one size (a grid would otherwise shrink only its widest numbers)
GRID_Y = -0.35  # centre of concat · W_O = output
ROW_GAP = 0.35  # vertical gap between the two per-head products
DRAWN = (0, 1)  # the two residual-stream coordinates the arrows are drawn in (a linear projection: sums stay sums)
PLANE_W, PLANE_H = 5.6, 5.0
TAG_SIDES = (LEFT, DOWN)  # where each head's name sits beside its arrow
PLANE_X, PLANE_Y = -2.7, -0.5


def sym(text: str, size: float = SIZES.HEADING, color: str = COLORS.TEXT):
    return label(text, size=size, color=color)


def grid(values, colors=None, role=None):
    """A matrix of numbers; ``colors``: one colour per row (or None), for W_O's row blocks and head outputs."""
    g = MatrixGrid(values, cell_size=CELL, role=role, font_size=NUMBER_SIZE)
    for i, row in enumerate(g.numbers):
        for j, num in enumerate(row):
            c = colors(i, j) if callable(colors) else colors
            if c:
                num.set_color(c)
    return g


class Aggregation(LectureScene):
    closing_fade = 1.0

    def construct(self):
        self.a = data.head_writes()
        self.t = self.a.tokens.index(self.a.token)
        self.n_heads, self.d_h = len(self.a.head_outputs), len(self.a.head_outputs[0][0])
        self.topic("L02.6", "Output aggregation mechanisms")
        self.concat_then_project()
        self.project_then_sum()
        self.residual_arrows()
        self.order_and_preview()

    def head_of_col(self, i, j):
        return COLORS.head(j // self.d_h)

    def head_of_row(self, i, j):
        return COLORS.head(i // self.d_h)

    # -- [h_1 … h_H] W_O ------------------------------------------------------------------------------------------
    def concat_then_project(self):
        a, t = self.a, self.t
        title = self.title = heading("Output aggregation")
        eq = self.eq = equation("concat_project_sum")
        fit_within(eq, SAFE.width - title.width - BUFF.LARGE, None)
        eq.move_to([SAFE.right - eq.width / 2, SAFE.top - eq.height / 2, 0])
        concat = grid([a.concat[t]], self.head_of_col)
        w_o = grid(a.o_blocks[0] + a.o_blocks[1], self.head_of_row, role="OUTPUT")
        out = grid([a.forward[t]], role="OUTPUT")
        times, eqs = sym("×"), sym("=")
        row = VGroup(concat, times, w_o, eqs, out).arrange(RIGHT, buff=BUFF.MEDIUM)
        for m in (concat, times, eqs, out):
            m.set_y(w_o.cells[0][0].get_y())
        row.move_to([0, GRID_Y, 0])
        cap_c = sym(f"{quoted(a.token)}: [ head 1 | head 2 ]", SIZES.LABEL, COLORS.MUTED)
        cap_c.next_to(concat, UP, buff=BUFF.SMALL).align_to(concat, LEFT)
        cap_w = sym("Wᴼ", SIZES.LABEL, COLORS.OUTPUT).next_to(w_o, UP, buff=BUFF.SMALL)
        cap_o = sym("layer output", SIZES.LABEL, COLORS.OUTPUT).next_to(out, UP, buff=BUFF.SMALL)
        note = self.note = sym(a.weights_origin, SIZES.LABEL, COLORS.MUTED)
        note.move_to([SAFE.left + note.width / 2, SAFE.bottom + note.height / 2, 0])
        self.parts = dict(concat=concat, w_o=w_o, out=out, times=times, eqs=eqs, caps=VGroup(cap_c, cap_w, cap_o))
        with self.narrate(
                "Every head has produced its output. How does the layer combine them? For the token "
                f"{a.token}, it concatenates the heads' outputs, {self.d_h} numbers from head one, {self.d_h} from "
                "head two, and multiplies the row by one output matrix, W O.") as t_:
            self.play(FadeIn(title), FadeIn(note), run_time=0.15 * t_.duration)
            self.play(FadeIn(concat), FadeIn(cap_c), run_time=0.3 * t_.duration)
            self.play(FadeIn(VGroup(times, w_o, cap_w)), run_time=0.25 * t_.duration)
            self.play(FadeIn(VGroup(eqs, out, cap_o)), run_time=0.2 * t_.duration)

    # -- = Σ_i h_i W_O^(i) -------------------------------------------------------------------------------------------
    def project_then_sum(self):
        a, t, p = self.a, self.t, self.parts
        lines, heads, blocks, writes = VGroup(), [], [], []
        for h in range(self.n_heads):
            hv = grid([a.head_outputs[h][t]], COLORS.head(h))
            blk = grid(a.o_blocks[h], COLORS.head(h))
            wr = grid([a.token_writes[h]], COLORS.head(h))
            name = sym(f"head {h + 1}", SIZES.LABEL, COLORS.head(h))
            line = VGroup(name, hv, sym("×"), blk, sym("="), wr).arrange(RIGHT, buff=BUFF.MEDIUM)
            for m in (name, hv, line[2], line[4], wr):
                m.set_y(blk.cells[0][0].get_y() - CELL / 2)
            lines.add(line)
            heads.append(hv), blocks.append(blk), writes.append(wr)
        total = grid([a.sum_of_writes[t]], role="OUTPUT")
        plus = sym("+")
        stack = VGroup(*lines).arrange(DOWN, buff=ROW_GAP, aligned_edge=RIGHT)
        rule = Line(LEFT, RIGHT).set_stroke(COLORS.MUTED, 2)
        block = VGroup(stack, rule, total)
        rule.set_width(writes[0].width).next_to(stack, DOWN, buff=BUFF.SMALL).align_to(stack, RIGHT)
        total.next_to(rule, DOWN, buff=BUFF.SMALL).align_to(stack, RIGHT)
        block.move_to([0, (self.eq.get_bottom()[1] + SAFE.bottom) / 2, 0])
        plus.next_to(writes[1], LEFT, buff=BUFF.SMALL).shift(DOWN * 0.5 * CELL + DOWN * BUFF.SMALL)
        plus.next_to(rule, LEFT, buff=BUFF.MEDIUM)
        check = sym(f"= forward, max |difference| {shown(a.max_diff_sum_vs_forward, sci=2)}", SIZES.LABEL,
                    COLORS.WEIGHT)
        check.next_to(total, LEFT, buff=BUFF.MEDIUM)
        concat, w_o = p["concat"], p["w_o"]
        with self.narrate(
                f"Now cut W O by rows. Its first {self.d_h} rows only ever meet head one's numbers, its last "
                f"{self.d_h} only head two's. So the same product splits into two smaller ones: head one through "
                "its own block, plus head two through its block.") as t_:
            self.play(Write(self.eq), run_time=0.3 * t_.duration)
            d = self.d_h
            moving = [VGroup(*concat.cells[0][h * d:(h + 1) * d], *concat.numbers[0][h * d:(h + 1) * d])
                      for h in range(self.n_heads)]
            moving += [VGroup(*w_o.cells[h * d:(h + 1) * d], *w_o.numbers[h * d:(h + 1) * d])
                       for h in range(self.n_heads)]
            targets = [*heads, *blocks]
            self.play(FadeOut(VGroup(p["times"], p["eqs"], p["caps"], w_o.frame)),
                      *(m.animate.move_to(tg.cells) for m, tg in zip(moving, targets)),
                      FadeIn(VGroup(*(VGroup(ln[0], ln[2], ln[4]) for ln in lines))),
                      p["out"].animate.move_to(total), run_time=0.5 * t_.duration)
            self.remove(*moving, concat, w_o, p["out"])
            self.add(*targets, total)
            frames = VGroup(*(SurroundingRectangle(b.cells, color=COLORS.OUTPUT, buff=0, stroke_width=3)
                              for b in blocks))
            self.play(Create(frames), run_time=0.1 * t_.duration)
        with self.narrate(
                f"Each product is that head's write, {len(a.residual)} numbers. Added up, they give exactly the "
                "layer's output, the same as the module's forward pass, up to "
                f"{spoken(a.max_diff_sum_vs_forward, sci=2)}. "
                "Concatenate then project, or project each head and sum: one computation.") as t_:
            self.play(*(FadeIn(w, shift=RIGHT * 0.3) for w in writes), run_time=0.35 * t_.duration)
            self.play(FadeIn(plus), Create(rule), Indicate(total.numbers, color=COLORS.OUTPUT),
                      run_time=0.3 * t_.duration)
            self.play(FadeIn(check), run_time=0.2 * t_.duration)
        self.play(FadeOut(VGroup(block, plus, check, self.eq, *heads, *blocks, frames)), run_time=0.7)

    # -- arrows into the residual stream ----------------------------------------------------------------------------
    def residual_arrows(self):
        a = self.a
        i, j = DRAWN
        pick = lambda v: (v[i], v[j])  # noqa: E731
        x, w1, w2 = pick(a.residual), pick(a.token_writes[0]), pick(a.token_writes[1])
        after = pick(a.residual_after)
        mid = (x[0] + w1[0], x[1] + w1[1])
        plane = VectorPlane(extent=[(0.0, 0.0), x, mid, after], width=PLANE_W, height=PLANE_H, show_origin=True)
        plane.move_to([PLANE_X, PLANE_Y, 0])
        stream = plane.arrow((0.0, 0.0), x, COLORS.MUTED)
        chain = plane.arrow_chain(x, [w1, w2], [COLORS.head(0), COLORS.head(1)], total_color=COLORS.OUTPUT)
        result = plane.arrow((0.0, 0.0), after, COLORS.TEXT)
        lx = plane.point_label(x, f"x: {quoted(a.token)} before the layer", UP, COLORS.MUTED)
        lx.shift(RIGHT * max(0.0, SAFE.left - lx.get_left()[0]))
        la = plane.point_label(after, "after", RIGHT, COLORS.TEXT)
        joints = chain.points_data
        tags = VGroup(*(plane.point_label((joints[h] + joints[h + 1]) / 2, f"head {h + 1}", TAG_SIDES[h],
                                          COLORS.head(h)) for h in range(self.n_heads)))
        cols = VGroup(VectorColumn(a.residual, label_text="x", role="MUTED"), sym("+", SIZES.BODY),
                      VectorColumn(a.token_writes[0], label_text="head 1"), sym("+", SIZES.BODY),
                      VectorColumn(a.token_writes[1], label_text="head 2"), sym("=", SIZES.BODY),
                      VectorColumn(a.residual_after, label_text="after"))
        for k, c in ((2, COLORS.head(0)), (4, COLORS.head(1))):
            cols[k].entries.set_color(c), cols[k].brackets.set_color(c), cols[k].label.set_color(c)
        cols.arrange(RIGHT, buff=BUFF.SMALL)
        for k in (1, 3, 5):
            cols[k].set_y(cols[0].entries.get_y())
        fit_within(cols, SAFE.right - plane.get_right()[0] - BUFF.MEDIUM, None)
        cols.move_to([SAFE.right - cols.width / 2, 0.6, 0])
        drawn = sym(f"arrows: coordinates {i + 1} and {j + 1} of {len(a.residual)}", SIZES.LABEL, COLORS.MUTED)
        drawn2 = sym(f"the sum holds in all {len(a.residual)}", SIZES.LABEL, COLORS.MUTED)
        notes = VGroup(drawn, drawn2).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
        notes.next_to(cols, DOWN, buff=BUFF.LARGE).align_to(cols, LEFT)
        title = heading("Each head writes into the residual stream")
        with self.narrate(
                f"Picture the residual stream of {a.token} as a vector: the token's running state, which the "
                "layer adds to rather than replaces.") as t_:
            self.play(ReplacementTransform(self.title, title), FadeIn(plane.origin_mark), run_time=0.3 * t_.duration)
            self.play(GrowArrow(stream), FadeIn(lx), FadeIn(cols[0]), run_time=0.4 * t_.duration)
        with self.narrate(
                "Head one adds its arrow. Head two adds its own, starting where the first one ended. The tip lands "
                "on the layer's output added to the stream, in every coordinate.") as t_:
            for h in range(self.n_heads):
                self.play(GrowArrow(chain.arrows[h]), FadeIn(tags[h]), FadeIn(cols[2 * h + 1]),
                          FadeIn(cols[2 * h + 2]), run_time=0.3 * t_.duration)
            self.play(GrowArrow(result), FadeIn(la), FadeIn(cols[5:]), FadeIn(notes), run_time=0.3 * t_.duration)
        with self.narrate(
                "So heads are independent, additive writers into one shared stream. None of them reads another's "
                "write inside the layer, and the order of the sum does not matter. Keep this picture: every head in "
                "every layer is one more arrow added to the stream.") as t_:
            self.play(Indicate(chain.arrows, scale_factor=1.1), run_time=0.4 * t_.duration)
        self.play(FadeOut(VGroup(plane.origin_mark, stream, chain.arrows, result, lx, la, tags, cols, notes)),
                  run_time=0.7)
        self.title = title

    # -- the order must match; MoH's routed sum -----------------------------------------------------------------------
    def order_and_preview(self):
        a, t = self.a, self.t
        title = heading("The order must match Wᴼ's row blocks")
        cite = CitationLine(JIN)
        right = grid([a.concat[t]], self.head_of_col)
        wrong = grid([a.swapped_concat], lambda i, j: COLORS.head(self.n_heads - 1 - j // self.d_h))
        outs = [grid([a.forward[t]], role="OUTPUT"), grid([a.swapped_output], COLORS.V)]
        rows = VGroup()
        for g, o in ((right, outs[0]), (wrong, outs[1])):
            rows.add(VGroup(g, sym("· Wᴼ =", SIZES.BODY), o).arrange(RIGHT, buff=BUFF.MEDIUM))
        rows.arrange(DOWN, buff=BUFF.LARGE, aligned_edge=LEFT).next_to(title, DOWN, buff=BUFF.LARGE * 1.3)
        rows.set_x(0)
        caps = VGroup(sym("[ head 1 | head 2 ]: the layer's output", SIZES.LABEL, COLORS.WEIGHT),
                      sym(f"[ head 2 | head 1 ]: off by up to {shown(a.max_diff_swapped_vs_forward)}", SIZES.LABEL,
                          COLORS.V))
        for cap, r in zip(caps, rows):
            cap.next_to(r, UP, buff=BUFF.SMALL).align_to(r, LEFT)
        with self.narrate(
                "One detail must match. The concatenation's order has to agree with the row blocks of W O. Swap "
                f"the two heads, and the output is off by up to {spoken(a.max_diff_swapped_vs_forward)}.") as t_:
            self.play(ReplacementTransform(self.title, title),
                      self.note.animate.next_to(cite, UP, buff=BUFF.SMALL).align_to(cite, LEFT),
                      run_time=0.2 * t_.duration)
            self.play(FadeIn(rows[0]), FadeIn(caps[0]), run_time=0.3 * t_.duration)
            self.play(FadeIn(rows[1]), FadeIn(caps[1]), run_time=0.3 * t_.duration)
        moh = VGroup(sym("Preview, Lecture 12: mixture of heads", SIZES.BODY, COLORS.ACCENT),
                     sym("a router scores the heads for each token;", SIZES.LABEL),
                     sym("the plain sum becomes a routed, weighted sum", SIZES.LABEL))
        moh.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        moh.next_to(rows, DOWN, buff=BUFF.LARGE).set_x(0)
        with self.narrate(
                "And because the layer is a plain sum of head writes, it can be changed. In Lecture 12, mixture "
                "of heads puts a router in front: it scores the heads for each token, and the sum becomes a "
                "weighted sum over the chosen heads.") as t_:
            self.play(FadeIn(moh, shift=UP * 0.2), FadeIn(cite), run_time=0.4 * t_.duration)
        self.wait(0.5)
