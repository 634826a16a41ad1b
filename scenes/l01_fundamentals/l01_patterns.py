"""L01.8 Attention pattern visualization: the worked example's weights as a heat map and as arcs (rows are
queries, columns are keys), then four common patterns made by real queries and keys.

    manim -pql scenes/l01_fundamentals/l01_patterns.py AttentionPatterns

Every weight comes from ``data.attention_patterns()``; this file holds layout and timing only.
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Group, LaggedStart, ReplacementTransform,
                   SurroundingRectangle, VGroup)

from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import ArcDiagram, AttentionGrid, CitationLine, fit_within, label
from scenes.kit.mobjects.text import format_number
from scenes.kit.references import XIAO
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l01_fundamentals.data import attention_patterns

HEAT_CELL = 1.0
SMALL_CELL = 0.6
LEFT_X, RIGHT_X = -3.3, 3.55  # centres of the heat map's cells and of the arcs' tokens in the first part
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


def q(token: str) -> str:
    """A token as the narration quotes it."""
    return f"“{token}”"


def argmax(row) -> int:
    return max(range(len(row)), key=lambda j: row[j])


class AttentionPatterns(LectureScene):
    def construct(self):
        p = attention_patterns()
        toks = list(p.tokens)
        n = len(toks)
        w = p.heatmap_shown
        self.topic("L01.8", "Attention pattern visualization")

        # -- one pattern, two pictures ----------------------------------------------------------------------
        grid = heat(p.heatmap, toks, HEAT_CELL, labels=False)
        grid.shift([LEFT_X, -0.05, 0] - grid.cells.get_center())
        grid_title = label("heat map", size=SIZES.LABEL, color=COLORS.MUTED)
        grid_title.next_to(grid, UP, buff=BUFF.MEDIUM)
        arcs_by_query = [ArcDiagram(toks, p.heatmap, query=i, font_size=SIZES.LABEL, token_buff=ARC_TOKEN_BUFF,
                                    max_width=ARC_WIDTH) for i in range(n)]
        full = ArcDiagram(toks, p.heatmap, font_size=SIZES.LABEL, token_buff=ARC_TOKEN_BUFF, max_width=ARC_WIDTH)
        for a in (*arcs_by_query, full):
            a.scale(ARC_SCALE)
            a.shift([RIGHT_X, ARC_Y, 0] - a.tokens.get_center())
        arcs_title = label("arcs: query → key", size=SIZES.LABEL, color=COLORS.MUTED)
        arcs_title.move_to([RIGHT_X, grid_title.get_y(), 0])
        row_note = label("row = the query doing the looking", size=SIZES.LABEL, color=COLORS.Q)
        col_note = label("column = the key being looked at", size=SIZES.LABEL, color=COLORS.K)
        notes = VGroup(row_note, col_note).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        notes.next_to(grid, DOWN, buff=BUFF.MEDIUM).set_x(grid.cells.get_x())
        fit_within(notes, SAFE.width / 2 - 0.2, None)

        qi = 1  # the row read aloud first: "cat"
        kj = argmax(w[qi])  # where it looks most: "sat"
        row_hl = SurroundingRectangle(VGroup(grid.cells[qi], grid.row_labels[qi]), color=COLORS.Q, buff=0.05,
                                      stroke_width=5)
        col_hl = SurroundingRectangle(VGroup(*(r[kj] for r in grid.cells), grid.col_labels[kj]), color=COLORS.K,
                                      buff=0.05, stroke_width=5)
        lookers = sorted((i for i in range(n) if i != kj), key=lambda i: -w[i][kj])[:2]  # who looks at "sat" most

        with self.narrate(
                "The weights we just computed are called the attention pattern. On the left, as a heat map: the "
                "brighter the cell, the larger the weight.") as t:
            self.play(FadeIn(grid_title), FadeIn(grid), run_time=0.5 * t.duration)
        with self.narrate(
                "A row is the query doing the looking, and a column is the key being looked at. On the right, "
                f"the row of {toks[qi]} is drawn as arcs from {toks[qi]} to every token, thicker where the weight "
                f"is larger: {format_number(w[qi][kj])} of it goes to {toks[kj]}.") as t:
            self.play(FadeIn(row_note), Create(row_hl), run_time=0.3 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(FadeIn(arcs_title), FadeIn(arcs_by_query[qi].tokens), run_time=0.15 * t.duration)
            self.play(LaggedStart(*(Create(a) for a in arcs_by_query[qi].arc_group), lag_ratio=0.2),
                      run_time=0.3 * t.duration)
        shown = arcs_by_query[qi]
        order = [i for i in range(qi + 1, n)] + [i for i in range(qi)]
        looks = [f"{toks[i]} looks mostly at {toks[argmax(w[i])]}" for i in order]
        with self.narrate(
                "Step down the rows, and the arcs follow, one query at a time: " + ", ".join(looks[:-1])
                + f", and {looks[-1]}.") as t:
            for i in order:
                new_hl = SurroundingRectangle(VGroup(grid.cells[i], grid.row_labels[i]), color=COLORS.Q, buff=0.05,
                                              stroke_width=5)
                self.play(ReplacementTransform(row_hl, new_hl), FadeOut(shown.arc_group),
                          ReplacementTransform(shown.tokens, arcs_by_query[i].tokens),
                          LaggedStart(*(Create(a) for a in arcs_by_query[i].arc_group), lag_ratio=0.15),
                          run_time=0.9 / len(order) * t.duration)
                row_hl, shown = new_hl, arcs_by_query[i]
        col_arcs = VGroup(*(full.arc(i, kj) for i in range(n) if (i, kj) in full.arcs))
        with self.narrate(
                "Reading down a column instead tells you who is looking at a token. The column of "
                f"{toks[kj]} collects {format_number(w[lookers[0]][kj])} from {toks[lookers[0]]}, and "
                f"{format_number(w[lookers[1]][kj])} from {toks[lookers[1]]}.") as t:
            self.play(FadeOut(row_hl), FadeOut(shown.arc_group), FadeIn(col_note), Create(col_hl),
                      ReplacementTransform(shown.tokens, full.tokens), run_time=0.3 * t.duration)
            self.play(full.tokens.boxes[kj].animate.set_stroke(COLORS.K, 4),
                      LaggedStart(*(Create(a) for a in col_arcs), lag_ratio=0.2), run_time=0.4 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*self.mobjects)), run_time=0.8)

        # -- four common patterns, two at a time ---------------------------------------------------------------
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
            f"The diagonal lights up: {q(toks[1])} keeps {format_number(diag[1][1])} of its weight on itself.",
            "Previous token: here the keys are positions shifted by one, so each token looks at the one just "
            f"before it. {q(toks[2])} gives {format_number(prev[2][1])} to {q(toks[1])}. The first token has "
            "nothing before it, and looks at itself.",
            "First token: all queries share one direction, and only the first key points that way, so every row "
            f"puts nearly all of its weight on {q(toks[0])}: {format_number(first[n - 1][0])} in the row of "
            f"{q(toks[n - 1])}. Trained language models do this a lot, parking attention there when "
            "nothing else is relevant.",
            "Broad averaging: when every score is close to zero, every row is close to uniform. The row of "
            f"{q(toks[1])} gives {format_number(broad[1][0])} to {q(toks[0])}, and about as much to every other "
            "token, so the output is the average of the values.",
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
                self.play(FadeIn(col[2].tokens),
                          LaggedStart(*(Create(a) for a in col[2].arc_group), lag_ratio=0.05),
                          run_time=0.3 * t.duration)
                self.wait_for(t)
        self.wait(0.6)
        self.play(FadeOut(Group(*self.mobjects)), run_time=1.0)
