"""Looking things up: a dictionary as a table (exact or soft look-up) and keys/query as 2-D arrows.

The soft dictionary is the usual way into Q, K, V: a Python ``dict`` returns the value of the one key that
matches (or misses); attention scores every key by its similarity to the query, turns the scores into
weights with softmax and returns the weighted blend of all values. Both mobjects draw the numbers they
are given (from a lecture's data module) and compute nothing but positions.

    table = LookupTable(["cat", "bird"], [4, 2], value_name="legs")
    self.play(FadeIn(table.score_column([2.1, 1.1])), FadeIn(table.weight_column([0.73, 0.27])))
    plane = KeyPlane([[1, 0.2], [0.3, 1]], ["cat", "bird"], query=[2, 0.5], query_name="kitten")
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from manim import DOWN, LEFT, ORIGIN, RIGHT, UP, Arrow, Line, Rectangle, RoundedRectangle, VGroup

from ..theme import BUFF, COLORS, SIZES, role_color
from ..format import shown
from .text import as_array, label, set_on_line

__all__ = ["KeyPlane", "LookupTable"]


class LookupTable(VGroup):
    """A dictionary drawn as rows ``key → value``, with optional score and weight columns.

    ``keys`` are words (boxes in the key colour), ``values`` numbers (value colour, ``value_decimals``
    places). Columns, left to right: key, value, score, weight; the score and weight columns are built on
    demand (:meth:`score_column`, :meth:`weight_column`) so a scene can bring them in one at a time.
    Parts: ``.key_boxes``, ``.key_labels``, ``.arrows``, ``.value_texts``, ``.rows`` (``rows[j]`` =
    VGroup(box, label, arrow, value)), ``.headers`` (VGroup of the header labels that exist so far: key,
    value), ``.rule`` (line under the headers). ``row_y(j)`` is the centre line of row ``j``.
    """

    def __init__(self, keys: Sequence[str], values, *, value_decimals: int = 0, value_name: str | None = None,
                 key_role: str = "K", value_role: str = "V", row_height: float = 0.72,
                 key_width: float | None = None, font_size: float = SIZES.LABEL,
                 number_size: float = SIZES.NUMBER, header_size: float = SIZES.SMALL,
                 score_width: float = 1.3, weight_width: float = 2.6):
        super().__init__()
        vals = as_array(values, 1, "values")
        if len(keys) != len(vals):
            raise ValueError(f"{len(keys)} keys for {len(vals)} values")
        if len(keys) == 0:
            raise ValueError("a table needs at least one key")
        self.keys = [str(k) for k in keys]
        self.values = vals
        self.row_height, self.font_size, self.number_size = row_height, font_size, number_size
        self.header_size = header_size
        self.key_color, self.value_color = role_color(key_role), role_color(value_role)
        self.key_labels = VGroup(*(label(k, size=font_size) for k in self.keys))
        widest = max(lab.width for lab in self.key_labels)
        box_w = key_width or widest + 0.4
        box_h = label("Ag", size=font_size).height + 0.3
        self.key_boxes = VGroup()
        self.arrows, self.value_texts, self.rows = VGroup(), VGroup(), VGroup()
        value_texts = [label(shown(v, value_decimals), size=number_size, color=self.value_color, mono=True)
                       for v in vals]
        value_w = max(t.width for t in value_texts)
        self.value_x = box_w / 2 + 0.25 + 0.55 + 0.25 + value_w  # right edge of the values
        for j, (lab, val) in enumerate(zip(self.key_labels, value_texts)):
            y = -j * row_height
            box = RoundedRectangle(width=box_w, height=box_h, corner_radius=0.08, stroke_color=self.key_color,
                                   stroke_width=2, fill_color=self.key_color, fill_opacity=0.12).move_to([0, y, 0])
            set_on_line(lab.move_to(box), y)
            arrow = Line([box_w / 2 + 0.2, y, 0], [box_w / 2 + 0.75, y, 0]).set_stroke(COLORS.MUTED, 2)
            arrow.add_tip(tip_length=0.12, tip_width=0.12)
            val.move_to([self.value_x - val.width / 2, y, 0])
            self.key_boxes.add(box)
            self.arrows.add(arrow)
            self.value_texts.add(val)
            self.rows.add(VGroup(box, lab, arrow, val))
        self.add(self.rows)
        top = self.key_boxes.get_top()[1] + BUFF.SMALL
        key_head = label("key", size=header_size, color=self.key_color)
        value_head = label(value_name or "value", size=header_size, color=self.value_color)
        self.header_line = top + 0.05 + label("Ag", size=header_size).height / 2  # relative to row 0's centre
        set_on_line(key_head, self.header_line)
        set_on_line(value_head.move_to([self.value_x - value_w / 2, 0, 0]), self.header_line)
        self.headers = VGroup(key_head, value_head)
        self.add(self.headers)
        self.score_x = self.value_x + 0.5 + score_width / 2  # centre of the score column
        self.weight_x = self.value_x + 0.5 + score_width + 0.35  # left edge of the weight bars
        self.weight_width = weight_width
        left = self.key_boxes.get_left()[0]
        self.rule = Line([left, top, 0], [self.weight_x + weight_width, top, 0]).set_stroke(COLORS.GRID, 1.5)
        self.add(self.rule)
        self._box_height = self.key_boxes[0].height

    # -- geometry (columns built later follow the table wherever it moved or however it was scaled) ------
    def _unit(self) -> float:
        """Current scale of the table relative to how it was built."""
        return float(self.key_boxes[0].height / self._box_height)

    def _point(self, x: float, j: int) -> np.ndarray:
        """(x in build coordinates, centre line of row j) in scene coordinates."""
        first = self.key_boxes[0].get_center()
        return np.array([first[0] + x * self._unit(), self.row_y(j), 0.0])

    def row_y(self, j: int) -> float:
        return float(self.key_boxes[j].get_y())

    # -- columns built on demand ------------------------------------------------------------------------
    def header(self, text: str, column: str, color: str) -> VGroup:
        """A header label over the ``"score"`` or ``"weight"`` column, on the headers' line (not added)."""
        if column not in ("score", "weight"):
            raise ValueError(f"column must be 'score' or 'weight', got {column!r}")
        lab = label(text, size=self.header_size, color=color).scale(self._unit())
        if column == "score":
            lab.move_to(self._point(self.score_x, 0))
        else:
            lab.move_to(self._point(self.weight_x, 0), aligned_edge=LEFT)
        return set_on_line(lab, self.row_y(0) + self.header_line * self._unit())

    def score_column(self, scores, decimals: int = 2, color: str = COLORS.SCORE) -> VGroup:
        """One number per row in the score column (not added)."""
        s = as_array(scores, 1, "scores")
        if len(s) != len(self.keys):
            raise ValueError(f"{len(s)} scores for {len(self.keys)} keys")
        u = self._unit()
        col = VGroup()
        texts = [label(shown(v, decimals), size=self.number_size, color=color, mono=True).scale(u)
                 for v in s]
        right = max(t.width for t in texts) / 2
        for j, t in enumerate(texts):
            p = self._point(self.score_x, j)
            t.move_to(p + RIGHT * (right - t.width / 2))
            col.add(t)
        return col

    def weight_column(self, weights, decimals: int = 2, color: str = COLORS.WEIGHT,
                      show_numbers: bool = True) -> VGroup:
        """One bar (length ∝ weight) and number per row (not added). Numbers are rounded with
        ``attn_ref.round_to_sum`` so a distribution shows a total of exactly 1.00.
        Parts of the result: ``.bars``, ``.numbers``, ``.tracks`` (faint full-length bars)."""
        import attn_ref as ar

        w = as_array(weights, 1, "weights")
        if len(w) != len(self.keys):
            raise ValueError(f"{len(w)} weights for {len(self.keys)} keys")
        if w.min() < -1e-12 or w.max() > 1 + 1e-12:
            raise ValueError("weights must lie in [0, 1]")
        rounded = ar.round_to_sum(torch.as_tensor(w), decimals=decimals).numpy()
        u = self._unit()
        full = self.weight_width * 0.62 * u
        height = 0.3 * self.row_height * u
        col, bars, numbers, tracks = VGroup(), VGroup(), VGroup(), VGroup()
        for j, v in enumerate(w):
            left = self._point(self.weight_x, j)
            track = Rectangle(width=full, height=height, stroke_width=0, fill_color=COLORS.GRID, fill_opacity=0.35)
            track.move_to(left + RIGHT * full / 2)
            bar = Rectangle(width=max(1e-3, full * float(v)), height=height, stroke_width=0, fill_color=color,
                            fill_opacity=0.9)
            bar.move_to(left, aligned_edge=LEFT)
            tracks.add(track)
            bars.add(bar)
            if show_numbers:
                t = label(shown(rounded[j], decimals), size=self.number_size, color=color, mono=True).scale(u)
                t.next_to(track, RIGHT, buff=BUFF.SMALL)
                numbers.add(t)
        col.add(tracks, bars, numbers)
        col.bars, col.numbers, col.tracks, col.displayed = bars, numbers, tracks, rounded
        return col

    def highlight_row(self, j: int, color: str = COLORS.ACCENT, right: float | None = None) -> Rectangle:
        """A rectangle around row ``j`` from the key box to ``right`` (default: the value column)."""
        u = self._unit()
        x0 = self.key_boxes[j].get_left()[0] - 0.1 * u
        x1 = right if right is not None else self._point(self.value_x, j)[0] + 0.15 * u
        h = self.row_height * u * 0.92
        rect = RoundedRectangle(width=x1 - x0, height=h, corner_radius=0.1).set_stroke(color, 3)
        return rect.move_to([(x0 + x1) / 2, self.row_y(j), 0])


