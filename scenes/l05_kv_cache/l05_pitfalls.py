"""L05.5 Common pitfalls and solutions: each pitfall run on the lecture's tiny untrained model (float64), wrong
beside right, with its computed difference and the issue where it was reported. In detail: (1) ``is_causal=True``
in a one-token decode step (the upper-left mask: the new token sees key 0 only); (2) the same mask in chunked
prefill; (3) left padding, decode positions taken from the cache length instead of counted per row; (4) a sliding
window off by one. Then a card: a static cache that counts its length by non-zero rows, a decode position off by
one, a stale cache, a full static cache, functional dropout in eval mode, and cached vs uncached logits in single
and double precision (rounding, not a bug).

    manim -pql scenes/l05_kv_cache/l05_pitfalls.py CachePitfalls

Numbers: ``data.decode_mask()``, ``padding_positions()``, ``window_off_by_one()``, ``static_length()``,
``position_off_by_one()``, ``stale_cache()``, ``static_overflow()``, ``dropout()``, ``precision()`` and the masks
of ``data.masks()``; this file holds layout and timing only.
"""
from __future__ import annotations

import numpy as np
from manim import DOWN, UP, Create, FadeIn, FadeOut, Line, ReplacementTransform, SurroundingRectangle, VGroup

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import AttentionGrid, DataTable, MaskOverlay, MatrixGrid, WrongRight, fit_within, \
    issue_citation, label
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l05_kv_cache import data

PANEL_W = 6.3           # each panel of a wrong/right pair (two side by side fill the safe width)
PANEL_H = 4.7
PAIR_Y = -0.45          # centre of a pair (below the heading)
ROW_CELL = 0.8          # the decode row's cells
CHUNK_CELL = 0.62       # the 3 × 7 chunk masks
POS_CELL = 0.56         # the padded batch's position tables
WIN_CELL = 0.36         # the 8 × 8 window masks
TINY = 1                # significant digits of a rounding-level difference (screen and voice alike)
MODEL_NOTE = "our tiny model, untrained (seeded), float64"
EQ_SIZE = SIZES.EQUATION * 0.85


def tiny(x: float) -> str:
    return shown(x, sci=TINY) if x else shown(x, 0)


def say_tiny(x: float) -> str:
    return spoken(x, sci=TINY) if x else spoken(x, 0)


def mask_grid(allowed, cell: float, queries, keys) -> VGroup:
    """A boolean mask as a grid: open cells may attend, shaded cells are masked (no numbers)."""
    allowed = np.asarray(allowed, dtype=bool)
    grid = MatrixGrid(np.zeros(allowed.shape), show_numbers=False, cell_size=cell, row_labels=list(queries),
                      col_labels=list(keys), row_role="Q", col_role="K", label_size=SIZES.LABEL)
    return VGroup(grid, MaskOverlay(grid, allowed, text=None))


def with_caption(content, text: str, color: str = COLORS.TEXT) -> VGroup:
    cap = label(text, size=SIZES.LABEL, color=color)
    return VGroup(content, cap).arrange(DOWN, buff=BUFF.MEDIUM)


