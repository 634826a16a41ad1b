"""scenes/kit/camera.py: the path-caching camera draws exactly the pixels of manim's camera, frame after
frame, when outlines stay, move, change shape or are evicted from the cache."""

from __future__ import annotations

import numpy as np
from manim import (BLUE, DOWN, GREEN, LEFT, RED, RIGHT, UP, Camera, Circle, Line, MathTex, Rectangle,
                   RoundedRectangle, Square, SurroundingRectangle, Text, VGroup, VMobject)

from scenes.kit.camera import PathCacheCamera
from scenes.kit.lecture_scene import LectureScene


def _mobjects():
    dashes = VMobject().set_points_as_corners([LEFT * 2, LEFT, LEFT + UP, LEFT * 2 + UP])  # open path
    two_parts = VGroup(Square(0.5).shift(RIGHT * 5 + DOWN * 2), Circle(0.3).shift(RIGHT * 5 + DOWN * 3))
    return [Text("Attention", font_size=48).shift(UP * 2 + LEFT * 3),
            Rectangle(width=3, height=1).shift(UP * 2 + LEFT * 3),
            Square(1.0).shift(RIGHT * 2), Circle(0.7).set_fill(RED, 0.5),
            Line(LEFT * 4, RIGHT * 4).shift(DOWN * 2),
            MathTex(r"\mathrm{softmax}(QK^\top/\sqrt{d})").shift(DOWN),
            SurroundingRectangle(Text("q").shift(UP * 3)),
            RoundedRectangle(corner_radius=0.2, width=2, height=1).shift(LEFT * 5 + DOWN * 2).set_fill(BLUE, 1),
            Rectangle(width=2.5, height=0.6).set_fill(GREEN, 0.6).shift(RIGHT * 4 + UP * 2),
            dashes, two_parts,
            VMobject()]  # no points: manim leaves the context's path alone


def _frame(camera, mobjects):
    camera.reset()
    camera.capture_mobjects(mobjects)
    return camera.pixel_array.copy()


def _cameras():
    kw = dict(pixel_width=480, pixel_height=270)
    return Camera(**kw), PathCacheCamera(**kw)


def test_same_pixels_as_manims_camera_over_frames_that_move_and_reshape():
    mobs = _mobjects()
    stock, cached = _cameras()
    for step in range(6):
        a, b = _frame(stock, mobs), _frame(cached, mobs)
        assert np.array_equal(a, b), f"frame {step} differs"
        assert a[..., :3].any()  # something was drawn
        mobs[2].shift(RIGHT * 0.1)  # moves: new points
        mobs[3].stretch(1.05, 0)  # reshapes
        mobs[8].set_fill(RED, 0.3 + 0.1 * step)  # colour only: same outline, same path
    assert cached.path_hits > 0 and cached.path_misses > 0
    # the static outlines came from the cache on every frame after the first
    assert cached.path_hits >= 5 * 20


def test_an_outline_that_comes_back_is_drawn_from_the_cache_and_identically():
    sq = Square(1.2).set_fill(BLUE, 0.8)
    stock, cached = _cameras()
    first = _frame(cached, [sq])
    points = sq.points.copy()
    sq.shift(RIGHT)
    moved = _frame(cached, [sq])
    sq.points = points  # exactly the first outline again (a shift back could differ in the last bit)
    hits = cached.path_hits
    back = _frame(cached, [sq])
    assert cached.path_hits == hits + 1
    assert np.array_equal(back, first) and not np.array_equal(moved, first)
    assert np.array_equal(back, _frame(stock, [sq]))


def test_eviction_keeps_the_pixels_right(monkeypatch):
    monkeypatch.setattr(PathCacheCamera, "max_paths", 3)
    mobs = _mobjects()
    stock, cached = _cameras()
    for _ in range(3):
        assert np.array_equal(_frame(stock, mobs), _frame(cached, mobs))
    assert len(cached._paths) <= 3


def test_lecture_scenes_draw_with_it_unless_stock_manim_is_asked_for(monkeypatch):
    monkeypatch.delenv("ATTN_STOCK_MANIM", raising=False)
    assert LectureScene().camera_class is PathCacheCamera
    monkeypatch.setenv("ATTN_STOCK_MANIM", "1")
    assert LectureScene().camera_class is Camera
    assert LectureScene(camera_class=PathCacheCamera).camera_class is PathCacheCamera
