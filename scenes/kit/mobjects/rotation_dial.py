"""``RotationDial``: a circle with a q hand and a k hand at given angles and the arc between them (one RoPE
rotation plane, drawn as a clock); ``DialRow``: one dial per plane, each captioned with its wavelength.

    dial = RotationDial(q_angle, k_angle, q_length=0.8, title="one plane", caption="q·k = −0.11")
    self.play(dial.turn(t * theta))                    # both hands turn by the same angle: the gap stays
    self.play(dial.set_caption("q·k = −0.11"))         # a new readout under the dial
    row = DialRow(q_angles, k_angles, wavelengths, titles=["plane 0", "plane 1", ...])
    self.play(row.turn([d0, d1, ...]))                 # every plane by its own angle

Angles are radians, counter-clockwise from the dial's +x direction, as the caller's builder computed them
(e.g. position × θ_i); the dial only draws them. ``turn`` animates from the hands' angles when the animation
starts, so animations may be made one after another before they are played in that order.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from manim import RIGHT, UP, Animation, AnimationGroup, Arc, Arrow, Circle, Line, Transform, VGroup

from ..format import shown
from ..theme import BUFF, COLORS, SIZES
from .text import label

__all__ = ["DialRow", "RotationDial", "wavelength_text"]


def _direction(angle: float) -> np.ndarray:
    return np.array([math.cos(angle), math.sin(angle), 0.0])


def _gap(q_angle: float, k_angle: float) -> float:
    """The signed angle from q to k, in (−π, π]."""
    return math.remainder(k_angle - q_angle, 2 * math.pi)


class RotationDial(VGroup):
    """One rotation plane as a clock face: a circle of ``radius``, a q hand (COLORS.Q) at ``q_angle`` and a k
    hand (COLORS.K) at ``k_angle``, their lengths ``q_length``/``k_length`` times the radius, and an arc from q
    to k (the angle between them, the only thing RoPE's score sees).

    Parts: ``.circle``, ``.zero_mark`` (a tick at angle 0), ``.q_hand``, ``.k_hand``, ``.hand_labels``
    (``q``/``k`` beyond the tips, empty when ``hand_labels=False``), ``.arc``, ``.title`` (above, may be empty),
    ``.caption`` (below, may be empty: the angle or the dot product). State: ``.q_angle``, ``.k_angle``.
    """

    def __init__(self, q_angle: float, k_angle: float, *, radius: float = 1.0, q_length: float = 1.0,
                 k_length: float = 1.0, hand_labels: bool = True, q_label: str = "q", k_label: str = "k",
                 arc: bool = True, title: str | None = None, caption: str | None = None,
                 hand_width: float = 6, label_size: float = SIZES.LABEL, caption_size: float = SIZES.LABEL,
                 caption_color: str = COLORS.TEXT):
        super().__init__()
        for name, v in (("q_length", q_length), ("k_length", k_length)):
            if not 0 < v <= 1:
                raise ValueError(f"{name} is a fraction of the radius in (0, 1], got {v}")
        if not (math.isfinite(q_angle) and math.isfinite(k_angle)):
            raise ValueError(f"hand angles must be finite, got {q_angle}, {k_angle}")
        self.q_length, self.k_length, self.hand_width = q_length, k_length, hand_width
        self.caption_size, self.caption_color = caption_size, caption_color
        self.circle = Circle(radius=radius).set_stroke(COLORS.GRID, 3)
        self.zero_mark = Line(RIGHT * radius * 0.9, RIGHT * radius * 1.08).set_stroke(COLORS.MUTED, 3)
        self.q_hand = self._hand(q_angle, q_length, COLORS.Q)
        self.k_hand = self._hand(k_angle, k_length, COLORS.K)
        self.hand_labels = VGroup()
        if hand_labels:
            self.hand_labels = VGroup(label(q_label, size=label_size, color=COLORS.Q),
                                      label(k_label, size=label_size, color=COLORS.K))
        self.show_arc = arc
        self.arc = self._arc(q_angle, k_angle) if arc else VGroup()
        self.add(self.circle, self.zero_mark, self.arc, self.q_hand, self.k_hand, self.hand_labels)
        self._place(float(q_angle), float(k_angle))
        self.title = VGroup()
        if title:
            self.title = label(title, size=label_size, color=COLORS.TEXT)
            self.title.next_to(self.circle, UP, buff=BUFF.SMALL + (0.3 if hand_labels else 0.0))
            self.add(self.title)
        self.caption = VGroup()
        if caption:
            self.caption = self._caption(caption)
            self.add(self.caption)

    # -- geometry -------------------------------------------------------------------------------------------
    @property
    def centre(self) -> np.ndarray:
        return self.circle.get_center()

    @property
    def radius(self) -> float:
        return self.circle.width / 2

    def _hand(self, angle: float, length: float, color: str) -> Arrow:
        c = self.centre
        return Arrow(c, c + _direction(angle) * length * self.radius, buff=0, color=color,
                     stroke_width=self.hand_width, max_tip_length_to_length_ratio=0.25, tip_length=0.2)

    def _place(self, q_angle: float, k_angle: float) -> None:
        """Put both hands, their labels and the arc at these angles (the dial's state follows)."""
        self.q_angle, self.k_angle = q_angle, k_angle
        self.q_hand.become(self._hand(q_angle, self.q_length, COLORS.Q))
        self.k_hand.become(self._hand(k_angle, self.k_length, COLORS.K))
        r = self.radius
        for lab, ang, ln in zip(self.hand_labels, (q_angle, k_angle), (self.q_length, self.k_length)):
            reach = 0.5 * max(lab.width, lab.height) + BUFF.SMALL
            lab.move_to(self.centre + _direction(ang) * (ln * r + reach))
        if self.show_arc:
            self.arc.become(self._arc(q_angle, k_angle))

    def _arc(self, q_angle: float, k_angle: float) -> Arc:
        gap = _gap(q_angle, k_angle)
        visible = abs(gap) > 1e-4
        return Arc(radius=0.32 * self.radius, start_angle=q_angle, angle=gap if visible else 1e-4,
                   arc_center=self.centre).set_stroke(COLORS.ACCENT, 4, opacity=1.0 if visible else 0.0)

    def hand_angle(self, which: str) -> float:
        """The angle of the ``"q"`` or ``"k"`` hand as drawn (from its start to its tip)."""
        hand = {"q": self.q_hand, "k": self.k_hand}[which]
        v = hand.get_end() - hand.get_start()
        return math.atan2(v[1], v[0])

    def angle_between(self) -> float:
        """The drawn angle from the q hand to the k hand, in (−π, π]."""
        return _gap(self.hand_angle("q"), self.hand_angle("k"))

    # -- animations -----------------------------------------------------------------------------------------
    def turn(self, delta: float, **kwargs) -> Animation:
        """Both hands turn by ``delta`` radians (counter-clockwise when positive): the angle between stays."""
        return _Turn(self, float(delta), float(delta), **kwargs)

    def turn_hands(self, q_delta: float, k_delta: float, **kwargs) -> Animation:
        """The q hand turns by ``q_delta``, the k hand by ``k_delta`` (e.g. from position 0 to m and n)."""
        return _Turn(self, float(q_delta), float(k_delta), **kwargs)

    def _caption(self, text: str):
        cap = label(text, size=self.caption_size, color=self.caption_color)
        below = self.circle.get_bottom()[1] - (0.3 if len(self.hand_labels) else 0.0)
        return cap.move_to([self.centre[0], below - BUFF.SMALL - cap.height / 2, 0])

    def set_caption(self, text: str) -> Animation:
        """Replace the caption under the dial with ``text`` (a Transform of ``.caption``)."""
        new = self._caption(text)
        if not len(self.caption):
            self.caption = VGroup()
            self.add(self.caption)
        return Transform(self.caption, new)


class _Turn(Animation):
    """Turn a dial's hands by (q_delta, k_delta) from wherever they are when the animation begins."""

    def __init__(self, dial: RotationDial, q_delta: float, k_delta: float, **kwargs):
        self.q_delta, self.k_delta = q_delta, k_delta
        self.q0, self.k0 = dial.q_angle, dial.k_angle
        super().__init__(dial, **kwargs)

    def begin(self) -> None:
        self.q0, self.k0 = self.mobject.q_angle, self.mobject.k_angle
        super().begin()

    def interpolate_mobject(self, alpha: float) -> None:
        a = self.rate_func(alpha)
        self.mobject._place(self.q0 + a * self.q_delta, self.k0 + a * self.k_delta)


def wavelength_text(wavelength: float) -> str:
    """``λ = 6.28`` (two places below 100 tokens, whole tokens above)."""
    return f"λ = {shown(wavelength, 2 if wavelength < 100 else 0)}"


class DialRow(VGroup):
    """One :class:`RotationDial` per plane, left to right, each titled (``titles``) and captioned with its
    wavelength λ in tokens (``wavelengths``, from the caller's builder). Hands are unlabelled (colour says q or
    k); a shorter k hand (``k_length``) keeps both visible where they nearly coincide (slow planes).
    Parts: ``.dials``; ``turn(deltas)`` turns every dial by its own angle, both hands together."""

    def __init__(self, q_angles: Sequence[float], k_angles: Sequence[float], wavelengths: Sequence[float], *,
                 titles: Sequence[str], radius: float = 0.8, buff: float = BUFF.LARGE,
                 q_length: float = 1.0, k_length: float = 1.0, label_size: float = SIZES.LABEL):
        super().__init__()
        n = len(q_angles)
        if not (len(k_angles) == len(wavelengths) == len(titles) == n) or n == 0:
            raise ValueError(f"need one q angle, k angle, wavelength and title per plane: {len(q_angles)}, "
                             f"{len(k_angles)}, {len(wavelengths)}, {len(titles)}")
        self.wavelengths = tuple(float(w) for w in wavelengths)
        self.dials = VGroup(*(RotationDial(q, k, radius=radius, q_length=q_length, k_length=k_length,
                                           hand_labels=False, title=t,
                                           caption=wavelength_text(w), label_size=label_size,
                                           caption_size=label_size)
                              for q, k, w, t in zip(q_angles, k_angles, self.wavelengths, titles)))
        self.dials.arrange(RIGHT, buff=buff, aligned_edge=UP)
        self.add(self.dials)

    def turn(self, deltas: Sequence[float], **kwargs) -> AnimationGroup:
        """Dial ``i`` turns both hands by ``deltas[i]``."""
        if len(deltas) != len(self.dials):
            raise ValueError(f"{len(deltas)} angles for {len(self.dials)} dials")
        return AnimationGroup(*(d.turn(a) for d, a in zip(self.dials, deltas)), **kwargs)

    def captions(self) -> VGroup:
        return VGroup(*(d.caption for d in self.dials))

