"""scenes/kit/mobjects/text.py: the kit's text lets go of each glyph's parsed SVG path once its points
are built (copies of text are then about half as costly), and the picture does not change."""

from __future__ import annotations

import inspect
import re

import numpy as np
from manim import Camera, Text
from manim.mobject.svg.svg_mobject import VMobjectFromSVGPath

from scenes.kit.equations import equation
from scenes.kit.mobjects.code_panel import CodePanel
from scenes.kit.mobjects.text import drop_svg_sources, label, number, paragraph


def _glyphs(mob):
    return [m for m in mob.get_family() if isinstance(m, VMobjectFromSVGPath)]


def test_manim_reads_a_glyphs_svg_path_only_while_building_its_points():
    """If manim starts to use path_obj after __init__, dropping it is no longer safe: look again."""
    src = inspect.getsource(VMobjectFromSVGPath)
    uses = [m.start() for m in re.finditer(r"self\.path_obj", src)]
    assert len(uses) == 2, "VMobjectFromSVGPath uses self.path_obj in new places: check drop_svg_sources"
    build = inspect.getsource(VMobjectFromSVGPath.handle_commands)
    assert "self.path_obj" in build and "self.path_obj = path_obj" in inspect.getsource(VMobjectFromSVGPath.__init__)


def test_kit_text_has_no_svg_paths_and_draws_the_same():
    made = [label("attention"), label("x", mono=True), number(-1.25), paragraph(["one line", "two"]),
            equation("sdpa"), CodePanel("attn_ref.core.softmax")]
    for mob in made:
        glyphs = _glyphs(mob)
        assert glyphs and all(g.path_obj is None for g in glyphs)
    plain = Text("attention", font=label("a").kit_style[0], font_size=label("a").kit_style[1],
                 disable_ligatures=True)
    assert all(g.path_obj is not None for g in _glyphs(plain))
    kit = label("attention")
    pairs = list(zip(_glyphs(plain), _glyphs(kit), strict=True))
    assert pairs and all(len(a.points) and np.array_equal(a.points, b.points) for a, b in pairs)
    cam_a, cam_b = Camera(pixel_width=320, pixel_height=180), Camera(pixel_width=320, pixel_height=180)
    cam_a.capture_mobjects([plain.copy().set_color("#FFFFFF")])
    cam_b.capture_mobjects([drop_svg_sources(plain.copy()).set_color("#FFFFFF")])
    assert np.array_equal(cam_a.pixel_array, cam_b.pixel_array) and cam_a.pixel_array.any()


def test_a_copy_keeps_the_points_and_shares_nothing_mutable():
    a = label("copy me")
    b = a.copy()
    b.shift([1, 0, 0])
    assert not np.array_equal(a[0].points, b[0].points)
    assert all(g.path_obj is None for g in _glyphs(b))
