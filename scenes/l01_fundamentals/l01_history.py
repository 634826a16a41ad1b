"""L01.1 Brief historical context: why attention matters, the road FFN → RNN → LSTM → seq2seq →
Bahdanau → Luong → Transformer (what each fixed, what it left broken), and the lecture's path.

    manim -pql scenes/l01_fundamentals/l01_history.py History

Every year, name, fix and flaw comes from ``data.history()``; the opening arcs are the worked example's
real weights; citations from ``data.references()``. This file holds layout and narration only.
"""
from __future__ import annotations

import numpy as np
from manim import (DOWN, LEFT, RIGHT, UP, Create, FadeIn, FadeOut, Indicate, LaggedStart,
                   ReplacementTransform, ShowPassingFlash, SurroundingRectangle, VGroup, Wiggle, Write)

from scenes.kit.equations import equation
from scenes.kit.format import quoted
from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import ArcDiagram, CitationLine, fit_within, label
from scenes.kit.mobjects.text import set_on_line
from scenes.kit.mobjects.networks import AllToAll, EncoderDecoder, LayeredNet, RecurrentChain
from scenes.kit.mobjects.timeline import Timeline
from scenes.kit.references import CHO
from scenes.kit.theme import BUFF, COLORS, SAFE, SIZES
from scenes.l01_fundamentals.data import QUERY_TOKEN, SENTENCE, history, references, timeline_facts, worked_example

# layout ----------------------------------------------------------------------------------------------
TAGS = ("FFN", "RNN", "LSTM", "seq2seq", "Bahdanau", "Luong", "Transformer")  # short names on the timeline
TARGET = ("le", "chat", "\u2026")  # the decoder's first outputs in the diagrams (French, then more)
TIMELINE_Y = 2.75
STAGE_CENTER = np.array([0.0, 0.2, 0.0])
STAGE_W, STAGE_H = 12.6, 3.1
FIXED_Y, BROKEN_Y = -2.05, -2.6
FIX_MARK, BROKEN_MARK = "\u2713", "\u2717"  # ✓ ✗
MARK_COLUMN = 0.6  # width of the ✓/✗ column
FIX_COLOR, BROKEN_COLOR = COLORS.head(2), COLORS.head(7)  # green, red
CHAIN = dict(cell_width=1.35, cell_height=0.75, gap=0.8, font_size=SIZES.LABEL, token_size=SIZES.BODY)
ROADMAP = (("L01.2", "RNNs"), ("L01.3", "paths"), ("L01.4", "Q, K, V"), ("L01.5", "dot product"),
           ("L01.6", "softmax"), ("L01.7", "example"), ("L01.8", "patterns"), ("L01.9", "masking"))


def eq_parts(eq, tex: str) -> VGroup:
    """Every isolated occurrence of ``tex`` in a registry equation (for highlighting)."""
    return VGroup(*(eq.id_to_vgroup_dict[i] for s, i in eq.matched_strings_and_ids if s == tex))


