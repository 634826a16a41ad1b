"""``SamplingBars``: a next-token distribution as bars, sorted most likely first, re-shaped by temperature and
cut by top-k / top-p lines (the tokens kept highlighted, the rest dimmed).

    s = data.sampling()
    bars = SamplingBars(s.probs[1], [str(i) for i in range(len(s.logits))], order=s.order,
                        y_max=max(map(max, s.probs)))
    self.play(bars.animate_to(s.probs[0]))                 # T = 0.7: sharper
    cut = bars.cut_line(s.top_p_kept, "top-p 0.9")         # after the 7th bar (not added)
    self.play(FadeIn(cut), bars.keep(s.top_p_kept))

Bars stand in ``order`` (a permutation of the token indices, e.g. by probability at T = 1); temperature is a
monotone re-shaping, so the order holds at every temperature and a cut after the k-th bar is top-k (or the
smallest top-p prefix) at any temperature. Heights are ``max_height · p / y_max``; the values above the bars are
``attn_ref.round_to_sum`` of the distribution (they add up to 1.00 on screen).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from manim import ORIGIN, UP, AnimationGroup, DashedLine, Line, Rectangle, Transform, VGroup

from ..format import shown
from ..theme import BUFF, COLORS, SIZES
from .matrices import _fit_uniform
from .text import as_array, label, set_on_line

__all__ = ["SamplingBars"]


class SamplingBars(VGroup):
    """Probability bars over tokens, in ``order`` (default: as given), ``labels`` under them (one per token index).

    Parts: ``.bars``, ``.values``, ``.labels`` (all in display order), ``.baseline``; ``.order`` (token index of
    each slot), ``.probs`` (by token index), ``.displayed`` (the rounded values shown, by token index).
    ``animate_to(p)`` morphs to another distribution over the same tokens (another temperature);
    ``cut_line(k, text)`` is a dashed vertical line after the k-th bar with ``text`` at its top (not added);
    ``keep(k)`` highlights the first k bars and dims the others; ``slot_x(k)`` is the x of slot k's centre."""

    def __init__(self, probs, labels: Sequence[str], *, order: Sequence[int] | None = None,
                 color: str = COLORS.WEIGHT, kept_color: str = COLORS.ACCENT, decimals: int = 2,
                 bar_width: float = 0.6, spacing: float = 0.3, max_height: float = 3.0, y_max: float = 1.0,
                 show_values: bool = True, font_size: float = SIZES.SMALL, label_size: float = SIZES.LABEL,
                 label_color: str = COLORS.TEXT):
        super().__init__()
        import attn_ref as ar

        p = as_array(probs, 1, "probs")
        n = len(p)
        if len(labels) != n:
            raise ValueError(f"{len(labels)} labels for {n} probabilities")
        if not np.all(np.isfinite(p)) or p.min() < -1e-12 or abs(p.sum() - 1) > 1e-6:
            raise ValueError(f"probs must be a distribution (non-negative, summing to 1), got sum {p.sum()}")
        order = list(range(n)) if order is None else [int(i) for i in order]
        if sorted(order) != list(range(n)):
            raise ValueError(f"order must be a permutation of 0..{n - 1}, got {order}")
        if y_max <= 0 or p.max() > y_max * (1 + 1e-9):
            raise ValueError(f"y_max = {y_max} is below the largest probability {p.max()}")
        self._config = dict(labels=list(labels), order=order, color=color, kept_color=kept_color, decimals=decimals,
                            bar_width=bar_width, spacing=spacing, max_height=max_height, y_max=y_max,
                            show_values=show_values, font_size=font_size, label_size=label_size,
                            label_color=label_color)
        self.order, self.probs, self.color, self.kept_color = order, p, color, kept_color
        self.displayed = ar.round_to_sum(torch.as_tensor(p, dtype=torch.float64), decimals=decimals).numpy()
        self.step = bar_width + spacing
        self.bars, self.values = VGroup(), VGroup()
        for slot, i in enumerate(order):
            h = max(1e-3, max_height * p[i] / y_max)
            bar = Rectangle(width=bar_width, height=h, stroke_width=0, fill_color=color, fill_opacity=0.9)
            self.bars.add(bar.move_to(np.array([slot * self.step, h / 2, 0.0])))
            if show_values:
                self.values.add(label(shown(self.displayed[i], decimals), size=font_size, color=color, mono=True))
        _fit_uniform(list(self.values), self.step * 0.95, 10.0)
        for bar, val in zip(self.bars, self.values):
            val.next_to(bar, UP, buff=BUFF.TIGHT)
        half = self.step / 2
        self.baseline = Line(np.array([-half, 0, 0]), np.array([(n - 1) * self.step + half, 0, 0]))
        self.baseline.set_stroke(COLORS.GRID, 2)
        self.labels = VGroup(*(label(labels[i], size=label_size, color=label_color) for i in order))
        _fit_uniform(list(self.labels), self.step * 0.9, 10.0)
        drop = max(set_on_line(lab, 0.0).get_top()[1] for lab in self.labels)
        for bar, lab in zip(self.bars, self.labels):
            set_on_line(lab, -BUFF.SMALL - drop).set_x(bar.get_x())
        self.max_height = max_height
        self.add(self.baseline, self.bars, self.values, self.labels)
        self.move_to(ORIGIN)

    # -- geometry -----------------------------------------------------------------------------------------
    def _unit(self) -> float:
        """Scene units per construction unit (after any scaling)."""
        return self.baseline.get_length() / (len(self.order) * self.step)

    def slot_x(self, k: float) -> float:
        """x of slot k's centre (k may be fractional: 4.5 is the gap between the 5th and 6th bars)."""
        return self.baseline.get_left()[0] + (k + 0.5) * self.step * self._unit()

    def top_y(self) -> float:
        """The y of the full bar height (p = y_max)."""
        return self.baseline.get_y() + self.max_height * self._unit()

    # -- animations and overlays --------------------------------------------------------------------------
    def with_probs(self, probs) -> SamplingBars:
        """A chart like this one, in the same place and scale, showing ``probs`` (same tokens, same order)."""
        new = SamplingBars(probs, **self._config)
        new.scale(self.baseline.get_length() / new.baseline.get_length())
        new.shift(self.baseline.get_center() - new.baseline.get_center())
        return new

    def animate_to(self, probs, **kwargs) -> Transform:
        """``self.play(bars.animate_to(p))``: bars and values morph to ``probs``."""
        return Transform(self, self.with_probs(probs), **kwargs)

    def cut_line(self, k: int, text: str, color: str = COLORS.ACCENT, size: float = SIZES.LABEL,
                 height: float | None = None) -> VGroup:
        """A dashed vertical line between the k-th and (k + 1)-th bars, ``text`` above it, left-aligned to the
        line's right side. ``VGroup(line, tag)`` with ``.line``, ``.tag``, ``.kept``; not added."""
        if not 1 <= k < len(self.order):
            raise ValueError(f"a cut keeps 1..{len(self.order) - 1} bars, got {k}")
        x = self.slot_x(k - 0.5)
        top = self.baseline.get_y() + (height if height is not None else self.max_height * self._unit())
        line = DashedLine([x, self.baseline.get_y() - 0.05, 0], [x, top, 0], dash_length=0.1).set_stroke(color, 3)
        tag = label(text, size=size, color=color).next_to(line, UP, buff=BUFF.TIGHT)
        out = VGroup(line, tag)
        out.line, out.tag, out.kept = line, tag, k
        return out

    def keep(self, k: int, dim: float = 0.2) -> AnimationGroup:
        """The first k bars (and their values, labels) in ``kept_color``, the others dimmed to ``dim``."""
        anims = []
        for slot, (bar, lab) in enumerate(zip(self.bars, self.labels)):
            inside = slot < k
            anims.append(bar.animate.set_fill(self.kept_color if inside else self.color,
                                              opacity=0.9 if inside else dim))
            anims.append(lab.animate.set_opacity(1.0 if inside else 0.4))
            if len(self.values):
                anims.append(self.values[slot].animate.set_color(self.kept_color if inside else self.color)
                             .set_opacity(1.0 if inside else 0.4))
        return AnimationGroup(*anims)

    def restore(self) -> AnimationGroup:
        """Every bar back in the base colour, fully opaque."""
        anims = [bar.animate.set_fill(self.color, opacity=0.9) for bar in self.bars]
        anims += [lab.animate.set_opacity(1.0) for lab in self.labels]
        anims += [v.animate.set_color(self.color).set_opacity(1.0) for v in self.values]
        return AnimationGroup(*anims)

    def kept_indices(self, k: int) -> list[int]:
        """The token indices of the first k slots."""
        return list(self.order[:k])

