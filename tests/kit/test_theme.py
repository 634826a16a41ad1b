"""The course palette: valid, distinct where it must be, readable on the background."""
import itertools
import re
from pathlib import Path

import pytest

from scenes.kit import theme
from scenes.kit.theme import COLORS, FONTS, SAFE, SIZES, contrast_ratio, heat_color, oklab_distance, to_oklab

HEX = re.compile(r"^#[0-9A-F]{6}$", re.I)
ROLES = ["Q", "K", "V", "SCORE", "WEIGHT", "MASK", "OUTPUT", "ACCENT"]


def all_colors():
    return [COLORS[r] for r in COLORS.roles()] + list(COLORS.HEADS) + list(COLORS.EXPERTS)


def test_every_colour_is_hex():
    for c in all_colors() + list(theme.HEAT_STOPS):
        assert HEX.match(c), c


def test_background_matches_manim_cfg():
    cfg = Path("manim.cfg").read_text()
    assert f"background_color = {COLORS.BACKGROUND}" in cfg


def test_text_contrast_wcag():
    assert contrast_ratio(COLORS.TEXT, COLORS.BACKGROUND) >= 7.0
    assert contrast_ratio(COLORS.MUTED, COLORS.BACKGROUND) >= 4.5
    for role in ("Q", "K", "V", "SCORE", "WEIGHT", "OUTPUT", "ACCENT"):
        assert contrast_ratio(COLORS[role], COLORS.BACKGROUND) >= 4.5, role


@pytest.mark.parametrize("group,minimum", [("HEADS", 0.08), ("EXPERTS", 0.08)])
def test_heads_and_experts_distinct(group, minimum):
    colors = getattr(COLORS, group)
    assert len(colors) >= 8 and len(set(colors)) == len(colors)
    worst = min(oklab_distance(a, b) for a, b in itertools.combinations(colors, 2))
    assert worst >= minimum, f"{group}: two colours only {worst:.3f} apart in OKLab"


def test_roles_distinct():
    worst = min((oklab_distance(COLORS[a], COLORS[b]), a, b) for a, b in itertools.combinations(ROLES, 2))
    assert worst[0] >= 0.1, worst


def test_heat_ramp_ordered_and_visible():
    lightness = [to_oklab(heat_color(v / 20))[0] for v in range(21)]
    assert all(b > a for a, b in itertools.pairwise(lightness)), "lightness must rise with the value"
    assert contrast_ratio(heat_color(0.0), COLORS.BACKGROUND) > 1.3  # the darkest cell still shows
    assert heat_color(-5) == heat_color(0) and heat_color(7) == heat_color(1)  # clipped
    assert heat_color(5, vmin=0, vmax=10) == heat_color(0.5)
    with pytest.raises(ValueError):
        heat_color(float("nan"))


def test_numbers_on_heat_cells_readable():
    for v in range(101):
        fill = heat_color(v / 100)
        assert contrast_ratio(theme.text_color_on(fill), fill) >= 4.5
    assert contrast_ratio(COLORS.TEXT, COLORS.MASK) >= 4.5  # −∞ labels on masked cells
    assert contrast_ratio(COLORS.MASK, COLORS.BACKGROUND) >= 3.0  # masked cells stand out


def test_fonts_sizes_safe_area():
    import subprocess

    listed = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout
    assert FONTS.BODY in listed and FONTS.MONO in listed
    assert SIZES.TITLE > SIZES.HEADING > SIZES.BODY > SIZES.LABEL > SIZES.NUMBER > SIZES.SMALL > SIZES.CAPTION
    assert SIZES.CAPTION >= 16  # ≈ 22 px cap height at 1080p
    assert 0 < SAFE.margin < 1 and SAFE.width < theme.FRAME.WIDTH and SAFE.height < theme.FRAME.HEIGHT
    assert COLORS["q"] == COLORS.Q and COLORS.head(len(COLORS.HEADS)) == COLORS.HEADS[0]
    with pytest.raises(KeyError):
        COLORS["nope"]
