"""Reusable mobjects of the course, each built from real data passed in (never random numbers inside).

    from scenes.kit.mobjects import AttentionGrid, TokenRow
"""
from .attention import AttentionGrid, MaskOverlay, displayed_weights
from .cards import CitationLine, RecapCard, ReferencesCard, TitleCard
from .charts import BenchmarkChart, SoftmaxBars, load_benchmark, provenance_line
from .cited import CitedBars, ValueBars
from .code_panel import CodePanel
from .diagrams import ArcDiagram, HeadStack, TileGrid
from .layout import bbox, find_overlaps, fit_to_frame, fit_within, inside_frame, overlaps
from .matrices import MatrixGrid, VectorColumn
from .text import as_array, label, number
from .tokens import TokenRow
from .vector_plane import ArrowChain, VectorPlane

__all__ = [
    "ArcDiagram",
    "ArrowChain",
    "AttentionGrid",
    "BenchmarkChart",
    "CitationLine",
    "CitedBars",
    "CodePanel",
    "HeadStack",
    "MaskOverlay",
    "MatrixGrid",
    "RecapCard",
    "ReferencesCard",
    "SoftmaxBars",
    "TileGrid",
    "TitleCard",
    "TokenRow",
    "ValueBars",
    "VectorColumn",
    "VectorPlane",
    "as_array",
    "bbox",
    "displayed_weights",
    "find_overlaps",
    "fit_to_frame",
    "fit_within",
    "inside_frame",
    "label",
    "load_benchmark",
    "number",
    "overlaps",
    "provenance_line",
]
