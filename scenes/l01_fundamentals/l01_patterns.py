"""L01.8 Attention pattern visualization: the worked example's weights as a heat map and as arcs (rows are
queries, columns are keys), then four common patterns made by real queries and keys.

    manim -pql scenes/l01_fundamentals/l01_patterns.py AttentionPatterns

Every weight comes from ``data.attention_patterns()``; this file holds layout and timing only.
"""
from __future__ import annotations

from manim import DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Group, LaggedStart, ReplacementTransform, VGroup

from scenes.kit.format import quoted, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import ArcDiagram, AttentionGrid, CitationLine, fit_within, label
from scenes.kit.references import XIAO
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l01_fundamentals.data import attention_patterns

HEAT_CELL = 1.0
SMALL_CELL = 0.6
LEFT_X, RIGHT_X = -3.15, 3.55  # centres of the heat map's cells and of the arcs' tokens in the first part
GRID_Y = 0.0  # centre of the heat map's cells: its title above and two notes below stay in the safe area
ARC_Y = -1.9  # the arcs' token row
ARC_SCALE = 1.0
ARC_TOKEN_BUFF = 0.45  # wide gaps between tokens: taller arcs
ARC_WIDTH = 20  # stroke width of an arc of weight 1 (the worked example's pattern)
PATTERN_ARC_WIDTH = 11
CITATION_ROOM = 0.45  # kept free at the bottom for the citation line


def heat(weights, tokens, cell: float, labels: bool = True) -> AttentionGrid:
    """An attention heat map: rows are queries, columns are keys, no dots, no caption."""
    return AttentionGrid(weights, tokens, tokens, heat=True, show_dots=False, show_numbers=cell >= HEAT_CELL,
                         cell_size=cell, caption=None, axis_titles=labels)


def argmax(row) -> int:
    return max(range(len(row)), key=lambda j: row[j])


