"""Reusable mobjects of the course, each built from real data passed in (never random numbers inside).

    from scenes.kit.mobjects import AttentionGrid, TokenRow
"""
from .attention import AttentionGrid, MaskOverlay, displayed_weights
from .blocks import BlockMatrix, TensorLayout, matrix_name
from .capacity_bar import CapacityBar
from .cards import CitationLine, RecapCard, ReferencesCard, TitleCard
from .charts import BenchmarkChart, SoftmaxBars, load_benchmark, provenance_line
from .cited import CitedBars, ValueBars
from .code_panel import CodePanel
from .devices import DeviceSplit
from .diagonals import DiagonalOutline, diagonal_cells, diagonal_spread, diagonal_values
from .diagrams import ArcDiagram, HeadStack, TileGrid
from .layout import bbox, find_overlaps, fit_to_frame, fit_within, inside_frame, overlaps
from .heat_map import HeatLegend, HeatMap
from .line_chart import LineChart
from .log_axis import LogTimeline
from .matrices import MatrixGrid, VectorColumn
from .metric_card import MetricCard
from .pairings import ChannelRow
from .quadrant_map import QuadrantMap
from .rotation_dial import DialRow, RotationDial
from .score_grid import HeadScoreGrid
from .stacked_bars import StackedBars
from .step_counter import StepCounter
from .tables import DataTable
from .text import as_array, label, number
from .tokens import TokenRow
from .vector_plane import ArrowChain, VectorPlane

__all__ = [
    "ArcDiagram",
    "ArrowChain",
    "AttentionGrid",
    "BenchmarkChart",
    "BlockMatrix",
    "CapacityBar",
    "ChannelRow",
    "CitationLine",
    "CitedBars",
    "CodePanel",
    "DataTable",
    "DeviceSplit",
    "DiagonalOutline",
    "DialRow",
    "HeadScoreGrid",
    "HeadStack",
    "HeatLegend",
    "HeatMap",
    "LineChart",
    "LogTimeline",
    "MaskOverlay",
    "MatrixGrid",
    "MetricCard",
    "QuadrantMap",
    "RecapCard",
    "ReferencesCard",
    "RotationDial",
    "SoftmaxBars",
    "StackedBars",
    "StepCounter",
    "TensorLayout",
    "TileGrid",
    "TitleCard",
    "TokenRow",
    "ValueBars",
    "VectorColumn",
    "VectorPlane",
    "as_array",
    "bbox",
    "diagonal_cells",
    "diagonal_spread",
    "diagonal_values",
    "displayed_weights",
    "find_overlaps",
    "fit_to_frame",
    "fit_within",
    "inside_frame",
    "label",
    "load_benchmark",
    "matrix_name",
    "number",
    "overlaps",
    "provenance_line",
]
from .annotated_code import AnnotatedCode, equation_rows
from .block_table import BlockTable
from .cache_stack import CacheStack
from .citation_panel import CitationPanel, published_frame
from .memory_pyramid import MemoryPyramid
from .roofline import LogLogPlot, RooflinePlot
from .running_stats import RunningStats
from .sampling_bars import SamplingBars
from .saved_tensors import SavedTensors
from .slot_ring import SlotRing
from .sm_occupancy import SMOccupancy
from .split_merge import SplitMerge
from .wrong_right import WrongRight, issue_citation

__all__ += [
    "AnnotatedCode", "BlockTable", "CacheStack", "CitationPanel", "LogLogPlot", "MemoryPyramid", "RooflinePlot",
    "RunningStats", "SMOccupancy", "SamplingBars", "SavedTensors", "SlotRing", "SplitMerge", "WrongRight",
    "equation_rows", "issue_citation", "published_frame",
]
