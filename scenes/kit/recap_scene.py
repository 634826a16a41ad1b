"""The closing scene every lecture shares: the recap card point by point, the references card on as many pages
as it needs, and the look ahead to the next lecture. A lecture's recap is a subclass holding only its words:

    class Recap(RecapScene):
        POINTS = (("short line on the card", "the full sentence the voice says"), ...)
        PAGES = (4,)                        # references per page but the last: [:4], [4:]
        REFERENCE_SPEECH = ("said over page 1", "said over page 2")
        NEXT = (3, "Rotary Positional Embeddings", "Next: ...", "the sentence that says what comes next")

        def references(self):
            return data.references()
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from manim import DOWN, FadeIn, FadeOut, LaggedStart, Write

from .lecture_scene import LectureScene
from .mobjects import RecapCard, ReferencesCard, TitleCard
from .references import Reference


def page_bounds(n: int, cuts: Sequence[int]) -> list[tuple[int, int]]:
    """[start, stop) of each references page: ``cuts`` are the first indices of pages 2, 3, … (increasing,
    inside 1 … n − 1)."""
    if any(not 0 < c < n for c in cuts) or list(cuts) != sorted(set(cuts)):
        raise ValueError(f"page cuts must increase strictly inside 1..{n - 1}, got {tuple(cuts)}")
    edges = [0, *cuts, n]
    return list(pairwise(edges))


class RecapScene(LectureScene):
    """Recap, references, look ahead. Subclasses set ``POINTS``, ``PAGES``, ``REFERENCE_SPEECH`` (one sentence per
    page), ``NEXT`` = (lecture number, title, subtitle, sentence) and implement ``references()``."""

    closing_fade = 1.0
    POINTS: Sequence[tuple[str, str]] = ()
    PAGES: Sequence[int] = ()
    REFERENCE_SPEECH: Sequence[str] = ()
    NEXT: tuple[int, str, str, str] | None = None

    def references(self) -> Sequence[Reference]:
        raise NotImplementedError("a lecture's recap returns its data.references()")

    def construct(self):
        self.recap()
        self.reference_pages()
        if self.NEXT:
            self.look_ahead()

    def recap(self):
        self.section("Recap")
        card = RecapCard([p for p, _ in self.POINTS])
        for k, (_, speech) in enumerate(self.POINTS):
            with self.narrate(speech) as t:
                if k == 0:
                    self.play(Write(card.heading), run_time=min(1.0, 0.2 * t.duration))
                self.play(FadeIn(card.items[k], shift=DOWN * 0.15), run_time=min(1.2, 0.3 * t.duration))
                self.wait_for(t)
        self.wait(0.5)
        self.play(FadeOut(card), run_time=0.8)

    def reference_pages(self):
        self.section("References")
        refs = list(self.references())
        bounds = page_bounds(len(refs), self.PAGES)
        if len(self.REFERENCE_SPEECH) != len(bounds):
            raise ValueError(f"{len(bounds)} reference page(s) need as many sentences, "
                             f"got {len(self.REFERENCE_SPEECH)}")
        n = len(bounds)
        self.pages = [ReferencesCard(refs[a:b], title="References" if n == 1 else f"References ({k + 1} of {n})",
                                     start=a + 1) for k, (a, b) in enumerate(bounds)]
        for k, (page, speech) in enumerate(zip(self.pages, self.REFERENCE_SPEECH)):
            with self.narrate(speech) as t:
                if k:
                    self.play(FadeOut(self.pages[k - 1]), run_time=0.2 * t.duration)
                self.play(FadeIn(page.heading), LaggedStart(*(FadeIn(i) for i in page.items), lag_ratio=0.2),
                          run_time=(0.4 if k else 0.5) * t.duration)
                self.wait_for(t)
        self.wait(0.6)

    def look_ahead(self):
        number, title, subtitle, speech = self.NEXT
        teaser = TitleCard(number, title, subtitle)
        with self.narrate(speech) as t:
            self.play(FadeOut(self.pages[-1]), run_time=0.2 * t.duration)
            self.play(FadeIn(teaser, shift=DOWN * 0.2), run_time=0.3 * t.duration)
            self.wait_for(t)
        self.wait(0.8)
