"""L03.1 Absolute vs relative positioning: attention with no positions only moves its output rows when the
sentence is permuted ("dog bites man" vs "man bites dog", non-causal sdpa), a causal mask alone breaks that
symmetry (NoPE); then three position schemes side by side (the sinusoidal table added to the input, T5's
bucketed bias, ALiBi's linear bias) and the Toeplitz test: the relative grids are constant along every
diagonal, the scores of added sinusoids are not.

    manim -pql scenes/l03_rope/l03_absolute_relative.py AbsoluteRelative

Every number comes from ``data.permutation_equivariance()``, ``data.sinusoidal_table()``,
``data.t5_buckets()``, ``data.alibi_grid()`` and ``data.diagonal_structure()``; this file holds layout and
timing only.
"""
from __future__ import annotations

import numpy as np
from manim import (DOWN, LEFT, PI, RIGHT, UP, Create, FadeIn, FadeOut, Group, LaggedStart, SurroundingRectangle,
                   VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import (CitationLine, DiagonalOutline, MaskOverlay, MatrixGrid, TokenRow, fit_within,
                                 label)
from scenes.kit.references import HAVIV, KAZEMNEJAD
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l03_rope import data
from scenes.l03_rope.data.absolute_relative import FIXED_TOKEN

# -- part 1: the permuted sentence ---------------------------------------------------------------------------
SIDE_X = SAFE.width / 4 + 0.1          # centres of the two sentences' columns, ± this
TOKENS_Y = 3.0
OUT_CELL = 0.8
OUT_Y = 0.95                           # centre of the output grids' cells
FACT_Y = (-1.35, -1.9, -2.45)          # the three statements under the grids
# -- part 2: three schemes side by side ---------------------------------------------------------------------
PANEL_X = (-SAFE.width / 3, 0.0, SAFE.width / 3)
PANEL_W = SAFE.width / 3 - BUFF.MEDIUM
TITLE_Y, SUB_Y = 3.38, 2.98
GRID_Y = 0.18                          # centre of every panel's cells (their titles fit between it and SUB_Y)
TABLE_W = 2.8                          # width of the sinusoid table (n × d, cells wider than high)
CELLS_DX = 0.2                         # cells right of the panel centre: the row labels and "query i" sit left
BIAS_CELL = 0.44
GRID_H = 8 * BIAS_CELL                 # height of every panel's cells
UNDER_Y = -1.7                        # top of the lines under a grid
STRIP_Y = -2.75                        # the detail strip (equation, buckets) across the frame
STRIP_H = 0.9

def _schemes_title(text: str, sub: str, x: float, color: str) -> VGroup:
    title = label(text, size=SIZES.BODY, color=color).move_to([x, TITLE_Y, 0])
    subtitle = label(sub, size=SIZES.LABEL, color=COLORS.MUTED).move_to([x, SUB_Y, 0])
    fit_within(title, PANEL_W, None)
    fit_within(subtitle, PANEL_W, None)
    return VGroup(title, subtitle)


def _bias_grid(values, decimals: int, x: float, **kw) -> MatrixGrid:
    n = len(values)
    grid = MatrixGrid(values, heat=True, decimals=decimals, cell_size=BIAS_CELL, row_labels=[str(i) for i in range(n)],
                      col_labels=[str(j) for j in range(n)], row_role="Q", col_role="K", label_size=SIZES.SMALL, **kw)
    grid.move_cells_to(x + CELLS_DX, GRID_Y)
    return grid


def _axis_titles(grid: MatrixGrid) -> VGroup:
    keys = label("key j", size=SIZES.SMALL, color=COLORS.K)
    keys.next_to(grid.col_labels, UP, buff=BUFF.TIGHT).align_to(grid.cells, RIGHT)
    queries = label("query i", size=SIZES.SMALL, color=COLORS.Q).rotate(PI / 2)
    queries.next_to(grid.row_labels, LEFT, buff=BUFF.TIGHT).align_to(grid.cells, DOWN)
    return VGroup(keys, queries)


def _under(lines, x: float, color: str = COLORS.MUTED, size: float = SIZES.SMALL) -> VGroup:
    group = VGroup(*(label(t, size=size, color=color) for t in lines)).arrange(DOWN, buff=BUFF.TIGHT)
    fit_within(group, PANEL_W - 2 * CELLS_DX, None)
    return group.move_to([x + CELLS_DX, UNDER_Y - group.height / 2, 0])


def _strip(mob):
    fit_within(mob, SAFE.width - 0.4, STRIP_H)
    return mob.move_to([0, STRIP_Y, 0])


class AbsoluteRelative(LectureScene):
    """L03.1: without positions attention cannot tell word order; absolute vs relative schemes; Toeplitz."""

    def construct(self):
        self.topic("L03.1", "Absolute vs relative positioning")
        self.no_positions()
        self.causal_leak()
        self.sinusoidal()
        self.t5()
        self.alibi()
        self.toeplitz()

    # -- without positions ------------------------------------------------------------------------------------
    def no_positions(self):
        p = data.permutation_equivariance()
        cols = []
        for toks, outs, x in ((p.tokens, p.outputs, -SIDE_X), (p.permuted_tokens, p.permuted_outputs, SIDE_X)):
            row = TokenRow(toks, font_size=SIZES.BODY).move_to([x, TOKENS_Y, 0])
            grid = MatrixGrid(outs, decimals=2, cell_size=OUT_CELL, row_labels=toks, role="OUTPUT")
            grid.move_cells_to(x, OUT_Y)
            title = label("output rows, no positions", size=SIZES.LABEL, color=COLORS.MUTED)
            title.next_to(grid.cells, UP, buff=BUFF.SMALL)
            cols.append((row, grid, title))
        (row_a, grid_a, title_a), (row_b, grid_b, title_b) = cols
        caption = label(p.caption, size=SIZES.SMALL, color=COLORS.MUTED).next_to(grid_a, DOWN, buff=BUFF.SMALL)
        caption.set_x(0)
        with self.narrate(
                "How does attention know where a word sits? On its own, it does not. Take the sentence "
                f"{' '.join(p.tokens)}, and pass it through one attention head with no position information at "
                "all. Each token gets a row of output.") as t:
            self.play(FadeIn(row_a), run_time=0.25 * t.duration)
            self.play(FadeIn(title_a), FadeIn(grid_a.row_labels), FadeIn(caption),
                      LaggedStart(*(FadeIn(grid_a.row(i), shift=RIGHT * 0.2) for i in range(len(p.tokens))),
                                  lag_ratio=0.3), FadeIn(grid_a.frame), run_time=0.5 * t.duration)
            self.wait_for(t)
        moving = [grid_a.row(p.permutation[i]).copy() for i in range(len(p.tokens))]
        for i, m in enumerate(moving):
            m.generate_target()
            m.target.move_to(grid_b.row(i))
        dog = p.tokens.index(p.permuted_tokens[-1])
        box_a, box_b = grid_a.row_box(dog), grid_b.row_box(len(p.tokens) - 1)
        fact = label(f"rows move, values identical: largest difference {shown(p.max_row_difference, sci=2)}",
                     size=SIZES.LABEL).move_to([0, FACT_Y[0], 0])
        with self.narrate(
                f"Now swap the nouns: {' '.join(p.permuted_tokens)}. The meaning flips, but the outputs do not "
                f"change. They only move: the row of {p.tokens[dog]} holds the same numbers, wherever "
                f"{p.tokens[dog]} stands. The largest difference between matching rows is "
                f"{spoken(p.max_row_difference, sci=2)}, which is floating point rounding.") as t:
            self.play(FadeIn(row_b), FadeIn(title_b), FadeIn(grid_b.frame), FadeIn(grid_b.row_labels),
                      run_time=0.2 * t.duration)
            self.play(LaggedStart(*(m.animate.move_to(m.target) for m in moving), lag_ratio=0.25),
                      run_time=0.3 * t.duration)
            self.add(grid_b)
            self.remove(*moving)
            self.play(Create(box_a), Create(box_b), run_time=0.2 * t.duration)
            self.play(FadeIn(fact), run_time=0.15 * t.duration)
            self.wait_for(t)
        same = label(f"same set of output rows: {'yes' if p.same_multiset else 'no'}", size=SIZES.LABEL,
                     color=COLORS.WEIGHT).move_to([0, FACT_Y[1], 0])
        with self.narrate(
                "Attention without positions is permutation equivariant: shuffle the tokens, and the outputs "
                "shuffle the same way. The two sentences give the same set of output vectors, so the model "
                "cannot tell who bit whom.") as t:
            self.play(FadeOut(box_a), FadeOut(box_b), FadeIn(same), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.stage = Group(row_a, row_b, grid_a, grid_b, title_a, title_b, caption, fact, same)

    def causal_leak(self):
        p = data.permutation_equivariance()
        leak = label(f"with a causal mask: largest difference {shown(p.causal_max_row_difference)}",
                     size=SIZES.LABEL, color=COLORS.ACCENT).move_to([0, FACT_Y[2], 0])
        cites = VGroup(*(CitationLine(s, place=False) for s in p.nope_sources)).arrange(DOWN, aligned_edge=LEFT,
                                                                                         buff=BUFF.TIGHT)
        fit_within(cites, SAFE.width, None)
        cites.move_to([SAFE.left + cites.width / 2, SAFE.bottom + cites.height / 2, 0])
        who = [f"{r.authors.replace(' et al.', '')} and colleagues in {r.year}" for r in (HAVIV, KAZEMNEJAD)]
        with self.narrate(
                "One caveat. A causal mask already breaks this symmetry: the first token sees only itself, the "
                "last sees everything. With the mask, the largest difference jumps to "
                f"{spoken(p.causal_max_row_difference)}.") as t:
            self.play(FadeIn(leak, shift=UP * 0.1), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "Decoders trained with no positional encoding at all, called NoPE, really do learn positions "
                f"from the mask, as {who[0]} and {who[1]} showed. That is why NoPE joins our lab comparison "
                "later in this lecture.") as t:
            self.play(FadeIn(cites), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(self.stage, leak, cites)), run_time=0.8)

    # -- three schemes ----------------------------------------------------------------------------------------
    def sinusoidal(self):
        s = data.sinusoidal_table()
        x = PANEL_X[0]
        self.sin_head = _schemes_title("sinusoidal: absolute", "added to the input", x, COLORS.head(0))
        cell = GRID_H / s.n
        table = MatrixGrid(s.table, heat=True, show_numbers=False, cell_size=cell)
        table.cells.set_stroke(width=0)                     # 512 cells: borders would drown the colours
        table.stretch_to_fit_width(TABLE_W)                 # wide cells: the columns' waves read better
        table.move_cells_to(x + CELLS_DX + 0.15, GRID_Y)
        dims = label("dimension →", size=SIZES.SMALL, color=COLORS.MUTED).next_to(table.cells, UP, buff=BUFF.TIGHT)
        pos = label("position →", size=SIZES.SMALL, color=COLORS.MUTED).rotate(-PI / 2)
        pos.next_to(table.cells, LEFT, buff=BUFF.SMALL)
        ends = VGroup(label("0", size=SIZES.SMALL, color=COLORS.MUTED).next_to(table.cells[0][0], LEFT),
                      label(shown(s.n - 1, 0), size=SIZES.SMALL, color=COLORS.MUTED).next_to(table.cells[-1][0], LEFT))
        ends[0].align_to(table.cells, UP)
        ends[1].align_to(table.cells, DOWN)
        pos.next_to(ends, LEFT, buff=BUFF.TIGHT).set_y(table.cells.get_y())
        fast = SurroundingRectangle(VGroup(table.col(0), table.col(1)), color=COLORS.ACCENT, buff=0.02)
        slow = SurroundingRectangle(VGroup(table.col(s.d - 2), table.col(s.d - 1)), color=COLORS.ACCENT, buff=0.02)
        waves = _under([f"wavelengths {shown(s.wavelengths[0])} … {shown(s.wavelengths[-1], 0)} tokens"], x,
                       color=COLORS.TEXT)
        cite = CitationLine(s.source)
        self.sin_parts = VGroup(table, dims, pos, ends)
        with self.narrate(
                "There are two ways to put order back. The first is absolute: give every position a vector of its "
                "own, and add it to the token's embedding. The original transformer used sines and cosines. "
                f"This heat map has one row per position, {spoken(s.n, 0)} of them, and one column per dimension, "
                f"{spoken(s.d, 0)}.") as t:
            self.play(FadeIn(self.sin_head), FadeIn(cite), run_time=0.2 * t.duration)
            self.wait(0.3 * t.duration)
            self.play(FadeIn(table), FadeIn(dims), FadeIn(pos), FadeIn(ends), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "Each pair of columns oscillates at its own frequency: the first pair repeats every "
                f"{spoken(s.wavelengths[0])} tokens, the last only every {spoken(s.wavelengths[-1], 0)} tokens.") as t:
            self.play(Create(fast), FadeIn(waves), run_time=0.35 * t.duration)
            self.play(Create(slow), run_time=0.3 * t.duration)
            self.wait_for(t)
        eq = _strip(equation("sinusoidal_shift"))
        with self.narrate(
                "A shift by k positions turns each sine and cosine pair by a fixed rotation, so relative offsets "
                "are in there. But the vectors are added to the content, and attention has to untangle position "
                "from meaning.") as t:
            self.play(FadeOut(fast), FadeOut(slow), FadeIn(eq, shift=UP * 0.1), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(eq), FadeOut(cite), run_time=0.5)
        self.sin_under = waves

    def t5(self):
        b = data.t5_buckets()
        x = PANEL_X[1]
        self.t5_head = _schemes_title("T5 bias: relative", "a learned bias per bucket", x, COLORS.head(1))
        grid = self.t5_grid = _bias_grid(b.bias_grid, 1, x)
        axes = _axis_titles(grid)
        untrained = _under(b.caption.split(" (", 1)[:1], x)
        self.t5_parts = VGroup(grid, axes)
        starts = [first for _, first in b.first_distance_of_bucket]
        row = TokenRow([shown(v, 0) for v in starts], font_size=SIZES.LABEL, buff=BUFF.TIGHT)
        for k, box in enumerate(row.boxes):
            box.set_stroke(COLORS.K if k < b.exact else COLORS.SCORE, 2.5)
        exact = label(f"exact: {shown(b.exact, 0)} distances, one each", size=SIZES.SMALL, color=COLORS.K)
        logs = label(f"log-spaced up to {shown(b.max_distance, 0)}, then capped", size=SIZES.SMALL,
                     color=COLORS.SCORE)
        exact.next_to(row.boxes[:b.exact], DOWN, buff=BUFF.SMALL)
        logs.next_to(row.boxes[b.exact:], DOWN, buff=BUFF.SMALL)
        title = label("distance where each bucket starts (one direction)", size=SIZES.SMALL, color=COLORS.MUTED)
        title.next_to(row, UP, buff=BUFF.SMALL)
        strip = _strip(VGroup(title, row, exact, logs))
        cite = CitationLine(b.source)
        with self.narrate(
                "The second family is relative. Leave the embeddings alone, and add a bias to each attention "
                "score that depends only on the distance between query and key.") as t:
            self.play(FadeIn(self.t5_head), FadeIn(cite), run_time=0.25 * t.duration)
            self.play(FadeIn(grid), FadeIn(axes), FadeIn(untrained), run_time=0.4 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"T5 sorts distances into {spoken(b.num_buckets, 0)} buckets, {spoken(len(starts), 0)} per "
                f"direction. The first {spoken(b.exact, 0)} distances get a bucket each; beyond that the buckets "
                f"widen logarithmically up to {spoken(b.max_distance, 0)}, and everything farther shares the last "
                "bucket. Each bucket learns one number per head; ours are random.") as t:
            self.play(FadeIn(title), FadeIn(row.items[:b.exact]), FadeIn(exact), run_time=0.3 * t.duration)
            self.play(LaggedStart(*(FadeIn(it) for it in row.items[b.exact:]), lag_ratio=0.2), FadeIn(logs),
                      run_time=0.35 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(strip), FadeOut(cite), run_time=0.5)
        self.t5_under = untrained

    def alibi(self):
        a = data.alibi_grid()
        x = PANEL_X[2]
        self.al_head = _schemes_title("ALiBi bias: relative", "fixed, nothing learned", x, COLORS.head(2))
        bias = a.bias[0]
        lower = [bias[i][j] for i in range(a.n) for j in range(i + 1)]
        grid = self.al_grid = _bias_grid(bias, 1, x, vmin=min(lower), vmax=max(lower))
        allowed = np.array([[j <= i for j in range(a.n)] for i in range(a.n)])
        mask = MaskOverlay(grid, allowed, text=None)
        axes = _axis_titles(grid)
        slopes = _under([f"head 1 of {shown(a.n_heads, 0)}: slope m = {shown(a.slopes[0])}",
                         f"slopes 1/{shown(a.slope_inverses[0], 0)} … 1/{shown(a.slope_inverses[-1], 0)}"], x)
        self.al_parts = VGroup(grid, mask, axes)
        eq = _strip(equation("alibi"))
        cite = CitationLine(a.source)
        with self.narrate(
                "ALiBi learns nothing at all. Each head subtracts its slope times the distance, i minus j, from "
                f"the scores. With {spoken(a.n_heads, 0)} heads, the slopes run from 1 over "
                f"{spoken(a.slope_inverses[0], 0)} down to 1 over {spoken(a.slope_inverses[-1], 0)}.") as t:
            self.play(FadeIn(self.al_head), FadeIn(cite), FadeIn(eq), run_time=0.3 * t.duration)
            self.play(FadeIn(grid), FadeIn(mask), FadeIn(axes), FadeIn(slopes), run_time=0.35 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"Here is the first head: {spoken(bias[1][0], 1)} for the previous token, {spoken(bias[2][0], 1)} "
                "for the one before, and so on down the row; the future is masked.") as t:
            hl = grid.highlight_cell(1, 0)
            self.play(Create(hl), run_time=0.25 * t.duration)
            self.play(hl.animate.move_to(grid.cells[2][0]), run_time=0.25 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(hl), FadeOut(eq), FadeOut(cite), run_time=0.5)
        self.al_under = slopes

    # -- the Toeplitz test ------------------------------------------------------------------------------------
    def toeplitz(self):
        g = data.diagonal_structure()
        x = PANEL_X[0]
        offset = g.widest_offset
        scores = _bias_grid(g.sinusoidal_scores, 1, x)
        axes = _axis_titles(scores)
        head = _schemes_title("sinusoidal: absolute", f"“{FIXED_TOKEN}” at every position", x, COLORS.head(0))
        caption = _under([g.caption], x)
        with self.narrate(
                "Now compare the three as grids over query and key positions. For the sinusoids, put the same "
                f"token, {FIXED_TOKEN}, at every position, add its sinusoid, and compute "
                "the attention scores.") as t:
            self.play(FadeOut(self.sin_parts), FadeOut(self.sin_under), FadeOut(self.sin_head[1]),
                      run_time=0.25 * t.duration)
            self.play(FadeIn(head[1]), FadeIn(scores), FadeIn(axes), FadeIn(caption), run_time=0.35 * t.duration)
            self.remove(self.sin_head[0])
            self.add(head[0])
            self.wait_for(t)
        grids = (scores, self.t5_grid, self.al_grid)
        bands = [DiagonalOutline(gr, offset, color=COLORS.ACCENT) for gr in grids]
        devs = (g.sinusoidal_deviation, g.t5_deviation, g.alibi_deviation)
        ok = dict(g.relative)
        verdicts = VGroup(*(
            label(f"largest spread on a diagonal: {shown(v)}", size=SIZES.LABEL,
                  color=COLORS.WEIGHT if ok[name] else COLORS.V).move_to([px + CELLS_DX, STRIP_Y + 0.15, 0])
            for name, v, px in zip(("sinusoidal", "T5", "ALiBi"), devs, PANEL_X)))
        for v in verdicts:
            fit_within(v, PANEL_W - 2 * CELLS_DX, None)
        toeplitz = label("constant along diagonals (Toeplitz): depends on i − j only", size=SIZES.LABEL,
                         color=COLORS.WEIGHT)
        fit_within(toeplitz, SAFE.width, None)
        toeplitz.move_to([0, STRIP_Y - 0.4, 0])
        with self.narrate(
                f"Follow one diagonal, where i minus j is {spoken(-offset, 0)}: every query "
                f"{spoken(-offset, 0)} step after its key. In the T5 grid and the ALiBi grid the values along it "
                "are all equal. A matrix that is constant along every diagonal is called Toeplitz: the score "
                "depends on i minus j only, not on where the pair sits. The largest spread along any diagonal "
                f"is {spoken(g.t5_deviation)} for both.") as t:
            self.play(Create(bands[1]), Create(bands[2]), run_time=0.3 * t.duration)
            self.wait(0.25 * t.duration)
            self.play(FadeIn(toeplitz), FadeIn(verdicts[1]), FadeIn(verdicts[2]), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "Added sinusoids fail the test. The same token at the same distance scores differently depending "
                f"on where the pair sits, with a spread of {spoken(g.sinusoidal_deviation)} along this diagonal. "
                "Absolute embeddings can carry relative information, but the model has to learn to extract it.") as t:
            self.play(Create(bands[0]), run_time=0.3 * t.duration)
            self.play(FadeIn(verdicts[0]), run_time=0.2 * t.duration)
            self.wait_for(t)
        wanted = label("wanted: i − j exactly, no bias matrix, nothing added → RoPE, next", size=SIZES.LABEL,
                       color=COLORS.ACCENT).move_to(toeplitz)
        fit_within(wanted, SAFE.width, None)
        with self.narrate(
                "What we want is the best of both: a score that depends on i minus j exactly, with no bias "
                "matrix to store and nothing added to the content. That is the rotary position embedding, "
                "next.") as t:
            self.play(FadeOut(toeplitz), FadeIn(wanted), run_time=0.3 * t.duration)
            self.wait_for(t)
