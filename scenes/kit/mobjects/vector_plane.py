"""A 2-D vector plane without axes: labelled points (a head's value vectors), their convex hull, the
weighted-average output dot, and tip-to-tail arrow sums (a residual stream's additive writes).

    plane = VectorPlane(values, tokens, width=5, height=4.5)      # data coordinates → a box on screen
    hull = plane.hull_polygon(hull_indices)                        # not added: the scene decides when
    dot = plane.output_dot(weights)                                # Σ_j w_j p_j, drawn where it lies
    chain = plane.arrow_chain(start, [d1, d2], colors)            # tip to tail, plus chain.total

Every coordinate comes from the data passed in; the plane only maps it to the screen (one uniform scale,
or one per axis: an affine map, under which weighted averages and vector sums stay true).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import DOWN, Animation, AnimationGroup, Arrow, Dot, Line, Polygon, VGroup, VMobject

from ..theme import BUFF, COLORS, SIZES
from .text import as_array, label

__all__ = ["ArrowChain", "VectorPlane"]


class ArrowChain(VGroup):
    """Arrows laid tip to tail from ``start``; ``.arrows`` (one per step), ``.total`` (start → end, added
    only when asked), ``.points_data`` (the data coordinates of every joint, start first)."""

    def __init__(self, arrows: Sequence[Arrow], total: Arrow | None, joints: np.ndarray):
        super().__init__()
        self.arrows = VGroup(*arrows)
        self.total = total if total is not None else VGroup()
        self.points_data = joints
        self.add(self.arrows, self.total)


class VectorPlane(VGroup):
    """Points in a plane, fitted into a ``width`` × ``height`` box.

    With ``uniform`` (default) both axes share one scale, so lengths and angles are true; without it each
    axis fills the box (an affine map: weighted averages, hulls and tip-to-tail sums stay exactly true, only
    lengths and angles change), for value clouds much longer than wide.

    ``points`` (n, 2) are drawn as dots with ``labels`` next to them (pushed away from the points' centre);
    ``extent`` are further data points the box must hold (an arrow's tip, an output) without drawing them.
    Parts: ``.dots``, ``.labels``, ``.origin_mark`` (a small cross at data (0, 0), when ``show_origin``).
    ``to_screen(xy)`` maps data to scene coordinates; the plane can be moved and scaled like any mobject
    (``to_screen`` follows it). ``label_directions``: one direction per label (``None`` = away from the
    points' centre).
    """

    def __init__(self, points=(), labels: Sequence[str] | None = None, *, extent=(), width: float = 5.0,
                 height: float = 4.5, color: str = COLORS.V, dot_radius: float = 0.11,
                 label_size: float = SIZES.LABEL, show_origin: bool = False, pad: float = 0.12,
                 uniform: bool = True, label_directions: Sequence | None = None):
        super().__init__()
        pts = np.zeros((0, 2)) if len(points) == 0 else as_array(points, 2, "points")
        if pts.shape[1:] not in ((2,), (0,)) and len(pts):
            raise ValueError(f"points must be (n, 2), got shape {pts.shape}")
        ext = np.zeros((0, 2)) if len(extent) == 0 else as_array(extent, 2, "extent")
        if labels is not None and len(labels) != len(pts):
            raise ValueError(f"{len(labels)} labels for {len(pts)} points")
        every = np.concatenate([pts, ext] + ([np.zeros((1, 2))] if show_origin else []))
        if not len(every):
            raise ValueError("a VectorPlane needs points or an extent to fit")
        lo, hi = every.min(0), every.max(0)
        span = np.maximum(hi - lo, 1e-9)
        sx, sy = width * (1 - 2 * pad) / span[0], height * (1 - 2 * pad) / span[1]
        self.scales = np.array([min(sx, sy)] * 2) if uniform else np.array([sx, sy])
        self.data_center = (lo + hi) / 2
        self.values = pts
        self.color = color
        # invisible anchors: data centre, centre + e_x, centre + e_y; their screen positions fix the map after
        # any move or scale of the plane
        c = self.data_center
        ex, ey = np.array([1.0, 0.0]), np.array([0.0, 1.0])
        self._anchor = VMobject().set_points_as_corners([self._raw(c), self._raw(c + ex), self._raw(c + ey)])
        self._anchor.set_stroke(opacity=0)
        self.add(self._anchor)
        self.dots = VGroup(*(Dot(self._raw(p), radius=dot_radius, color=color) for p in pts))
        self.add(self.dots)
        self.labels = VGroup()
        if labels is not None:
            dirs = list(label_directions) if label_directions is not None else [None] * len(pts)
            centre = pts.mean(0) if len(pts) else np.zeros(2)
            for k, (p, text, given) in enumerate(zip(pts, labels, dirs)):
                lab = label(text, size=label_size, color=color)
                self._place_label(lab, p, centre, given, k, dot_radius)
                self.labels.add(lab)
            self.add(self.labels)
        self.origin_mark = VGroup()
        if show_origin:
            o, dx, dy = self._raw(np.zeros(2)), np.array([0.1, 0, 0]), np.array([0, 0.1, 0])
            self.origin_mark = VGroup(Line(o - dx, o + dx), Line(o - dy, o + dy))
            self.origin_mark.set_stroke(COLORS.MUTED, 2)
            self.add(self.origin_mark)

    def _place_label(self, lab, p, centre, given, k: int, dot_radius: float) -> None:
        """Put ``lab`` next to its dot: in ``given`` direction, else the first of eight compass directions
        (nearest to "away from the centre" first) where it clears every other dot and the labels placed so
        far."""
        away = (self._raw(p) - self._raw(centre))[:2]
        angle0 = float(np.arctan2(away[1], away[0])) if np.linalg.norm(away) > 1e-9 else -np.pi / 2
        if given is not None:
            candidates = [np.asarray(given, dtype=float)[:2]]
        else:
            angles = sorted((angle0 + np.pi / 4 * t for t in range(8)),
                            key=lambda a: abs(np.angle(np.exp(1j * (a - angle0)))))
            candidates = [np.array([np.cos(a), np.sin(a)]) for a in angles]
        others = [d for j, d in enumerate(self.dots) if j != k]
        first = None
        for u in candidates:
            u = u / np.linalg.norm(u)
            # distance from the dot's centre to the label box's edge along u, plus a gap
            reach = 0.5 * min(lab.width / max(abs(u[0]), 1e-6), lab.height / max(abs(u[1]), 1e-6))
            lab.move_to(self._raw(p) + np.array([*u, 0.0]) * (dot_radius + BUFF.TIGHT + reach))
            first = first if first is not None else lab.get_center().copy()
            if not any(_boxes_touch(lab, m, 0.04) for m in [*others, *self.labels]):
                return
        lab.move_to(first)

    # -- coordinates ---------------------------------------------------------------------------------------
    def _raw(self, xy) -> np.ndarray:
        xy = np.asarray(xy, dtype=float)
        return np.array([*((xy - self.data_center) * self.scales), 0.0])

    def to_screen(self, xy) -> np.ndarray:
        """Scene coordinates of data point ``xy`` (follows the plane's moves and scaling)."""
        pts = self._anchor.points
        a, ex, ey = pts[0], pts[3], pts[-1]
        d = np.asarray(xy, dtype=float) - self.data_center
        return a + d[0] * (ex - a) + d[1] * (ey - a)

    def weighted_point(self, weights) -> np.ndarray:
        """Σ_j w_j p_j in data coordinates (the output of a head whose values are the points)."""
        w = as_array(weights, 1, "weights")
        if len(w) != len(self.values):
            raise ValueError(f"{len(w)} weights for {len(self.values)} points")
        return w @ self.values

    # -- pieces (returned, not added: the scene animates them in) -------------------------------------------
    def hull_polygon(self, indices: Sequence[int], color: str | None = None, opacity: float = 0.15) -> Polygon:
        """The polygon through the points ``indices`` (in order, e.g. a hull counter-clockwise)."""
        c = color or self.color
        return Polygon(*(self.to_screen(self.values[i]) for i in indices), color=c, stroke_width=2,
                       fill_color=c, fill_opacity=opacity)

    def output_dot(self, weights=None, *, at=None, color: str = COLORS.OUTPUT, radius: float = 0.14) -> Dot:
        """A dot at Σ_j w_j p_j (or at data point ``at``), ringed so it reads over a value dot."""
        xy = self.weighted_point(weights) if at is None else np.asarray(at, dtype=float)
        d = Dot(self.to_screen(xy), radius=radius, color=color)
        d.set_stroke(COLORS.BACKGROUND, 2, background=True)
        return d

    def segment(self, a, b, color: str = COLORS.MUTED, width: float = 2) -> Line:
        """A straight line between data points ``a`` and ``b`` (e.g. the chord two values span)."""
        return Line(self.to_screen(a), self.to_screen(b)).set_stroke(color, width)

    def weight_opacity(self, weights, floor: float = 0.2) -> Animation:
        """Fade each value dot (and its label) to ``floor + (1 − floor)·w_j``: where the weight goes."""
        w = as_array(weights, 1, "weights")
        anims = []
        for k, v in enumerate(w):
            o = floor + (1 - floor) * float(v)
            anims.append(self.dots[k].animate.set_opacity(o))
            if len(self.labels):
                anims.append(self.labels[k].animate.set_opacity(o))
        return AnimationGroup(*anims)

    def arrow(self, start, end, color: str = COLORS.TEXT, width: float = 5) -> Arrow:
        """An arrow from data point ``start`` to data point ``end`` (tip exactly at ``end``)."""
        return Arrow(self.to_screen(start), self.to_screen(end), buff=0, color=color, stroke_width=width,
                     max_tip_length_to_length_ratio=0.3, tip_length=0.22)

    def arrow_chain(self, start, steps, colors: Sequence[str], *, total_color: str | None = None,
                    width: float = 5) -> ArrowChain:
        """Arrows for ``steps`` (data vectors) laid tip to tail from ``start``; with ``total_color``, also the
        arrow from ``start`` to the last tip (their sum)."""
        steps = as_array(steps, 2, "steps")
        if len(colors) != len(steps):
            raise ValueError(f"{len(colors)} colours for {len(steps)} steps")
        joints = np.cumsum(np.concatenate([np.asarray(start, dtype=float)[None], steps]), axis=0)
        arrows = [self.arrow(joints[k], joints[k + 1], colors[k], width) for k in range(len(steps))]
        total = self.arrow(joints[0], joints[-1], total_color, width) if total_color else None
        return ArrowChain(arrows, total, joints)

    def point_label(self, xy, text: str, direction=DOWN, color: str = COLORS.TEXT,
                    size: float = SIZES.LABEL, buff: float = BUFF.SMALL):
        """A label next to data point ``xy`` (not added)."""
        lab = label(text, size=size, color=color)
        lab.next_to(self.to_screen(xy), direction, buff=buff)
        return lab


def _boxes_touch(a, b, gap: float) -> bool:
    (ax0, ay0), (ax1, ay1) = a.get_corner([-1, -1, 0])[:2], a.get_corner([1, 1, 0])[:2]
    (bx0, by0), (bx1, by1) = b.get_corner([-1, -1, 0])[:2], b.get_corner([1, 1, 0])[:2]
    return ax0 < bx1 + gap and bx0 < ax1 + gap and ay0 < by1 + gap and by0 < ay1 + gap
