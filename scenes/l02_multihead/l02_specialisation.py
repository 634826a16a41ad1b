"""L02.5 Pattern specialization per head: real heads of the lab's 2-layer attention-only model, trained here on
repeated random token sequences. The layer × head grids of the previous-token and induction scores (E2.7), the
clearest heads' attention maps (a sub-diagonal; a stripe one step after the earlier copy), the two-step circuit
(K-composition), the phase change in training, the positional control, and what the published pruning studies
and the pitfalls say about reading heads.

    manim -pql scenes/l02_multihead/l02_specialisation.py Specialisation

Every number comes from ``data.score_grid()``, ``data.head_maps()``, ``data.phase_change()``,
``data.positional_control()`` and ``data.cited_redundancy()`` (the committed lab result
results/experiments/head_specialisation.json and cited papers); this file holds layout and timing only.
"""
from __future__ import annotations

from manim import (DOWN, LEFT, PI, RIGHT, UL, UP, UR, Arrow, Create, CurvedArrow, DashedLine, FadeIn, FadeOut, Group,
                   Indicate, LaggedStart, Rectangle, RoundedRectangle, SurroundingRectangle, Transform, VGroup,
                   Write)

from scenes.kit.equations import equation
from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitationLine, HeadScoreGrid, LineChart, MatrixGrid, fit_within, label
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.mobjects.text import set_on_line
from scenes.kit.references import ELHAGE, JAIN, OLSSON
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l02_multihead import data

GRID_CELL = 0.9             # score grid cells
GRID_X, GRID_Y = 3.35, -1.15  # centres of the two score grids' cells (±x)
EQ_Y = 1.95
MAP_CELL = 0.13             # 32 × 32 attention maps: 4.2 units wide
MAP_X, MAP_Y = 3.35, 0.02
BAR_H = 0.34                # the copy bars under the induction map, their names written on them
CHART_W, CHART_H = 4.6, 2.7
CHART_Y = 0.2               # centre of the charts' axes
BOX_Y = -0.35               # the circuit's token boxes
BOX_XS = (-5.4, -3.0, -0.4, 2.2, 4.6)   # earlier copy, the token after it, …, the query, the next token
CAVEAT_TOP = 2.2            # top of the last step's titles (under the lab tag)
QUOTE_WIDTH = 12.0          # the cited quotes' line width
PREV_COLOR, IND_COLOR = COLORS.head(0), COLORS.head(1)


def source_footer(text: str) -> VGroup:
    """The lab source line at the bottom of the safe area: what was run on one line, the command on the next."""
    what, _, command = ("Source: " + text).partition("; ")
    lines = VGroup(*(label(t, size=SIZES.SMALL, color=COLORS.MUTED) for t in (what, command) if t))
    lines.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
    fit_within(lines, SAFE.width, None)
    return lines.move_to([SAFE.left + lines.width / 2, SAFE.bottom + lines.height / 2, 0])


def clauses(eq) -> tuple[VGroup, VGroup]:
    """The glyphs of a two-clause equation split at its widest horizontal gap (the space between clauses)."""
    glyphs = sorted(eq[0].submobjects, key=lambda m: m.get_left()[0])
    right, gap, cut = glyphs[0].get_right()[0], -1.0, 1
    for k in range(1, len(glyphs)):
        if glyphs[k].get_left()[0] - right > gap:
            gap, cut = glyphs[k].get_left()[0] - right, k
        right = max(right, glyphs[k].get_right()[0])
    return VGroup(*glyphs[:cut]), VGroup(*glyphs[cut:])


def place_pair(left: LineChart, right: LineChart, y: float = CHART_Y) -> None:
    """Two charts side by side: the left one's labels on the safe area's left edge, the right one's ticks on
    its right edge, both axes centred at height ``y``."""
    left.shift([SAFE.left - left.get_left()[0], y - left.axes.get_y(), 0])
    right.shift([SAFE.right - right.get_right()[0], y - right.axes.get_y(), 0])


def attention_map(values) -> MatrixGrid:
    """One head's map as a heat grid, no numbers (rows = queries, columns = keys)."""
    return MatrixGrid(values, heat=True, show_numbers=False, vmin=0.0, vmax=1.0, cell_size=MAP_CELL)


