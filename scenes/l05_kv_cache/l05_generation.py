"""L05.4 Autoregressive generation patterns: a timeline of one prefill step and four decode steps (Llama-2-7B on
an H100 SXM, blocks as long as their roofline time bound), the same steps as points on the roofline (prefill
compute-bound, decode memory-bound); sampling bars at temperature 0.7 / 1.0 / 1.3 with the top-k and top-p cut
lines (E5.9); a left-padded batch whose positions come from the mask (E5.6) and equal the unpadded runs;
continuous batching and PagedAttention's block table; speculative decoding's verification step (k draft
tokens as one q_len = k step, lower-right mask).

Numbers: ``data.timeline()``, ``sampling()``, ``padded_batch()``, ``paged_blocks()``, ``speculative()``;
formulas: ``softmax_temperature``, ``top_p_nucleus``, ``padded_positions``. This file holds layout and timing only.

    manim -pql scenes/l05_kv_cache/l05_generation.py GenerationPatterns
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, GrowFromEdge, LaggedStart, Rectangle,
                   SurroundingRectangle, VGroup)

from scenes.kit.equations import equation
from scenes.kit.format import grouped, shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import (BlockTable, CitationLine, MaskOverlay, MatrixGrid, RooflinePlot, SamplingBars,
                                 TokenRow, fit_within, label)
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.line_chart import source_lines
from scenes.kit.references import CHEN_2023_SPECULATIVE, KWON, LEVIATHAN, YU
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l05_kv_cache import data

TERA, GIGA, MILLI = 1e12, 1e9, 1e-3
# timeline + roofline
STRIP_Y, STRIP_H = 2.45, 0.6
PRE_COLOR, DEC_COLOR = COLORS.SCORE, COLORS.Q
ROOF_W, ROOF_H = 5.0, 2.6
ROOF_X = 0.2                       # the axes' corner; its y sits the plot on the source line
CARD_X = SAFE.left
# sampling
BARS_Y = -1.6                       # the bars' baseline
BARS_H = 2.8
EQ_Y = 2.35
# padded batch
ROW_X = -4.3                        # left edge of the token rows
ROW_YS = (1.75, 0.25)
POS_DROP = 0.62                     # positions under each token row
# block table / speculative
TABLE_Y = 0.85
CELL = 0.58
TOKEN_W = 0.95                      # every token box this wide: the padded rows' columns line up


def note(text: str, color: str = COLORS.TEXT, size: float = SIZES.LABEL):
    return label(text, size=size, color=color)


class GenerationPatterns(LectureScene):
    """L05.4: prefill vs decode on the roofline, sampling, batching with padding and paging, speculation."""

    def construct(self):
        self.topic("L05.4", "Autoregressive generation patterns")
        self.phases_step()
        self.sampling_step()
        self.padding_step()
        self.paging_step()
        self.speculative_step()

    # ------------------------------------------------------------------------------------ prefill vs decode
    def phases_step(self):
        tl = data.timeline()
        pre, *dec = tl.points
        title = heading(f"Prefill once, then decode: {tl.model} on an {tl.device.split()[0]}")
        total = sum(p.time_s for p in tl.points)
        unit = SAFE.width / total
        blocks = VGroup()
        for p in tl.points:
            c = PRE_COLOR if p is pre else DEC_COLOR
            r = Rectangle(width=p.time_s * unit, height=STRIP_H).set_stroke(c, 2).set_fill(c, 0.25)
            blocks.add(r)
        blocks.arrange(RIGHT, buff=0).move_to([0, STRIP_Y, 0])
        names = VGroup(note(f"prefill: {grouped(pre.n_q)} queries", PRE_COLOR).move_to(blocks[0]),
                       *(note(f"{p.n_q} query", DEC_COLOR, SIZES.SMALL).move_to(b) for p, b in zip(dec, blocks[1:])))
        times = VGroup(label(f"{shown(pre.time_s / MILLI, 1)} ms", size=SIZES.NUMBER, color=COLORS.MUTED, mono=True)
                       .next_to(blocks[0], DOWN, buff=BUFF.SMALL),
                       label(f"{shown(dec[0].time_s / MILLI, 1)} ms each", size=SIZES.NUMBER, color=COLORS.MUTED,
                             mono=True).next_to(blocks[1:], DOWN, buff=BUFF.SMALL))
        with self.narrate(f"Generation has two phases. Prefill runs all {spoken(pre.n_q, 0)} prompt tokens at once: "
                          f"{spoken(pre.n_q, 0)} queries, one big matrix multiply. Decode then adds one token per "
                          "step, with a single query.") as t:
            self.play(FadeIn(title), run_time=0.15 * t.duration)
            self.play(GrowFromEdge(blocks[0], LEFT), FadeIn(names[0]), FadeIn(times[0]), run_time=0.35 * t.duration)
            self.play(LaggedStart(*(FadeIn(VGroup(b, n)) for b, n in zip(blocks[1:], names[1:])), lag_ratio=0.3),
                      FadeIn(times[1]), run_time=0.35 * t.duration)

        def card(p, name, color):
            rows = VGroup(note(name, color),
                          note(f"{shown(p.flops / (TERA if p is pre else GIGA), 1)} {'T' if p is pre else 'G'}FLOP"),
                          note(f"{shown(p.bytes / GIGA, 1)} GB read"),
                          note(f"{grouped(p.intensity) if p is pre else shown(p.intensity, 2)} FLOP/B: {p.bound}-bound",
                               color)).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
            return rows
        cards = VGroup(card(pre, "prefill", PRE_COLOR), card(dec[0], "each decode step", DEC_COLOR))
        cards.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.LARGE).move_to([CARD_X, -0.55, 0], aligned_edge=LEFT)
        with self.narrate(f"Count the work. Prefill does {spoken(pre.flops / TERA, 1)} trillion FLOPs on "
                          f"{spoken(pre.bytes / GIGA, 1)} gigabytes: the weights, read once. A decode step does only "
                          f"{spoken(dec[0].flops / GIGA, 1)} billion FLOPs, yet it reads the same "
                          f"{spoken(dec[0].bytes / GIGA, 1)} gigabytes: every weight, plus the cache.") as t:
            self.play(FadeIn(cards[0]), blocks[0].animate.set_fill(PRE_COLOR, 0.5), run_time=0.4 * t.duration)
            self.play(FadeIn(cards[1]), blocks[1:].animate.set_fill(DEC_COLOR, 0.5), run_time=0.4 * t.duration)

        plot = RooflinePlot([(tl.device, tl.peak_tflops, tl.bandwidth_tbs)], x_range=(0.1, 10.0 ** 4, 1),
                            y_range=(0.1, 10.0 ** 4, 1), width=ROOF_W, height=ROOF_H)
        src = source_lines(f"{tl.device_source}. {tl.bytes_note}; computed, not measured", SAFE.width)
        src.move_to([SAFE.left + src.width / 2, SAFE.bottom + src.height / 2, 0])
        plot.shift([ROOF_X - plot.origin[0], src.get_top()[1] + BUFF.SMALL - plot.axis_labels[0].get_bottom()[1], 0])
        m_pre = plot.mark(pre.intensity, "prefill", color=PRE_COLOR, direction=DOWN + LEFT)
        m_dec = plot.mark(dec[0].intensity, f"decode × {len(dec)}", color=DEC_COLOR)
        with self.narrate(f"On the roofline, prefill lands far right of the ridge at {spoken(tl.ridge_point, 0)}: "
                          f"compute-bound, about {spoken(pre.time_s / MILLI, 1)} milliseconds. Every decode step lands "
                          f"at {spoken(dec[0].intensity, 2)} FLOPs per byte: memory-bound, "
                          f"{spoken(dec[0].time_s / MILLI, 1)} milliseconds each, set by bytes, not by FLOPs.") as t:
            self.play(FadeIn(plot.frame_parts()), FadeIn(plot.legend), plot.create_roof(0), FadeIn(src),
                      run_time=0.3 * t.duration)
            self.play(plot.reveal(m_pre), run_time=0.25 * t.duration)
            self.play(plot.reveal(m_dec), run_time=0.25 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, blocks, names, times, cards, plot, m_pre, m_dec, src)), run_time=0.6)

    # ------------------------------------------------------------------------------------ sampling
    def sampling_step(self):
        s = data.sampling()
        cold, mid, hot = s.probs
        title = heading("Sampling the next token")
        tokens = [f"t{i}" for i in range(len(s.logits))]
        bars = SamplingBars(mid, tokens, order=s.order, y_max=max(map(max, s.probs)), max_height=BARS_H,
                            bar_width=0.7, spacing=0.35)
        bars.shift([0, BARS_Y - bars.baseline.get_y(), 0])
        temp_eq = equation("softmax_temperature")
        fit_within(temp_eq, SAFE.width / 2, 1.0)
        temp_eq.move_to([SAFE.right - temp_eq.width / 2, EQ_Y, 0])
        tags = [note(f"temperature {shown(tv, 1)}", COLORS.WEIGHT, SIZES.BODY) for tv in s.temperatures]
        for tg in tags:
            tg.move_to([SAFE.left + tg.width / 2, EQ_Y, 0])
        caption = source_lines(s.caption, SAFE.width)
        caption.move_to([SAFE.left + caption.width / 2, SAFE.bottom + caption.height / 2, 0])
        with self.narrate(f"Each step ends in logits, one per vocabulary entry; here {spoken(len(s.logits), 0)} "
                          "seeded ones, sorted. Softmax with a temperature turns them into "
                          "probabilities.") as t:
            self.play(FadeIn(title), FadeIn(caption), FadeIn(temp_eq), run_time=0.3 * t.duration)
            self.play(FadeIn(tags[1]), FadeIn(bars.baseline), FadeIn(bars.labels),
                      LaggedStart(*(GrowFromEdge(VGroup(b, v), DOWN) for b, v in zip(bars.bars, bars.values)),
                                  lag_ratio=0.1), run_time=0.5 * t.duration)
        top = s.order[0]
        with self.narrate(f"At temperature {spoken(s.temperatures[0], 1)} the top token gets "
                          f"{spoken(cold[top])}; at {spoken(s.temperatures[2], 1)} only {spoken(hot[top])}. "
                          "Low temperature sharpens, high temperature flattens.") as t:
            self.play(bars.animate_to(cold), FadeOut(tags[1]), FadeIn(tags[0]), run_time=0.3 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(bars.animate_to(hot), FadeOut(tags[0]), FadeIn(tags[2]), run_time=0.3 * t.duration)
        self.wait_for(t)
        k_cut = bars.cut_line(s.top_k, f"top-k = {s.top_k}", color=COLORS.ACCENT)
        p_cut = bars.cut_line(s.top_p_kept, f"top-p = {shown(s.top_p, 1)}: mass {shown(s.top_p_mass)}",
                              color=COLORS.OUTPUT)
        p_eq = equation("top_p_nucleus")
        fit_within(p_eq, SAFE.width / 2, 1.0)
        p_eq.move_to(temp_eq)
        with self.narrate(f"Two cuts trim the tail. Top-k keeps the {spoken(s.top_k, 0)} most "
                          "likely tokens and renormalises. Top-p keeps the smallest set whose mass reaches "
                          f"{spoken(s.top_p, 1)}: here {spoken(s.top_p_kept, 0)} tokens, holding "
                          f"{spoken(s.top_p_mass)}.") as t:
            self.play(bars.animate_to(mid), FadeOut(tags[2]), FadeIn(tags[1]), run_time=0.15 * t.duration)
            self.play(Create(k_cut.line), FadeIn(k_cut.tag), bars.keep(s.top_k), run_time=0.25 * t.duration)
            self.wait(0.1 * t.duration)
            self.play(FadeOut(k_cut), FadeOut(temp_eq), FadeIn(p_eq), run_time=0.15 * t.duration)
            self.play(Create(p_cut.line), FadeIn(p_cut.tag), bars.keep(s.top_p_kept), run_time=0.25 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, bars, p_cut, p_eq, tags[1], caption)), run_time=0.6)

    # ------------------------------------------------------------------------------------ padded batch
    def padding_step(self):
        pb = data.padded_batch()
        title = heading("A left-padded batch")
        rows, pos_rows, gen_rows, names = VGroup(), VGroup(), VGroup(), VGroup()
        for b, (toks, mask, pos, gen) in enumerate(zip(pb.padded, pb.mask, pb.positions, pb.batched_tokens)):
            row = TokenRow([str(x) if m else "pad" for x, m in zip(toks, mask)], role="q", min_width=TOKEN_W)
            row.move_to([ROW_X, ROW_YS[b], 0], aligned_edge=LEFT)
            for box, lab, m in zip(row.boxes, row.labels, mask):
                if not m:
                    box.set_stroke(COLORS.MASK, 2).set_fill(COLORS.MASK, 0.25)
                    lab.set_color(COLORS.MUTED)
            pos_row = VGroup(*(label(str(p) if m else "·", size=SIZES.LABEL, color=COLORS.K if m else COLORS.MUTED,
                                     mono=True).move_to(box.get_center() + DOWN * POS_DROP)
                               for p, m, box in zip(pos, mask, row.boxes)))
            gen_row = TokenRow([str(x) for x in gen], role="output", min_width=TOKEN_W).next_to(row, RIGHT,
                                                                                                 buff=BUFF.LARGE)
            rows.add(row), pos_rows.add(pos_row), gen_rows.add(gen_row)
            names.add(VGroup(note(f"prompt {b + 1}").next_to(row, LEFT, buff=BUFF.MEDIUM),
                             note("positions", COLORS.K, SIZES.SMALL).next_to(row, LEFT, buff=BUFF.MEDIUM)
                             .set_y(pos_row.get_y())))
        gen_head = note("generated", COLORS.OUTPUT).next_to(gen_rows[0], UP, buff=BUFF.SMALL).align_to(gen_rows, LEFT)
        eq = equation("padded_positions")
        fit_within(eq, SAFE.width / 2, 1.1)
        eq.move_to([0, -1.3, 0])
        untrained = source_lines(data.speculative().caption, SAFE.width)
        untrained.move_to([SAFE.left + untrained.width / 2, SAFE.bottom + untrained.height / 2, 0])
        with self.narrate("Serving batches requests of different lengths. Pad the short prompt on the left, "
                          "so every row's newest token sits in the last column, and mask the pads.") as t:
            self.play(FadeIn(title), FadeIn(rows), FadeIn(VGroup(*(n[0] for n in names))), run_time=0.5 * t.duration)
        with self.narrate("Positions come from the mask: the running count of real tokens, minus one. The short "
                          "prompt starts again at zero, as if it were alone.") as t:
            self.play(FadeIn(eq), run_time=0.3 * t.duration)
            self.play(FadeIn(pos_rows), FadeIn(VGroup(*(n[1] for n in names))), run_time=0.4 * t.duration)
        check = note(f"batched = each prompt alone: same tokens, logits within {shown(pb.max_logit_diff, sci=2)}",
                     COLORS.WEIGHT)
        fit_within(check, SAFE.width, None)
        check.move_to([0, -2.45, 0])
        with self.narrate("Generated greedily, the batch gives the same tokens as each prompt run alone, and the "
                          f"same logits, within {spoken(pb.max_logit_diff, sci=2)}.") as t:
            self.play(FadeIn(untrained), FadeIn(gen_head),
                      LaggedStart(*(FadeIn(g, shift=RIGHT * 0.2) for g in gen_rows), lag_ratio=0.4),
                      run_time=0.45 * t.duration)
            self.play(FadeIn(check), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, rows, pos_rows, gen_rows, gen_head, names, eq, check, untrained)), run_time=0.6)

    # ------------------------------------------------------------------------------------ paged KV cache
    def paging_step(self):
        pg = data.paged_blocks()
        title = heading(f"A paged KV cache: blocks of {pg.block} tokens")
        names = [f"seq {chr(ord('A') + s)}" for s in range(len(pg.lengths))]
        table = BlockTable(pg.block_tables, pg.lengths, pg.block, names=names, slot_size=0.45, row_gap=0.1)
        table.move_to([0, TABLE_Y, 0])
        cites = VGroup(CitationLine(YU, place=False), CitationLine(KWON, place=False)).arrange(
            DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
        cites.move_to([SAFE.left + cites.width / 2, SAFE.bottom + cites.height / 2, 0])
        with self.narrate("Continuous batching refills the batch at every step, and "
                          f"PagedAttention stores the cache in fixed blocks of {spoken(pg.block, 0)} tokens from one "
                          "shared pool, handed out as tokens arrive.") as t:
            self.play(FadeIn(title), FadeIn(cites), FadeIn(table.titles), FadeIn(table.pool),
                      FadeIn(VGroup(*(r[0] for r in table.tables))), run_time=0.3 * t.duration)
            self.play(LaggedStart(*(FadeIn(table.slot(s, p)) for s, p in pg.order), lag_ratio=0.25),
                      LaggedStart(*(FadeIn(r[1]) for r in table.tables), lag_ratio=0.3), run_time=0.6 * t.duration)
        links = VGroup(*(table.links(s) for s in range(len(pg.lengths))))
        empty = VGroup(*(SurroundingRectangle(c, color=COLORS.ACCENT, buff=0.02, stroke_width=4)
                         for c in table.empty_slots()))
        static_slab = pg.static_reserved // len(pg.lengths)
        tally = note(f"{pg.slots_used} slots used of {pg.slots_reserved} reserved; a {static_slab}-slot slab "
                     f"each would reserve {pg.static_reserved}", COLORS.ACCENT)
        fit_within(tally, SAFE.width, None)
        tally.next_to(table, DOWN, buff=BUFF.MEDIUM)
        with self.narrate("Each sequence keeps a table of its block ids. Only its last block is partly "
                          f"empty, so waste stays under one block: {spoken(pg.slots_used, 0)} slots used of "
                          f"{spoken(pg.slots_reserved, 0)}, where a contiguous slab per sequence would reserve "
                          f"{spoken(pg.static_reserved, 0)}.") as t:
            self.play(LaggedStart(*(Create(a) for a in links), lag_ratio=0.5), run_time=0.35 * t.duration)
            self.play(Create(empty), FadeIn(tally), run_time=0.3 * t.duration)
        longest = max(range(len(pg.lengths)), key=lambda s: pg.lengths[s])
        gathered = table.gathered_row(longest)
        same = note("= the contiguous keys, exactly" if pg.gather_equal else "differs", COLORS.WEIGHT)
        who = note(f"{names[longest]} gathered:", table.colors[longest])
        VGroup(who, gathered, same).arrange(RIGHT, buff=BUFF.MEDIUM).next_to(tally, DOWN, buff=BUFF.MEDIUM).set_x(0)
        with self.narrate("Gathering keys through the table gives exactly the contiguous keys. "
                          "A finished sequence returns its blocks to the pool.") as t:
            self.play(FadeOut(links), FadeOut(empty), FadeIn(VGroup(who, gathered, same)), run_time=0.4 * t.duration)
            self.play(table.free(1), run_time=0.3 * t.duration)
        self.wait_for(t)
        self.play(FadeOut(VGroup(title, table, *table.fills.values(), tally, who, gathered, same, cites)), run_time=0.6)

    # ------------------------------------------------------------------------------------ speculative decoding
    def speculative_step(self):
        sp = data.speculative()
        title = heading(f"Speculative decoding: verify {sp.k} drafts in one step")
        n = len(sp.prompt)
        n_keys = len(sp.verify_mask[0])
        grid = MatrixGrid([[0.0] * n_keys for _ in sp.verify_mask], show_numbers=False, cell_size=CELL,
                          row_labels=[f"draft {i + 1}" for i in range(sp.k)],
                          col_labels=[str(x) for x in sp.prompt + sp.draft_tokens])
        for i, row in enumerate(sp.verify_mask):
            for j, ok in enumerate(row):
                if ok:
                    grid.cells[i][j].set_fill(COLORS.K if j < n else COLORS.Q, 0.35)
        shade = MaskOverlay(grid, sp.verify_mask, text=None)
        cached = SurroundingRectangle(VGroup(grid.cells[0][0], grid.cells[-1][n - 1]), color=COLORS.K, buff=0.03,
                                      stroke_width=4)
        VGroup(grid, shade, cached).move_to([0, 1.0, 0])
        tags = VGroup(note("cached prompt", COLORS.K).next_to(cached, DOWN, buff=BUFF.SMALL),
                      note("drafts", COLORS.Q).next_to(VGroup(grid.cells[-1][n], grid.cells[-1][-1]), DOWN,
                                                         buff=BUFF.SMALL),
                      note("lower-right mask", COLORS.TEXT).next_to(grid, RIGHT, buff=BUFF.MEDIUM).align_to(
                          grid.cells, UP))
        facts = VGroup(note(f"one step of {sp.k} queries = {sp.k} decode steps: max difference "
                            f"{shown(sp.verify_vs_sequential, sci=2)}", COLORS.WEIGHT),
                       note(f"the same step with the upper-left mask: off by {shown(sp.verify_upper_left_diff)}",
                            COLORS.MASK)).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        fit_within(facts, SAFE.width, None)
        cites = VGroup(CitationLine(LEVIATHAN, place=False), CitationLine(CHEN_2023_SPECULATIVE, place=False),
                       label(sp.caption, size=SIZES.CAPTION, color=COLORS.MUTED)).arrange(DOWN, aligned_edge=LEFT,
                                                                                          buff=BUFF.TIGHT)
        cites.move_to([SAFE.left + cites.width / 2, SAFE.bottom + cites.height / 2, 0])
        facts.next_to(cites, UP, buff=BUFF.MEDIUM).set_x(0)
        with self.narrate(f"Last, speculative decoding. A small draft model proposes {spoken(sp.k, 0)} tokens, and "
                          f"the large model checks them all in one pass: {spoken(sp.k, 0)} queries against the "
                          "cache, so the mask is lower-right again.") as t:
            self.play(FadeIn(title), FadeIn(cites), run_time=0.2 * t.duration)
            self.play(FadeIn(grid), FadeIn(tags[2]), run_time=0.3 * t.duration)
            self.play(FadeIn(shade), Create(cached), FadeIn(tags[:2]), run_time=0.3 * t.duration)
        with self.narrate(f"Its logits equal {spoken(sp.k, 0)} separate decode steps, within "
                          f"{spoken(sp.verify_vs_sequential, sci=2)}; with the upper-left mask they are off by "
                          f"{spoken(sp.verify_upper_left_diff)}. Every accepted draft is a decode step saved.") as t:
            self.play(LaggedStart(*(FadeIn(f, shift=LEFT * 0.2) for f in facts), lag_ratio=0.5),
                      run_time=0.6 * t.duration)
        self.wait_for(t)