class AttentionPatterns(LectureScene):
    closing_fade = 1.0

    def construct(self):
        p = self.p = attention_patterns()
        self.toks = list(p.tokens)
        self.n = len(self.toks)
        self.w = p.heatmap_shown
        self.topic("L01.8", "Attention pattern visualization")
        self.heat_map()
        self.rows()
        self.columns()
        self.common_patterns()

    # -- one pattern, two pictures ----------------------------------------------------------------------
    def heat_map(self):
        p, toks, n = self.p, self.toks, self.n
        grid = self.grid = heat(p.heatmap, toks, HEAT_CELL, labels=False)
        grid.move_cells_to(LEFT_X, GRID_Y)
        grid_title = label("heat map", size=SIZES.LABEL, color=COLORS.MUTED)
        grid_title.next_to(grid, UP, buff=BUFF.MEDIUM)
        self.arcs_by_query = [ArcDiagram(toks, p.heatmap, query=i, font_size=SIZES.LABEL, token_buff=ARC_TOKEN_BUFF,
                                         max_width=ARC_WIDTH) for i in range(n)]
        self.full = ArcDiagram(toks, p.heatmap, font_size=SIZES.LABEL, token_buff=ARC_TOKEN_BUFF, max_width=ARC_WIDTH)
        for a in (*self.arcs_by_query, self.full):
            a.scale(ARC_SCALE)
            a.shift([RIGHT_X, ARC_Y, 0] - a.tokens.get_center())
        self.arcs_title = label("arcs: query → key", size=SIZES.LABEL, color=COLORS.MUTED)
        self.arcs_title.move_to([RIGHT_X, grid_title.get_y(), 0])
        row_note = label("row = the query doing the looking", size=SIZES.LABEL, color=COLORS.Q)
        col_note = label("column = the key being looked at", size=SIZES.LABEL, color=COLORS.K)
        notes = VGroup(row_note, col_note).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        notes.next_to(grid, DOWN, buff=BUFF.SMALL).set_x(grid.cells.get_x())
        fit_within(notes, SAFE.width / 2 - 0.2, None)
        self.row_note, self.col_note = row_note, col_note
        with self.narrate(
                "The weights we just computed are called the attention pattern. On the left, as a heat map: the "
                "brighter the cell, the larger the weight.") as t:
            self.play(FadeIn(grid_title), FadeIn(grid), run_time=0.5 * t.duration)

    def rows(self):
        toks, n, w, grid = self.toks, self.n, self.w, self.grid
        qi = 1  # the row read aloud first: "cat"
        kj = self.kj = argmax(w[qi])  # where it looks most: "sat"
        row_hl = grid.row_box(qi, color=COLORS.Q, buff=0.05, stroke_width=5)
        with self.narrate(
                "A row is the query doing the looking, and a column is the key being looked at. On the right, "
                f"the row of {toks[qi]} is drawn as arcs from {toks[qi]} to every token, thicker where the weight "
                f"is larger: {spoken(w[qi][kj])} of it goes to {toks[kj]}.") as t:
            self.play(FadeIn(self.row_note), Create(row_hl), run_time=0.3 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(FadeIn(self.arcs_title), FadeIn(self.arcs_by_query[qi].tokens), run_time=0.15 * t.duration)
            self.play(self.arcs_by_query[qi].draw_arcs(lag_ratio=0.2), run_time=0.3 * t.duration)
        arcs = self.arcs_by_query[qi]
        order = [i for i in range(qi + 1, n)] + [i for i in range(qi)]
        looks = [f"{toks[i]} looks mostly at {toks[argmax(w[i])]}" for i in order]
        with self.narrate(
                "Step down the rows, and the arcs follow, one query at a time: " + ", ".join(looks[:-1])
                + f", and {looks[-1]}.") as t:
            for i in order:
                new_hl = grid.row_box(i, color=COLORS.Q, buff=0.05, stroke_width=5)
                self.play(ReplacementTransform(row_hl, new_hl), FadeOut(arcs.arc_group),
                          ReplacementTransform(arcs.tokens, self.arcs_by_query[i].tokens),
                          self.arcs_by_query[i].draw_arcs(lag_ratio=0.15),
                          run_time=0.9 / len(order) * t.duration)
                row_hl, arcs = new_hl, self.arcs_by_query[i]
        self.row_hl, self.arcs = row_hl, arcs

    def columns(self):
        toks, n, w, kj, full = self.toks, self.n, self.w, self.kj, self.full
        lookers = sorted((i for i in range(n) if i != kj), key=lambda i: -w[i][kj])[:2]  # who looks at "sat" most
        col_hl = self.grid.col_box(kj, color=COLORS.K, buff=0.05, stroke_width=5)
        col_arcs = VGroup(*(full.arc(i, kj) for i in range(n) if (i, kj) in full.arcs))
        with self.narrate(
                "Reading down a column instead tells you who is looking at a token. The column of "
                f"{toks[kj]} collects {spoken(w[lookers[0]][kj])} from {toks[lookers[0]]}, and "
                f"{spoken(w[lookers[1]][kj])} from {toks[lookers[1]]}.") as t:
            self.play(FadeOut(self.row_hl), FadeOut(self.arcs.arc_group), FadeIn(self.col_note), Create(col_hl),
                      ReplacementTransform(self.arcs.tokens, full.tokens), run_time=0.3 * t.duration)
            self.play(full.tokens.boxes[kj].animate.set_stroke(COLORS.K, 4),
                      LaggedStart(*(Create(a) for a in col_arcs), lag_ratio=0.2), run_time=0.4 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.8)

    # -- four common patterns, two at a time ---------------------------------------------------------------
    def common_patterns(self):
        p, toks, n = self.p, self.toks, self.n
        names = VGroup(*(label(pat.name, size=SIZES.BODY, color=COLORS.TEXT) for pat in p.canonical))
        names.arrange(RIGHT, buff=BUFF.LARGE * 1.5)
        fit_within(names, SAFE.width, None)
        agenda_title = label(f"{len(p.canonical)} common patterns", size=SIZES.HEADING, color=COLORS.ACCENT)
        agenda = VGroup(agenda_title, names).arrange(DOWN, buff=BUFF.LARGE)
        columns = VGroup()
        for k, pat in enumerate(p.canonical):
            name = label(pat.name, size=SIZES.BODY, color=COLORS.ACCENT)
            small = heat(pat.weights, toks, SMALL_CELL, labels=False)
            arcs = ArcDiagram(toks, pat.weights, font_size=SIZES.SMALL, token_buff=0.08, min_weight=0.05,
                              max_width=PATTERN_ARC_WIDTH)
            col = VGroup(name, small, arcs).arrange(DOWN, buff=BUFF.SMALL)
            fit_within(col, SAFE.width / 2 - BUFF.MEDIUM, SAFE.height - CITATION_ROOM)
            col.move_to([(-1 if k % 2 == 0 else 1) * SAFE.width / 4, SAFE.top - col.height / 2, 0])
            columns.add(col)
        diag, prev, first, broad = (c.weights_shown for c in p.canonical)
        sink_line = CitationLine(XIAO)
        with self.narrate(
                "Trained models show a handful of recurring shapes. Here are "
                f"{len(p.canonical)}, each made by real queries and keys passed through the same attention "
                "function.") as t:
            self.play(FadeIn(agenda_title), run_time=0.25 * t.duration)
            self.play(LaggedStart(*(FadeIn(nm, shift=UP * 0.2) for nm in names), lag_ratio=0.4),
                      run_time=0.5 * t.duration)
            self.wait_for(t)
        speech = [
            "Diagonal: each token attends to itself, because its key points the same way as its own query. "
            f"The diagonal lights up: {quoted(toks[1])} keeps {spoken(diag[1][1])} of its weight on itself.",
            "Previous token: here the keys are positions shifted by one, so each token looks at the one just "
            f"before it. {quoted(toks[2])} gives {spoken(prev[2][1])} to {quoted(toks[1])}. The first token has "
            "nothing before it, and looks at itself.",
            "First token: all queries share one direction, and only the first key points that way, so every row "
            f"puts nearly all of its weight on {quoted(toks[0])}: {spoken(first[n - 1][0])} in the row of "
            f"{quoted(toks[n - 1])}. Trained language models do this a lot, parking attention there when "
            "nothing else is relevant.",
            "Broad averaging: when every score is close to zero, every row is close to uniform. The row of "
            f"{quoted(toks[1])} gives {spoken(broad[1][0])} to {quoted(toks[0])}, and about as much to every "
            "other token, so the output is the average of the values.",
        ]
        for k, (col, text) in enumerate(zip(columns, speech)):
            with self.narrate(text) as t:
                if k == 0:
                    self.play(FadeOut(agenda), run_time=0.12 * t.duration)
                elif k == 2:
                    self.play(FadeOut(columns[0]), FadeOut(columns[1]), FadeIn(sink_line), run_time=0.12 * t.duration)
                elif k == 3:
                    self.play(FadeOut(sink_line), run_time=0.1 * t.duration)
                self.play(FadeIn(col[0], shift=DOWN * 0.15), FadeIn(col[1]), run_time=0.2 * t.duration)
                self.play(FadeIn(col[2].tokens), col[2].draw_arcs(lag_ratio=0.05), run_time=0.3 * t.duration)
                self.wait_for(t)
        self.wait(0.6)
