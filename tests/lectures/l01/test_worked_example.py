"""L01.7 Worked example: the whole computation equal to one ``ar.sdpa`` call on the running example (and
the projection seed that makes it instructive), the kit's PipelineStrip it draws, and the scene's dry run."""
from __future__ import annotations

import pytest
import torch

import attn_ref as ar
from scenes.kit.mobjects import bbox, find_overlaps, inside_frame, overlaps
from scenes.kit.mobjects.pipeline_strip import PipelineStrip
from scenes.kit.theme import BUFF, COLORS
from scenes.l01_fundamentals import data as d

from ._helpers import T, assert_one_topic_section, assert_rows_sum_to_one_shown, assert_scene_constructs, batched

FILE, SCENE, TOPIC = "l01_worked_example.py", "WorkedExample", "L01.7"


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs(SCENE)


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section(FILE, TOPIC)


# ------------------------------------------------------------------------------------------ data


def test_seed_is_the_first_instructive_one():
    seed = d.projection_seed()
    w = d.worked_example()
    assert w.seed == seed and d.instructive(T(w.weights))
    p = T(w.weights)
    assert not torch.allclose(p, torch.full_like(p, 0.2), atol=0.05)  # not uniform
    assert p.max() < 0.9  # not one-hot


def test_worked_example_equals_one_sdpa_call():
    w = d.worked_example()
    assert w.code_ref == "attn_ref.core.sdpa"
    assert w.scale == 0.5 and torch.allclose(T(w.scaled), T(w.scores) * 0.5, atol=0)
    ref = ar.sdpa(batched(w.q), batched(w.k), batched(w.v))[0, 0]
    assert (T(w.output) - ref).abs().max() < 1e-12 and w.max_abs_diff < 1e-12
    assert torch.equal(T(w.sdpa_output), ref)
    torch_ref = torch.nn.functional.scaled_dot_product_attention(batched(w.q), batched(w.k), batched(w.v))[0, 0]
    assert torch.allclose(T(w.output), torch_ref, atol=1e-12)
    assert torch.allclose(T(w.weights).sum(-1), torch.ones(5, dtype=torch.float64), atol=1e-12)
    assert_rows_sum_to_one_shown(w.weights_shown)
    assert (T(w.weights_shown) - T(w.weights)).abs().max() < 0.01


def test_numbers_the_scene_speaks():
    """Facts the narration states in words (not as numbers) hold for the data."""
    w = d.worked_example()
    assert w.max_abs_diff < 1e-12  # "nothing but floating-point rounding"


# ---------------------------------------------------------------------------------------------- kit: strip
STAGES = [("X", None), ("Q K V", None), ("QKᵀ", "SCORE"), ("softmax", "WEIGHT"), ("P V", "OUTPUT")]
ROLES = {"Q": COLORS.Q, "K": COLORS.K, "V": COLORS.V}


def _hex(mob) -> str:
    return mob.get_color().to_hex().upper()


def test_pipeline_strip_layout():
    strip = PipelineStrip(STAGES, colors=ROLES)
    assert strip.texts == [t for t, _ in STAGES] and len(strip.arrows) == len(STAGES) - 1
    assert [lab.original_text for lab in strip.labels] == strip.texts
    assert not find_overlaps(list(strip.boxes)), "stage boxes overlap"
    for box, lab in zip(strip.boxes, strip.labels):
        a, b = bbox(box), bbox(lab)
        assert a[0] < b[0] and b[2] < a[2] and a[1] < b[1] and b[3] < a[3], "label outside its box"
    for k, arrow in enumerate(strip.arrows):  # each arrow runs between its two boxes, touching neither
        assert strip.boxes[k].get_right()[0] < arrow.get_left()[0] < arrow.get_right()[0] \
            < strip.boxes[k + 1].get_left()[0]
        assert not overlaps(arrow, strip.boxes[k]) and not overlaps(arrow, strip.boxes[k + 1])
    assert inside_frame(strip, margin=BUFF.MARGIN)
    wide = PipelineStrip([(f"stage number {k}", None) for k in range(12)], max_width=6.0)
    assert wide.width <= 6.0 + 1e-6


def test_pipeline_strip_states():
    strip = PipelineStrip(STAGES, colors=ROLES)
    assert strip.current is None and {strip.state(k) for k in range(len(STAGES))} == {"todo"}
    assert all(_hex(lab) == COLORS.MUTED for lab in strip.labels)
    assert strip.set_current(2) is strip
    assert [strip.state(k) for k in range(len(STAGES))] == ["done", "done", "current", "todo", "todo"]
    assert strip.boxes[2].get_stroke_color().to_hex().upper() == COLORS.ACCENT
    assert strip.boxes[3].get_stroke_color().to_hex().upper() == COLORS.GRID
    # role colours: a done stage takes its role, and Q, K, V inside labels take theirs
    assert strip.boxes[1].get_stroke_color().to_hex().upper() == COLORS.TEXT  # role None → TEXT
    qkv = strip.labels[1]
    assert [_hex(qkv[i]) for i in (0, 2, 4)] == [COLORS.Q, COLORS.K, COLORS.V]
    assert _hex(strip.labels[2][0]) == COLORS.Q  # "QKᵀ": Q in its colour once the stage is reached
    assert _hex(strip.labels[4]) == COLORS.MUTED  # still to come
    strip.advance().advance()
    assert strip.current == 4 and strip.state(3) == "done"
    assert strip.boxes[3].get_stroke_color().to_hex().upper() == COLORS.WEIGHT
    strip.advance()
    assert strip.current == 4  # stays on the last stage
    strip.set_current(None)
    assert {strip.state(k) for k in range(len(STAGES))} == {"todo"}
    with pytest.raises(IndexError):
        strip.set_current(len(STAGES))
    with pytest.raises(ValueError):
        PipelineStrip([])


def test_pipeline_strip_animates():
    from manim import Transform

    strip = PipelineStrip(STAGES)
    target = strip.copy().set_current(1)
    assert isinstance(Transform(strip, target), Transform)
    assert strip.current is None  # the copy changed, not the original
