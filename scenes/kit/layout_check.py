"""Layout check by machine: overlapping text, content outside the safe area, text too small at 1080p.

A :class:`LayoutCheck` is a ``LectureScene`` step observer. ``LectureScene`` registers one when the
environment variable ``ATTN_LAYOUT_CHECK`` names a findings file (or an existing folder: then
``<folder>/<Scene>.json``), and writes the findings at ``tear_down``; ``scripts/check_layout.py`` runs
every scene of a lecture that way in a dry run (no pixels). Normal renders do not pay for it.

It looks at the screen after every animation and at the start and end of every wait (in a dry run a
wait is static unless a mobject has updaters; those are seen at the wait's ends only). What it reports:

* ``overlap``: two text units overlap. A *unit* is one ``Text``, ``MarkupText``, ``Paragraph``,
  ``MathTex``/``Tex`` or ``DecimalNumber``/``Integer`` (never its glyphs; kit groups are made of
  these). Two units overlap when (1) their boxes intersect over more than ``OVERLAP_FRACTION`` (5%) of
  the smaller box's area and (2) some visible glyph of one intrudes into some visible glyph of the other
  by more than ``OVERLAP_MIN`` (0.02 units, 2.7 px at 1080p) in both directions: the second test keeps
  a label in the empty corner of a big formula's box from counting. Units that are invisible
  (opacity below ``VISIBLE``) or hidden under an opaque rectangle drawn after them (a mask's shade over
  a number), and pairs where one contains the other, are left out. A deliberate
  overlap is declared in the scene with ``self.allow_overlap(a, b, reason=...)``.
* ``safe-area``: a mobject on screen leaves the safe area (``safe_area_violations`` of the kit's
  layout module; while the check is on, ``LectureScene`` records these instead of raising).
* ``small-text``: a unit whose cap height at 1080p is below ``MIN_CAP_PX`` (14 px). The cap height is
  the unit's effective font size (manim's ``font_size``, which follows scaling) times the cap height
  of "H" per font-size point, measured in manim 0.22 (``CAP_PX_PER_POINT``: 1.367 px for ``Text`` in
  the course fonts, 0.956 px for LaTeX and ``DecimalNumber``). ``SIZES.CAPTION`` (18) is 24.6 px.

The same finding at consecutive steps is reported once, with the span of scene time it was seen over.
"""
from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from manim import DecimalNumber, Line, MarkupText, Mobject, Paragraph, Rectangle, SingleStringMathTex, Text
from manim.mobject.svg.svg_mobject import VMobjectFromSVGPath
from manim.utils.family import extract_mobject_family_members

from .mobjects.layout import safe_area_violations

__all__ = ["CAP_PX_PER_POINT", "ENV", "MIN_CAP_PX", "OVERLAP_FRACTION", "OVERLAP_MIN", "Finding", "LayoutCheck",
           "cap_height_px", "findings_path", "format_time", "read_declared", "read_findings", "text_of", "text_units"]

ENV = "ATTN_LAYOUT_CHECK"
OVERLAP_FRACTION = 0.05
OVERLAP_MIN = 0.02
VISIBLE = 0.05
MIN_CAP_PX = 14.0
#: cap height of "H" in pixels at 1080p per manim font_size point (measured: Text("H", font_size=48)
#: in DejaVu Sans is 65.6 px; MathTex("H") and DecimalNumber at 48 are 45.9 px)
CAP_PX_PER_POINT = {"text": 65.6 / 48, "tex": 45.9 / 48}

_TEXT_TYPES = (Text, MarkupText, Paragraph)
_UNIT_TYPES = (*_TEXT_TYPES, SingleStringMathTex, DecimalNumber)


# -------------------------------------------------------------------------------------------- units
def is_unit(mob: Mobject) -> bool:
    return isinstance(mob, _UNIT_TYPES)


