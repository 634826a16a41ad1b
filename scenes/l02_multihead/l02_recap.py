"""Lecture 2 recap and references: the key ideas one at a time, the papers (``data.references()``), and a
one-sentence look ahead to Lecture 3 (rotary positional embeddings).

    manim -pql scenes/l02_multihead/l02_recap.py Recap
"""
from __future__ import annotations

from manim import DOWN, FadeIn, FadeOut, LaggedStart, Write

from scenes.kit.lecture_scene import LectureScene
from scenes.kit.mobjects import RecapCard, ReferencesCard, TitleCard
from scenes.l02_multihead.data import references

# (on the card, narrated): the card says it short, the narration says it in full sentences
POINTS = (
    ("One head averages: its output stays inside the values' hull.",
     "To recap: one attention head outputs a weighted average of the values, so it can blur two tokens together "
     "but not keep them apart. Several heads can each look somewhere else."),
    ("Every head projects the whole model vector.",
     "Every head's projection reads the whole model vector. What gets split into heads is the projection's "
     "output, not the embedding."),
    ("Split = view to (B, L, H, dₕ), then transpose.",
     "Splitting is a view to batch, length, heads and head dimension, then a transpose that puts heads before "
     "length. Without the transpose, a head mixes different tokens."),
    ("Fixed width: parameters and FLOPs do not depend on H.",
     "At a fixed model width, the parameter count and the attention FLOPs do not depend on the number of heads. "
     "The scale is one over the square root of the head dimension."),
    ("Trained heads specialise: previous-token, induction.",
     "Trained heads specialise, in ways nobody designed: previous-token heads, and induction heads that copy "
     "what followed the last time a token appeared."),
    ("Concat, then Wᴼ = the sum of each head's write.",
     "Concatenating and projecting is the same as adding each head's own write into the residual stream."),
    ("Heads are a batch axis, and split across devices.",
     "And heads are independent, so they run as one batched call, and split across devices with a single "
     "all-reduce."),
)
FIRST_PAGE = 4  # references on the first page: two pages keep the text at SIZES.LABEL


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
        self.pages = [ReferencesCard(refs[:FIRST_PAGE], title="References (1 of 2)"),
                      ReferencesCard(refs[FIRST_PAGE:], title="References (2 of 2)", start=FIRST_PAGE + 1)]
        first, second = self.pages
        with self.narrate(
                "These are the papers behind this lecture: the Transformer paper and its head-count ablation, the "
                "studies that pruned heads and looked at what BERT's heads attend to,") as t:
            self.play(FadeIn(first.heading), LaggedStart(*(FadeIn(i) for i in first.items), lag_ratio=0.2),
                      run_time=0.5 * t.duration)
            self.wait_for(t)
        with self.narrate(
                "the circuits and induction-head work, the low-rank bottleneck of small heads, Megatron's tensor "
                "parallelism, and the warning that attention is not explanation.") as t:
            self.play(FadeOut(first), run_time=0.2 * t.duration)
            self.play(FadeIn(second.heading), LaggedStart(*(FadeIn(i) for i in second.items), lag_ratio=0.2),
                      run_time=0.4 * t.duration)
            self.wait_for(t)
        self.wait(0.6)

    def look_ahead(self):
        teaser = TitleCard(3, "Rotary Positional Embeddings", "Next: where a token is, as a rotation")
        with self.narrate(
                "Attention itself has no idea where a token sits in the sentence. In Lecture 3, we give it "
                "positions, by rotating queries and keys: rotary positional embeddings.") as t:
            self.play(FadeOut(self.pages[1]), run_time=0.2 * t.duration)
            self.play(FadeIn(teaser, shift=DOWN * 0.2), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.wait(0.8)
