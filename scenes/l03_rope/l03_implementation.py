"""L03.3 Implementation details: ``attn_ref.apply_rope``'s two pairings (half and interleaved) on an 8-dim
vector, the fixed permutation P between them (rope_half(Px) = P rope_interleaved(x)), the wrong-pairing
pitfall on a hand-built previous-token head (no error, the map moves; Toeplitz lost only when q and k use
different pairings), angles in bf16, then partial rotary, cached rotated keys and left-padding positions.

    manim -pql scenes/l03_rope/l03_implementation.py RopeImplementation

Every number comes from ``data.pairings() / wrong_pairing() / bf16_angles() / partial_rotary() /
cached_keys()``; the code from ``attn_ref``'s own source; this file holds layout and timing only.
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Group, LaggedStart, Rectangle, SurroundingRectangle,
                   Transform, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken, subscript
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import AttentionGrid, ChannelRow, CodePanel, DataTable, fit_within, label
from scenes.kit.mobjects.code_panel import source_of
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l03_rope import data

CODE = "attn_ref.apply_rope"
CODE_FROM, CODE_TO = "theta = _angles(", "return torch.cat("   # the lines shown: angles, both branches, return
HALF_LINE, INTER_LINE = 'if pairing == "half"', "else:"
ROW_Y = 0.1                  # the 8-dim vector, alone
X_ROW_Y, PX_ROW_Y = 2.35, 0.15   # x above, P x below
EQ_Y, CHECK_Y = -2.25, -3.2
MAP_CELL = 0.27
MAP_PITCH = 3.7              # centre-to-centre distance of the three maps
MAP_INDENT = 0.5            # the legend column starts this far inside the safe area (centres the three maps)
MAP_Y = 0.45                 # centre of the maps' cells
NOTE_Y = (-1.45, -2.3)       # the two rows of numbers under the maps (previous token, Toeplitz deviation)
STEP_FADE = 0.8
NEAR_CELL, NEAR_X, NEAR_Y = 0.95, 0.6, (1.85, 1.05)   # positions near the first one, and their bf16 values
TABLE_Y = -1.2
DETAIL_INDENT = 0.3          # the three details start this far inside the safe area's left edge
DETAIL_GAP = 0.6             # between the three details


def code_lines() -> tuple[int, int]:
    """(first, last) lines of apply_rope to show: from the angles to the return (found in its source)."""
    src = source_of(CODE)[0].splitlines()
    first = next(i for i, s in enumerate(src, 1) if CODE_FROM in s)
    last = next(i for i, s in enumerate(src, 1) if CODE_TO in s)
    return first, last


def sub_offset(panel: CodePanel, snippet: str) -> int:
    """0-based index, in the panel, of the first shown line containing ``snippet``."""
    return next(i for i, s in enumerate(panel.source.splitlines()) if snippet in s)


def names(order) -> list[str]:
    return [subscript("x", i) for i in order]


class RopeImplementation(LectureScene):
    """L03.3: pairings, the permutation, two pitfalls and three practical details."""

    def construct(self):
        self.topic("L03.3", "Implementation details")
        self.two_layouts()
        self.permutation()
        self.wrong_pairing()
        self.bf16()
        self.details()

    def clear(self):
        shown_now = [m for m in self.mobjects if any(sm.has_points() for sm in m.get_family())]
        if shown_now:
            self.play(FadeOut(Group(*shown_now)), run_time=STEP_FADE)

    # -- one function, two layouts ---------------------------------------------------------------------
    def two_layouts(self):
        p = data.pairings()
        panel = CodePanel(CODE, lines=code_lines())
        lines = panel.code.code_lines
        half_k, inter_k = sub_offset(panel, HALF_LINE), sub_offset(panel, INTER_LINE)
        half_box = SurroundingRectangle(VGroup(*lines[half_k:half_k + 3]), color=COLORS.head(0), buff=0.06)
        inter_box = SurroundingRectangle(VGroup(*lines[inter_k:inter_k + 3]), color=COLORS.head(1), buff=0.06)
        with self.narrate(
                "RoPE rotates pairs of channels. But which channels form a pair? There are two conventions in "
                "use, and our reference function implements both: the angles first, then one branch for each "
                "layout.") as t:
            self.play(FadeIn(panel), run_time=0.3 * t.duration)
            self.play(Create(half_box), run_time=0.15 * t.duration)
            self.play(Transform(half_box, inter_box), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(panel), FadeOut(half_box), run_time=STEP_FADE)

        row = self.row = ChannelRow(p.x, names=names(range(p.head_dim)), names_side=UP).move_to([0, ROW_Y, 0])
        half = self.half_links = row.pair_links(p.half_pairs, side=UP)
        inter = self.inter_links = row.pair_links(p.interleaved_pairs, side=DOWN)
        half_t = label("half: " + ", ".join(p.half_users), size=SIZES.LABEL, color=COLORS.TEXT)
        inter_t = label("interleaved: " + ", ".join(p.interleaved_users), size=SIZES.LABEL, color=COLORS.TEXT)
        fit_within(half_t, SAFE.width, None).next_to(half, UP, buff=BUFF.MEDIUM)
        fit_within(inter_t, SAFE.width, None).next_to(inter, DOWN, buff=BUFF.MEDIUM)
        d2 = p.head_dim // 2
        with self.narrate(
                f"Take a vector of {spoken(p.head_dim, 0)} channels. In the half layout, used by GPT-NeoX and by "
                "Hugging Face's rotate half function, channel i pairs with channel i plus d over two: "
                f"{spoken(p.half_pairs[0][0], 0)} with {spoken(p.half_pairs[0][1], 0)}, "
                f"{spoken(p.half_pairs[1][0], 0)} with {spoken(p.half_pairs[1][1], 0)}, and so on. Each "
                "colour is one plane, turning at its own frequency.") as t:
            self.play(FadeIn(row), run_time=0.2 * t.duration)
            self.play(LaggedStart(*(Create(a) for a in half), lag_ratio=0.3), FadeIn(half_t),
                      run_time=0.45 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "In the interleaved layout, used by GPT-J, Meta's original Llama code, RoFormer and DeepSeek, "
                f"neighbours pair up: {spoken(p.interleaved_pairs[0][0], 0)} with "
                f"{spoken(p.interleaved_pairs[0][1], 0)}, {spoken(p.interleaved_pairs[1][0], 0)} with "
                f"{spoken(p.interleaved_pairs[1][1], 0)}. Same rotation, same frequencies, different "
                "channels.") as t:
            self.play(LaggedStart(*(Create(a) for a in inter), lag_ratio=0.3), FadeIn(inter_t),
                      run_time=0.5 * t.duration)
            self.wait_for(t)
        assert len(half) == len(inter) == d2
        self.play(FadeOut(half), FadeOut(half_t), FadeOut(inter_t), run_time=STEP_FADE)

    # -- the fixed permutation between them ------------------------------------------------------------------
    def permutation(self):
        p, row, inter = data.pairings(), self.row, self.inter_links
        perm = p.permutation
        plane_of = {c: k for k, pair in enumerate(p.interleaved_pairs) for c in pair}  # channel -> its plane
        px = ChannelRow([p.x[i] for i in perm], names=names(perm), names_side=DOWN).move_to([0, PX_ROW_Y, 0])
        lift = UP * (X_ROW_Y - ROW_Y)
        lines = row.copy().shift(lift).permutation_lines(px, perm, colors=[COLORS.head(plane_of[i]) for i in perm])
        half_px = px.pair_links(p.half_pairs, side=DOWN)
        x_name = label("x", size=SIZES.BODY).next_to(row.cells, LEFT, buff=BUFF.MEDIUM).set_y(X_ROW_Y)
        px_name = label("P x", size=SIZES.BODY).next_to(px.cells, LEFT, buff=BUFF.MEDIUM)
        perm_t = label("P", size=SIZES.BODY, color=COLORS.ACCENT)
        perm_t.move_to([x_name.get_x(), lines.get_y(), 0])
        eq = equation("rope_pairing").move_to([0, EQ_Y, 0])
        fit_within(eq, SAFE.width, None)
        check = label(f"position {shown(p.position, 0)}:  largest difference between the two sides = "
                      f"{shown(p.max_difference, sci=2)}", size=SIZES.LABEL, color=COLORS.WEIGHT)
        check.move_to([0, CHECK_Y, 0])
        with self.narrate(
                "The two layouts are the same rotation up to a fixed shuffle of the channels. Take the even "
                "channels first, then the odd ones: that permutation, P, moves every interleaved pair to "
                "the positions of a half pair.") as t:
            self.play(row.animate.shift(lift), inter.animate.shift(lift),
                      run_time=0.2 * t.duration)
            self.play(FadeIn(x_name), FadeOut(inter), *(row.cells[c].animate.set_stroke(COLORS.head(k), 4)
                                                         for c, k in plane_of.items()), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(Create(ln) for ln in lines), lag_ratio=0.1), FadeIn(px), FadeIn(px_name),
                      FadeIn(perm_t), run_time=0.35 * t.duration)
            self.play(LaggedStart(*(Create(a) for a in half_px), lag_ratio=0.2), run_time=0.25 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "So rotating P x with the half layout gives exactly P times the interleaved rotation of x. "
                f"Checked at position {spoken(p.position, 0)}: the two sides differ by "
                f"{spoken(p.max_difference, sci=2)}. This is why the script that converts Meta's Llama "
                "checkpoints for Hugging Face permutes the rows of the query and key weights, once, "
                "instead of changing the code.") as t:
            self.play(FadeIn(eq), run_time=0.25 * t.duration)
            self.play(FadeIn(check), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.clear()

    # -- pitfall 1: the other pairing ------------------------------------------------------------------------
    def wrong_pairing(self):
        w = data.wrong_pairing()
        pos = [str(i) for i in range(w.n)]
        titles = ("as designed:\ninterleaved", "q and k both\nhalf", "q half,\nk interleaved")
        maps = (w.correct_map, w.wrong_map, w.mixed_map)
        prev = (w.correct_prev_mass, w.wrong_prev_mass, w.mixed_prev_mass)
        dev = (w.correct_deviation, w.wrong_deviation, w.mixed_deviation)
        legend = VGroup(label("previous\ntoken", size=SIZES.LABEL, color=COLORS.WEIGHT),
                        label("Toeplitz\ndeviation", size=SIZES.LABEL, color=COLORS.SCORE))
        legend_x = SAFE.left + MAP_INDENT + max(m.width for m in legend) / 2
        map_x = [legend_x + legend.width / 2 + BUFF.LARGE + (k + 0.5) * MAP_PITCH for k in range(3)]
        panels = []
        for k, (m, ttl, pv, dv) in enumerate(zip(maps, titles, prev, dev)):
            grid = AttentionGrid(m, pos, pos, heat=True, show_numbers=False, show_dots=False, cell_size=MAP_CELL,
                                 caption=None, axis_titles=False, label_size=SIZES.SMALL)
            grid.move_cells_to(map_x[k], MAP_Y)
            head = label(ttl, size=SIZES.LABEL, color=COLORS.ACCENT if k else COLORS.TEXT)
            fit_within(head, MAP_PITCH - BUFF.SMALL, None).next_to(grid, UP, buff=BUFF.MEDIUM)
            head.set_x(grid.cells.get_x())
            prev_t = label(shown(pv), size=SIZES.LABEL, color=COLORS.WEIGHT, mono=True)
            dev_t = label(shown(dv, sci=2) if dv < 1e-3 else shown(dv), size=SIZES.LABEL, color=COLORS.SCORE,
                          mono=True)
            prev_t.move_to([grid.cells.get_x(), NOTE_Y[0], 0])
            dev_t.move_to([grid.cells.get_x(), NOTE_Y[1], 0])
            panels.append((VGroup(head, grid, prev_t, dev_t), grid))
        for m, y in zip(legend, NOTE_Y):
            m.move_to([legend_x, y, 0])
        caption = label(w.caption, size=SIZES.SMALL, color=COLORS.MUTED)
        caption.move_to([0, SAFE.top - caption.height / 2, 0])
        no_error = label("an error was raised" if w.raised else "no error raised", size=SIZES.LABEL,
                         color=COLORS.MASK)
        no_error.move_to([0, SAFE.bottom + no_error.height / 2 + 0.45, 0])
        issues = label("reported in transformers and torchtitan issues", size=SIZES.SMALL, color=COLORS.MUTED)
        issues.move_to([0, SAFE.bottom + issues.height / 2, 0])

        def peak_boxes(grid, m, offset, color):
            return VGroup(*(grid.highlight_cell(i, i + offset, color=color) for i in range(2, w.n)
                            if max(range(w.n), key=lambda j: m[i][j]) == i + offset))

        ok_boxes = peak_boxes(panels[0][1], w.correct_map, w.correct_peak_offset, COLORS.ACCENT)
        bad_boxes = peak_boxes(panels[1][1], w.wrong_map, w.wrong_peak_offset, COLORS.ACCENT)
        for b in (*ok_boxes, *bad_boxes):
            b.set_stroke(width=3)
        with self.narrate(
                "Now the first pitfall. This head is built by hand, not trained, so that every query attends to "
                f"the previous token. As designed, it gives the previous token {spoken(w.correct_prev_mass)} of "
                "its weight on average.") as t:
            self.play(FadeIn(caption), FadeIn(panels[0][0]), FadeIn(legend), run_time=0.3 * t.duration)
            self.play(Create(ok_boxes), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "Run the same weights with the other pairing, as happens when a checkpoint converted for one "
                f"layout is loaded by code written for the other. Nothing complains. The previous token now gets "
                f"{spoken(w.wrong_prev_mass)}, and the peak sits {spoken(-w.wrong_peak_offset, 0)} tokens back. "
                "Because q and k share the wrong pairing, this is still a valid rotary embedding, one that pairs "
                "the wrong channels at the wrong frequencies: the scores still depend only on the distance, just "
                "not in the way the head was built for.") as t:
            self.play(FadeIn(panels[1][0]), run_time=0.25 * t.duration)
            self.play(FadeIn(no_error), Create(bad_boxes), run_time=0.25 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "Mix the pairings, queries rotated one way and keys the other, and even that is gone: the score "
                f"grid is no longer constant along its diagonals, and the previous token gets "
                f"{spoken(w.mixed_prev_mass)}. In a real model this fails quietly: the output stays fluent while "
                "the model is broken, as reported in transformers and torchtitan issues.") as t:
            self.play(FadeIn(panels[2][0]), run_time=0.3 * t.duration)
            self.play(FadeIn(issues), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.clear()

    # -- pitfall 2: angles in bf16 -----------------------------------------------------------------------------
    def bf16(self):
        b = data.bf16_angles()
        exact_to = b.largest_exact_integer_run
        title = label(f"angles in bf16: {shown(b.significant_bits, 0)} significant bits, integers exact only up to "
                      f"{shown(exact_to, 0)}", size=SIZES.BODY, color=COLORS.ACCENT)
        fit_within(title, SAFE.width, None).move_to([0, SAFE.top - title.height / 2, 0])
        near = ChannelRow(b.near_positions, decimals=0, cell_width=NEAR_CELL).move_to([NEAR_X, NEAR_Y[0], 0])
        rounded = ChannelRow(b.near_in_bf16, decimals=0, cell_width=NEAR_CELL).move_to([NEAR_X, NEAR_Y[1], 0])
        for k, (p, r) in enumerate(zip(b.near_positions, b.near_in_bf16)):
            rounded.entries[k].set_color(COLORS.WEIGHT if p == r else COLORS.MASK)
        near_n = label("position", size=SIZES.LABEL).next_to(near.cells, LEFT, buff=BUFF.MEDIUM)
        rounded_n = label("in bf16", size=SIZES.LABEL).next_to(rounded.cells, LEFT, buff=BUFF.MEDIUM)
        rows = [[shown(p, 0), shown(sp, 0), "yes" if ex else "no", f"up to {shown(err)} rad",
                 f"{shown(worst)} rad (plane {shown(plane, 0)})"]
                for p, sp, ex, err, worst, plane in zip(b.positions, b.spacing, b.exact_in_bf16,
                                                        b.fastest_max_error_near, b.worst_plane_error_at,
                                                        b.worst_plane)]
        table = DataTable(["position", "bf16 spacing", "exact?", "plane 0, nearby positions",
                           "worst plane, at the position"], rows, align="rrrrr")
        fit_within(table, SAFE.width, None).move_to([0, TABLE_Y, 0])
        advice = label("compute positions and angles in float32 or float64", size=SIZES.LABEL, color=COLORS.WEIGHT)
        advice.move_to([0, SAFE.bottom + advice.height / 2, 0])
        p0, p1 = b.positions
        with self.narrate(
                "The second pitfall is computing the angles in b f sixteen. It keeps "
                f"{spoken(b.significant_bits, 0)} significant bits, so every integer up to {spoken(exact_to, 0)} "
                f"is exact, and beyond that positions start to round. Near {spoken(p0, 0)}, neighbouring b f sixteen "
                f"numbers are {spoken(b.spacing[0], 0)} apart, so {spoken(b.near_positions[2], 0)} becomes "
                f"{spoken(b.near_in_bf16[2], 0)}; near {spoken(p1, 0)} they are {spoken(b.spacing[1], 0)} "
                "apart.") as t:
            self.play(FadeIn(title), run_time=0.15 * t.duration)
            self.play(FadeIn(near), FadeIn(near_n), run_time=0.15 * t.duration)
            self.play(FadeIn(rounded), FadeIn(rounded_n), run_time=0.2 * t.duration)
            self.play(FadeIn(table.header), FadeIn(table.rule),
                      LaggedStart(*(FadeIn(VGroup(*r[:3])) for r in table.rows), lag_ratio=0.4),
                      run_time=0.25 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"{spoken(p0, 0)} and {spoken(p1, 0)} themselves happen to be exact, but the positions around "
                "them round, and the fastest plane, which turns one radian per token, is off by up to "
                f"{spoken(b.fastest_max_error_near[0], 0)} and {spoken(b.fastest_max_error_near[1], 0)} radians. "
                "Even at the exact positions the frequencies and the product are rounded: the worst plane, plane "
                f"{spoken(b.worst_plane[0], 0)}, is off by {spoken(b.worst_plane_error_at[0])} and "
                f"{spoken(b.worst_plane_error_at[1])} radians. Compute the angles in float thirty-two or "
                "better.") as t:
            self.play(LaggedStart(*(FadeIn(r[3]) for r in table.rows), lag_ratio=0.4), run_time=0.3 * t.duration)
            self.play(LaggedStart(*(FadeIn(r[4]) for r in table.rows), lag_ratio=0.4), run_time=0.3 * t.duration)
            self.play(FadeIn(advice), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.clear()

    # -- three details: partial rotary, the cache, left padding --------------------------------------------------
    def details(self):
        pr, c = data.partial_rotary(), data.cached_keys()
        # partial rotary: one thin cell per channel, the rotated ones coloured
        strip = VGroup(*(Rectangle(width=0.1, height=0.45, stroke_width=0.5, stroke_color=COLORS.BACKGROUND,
                                   fill_color=COLORS.ACCENT if j < pr.rotary_dim else COLORS.GRID, fill_opacity=1)
                         for j in range(pr.head_dim))).arrange(RIGHT, buff=0)
        strip.stretch_to_fit_width(SAFE.width - 2 * DETAIL_INDENT)
        pr_title = label(f"partial rotary (GPT-NeoX-20B: rotary_pct {shown(pr.rotary_pct)})", size=SIZES.BODY,
                         color=COLORS.ACCENT)
        rot_t = label(f"{shown(pr.rotary_dim, 0)} rotated", size=SIZES.LABEL, color=COLORS.ACCENT)
        pass_t = label(f"{shown(pr.passthrough_dim, 0)} passed through", size=SIZES.LABEL, color=COLORS.MUTED)
        rot_t.next_to(strip[:pr.rotary_dim], DOWN, buff=BUFF.SMALL)
        pass_t.next_to(strip[pr.rotary_dim:], DOWN, buff=BUFF.SMALL)
        pr_title.next_to(strip, UP, buff=BUFF.MEDIUM).align_to(strip, LEFT)
        pr_group = VGroup(pr_title, strip, rot_t, pass_t)
        # the cache
        cache_t = label("KV cache: keys are stored already rotated", size=SIZES.BODY, color=COLORS.ACCENT)
        cache_w = label("each key is rotated once, when it is written", size=SIZES.LABEL)
        cache_c = label(f"{shown(c.steps, 0)} decoding steps against recomputing every key: largest score difference "
                        f"{shown(c.max_score_difference, sci=2)}", size=SIZES.LABEL, color=COLORS.WEIGHT)
        cache = VGroup(cache_t, cache_w, cache_c).arrange(DOWN, buff=BUFF.SMALL, aligned_edge=LEFT)
        fit_within(cache, SAFE.width - 2 * DETAIL_INDENT, None)
        # left padding: index, mask, positions
        cells = dict(decimals=0, cell_width=0.7, cell_height=0.5)
        index = ChannelRow(c.naive_positions, color=COLORS.MUTED, **cells)
        mask = ChannelRow(c.pad_mask, **cells)
        pos = ChannelRow(c.positions_from_mask, color=COLORS.Q, **cells)
        for k, m in enumerate(c.pad_mask):
            if not m:
                pos.entries[k].set_color(COLORS.MUTED)
        rows = VGroup(index, mask, pos).arrange(DOWN, buff=BUFF.SMALL)
        row_names = VGroup(label("token index", size=SIZES.LABEL, color=COLORS.MUTED),
                           label("attention mask", size=SIZES.LABEL),
                           label("position = cumsum(mask) − 1", size=SIZES.LABEL, color=COLORS.Q))
        for nm, r in zip(row_names, rows):
            nm.next_to(r, LEFT, buff=BUFF.MEDIUM)
        pad_t = label("left padding", size=SIZES.BODY, color=COLORS.ACCENT)
        ahead = label(f"more in {c.lecture_ahead}", size=SIZES.LABEL, color=COLORS.MUTED)
        ahead.next_to(rows, RIGHT, buff=BUFF.LARGE)
        body = VGroup(row_names, rows, ahead)
        pad_t.next_to(body, UP, buff=BUFF.MEDIUM).align_to(body, LEFT)
        pad = VGroup(pad_t, body)
        fit_within(pad, SAFE.width - 2 * DETAIL_INDENT, None)
        blocks = VGroup(pr_group, cache, pad).arrange(DOWN, buff=DETAIL_GAP, aligned_edge=LEFT)
        blocks.move_to([0, (SAFE.top + SAFE.bottom) / 2, 0]).align_to([SAFE.left + DETAIL_INDENT, 0, 0], LEFT)
        first_real = c.pad_mask.index(1)
        with self.narrate(
                "Three more details. GPT-NeoX rotates only a quarter of each head: "
                f"{spoken(pr.rotary_dim, 0)} of its {spoken(pr.head_dim, 0)} channels turn, the other "
                f"{spoken(pr.passthrough_dim, 0)} pass through unchanged.") as t:
            self.play(FadeIn(pr_title), FadeIn(strip), run_time=0.3 * t.duration)
            self.play(FadeIn(rot_t), FadeIn(pass_t), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "A rotated key depends only on its own position, so the KV cache stores keys already rotated: "
                f"rotate once, when the key is written. Over {spoken(c.steps, 0)} decoding steps the scores match "
                f"recomputing everything, with a largest difference of {spoken(c.max_score_difference, sci=2)}.") as t:
            self.play(FadeIn(cache_t), FadeIn(cache_w), run_time=0.3 * t.duration)
            self.play(FadeIn(cache_c), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "And with left padding, a token's position is not its index: it comes from the cumulative sum of "
                f"the mask minus one, so the first real token sits at position "
                f"{spoken(c.positions_from_mask[first_real], 0)}. Lecture 5 returns to both.") as t:
            self.play(FadeIn(pad_t), FadeIn(VGroup(index, mask, row_names[:2])), run_time=0.3 * t.duration)
            self.play(FadeIn(pos), FadeIn(row_names[2]), FadeIn(ahead), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.wait(0.5)