class Specialisation(LectureScene):
    """L02.5: what the heads of a trained model learned to do, and how to check it."""

    def construct(self):
        self.topic("L02.5", "Pattern specialization per head")
        self.scores()
        self.maps()
        self.circuit()
        self.phase()
        self.control()
        self.caveats()

    # -- the two score grids ----------------------------------------------------------------------------
    def scores(self):
        g = self.g = data.score_grid()
        title = heading("Trained heads, measured")
        self.model = f"{g.n_layers}-layer attention-only model, trained here"
        tag = label("lab: " + self.model, size=SIZES.LABEL, color=COLORS.ACCENT)
        tag.next_to(title, DOWN, buff=BUFF.SMALL).align_to(title, LEFT)
        self.footer = source_footer(g.source)
        eq = equation("head_scores", font_size=SIZES.EQUATION * 0.75).move_to([0, EQ_Y, 0])
        fit_within(eq, SAFE.width, None)
        prev = HeadScoreGrid(g.prev_token, title="previous-token score", cell_size=GRID_CELL, title_color=PREV_COLOR)
        ind = HeadScoreGrid(g.induction, title="induction score", cell_size=GRID_CELL, title_color=IND_COLOR)
        prev.shift([-GRID_X, GRID_Y, 0] - prev.grid.cells.get_center())
        ind.shift([GRID_X, GRID_Y, 0] - ind.grid.cells.get_center())
        line_y = prev.title.get_y()
        for grid in (prev, ind):  # one baseline for both titles
            set_on_line(grid.title, line_y)
        pl, ph, pv = g.best_prev_token
        il, _, _ = g.best_induction
        strong = g.induction[il]
        assert min(strong) > 0.9, "the narration says every head of the induction layer scores high"
        with self.narrate(
                "Do heads really specialise? Here are real ones, from a tiny model we trained ourselves: "
                f"{spoken(g.n_layers, 0)} layers, {spoken(g.n_heads, 0)} heads per layer, attention only, trained "
                "on sequences of random tokens that repeat.") as t:
            self.play(FadeIn(title), FadeIn(tag, shift=LEFT * 0.2), run_time=0.3 * t.duration)
            self.play(FadeIn(self.footer), run_time=0.2 * t.duration)
            self.wait_for(t)
        frame, frame_ind = (SurroundingRectangle(part, color=col, buff=BUFF.TIGHT, stroke_width=3)
                            for part, col in zip(clauses(eq), (PREV_COLOR, IND_COLOR)))
        self.allow_overlap(frame, eq, reason="a frame around the clause the narration explains")
        with self.narrate(
                "For every head we measure two scores. The previous-token score is the average weight a query puts "
                "on the token just before it. The induction score, also called prefix matching, is the average "
                "weight, on the second copy of the repeat, on the token right after the earlier occurrence of the "
                "current token.") as t:
            self.play(Write(eq), run_time=0.2 * t.duration)
            self.play(Create(frame), FadeIn(prev), run_time=0.15 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(Transform(frame, frame_ind), FadeIn(ind), run_time=0.15 * t.duration)
            self.wait_for(t)
        box_p, box_i = prev.highlight(pl, ph), ind.highlight_row(il)
        self.allow_overlap(box_p, prev, reason="the frame marks the best previous-token head")
        self.allow_overlap(box_i, ind, reason="the frame marks the induction layer")
        note_p = prev.caption_below(f"layer {pl}, head {ph}: {shown(pv)}", color=PREV_COLOR)
        note_i = ind.caption_below(f"layer {il}: every head ≥ {shown(min(strong))}", color=IND_COLOR)
        with self.narrate(
                f"In layer {spoken(pl, 0)}, head {spoken(ph, 0)} puts {spoken(pv)} of its weight on the previous "
                f"token. In layer {spoken(il, 0)}, every head scores {spoken(min(strong))} or more on induction. "
                "Nobody told any head to do this.") as t:
            self.play(FadeOut(frame), Create(box_p), FadeIn(note_p), run_time=0.3 * t.duration)
            self.play(Create(box_i), FadeIn(note_i), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*(m for m in self.mobjects if m not in (title, tag, self.footer)))), run_time=0.6)
        self.title, self.tag = title, tag

    # -- the two clearest heads' maps ---------------------------------------------------------------------
    def maps(self):
        m = self.m = data.head_maps()
        pl, ph, _ = self.g.best_prev_token
        il, ih, _ = self.g.best_induction
        left, right = attention_map(m.prev_token_head.values), attention_map(m.induction_head.values)
        left.move_cells_to(-MAP_X, MAP_Y)
        right.move_cells_to(MAP_X, MAP_Y)
        titles = VGroup(label(f"layer {pl}, head {ph}", size=SIZES.BODY, color=PREV_COLOR),
                        label(f"layer {il}, head {ih}", size=SIZES.BODY, color=IND_COLOR))
        for t_, grid in zip(titles, (left, right)):
            t_.next_to(grid.cells, UP, buff=BUFF.SMALL).align_to(grid.cells, LEFT)
        axes = VGroup(*(self._axis_titles(grid) for grid in (left, right)))
        hm = m.induction_head
        bars = self._copy_bars(right, hm)
        q = hm.start + hm.period + hm.period // 2  # a query in the middle of the second copy
        k = q - hm.period + 1                      # the token after its earlier occurrence
        sub = self._arrow_to(left, q, q - 1, "the previous\ntoken", PREV_COLOR, side=RIGHT)
        n = len(hm.tokens)
        diagonal = DashedLine(left.cells[0][0].get_center(), left.cells[n - 1][n - 1].get_center(),
                              dash_length=0.1).set_stroke(COLORS.TEXT, 2, opacity=0.8)
        diag_note = self._note_at(left, diagonal, "diagonal:\nitself", side=RIGHT)
        self.allow_overlap(diagonal, left, reason="a guide line over the map's diagonal")
        new_title = heading("One sample, two heads")
        with self.narrate(
                f"Here is one sample through the clearest previous-token head, layer {spoken(pl, 0)}, head "
                f"{spoken(ph, 0)}. Rows are queries, columns are keys, and the bright line sits just below the "
                "diagonal: every token looks at the one before it.") as t:
            self.play(Transform(self.title, new_title), FadeIn(titles[0]), FadeIn(left), FadeIn(axes[0]),
                      run_time=0.35 * t.duration)
            self.play(Create(diagonal), FadeIn(diag_note), run_time=0.2 * t.duration)
            self.play(FadeIn(sub), run_time=0.2 * t.duration)
            self.wait_for(t)
        stripe = self._arrow_to(right, q, k, "after the\nearlier copy", IND_COLOR, side=LEFT)
        cell = right.highlight_cell(q, k, color=COLORS.ACCENT)
        self.allow_overlap(cell, right, reason="the frame marks one cell of the map")
        with self.narrate(
                f"The clearest induction head, layer {spoken(il, 0)}, head {spoken(ih, 0)}, draws another line. In "
                f"this sample the random tokens repeat every {spoken(hm.period, 0)} positions. On the second copy, "
                f"each query looks {spoken(hm.period - 1, 0)} positions back: not at the earlier copy of its own "
                "token, but at the one right after it: the token that comes next.") as t:
            self.play(FadeIn(titles[1]), FadeIn(right), FadeIn(axes[1]), FadeIn(bars), run_time=0.3 * t.duration)
            self.play(FadeOut(sub), FadeOut(diag_note), FadeOut(diagonal), run_time=0.1 * t.duration)
            self.wait(0.15 * t.duration)
            self.play(FadeIn(stripe), Create(cell), run_time=0.25 * t.duration)
            self.wait_for(t)
        other = m.induction_other_period
        right2 = attention_map(other.values).move_cells_to(MAP_X, MAP_Y)
        bars2 = self._copy_bars(right2, other)
        with self.narrate(
                f"Give the same head a sample that repeats every {spoken(other.period, 0)} positions, and the "
                "stripe moves with it.") as t:
            self.play(FadeOut(stripe), FadeOut(cell), run_time=0.15 * t.duration)
            self.play(Transform(right, right2), Transform(bars, bars2), run_time=0.4 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*(m_ for m_ in self.mobjects if m_ not in (self.title, self.tag, self.footer)))),
                  run_time=0.6)

    def _axis_titles(self, grid: MatrixGrid) -> VGroup:
        keys = label("keys →", size=SIZES.LABEL, color=COLORS.K)  # under the copy bars, right of their labels
        keys.next_to(grid.cells, DOWN, buff=2 * BUFF.TIGHT + BAR_H).align_to(grid.cells, RIGHT)
        queries = label("queries →", size=SIZES.LABEL, color=COLORS.Q).rotate(-PI / 2)
        queries.next_to(grid.cells, LEFT, buff=BUFF.SMALL).align_to(grid.cells, UP)
        return VGroup(keys, queries)

    def _copy_bars(self, grid: MatrixGrid, hm) -> VGroup:
        """Bars under the keys of each copy of the repeat, labelled 'copy 1', 'copy 2', …"""
        n = len(hm.tokens)
        out = VGroup()
        k, c = hm.start, 1
        while k < n:
            end = min(n, k + hm.period) - 1
            x0, x1 = grid.cells[0][k].get_left()[0], grid.cells[0][end].get_right()[0]
            bar = Rectangle(width=x1 - x0 - 0.03, height=BAR_H, stroke_width=0, fill_color=IND_COLOR,
                            fill_opacity=1.0 if c % 2 else 0.55)
            bar.move_to([(x0 + x1) / 2, grid.cells.get_bottom()[1] - BUFF.TIGHT - BAR_H / 2, 0])
            out.add(bar)
            if c <= 2:
                cap = label(f"copy {c}", size=SIZES.LABEL, color=COLORS.BACKGROUND)
                fit_within(cap, x1 - x0 - 0.1, BAR_H - 0.04)
                out.add(cap.move_to(bar))
                self.allow_overlap(cap, bar, reason="the copy's name written on its bar")
            k, c = end + 1, c + 1
        return out

    def _lines(self, text: str, color: str) -> VGroup:
        lab = VGroup(*(label(t, size=SIZES.LABEL, color=color) for t in text.split("\n")))
        return fit_within(lab.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT), 2.0, None)

    def _arrow_to(self, grid: MatrixGrid, i: int, j: int, text: str, color: str, side) -> VGroup:
        """An arrow from a label beside the map (lines split at newlines) to cell (i, j)."""
        target = grid.cells[i][j].get_center()
        lab = self._lines(text, color)
        if side is RIGHT:
            lab.next_to(grid.cells, RIGHT, buff=BUFF.MEDIUM).set_y(target[1] - 0.9)
            start = lab.get_left() + LEFT * 0.05
        else:
            lab.next_to(grid.cells, LEFT, buff=BUFF.MEDIUM).set_y(target[1] - 0.9)
            start = lab.get_right() + RIGHT * 0.05
        arrow = Arrow(start, target, buff=0.08, stroke_width=4, color=color, max_tip_length_to_length_ratio=0.15)
        return VGroup(arrow, lab)

    def _note_at(self, grid: MatrixGrid, line, text: str, side) -> VGroup:
        """A note beside the map, level with the upper part of ``line``."""
        lab = self._lines(text, COLORS.TEXT)
        y = 0.7 * line.get_start()[1] + 0.3 * line.get_end()[1]
        return lab.next_to(grid.cells, side, buff=BUFF.MEDIUM).set_y(y)

    # -- the two-step circuit -----------------------------------------------------------------------------
    def circuit(self):
        hm = self.m.induction_head
        pl, ph, _ = self.g.best_prev_token
        il, ih, _ = self.g.best_induction
        q = hm.start + hm.period + hm.period // 2
        k = q - hm.period + 1
        toks = hm.tokens
        assert toks[k - 1] == toks[q] and toks[k] == toks[q + 1], "a repeat: the token after the earlier copy is next"
        texts = (shown(toks[k - 1], 0), shown(toks[k], 0), "…", shown(toks[q], 0), "?")
        positions = (k - 1, k, None, q, q + 1)
        boxes = VGroup()
        for x, text, pos in zip(BOX_XS, texts, positions):
            tok = label(text, size=SIZES.BODY, color=COLORS.TEXT, mono=text.isdigit())
            if pos is None:
                boxes.add(VGroup(tok.move_to([x, BOX_Y, 0])))
                continue
            box = RoundedRectangle(width=0.9, height=0.7, corner_radius=0.08, stroke_color=COLORS.GRID,
                                   stroke_width=2, fill_color=COLORS.PANEL, fill_opacity=1).move_to([x, BOX_Y, 0])
            where = label(f"position {pos}", size=SIZES.LABEL, color=COLORS.MUTED).next_to(box, DOWN, buff=BUFF.SMALL)
            boxes.add(VGroup(box, tok.move_to(box), where))
        new_title = heading("Two heads, one circuit")
        arc0 = CurvedArrow(boxes[1][0].get_corner(UL) + RIGHT * 0.2, boxes[0][0].get_top(), angle=PI / 2.2,
                           color=PREV_COLOR, stroke_width=5)
        lab0 = VGroup(label(f"layer {pl}, head {ph}:", size=SIZES.LABEL, color=PREV_COLOR),
                      label("copy the previous token", size=SIZES.LABEL, color=PREV_COLOR))
        lab0.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
        lab0.next_to(arc0, UP, buff=BUFF.SMALL).set_x(SAFE.left + lab0.width / 2)
        wrote = label(f"prev = {texts[0]}", size=SIZES.LABEL, color=PREV_COLOR)
        wrote_box = SurroundingRectangle(wrote, color=PREV_COLOR, buff=0.08, stroke_width=2)
        tag0 = VGroup(wrote_box, wrote).next_to(boxes[1][2], DOWN, buff=BUFF.SMALL)
        arc1 = CurvedArrow(boxes[3][0].get_top(), boxes[1][0].get_corner(UR) + LEFT * 0.2, angle=PI / 2.6,
                           color=IND_COLOR, stroke_width=5)
        lab1 = VGroup(label(f"layer {il}, head {ih}:", size=SIZES.LABEL, color=IND_COLOR),
                      label(f"query {texts[3]} matches key “prev = {texts[0]}”", size=SIZES.LABEL, color=IND_COLOR))
        lab1.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
        lab1.next_to(arc1, UP, buff=BUFF.SMALL).align_to(boxes[3][0], LEFT)
        lab1.shift(RIGHT * min(0.0, SAFE.right - lab1.get_right()[0]))
        answer = label(texts[1], size=SIZES.BODY, color=IND_COLOR, mono=True).move_to(boxes[4][1])
        kcomp = label(f"K-composition: the layer-{il} key reads what the layer-{pl} head wrote", size=SIZES.BODY,
                      color=COLORS.ACCENT)
        fit_within(kcomp, SAFE.width, None)
        cite = CitationLine(ELHAGE)
        cite.next_to(self.footer, UP, buff=BUFF.SMALL).align_to(self.footer, LEFT)
        kcomp.next_to(cite, UP, buff=BUFF.MEDIUM).set_x(0)
        with self.narrate(
                "Why two layers? At first a key knows only its own token. So the previous-token head works first: "
                "it copies each token into the next position, which now carries a note saying which token came "
                "before it.") as t:
            self.play(Transform(self.title, new_title), LaggedStart(
                *(FadeIn(b) for b in boxes), lag_ratio=0.15), run_time=0.3 * t.duration)
            self.play(Create(arc0), FadeIn(lab0), run_time=0.3 * t.duration)
            self.play(FadeIn(tag0, shift=DOWN * 0.15), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "The induction head's key reads that note. A query holding the same token matches it, and the head "
                "copies the token found there: the one that came next last time. One head's output shaping another "
                "head's keys is what Elhage and colleagues call K-composition.") as t:
            self.play(Create(arc1), FadeIn(lab1), run_time=0.3 * t.duration)
            self.play(Transform(boxes[4][1], answer), run_time=0.2 * t.duration)
            self.play(FadeIn(kcomp), FadeIn(cite), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*(m_ for m_ in self.mobjects if m_ not in (self.title, self.tag, self.footer)))),
                  run_time=0.6)

    # -- the phase change ---------------------------------------------------------------------------------
    def phase(self):
        pc = data.phase_change()
        steps, scores = zip(*pc.induction_curve)
        lsteps, losses = zip(*pc.loss_curve)
        x_range = (0, pc.total_steps, pc.total_steps / 4)
        score = LineChart([("best induction score", steps, scores)], x_label="training step",
                          y_label="best induction score", width=CHART_W, height=CHART_H, x_range=x_range,
                          y_range=(0, 1, 0.5), colors=[IND_COLOR])
        loss = LineChart([("training loss", lsteps, losses)], x_label="training step", y_label="loss",
                         width=CHART_W, height=CHART_H, x_range=x_range, colors=[COLORS.V])
        place_pair(score, loss)
        marks = VGroup(score.mark_x(pc.step, f"step {pc.step}"), loss.mark_x(pc.step, f"step {pc.step}"))
        level, at = next((lv, s) for lv, s in pc.first_step_at if lv > pc.threshold)
        before, after = dict(pc.loss_curve)[pc.previous_logged_step], dict(pc.loss_curve)[at]
        dots = VGroup(score.dot_at(pc.previous_logged_step, pc.best_before), score.dot_at(pc.step, pc.best_at))
        cite = CitationLine(OLSSON)
        cite.next_to(self.footer, UP, buff=BUFF.SMALL).align_to(self.footer, LEFT)
        new_title = heading("Learned, not designed")
        with self.narrate(
                "None of this was designed: it was learned, and suddenly. The best induction score creeps up "
                "slowly; then between step "
                f"{spoken(pc.previous_logged_step, 0)} and step {spoken(pc.step, 0)} it jumps from "
                f"{spoken(pc.best_before)} to {spoken(pc.best_at)}, and by step {spoken(at, 0)} it is past "
                f"{spoken(level, 1)}.") as t:
            self.play(Transform(self.title, new_title), FadeIn(score.frame_parts()), FadeIn(loss.frame_parts()),
                      run_time=0.2 * t.duration)
            self.play(score.create_series(0), run_time=0.4 * t.duration)
            self.play(FadeIn(marks[0]), FadeIn(dots), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"The loss falls at the same moment, from {spoken(before)} to {spoken(after)}. Olsson and "
                "colleagues call this a phase change: the induction circuit forms, and copying from context "
                "switches on.") as t:
            self.play(loss.create_series(0), run_time=0.4 * t.duration)
            self.play(FadeIn(marks[1]), FadeIn(cite), run_time=0.2 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*(m_ for m_ in self.mobjects if m_ not in (self.title, self.tag, self.footer)))),
                  run_time=0.6)

    # -- the positional control ---------------------------------------------------------------------------
    def control(self):
        c = data.positional_control()
        names = (f"layer {c.layer}, head {c.head}: induction score", "control: the wrong period")
        colors = [IND_COLOR, COLORS.MUTED]
        by_p = LineChart([(names[0], c.periods, c.by_period), (names[1], c.periods, c.by_period_control)],
                         x_label="repeat period", y_label="score", width=CHART_W, height=CHART_H,
                         x_range=(c.periods[0], c.periods[-1], 1), y_range=(0, 1, 0.5), colors=colors,
                         markers=True, legend=False)
        by_o = LineChart([(names[0], c.offsets, c.by_offset), (names[1], c.offsets, c.by_offset_control)],
                         x_label="where the repeat starts", y_label="score", width=CHART_W, height=CHART_H,
                         x_range=(c.offsets[0], c.offsets[-1], 1), y_range=(0, 1, 0.5), colors=colors,
                         markers=True, legend=False)
        place_pair(by_p, by_o, CHART_Y - 0.2)
        legend = VGroup(*(VGroup(RoundedRectangle(width=0.4, height=0.14, corner_radius=0.05, stroke_width=0,
                                                  fill_color=col, fill_opacity=1),
                                 label(nm, size=SIZES.LABEL, color=col)).arrange(RIGHT, buff=BUFF.SMALL)
                          for nm, col in zip(names, colors))).arrange(RIGHT, buff=BUFF.LARGE)
        legend.next_to(by_p.y_ticks, UP, buff=BUFF.LARGE).set_x(0)
        lo = min(c.by_period + c.by_offset)
        hi = max(c.by_period_control + c.by_offset_control)
        new_title = heading("Content, not position")
        line_y = (by_p.axis_labels[0].get_bottom()[1] + self.footer.get_top()[1]) / 2
        pitfall = label("Pitfall: with one fixed period, a fixed offset scores as high as matching content",
                        size=SIZES.LABEL, color=COLORS.V)
        result = label(f"induction ≥ {shown(lo)} for every period and start;  control < {shown(hi)}",
                       size=SIZES.LABEL, color=COLORS.TEXT)
        for x in (pitfall, result):
            fit_within(x, SAFE.width, None).move_to([0, line_y, 0])
        with self.narrate(
                "A warning about that score. If every sample repeated with the same period, a head that just looked "
                "a fixed number of positions back would score as high, without matching any content. "
                f"So our probe varies the period, from {spoken(c.periods[0], 0)} to {spoken(c.periods[-1], 0)}, "
                "and where the repeat starts.") as t:
            self.play(Transform(self.title, new_title), run_time=0.2 * t.duration)
            self.play(FadeIn(pitfall, shift=UP * 0.15), run_time=0.2 * t.duration)
            self.wait(0.25 * t.duration)
            self.play(FadeIn(by_p.frame_parts()), FadeIn(by_o.frame_parts()), FadeIn(legend),
                      run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate(
                f"The score stays at {spoken(lo)} or more for every period and every start, while the same "
                f"measurement at the wrong period stays below {spoken(hi, 2)}. The stripe follows the content, "
                "not the position.") as t:
            self.play(by_p.create_series(0), by_o.create_series(0), run_time=0.35 * t.duration)
            self.play(by_p.create_series(1), by_o.create_series(1), FadeOut(pitfall), run_time=0.3 * t.duration)
            self.play(FadeIn(result, shift=UP * 0.15), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.play(FadeOut(Group(*(m_ for m_ in self.mobjects if m_ not in (self.title, self.tag)))), run_time=0.6)

    # -- redundancy and the pitfalls ----------------------------------------------------------------------
    def caveats(self):
        r = data.cited_redundancy()
        title = heading("Reading heads with care")
        quote_title = label("Many heads are redundant (published results, not ours)", size=SIZES.BODY,
                            color=COLORS.ACCENT)
        quote_title.move_to([SAFE.left + quote_title.width / 2, CAVEAT_TOP - quote_title.height / 2, 0])
        quotes = VGroup()
        for q in (r.voita, r.michel):
            lines = VGroup(*(label(s, size=SIZES.LABEL, color=COLORS.TEXT)
                             for s in wrap(f"“{q.text}”", QUOTE_WIDTH, SIZES.LABEL)))
            lines.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
            cite = VGroup(*(label(x, size=SIZES.SMALL, color=COLORS.MUTED) for x in (q.cite, q.conditions)))
            cite.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
            fit_within(cite, QUOTE_WIDTH, None)
            quotes.add(VGroup(lines, cite).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL))
        quotes.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.LARGE)
        quotes.next_to(quote_title, DOWN, buff=BUFF.LARGE).align_to(quote_title, LEFT)
        pit_title = label("Two more pitfalls", size=SIZES.BODY, color=COLORS.V)
        pit_title.move_to(quote_title.get_left() + RIGHT * pit_title.width / 2)
        pits = VGroup(
            label("A head's weights show where it looked, not why the model predicted:", size=SIZES.LABEL),
            label("they are not an explanation.", size=SIZES.LABEL),
            label(JAIN.short(), size=SIZES.SMALL, color=COLORS.MUTED),
            label("Maps from untrained weights are random numbers, not “specialised heads”.", size=SIZES.LABEL),
            label("These heads: " + self.model + ".", size=SIZES.LABEL, color=COLORS.ACCENT),
        )
        pits.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        pits[3:].shift(DOWN * BUFF.LARGE)
        pits[4].shift(DOWN * BUFF.MEDIUM)
        fit_within(pits, SAFE.width, None)
        pits.next_to(pit_title, DOWN, buff=BUFF.LARGE).align_to(pit_title, LEFT)
        with self.narrate(
                "Specialised does not mean indispensable. Voita and colleagues pruned "
                f"{spoken(r.voita_pruned, 0)} of the {spoken(r.voita_total, 0)} encoder heads of a translation "
                f"model and lost only {spoken(r.voita_bleu_drop)} BLEU, and Michel and colleagues found that some "
                "layers can be cut down to a single head.") as t:
            self.play(Transform(self.title, title), FadeIn(quote_title), run_time=0.15 * t.duration)
            self.play(FadeIn(quotes[0]), run_time=0.25 * t.duration)
            self.play(FadeIn(quotes[1]), run_time=0.25 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "Two more cautions. A bright cell shows where a head looked, not why the model predicted what it "
                "did: attention weights are not an explanation, as Jain and Wallace argued. And maps from untrained "
                "weights are random numbers; many popular explainer grids are exactly that. "
                "The heads you saw here were trained, and measured.") as t:
            self.play(FadeOut(quote_title), FadeOut(quotes), FadeIn(pit_title), FadeIn(pits[:3]),
                      run_time=0.25 * t.duration)
            self.wait(0.2 * t.duration)
            self.play(FadeIn(pits[3]), run_time=0.2 * t.duration)
            self.play(FadeIn(pits[4]), Indicate(self.tag, color=COLORS.ACCENT, scale_factor=1.05),
                      run_time=0.3 * t.duration)
            self.wait_for(t)
        self.wait(0.5)
