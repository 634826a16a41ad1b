"""VectorPlane: value points from Lecture 2's running example, the hull, the weighted output and arrow sums."""
from __future__ import annotations

import numpy as np
import pytest

from scenes.kit.mobjects import VectorPlane
from scenes.kit.mobjects.vector_plane import _boxes_touch
from scenes.l02_multihead import data


def _affine_from_dots(plane, values):
    """The plane's map, recovered from three dots: screen = a + M (xy − c)."""
    a = plane.to_screen(plane.data_center)[:2]
    m = np.stack([plane.to_screen(plane.data_center + e)[:2] - a for e in np.eye(2)], 1)
    return a, m


@pytest.mark.parametrize("uniform", [True, False])
def test_dots_sit_where_the_data_says_and_fit_the_box(uniform):
    c = data.convex_hull()
    plane = VectorPlane(c.values, list(c.tokens), width=5.0, height=4.0, uniform=uniform)
    for dot, v in zip(plane.dots, c.values):
        assert np.allclose(dot.get_center(), plane.to_screen(v), atol=1e-9)
    assert plane.dots.width <= 5.0 + 1e-9 and plane.dots.height <= 4.0 + 1e-9
    _, m = _affine_from_dots(plane, c.values)
    assert abs(m[0, 1]) < 1e-12 and abs(m[1, 0]) < 1e-12  # axis-aligned scaling
    if uniform:
        assert m[0, 0] == pytest.approx(m[1, 1])


def test_output_dot_is_the_weighted_average_and_follows_moves():
    c = data.convex_hull()
    plane = VectorPlane(c.values, list(c.tokens), uniform=False).shift([1.0, -0.5, 0]).scale(0.7)
    for f in c.frames:
        dot = plane.output_dot(f.weights)
        assert np.allclose(dot.get_center(), plane.to_screen(f.output), atol=1e-9)
        assert np.allclose(plane.weighted_point(f.weights), f.output, atol=1e-12)
    for dot, v in zip(plane.dots, c.values):  # the map followed the move and the scaling
        assert np.allclose(dot.get_center(), plane.to_screen(v), atol=1e-9)


def test_hull_polygon_goes_through_the_hull_values():
    c = data.convex_hull()
    plane = VectorPlane(c.values, list(c.tokens))
    poly = plane.hull_polygon(c.hull)
    corners = poly.get_vertices()
    assert len(corners) == len(c.hull)
    for corner, k in zip(corners, c.hull):
        assert np.allclose(corner, plane.to_screen(c.values[k]), atol=1e-9)


def test_labels_do_not_touch_other_dots_or_each_other():
    for values, tokens in ((data.convex_hull().values, data.SENTENCE),
                           *((v, data.SENTENCE) for v in data.two_token_query().head_values)):
        plane = VectorPlane(values, list(tokens), width=5.0, height=4.5, uniform=False)
        labs = list(plane.labels)
        assert [lab.original_text for lab in labs] == list(tokens)
        for k, lab in enumerate(labs):
            assert not any(_boxes_touch(lab, d, 0.0) for j, d in enumerate(plane.dots) if j != k)
            assert not any(_boxes_touch(lab, other, 0.0) for other in labs[k + 1:])


def test_arrow_chain_adds_the_head_writes_tip_to_tail():
    a = data.head_writes()
    x = np.array(a.residual[:2])
    steps = np.array([w[:2] for w in a.token_writes])
    plane = VectorPlane(extent=[(0, 0), x, x + steps[0], a.residual_after[:2]], show_origin=True)
    chain = plane.arrow_chain(x, steps, ["#4DABF7", "#FF922B"], total_color="#FF8FD8")
    assert len(chain.arrows) == 2
    assert np.allclose(chain.points_data[-1], a.residual_after[:2], atol=1e-12)
    for k, arrow in enumerate(chain.arrows):
        assert np.allclose(arrow.get_start(), plane.to_screen(chain.points_data[k]), atol=1e-6)
        assert np.allclose(arrow.get_end(), plane.to_screen(chain.points_data[k + 1]), atol=1e-6)
    assert np.allclose(chain.total.get_end(), plane.to_screen(a.residual_after[:2]), atol=1e-6)
    assert np.allclose(plane.origin_mark.get_center(), plane.to_screen((0, 0)), atol=1e-9)


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        VectorPlane([(0, 0), (1, 1)], ["a"])
    with pytest.raises(ValueError):
        VectorPlane()
    plane = VectorPlane([(0, 0), (1, 1)])
    with pytest.raises(ValueError):
        plane.weighted_point([1.0])
    with pytest.raises(ValueError):
        plane.arrow_chain((0, 0), [(1, 0)], ["#FFFFFF", "#000000"])
