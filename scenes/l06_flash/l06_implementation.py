"""L06.4 Implementation details: the FA-2 forward loop of ``attn_ref.flash_attention`` with the online-softmax
formula beside each line (E6.2, E6.3); the backward of ``ar.FlashAttentionFunction`` line by line (E6.6), the
identity D_i = Σ_j P_ij dP_ij = dO_iᵀ O_i on the running example, and its gradients against autograd through
``ar.sdpa``; our Triton kernel (grid, base-2 exponentials, the natural-log LSE it stores) and its twelve-case
check on the H200 with its source line; the known pitfalls, cited.

    manim -pql scenes/l06_flash/l06_implementation.py FlashImplementation

Every number comes from ``data.forward_code()``, ``backward()``, ``triton_kernel()`` and ``pitfalls()``; the
code from ``attn_ref``'s own source; formulas from the registry; this file holds layout and timing only.
"""
from __future__ import annotations

import re

from manim import DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Group, LaggedStart, SurroundingRectangle, VGroup

from scenes.kit.format import shown, spoken
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import AnnotatedCode, CitationLine, DataTable, fit_within, label
from scenes.kit.mobjects.annotated_code import equation_clauses
from scenes.kit.mobjects.cards import wrap
from scenes.kit.mobjects.code_panel import source_of
from scenes.kit.mobjects.text import paragraph
from scenes.kit.mobjects.layout import scene_heading as heading
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l06_flash import data

FORWARD = "attn_ref.flash_attention"
BACKWARD = "attn_ref.flash._flash_backward"
ONLINE, LSE, BWD = "online_softmax_update", "log_sum_exp", "flash_backward"
STEP_FADE = 0.8
CODE_TOP = SAFE.top - 0.95         # the annotated panels stay under this (and under the heading)
FORWARD_Y, BACKWARD_Y = 0.9, 0.4   # their centres
FORMULA_W = 4.6                    # the formula column of the annotated panels
AFTER_GAP = 1.0                    # the after-the-loop formulas, this far under the forward panel
ID_Y, ROW_Y, GRAD_Y = 2.5, 0.85, -1.75
KERNEL_Y = (2.3, 0.9, -0.5)        # the three kernel lines
CASE_ROW_H = 0.4
REPLAY_Y = -2.5                    # the base-2 replay under the kernel lines


def file_lines(qualname: str, first: int, last: int) -> tuple[int, int]:
    """File line numbers (first, last) as the object's own 1-based range, for ``lines=``."""
    start = source_of(qualname)[1]
    return first - start + 1, last - start + 1


def line_of(lines, snippet: str) -> int:
    """The file line number of the builder's code line containing ``snippet``."""
    return next(x.number for x in lines if snippet in x.code)


def place_code(m, y: float):
    """Centre an annotated panel at height ``y``, kept under ``CODE_TOP``."""
    m.move_to([m.get_center()[0], min(y, CODE_TOP - m.height / 2), 0])
    return m


