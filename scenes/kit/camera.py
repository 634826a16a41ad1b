"""``PathCacheCamera``: manim's Cairo camera, building each distinct outline for Cairo once.

For every vectorized mobject of every frame, manim's ``Camera.set_cairo_context_path`` splits the
points into subpaths and hands them to Cairo one Bézier curve at a time from Python: about a third
of the drawing time of a lecture scene (reference/render-profile.md; in a 1080p60 profile of
Lecture 1's WorkedExample, 70 of 285 s). Most of those outlines did not change since the last
frame: a table's glyphs sit still while one row is highlighted, yet manim redraws everything above
the first animated mobject.

This camera keeps the Cairo path of each outline it built, keyed by the outline's exact points (the
bytes of the array) and the two settings the subpath split reads (``n_points_per_cubic_curve``,
``tolerance_for_point_equality``). An outline seen before is appended as a copy instead of being
rebuilt. The path is copied and appended in device space (the identity matrix), where Cairo's
fixed-point coordinates convert to doubles and back exactly, so the frames are identical byte for
byte (tests/kit/test_camera.py renders the same scene with both cameras and compares every pixel).
Fill, stroke and colour are applied as manim applies them; only the path building is skipped.

The cache holds at most ``max_paths`` outlines and drops the least recently drawn first. It is a
subclass at manim's own configuration point (``Scene(camera_class=...)``), not a patch.
"""

from __future__ import annotations

from manim.camera.camera import Camera


class PathCacheCamera(Camera):
    """A :class:`manim.camera.camera.Camera` whose ``set_cairo_context_path`` reuses the Cairo path
    of an outline with the same points."""

    #: outlines kept; a 1080p lecture frame draws a few hundred, most of them every frame
    max_paths: int = 8192

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._paths: dict = {}
        self.path_hits = 0
        self.path_misses = 0

    def set_cairo_context_path(self, ctx, vmobject):
        points = vmobject.points
        if len(points) == 0:  # manim leaves the context's path as it is: keep that behaviour exactly
            return super().set_cairo_context_path(ctx, vmobject)
        key = (points.tobytes(), points.shape, vmobject.n_points_per_cubic_curve,
               vmobject.tolerance_for_point_equality)
        paths = self._paths
        path = paths.pop(key, None)
        if path is None:
            self.path_misses += 1
            super().set_cairo_context_path(ctx, vmobject)
            ctx.save()
            ctx.identity_matrix()
            path = ctx.copy_path()
            ctx.restore()
            if len(paths) >= self.max_paths:
                del paths[next(iter(paths))]
        else:
            self.path_hits += 1
            ctx.new_path()
            ctx.save()
            ctx.identity_matrix()
            ctx.append_path(path)
            ctx.restore()
        paths[key] = path  # (re)inserted last: the dict's order is least recently drawn first
        return self