class KeyPlane(VGroup):
    """Keys as 2-D arrows from the origin (key colour, named) and optionally a query arrow (query colour).

    ``vectors``: (n, 2); ``unit``: scene units per data unit. Parts: ``.axes`` (two faint lines),
    ``.key_arrows``, ``.key_labels``, ``.query_arrow``, ``.query_label`` (empty groups without a query).
    """

    def __init__(self, vectors, names: Sequence[str], *, query=None, query_name: str | None = None,
                 unit: float = 1.2, font_size: float = SIZES.SMALL, extent: float | None = None):
        super().__init__()
        v = as_array(vectors, 2, "vectors")
        if v.shape[1] != 2 or v.shape[0] != len(names):
            raise ValueError(f"vectors must be ({len(names)}, 2), got {v.shape}")
        self.vectors, self.unit = v, unit
        pts = [v] + ([as_array(query, 1, "query")[None]] if query is not None else [])
        reach = extent if extent is not None else float(np.abs(np.concatenate(pts)).max()) + 0.35
        self.axes = VGroup(Line(LEFT * reach * unit, RIGHT * reach * unit),
                           Line(DOWN * reach * unit, UP * reach * unit)).set_stroke(COLORS.GRID, 1.5)
        self.add(self.axes)
        self.query = as_array(query, 1, "query") if query is not None else None
        self.key_arrows, self.key_labels = VGroup(), VGroup()
        for vec in v:  # keys drawn over the query arrow, so a key pointing its way stays visible
            self.key_arrows.add(self._arrow(vec, COLORS.K).set_z_index(1))
        self.query_arrow, self.query_label = VGroup(), VGroup()
        if self.query is not None:
            self.query_arrow = self._arrow(self.query, COLORS.Q, width=6)
        segments = [vec for vec in v] + ([self.query] if self.query is not None else [])
        for k, (vec, name) in enumerate(zip(v, names)):
            others = [sgm for m, sgm in enumerate(segments) if m != k]
            self.key_labels.add(self._label(vec, name, COLORS.K, font_size, others))
        self.add(self.key_arrows, self.key_labels)
        if self.query is not None:
            self.query_label = self._label(self.query, query_name or "query", COLORS.Q, font_size, list(v))
            self.add(self.query_arrow, self.query_label)
        self.move_to(ORIGIN)

    def _arrow(self, vec, color, width: float = 4) -> Arrow:
        end = np.array([vec[0], vec[1], 0.0]) * self.unit
        return Arrow(ORIGIN, end, buff=0, stroke_width=width, color=color, max_tip_length_to_length_ratio=0.2,
                     tip_length=0.2)

    def _label(self, vec, name, color, font_size, others) -> VGroup:
        """The name just past the arrow's tip, or beside it when that spot sits on another arrow."""
        end = np.array([vec[0], vec[1], 0.0]) * self.unit
        direction = end / (np.linalg.norm(end) or 1.0)
        normal = np.array([direction[1], -direction[0], 0.0])
        lab = label(name, size=font_size, color=color)
        reach = 0.22 + 0.5 * max(lab.width * abs(direction[0]), lab.height * abs(direction[1]))
        side = 0.18 + 0.5 * max(lab.width * abs(normal[0]), lab.height * abs(normal[1]))
        candidates = [end + direction * reach, end * 0.8 + normal * side, end * 0.8 - normal * side]

        def clearance(p):  # distance from the label's centre to the nearest other arrow (a segment from 0)
            best = np.inf
            for o in others:
                b = np.array([o[0], o[1], 0.0]) * self.unit
                t = np.clip(np.dot(p, b) / max(np.dot(b, b), 1e-12), 0.0, 1.0)
                best = min(best, float(np.linalg.norm(p - t * b)))
            return best

        need = 0.5 * np.hypot(lab.width, lab.height) + 0.05
        spot = next((c for c in candidates if clearance(c) >= need), max(candidates, key=clearance))
        return lab.move_to(spot)