class CachePitfalls(LectureScene):
    """L05.5: the cache's pitfalls, each computed wrong vs right."""

    def construct(self):
        self.topic("L05.5", "Common pitfalls and solutions")
        self.decode_step()
        self.chunk_step()
        self.padding_step()
        self.window_step()
        self.checklist()

    def pair(self, title: str, wrong, right, wrong_verdict: str, right_verdict: str, issues, **kw) -> WrongRight:
        p = WrongRight(title, wrong, right, wrong_verdict=wrong_verdict, right_verdict=right_verdict,
                       citation=issue_citation(issues), panel_width=PANEL_W, panel_height=PANEL_H, **kw)
        fit_within(p, SAFE.width, SAFE.height - 1.0)
        return p.move_to([0, PAIR_Y, 0])

    def show_side(self, p: WrongRight, side: str, run_time: float):
        s = p.panel(side)
        self.play(FadeIn(s.frame), FadeIn(s.header), FadeIn(s.content, shift=UP * 0.15), run_time=run_time)

    def swap(self, old: WrongRight, new: WrongRight, run_time: float):
        self.play(FadeOut(old), FadeIn(new.title), FadeIn(new.citation), run_time=run_time)

    # -- (1) is_causal=True in a decode step ------------------------------------------------------------------
    def decode_step(self):
        m = data.decode_mask()
        case = next(c for c in data.masks().cases if c.n_q == 1)
        keys = [str(j) for j in range(m.decode_n_k)]
        query = [str(m.decode_n_k - 1)]
        grids = []
        for weights, allowed in ((m.wrong_row, case.upper_left), (m.right_row, case.lower_right)):
            g = AttentionGrid([list(weights)], query, keys, cell_size=ROW_CELL, caption=None,
                              font_size=SIZES.SMALL)
            grids.append(VGroup(g, MaskOverlay(g, np.array(allowed), opacity=1.0)))
        wrong = with_caption(grids[0], f"upper-left: {m.wrong_keys_seen} key of {m.decode_n_k}")
        right = with_caption(grids[1], f"lower-right: all {m.decode_n_k} keys")
        p = self.pair("1   is_causal=True in a one-token decode step", wrong, right,
                      f"logits off by {shown(m.decode_logit_diff)}",
                      f"logits off by {tiny(m.decode_right_diff)}", m.issues)
        self.title = heading("Pitfalls, computed")
        note = label(MODEL_NOTE, size=SIZES.SMALL, color=COLORS.MUTED)
        note.move_to([SAFE.right - note.width / 2, SAFE.top - note.height / 2 - 0.1, 0])
        with self.narrate("Most cache bugs are one flag or one index off, and they fail silently. Here they are, "
                          "run on our tiny untrained model, wrong beside right.") as t:
            self.play(FadeIn(self.title), FadeIn(note), run_time=0.4 * t.duration)
            self.play(FadeIn(p.title), FadeIn(p.citation), run_time=0.3 * t.duration)
            self.wait_for(t)
        box = grids[0][0].highlight_cell(0, 0)
        self.allow_overlap(box, grids[0][0], reason="the frame marks the one key the query still sees")
        with self.narrate(f"First, a decode step: one new query against {spoken(m.decode_n_k, 0)} keys, with is "
                          "causal set to true. PyTorch aligns that mask to the top left, so the query keeps key "
                          f"zero only, and its logits move by {spoken(m.decode_logit_diff)}.") as t:
            self.show_side(p, "wrong", 0.3 * t.duration)
            self.play(Create(box), run_time=0.15 * t.duration)
            self.wait(0.3 * t.duration)
            self.play(FadeIn(p.wrong.verdict), run_time=0.15 * t.duration)
            self.wait_for(t)
        with self.narrate("With a cache, the queries are the last rows. Aligned to the lower right, one query sees "
                          "every key, needs no mask at all, and matches the full forward to "
                          f"{say_tiny(m.decode_right_diff)}.") as t:
            self.show_side(p, "right", 0.3 * t.duration)
            self.wait(0.3 * t.duration)
            self.play(FadeIn(p.right.verdict), FadeOut(box), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.current = p

    # -- (2) chunked prefill --------------------------------------------------------------------------------
    def chunk_step(self):
        m = data.decode_mask()
        n_q, n_k = m.chunk
        case = next(c for c in data.masks().cases if (c.n_q, c.n_k) == (n_q, n_k))
        keys = [str(j) for j in range(n_k)]
        queries = [str(i) for i in range(n_k - n_q, n_k)]
        wrong = with_caption(mask_grid(case.upper_left, CHUNK_CELL, queries, keys), "upper-left: cached keys hidden")
        eq = equation("causal_mask_lower_right", font_size=EQ_SIZE)
        right = VGroup(mask_grid(case.lower_right, CHUNK_CELL, queries, keys), eq).arrange(DOWN, buff=BUFF.MEDIUM)
        diffs = ", ".join(shown(d) for d in m.chunk_logit_diff)
        assert min(m.chunk_logit_diff) > 1e-3 and m.chunk_logit_diff[0] == max(m.chunk_logit_diff), \
            "the narration says every row goes wrong, the first the most"
        p = self.pair(f"2   the same mask in chunked prefill ({n_q} queries, {n_k} keys)", wrong, right,
                      f"logits off by {diffs}", f"logits off by {tiny(m.chunk_right_diff)}", m.issues)
        with self.narrate(f"Chunked prefill has the same slip: {spoken(n_q, 0)} new queries against "
                          f"{spoken(n_k, 0)} keys. Aligned to the top left, they lose most of the cached keys, and "
                          f"every row goes wrong, the first by {spoken(max(m.chunk_logit_diff))}.") as t:
            self.swap(self.current, p, 0.15 * t.duration)
            self.show_side(p, "wrong", 0.3 * t.duration)
            self.wait(0.2 * t.duration)
            self.play(FadeIn(p.wrong.verdict), run_time=0.15 * t.duration)
            self.wait_for(t)
        with self.narrate("Aligned to the lower right, the chunk matches again.") as t:
            self.show_side(p, "right", 0.4 * t.duration)
            self.play(FadeIn(p.right.verdict), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.current = p

    # -- (3) left padding ------------------------------------------------------------------------------------
    def position_table(self, pp, steps) -> VGroup:
        n = max(map(len, pp.prompts))
        rows = [list(pp.mask_positions[b]) + [s[b] for s in steps] for b in range(len(pp.prompts))]
        allowed = np.array([[j >= n - len(p) for j in range(len(r))] for p, r in zip(pp.prompts, rows)])
        grid = MatrixGrid(rows, decimals=0, cell_size=POS_CELL, row_labels=["A", "B"], font_size=SIZES.NUMBER)
        pads = MaskOverlay(grid, allowed, text="pad")
        split = grid.cells[0][n - 1].get_right()[0]
        rule = Line([split, grid.cells.get_top()[1] + 0.1, 0], [split, grid.cells.get_bottom()[1] - 0.1, 0])
        rule.set_stroke(COLORS.TEXT, 4)
        heads = VGroup(label("prompt", size=SIZES.LABEL, color=COLORS.MUTED).next_to(
            VGroup(*grid.cells[0][:n]), UP, buff=BUFF.SMALL),
            label("decode", size=SIZES.LABEL, color=COLORS.MUTED).next_to(VGroup(*grid.cells[0][n:]), UP,
                                                                           buff=BUFF.SMALL))
        table = VGroup(heads, grid, pads, rule)
        table.decode_cells = VGroup(*grid.cells[1][n:])
        return table

    def padding_step(self):
        pp = data.padding_positions()
        wrong_t = self.position_table(pp, pp.decode_positions_mixed)
        right_t = self.position_table(pp, pp.decode_positions_right)
        wrong = with_caption(wrong_t, "decode every row at len(cache)")
        eq = equation("padded_positions", font_size=EQ_SIZE)
        right = VGroup(right_t, eq).arrange(DOWN, buff=BUFF.MEDIUM)
        p = self.pair("3   left padding: whose positions?", wrong, right,
                      f"B vs B alone: off by {shown(pp.mixed_logit_diff, 3)}",
                      f"B vs B alone: off by {tiny(pp.right_logit_diff)}", pp.issues)
        first_right, first_wrong = pp.decode_positions_right[0][1], pp.decode_positions_mixed[0][1]
        with self.narrate("Third, left padding. Prompt B is padded on the left, so its positions must be counted "
                          "per row: the running sum of its mask, minus one.") as t:
            self.swap(self.current, p, 0.15 * t.duration)
            self.show_side(p, "right", 0.35 * t.duration)
            self.wait_for(t)
        box = SurroundingRectangle(wrong_t.decode_cells, color=COLORS.ACCENT, buff=0.04, stroke_width=5)
        self.allow_overlap(box, wrong_t, reason="the frame marks the short row's decode positions")
        agree = "though the greedy tokens still agree" if not pp.mixed_tokens_differ else "and the greedy tokens change"
        with self.narrate("A common slip decodes every row at the cache length: row B jumps from "
                          f"{spoken(pp.mask_positions[1][-1], 0)} to {spoken(first_wrong, 0)}, not "
                          f"{spoken(first_right, 0)}, as if its pads were words. Against B run alone, its logits "
                          f"are off by {spoken(pp.mixed_logit_diff, 3)}, {agree}. Counted per row, they match to "
                          f"{say_tiny(pp.right_logit_diff)}.") as t:
            self.show_side(p, "wrong", 0.15 * t.duration)
            self.play(Create(box), run_time=0.1 * t.duration)
            self.wait(0.2 * t.duration)
            self.play(FadeIn(p.wrong.verdict), run_time=0.1 * t.duration)
            self.wait(0.2 * t.duration)
            self.play(FadeIn(p.right.verdict), FadeOut(box), run_time=0.1 * t.duration)
            self.wait_for(t)
        self.current = p

    # -- (4) sliding window off by one ----------------------------------------------------------------------
    def window_step(self):
        w = data.window_off_by_one()
        pos = [str(i) for i in range(w.n)]

        def window(counts):
            return [[i - c < j <= i for j in range(w.n)] for i, c in enumerate(counts)]

        left, right_side = w.flash_attn_window_size
        p = self.pair(f"4   a sliding window of W = {w.window} keys",
                      mask_grid(window(w.wrong_keys), WIN_CELL, pos, pos),
                      mask_grid(window(w.right_keys), WIN_CELL, pos, pos), f"logits off by {shown(w.logit_diff)}",
                      f"flash-attn window ({left}, {right_side})", (w.issue,),
                      wrong_label=f"wrong: {max(w.wrong_keys)} keys per row",
                      right_label=f"right: {max(w.right_keys)} keys per row")
        with self.narrate(f"Fourth, a sliding window of {spoken(w.window, 0)} keys. One greater-or-equal instead of "
                          f"greater keeps {spoken(max(w.wrong_keys), 0)}, and the logits move by "
                          f"{spoken(w.logit_diff)}. And mind the convention: flash attention's left window for "
                          f"{spoken(w.window, 0)} keys is {spoken(left, 0)}.") as t:
            self.swap(self.current, p, 0.1 * t.duration)
            self.show_side(p, "wrong", 0.15 * t.duration)
            self.wait(0.1 * t.duration)
            self.play(FadeIn(p.wrong.verdict), run_time=0.1 * t.duration)
            self.show_side(p, "right", 0.15 * t.duration)
            self.wait(0.1 * t.duration)
            self.play(FadeIn(p.right.verdict), run_time=0.1 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(p), run_time=0.6)

    # -- the rest, on one card --------------------------------------------------------------------------------
    def checklist(self):
        sl, po, st = data.static_length(), data.position_off_by_one(), data.stale_cache()
        ov, dr, pr = data.static_overflow(), data.dropout(), data.precision()
        off = dict(zip(po.offsets, po.logit_diff))
        f64, f32 = (pr.dtypes.index(n) for n in ("float64", "float32"))
        assert pr.tokens_equal[f32] and pr.tokens_equal[f64], "the narration says the tokens are the same"
        assert st.reset_logit_diff < 1e-12 and dr.right_call_diff == 0, "the narration says the fixes match"
        rows = [
            ("static cache length", f"non-zero rows: {sl.heuristic_length} of {sl.written}",
             f"count the writes: {sl.true_length}"),
            ("decode position", f"len(cache) ± 1: off by {shown(off[-1], 3)}, {shown(off[1], 3)}",
             f"len(cache): {tiny(off[0])}"),
            ("a cache reused for a new prompt", f"off by {shown(st.stale_logit_diff)}",
             f"reset() first: {tiny(st.reset_logit_diff)}"),
            ("a full static cache", f"{ov.held} of {ov.max_len} held, one more arrives",
             "raise; generate checks first"),
            ("functional dropout_p in eval()", f"two calls differ by {shown(dr.wrong_call_diff)}",
             f"p only if training: {tiny(dr.right_call_diff)}"),
            ("cached vs uncached logits", f"{pr.dtypes[f32]}: {tiny(pr.max_logit_diff[f32])}, same tokens",
             f"normal: {pr.dtypes[f64]} {tiny(pr.max_logit_diff[f64])}"),
        ]
        table = DataTable(["pitfall", "\u2717 what goes wrong", "\u2713 fix"], rows, align="lll",
                          source=f"static cache length: {issue_citation(sl.issue)}", row_height=0.8)
        fit_within(table, SAFE.width, SAFE.height - 1.2)
        table.move_to([0, PAIR_Y, 0])
        table.header[1].set_color(COLORS.MASK)
        table.header[2].set_color(COLORS.WEIGHT)
        table.source_line.shift(DOWN * BUFF.SMALL)        # clear of the last row's highlight
        self.table = table
        lines = [
            "The rest fit on one card. A static cache that counts its length by non-zero rows miscounts when a "
            f"real key is zero: {spoken(sl.heuristic_length, 0)} tokens instead of {spoken(sl.written, 0)}, and "
            "the next write overwrites one. Count the writes.",
            f"A decode position off by one moves the logits by {spoken(off[-1], 3)} or {spoken(off[1], 3)}; it "
            "must be the cache length.",
            f"A cache reused for a new prompt is off by {spoken(st.stale_logit_diff)}, until you reset it.",
            "A full static cache must raise, not wrap around, and generate refuses a request that cannot fit.",
            f"Functional dropout ignores eval mode: two calls differ by {spoken(dr.wrong_call_diff)}. Pass it only "
            "while training.",
            "And one that is not a bug: cached and uncached runs add in different orders. In single precision the "
            f"logits differ by {say_tiny(pr.max_logit_diff[f32])}, in double by {say_tiny(pr.max_logit_diff[f64])}, "
            "with the same tokens. That is rounding.",
        ]
        box = None
        for i, line in enumerate(lines):
            new = table.highlight_row(i, color=COLORS.WEIGHT if i == len(lines) - 1 else COLORS.ACCENT)
            with self.narrate(line) as t:
                if i == 0:
                    self.play(FadeIn(table.header), Create(table.rule), FadeIn(table.source_line), run_time=0.8)
                anims = [FadeIn(table.rows[i], shift=UP * 0.1)]
                anims.append(Create(new) if box is None else ReplacementTransform(box, new))
                self.play(*anims, run_time=min(1.0, 0.25 * t.duration))
                box = new
                self.wait_for(t)
        with self.narrate("One test catches the bugs: compare the cached run with the full forward, in double "
                          "precision.") as t:
            self.play(FadeOut(box), run_time=0.3 * t.duration)
            self.wait_for(t)