def text_of(mob: Mobject) -> str:
    """What a unit shows: the text, the TeX string, or the formatted number."""
    if isinstance(mob, Paragraph):
        return mob.lines_text.original_text
    if isinstance(mob, (Text, MarkupText)):
        return mob.original_text
    if isinstance(mob, DecimalNumber):
        return f"{mob.get_value():.{mob.num_decimal_places}f}"
    if isinstance(mob, SingleStringMathTex):
        return mob.tex_string
    return type(mob).__name__


class GlyphOrigins:
    """Which text unit a glyph belongs to, among the live objects: scenes put parts of a formula on screen
    as plain groups of its glyphs (``VGroup(*eq[0][3:5])``); such a group counts as a unit of its own,
    named after the formula it came from (or by its place, when that formula is gone). Looked up with
    ``gc`` once per step at most, and only for glyphs not seen before."""

    def __init__(self) -> None:
        self._of: dict[int, tuple[Mobject, Mobject | None]] = {}  # id(leaf) -> (leaf, its largest unit)
        self.scans = 0

    def origin(self, leaf: Mobject) -> Mobject | None:
        hit = self._of.get(id(leaf))
        return hit[1] if hit is not None and hit[0] is leaf else None

    def known(self, leaf: Mobject) -> bool:
        hit = self._of.get(id(leaf))
        return hit is not None and hit[0] is leaf

    def scan(self, leaves: Iterable[Mobject]) -> None:
        """Find the units of ``leaves`` among all live objects (a leaf of none is remembered as such)."""
        self.scans += 1
        size: dict[int, int] = {}
        for obj in gc.get_objects():
            if isinstance(obj, _UNIT_TYPES):
                family = obj.family_members_with_points()
                for leaf in family:
                    k = id(leaf)
                    if len(family) > size.get(k, 0):
                        size[k] = len(family)
                        self._of[k] = (leaf, obj)
        for leaf in leaves:
            if not self.known(leaf):
                self._of[id(leaf)] = (leaf, None)


def _is_glyph(m: Mobject) -> bool:
    """An SVG path (as Text and TeX glyphs are) or a thin rule (TeX's fraction bars and root lines)."""
    return isinstance(m, VMobjectFromSVGPath) or (isinstance(m, (Rectangle, Line)) and min(m.width, m.height) < 0.1)


def _glyph_leaves(mob: Mobject) -> list[Mobject] | None:
    """The leaves of ``mob`` when every one is a glyph and one at least is an SVG path."""
    leaves = mob.family_members_with_points()
    if leaves and all(map(_is_glyph, leaves)) and any(isinstance(m, VMobjectFromSVGPath) for m in leaves):
        return leaves
    return None


def text_units(mobjects: Iterable[Mobject], origins: GlyphOrigins | None = None
               ) -> Iterator[tuple[Mobject, frozenset[int], str, int]]:
    """Every text unit in the families of ``mobjects`` (each once), with the ids of its ancestors, its
    text and an identity (its id). With ``origins``, a group of glyphs outside any unit whose glyphs all
    come from one unit is a unit too (text: ``part of '<the unit's text>'``; identity: the whole unit's
    id, so that the parts of one formula make one finding); so is one whose unit is gone (text: its
    glyph count and place)."""
    mobjects = list(mobjects)
    if origins is not None:  # one look-up for every glyph not seen before
        new = [g for g in _orphan_leaves(mobjects) if not origins.known(g)]
        if new:
            origins.scan(new)
    seen: set[int] = set()
    stack = [(m, frozenset()) for m in reversed(mobjects)]
    while stack:
        mob, ancestors = stack.pop()
        if id(mob) in seen:
            continue
        seen.add(id(mob))
        if is_unit(mob):
            yield mob, ancestors, text_of(mob), id(mob)
            continue
        if origins is not None and (leaves := _glyph_leaves(mob)) and not any(map(is_unit, mob.get_family())):
            wholes = [origins.origin(g) for g in leaves]
            whole = wholes[0]
            if all(w is whole for w in wholes):  # one formula's glyphs, or glyphs whose text is gone
                tex = getattr(mob, "tex_string", None)
                if whole is not None:
                    yield mob, ancestors, tex or f"part of '{text_of(whole)}'", id(whole)
                else:
                    x, y = mob.get_center()[:2]
                    yield mob, ancestors, tex or f"{len(leaves)} glyph(s) at ({x:.1f}, {y:.1f})", id(mob)
                continue
        inner = ancestors | {id(mob)}
        stack.extend((s, inner) for s in reversed(mob.submobjects))


