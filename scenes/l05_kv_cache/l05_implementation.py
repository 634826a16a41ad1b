"""L05.3 Implementation deep dive: where the reference attention writes its cache (positions from the cache
length, keys rotated by RoPE at their absolute position before they are stored), the layout (B, H_kv, n, d_h)
per layer, ``attn_ref.KVCache.update``'s static (in-place index writes), dynamic (concatenation) and rolling
branches, the cost of concatenation (numbers copied per step), the masks of prefill, decode and chunked
prefill (upper-left vs lower-right, E5.5, the wrong one run through the model), the check that every cached
schedule equals the full causal forward, and the rolling buffer (slot = position mod W, sinks, Mistral's
cited 8x at 32K).

    manim -pql scenes/l05_kv_cache/l05_implementation.py CacheImplementation

Every number comes from ``data.cache_layout()``, ``masks()``, ``equivalence()``, ``static_vs_dynamic()`` and
``rolling_buffer()``; the code from ``attn_ref``'s own source; this file holds layout and timing only.
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Group, LaggedStart, Line, Rectangle,
                   SurroundingRectangle, Transform, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import (CitationLine, CodePanel, DataTable, MaskOverlay, MatrixGrid, SlotRing, fit_within,
                                 label)
from scenes.kit.mobjects.code_panel import source_of
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.text import paragraph
from scenes.kit.references import JIANG_2023, XIAO
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l05_kv_cache import data

WRITE_CODE = "attn_ref.multihead.MultiHeadAttention.forward"
WRITE_FROM, WRITE_TO = "k = self._split(self.k_proj(x)", "k, v = cache.update(k, v)  #"
UPDATE_CODE = "attn_ref.KVCache.update"
UPDATE_FROM, UPDATE_TO = "L = k.shape[2]", "return k_all, v_all"
STEP_FADE = 0.8
POS_CELL = 0.55              # the cache-position cells under the first code panel
POS_Y = -0.75
CHECK_Y = (-1.95, -2.55, -3.2)   # the post-RoPE check, the unrotated control, the layout line
BAR_MAX_H = 4.4              # the tallest numbers-copied bar
BAR_W, BAR_GAP = 0.2, 0.08   # per step: a dynamic and a static bar, side by side
CHART_Y0 = -2.2              # the bars' baseline
MASK_CELL = 0.55
PREFILL_X = -3.8             # centre of the prefill grid's cells
DECODE_X = 2.6               # centre of the two decode rows' cells
DECODE_Y = (1.2, -1.3)
CHUNK_X = 3.4                # ± centre of the two chunked-prefill grids' cells
CHUNK_Y = -0.45
RING_Y, SINK_Y = 1.55, -1.35
RING_CELL = 0.85
MISTRAL_BAR = 6.0            # width of the full-cache bar
MISTRAL_X = 5.0              # its left end, from the safe area's left edge (the names sit before it)


def code_lines(qualname: str, first: str, last: str) -> tuple[int, int]:
    """(first, last) lines of ``qualname`` to show: from the line containing ``first`` to the one with ``last``."""
    src = source_of(qualname)[0].splitlines()
    a = next(i for i, s in enumerate(src, 1) if first in s)
    b = next(i for i, s in enumerate(src, 1) if last in s and i >= a)
    return a, b


def line_box(panel: CodePanel, snippet: str, n: int = 1, color: str = COLORS.ACCENT, until: str | None = None):
    """A frame around the shown line containing ``snippet`` (and the ``n − 1`` after it, or up to ``until``)."""
    src = panel.source.splitlines()
    k = next(i for i, s in enumerate(src) if snippet in s)
    if until is not None:
        n = next(i for i, s in enumerate(src) if until in s and i >= k) - k + 1
    return SurroundingRectangle(VGroup(*panel.code.code_lines[k:k + n]), color=color, buff=0.05, stroke_width=3)


def mask_grid(mask, q_pos, k_pos, x: float, y: float) -> tuple[MatrixGrid, MaskOverlay]:
    """A grid of empty cells (queries × keys, labelled with positions) and the shades of what ``mask`` forbids."""
    grid = MatrixGrid([[0.0] * len(k_pos) for _ in q_pos], show_numbers=False, row_labels=[str(p) for p in q_pos],
                      col_labels=[str(p) for p in k_pos], row_role="Q", col_role="K", cell_size=MASK_CELL,
                      label_size=SIZES.SMALL)
    grid.move_cells_to(x, y)
    return grid, MaskOverlay(grid, mask)


class CacheImplementation(LectureScene):
    """L05.3: the write path, static vs dynamic, the masks, the equivalence check, the rolling buffer."""

    def construct(self):
        self.topic("L05.3", "Implementation deep dive")
        self.write_path()
        self.update_branches()
        self.copy_cost()
        self.prefill_and_decode()
        self.chunked_prefill()
        self.equivalence_check()
        self.rolling()
        self.mistral()

    def clear(self):
        shown_now = [m for m in self.mobjects if any(sm.has_points() for sm in m.get_family())]
        if shown_now:
            self.play(FadeOut(Group(*shown_now)), run_time=STEP_FADE)

    # -- where the cache is written ------------------------------------------------------------------
    def write_path(self):
        c = data.cache_layout()
        panel = CodePanel(WRITE_CODE, lines=code_lines(WRITE_CODE, WRITE_FROM, WRITE_TO))
        panel.move_to([0, SAFE.top - panel.height / 2, 0])
        pos_box = line_box(panel, "past = len(cache)", until="positions = torch.arange")
        rope_box = line_box(panel, "self.rope(k, positions)")
        update_box = line_box(panel, "cache.update(k, v)")
        groups = VGroup()
        for call in c.cache_positions:
            cells = VGroup(*(Rectangle(width=POS_CELL, height=POS_CELL, stroke_color=COLORS.K, stroke_width=2,
                                       fill_color=COLORS.PANEL, fill_opacity=1) for _ in call)).arrange(RIGHT, buff=0)
            nums = VGroup(*(label(shown(p, 0), size=SIZES.LABEL, mono=True).move_to(sq) for p, sq in zip(call, cells)))
            q = label(f"q_len {shown(len(call), 0)}", size=SIZES.SMALL, color=COLORS.MUTED)
            q.next_to(cells, DOWN, buff=BUFF.SMALL)
            groups.add(VGroup(cells, nums, q))
        groups.arrange(RIGHT, buff=BUFF.LARGE, aligned_edge=UP)
        pos_name = label("cache positions per call", size=SIZES.LABEL, color=COLORS.K)
        row = VGroup(pos_name, groups).arrange(RIGHT, buff=BUFF.LARGE)
        row.move_to([0, POS_Y, 0])
        rotated = label(f"layer 0: stored keys − RoPE(W_k x) at their absolute positions = "
                        f"{shown(c.stored_vs_rotated, sci=2)}", size=SIZES.LABEL, color=COLORS.WEIGHT)
        plain = label(f"stored keys − W_k x without RoPE = {shown(c.stored_vs_unrotated)}", size=SIZES.LABEL,
                      color=COLORS.MUTED)
        shape = ", ".join(shown(x, 0) for x in c.shape_per_layer)
        layout = label(f"per layer, per KV head: K and V of shape (B, H_kv, n, d_h) = ({shape}), "
                       f"{shown(c.n_layers, 0)} layers", size=SIZES.LABEL)
        for m, y in zip((rotated, plain, layout), CHECK_Y):
            fit_within(m, SAFE.width, None).move_to([0, y, 0])
        prompt, decode = c.q_lens[0], c.cache_positions[1:]
        with self.narrate(
                "This is where our reference attention writes its cache. The cache already holds the past "
                "tokens, so new positions start at the cache length: the "
                f"{spoken(prompt, 0)} prompt tokens get {spoken(c.cache_positions[0][0], 0)} to "
                f"{spoken(c.cache_positions[0][-1], 0)}, then each decoding step adds one: "
                f"{', '.join(spoken(p[0], 0) for p in decode[:-1])} and {spoken(decode[-1][0], 0)}.") as t:
            self.play(FadeIn(panel), run_time=0.15 * t.duration)
            self.play(Create(pos_box), FadeIn(pos_name), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(FadeIn(g, shift=RIGHT * 0.2) for g in groups), lag_ratio=0.6),
                      run_time=0.5 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "Then the keys are rotated by RoPE at those absolute positions, and only then written: the cache "
                "holds rotated keys. In layer zero they match the rotated projections to within "
                f"{spoken(c.stored_vs_rotated, sci=2)}, and differ from unrotated ones by "
                f"{spoken(c.stored_vs_unrotated)}.") as t:
            self.play(Transform(pos_box, rope_box), run_time=0.15 * t.duration)
            self.play(FadeIn(rotated), run_time=0.2 * t.duration)
            self.play(FadeIn(plain), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "One cache per layer, keys and values per key value head: batch, by heads, by length, by head "
                "dimension. Queries are never stored.") as t:
            self.play(Transform(pos_box, update_box), run_time=0.2 * t.duration)
            self.play(FadeIn(layout), run_time=0.25 * t.duration)
            self.wait_for(t)
        self.clear()

    # -- static, dynamic, rolling: the three branches of update ------------------------------------------
    def update_branches(self):
        c = data.cache_layout()
        panel = CodePanel(UPDATE_CODE, lines=code_lines(UPDATE_CODE, UPDATE_FROM, UPDATE_TO))
        panel.move_to([0, SAFE.top - panel.height / 2, 0])
        static_box = line_box(panel, "self._k[:, :, self._seen : end] = k", 2, COLORS.WEIGHT)
        cat_box = line_box(panel, "k_all = torch.cat", 2, COLORS.V)
        roll_box = line_box(panel, "if self.window is not None", color=COLORS.K,
                            until="self._k, self._v, self._pos = k_all[:, :, idx]")
        L_max = c.static_shape[2]
        with self.narrate(
                "Inside update, a static cache is allocated once, here for "
                f"{spoken(L_max, 0)} positions, and each step writes its rows in place, at their index. The "
                "buffers never move, which compiled code and CUDA graphs need.") as t:
            self.play(FadeIn(panel), run_time=0.2 * t.duration)
            self.play(Create(static_box), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "A dynamic cache concatenates new rows to old ones: simple, but each concatenation builds a new "
                "tensor and copies the whole cache. The rolling branch comes at the end.") as t:
            self.play(Transform(static_box, cat_box), run_time=0.2 * t.duration)
            self.wait(0.5 * t.duration)
            self.play(Transform(static_box, roll_box), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.clear()

    def copy_cost(self):
        s = data.static_vs_dynamic()
        top = max(s.dynamic_copied)
        bars, xs = VGroup(), []
        x0 = SAFE.left + 0.4
        for k, (dyn, sta) in enumerate(zip(s.dynamic_copied, s.static_written)):
            x = x0 + k * (2 * BAR_W + BAR_GAP)
            xs.append(x)
            for off, v, col in ((0, dyn, COLORS.V), (BAR_W, sta, COLORS.WEIGHT)):
                bar = Rectangle(width=BAR_W, height=BAR_MAX_H * v / top, stroke_width=0, fill_color=col,
                                fill_opacity=0.9)
                bars.add(bar.move_to([x + off + BAR_W / 2, CHART_Y0 + bar.height / 2, 0]))
        dyn_bars, sta_bars = VGroup(*bars[0::2]), VGroup(*bars[1::2])
        axis = Line([x0 - 0.1, CHART_Y0, 0], [xs[-1] + 2 * BAR_W + 0.1, CHART_Y0, 0], color=COLORS.GRID,
                    stroke_width=2)
        ticks = VGroup(*(label(shown(k + 1, 0), size=SIZES.SMALL, color=COLORS.MUTED)
                         .move_to([xs[k] + BAR_W, CHART_Y0 - 0.25, 0]) for k in (0, s.steps - 1)))
        x_name = label("decode step", size=SIZES.SMALL, color=COLORS.MUTED).move_to([axis.get_x(), CHART_Y0 - 0.3, 0])
        title = label("numbers written per decode step, K and V, one layer", size=SIZES.BODY)
        fit_within(title, SAFE.width, None).move_to([SAFE.left + title.width / 2, SAFE.top - title.height / 2, 0])
        legend_x = axis.get_right()[0] + BUFF.LARGE
        dyn_t = VGroup(label("concatenate", size=SIZES.LABEL, color=COLORS.V),
                       label(f"total {shown(s.dynamic_total, 0, group=True)}", size=SIZES.LABEL, mono=True,
                             color=COLORS.V),
                       label(f"new buffer: {shown(s.dynamic_buffer_moves, 0)} of {shown(s.steps, 0)} steps",
                             size=SIZES.SMALL, color=COLORS.MUTED)).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
        sta_t = VGroup(label("static, in place", size=SIZES.LABEL, color=COLORS.WEIGHT),
                       label(f"total {shown(s.static_total, 0, group=True)}", size=SIZES.LABEL, mono=True,
                             color=COLORS.WEIGHT),
                       label(f"new buffer: {shown(s.static_buffer_moves, 0)} steps", size=SIZES.SMALL,
                             color=COLORS.MUTED)).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
        dyn_t.move_to([legend_x + dyn_t.width / 2, CHART_Y0 + BAR_MAX_H * 0.75, 0])
        sta_t.move_to([legend_x + sta_t.width / 2, CHART_Y0 + 0.6, 0])
        with self.narrate(
                f"Over {spoken(s.steps, 0)} decoding steps, writing in place costs "
                f"{spoken(s.static_written[0], 0)} numbers a step, {spoken(s.static_total, 0)} in total.") as t:
            self.play(FadeIn(title), Create(axis), FadeIn(ticks), FadeIn(x_name), run_time=0.2 * t.duration)
            self.play(LaggedStart(*(FadeIn(b, shift=UP * 0.1) for b in sta_bars), lag_ratio=0.1), FadeIn(sta_t),
                      run_time=0.4 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "Concatenation copies everything held so far: "
                f"{spoken(s.dynamic_copied[-1], 0)} numbers at the last step, {spoken(s.dynamic_total, 0)} in "
                "total. Linear per step, quadratic over a generation.") as t:
            self.play(LaggedStart(*(FadeIn(b, shift=UP * 0.1) for b in dyn_bars), lag_ratio=0.1),
                      run_time=0.5 * t.duration)
            self.play(FadeIn(dyn_t), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.clear()

    # -- the masks -----------------------------------------------------------------------------------
    def prefill_and_decode(self):
        m = data.masks()
        cases = {c.name: c for c in m.cases}
        pre, dec = cases["prefill"], cases["decode"]
        pre_grid, pre_mask = mask_grid(pre.lower_right, range(pre.n_q), range(pre.n_k), PREFILL_X, -0.2)
        pre_t = label(f"prefill: {shown(pre.n_q, 0)} queries, {shown(pre.n_k, 0)} keys", size=SIZES.LABEL)
        pre_t.next_to(pre_grid, UP, buff=BUFF.MEDIUM)
        pre_note = label("square: both alignments agree", size=SIZES.LABEL, color=COLORS.WEIGHT)
        pre_note.next_to(pre_grid, DOWN, buff=BUFF.MEDIUM)
        q_pos = range(dec.n_k - dec.n_q, dec.n_k)
        ul_grid, ul_mask = mask_grid(dec.upper_left, q_pos, range(dec.n_k), DECODE_X, DECODE_Y[0])
        lr_grid, lr_mask = mask_grid(dec.lower_right, q_pos, range(dec.n_k), DECODE_X, DECODE_Y[1])
        ul_t = label("upper-left (is_causal, tril)", size=SIZES.LABEL, color=COLORS.MASK)
        lr_t = label("lower-right (with a cache)", size=SIZES.LABEL, color=COLORS.WEIGHT)
        ul_t.next_to(ul_grid, UP, buff=BUFF.SMALL)
        lr_t.next_to(lr_grid, UP, buff=BUFF.SMALL)
        ul_note = label(f"logits off by {shown(dec.wrong_max_logit_diff)}", size=SIZES.LABEL, color=COLORS.MASK)
        lr_note = label("all True: no mask needed", size=SIZES.LABEL, color=COLORS.WEIGHT)
        ul_note.next_to(ul_grid, DOWN, buff=BUFF.SMALL)
        lr_note.next_to(lr_grid, DOWN, buff=BUFF.SMALL)
        dec_t = label(f"decode: {shown(dec.n_q, 0)} query, {shown(dec.n_k, 0)} keys", size=SIZES.LABEL)
        dec_t.move_to([DECODE_X, ul_t.get_top()[1] + 0.45, 0])
        seen = ul_grid.highlight_cell(0, 0)
        with self.narrate(
                "Now the masks. In prefill, the causal mask is the usual lower triangle.") as t:
            self.play(FadeIn(pre_t), FadeIn(pre_grid), run_time=0.3 * t.duration)
            self.play(FadeIn(pre_mask), FadeIn(pre_note), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"In decoding, one query at position {spoken(q_pos[0], 0)} meets {spoken(dec.n_k, 0)} keys. "
                "PyTorch's is causal flag, like torch dot tril, aligns the triangle to the upper left: the new "
                "token would see key zero only.") as t:
            self.play(FadeIn(dec_t), FadeIn(ul_t), FadeIn(ul_grid), run_time=0.25 * t.duration)
            self.play(FadeIn(ul_mask), run_time=0.2 * t.duration)
            self.play(Create(seen), run_time=0.15 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "With a cache, queries are the last rows of the full triangle: aligned lower right, one query's "
                "row is all true, so no mask is needed. The wrong mask raises no error; the logits are just off, "
                f"by {spoken(dec.wrong_max_logit_diff)}.") as t:
            self.play(FadeIn(lr_t), FadeIn(lr_grid), FadeIn(lr_mask), run_time=0.3 * t.duration)
            self.play(FadeIn(lr_note), run_time=0.15 * t.duration)
            self.play(FadeIn(ul_note), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.clear()

    def chunked_prefill(self):
        m, e = data.masks(), data.equivalence()
        ch = {c.name: c for c in m.cases}["chunked prefill"]
        q_pos = range(ch.n_k - ch.n_q, ch.n_k)
        eq = equation("causal_mask_lower_right")
        fit_within(eq, SAFE.width * 0.7, 0.9)
        eq.move_to([0, SAFE.top - eq.height / 2, 0])
        title = label(f"chunked prefill: {shown(ch.n_q, 0)} queries against {shown(ch.n_k, 0)} keys",
                      size=SIZES.BODY)
        title.next_to(eq, DOWN, buff=BUFF.MEDIUM)
        ul_grid, ul_mask = mask_grid(ch.upper_left, q_pos, range(ch.n_k), -CHUNK_X, CHUNK_Y)
        lr_grid, lr_mask = mask_grid(ch.lower_right, q_pos, range(ch.n_k), CHUNK_X, CHUNK_Y)
        ul_t = label("upper-left", size=SIZES.LABEL, color=COLORS.MASK).next_to(ul_grid, UP, buff=BUFF.SMALL)
        lr_t = label("lower-right", size=SIZES.LABEL, color=COLORS.WEIGHT).next_to(lr_grid, UP, buff=BUFF.SMALL)
        chunk = e.schedules[1]
        ul_note = label(f"logits off by {shown(ch.wrong_max_logit_diff)}, no error", size=SIZES.LABEL,
                        color=COLORS.MASK).next_to(ul_grid, DOWN, buff=BUFF.MEDIUM)
        lr_note = label(f"= full forward, to {shown(e.max_diff[1], sci=2)}", size=SIZES.LABEL,
                        color=COLORS.WEIGHT).next_to(lr_grid, DOWN, buff=BUFF.MEDIUM)
        last = ch.n_q - 1
        ul_row, lr_row = ul_grid.highlight_row(last), lr_grid.highlight_row(last)
        with self.narrate(
                f"In chunked prefill, {spoken(chunk[0], 0)} tokens are cached and a chunk of "
                f"{spoken(ch.n_q, 0)} arrives: {spoken(ch.n_q, 0)} queries against {spoken(ch.n_k, 0)} keys. "
                "Query i may see key j when j is at most i plus the number of keys minus the number of "
                "queries.") as t:
            self.play(FadeIn(title), run_time=0.15 * t.duration)
            self.play(FadeIn(ul_t), FadeIn(ul_grid), FadeIn(lr_t), FadeIn(lr_grid), run_time=0.25 * t.duration)
            self.play(FadeIn(eq), FadeIn(lr_mask), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "The upper-left mask hides the cached past: the last query, at position "
                f"{spoken(q_pos[-1], 0)}, sees keys zero to {spoken(last, 0)} only, and the logits are silently "
                f"wrong by {spoken(ch.wrong_max_logit_diff)}. Lower right matches the full forward to within "
                f"{spoken(e.max_diff[1], sci=2)}.") as t:
            self.play(FadeIn(ul_mask), run_time=0.2 * t.duration)
            self.play(Create(ul_row), Create(lr_row), run_time=0.15 * t.duration)
            self.play(FadeIn(ul_note), run_time=0.15 * t.duration)
            self.play(FadeIn(lr_note), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.clear()

    def equivalence_check(self):
        e = data.equivalence()
        names = ("prefill + decode", "chunked prefill", "token by token")
        rows = [[n, ", ".join(shown(c, 0) for c in sch), shown(d, sci=2)]
                for n, sch, d in zip(names, e.schedules, e.max_diff)]
        rows.append(["chunked, upper-left mask", ", ".join(shown(c, 0) for c in e.schedules[1]),
                     shown(e.upper_left_chunked_diff)])
        table = DataTable(["schedule through the cache", "chunks", "largest logit difference"], rows, align="llr",
                          font_size=SIZES.BODY, header_size=SIZES.LABEL, row_height=0.75,
                          title=f"against one full causal forward, all {shown(len(e.sequence), 0)} positions "
                                "(float64)")
        fit_within(table, SAFE.width, None).move_to([0, 0.2, 0])
        table.rows[-1].set_color(COLORS.MASK)
        good = VGroup(*(table.cell(i, 2) for i in range(3))).set_color(COLORS.WEIGHT)
        with self.narrate(
                f"At all {spoken(len(e.sequence), 0)} positions, prefill then decode, chunked prefill, and one "
                "token at a time match the full causal forward to within "
                f"{spoken(max(e.max_diff), sci=2)}. Only the misaligned mask does not.") as t:
            self.play(FadeIn(table.title), FadeIn(table.header), Create(table.rule), run_time=0.2 * t.duration)
            self.play(LaggedStart(*(FadeIn(r, shift=RIGHT * 0.2) for r in table.rows[:3]), lag_ratio=0.4),
                      run_time=0.45 * t.duration)
            self.play(FadeIn(table.rows[-1]), run_time=0.15 * t.duration)
            self.wait_for(t)
        assert len(good) == 3
        self.clear()

    # -- the rolling buffer ----------------------------------------------------------------------------
    def rolling(self):
        r = data.rolling_buffer()
        ring = SlotRing(r.window, cell_size=RING_CELL)
        ring.move_to([0, RING_Y, 0])
        ring_t = label(f"rolling buffer, W = {shown(r.window, 0)}: slot = position mod W", size=SIZES.BODY,
                       color=COLORS.K)
        ring_t.next_to(ring, UP, buff=BUFF.MEDIUM)
        ring_check = label("= sliding-window attention over the whole sequence, to "
                           f"{shown(r.max_logit_diff, sci=2)}", size=SIZES.LABEL, color=COLORS.WEIGHT)
        ring_check.next_to(ring, DOWN, buff=BUFF.MEDIUM)
        sinks = SlotRing(r.window, r.sink, cell_size=RING_CELL)
        sinks.move_to([0, SINK_Y, 0])
        sink_check = label(f"{shown(r.sink, 0)} sinks + the last {shown(r.window, 0)} = the sink mask, to "
                           f"{shown(r.sink_max_logit_diff, sci=2)}", size=SIZES.LABEL, color=COLORS.WEIGHT)
        sink_check.next_to(sinks, DOWN, buff=BUFF.MEDIUM)
        src = CitationLine(XIAO)
        first = r.window
        with self.narrate(
                f"Back to the rolling cache. With a window of {spoken(r.window, 0)}, position p goes to slot p "
                f"mod {spoken(r.window, 0)}: position {spoken(first, 0)} overwrites position "
                f"{spoken(first - r.window, 0)}, and memory stays fixed.") as t:
            self.play(FadeIn(ring_t), FadeIn(ring), run_time=0.1 * t.duration)
            for p in range(r.tokens):
                self.play(ring.write(p), run_time=0.07 * t.duration)
            self.wait_for(t)
        held = ", ".join(spoken(p, 0) for p in r.held[-1])
        with self.narrate(
                f"It then holds {held}: exactly sliding-window attention, to within "
                f"{spoken(r.max_logit_diff, sci=2)}.") as t:
            self.play(FadeIn(ring_check), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"Attention sinks pin the first tokens too: here {spoken(r.sink, 0)} of them stay, beside the "
                f"last {spoken(r.window, 0)}. The keys keep their original positions.") as t:
            self.play(FadeIn(sinks), FadeIn(src), run_time=0.15 * t.duration)
            for p in range(r.tokens):
                self.play(sinks.write(p), run_time=0.05 * t.duration)
            self.play(FadeIn(sink_check), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.clear()

    def mistral(self):
        r = data.rolling_buffer()
        quote = paragraph(wrap(f"“{r.cited_quote}”", SAFE.width * 0.85, SIZES.BODY), size=SIZES.BODY)
        fit_within(quote, SAFE.width, None).move_to([0, 2.1, 0])
        tag = label("cited", size=SIZES.SMALL, color=COLORS.MUTED).next_to(quote, UP, buff=BUFF.SMALL)
        tag.align_to(quote, LEFT)
        scale = MISTRAL_BAR / r.mistral_full_gib
        bars = VGroup()
        rows = ((f"full cache, {shown(r.mistral_tokens, 0, group=True)} tokens", r.mistral_full_gib, COLORS.V),
                (f"rolling buffer, W = {shown(r.mistral_window, 0, group=True)}", r.mistral_rolling_gib, COLORS.K))
        for k, (name, gib, col) in enumerate(rows):
            bar = Rectangle(width=gib * scale, height=0.5, stroke_width=0, fill_color=col, fill_opacity=0.9)
            bar.move_to([SAFE.left + MISTRAL_X + bar.width / 2, -0.2 - 1.0 * k, 0])
            n = label(name, size=SIZES.LABEL).next_to(bar, LEFT, buff=BUFF.MEDIUM)
            n.align_to([SAFE.left + MISTRAL_X - BUFF.MEDIUM, 0, 0], RIGHT)
            v = label(f"{shown(gib)} GiB", size=SIZES.LABEL, mono=True).next_to(bar, RIGHT, buff=BUFF.SMALL)
            bars.add(VGroup(bar, n, v))
        note = label(f"computed from Mistral 7B's configuration, fp16: {shown(r.mistral_ratio, 0)}× less",
                     size=SIZES.LABEL, color=COLORS.MUTED)
        note.move_to([0, -2.4, 0])
        cl = CitationLine(JIANG_2023)
        with self.narrate(
                f"Mistral 7B uses this rolling buffer, with a window of {spoken(r.mistral_window, 0)}. Its "
                f"paper reports that at {spoken(r.mistral_tokens, 0)} tokens it cuts the cache memory by a factor "
                f"of {spoken(r.mistral_ratio, 0)}.") as t:
            self.play(FadeIn(tag), FadeIn(quote), FadeIn(cl), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"From its configuration, in half precision: {spoken(r.mistral_full_gib)} gibibytes against "
                f"{spoken(r.mistral_rolling_gib)}, the sequence length over the window.") as t:
            self.play(LaggedStart(*(FadeIn(b, shift=RIGHT * 0.2) for b in bars), lag_ratio=0.5),
                      run_time=0.4 * t.duration)
            self.play(FadeIn(note), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.wait(0.5)
