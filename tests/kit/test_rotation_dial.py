"""RotationDial and DialRow: hands drawn at the angles given (Lecture 3's 2-D q, k and its planes' angles),
turning both hands keeps the angle between them, the row captions every plane with its wavelength."""
from __future__ import annotations

import math

import numpy as np
import pytest

from scenes.kit.format import shown
from scenes.kit.mobjects import DialRow, RotationDial
from scenes.l03_rope import data as d


def _angle(v) -> float:
    return math.atan2(v[1], v[0])


def _run(anim) -> None:
    anim.begin()
    anim.interpolate(1.0)
    anim.finish()


def test_hands_at_the_given_angles_and_the_arc_between_them():
    s = d.shift_invariance()
    qa, ka = _angle(s.q_rotated[0]), _angle(s.k_rotated[0])
    dial = RotationDial(qa, ka, radius=1.5, q_length=0.8, caption="q·k")
    assert dial.hand_angle("q") == pytest.approx(qa, abs=1e-9)
    assert dial.hand_angle("k") == pytest.approx(ka, abs=1e-9)
    assert dial.angle_between() == pytest.approx(s.angle_between[0], abs=1e-9)
    q_len = dial.q_hand.get_end() - dial.q_hand.get_start()
    assert math.hypot(q_len[0], q_len[1]) == pytest.approx(0.8 * 1.5, rel=1e-6)
    assert dial.radius == pytest.approx(1.5)
    assert [t.original_text for t in dial.hand_labels] == ["q", "k"]
    assert dial.caption.get_top()[1] < dial.circle.get_bottom()[1]
    # the arc starts on the q hand and sweeps to the k hand
    assert dial.arc.get_start() - dial.centre == pytest.approx(
        0.32 * 1.5 * np.array([math.cos(qa), math.sin(qa), 0]), abs=1e-6)
    assert dial.arc.get_end() - dial.centre == pytest.approx(
        0.32 * 1.5 * np.array([math.cos(ka), math.sin(ka), 0]), abs=1e-6)


def test_turning_both_hands_keeps_the_angle_between_them():
    s = d.shift_invariance()
    dial = RotationDial(_angle(s.q_rotated[0]), _angle(s.k_rotated[0]))
    dial.shift([2.0, -1.0, 0.0]).scale(0.7)
    before, centre = dial.angle_between(), dial.centre.copy()
    for t, q_r, k_r in zip(s.shifts[1:], s.q_rotated[1:], s.k_rotated[1:]):
        _run(dial.turn(t * s.theta - (dial.q_angle - _angle(s.q_rotated[0]))))
        assert math.remainder(dial.hand_angle("q") - _angle(q_r), 2 * math.pi) == pytest.approx(0, abs=1e-9)
        assert math.remainder(dial.hand_angle("k") - _angle(k_r), 2 * math.pi) == pytest.approx(0, abs=1e-9)
        assert dial.angle_between() == pytest.approx(before, abs=1e-9)
    assert dial.centre == pytest.approx(centre)   # the hands turn about the dial's own centre
    # different turns per hand change the gap by their difference
    _run(dial.turn_hands(0.0, 0.3))
    assert dial.angle_between() == pytest.approx(math.remainder(before + 0.3, 2 * math.pi), abs=1e-9)
    with pytest.raises(ValueError):
        RotationDial(0.0, 1.0, q_length=1.5)


def test_dial_row_one_dial_per_plane_with_its_wavelength():
    p = d.planes()
    lam = [p.wavelength[i] for i in p.dial_planes]
    row = DialRow(p.dial_angles[0], p.dial_k_angles[0], lam, titles=[f"plane {i}" for i in p.dial_planes])
    assert len(row.dials) == len(p.dial_planes)
    assert [c.original_text for c in row.captions()] == [
        f"λ = {shown(w, 2 if w < 100 else 0)}" for w in lam]
    assert row.captions()[0].original_text == f"λ = {shown(p.fastest_wavelength)}"
    assert row.captions()[-1].original_text == f"λ = {shown(p.slowest_wavelength, 0)}"
    xs = [dl.centre[0] for dl in row.dials]
    assert xs == sorted(xs)
    # step every plane from position 1 to 2: hand angles follow the builder's, each gap is gap·θ_i
    row = DialRow(p.dial_angles[1], p.dial_k_angles[1], lam, titles=[str(i) for i in p.dial_planes])
    _run(row.turn([b - a for a, b in zip(p.dial_angles[1], p.dial_angles[2])]))
    for dl, i, qa, ka in zip(row.dials, p.dial_planes, p.dial_angles[2], p.dial_k_angles[2]):
        assert math.remainder(dl.hand_angle("q") - qa, 2 * math.pi) == pytest.approx(0, abs=1e-9)
        assert math.remainder(dl.hand_angle("k") - ka, 2 * math.pi) == pytest.approx(0, abs=1e-9)
        assert dl.angle_between() == pytest.approx(math.remainder(p.dial_gap * p.theta[i], 2 * math.pi), abs=1e-6)
    assert not len(row.dials[0].hand_labels)