class History(LectureScene):
    def construct(self):
        self.topic("L01.1", "Brief historical context")
        self.opening()
        self.road()
        self.preview()

    # -- helpers -------------------------------------------------------------------------------------
    def stage(self, mob, width: float = STAGE_W, height: float = STAGE_H):
        """Fit ``mob`` in the middle band (between the timeline and the fix/flaw lines)."""
        fit_within(mob, width, height)
        return mob.move_to(STAGE_CENTER)

    def verdicts(self, m) -> tuple[VGroup, VGroup]:
        """The fix (✓) and the flaw (✗) of milestone ``m``: marks in one column, texts on one left edge,
        the pair centred."""
        rows = []
        for mark, text, color, y in ((FIX_MARK, m.fixed, FIX_COLOR, FIXED_Y),
                                     (BROKEN_MARK, m.left_broken, BROKEN_COLOR, BROKEN_Y)):
            sign = label(mark, size=SIZES.BODY, color=color, weight="BOLD")
            words = label(text, size=SIZES.LABEL, color=COLORS.TEXT)
            fit_within(words, SAFE.width - MARK_COLUMN - 0.4, None)
            set_on_line(words, y)
            sign.move_to([0, words.get_y(), 0])
            rows.append((sign, words))
        width = MARK_COLUMN + max(w.width for _, w in rows)
        left = -width / 2
        for sign, words in rows:
            sign.set_x(left + MARK_COLUMN / 2 - 0.1)
            words.set_x(left + MARK_COLUMN, direction=LEFT)
        return VGroup(*rows[0]), VGroup(*rows[1])

    def citations(self, refs) -> VGroup:
        """One CitationLine per paper, stacked upwards from the bottom left, all at the same text size."""
        lines = [CitationLine(r) for r in refs]
        natural = [label(line.text.original_text, size=SIZES.CAPTION).width for line in lines]
        scale = min(line.width / w for line, w in zip(lines, natural))
        for line, w in zip(lines, natural):  # CitationLine shrinks only what is too wide: match the smallest
            line.scale(scale * w / line.width, about_edge=DOWN + LEFT)
        for k, line in enumerate(lines[1:], start=1):  # later ones stack upwards
            line.next_to(lines[k - 1], UP, buff=BUFF.TIGHT, aligned_edge=LEFT)
        return VGroup(*lines)

    # -- 1. why attention matters --------------------------------------------------------------------
    def opening(self):
        ex = worked_example()
        q = ex.tokens.index(QUERY_TOKEN)
        arcs = ArcDiagram(ex.tokens, ex.weights, query=q, font_size=SIZES.BODY, token_buff=0.5, max_width=26)
        arcs.scale(1.3)
        weights = VGroup(*(label(f"{w:.2f}", size=SIZES.LABEL, color=COLORS.WEIGHT, mono=True)
                           .next_to(box, DOWN, buff=BUFF.MEDIUM)
                           for w, box in zip(ex.weights_shown[q], arcs.tokens.boxes)))
        caption = label(f"how much {quoted(QUERY_TOKEN)} attends to each word", size=SIZES.SMALL,
                        color=COLORS.MUTED).next_to(weights, DOWN, buff=BUFF.MEDIUM)
        VGroup(arcs, weights, caption).move_to([0, 0.1, 0])
        with self.narrate(
            "Every large language model is built around one operation: attention. Here it is at work on a "
            f"tiny sentence. The word {QUERY_TOKEN} looks back at every word, and the width of each arc is a "
            "real attention weight, computed by the code behind this course."
        ) as t:
            self.play(FadeIn(arcs.tokens, shift=UP * 0.2), run_time=0.25 * t.duration)
            self.play(LaggedStart(*(Create(a) for a in arcs.arc_group), lag_ratio=0.25),
                      FadeIn(weights, lag_ratio=0.2), run_time=0.35 * t.duration)
            self.play(FadeIn(caption), run_time=0.1 * t.duration)
            self.wait_for(t)

        sdpa = equation("sdpa").move_to([0, -2.6, 0])
        with self.narrate(
            "Every one of those numbers comes from this single line: softmax of Q Kᵀ over √d_k, times V. "
            "By the end of this lecture you will compute each of them by hand."
        ) as t:
            self.play(FadeOut(caption), VGroup(arcs, weights).animate.move_to([0, 1.3, 0]),
                      run_time=0.15 * t.duration)
            self.play(Write(sdpa), run_time=0.5 * t.duration)
            self.wait_for(t)
        facts = timeline_facts()
        with self.narrate(
            "The line looks almost obvious. But it took the field "
            f"{facts.span_years} years to arrive at it, and each step fixed one problem and exposed the "
            "next."
        ) as t:
            self.play(FadeOut(VGroup(arcs, weights)), sdpa.animate.move_to([0, 0.3, 0]).scale(1.2),
                      run_time=0.3 * t.duration)
            self.wait_for(t)
        self.sdpa = sdpa

    # -- 2. the road -------------------------------------------------------------------------------------
    def road(self):
        h = history()
        facts = timeline_facts()
        refs = {(r.authors, r.year): r for r in references()}
        timeline = Timeline([(str(m.year), tag) for m, tag in zip(h, TAGS)],
                            dashed_after=(facts.longest_gap_after,)).move_to([0, TIMELINE_Y, 0])
        self.timeline = timeline
        with self.narrate(
            f"Here is the road, from {facts.first_year} to {facts.last_year}, in {len(h)} stops. At each one "
            "we ask: what did it fix, and what did it leave broken?"
        ) as t:
            self.play(self.sdpa.animate.scale(0.8).move_to(STAGE_CENTER), run_time=0.15 * t.duration)
            self.play(Create(timeline.segments), LaggedStart(*(FadeIn(it) for it in timeline.items), lag_ratio=0.15),
                      run_time=0.55 * t.duration)
            self.wait_for(t)

        self.current = self.sdpa  # the pictogram on the stage (the destination, until the first stop)
        self.lines = VGroup()  # the fix / flaw lines and citation(s)
        steps = (self.step_ffn, self.step_rnn, self.step_lstm, self.step_seq2seq, self.step_bahdanau,
                 self.step_luong, self.step_transformer)
        for k, (m, step) in enumerate(zip(h, steps)):
            extra = (CHO,) if TAGS[k] == "seq2seq" else ()  # the encoder–decoder had two papers
            step(m, self.citations([refs[(m.authors, m.year)], *extra]))

    def enter(self, m, pictogram, cites, t, intro=None):
        """Move the timeline on to milestone ``m``'s stop; swap the old pictogram (or play ``intro``), the lines
        and citations. Returns the stop's pulse, to play with the new pictogram's first animation."""
        self.fixed, self.flawed = self.verdicts(m)
        anims = [*self.timeline.step_next(), FadeIn(cites)]
        if len(self.lines):
            anims.append(FadeOut(self.lines))
        if intro is not None:
            anims.append(intro)
        elif len(self.current):
            anims.append(FadeOut(self.current))
        self.play(*anims, run_time=0.08 * t.duration)
        self.lines = VGroup(cites, self.fixed)
        self.current = pictogram
        return self.timeline.pulse()

    def fix(self) -> FadeIn:
        """The fix line of the current milestone appears."""
        return FadeIn(self.fixed, shift=UP * 0.1)

    def flaw(self) -> FadeIn:
        """The flaw line appears (when the narration turns to what was left broken)."""
        self.lines.add(self.flawed)
        return FadeIn(self.flawed, shift=UP * 0.1)

    # -- the seven stops -------------------------------------------------------------------------------
    def step_ffn(self, m, cites):
        net = self.stage(LayeredNet([4, 5, 5, 3], unit_radius=0.17, layer_gap=1.9, unit_gap=0.6), height=2.9)
        with self.narrate(
            f"We start in {m.year}, when Rumelhart, Hinton and Williams showed that back-propagation lets a "
            "network of simple units learn its own features. A feed-forward network "
            "maps a fixed-size input to an output, layer after layer."
        ) as t:
            ping = self.enter(m, net, cites, t)
            self.play(ping, Create(net.edges, lag_ratio=0.01), FadeIn(net.layers), run_time=0.25 * t.duration)
            self.play(self.fix(), run_time=0.1 * t.duration)
            flashes = [ShowPassingFlash(e.copy().set_stroke(COLORS.ACCENT, 3), time_width=0.6) for e in net.edges]
            self.play(LaggedStart(*flashes, lag_ratio=0.7), run_time=0.3 * t.duration)
            self.wait_for(t)
        with self.narrate(
            "But it has no notion of order and no memory: a sentence is not a fixed-size input, and the "
            "network forgets the word it saw a moment ago."
        ) as t:
            self.play(self.flaw(), Indicate(net.layers[0], color=COLORS.ACCENT),
                      run_time=0.3 * t.duration)
            self.wait_for(t)

    def step_rnn(self, m, cites):
        chain = self.stage(RecurrentChain(SENTENCE, cell_text="RNN", **CHAIN), height=2.7)
        with self.narrate(
            f"In {m.year}, Jeffrey Elman gave the network a memory. A recurrent network reads one token at a "
            "time and hands a hidden state from each step to the next, so the same small cell, reused, can "
            "read a sequence of any length."
        ) as t:
            ping = self.enter(m, chain, cites, t)
            self.play(ping, FadeIn(chain.tokens), run_time=0.1 * t.duration)
            for c in range(len(chain)):  # the cell reads token c, then hands its state on
                anims = [FadeIn(chain.cells[c]), FadeIn(chain.cell_labels[c]), Create(chain.feeds[c])]
                if c:
                    anims.append(Create(chain.links[c - 1]))
                self.play(*anims, run_time=0.07 * t.duration)
            self.play(self.fix(), run_time=0.1 * t.duration)
            self.wait_for(t)
        with self.narrate(
            "The price is paid in training. For the first word to matter to the last, the gradient must "
            "travel back through every step, multiplied again at each one, so over long distances it "
            "vanishes or explodes. And the steps run one after another, never in parallel."
        ) as t:
            self.play(self.flaw(), run_time=0.15 * t.duration)
            back = [ShowPassingFlash(link.copy().rotate(np.pi).set_stroke(BROKEN_COLOR, 6), time_width=1.0)
                    for link in reversed(chain.links)]
            self.play(LaggedStart(*back, lag_ratio=1.0), run_time=0.4 * t.duration)
            self.wait_for(t)
        self.chain = chain

    def step_lstm(self, m, cites):
        lstm = self.stage(RecurrentChain(SENTENCE, cell_text="LSTM", highway=True, **CHAIN),
                          height=2.9)
        with self.narrate(
            f"In {m.year}, Hochreiter and Schmidhuber added gates. The Long Short-Term Memory keeps a separate "
            "memory cell, drawn here along the top, that information can ride with little change, "
            "and learned gates decide what to write, keep and forget. That carries signals, "
            "and gradients, much further."
        ) as t:
            ping = self.enter(m, lstm, cites, t, intro=ReplacementTransform(self.chain, lstm))
            self.play(ping, Create(lstm.highway), run_time=0.15 * t.duration)
            self.play(ShowPassingFlash(lstm.highway.copy().set_stroke(COLORS.TEXT, 8), time_width=0.5),
                      self.fix(), run_time=0.2 * t.duration)
            self.wait_for(t)
        with self.narrate(
            "But the LSTM is still sequential. For one word to reach a word far away, the signal still has "
            "to pass through every step in between, one at a time."
        ) as t:
            self.play(self.flaw(), run_time=0.15 * t.duration)
            hops = [ShowPassingFlash(link.copy().set_stroke(COLORS.ACCENT, 6), time_width=1.0) for link in lstm.links]
            self.play(LaggedStart(*hops, lag_ratio=1.0), run_time=0.45 * t.duration)
            self.wait_for(t)

    def step_seq2seq(self, m, cites):
        facts = timeline_facts()
        ed = self.stage(EncoderDecoder(SENTENCE, TARGET, mode="bottleneck"), height=3.2)
        with self.narrate(
            f"{facts.longest_gap} years later, in {m.year}, Sutskever, Vinyals and Le used two LSTMs for "
            "translation: an encoder reads the source sentence, and a decoder writes the translation, word by "
            "word. Cho and colleagues proposed the same design that year. Now a sequence of any length could "
            "be mapped to another of any length."
        ) as t:
            ping = self.enter(m, ed, cites, t)
            self.play(ping, FadeIn(ed.encoder), run_time=0.15 * t.duration)
            self.play(FadeIn(ed.bridge), FadeIn(ed.bottleneck), run_time=0.1 * t.duration)
            self.play(FadeIn(ed.decoder), run_time=0.15 * t.duration)
            self.play(self.fix(), run_time=0.1 * t.duration)
            self.wait_for(t)
        with self.narrate(
            "But look at the middle. Everything the decoder knows about the source must pass through one "
            "fixed-size vector, the encoder's last state, whether the sentence is short or long."
        ) as t:
            box = ed.bottleneck[0]
            self.play(self.flaw(), run_time=0.15 * t.duration)
            self.play(Indicate(box, scale_factor=1.8, color=COLORS.ACCENT), run_time=0.3 * t.duration)
            self.play(Wiggle(box, scale_value=1.3), run_time=0.25 * t.duration)
            self.wait_for(t)
        self.ed = ed

    def step_bahdanau(self, m, cites):
        ed = EncoderDecoder(SENTENCE, TARGET, mode="attention")
        lines = ed.attention_lines(1)
        score = equation("bahdanau_score", font_size=SIZES.EQUATION - 8)
        diagram = VGroup(ed, lines)
        fit_within(diagram, 7.4, STAGE_H)
        group = VGroup(diagram, score).arrange(RIGHT, buff=BUFF.LARGE)
        self.stage(group)
        with self.narrate(
            f"Later in {m.year}, Bahdanau, Cho and Bengio removed the bottleneck. At every output step, the "
            "decoder looks back at all the encoder states, scores each one with a small neural network, turns "
            "the scores into weights with a softmax, and reads a weighted mix of them. The decoder learns "
            "where to look. That is attention."
        ) as t:
            ping = self.enter(m, group, cites, t, intro=ReplacementTransform(self.ed, ed))
            self.play(ping, LaggedStart(*(Create(ln) for ln in lines), lag_ratio=0.2), run_time=0.2 * t.duration)
            self.play(Write(score), run_time=0.2 * t.duration)
            self.play(self.fix(), run_time=0.1 * t.duration)
            self.wait_for(t)
        with self.narrate(
            "What remained was the recurrence itself. The encoder and the decoder were still recurrent "
            "networks, working through the sentence one step at a time."
        ) as t:
            hops = [ShowPassingFlash(link.copy().set_stroke(COLORS.ACCENT, 6), time_width=1.0)
                    for link in ed.encoder.links]
            self.play(self.flaw(), run_time=0.15 * t.duration)
            self.play(LaggedStart(*hops, lag_ratio=1.0), run_time=0.45 * t.duration)
            self.wait_for(t)
        self.attn = (ed, lines, score)

    def step_luong(self, m, cites):
        ed, lines, score = self.attn
        dot = equation("score_dot", font_size=SIZES.EQUATION - 4).move_to(score)
        with self.narrate(
            f"In {m.year}, Luong, Pham and Manning simplified the score. Instead of a small network, a dot "
            "product between the decoder state and each encoder state is enough, attending either "
            "globally to every position or locally to a window. Dot products are cheap and map straight onto "
            "matrix multiplication: the form the Transformer would adopt."
        ) as t:
            ping = self.enter(m, VGroup(ed, lines, dot), cites, t, intro=FadeOut(score))
            self.play(ping, FadeIn(dot, shift=UP * 0.2), run_time=0.2 * t.duration)
            self.play(self.fix(), run_time=0.1 * t.duration)
            self.wait_for(t)
        with self.narrate(
            "Still, attention was an add-on, bolted onto a recurrent network."
        ) as t:
            self.play(self.flaw(),
                      Indicate(VGroup(ed.encoder.links, ed.decoder.links), color=COLORS.ACCENT),
                      run_time=0.5 * t.duration)
            self.wait_for(t)

    def step_transformer(self, m, cites):
        allx = self.stage(AllToAll(SENTENCE, font_size=SIZES.BODY, token_buff=0.6), height=2.6)
        with self.narrate(
            f"Then, in {m.year}, Vaswani and colleagues asked: what if attention is all you need? The "
            "Transformer drops recurrence entirely. Every token attends to every other token directly, so any "
            "two positions are one step apart, and all positions are computed at once, in parallel, on "
            "hardware built for matrix multiplication."
        ) as t:
            ping = self.enter(m, allx, cites, t)
            self.play(ping, FadeIn(allx.tokens, shift=UP * 0.2), run_time=0.12 * t.duration)
            self.play(*(Create(a) for a in allx.arc_group), run_time=0.25 * t.duration)  # all at once
            self.play(self.fix(), run_time=0.1 * t.duration)
            self.wait_for(t)
        with self.narrate(
            "It left one cost, which this course keeps coming back to: comparing every token with every "
            "other grows with the square of the sequence length."
        ) as t:
            self.play(self.flaw(), run_time=0.2 * t.duration)
            self.play(Indicate(allx.arc_group, color=COLORS.ACCENT, scale_factor=1.05), run_time=0.35 * t.duration)
            self.wait_for(t)

    # -- 3. the path of this lecture --------------------------------------------------------------------
    def preview(self):
        sdpa = equation("sdpa", isolate=[r"^{\top}", r"\sqrt{d_{k}}", r"\operatorname{softmax}"])
        sdpa.scale(1.3).move_to([0, 1.2, 0])
        road = Timeline(ROADMAP, top_size=SIZES.SMALL, bottom_size=SIZES.SMALL).move_to([0, -1.9, 0])
        n_tokens = len(SENTENCE)
        parts = {
            "qkv": VGroup(*(eq_parts(sdpa, s)[0] for s in ("Q", "K", "V"))),
            "dot": VGroup(eq_parts(sdpa, "Q")[1], eq_parts(sdpa, "K")[1], eq_parts(sdpa, r"^{\top}")[0]),
            "softmax": VGroup(eq_parts(sdpa, r"\operatorname{softmax}")[0], eq_parts(sdpa, r"\sqrt{d_{k}}")[0]),
        }
        box = SurroundingRectangle(parts["qkv"], color=COLORS.ACCENT, buff=0.1)

        def go(target=None):  # the road map's next stop, and the box onto ``target``
            anims = road.step_next()
            if target is not None:
                anims.append(box.animate.become(SurroundingRectangle(target, color=COLORS.ACCENT, buff=0.1)))
            return anims

        with self.narrate(
            "This lecture takes that one line apart, piece by piece. <bookmark mark='rnn'/>First we watch a "
            "real recurrent network read our sentence, <bookmark mark='paths'/>and measure why direct "
            "connections matter. <bookmark mark='qkv'/>Then we meet queries, keys and values, "
            "<bookmark mark='dot'/>compute their dot products, <bookmark mark='softmax'/>and look inside the "
            "softmax and the scaling by √d_k."
        ) as t:
            self.play(FadeOut(self.current), FadeOut(self.lines), FadeOut(self.timeline),
                      run_time=0.08 * t.duration)
            self.play(Write(sdpa), FadeIn(road), run_time=0.15 * t.duration)
            self.wait_until_bookmark("rnn")
            self.play(*go(), run_time=0.6)
            self.wait_until_bookmark("paths")
            self.play(*go(), run_time=0.6)
            self.wait_until_bookmark("qkv")
            self.play(*go(), Create(box), run_time=0.6)
            self.wait_until_bookmark("dot")
            self.play(*go(parts["dot"]), run_time=0.6)
            self.wait_until_bookmark("softmax")
            self.play(*go(parts["softmax"]), run_time=0.6)
            self.wait_for(t)
        with self.narrate(
            f"We run one complete worked example on our {n_tokens}-token sentence, <bookmark mark='patterns'/>"
            "learn to read attention patterns, <bookmark mark='mask'/>and finish with masking. By the end, you "
            "will know why every piece of this formula is there."
        ) as t:
            self.play(*go(sdpa), run_time=0.6)
            self.wait_until_bookmark("patterns")
            self.play(*go(), FadeOut(box), run_time=0.6)
            self.wait_until_bookmark("mask")
            self.play(*go(), run_time=0.6)
            self.wait_for(t)
