"""Frame geometry for kit mobjects and tests: fit inside the safe area, detect overlaps.

Bounding boxes are axis-aligned, from manim's own critical points (``get_left`` …); a mobject with no
points (an empty group) has no box and overlaps nothing.
"""
from __future__ import annotations

from itertools import combinations
from collections.abc import Sequence

import numpy as np
from manim import Mobject

from ..theme import BUFF, FRAME

__all__ = ["bbox", "check_safe_area", "find_overlaps", "fit_to_frame", "fit_within", "inside_frame", "overlaps",
           "safe_area_violations", "scene_heading"]

Box = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax


def _has_points(mob: Mobject) -> bool:
    return any(len(m.points) for m in mob.get_family())


def bbox(mob: Mobject) -> Box | None:
    """(xmin, ymin, xmax, ymax) of ``mob`` and its family, or None when it has no points."""
    if not _has_points(mob):
        return None
    return (float(mob.get_left()[0]), float(mob.get_bottom()[1]),
            float(mob.get_right()[0]), float(mob.get_top()[1]))


def inside_frame(mob: Mobject, margin: float = 0.0) -> bool:
    """True when ``mob`` lies inside the 16:9 frame shrunk by ``margin`` on every side."""
    box = bbox(mob)
    if box is None:
        return True
    eps = 1e-6
    x0, y0, x1, y1 = box
    return (x0 >= -FRAME.WIDTH / 2 + margin - eps and x1 <= FRAME.WIDTH / 2 - margin + eps
            and y0 >= -FRAME.HEIGHT / 2 + margin - eps and y1 <= FRAME.HEIGHT / 2 - margin + eps)


def fit_within(mob: Mobject, width: float | None = None, height: float | None = None) -> Mobject:
    """Scale ``mob`` down (never up) so it is at most ``width`` × ``height``."""
    factors = [1.0]
    if width is not None and mob.width > width:
        factors.append(width / mob.width)
    if height is not None and mob.height > height:
        factors.append(height / mob.height)
    s = min(factors)
    if s < 1.0:
        mob.scale(s)
    return mob


def fit_to_frame(mob: Mobject, margin: float = BUFF.MARGIN) -> Mobject:
    """Scale ``mob`` down to the safe area (frame less ``margin``) and shift it inside; returns ``mob``."""
    fit_within(mob, FRAME.WIDTH - 2 * margin, FRAME.HEIGHT - 2 * margin)
    box = bbox(mob)
    if box is None:
        return mob
    x0, y0, x1, y1 = box
    dx = max(0.0, (-FRAME.WIDTH / 2 + margin) - x0) - max(0.0, x1 - (FRAME.WIDTH / 2 - margin))
    dy = max(0.0, (-FRAME.HEIGHT / 2 + margin) - y0) - max(0.0, y1 - (FRAME.HEIGHT / 2 - margin))
    if dx or dy:
        mob.shift(np.array([dx, dy, 0.0]))
    return mob


def overlaps(a: Mobject, b: Mobject, buff: float = 0.0) -> bool:
    """True when the boxes of ``a`` and ``b`` (each grown by ``buff``) intersect with positive area."""
    ba, bb = bbox(a), bbox(b)
    if ba is None or bb is None:
        return False
    eps = 1e-6
    return (min(ba[2], bb[2]) - max(ba[0], bb[0]) > -2 * buff + eps
            and min(ba[3], bb[3]) - max(ba[1], bb[1]) > -2 * buff + eps)


def find_overlaps(mobs: Sequence[Mobject], buff: float = 0.0) -> list[tuple[int, int]]:
    """Index pairs of ``mobs`` whose boxes overlap (see :func:`overlaps`)."""
    return [(p, q) for p, q in combinations(range(len(mobs)), 2) if overlaps(mobs[p], mobs[q], buff)]



def scene_heading(text: str) -> Mobject:
    """A scene's title, at the top left of the safe area, in the heading size."""
    from ..theme import COLORS, SAFE, SIZES
    from .text import label

    h = label(text, size=SIZES.HEADING, color=COLORS.TEXT)
    return h.move_to([SAFE.left + h.width / 2, SAFE.top - h.height / 2, 0])


def safe_area_violations(mobjects: Sequence[Mobject]) -> list[str]:
    """One line per mobject (type, text, centre, size) that leaves the safe area (2 px of slack)."""
    return [f"{type(m).__name__} {getattr(m, 'original_text', '')!r} at {m.get_center().round(2)[:2]}, "
            f"size {m.width:.2f} x {m.height:.2f}" for m in mobjects
            if not inside_frame(m, margin=BUFF.MARGIN - 0.02)]


def check_safe_area(scene) -> None:
    """Raise ValueError naming every mobject on screen that leaves the safe area (``LectureScene``
    runs this after every animation and wait; other scenes may call it)."""
    out = safe_area_violations(scene.mobjects)
    if out:
        raise ValueError(f"{type(scene).__name__}: outside the safe area: {out}")
