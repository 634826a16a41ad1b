"""Title and end cards of a lecture, rendered by manim like the scenes (same codec settings, so the
assembler can join them by stream copy).

The render pipeline writes a JSON spec and sets ATTN_CARD_SPEC to its path; this module then
defines a scene class named by the spec (``TitleCard01``, ``EndCard01``: one class per card, so
parallel renders never share manim's partial-movie folder). Without the variable it defines
``TitleCard`` and ``EndCard`` for Lecture 01, to look at by hand:

    manim -pql scenes/pipeline/cards.py TitleCard
"""

from __future__ import annotations

import json
import os
from typing import ClassVar

from manim import DOWN, UP, FadeIn, FadeOut, Rectangle, Scene, Text, VGroup

try:
    from scenes.kit.theme import COLORS, FONTS, SIZES

    BG, TEXT, MUTED, ACCENT = COLORS.BACKGROUND, COLORS.TEXT, COLORS.MUTED, COLORS.ACCENT
    QKV = (COLORS.Q, COLORS.K, COLORS.V)
    FONT = FONTS.BODY
    TITLE_SIZE, HEADING_SIZE, BODY_SIZE, LABEL_SIZE = SIZES.TITLE, SIZES.HEADING, SIZES.BODY, SIZES.LABEL
except ImportError:  # the kit's theme is the source of truth; these mirror it
    BG, TEXT, MUTED, ACCENT = "#0F1117", "#E8EAED", "#8B93A7", "#FF922B"
    QKV = ("#FFD43B", "#3BC9DB", "#FF6B6B")
    FONT = "DejaVu Sans"
    TITLE_SIZE, HEADING_SIZE, BODY_SIZE, LABEL_SIZE = 52, 38, 30, 26

MAX_TEXT_WIDTH = 12.0  # scene units (the frame is 14.2 wide)


def _text(s: str, size: float, color: str, weight: str = "NORMAL") -> Text:
    t = Text(s, font=FONT, font_size=size, color=color, weight=weight)
    if t.width > MAX_TEXT_WIDTH:
        t.scale_to_fit_width(MAX_TEXT_WIDTH)
    return t


def _qkv_bar() -> VGroup:
    bar = VGroup(*[Rectangle(width=1.1, height=0.09, fill_color=c, fill_opacity=1, stroke_width=0) for c in QKV])
    return bar.arrange(buff=0.12)


def title_card(spec: dict) -> VGroup:
    subtitle = spec["course"]
    try:  # the kit's title card, the one lecture scenes use too
        from scenes.kit.mobjects.cards import TitleCard as KitTitleCard

        return KitTitleCard(int(spec["lecture_id"]), spec["lecture_title"], subtitle)
    except ImportError:
        pass
    course = _text(spec["course"].upper(), LABEL_SIZE, MUTED)
    number = _text(f"Lecture {spec['lecture_id']} of {spec['lecture_count']:02d}", HEADING_SIZE, ACCENT)
    title = _text(spec["lecture_title"], TITLE_SIZE * 1.45, TEXT, weight="BOLD")
    group = VGroup(course, number, title, _qkv_bar()).arrange(DOWN, buff=0.45)
    return group.move_to([0, 0, 0])


def end_card(spec: dict) -> VGroup:
    parts = [_text("Thanks for watching", TITLE_SIZE, TEXT, weight="BOLD"), _qkv_bar()]
    if spec.get("next"):
        parts.append(_text(f"Next: {spec['next']}", HEADING_SIZE, ACCENT))
    else:
        parts.append(_text(f"This was the last lecture of {spec['course']}.", HEADING_SIZE, ACCENT))
    parts.append(_text("Every number on screen is computed by attn_ref, the course's tested reference code.",
                       LABEL_SIZE, MUTED))
    return VGroup(*parts).arrange(DOWN, buff=0.5).move_to([0, 0, 0])


class CardScene(Scene):
    spec: ClassVar[dict] = {}

    def construct(self) -> None:
        spec = self.spec
        self.camera.background_color = BG
        self.next_section(spec["section"])
        card = title_card(spec) if spec["kind"] == "title" else end_card(spec)
        fade_in, fade_out = 0.8, 0.6
        self.play(FadeIn(card, shift=UP * 0.15), run_time=fade_in)
        self.wait(max(0.1, float(spec["duration"]) - fade_in - fade_out))
        self.play(FadeOut(card), run_time=fade_out)


def _make(spec: dict) -> type[Scene]:
    return type(spec["scene_name"], (CardScene,), {"spec": spec, "__module__": __name__})


def _default_spec(kind: str) -> dict:
    from scenes.course import COURSE
    from scenes.pipeline.render import card_spec

    spec = card_spec(COURSE, COURSE.lectures[0], kind)
    spec["scene_name"] = "TitleCard" if kind == "title" else "EndCard"
    return spec


if os.environ.get("ATTN_CARD_SPEC"):
    with open(os.environ["ATTN_CARD_SPEC"], encoding="utf-8") as _fh:
        _spec = json.load(_fh)
    globals()[_spec["scene_name"]] = _make(_spec)
else:
    TitleCard = _make(_default_spec("title"))
    EndCard = _make(_default_spec("end"))
