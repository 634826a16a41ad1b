"""``WrongRight``: a pitfall drawn as two framed panels, "wrong" and "right", under a title, each holding any
mobject (a mask grid, a position table, a line of code) and a verdict line under it (the computed difference,
with a red cross or a green check); an optional citation line underneath names where the bug was reported.

    pair = WrongRight("is_causal=True in a decode step", wrong_grid, right_grid,
                      wrong_verdict=f"logits off by {shown(m.decode_logit_diff)}",
                      right_verdict=f"off by {shown(m.decode_right_diff, sci=1)}",
                      citation=issue_citation(m.issues))
    self.play(FadeIn(pair.title), FadeIn(pair.wrong.frame), FadeIn(pair.wrong.header), FadeIn(pair.wrong.content))
    self.play(FadeIn(pair.wrong.verdict)); self.play(Create(pair.flag("wrong")))

The pair draws the strings it is given (a scene formats numbers with ``scenes.kit.format.shown``). Side by side
by default, ``stacked=True`` puts "wrong" above "right". ``issue_citation`` writes GitHub issue ids
("owner/repo#123") as a citation line, grouped by repository: "pytorch/pytorch #103082, #144858".
"""
from __future__ import annotations

from collections.abc import Sequence

from manim import DOWN, LEFT, RIGHT, UP, Mobject, Rectangle, RoundedRectangle, VGroup

from ..references import Reference
from ..theme import BUFF, COLORS, SIZES
from .layout import fit_within
from .text import label, paragraph

__all__ = ["RIGHT_MARK", "WRONG_MARK", "WrongRight", "issue_citation"]

WRONG_MARK, RIGHT_MARK = "\u2717", "\u2713"  # ✗ ✓
SIDES = ("wrong", "right")


def issue_citation(ids: str | Sequence[str]) -> str:
    """GitHub issue ids ``"owner/repo#n"`` as one citation line, grouped by repository in first-seen order:
    ``("pytorch/pytorch#103082", "pytorch/pytorch#144858", "a/b#1")`` -> ``"pytorch/pytorch #103082, #144858;
    a/b #1"``."""
    ids = [ids] if isinstance(ids, str) else list(ids)
    if not ids:
        raise ValueError("issue_citation needs at least one issue id")
    repos: dict[str, list[str]] = {}
    for s in ids:
        repo, sep, num = str(s).partition("#")
        if not sep or not repo or "/" not in repo or not num.isdigit():
            raise ValueError(f"an issue id is 'owner/repo#number', got {s!r}")
        repos.setdefault(repo.strip(), []).append(num)
    return "; ".join(f"{repo} " + ", ".join(f"#{n}" for n in nums) for repo, nums in repos.items())


def _as_mobject(content: Mobject | str, size: float) -> Mobject:
    if isinstance(content, Mobject):
        return content
    lines = str(content).split("\n")
    return label(lines[0], size=size) if len(lines) == 1 else paragraph(lines, size=size)


class _Panel(VGroup):
    """One side: ``.frame``, ``.header`` (VGroup(mark, name)), ``.mark``, ``.name``, ``.content``, ``.verdict``
    (VGroup(mark, text), empty without a verdict), ``.color``."""

    def __init__(self, side: str, name: str, content: Mobject, verdict: str | None, font_size: float,
                 header_size: float):
        super().__init__()
        self.side = side
        self.color = COLORS.MASK if side == "wrong" else COLORS.WEIGHT
        mark = WRONG_MARK if side == "wrong" else RIGHT_MARK
        self.mark = label(mark, size=header_size, color=self.color, weight="BOLD")
        self.name = label(name, size=header_size, color=COLORS.TEXT)
        self.header = VGroup(self.mark, self.name).arrange(RIGHT, buff=BUFF.SMALL)
        self.content = content
        self.verdict = VGroup()
        if verdict:
            self.verdict_mark = label(mark, size=font_size, color=self.color, weight="BOLD")
            self.verdict_text = label(verdict, size=font_size, color=COLORS.TEXT)
            self.verdict = VGroup(self.verdict_mark, self.verdict_text).arrange(RIGHT, buff=BUFF.SMALL)
        self.frame = RoundedRectangle(corner_radius=0.12, width=1, height=1)


