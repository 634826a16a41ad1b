"""SMOccupancy, built from Lecture 6's launch counts (L06.5: FA-1 vs FA-2 thread blocks on A100 / H100 SMs)."""
from __future__ import annotations

import itertools
import math

import pytest

from scenes.kit.format import grouped
from scenes.kit.mobjects import SMOccupancy
from scenes.kit.theme import COLORS
from scenes.l06_flash import data


def _long_case():
    return next(c for c in data.parallelism().cases if c.sms == 132 and c.batch == 1)


def test_one_square_per_sm_in_rows_of_columns():
    for case in data.parallelism().cases:
        occ = SMOccupancy(case.sms, case.fa1_blocks, columns=12)
        assert len(occ.squares) == case.sms
        rows = {round(sq.get_y(), 6) for sq in occ.squares}
        assert len(rows) == math.ceil(case.sms / 12)
        first = occ.squares[:12]
        assert all(a.get_x() < b.get_x() for a, b in itertools.pairwise(first))
        assert occ.caption.get_top()[1] < occ.squares.get_bottom()[1]
        assert occ.status.get_top()[1] < occ.caption.get_bottom()[1]


def test_waves_busy_and_idle_from_the_builders_counts():
    case = _long_case()
    fa1, fa2 = SMOccupancy(case.sms, case.fa1_blocks), SMOccupancy(case.sms, case.fa2_blocks)
    assert fa1.waves == 1 and fa1.busy(0) == case.fa1_blocks and fa1.idle(0) == case.sms - case.fa1_blocks
    assert fa1.fill == pytest.approx(case.fa1_fill) and fa2.fill == pytest.approx(case.fa2_fill) == 1.0
    assert fa2.waves == math.ceil(case.fa2_blocks / case.sms)
    assert sum(fa2.busy(w) for w in range(fa2.waves)) == case.fa2_blocks
    assert all(fa2.busy(w) == case.sms for w in range(fa2.waves - 1))
    assert fa2.busy(fa2.waves - 1) == case.fa2_blocks - (fa2.waves - 1) * case.sms
    with pytest.raises(IndexError):
        fa2.busy(fa2.waves)
    assert fa1.caption.original_text == f"{grouped(case.fa1_blocks)} blocks: 1 wave"
    assert grouped(fa2.waves) + " waves" in fa2.caption.original_text


def test_launch_lights_the_busy_squares_and_frames_the_idle_ones():
    case = _long_case()
    occ = SMOccupancy(case.sms, case.fa1_blocks, title="FlashAttention-1")
    assert occ.title.original_text == "FlashAttention-1" and occ.title.get_bottom()[1] > occ.squares.get_top()[1]
    assert occ.status.original_text == "not launched" and occ.wave == -1
    assert occ.launch() is not None and occ.wave == 0
    assert occ.status.original_text == f"wave 1: {grouped(case.fa1_blocks)} of {grouped(case.sms)} SMs busy"
    idle = occ.idle_squares()
    assert len(idle) == case.sms - case.fa1_blocks and idle[0] is occ.squares[case.fa1_blocks]
    assert occ.mark_idle() is not None
    full = SMOccupancy(case.sms, case.fa2_blocks)
    assert len(full.idle_squares()) == 0
    full.show_wave(full.waves - 1)
    assert full.status.original_text.startswith(f"wave {grouped(full.waves)}:")


def test_bad_counts_are_refused():
    with pytest.raises(ValueError):
        SMOccupancy(0, 4)
    with pytest.raises(ValueError):
        SMOccupancy(132, 0)
    assert SMOccupancy(108, 1, color=COLORS.K).busy_color == COLORS.K