class FlashImplementation(LectureScene):
    """L06.4: the forward loop with its formulas, the backward and D, the Triton kernel and its check, pitfalls."""

    def construct(self):
        self.topic("L06.4", "Implementation details")
        self.forward_loop()
        self.backward_lines()
        self.d_identity()
        self.triton_source()
        self.triton_check()
        self.pitfall_table()

    def clear(self):
        shown_now = [m for m in self.mobjects if any(sm.has_points() for sm in m.get_family())]
        if shown_now:
            self.play(FadeOut(Group(*shown_now)), run_time=STEP_FADE)

    # -- the forward loop ---------------------------------------------------------------------------------------
    def forward_loop(self):
        fc = data.forward_code()
        ln = {key: line_of(fc.lines, snip) for key, snip in (
            ("inner", "for j, (c0, c1)"), ("m", "m_new = torch.maximum"), ("p", "p_tilde = torch.exp"),
            ("alpha", "alpha = torch.exp"), ("l", "l_i = alpha"), ("o", "acc = alpha"), ("end", "m_i = m_new"))}
        comment = {x.number: x.formula for x in fc.lines}
        ac = AnnotatedCode(FORWARD, lines=file_lines(FORWARD, ln["inner"], ln["end"]), strip_comments=True,
                           formula_width=FORMULA_W,
                           annotations={ln["m"]: (ONLINE, 0), ln["p"]: comment[ln["p"]],
                                        ln["alpha"]: comment[ln["alpha"]], ln["l"]: (ONLINE, 1),
                                        ln["o"]: (ONLINE, 2)})
        place_code(ac, FORWARD_Y)
        title = heading("The forward loop, from our source")
        after = VGroup(label("after the last K/V block, once:", size=SIZES.LABEL, color=COLORS.MUTED),
                       equation_clauses(ONLINE, 3), equation_clauses(LSE, 0)).arrange(RIGHT, buff=BUFF.LARGE)
        fit_within(after, SAFE.width, None).move_to([0, ac.get_bottom()[1] - AFTER_GAP, 0])
        with self.narrate(
                "Here is the heart of our reference flash attention: the version two loop, straight from the "
                "source. The outer loop holds one block of queries; this inner loop streams the key and value "
                "blocks past it.") as t:
            self.play(FadeIn(title), FadeIn(ac.panel), run_time=0.25 * t.duration)
            self.play(*ac.highlight(ln["inner"]), run_time=0.15 * t.duration)
            self.wait_for(t)
        with self.narrate("For each tile of scores, the running maximum grows to take in the tile's row "
                          "maximum.") as t:
            self.play(FadeIn(ac.connectors), FadeIn(ac.formulas), run_time=0.3 * t.duration)
            self.play(*ac.highlight(ln["m"]), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate("The tile is exponentiated against the new maximum, and the old statistics get the "
                          "factor e to the old maximum minus the new one.") as t:
            self.play(*ac.highlight(ln["p"]), run_time=0.2 * t.duration)
            self.wait(0.25 * t.duration)
            self.play(*ac.highlight(ln["alpha"]), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate("With that factor, the running sum and the unnormalised output are updated: exactly the "
                          "recurrence of the online softmax.") as t:
            self.play(*ac.highlight(ln["l"]), run_time=0.2 * t.duration)
            self.wait(0.2 * t.duration)
            self.play(*ac.highlight(ln["o"]), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate("After the last block, the output is divided by the sum just once, and each row keeps a "
                          "single number: its log sum exp, m plus the log of l.") as t:
            self.play(*ac.undim(), FadeOut(ac.cursor), run_time=0.15 * t.duration)
            self.play(FadeIn(after, shift=UP * 0.2), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.clear()

    # -- the backward, line by line ----------------------------------------------------------------------------
    def backward_lines(self):
        b = data.backward()
        ln = {key: line_of(b.code, snip) for key, snip in (
            ("p", "p = torch.exp"), ("dv", "dv[..., c0:c1, :] +="), ("dp", "dp = do_i"), ("ds", "ds = p *"),
            ("dq", "dq[..., r0:r1, :] +="), ("dk", "dk[..., c0:c1, :] +="))}
        comment = {x.number: x.formula for x in b.code}
        ac = AnnotatedCode(BACKWARD, lines=file_lines(BACKWARD, ln["p"], ln["dk"]), strip_comments=True,
                           formula_width=FORMULA_W,
                           annotations={ln["p"]: comment[ln["p"]], ln["dv"]: (BWD, 0), ln["dp"]: (BWD, 1),
                                        ln["ds"]: (BWD, 4), ln["dq"]: (BWD, 5), ln["dk"]: (BWD, 6)})
        place_code(ac, BACKWARD_Y)
        title = heading("The backward: P rebuilt from the LSE, tile by tile")
        src = CitationLine(b.source)
        with self.narrate("The backward never stores the attention matrix. For every tile it rebuilds P from the "
                          "saved log sum exp, one exponential per score.") as t:
            self.play(FadeIn(title), FadeIn(ac.panel), FadeIn(ac.connectors), FadeIn(ac.formulas), FadeIn(src),
                      run_time=0.3 * t.duration)
            self.play(*ac.highlight(ln["p"]), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate("The value gradient gathers P transposed times d O. The gradient of P is d O times V "
                          "transposed.") as t:
            self.play(*ac.highlight(ln["dv"]), run_time=0.2 * t.duration)
            self.wait(0.3 * t.duration)
            self.play(*ac.highlight(ln["dp"]), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate("Through the softmax, d S is P times, element by element, d P minus one number per row, "
                          "called D. The query and key gradients follow, each scaled by s, one over the square "
                          "root of d.") as t:
            self.play(*ac.highlight(ln["ds"]), run_time=0.2 * t.duration)
            self.wait(0.3 * t.duration)
            self.play(*ac.highlight(ln["dq"]), run_time=0.15 * t.duration)
            self.play(*ac.highlight(ln["dk"]), run_time=0.15 * t.duration)
            self.wait_for(t)
        self.clear()

    def d_identity(self):
        b = data.backward()
        r = data.triton_kernel().row
        ident = equation_clauses(BWD, (2, 3), font_size=SIZES.EQUATION)
        fit_within(ident, SAFE.width, None).move_to([0, ID_Y, 0])
        rows = VGroup(
            label(f"row {shown(r, 0)}:   rowsum(dO ∘ O) = {shown(b.d_rowsum[r], 4)}", size=SIZES.BODY, mono=True),
            label(f"Σ_j P_ij dP_ij = {shown(b.d_from_p[r], 4)}", size=SIZES.BODY, mono=True),
            label(f"largest difference over all {shown(b.n, 0)} rows: {shown(b.d_diff, sci=1)}", size=SIZES.LABEL,
                  color=COLORS.WEIGHT)).arrange(DOWN, buff=BUFF.MEDIUM)
        rows[1].align_to(rows[0], RIGHT)
        rows.move_to([0, ROW_Y, 0])
        grads = DataTable(["gradient", "flash backward − autograd through ar.sdpa"],
                          [["dQ", shown(b.dq_diff, sci=1)], ["dK", shown(b.dk_diff, sci=1)],
                           ["dV", shown(b.dv_diff, sci=1)]],
                          title=f"float64, N = {shown(b.n, 0)}, d = {shown(b.d, 0)}, blocks of {shown(b.block, 0)}; "
                                f"gradcheck: {'passes' if b.gradcheck else 'fails'}",
                          font_size=SIZES.LABEL, row_height=0.5)
        fit_within(grads, SAFE.width, 2.5).move_to([0, GRAD_Y, 0])
        with self.narrate("Where does D come from? The softmax needs, for each row, the sum over j of P i j times "
                          "d P i j. Since O i is the P weighted sum of the values, that sum is just d O i dotted "
                          "with O i: the output we kept, never a full row of P.") as t:
            self.play(FadeIn(ident), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(f"On the running example, row {spoken(r, 0)} gives {spoken(b.d_rowsum[r], 4)} both "
                          "ways.") as t:
            self.play(FadeIn(rows[0]), run_time=0.25 * t.duration)
            self.play(FadeIn(rows[1]), run_time=0.25 * t.duration)
            self.play(FadeIn(rows[2]), run_time=0.2 * t.duration)
            self.wait_for(t)
        worst = max(b.dq_diff, b.dk_diff, b.dv_diff)
        with self.narrate("All three gradients match autograd through the plain reference attention, to within "
                          f"{spoken(worst, sci=1)}, and a double precision gradient check passes.") as t:
            self.play(FadeIn(grads.title), FadeIn(grads.header), Create(grads.rule), run_time=0.2 * t.duration)
            self.play(LaggedStart(*(FadeIn(x) for x in grads.rows), lag_ratio=0.4), run_time=0.4 * t.duration)
            self.wait_for(t)
        self.clear()

    # -- the Triton kernel ----------------------------------------------------------------------------------------
    def triton_source(self):
        k = data.triton_kernel()
        title = label(k.file, size=SIZES.LABEL, color=COLORS.MUTED, mono=True)
        title.move_to([SAFE.left + title.width / 2, SAFE.top - title.height / 2, 0])
        code = [label(x, size=SIZES.LABEL, mono=True, color=COLORS.TEXT) for x in (k.grid_line, k.scale_line,
                                                                                    k.lse_line)]
        notes = [label("one program per (Q block, batch · head)", size=SIZES.LABEL, color=COLORS.K),
                 label(f"scores × s · log₂ e = s × {shown(k.log2e, 4)}: the loop uses exp2", size=SIZES.LABEL,
                       color=COLORS.SCORE),
                 label("stored: (m₂ + log₂ ℓ₂) × ln 2, the natural-log LSE", size=SIZES.LABEL,
                       color=COLORS.WEIGHT)]
        blocks = []
        for c, n, y in zip(code, notes, KERNEL_Y):
            fit_within(c, SAFE.width - 0.3, None)
            g = VGroup(c, n).arrange(DOWN, buff=BUFF.SMALL, aligned_edge=LEFT)
            g.move_to([SAFE.left + 0.15 + g.width / 2, y, 0])
            blocks.append(g)
        lse = equation_clauses(LSE, 2, font_size=SIZES.EQUATION)
        nums = VGroup(label(f"row {shown(k.row, 0)}, base 2:  m₂ + log₂ ℓ₂ = {shown(k.lse2, 4)}", size=SIZES.BODY),
                      label(f"× ln 2 = {shown(k.lse_from_base2, 4)} = attn_ref's LSE {shown(k.lse, 4)}",
                            size=SIZES.BODY, color=COLORS.WEIGHT)).arrange(DOWN, buff=BUFF.SMALL, aligned_edge=LEFT)
        replay = VGroup(lse, nums).arrange(RIGHT, buff=BUFF.LARGE)
        fit_within(replay, SAFE.width, None).move_to([0, REPLAY_Y, 0])
        boxes = [SurroundingRectangle(g[0], color=COLORS.ACCENT, buff=0.06, stroke_width=2.5) for g in blocks]
        with self.narrate("Our Triton kernel runs the same loop on the GPU. The grid has one program per query "
                          "block, and per batch and head: each program keeps its queries on chip and streams the "
                          "keys and values past them.") as t:
            self.play(FadeIn(title), FadeIn(blocks[0][0]), run_time=0.2 * t.duration)
            self.play(Create(boxes[0]), FadeIn(blocks[0][1]), run_time=0.25 * t.duration)
            self.wait_for(t)
        with self.narrate("It scales the scores by s times log two of e, about "
                          f"{spoken(k.log2e, 4)}, so the loop can use the fast base two exponential.") as t:
            self.play(FadeIn(blocks[1][0]), FadeOut(boxes[0]), run_time=0.2 * t.duration)
            self.play(Create(boxes[1]), FadeIn(blocks[1][1]), run_time=0.25 * t.duration)
            self.wait_for(t)
        with self.narrate("Now, what does it store? The Triton tutorial stores M, the log sum exp in base two. Our "
                          "kernel multiplies by the natural log of two first, so its log sum exp is the natural "
                          "one that attn_ref uses.") as t:
            self.play(FadeIn(blocks[2][0]), FadeOut(boxes[1]), run_time=0.2 * t.duration)
            self.play(Create(boxes[2]), FadeIn(blocks[2][1]), run_time=0.25 * t.duration)
            self.wait_for(t)
        with self.narrate(f"Replayed on row {spoken(k.row, 0)}: base two gives {spoken(k.lse2, 4)}; times the log "
                          f"of two, {spoken(k.lse_from_base2, 4)}, the reference value.") as t:
            self.play(FadeIn(replay, shift=UP * 0.2), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.clear()

    def triton_check(self):
        k = data.triton_kernel()
        rows = [[c.dtype, shown(c.n_q, 0), shown(c.n_k, 0), shown(c.d, 0), "yes" if c.causal else "no",
                 c.alignment.replace("_", "-") if c.causal else "–", shown(c.max_err, sci=1),
                 shown(c.max_lse_err, sci=1)] for c in k.cases]
        table = DataTable(["dtype", "N_q", "N_k", "d", "causal", "alignment", "max |O − O₆₄|", "max |ΔLSE|"], rows,
                          align="lrrrllrr", font_size=SIZES.SMALL, header_size=SIZES.SMALL, row_height=CASE_ROW_H,
                          title=f"our Triton kernel vs a float64 oracle: {shown(len(k.cases), 0)} cases")
        fit_within(table, SAFE.width, SAFE.height - 1.0)
        table.move_to([0, SAFE.top - table.height / 2, 0])
        head, _, command = k.check_source.partition("; `")
        src = VGroup(*(label(x, size=SIZES.CAPTION, color=COLORS.MUTED) for x in (head + ";", "`" + command)))
        src.arrange(DOWN, buff=BUFF.TIGHT, aligned_edge=LEFT)
        fit_within(src, SAFE.width, None)
        src.move_to([SAFE.left + src.width / 2, SAFE.bottom + src.height / 2, 0])
        worst = max(c.max_err for c in k.cases)
        worst_lse = max(c.max_lse_err for c in k.cases)
        n_dtypes = len({c.dtype for c in k.cases})
        with self.narrate(f"On an H200, the kernel was checked against a double precision oracle in "
                          f"{spoken(len(k.cases), 0)} cases: {spoken(n_dtypes, 0)} half precision types, lengths "
                          "that do not divide the block, and both causal alignments.") as t:
            self.play(FadeIn(table.title), FadeIn(table.header), Create(table.rule), FadeIn(src),
                      run_time=0.2 * t.duration)
            self.play(LaggedStart(*(FadeIn(x) for x in table.rows), lag_ratio=0.15), run_time=0.5 * t.duration)
            self.wait_for(t)
        i = max(range(len(k.cases)), key=lambda j: k.cases[j].max_err)
        frame = table.highlight_row(i)
        with self.narrate(f"The largest output error is {spoken(worst, sci=1)}, in {k.cases[i].dtype}, and the log "
                          "sum exp "
                          f"is within {spoken(worst_lse, sci=1)} everywhere.") as t:
            self.play(Create(frame), run_time=0.25 * t.duration)
            self.wait_for(t)
        self.allow_overlap(frame, table, reason="the frame around the row the narration names")
        self.clear()

    # -- the pitfalls ---------------------------------------------------------------------------------------------
    def pitfall_table(self):
        p = data.pitfalls().items
        title = label("known pitfalls", size=SIZES.BODY)
        items = VGroup()
        for k, x in enumerate(p):
            num = label(f"{k + 1}", size=SIZES.BODY, color=COLORS.ACCENT, mono=True)
            what = paragraph(wrap(x.what, SAFE.width - 1.0, SIZES.BODY), size=SIZES.BODY)
            where = label(x.where, size=SIZES.SMALL, color=COLORS.MUTED)
            fit_within(where, SAFE.width - 1.0, None)
            body = VGroup(what, where).arrange(DOWN, buff=BUFF.SMALL, aligned_edge=LEFT)
            items.add(VGroup(num, body).arrange(RIGHT, buff=BUFF.MEDIUM, aligned_edge=UP))
        items.arrange(DOWN, buff=BUFF.MEDIUM, aligned_edge=LEFT)
        whole = VGroup(title, items).arrange(DOWN, buff=BUFF.MEDIUM, aligned_edge=LEFT)
        fit_within(whole, SAFE.width, SAFE.height)
        whole.move_to([SAFE.left + whole.width / 2, 0, 0])
        issues = re.findall(r"#(\d+)", p[0].where)
        mult = re.search(r"% (\d+)", p[1].what).group(1)
        version = re.search(r"since (\d+\.\d+)", p[3].what).group(1)
        lines = [
            f"Four pitfalls to know. The Triton tutorial's backward ignored the causal flag: issues "
            f"{spoken(int(issues[0]), 0)} and {spoken(int(issues[1]), 0)}.",
            f"Its backward also assumes the sequence length is a multiple of {spoken(int(mult), 0)}.",
            "Block pointers were removed from the tutorial on Triton's main branch: pin the Triton version.",
            "And the flash-attn library aligns its causal mask bottom right since version "
            f"{spoken(float(version), 1)}, while PyTorch's is causal flag aligns it top left.",
        ]
        for k, text in enumerate(lines):
            with self.narrate(text) as t:
                if k == 0:
                    self.play(FadeIn(title), run_time=0.15 * t.duration)
                dim = [items[j].animate.set_opacity(0.45) for j in range(k)]
                self.play(FadeIn(items[k], shift=RIGHT * 0.2), *dim, run_time=0.3 * t.duration)
                self.wait_for(t)
        self.wait(0.5)
