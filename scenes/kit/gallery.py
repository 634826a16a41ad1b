"""Every kit mobject on screen, for humans to look at: ``manim -s scenes/kit/gallery.py Gallery``.

``Gallery`` is an overview frame; ``GalleryGrids``, ``GalleryCharts``, ``GalleryDiagrams``, ``GalleryCode``,
``GalleryCards`` and ``GalleryEquations`` show each family at full size. Numbers come from ``attn_ref``
on seeded inputs (this file holds layout only).
"""
from __future__ import annotations

from pathlib import Path

import torch
from manim import DOWN, LEFT, RIGHT, Scene, VGroup, config

import attn_ref as ar
from scenes.kit.equations import equation
from scenes.kit.mobjects import (ArcDiagram, AttentionGrid, BenchmarkChart, CitationLine, CodePanel,
                                 HeadStack, MaskOverlay, MatrixGrid, RecapCard, ReferencesCard, SoftmaxBars,
                                 TileGrid, TitleCard, TokenRow, VectorColumn, fit_to_frame, fit_within)
from scenes.kit.mobjects.code_panel import body_lines
from scenes.kit.references import BAHDANAU, VASWANI
from scenes.kit.theme import BUFF, SAFE

# manim.cfg turns on section videos, which manim 0.22 refuses for still images (-s); the gallery has no
# sections and is meant to be looked at as stills.
config.save_sections = False

TOKENS = ["the", "cat", "sat", "on", "the", "mat"]
EXAMPLE_BENCH = Path(__file__).resolve().parents[2] / "tests" / "kit" / "data" / "bench_example.json"


def example_data(seed: int = 0, heads: int = 4, d: int = 8):
    """Seeded Q, K, V for the example sentence and what attn_ref makes of them."""
    g = torch.Generator().manual_seed(seed)
    n = len(TOKENS)
    q, k, v = (torch.randn(1, heads, n, d, generator=g, dtype=torch.float64) for _ in range(3))
    scores = ar.attention_scores(q, k)[0]
    _, weights = ar.sdpa(q, k, v, return_weights=True)
    _, causal = ar.sdpa(q, k, v, is_causal=True, return_weights=True)
    return {"q": q[0], "k": k[0], "v": v[0], "scores": scores, "weights": weights[0], "causal": causal[0],
            "mask": ar.causal_mask(n, n)}


class Gallery(Scene):
    """Overview: tokens, a vector, the attention grid, bars, arcs, heads, a masked score grid."""

    def construct(self):
        data = example_data()
        tokens = TokenRow(TOKENS, show_indices=True)
        vec = VectorColumn(data["q"][0, 1], label_text="q (cat)", role="Q")
        grid = AttentionGrid(data["weights"][0], TOKENS, TOKENS, show_row_sums=True)
        fit_within(grid, 6.2, 6.2)
        scores = MatrixGrid(data["scores"][0], heat=True, row_labels=TOKENS, col_labels=TOKENS,
                            row_role="Q", col_role="K", cell_size=0.6, font_size=20)
        overlay = MaskOverlay(scores, data["mask"])
        masked = VGroup(scores, overlay)
        fit_within(masked, 3.6, 3.6)
        bars = SoftmaxBars(data["weights"][0, 1], TOKENS, max_height=1.6, bar_width=0.42, spacing=0.18,
                           font_size=18, label_size=20)
        left = VGroup(tokens, vec).arrange(DOWN, buff=BUFF.LARGE)
        right = VGroup(bars, masked).arrange(DOWN, buff=BUFF.LARGE)
        fit_within(left, 3.6, SAFE.height)
        fit_within(right, 3.8, SAFE.height)
        VGroup(left, grid, right).arrange(RIGHT, buff=BUFF.LARGE)
        everything = VGroup(left, grid, right)
        fit_to_frame(everything.move_to([0, 0, 0]))
        self.add(everything)


class GalleryGrids(Scene):
    def construct(self):
        data = example_data()
        grid = AttentionGrid(data["causal"][0], TOKENS, TOKENS, show_row_sums=True)
        fit_within(grid, 7.0, SAFE.height)
        scores = MatrixGrid(data["scores"][0], heat=True, row_labels=TOKENS, col_labels=TOKENS,
                            row_role="Q", col_role="K")
        masked = VGroup(scores, MaskOverlay(scores, data["mask"]))
        fit_within(masked, 5.8, SAFE.height)
        fit_to_frame(VGroup(grid, masked).arrange(RIGHT, buff=BUFF.LARGE))
        self.add(grid, masked)


class GalleryCharts(Scene):
    def construct(self):
        data = example_data()
        bars = SoftmaxBars(data["weights"][0, 2], TOKENS, max_height=2.2)
        chart = BenchmarkChart(EXAMPLE_BENCH, log_x=2, log_y=True, width=6.0, height=3.2)
        fit_within(bars, 5.0, SAFE.height)
        row = VGroup(bars, chart).arrange(RIGHT, buff=BUFF.LARGE)
        fit_to_frame(row)
        self.add(row)


class GalleryDiagrams(Scene):
    def construct(self):
        data = example_data()
        arcs = ArcDiagram(TOKENS, data["causal"][0], query=4)
        heads = HeadStack(data["causal"], layout="row", cell_size=0.32)
        stack = HeadStack(data["weights"])
        tiles = TileGrid(8, 8, 2, 4)
        top = VGroup(arcs, stack).arrange(RIGHT, buff=BUFF.LARGE)
        bottom = VGroup(heads, tiles).arrange(RIGHT, buff=BUFF.LARGE)
        page = VGroup(top, bottom).arrange(DOWN, buff=BUFF.LARGE)
        fit_to_frame(page)
        self.add(page, tiles.highlight_tile(1, 0))


class GalleryCode(Scene):
    def construct(self):
        panel = CodePanel("attn_ref.core.sdpa", lines=body_lines("attn_ref.core.sdpa"))
        self.add(panel)


class GalleryCards(Scene):
    def construct(self):
        card = TitleCard(1, "Attention Fundamentals", "From recurrent networks to attention, with real numbers")
        self.add(card, CitationLine(VASWANI, venue=False))


class GalleryRecap(Scene):
    def construct(self):
        recap = RecapCard(["Attention lets every token read every other token directly, in one step.",
                           "Scores are dot products of queries and keys, divided by the square root of the "
                           "key width so that their variance stays near one.",
                           "Softmax runs along each row: every query's weights add up to one."])
        self.add(recap)


class GalleryReferences(Scene):
    def construct(self):
        self.add(ReferencesCard([VASWANI, BAHDANAU]))


class GalleryEquations(Scene):
    def construct(self):
        names = ["sdpa", "softmax", "softmax_stable", "variance_scaled", "masked_softmax", "causal_mask"]
        eqs = VGroup(*(equation(n) for n in names)).arrange(DOWN, buff=BUFF.MEDIUM, aligned_edge=LEFT)
        fit_to_frame(eqs.move_to([0, 0, 0]))
        self.add(eqs)