def _orphan_leaves(mobjects: list[Mobject]) -> list[Mobject]:
    """Glyphs on screen that are not inside a unit."""
    out, stack = [], list(mobjects)
    while stack:
        mob = stack.pop()
        if is_unit(mob):
            continue
        if _is_glyph(mob) and len(mob.points):
            out.append(mob)
        stack.extend(mob.submobjects)
    return out


def font_points(mob: Mobject) -> float | None:
    """The unit's effective manim font size (it follows scaling), or None when unknown."""
    try:
        size = mob.lines_text.font_size if isinstance(mob, Paragraph) else mob.font_size
    except (AttributeError, ZeroDivisionError):
        return None
    return float(size) if np.isfinite(size) and size > 0 else None


def cap_height_px(mob: Mobject) -> float | None:
    """Cap height of a unit at 1080p, in pixels (see the module docstring)."""
    size = font_points(mob)
    if size is None:
        return None
    per_point = CAP_PX_PER_POINT["text" if isinstance(mob, _TEXT_TYPES) else "tex"]
    return size * per_point


def _opacity(m: Mobject) -> float:
    fill = getattr(m, "fill_rgbas", None)
    stroke = getattr(m, "stroke_rgbas", None)
    o = float(np.max(fill[:, 3])) if fill is not None and len(fill) else 0.0
    if stroke is not None and len(stroke) and (getattr(m, "stroke_width", 0) or 0) > 0:
        o = max(o, float(np.max(stroke[:, 3])))
    return o


def _glyph_boxes(unit: Mobject) -> np.ndarray:
    """(n, 4) boxes (xmin, ymin, xmax, ymax) of the unit's visible glyphs (leaves with points)."""
    boxes = [(*p.min(axis=0)[:2], *p.max(axis=0)[:2]) for m in unit.family_members_with_points()
             if len(p := m.points) and _opacity(m) >= VISIBLE]
    return np.array(boxes, dtype=float).reshape(-1, 4)


def _box(glyphs: np.ndarray) -> np.ndarray:
    return np.array([*glyphs[:, :2].min(axis=0), *glyphs[:, 2:].max(axis=0)])


