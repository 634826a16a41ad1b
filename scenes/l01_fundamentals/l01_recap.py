"""Lecture 1 recap and references: the key ideas one at a time, the papers (``data.references()``), and a
one-sentence look ahead to Lecture 2 (multi-head attention).

    manim -pql scenes/l01_fundamentals/l01_recap.py Recap
"""
from __future__ import annotations

from manim import DOWN, FadeIn, FadeOut, LaggedStart, Write

from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import RecapCard, ReferencesCard, TitleCard
from scenes.l01_fundamentals.data import references

# (on the card, narrated): the card says it short, the narration says it in full sentences
POINTS = (
    ("Every token reads every other token in one step.",
     "To recap: attention lets every token read every other token directly, in one step, instead of "
     "along a chain."),
    ("Projections give each token a query, a key, a value.",
     "Three learned projections give each token a query, a key and a value."),
    ("Scores are query–key dot products, scaled by 1/√dₖ.",
     "Scores are dot products of queries with keys, divided by the square root of d_k to keep their variance "
     "near one."),
    ("Softmax runs along each row: weights sum to 1.",
     "Softmax runs along each row, so every query's weights add up to one."),
    ("The output is the weighted sum of the values.",
     "The output is the weighted sum of the values."),
    ("Masks turn scores to −∞ and weights to exactly 0.",
     "And masks turn forbidden scores into minus infinity, and their weights into exact zeros: for causality, "
     "for padding, and aligned to the lower right when decoding."),
)
HALF = 4  # references per page: two pages keep the text at SIZES.LABEL


class Recap(LectureScene):
    closing_fade = 1.0

    def construct(self):
        self.recap()
        self.reference_pages()
        self.look_ahead()

    def recap(self):
        self.section("Recap")
        card = RecapCard([p for p, _ in POINTS])
        for k, (_, speech) in enumerate(POINTS):
            with self.narrate(speech) as t:
                if k == 0:
                    self.play(Write(card.heading), run_time=min(1.0, 0.2 * t.duration))
                self.play(FadeIn(card.items[k], shift=DOWN * 0.15), run_time=min(1.2, 0.3 * t.duration))
                self.wait_for(t)
        self.wait(0.5)
        self.play(FadeOut(card), run_time=0.8)

    def reference_pages(self):
        self.section("References")
        refs = references()
        self.pages = [ReferencesCard(refs[:HALF], title="References (1 of 2)"),
                      ReferencesCard(refs[HALF:], title="References (2 of 2)", start=HALF + 1)]
        first, second = self.pages
        with self.narrate(
                "These are the papers behind this lecture, from backpropagation and Elman's recurrent networks "
                "to the LSTM,") as t:
            self.play(FadeIn(first.heading), LaggedStart(*(FadeIn(i) for i in first.items), lag_ratio=0.2),
                      run_time=0.5 * t.duration)
        with self.narrate(
                "then sequence to sequence learning, the attention of Bahdanau and of Luong, and the Transformer "
                "of Vaswani and colleagues.") as t:
            self.play(FadeOut(first), run_time=0.2 * t.duration)
            self.play(FadeIn(second.heading), LaggedStart(*(FadeIn(i) for i in second.items), lag_ratio=0.2),
                      run_time=0.4 * t.duration)
        self.wait(0.6)

    def look_ahead(self):
        teaser = TitleCard(2, "Multi-Head Attention", "Next: many attention patterns at once")
        with self.narrate(
                "In Lecture 2, we run several attention heads side by side, each free to learn its own "
                "pattern: multi-head attention.") as t:
            self.play(FadeOut(self.pages[1]), run_time=0.2 * t.duration)
            self.play(FadeIn(teaser, shift=DOWN * 0.2), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.wait(0.8)
