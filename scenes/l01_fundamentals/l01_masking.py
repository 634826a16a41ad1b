"""L01.9 Masking in attention: the causal mask (−∞ before the softmax, exact zeros after), padding masks in
a batch of unequal lengths, and upper-left vs lower-right alignment when decoding with a cache.

    manim -pql scenes/l01_fundamentals/l01_masking.py Masking

Every number comes from ``data.causal_masking()``, ``data.padding_masking()``, ``data.alignment_demo()``
and ``data.padding_view()``; this file holds layout and timing only.
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, AnimationGroup, Arrow, Create, FadeIn, FadeOut, Group, Indicate, LaggedStart,
                   ReplacementTransform, SurroundingRectangle, VGroup, Write)

from scenes.kit.equations import equation
from scenes.kit.format import quoted, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import AttentionGrid, MaskOverlay, MatrixGrid, TokenRow, fit_within, label
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l01_fundamentals.data import QUERY_TOKEN, alignment_demo, causal_masking, padding_masking
from scenes.l01_fundamentals.data import padding_view

CELL = 1.06  # wide enough for "−3.09" at SIZES.SMALL
PAD_CELL = 0.85  # weights are non-negative: "0.23" fits at SIZES.SMALL
EDGE_GAP = 0.05  # the side-by-side grids sit this far inside the safe area's left and right edges
GRID_Y = -0.93  # centre of the cells of the causal scores and weights
ALIGN_CELL = 0.95  # the alignment grids: "0.52" still fits at SIZES.SMALL, and the two grids keep a gap
ALIGN_X, ALIGN_Y = (-3.25, 3.5), -1.1  # centres of the cells of the upper-left and lower-right grids


def diff_text(x: float, fmt=shown) -> str:
    """A measured difference on screen (``fmt=shown``) or in speech (``fmt=spoken``): exactly 0 reads "0"."""
    return "0" if x == 0 else fmt(x)


def shade(grid, mask, opacity: float = 0.55) -> MaskOverlay:
    """Mask-coloured shades under the grid's numbers (no −∞ labels: the weights there read 0.00)."""
    over = MaskOverlay(grid, mask, text=None, opacity=opacity)
    over.set_z_index(1)
    for part in (grid.numbers, getattr(grid, "dots", VGroup())):
        part.set_z_index(2)
    return over