def _inter(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Widths and heights of the intersections of boxes ``a`` (n, 4) with boxes ``b`` (m, 4): (n, m)."""
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return w, h


def _area(box: np.ndarray) -> float:
    return float(max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1]))


# ------------------------------------------------------------------------------------------ findings
def format_time(t: float) -> str:
    """Scene time as mm:ss.s: ``122.44`` -> ``"02:02.4"``."""
    m, tenths = divmod(round(max(0.0, t) * 10), 600)
    return f"{m:02d}:{tenths / 10:04.1f}"


@dataclass
class Finding:
    """One layout problem, seen from ``start`` to ``end`` (seconds of scene time)."""

    scene: str
    kind: str  # "overlap" | "safe-area" | "small-text"
    start: float
    end: float
    texts: list[str]
    detail: str = ""

    def line(self) -> str:
        span = format_time(self.start) if self.end - self.start < 0.05 else \
            f"{format_time(self.start)}-{format_time(self.end)} ({self.end - self.start:.1f} s)"
        texts = " x ".join(f"'{_short(t)}'" for t in self.texts)
        return f"{self.scene} {span} {self.kind}: {texts}" + (f" ({self.detail})" if self.detail else "")


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1] + "…"


@dataclass
class LayoutCheck:
    """The observer: ``check(scene, kind)`` after each step; ``findings()`` when the scene is over."""

    scene: str
    path: Path | None = None
    _open: dict[tuple, Finding] = field(default_factory=dict)
    _done: list[Finding] = field(default_factory=list)
    steps: int = 0
    _allowed: list = field(default_factory=list)
    _origins: GlyphOrigins = field(default_factory=GlyphOrigins)

    def __call__(self, scene, kind: str = "") -> None:
        self._allowed = getattr(scene, "allowed_overlaps", ())
        self.observe(scene.mobjects, float(scene.scene_time), self._allowed)

    def declared(self) -> list[dict]:
        """The overlaps the scene declared (``allow_overlap``): the texts on each side and the reason."""
        def texts(m):
            return [t for _, _, t, _ in text_units([m], self._origins)] or [type(m).__name__]
        return [{"a": texts(a), "b": texts(b), "reason": reason} for a, b, reason in self._allowed]

    def observe(self, mobjects, time: float, allowed=()) -> None:
        """Record what is wrong with ``mobjects`` at ``time``; ``allowed``: (a, b, reason) declarations."""
        self.steps += 1
        now = self._problems(list(mobjects), allowed)
        for key, (kind, texts, detail) in now.items():
            if key in self._open:
                self._open[key].end = time
            else:
                self._open[key] = Finding(self.scene, kind, time, time, texts, detail)
        for key in [k for k in self._open if k not in now]:
            self._done.append(self._open.pop(key))

    def findings(self) -> list[Finding]:
        """Every finding so far (open ones included), by start time. Overlaps over the same span that share
        a text are one finding naming every text (five labels stacked on one spot: one finding, not ten)."""
        out: list[Finding] = []
        clusters: dict[tuple[float, float], list[Finding]] = {}
        every = [replace(f, texts=list(f.texts)) for f in (*self._done, *self._open.values())]
        for f in sorted(every, key=lambda f: (f.start, f.kind)):
            if f.kind != "overlap":
                out.append(f)
                continue
            group = clusters.setdefault((f.start, f.end), [])
            joined = [g for g in group if set(g.texts) & set(f.texts)]
            if not joined:
                group.append(f)
                out.append(f)
                continue
            keep = joined[0]
            for g in joined[1:]:  # f links two clusters: merge them into the first
                keep.texts += [t for t in g.texts if t not in keep.texts]
                group.remove(g)
                out.remove(g)
            keep.texts += [t for t in f.texts if t not in keep.texts]
            keep.detail = "several texts on one spot" if len(keep.texts) > 2 else keep.detail
        return out

    def write(self, path: Path | None = None) -> Path:
        """The findings as JSON at ``path`` (default: the one given at construction)."""
        path = Path(path or self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps({"scene": self.scene, "steps": self.steps, "glyph_scans": self._origins.scans,
                                   "findings": [asdict(f) for f in self.findings()], "declared": self.declared()},
                                  indent=1), encoding="utf-8")
        tmp.replace(path)
        return path

    # -- the three checks ---------------------------------------------------------------------
    def _problems(self, mobjects: list[Mobject], allowed) -> dict[tuple, tuple[str, list[str], str]]:
        out: dict[tuple, tuple[str, list[str], str]] = {}
        for m in mobjects:
            for line in safe_area_violations([m]):
                texts = [t for _, _, t, _ in text_units([m], self._origins)][:4]
                out[("safe-area", id(m))] = ("safe-area", texts or [type(m).__name__], line)
        units = []
        hidden = _Covers(mobjects)
        for unit, ancestors, text, ident in text_units(mobjects, self._origins):
            glyphs = _glyph_boxes(unit)
            if not len(glyphs) or hidden.covers(unit, _box(glyphs)):
                continue
            units.append((unit, ancestors, glyphs, _box(glyphs), text, ident))
            px = cap_height_px(unit) if is_unit(unit) else None  # a part's size is its whole's
            if px is not None and px < MIN_CAP_PX:
                out[("small-text", id(unit))] = ("small-text", [text],
                                                 f"cap height {px:.1f} px at 1080p < {MIN_CAP_PX:g}")
        if len(units) < 2:
            return out
        boxes = np.array([u[3] for u in units])
        w, h = _inter(boxes, boxes)
        areas = np.array([_area(b) for b in boxes])
        smaller = np.minimum(areas[:, None], areas[None, :])
        shares: dict[tuple, float] = {}
        cand = (w > OVERLAP_MIN) & (h > OVERLAP_MIN) & (w * h > OVERLAP_FRACTION * smaller)
        for i, j in zip(*np.nonzero(np.triu(cand, 1))):
            (a, anc_a, ga, _, ta, ia), (b, anc_b, gb, _, tb, ib) = units[i], units[j]
            if ia == ib or id(a) in anc_b or id(b) in anc_a or _share_ink(a, b):
                continue
            gw, gh = _inter(ga, gb)
            if not np.any((gw > OVERLAP_MIN) & (gh > OVERLAP_MIN)):
                continue
            if _allowed(a, b, allowed):
                continue
            frac = w[i, j] * h[i, j] / smaller[i, j] if smaller[i, j] > 0 else 1.0
            key = ("overlap", *sorted((ia, ib)))
            frac = shares[key] = max(frac, shares.get(key, 0.0))  # parts of one formula: one finding
            out[key] = ("overlap", [ta, tb], f"boxes share {frac:.0%} of the smaller")
        return out


class _Covers:
    """Opaque rectangles on screen in drawing order (manim's, z_index included): text drawn under one that
    covers it (a mask's shade over a number) is hidden."""

    def __init__(self, mobjects: list[Mobject]) -> None:
        drawn = extract_mobject_family_members(mobjects, use_z_index=True, only_those_with_points=True)
        self.order = {id(m): k for k, m in enumerate(drawn)}
        rects = [(k, m) for k, m in enumerate(drawn) if isinstance(m, Rectangle) and _opaque(m)]
        self.ranks = np.array([k for k, _ in rects], dtype=int)
        self.boxes = np.array([(*m.points.min(axis=0)[:2], *m.points.max(axis=0)[:2]) for _, m in rects],
                              dtype=float).reshape(-1, 4)

    def covers(self, unit: Mobject, box: np.ndarray) -> bool:
        if not len(self.ranks):
            return False
        last = max(self.order.get(id(m), -1) for m in unit.family_members_with_points())
        eps = 0.01
        inside = ((self.boxes[:, 0] <= box[0] + eps) & (self.boxes[:, 1] <= box[1] + eps)
                  & (self.boxes[:, 2] >= box[2] - eps) & (self.boxes[:, 3] >= box[3] - eps))
        return bool(np.any(inside & (self.ranks > last)))


def _opaque(m: Mobject) -> bool:
    fill = getattr(m, "fill_rgbas", None)
    return fill is not None and len(fill) > 0 and float(np.min(fill[:, 3])) >= 0.95


def _share_ink(a: Mobject, b: Mobject) -> bool:
    """True when ``a`` and ``b`` share a glyph (a formula and a part of it, both on screen)."""
    ids = {id(m) for m in a.family_members_with_points()}
    return any(id(m) in ids for m in b.family_members_with_points())


def _allowed(a: Mobject, b: Mobject, allowed) -> bool:
    for x, y, _reason in allowed:
        fx, fy = x.get_family(), y.get_family()
        if (_in(a, fx) and _in(b, fy)) or (_in(a, fy) and _in(b, fx)):
            return True
    return False


def _in(m: Mobject, family: list[Mobject]) -> bool:
    return any(m is f for f in family)


# ------------------------------------------------------------------------------------------- files
def findings_path(scene_name: str, setting: str | None = None) -> Path | None:
    """Where a scene writes its findings: ``ATTN_LAYOUT_CHECK`` (a file, or a folder to put
    ``<Scene>.json`` in); None when the check is off."""
    setting = os.environ.get(ENV, "") if setting is None else setting
    if not setting.strip():
        return None
    p = Path(setting)
    return p / f"{scene_name}.json" if p.is_dir() or setting.endswith(("/", os.sep)) else p


def read_findings(path: Path) -> list[Finding]:
    """The findings a scene wrote (raises FileNotFoundError when it wrote none)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [Finding(**f) for f in data["findings"]]


def read_declared(path: Path) -> list[dict]:
    """The overlaps a scene declared, as written with its findings."""
    return json.loads(Path(path).read_text(encoding="utf-8")).get("declared", [])

