"""L01.2 Evolution: FFN → RNN → LSTM → Attention. A real RNN reads the sentence token by token, the
seq2seq bottleneck squeezes a short and a long sentence into the same four numbers, and Bahdanau's
additive attention scores every encoder state, softmaxes the scores and mixes the states.

    manim -pql scenes/l01_fundamentals/l01_evolution.py Evolution

Numbers: ``data.rnn_states()``, ``data.seq2seq_bottleneck()``, ``data.bahdanau_alignment()``,
``data.path_lengths()``; formulas: ``rnn_update``, ``bahdanau_score``, ``bahdanau_context``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from manim import (DOWN, LEFT, RIGHT, UP, Arrow, Create, FadeIn, FadeOut, GrowArrow, Indicate, LaggedStart,
                   Mobject, ReplacementTransform, ShowPassingFlash, SurroundingRectangle, TransformFromCopy, VGroup,
                   Write)

from scenes.kit.equations import equation
from scenes.kit.format import quoted, spoken, subscript
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import CitationLine, MatrixGrid, TokenRow, VectorColumn, fit_within, label, number
from scenes.kit.mobjects.networks import RecurrentChain, arc_over
from scenes.kit.references import BAHDANAU, SUTSKEVER
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l01_fundamentals.data import bahdanau_alignment, path_lengths, rnn_states, seq2seq_bottleneck

# layout -------------------------------------------------------------------------------------------------
EQ_Y = 3.05
TANH_RANGE = (-1.0, 1.0)  # heat-map range of hidden states (tanh outputs)
STRIP_CELL = 0.38  # one hidden-state number as a heat cell in the bottleneck picture
ENC_X0, ENC_DX, ENC_Y = -5.35, 1.72, -0.2  # Bahdanau: encoder state columns
S_X, C_X = 3.45, 5.8  # decoder state and context columns
E_Y, A_Y = -2.4, -2.95  # rows of scores and weights
OUT_X = 5.5  # the bottleneck vectors
ROW_Y = (1.75, -1.45)  # the short and the long sentence


class EncodedRow(NamedTuple):
    """One sentence of the bottleneck picture."""
    tokens: TokenRow
    strips: VGroup  # the hidden state after each token, as a heat strip
    info: Mobject  # "n tokens · m numbers in"
    out: VectorColumn  # the last state, the only one handed to the decoder
    out_info: Mobject
    arrow: Arrow


class Evolution(LectureScene):
    def construct(self):
        self.topic("L01.2", "Evolution: FFN \u2192 RNN \u2192 LSTM \u2192 Attention")
        self.recurrence()
        self.bottleneck()
        self.alignment()
        self.context()

    # -- 1. a real RNN reads the sentence -------------------------------------------------------------
    def recurrence(self):
        r = rnn_states()
        n, width = len(r.tokens), len(r.states[0])
        eq = equation("rnn_update").move_to([0, EQ_Y, 0])
        chain = RecurrentChain(r.tokens, cell_text="RNN", cell_width=1.3, cell_height=0.75, gap=1.2,
                               font_size=SIZES.LABEL, token_size=SIZES.BODY)
        chain.move_to([0, -1.7, 0])
        states = VGroup()
        ups = VGroup()
        for t in range(n):
            col = VectorColumn(r.states[t], label_text=subscript("h", t + 1), role="K")
            col.next_to(chain.cells[t], UP, buff=0.55)
            states.add(col)
            ups.add(Arrow(chain.cells[t].get_top(), col.brackets.get_bottom(), buff=0.06, stroke_width=3,
                          color=COLORS.MUTED, tip_length=0.14, max_tip_length_to_length_ratio=0.4))
        same = label("the same cell, with the same W, U and b, at every step", size=SIZES.SMALL,
                     color=COLORS.MUTED).next_to(chain, DOWN, buff=BUFF.MEDIUM)

        with self.narrate(
            "To see what attention replaced, open up a recurrent network. It keeps a hidden state, h, and "
            "updates it with one rule: the new state is the tanh of W times the old state, plus U times the "
            "current input, plus a bias b. One small cell, reused at every step, is the whole network."
        ) as t:
            self.play(Write(eq), run_time=0.3 * t.duration)
            self.play(FadeIn(chain, lag_ratio=0.05), run_time=0.25 * t.duration)
            self.play(FadeIn(same, shift=UP * 0.1), Indicate(chain.cell_labels, color=COLORS.ACCENT),
                      run_time=0.2 * t.duration)
            self.wait_for(t)

        marks = [f"<bookmark mark='t{k}'/>" for k in range(n)]
        tok = [quoted(w) for w in r.tokens]
        with self.narrate(
            f"Here is a real one, with {width} numbers of hidden state, reading our sentence from "
            f"zeros. {marks[0]}After {tok[0]}, it holds these {width} numbers. {marks[1]}After "
            f"{tok[1]}, the cell mixes the old state with the new word, and every number changes. "
            f"{marks[2]}Then {tok[2]}, {marks[3]}then {tok[3]}, {marks[4]}and finally {tok[4]}."
        ) as t:
            self.play(FadeOut(same), run_time=0.3)
            for k in range(n):
                self.wait_until_bookmark(f"t{k}")
                ring = chain.tokens.highlight(k)
                anims = [Create(ring), Indicate(chain.cells[k], color=COLORS.K, scale_factor=1.08)]
                if k:
                    anims.append(ShowPassingFlash(chain.links[k - 1].copy().set_stroke(COLORS.K, 6), time_width=1.0))
                    anims.append(states[k - 1].animate.set_opacity(0.45))
                self.play(*anims, run_time=0.4)
                self.play(Create(ups[k]), FadeIn(states[k], shift=UP * 0.3, scale=0.7), FadeOut(ring), run_time=0.5)
            self.wait_for(t)

        steps = path_lengths().rnn[n - 1][0]
        with self.narrate(
            f"Notice what happened to {tok[0]}: it was never stored on its own. By the last step it survives "
            f"only as a trace inside these {width} numbers, rewritten {steps} times by the words after it."
        ) as t:
            self.play(states.animate.set_opacity(0.35), run_time=0.15 * t.duration)
            self.play(states[0].animate.set_opacity(1), Indicate(chain.tokens.items[0], color=COLORS.ACCENT),
                      run_time=0.2 * t.duration)
            self.play(states[0].animate.set_opacity(0.35), states[-1].animate.set_opacity(1),
                      Create(SurroundingRectangle(states[-1], color=COLORS.ACCENT, buff=0.12)),
                      run_time=0.25 * t.duration)
            self.wait_for(t)
        self.play(*(FadeOut(m) for m in self.mobjects), run_time=0.8)

    # -- 2. the seq2seq bottleneck ------------------------------------------------------------------------
    def bottleneck_row(self, b, k: int, y: float):
        """Sentence ``k`` of the bottleneck data: tokens, a heat strip of each hidden state, the last one out."""
        tokens = TokenRow(b.sentences[k], font_size=SIZES.LABEL)
        strips = VGroup(*(MatrixGrid(np.array(h)[:, None], heat=True, show_numbers=False, vmin=TANH_RANGE[0],
                                     vmax=TANH_RANGE[1], cell_size=STRIP_CELL) for h in b.states[k]))
        for s, box in zip(strips, tokens.boxes):
            s.next_to(box, UP, buff=BUFF.SMALL)
        row = VGroup(strips, tokens).move_to([0, y, 0])
        row.shift(RIGHT * (SAFE.left + 0.3 - row.get_left()[0]))
        info = label(f"{b.lengths[k]} tokens \u00b7 {b.input_numbers[k]} numbers in", size=SIZES.SMALL,
                     color=COLORS.MUTED).next_to(tokens, DOWN, buff=BUFF.SMALL).align_to(tokens, LEFT)
        out = VectorColumn(b.final_states[k], label_text=subscript("h", b.lengths[k]), role="K")
        out.move_to([OUT_X, strips.get_y(), 0])
        out_info = label(f"{b.state_size} numbers out", size=SIZES.SMALL, color=COLORS.K)
        out_info.next_to(out, DOWN, buff=BUFF.SMALL)
        arrow = Arrow(strips[-1].get_right(), out.brackets.get_left(), buff=0.15, stroke_width=4,
                      color=COLORS.ACCENT, tip_length=0.2)
        return EncodedRow(tokens, strips, info, out, out_info, arrow)

    def encode(self, row: EncodedRow, lag_ratio: float, *also):
        """The encoder reads a sentence: its tokens, then a hidden-state strip per token (with ``also``)."""
        self.play(FadeIn(row.tokens), FadeIn(row.info), run_time=0.6)
        self.play(LaggedStart(*(FadeIn(s, shift=UP * 0.15) for s in row.strips), lag_ratio=lag_ratio), *also,
                  run_time=1.2)

    def hand_over(self, row: EncodedRow):
        """Only the last state leaves the encoder; the others dim."""
        self.play(GrowArrow(row.arrow), TransformFromCopy(row.strips[-1], row.out), run_time=0.9)
        self.play(FadeIn(row.out_info), VGroup(*row.strips[:-1]).animate.set_opacity(0.3), run_time=0.6)

    def bottleneck(self):
        b = seq2seq_bottleneck()
        rows = [self.bottleneck_row(b, k, y) for k, y in enumerate(ROW_Y)]
        cite = CitationLine(SUTSKEVER)
        short, long = rows
        strips_name = label("hidden state after each token", size=SIZES.SMALL, color=COLORS.MUTED)
        strips_name.next_to(short.strips, UP, buff=BUFF.SMALL).align_to(short.tokens, LEFT)
        with self.narrate(
            "Sequence-to-sequence translation used this last state as the summary of the whole source "
            f"sentence. <bookmark mark='short'/>Here is our sentence: {b.lengths[0]} tokens, "
            f"{b.input_numbers[0]} numbers going in. The encoder computes a state for every token, "
            f"<bookmark mark='out0'/>but only the last one, these {b.state_size} numbers, reaches the decoder."
        ) as t:
            self.play(FadeIn(cite), run_time=0.5)
            self.wait_until_bookmark("short")
            self.encode(short, 0.3, FadeIn(strips_name))
            self.wait_until_bookmark("out0")
            self.hand_over(short)
            self.wait_for(t)
        with self.narrate(
            f"<bookmark mark='long'/>A longer sentence: {b.lengths[1]} tokens and {b.input_numbers[1]} numbers "
            f"in. <bookmark mark='out1'/>Again, only {b.state_size} numbers out. Every word, its order and its "
            "meaning must fit in the same small vector."
        ) as t:
            self.encode(long, 0.2)
            self.wait_until_bookmark("out1")
            self.hand_over(long)
            self.play(Indicate(VGroup(short.out.brackets, long.out.brackets), color=COLORS.ACCENT), run_time=0.8)
            self.wait_for(t)
        with self.narrate(
            "Bahdanau and colleagues measured the consequence: translations from this fixed-vector model got "
            "worse as sentences grew longer."
        ) as t:
            self.play(ReplacementTransform(cite, CitationLine(BAHDANAU)), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.play(*(FadeOut(m) for m in self.mobjects), run_time=0.8)

    # -- 3. Bahdanau's soft alignment --------------------------------------------------------------------
    def encoder_states(self, a) -> tuple[VGroup, TokenRow, VectorColumn, VectorColumn]:
        """The encoder state columns h₁…hₙ over their tokens; the decoder state s and the context c beside."""
        hs = VGroup(*(VectorColumn(a.encoder_states[j], label_text=subscript("h", j + 1), role="K")
                      .move_to([ENC_X0 + j * ENC_DX, ENC_Y, 0]) for j in range(len(a.tokens))))
        tokens = TokenRow(a.tokens, font_size=SIZES.LABEL)
        for item, h in zip(tokens.items, hs):
            item.set_x(h.get_x())
        tokens.set_y(hs.get_bottom()[1] - 0.45)
        s = VectorColumn(a.decoder_state, label_text="s", role="Q").move_to([S_X, ENC_Y, 0])
        s.align_to(hs[0].brackets, DOWN)
        c = VectorColumn(a.context, label_text="c", role="OUTPUT").move_to([C_X, ENC_Y, 0])
        c.align_to(hs[0].brackets, DOWN)
        return hs, tokens, s, c

    def score_arcs(self, a, s: VectorColumn, hs: VGroup) -> tuple[VGroup, VGroup]:
        """Grey arcs from s to every encoder state, and the same arcs drawn as wide as their weights."""
        start = s.label.get_top() + UP * 0.08
        hs_top = max(h.get_top()[1] for h in hs)
        arcs = VGroup()
        for h in hs:
            end = np.array([h.get_x(), hs_top + 0.08, 0])
            arcs.add(arc_over(start, end, 0.3 + 0.11 * abs(start[0] - end[0])).set_stroke(COLORS.GRID, 2))
        weighted = VGroup(*(arc.copy().set_stroke(COLORS.WEIGHT, max(1.5, 14 * w), opacity=0.3 + 0.7 * w)
                            for arc, w in zip(arcs, a.weights)))
        return arcs, weighted

    def score_rows(self, a, hs: VGroup) -> tuple[VGroup, VGroup, VGroup]:
        """The scores e and the weights α in two rows under the states, named on the left; the softmax tag."""
        e_nums = VGroup(*(number(v, 2, SIZES.NUMBER, COLORS.SCORE).move_to([h.get_x(), E_Y, 0])
                          for v, h in zip(a.scores, hs)))
        a_nums = VGroup(*(number(v, 2, SIZES.NUMBER, COLORS.WEIGHT).move_to([h.get_x(), A_Y, 0])
                          for v, h in zip(a.weights_shown, hs)))
        e_label = label("e", size=SIZES.BODY, color=COLORS.SCORE).next_to(e_nums[0], LEFT, buff=BUFF.MEDIUM)
        a_label = label("\u03b1", size=SIZES.BODY, color=COLORS.WEIGHT)
        a_label.next_to(a_nums[0], LEFT, buff=BUFF.MEDIUM).align_to(e_label, RIGHT)
        softmax_tag = label("softmax", size=SIZES.SMALL, color=COLORS.MUTED)
        softmax_tag.next_to(VGroup(e_nums[-1], a_nums[-1]), RIGHT, buff=BUFF.MEDIUM)
        return VGroup(e_label, e_nums), VGroup(a_label, a_nums), softmax_tag

    def alignment(self):
        a = bahdanau_alignment()
        n = len(a.tokens)
        cite = CitationLine(BAHDANAU)
        score_eq = equation("bahdanau_score", font_size=SIZES.EQUATION - 8)
        context_eq = equation("bahdanau_context", font_size=SIZES.EQUATION - 8)
        eqs = VGroup(score_eq, context_eq).arrange(RIGHT, buff=1.2).move_to([0, EQ_Y - 0.05, 0])
        fit_within(eqs, SAFE.width, None)
        hs, tokens, s, c = self.encoder_states(a)
        s_name = label("decoder state", size=SIZES.SMALL, color=COLORS.Q).next_to(s, DOWN, buff=BUFF.SMALL)
        arcs, weighted = self.score_arcs(a, s, hs)
        (e_label, e_nums), (a_label, a_nums), softmax_tag = self.score_rows(a, hs)
        top = int(np.argmax(a.weights_shown))
        second = int(np.argsort(a.weights_shown)[-2])
        tok = [quoted(w) for w in a.tokens]
        with self.narrate(
            "Bahdanau's fix: keep every encoder state, and let the decoder choose. Here are the "
            f"{n} encoder states of our sentence, and the decoder's current state, s."
        ) as t:
            self.play(FadeIn(cite), FadeIn(tokens), LaggedStart(*(FadeIn(h, shift=UP * 0.15) for h in hs),
                                                                lag_ratio=0.15), run_time=0.45 * t.duration)
            self.play(FadeIn(s, shift=LEFT * 0.2), FadeIn(s_name), run_time=0.25 * t.duration)
            self.wait_for(t)
        with self.narrate(
            "The decoder scores each encoder state with a small network: v transpose, times the tanh of W s "
            "plus U h j. <bookmark mark='scores'/>These are its scores for our sentence."
        ) as t:
            self.play(Write(score_eq), run_time=0.3 * t.duration)
            self.play(LaggedStart(*(Create(arc) for arc in arcs), lag_ratio=0.15), run_time=0.2 * t.duration)
            self.wait_until_bookmark("scores")
            self.play(FadeIn(e_label), LaggedStart(*(FadeIn(e, shift=DOWN * 0.1) for e in e_nums), lag_ratio=0.3),
                      run_time=0.8 * self.remaining(t))
            self.wait_for(t)
        with self.narrate(
            "A softmax turns the scores into weights that add up to one: "
            f"{spoken(a.weights_shown[top])} on {tok[top]}, {spoken(a.weights_shown[second])} on {tok[second]}, "
            "and less on the rest. The width of each arc is now its weight."
        ) as t:
            self.play(FadeIn(softmax_tag), FadeIn(a_label),
                      *(TransformFromCopy(e, w) for e, w in zip(e_nums, a_nums)), run_time=0.3 * t.duration)
            self.play(*(ReplacementTransform(arc, w) for arc, w in zip(arcs, weighted)),
                      Indicate(a_nums[top], color=COLORS.WEIGHT), run_time=0.35 * t.duration)
            self.wait_for(t)
        self.aligned = a, hs, c, context_eq, VGroup(weighted, a_nums)

    def context(self):
        a, hs, c, context_eq, weights = self.aligned
        top = int(np.argmax(a.weights_shown))
        c_name = label("context", size=SIZES.SMALL, color=COLORS.OUTPUT).next_to(c, DOWN, buff=BUFF.SMALL)
        pieces = VGroup(*(VGroup(h.brackets, h.entries).copy().set_opacity(max(0.15, float(w)))  # labels stay
                          for h, w in zip(hs, a.weights)))
        with self.narrate(
            "The context vector is the weighted sum of the encoder states: mostly "
            f"{quoted(a.tokens[top])}, a little of everything else. The decoder reads it, writes one word, and "
            "at the next step looks again."
        ) as t:
            self.play(Write(context_eq), run_time=0.25 * t.duration)
            self.play(LaggedStart(*(p.animate.move_to(c).scale(0.6).set_opacity(0) for p in pieces),  # into c
                                  lag_ratio=0.2), run_time=0.3 * t.duration)
            self.play(ReplacementTransform(pieces, c), FadeIn(c_name), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate(
            "These weights come from a small untrained model, so don't read meaning into which word wins. What "
            "matters is the mechanism: a soft, learned, differentiable lookup over every position."
        ) as t:
            self.play(Indicate(weights, color=COLORS.ACCENT, scale_factor=1.03), run_time=0.35 * t.duration)
            self.wait_for(t)
        with self.narrate(
            "But the encoder that produced these states is still a recurrent network, reading one word after "
            "another. Next, we measure what that costs."
        ) as t:
            self.play(LaggedStart(*(Indicate(h.brackets, color=COLORS.ACCENT) for h in hs), lag_ratio=0.4),
                      run_time=0.5 * t.duration)
            self.wait_for(t)