class Masking(LectureScene):
    closing_fade = 1.0

    def construct(self):
        self.topic("L01.9", "Masking in attention")
        self.causal_scores()
        self.causal_weights()
        self.padding_batch()
        self.padding_masks()
        self.alignment_setup()
        self.alignment_compare()

    # -- causal mask: −∞ before the softmax ----------------------------------------------------------------
    def causal_scores(self):
        c = self.c = causal_masking()
        toks = self.toks = list(c.tokens)
        n = len(toks)
        scores = self.scores = MatrixGrid(c.scaled, cell_size=CELL, font_size=SIZES.SMALL, row_labels=toks,
                                          col_labels=toks, row_role="Q", col_role="K", role="SCORE")
        scores.shift(RIGHT * (SAFE.left + EDGE_GAP - scores.get_left()[0]) + UP * (GRID_Y - scores.cells.get_y()))
        scores_title = self.scores_title = label("scaled scores", size=SIZES.LABEL, color=COLORS.SCORE)
        scores_title.next_to(scores.col_labels, UP, buff=BUFF.SMALL).set_x(scores.cells.get_x())
        qi = toks.index(QUERY_TOKEN)  # the query of the narration's example ("sat")
        row_hl = scores.highlight_row(qi, color=COLORS.Q)
        row_future = VGroup(*(scores.highlight_cell(qi, j) for j in range(n) if not c.mask[qi][j]))
        overlay = MaskOverlay(scores, c.mask)
        eq_mask = self.eq_mask = equation("causal_mask").scale(0.9)
        eq_exp = self.eq_exp = equation("mask_exp").scale(0.9)
        eq_soft = self.eq_soft = equation("masked_softmax").scale(0.9)
        eqs = VGroup(eq_mask, eq_exp, eq_soft).arrange(DOWN, buff=BUFF.LARGE, aligned_edge=LEFT)
        fit_within(eqs, SAFE.right - scores.get_right()[0] - 0.8, None)
        eqs.move_to([(scores.get_right()[0] + SAFE.right) / 2, scores.cells.get_y() + 0.3, 0])
        with self.narrate(
                "So far, every token could see every other, including those after it. A model that writes one "
                f"token at a time cannot allow that: while it predicts what follows {quoted(toks[qi])}, "
                f"{quoted(toks[qi + 1])} and {quoted(toks[qi + 2])} do not exist yet.") as t:
            self.play(FadeIn(scores), FadeIn(scores_title), run_time=0.3 * t.duration)
            self.wait(0.2 * t.duration)
            self.play(Create(row_hl), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(Create(r) for r in row_future), lag_ratio=0.3), run_time=0.2 * t.duration)
        with self.narrate(
                "The fix is the causal mask: it adds zero wherever the key comes at or before the query, and minus "
                "infinity wherever the key lies in the future, above the diagonal.") as t:
            self.play(FadeOut(row_hl), FadeOut(row_future), Write(eq_mask), run_time=0.35 * t.duration)
            # each opaque shade hides the score under it: that number goes (no text left under the −∞)
            self.play(LaggedStart(*(AnimationGroup(FadeIn(VGroup(s, lab)), scores.numbers[i][j].animate.set_opacity(0))
                                    for s, lab, (i, j) in zip(overlay.shades, overlay.labels, overlay.positions)),
                                  lag_ratio=0.12), run_time=0.45 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "Minus infinity is a hard rule: e to the minus infinity is exactly zero, while adding zero "
                "changes nothing.") as t:
            self.play(Write(eq_exp), run_time=0.4 * t.duration)
            self.wait_for(t)

    # -- … exact zeros after ------------------------------------------------------------------------------------
    def causal_weights(self):
        c, toks, scores = self.c, self.toks, self.scores
        weights = AttentionGrid(c.weights, toks, toks, cell_size=CELL, show_row_sums=True, caption=None,
                                axis_titles=False)
        weights.remove(weights.row_labels)  # the rows line up with the scores' rows, labelled on the left
        weights.shift(RIGHT * (SAFE.right - EDGE_GAP - weights.get_right()[0])
                      + UP * (GRID_Y - weights.cells.get_y()))
        weights_title = label("weights: softmax along each row", size=SIZES.LABEL, color=COLORS.WEIGHT)
        weights_title.next_to(weights.col_labels, UP, buff=BUFF.SMALL).set_x(weights.cells.get_x())
        arrow = Arrow(scores.cells.get_right() + RIGHT * 0.05, weights.cells.get_left() + LEFT * 0.05, buff=0.05,
                      color=COLORS.WEIGHT, stroke_width=5)
        zeros = shade(weights, c.mask, opacity=0.45)
        eq_top = self.eq_soft.copy().scale(0.8)
        eq_top.next_to(VGroup(self.scores_title, weights_title), UP, buff=BUFF.TIGHT).set_x(0)
        with self.narrate(
                "So the masked softmax gives exact zeros above the diagonal, and each row still sums to one, "
                "over the keys it is allowed to see.") as t:
            self.play(FadeOut(self.eq_mask), FadeOut(self.eq_exp), Write(self.eq_soft), run_time=0.25 * t.duration)
            self.play(ReplacementTransform(self.eq_soft, eq_top), run_time=0.2 * t.duration)
            self.play(Create(arrow), run_time=0.15 * t.duration)
            self.play(FadeIn(weights), FadeIn(weights_title), FadeIn(zeros), run_time=0.3 * t.duration)
            self.wait_for(t)
        r0, r1 = weights.highlight_row(0), weights.highlight_row(1)
        with self.narrate(
                f"The first token, {quoted(toks[0])}, can only see itself, so all of its weight stays there. The "
                f"row of {quoted(toks[1])} splits "
                f"{spoken(c.weights_shown[1][0])} and {spoken(c.weights_shown[1][1])} between "
                f"{quoted(toks[0])} and {quoted(toks[1])}.") as t:
            self.play(Create(r0), run_time=0.2 * t.duration)
            self.wait(0.25 * t.duration)
            self.play(ReplacementTransform(r0, r1), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.8)

    # -- padding masks in a batch ---------------------------------------------------------------------------------
    def padding_batch(self):
        pm = self.pm = padding_masking()
        batch = self.batch = VGroup(*(TokenRow(sent, font_size=SIZES.LABEL, min_width=1.25).mark_pads(len(real))
                                      for sent, real in zip(pm.padded, pm.sentences)))
        batch.arrange(DOWN, buff=BUFF.MEDIUM, aligned_edge=LEFT).move_to([0, 0.2, 0])
        batch_title = self.batch_title = label(
            f"a batch of {len(pm.padded)} sentences, padded to length {len(pm.padded[0])}",
            size=SIZES.LABEL, color=COLORS.MUTED).next_to(batch, UP, buff=BUFF.LARGE)
        with self.narrate(
                "Masks do a second job. A batch is one rectangular tensor, so sentences shorter than the longest "
                "are filled up with padding tokens.") as t:
            self.play(FadeIn(batch_title), LaggedStart(*(FadeIn(r, shift=RIGHT * 0.3) for r in batch),
                                                       lag_ratio=0.3), run_time=0.5 * t.duration)
            pads = [VGroup(*(r.items[k] for k in range(len(s), len(p))))
                    for r, s, p in zip(batch, pm.sentences, pm.padded)]
            self.play(*(Indicate(g, color=COLORS.MASK) for g in pads if len(g)), run_time=0.3 * t.duration)
            self.wait_for(t)

    def padding_masks(self):
        pv, batch = padding_view(), self.batch
        real = list(pv.tokens[:pv.n_real])
        top = TokenRow(pv.tokens, font_size=SIZES.LABEL, min_width=1.25).mark_pads(pv.n_real)
        top.move_to([0, SAFE.top - top.height / 2, 0])
        raw = AttentionGrid(pv.weights_unmasked, pv.tokens, pv.tokens, cell_size=PAD_CELL, show_dots=False,
                            caption=None, axis_titles=False, show_row_sums=True)
        fixed = AttentionGrid(pv.weights_masked, pv.tokens, pv.tokens, cell_size=PAD_CELL, show_dots=False,
                              caption=None, axis_titles=False, show_row_sums=True)
        fixed.remove(fixed.row_labels)  # same rows as on the left
        raw_title = label("no mask", size=SIZES.LABEL, color=COLORS.TEXT)
        fixed_title = label("with the padding mask", size=SIZES.LABEL, color=COLORS.TEXT)
        y_top = top.get_bottom()[1] - BUFF.MEDIUM - raw_title.height - BUFF.SMALL  # top of the column labels
        raw.shift([SAFE.left + 0.1 - raw.get_left()[0], y_top - raw.col_labels.get_top()[1], 0])
        fixed.shift([raw.get_right()[0] + BUFF.LARGE - fixed.cells.get_left()[0],
                     raw.cells.get_y() - fixed.cells.get_y(), 0])
        pair = VGroup(raw, fixed)
        pair.shift(RIGHT * -(pair.get_left()[0] + pair.get_right()[0]) / 2)  # centred on the frame
        for g, tt in ((raw, raw_title), (fixed, fixed_title)):
            tt.next_to(g.col_labels, UP, buff=BUFF.SMALL).set_x(g.cells.get_x())
        leak_row = max(range(pv.n_real), key=lambda i: pv.pad_leak[i])  # the real query that wastes the most
        pad_cols = VGroup(*(VGroup(*(r[j] for r in raw.cells)) for j in range(pv.n_real, len(pv.tokens))))
        pad_box = SurroundingRectangle(pad_cols, color=COLORS.MASK, buff=0.03, stroke_width=5)
        leak_box = SurroundingRectangle(VGroup(*raw.cells[leak_row][pv.n_real:]), color=COLORS.ACCENT, buff=0.03,
                                        stroke_width=5)
        zeros = shade(fixed, pv.mask, opacity=0.45)
        pad_rows = VGroup(*(VGroup(fixed.cells[i], fixed.numbers[i], fixed.row_sums[i])
                            for i in range(pv.n_real, len(pv.tokens))))
        keep = batch[pv.index]
        with self.narrate(
                f"Take {quoted(' '.join(real))}: {pv.n_real} tokens, and {len(pv.tokens) - pv.n_real} pads. "
                f"Without a mask, the pads are keys like any other. The word {quoted(real[leak_row])} hands "
                f"{spoken(pv.weights_unmasked_shown[leak_row][-1])} of its attention to each of them, more "
                "than half in total, to tokens that are not there.") as t:
            self.play(FadeOut(self.batch_title), *(FadeOut(r) for r in batch if r is not keep),
                      ReplacementTransform(keep, top), run_time=0.2 * t.duration)
            self.play(FadeIn(raw), FadeIn(raw_title), run_time=0.25 * t.duration)
            self.play(Create(pad_box), run_time=0.15 * t.duration)
            self.play(Create(leak_box), run_time=0.15 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "The padding mask sets the scores of the pad keys to minus infinity, so their columns become "
                "exact zeros. The rows of the pad queries are computed too, but their outputs are "
                "ignored.") as t:
            self.play(FadeIn(fixed), FadeIn(fixed_title), run_time=0.25 * t.duration)
            self.play(FadeIn(zeros), run_time=0.2 * t.duration)
            self.wait(0.2 * t.duration)
            self.play(pad_rows.animate.set_opacity(0.3), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.8)

    # -- alignment when queries are fewer than keys ------------------------------------------------------------
    def alignment_block(self, weights, mask, title, note, x):
        a = self.a
        g = AttentionGrid(weights, a.query_tokens, a.tokens, cell_size=ALIGN_CELL, show_dots=False, caption=None,
                          axis_titles=False)
        g.move_cells_to(x, ALIGN_Y)
        over = shade(g, mask, opacity=0.6)
        head = VGroup(label(title, size=SIZES.LABEL, color=COLORS.TEXT),
                      label(note, size=SIZES.SMALL, color=COLORS.MUTED)).arrange(DOWN, buff=BUFF.TIGHT)
        head.next_to(g.col_labels, UP, buff=BUFF.MEDIUM).set_x(g.cells.get_x())
        return g, over, head

    def alignment_setup(self):
        a = self.a = alignment_demo()
        sent = TokenRow(a.tokens, font_size=SIZES.BODY, show_indices=True).move_to([0, 2.4, 0])
        cache = SurroundingRectangle(sent.boxes, color=COLORS.K, buff=0.12, corner_radius=0.1)
        cache_label = label(f"cache: keys and values of all {a.n_k} tokens", size=SIZES.SMALL, color=COLORS.K)
        cache_label.next_to(cache, UP, buff=BUFF.TIGHT)
        new_q = VGroup(*(sent.highlight(k, color=COLORS.Q) for k in range(a.n_k - a.n_q, a.n_k)))
        new_label = label(f"{a.n_q} new queries", size=SIZES.SMALL, color=COLORS.Q)
        new_label.next_to(sent.indices, DOWN, buff=BUFF.TIGHT).set_x(new_q.get_x())
        with self.narrate(
                "One more subtlety: fewer queries than keys. When a model decodes with a "
                f"cache, the keys and values of all {a.n_k} tokens are already stored, and only the {a.n_q} newest "
                f"queries, {quoted(a.query_tokens[0])} and {quoted(a.query_tokens[1])}, are computed.") as t:
            self.play(FadeIn(sent), run_time=0.25 * t.duration)
            self.play(Create(cache), FadeIn(cache_label), run_time=0.25 * t.duration)
            self.play(Create(new_q), FadeIn(new_label), run_time=0.25 * t.duration)
            self.wait_for(t)

    def alignment_compare(self):
        a = self.a
        ul, ul_over, ul_head = self.alignment_block(a.weights_upper_left, a.upper_left, "upper-left",
                                                    "PyTorch is_causal", ALIGN_X[0])
        lr, lr_over, lr_head = self.alignment_block(a.weights_lower_right, a.lower_right, "lower-right",
                                                    "KV-cache decoding, FlashAttention ≥ 2.1", ALIGN_X[1])
        ul_diff = label(f"vs. the full causal run: off by up to {diff_text(a.max_diff_upper_left)}",
                        size=SIZES.LABEL, color=COLORS.ACCENT).next_to(ul.cells, DOWN, buff=BUFF.LARGE)
        lr_diff = label(f"vs. the full causal run: difference {diff_text(a.max_diff_lower_right)}",
                        size=SIZES.LABEL, color=COLORS.TEXT).next_to(lr.cells, DOWN, buff=BUFF.LARGE)
        for d_, g in ((ul_diff, ul), (lr_diff, lr)):
            fit_within(d_, 6.2, None)
            d_.set_x(g.cells.get_x())
        with self.narrate(
                "Where should the triangle of the mask sit? Aligned to the upper left, which is what PyTorch's "
                f"causal flag does, the first new query sees only {a.visible_upper_left[0]} key, and the second "
                f"sees {a.visible_upper_left[1]}, as if they were the first {a.n_q} tokens of the sentence.") as t:
            self.play(FadeIn(ul_head), FadeIn(ul), run_time=0.3 * t.duration)
            self.play(FadeIn(ul_over), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "Aligned to the lower right, the queries sit at the end, where they really are: "
                f"{quoted(a.query_tokens[0])} sees {a.visible_lower_right[0]} keys, and {quoted(a.query_tokens[1])} "
                f"sees all {a.visible_lower_right[1]}.") as t:
            self.play(FadeIn(lr_head), FadeIn(lr), run_time=0.35 * t.duration)
            self.play(FadeIn(lr_over), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"Against the full causal run over all {a.n_k} tokens, the lower-right result matches exactly, a "
                f"largest difference of {diff_text(a.max_diff_lower_right, spoken)}, while the upper-left one is "
                f"off by up to {diff_text(a.max_diff_upper_left, spoken)}: the wrong alignment silently reads the "
                "wrong context.") as t:
            self.play(FadeIn(lr_diff, shift=UP * 0.2), run_time=0.2 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(FadeIn(ul_diff, shift=UP * 0.2), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.wait(0.5)