class WrongRight(VGroup):
    """A titled pair of panels, "wrong" (red cross) and "right" (green check), each holding a mobject and a
    verdict line; an optional citation line under the pair.

    ``wrong`` / ``right``: any mobject, or a string (a label; ``"\\n"`` gives a paragraph). Both are scaled down
    (never up) by one factor, so that each fits the panel's inner size and the two stay comparable.
    ``panel_width`` / ``panel_height``: the outer size of each panel (None: as large as the larger content needs;
    both panels are always the same size). ``wrong_verdict`` /
    ``right_verdict``: one line under each content (e.g. the computed difference). ``citation``: a string (e.g.
    :func:`issue_citation`) or a :class:`Reference`, drawn small and muted under the pair. ``stacked``: "wrong"
    above "right" instead of left of it.

    Parts: ``.title`` (empty without one), ``.wrong`` and ``.right`` (each with ``.frame``, ``.header``,
    ``.mark``, ``.name``, ``.content``, ``.verdict``), ``.panels`` (VGroup(wrong, right)), ``.verdicts``,
    ``.citation`` (empty without one; its string is ``.citation_text``). ``panel(side)``; ``flag(side)`` returns a
    frame around that side's verdict (not added).
    """

    def __init__(self, title: str | Mobject | None, wrong: Mobject | str, right: Mobject | str, *,
                 wrong_verdict: str | None = None, right_verdict: str | None = None, wrong_label: str = "wrong",
                 right_label: str = "right", citation: Reference | str | None = None, stacked: bool = False,
                 panel_width: float | None = None, panel_height: float | None = None,
                 title_size: float = SIZES.BODY, header_size: float = SIZES.LABEL, font_size: float = SIZES.LABEL,
                 pad: float = BUFF.MEDIUM, buff: float = BUFF.LARGE):
        super().__init__()
        self.wrong = _Panel("wrong", wrong_label, _as_mobject(wrong, font_size), wrong_verdict, font_size,
                            header_size)
        self.right = _Panel("right", right_label, _as_mobject(right, font_size), right_verdict, font_size,
                            header_size)
        self.panels = VGroup(self.wrong, self.right)
        gap = BUFF.MEDIUM
        sides = (self.wrong, self.right)
        head_h = max(p.header.height for p in sides)
        verdict_h = max((p.verdict.height for p in sides if len(p.verdict)), default=0.0)
        fixed_h = head_h + gap + (gap + verdict_h if verdict_h else 0.0) + 2 * pad
        min_w = max(max(p.header.width, p.verdict.width) for p in sides) + 2 * pad
        if panel_width is not None and panel_width < min_w:
            raise ValueError(f"a panel needs {min_w:.2f} units for its header and verdict, panel_width is "
                             f"{panel_width:.2f}")
        if panel_height is not None and panel_height <= fixed_h + 0.2:
            raise ValueError(f"a panel needs more than {fixed_h + 0.2:.2f} units of height, got {panel_height:.2f}")
        if panel_width is not None or panel_height is not None:
            inner_w = None if panel_width is None else panel_width - 2 * pad
            inner_h = None if panel_height is None else panel_height - fixed_h
            factors = [1.0]
            for p in sides:
                if inner_w is not None and p.content.width > inner_w:
                    factors.append(inner_w / p.content.width)
                if inner_h is not None and p.content.height > inner_h:
                    factors.append(inner_h / p.content.height)
            for p in sides:  # one factor for both sides: the two contents stay comparable
                if min(factors) < 1.0:
                    p.content.scale(min(factors))
        width = panel_width if panel_width is not None else max(min_w, max(p.content.width for p in sides) + 2 * pad)
        height = panel_height if panel_height is not None else fixed_h + max(p.content.height for p in sides)
        content_h = height - fixed_h
        for k, p in enumerate(sides):
            p.frame = RoundedRectangle(corner_radius=0.12, width=width, height=height).set_stroke(p.color, 2.5)
            p.frame.set_fill(COLORS.PANEL, opacity=0.6)
            x0 = (width + buff) * k if not stacked else 0.0
            y0 = 0.0 if not stacked else -(height + buff) * k
            p.frame.move_to([x0, y0, 0])
            top = p.frame.get_top()[1] - pad
            p.header.move_to([p.frame.get_left()[0] + pad + p.header.width / 2, top - head_h / 2, 0])
            p.content.move_to([x0, top - head_h - gap - content_h / 2, 0])
            if len(p.verdict):
                p.verdict.move_to([p.frame.get_left()[0] + pad + p.verdict.width / 2,
                                   p.frame.get_bottom()[1] + pad + verdict_h / 2, 0])
            p.add(p.frame, p.header, p.content, p.verdict)
        self.verdicts = VGroup(*(p.verdict for p in sides))
        self.panel_width, self.panel_height = width, height

        self.title = VGroup()
        if title is not None:
            self.title = title if isinstance(title, Mobject) else label(title, size=title_size, color=COLORS.TEXT)
            self.title.next_to(self.panels, UP, buff=BUFF.MEDIUM).align_to(self.panels, LEFT)
        self.citation, self.citation_text = VGroup(), ""
        if citation is not None:
            self.citation_text = citation.short(venue=False) if isinstance(citation, Reference) else str(citation)
            self.citation = label(self.citation_text, size=SIZES.SMALL, color=COLORS.MUTED)
            fit_within(self.citation, self.panels.width, None)
            self.citation.next_to(self.panels, DOWN, buff=BUFF.MEDIUM).align_to(self.panels, LEFT)
        self.add(self.title, self.panels, self.citation)
        self.move_to([0, 0, 0])

    def panel(self, side: str) -> _Panel:
        if side not in SIDES:
            raise ValueError(f"side is 'wrong' or 'right', got {side!r}")
        return self.wrong if side == "wrong" else self.right

    def flag(self, side: str, stroke_width: float = 3) -> Rectangle:
        """A frame in the side's colour around its verdict line (not added; ``Create`` it)."""
        p = self.panel(side)
        if not len(p.verdict):
            raise ValueError(f"the {side} panel has no verdict")
        return Rectangle(width=p.verdict.width + 2 * BUFF.SMALL, height=p.verdict.height + 2 * BUFF.TIGHT + 0.06
                         ).set_stroke(p.color, stroke_width).move_to(p.verdict)
