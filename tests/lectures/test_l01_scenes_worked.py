"""Lecture 1, last scenes (L01.7 WorkedExample, L01.8 AttentionPatterns, L01.9 Masking, Recap): every scene
constructs, the padding zoom of L01.9 agrees with attn_ref, and the kit's PipelineStrip behaves.

The scenes are built with ``manim render --dry_run`` in subprocesses (in parallel, each with its own media
folder so that concurrent renders do not race on manim's text cache); ``-n 100000`` skips drawing the
frames, so the whole of ``construct()`` runs (every mobject, narration block and animation) in seconds.
"""
from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

import attn_ref as ar
from scenes.kit.mobjects import bbox, find_overlaps, inside_frame, overlaps
from scenes.kit.mobjects.pipeline_strip import PipelineStrip
from scenes.kit.theme import BUFF, COLORS
from scenes.l01_fundamentals import data as d
from scenes.l01_fundamentals.data_common import PAD, project
from scenes.l01_fundamentals.data_worked_extra import padding_view

ROOT = Path(__file__).resolve().parents[2]
SCENES = [
    ("scenes/l01_fundamentals/l01_worked_example.py", "WorkedExample"),
    ("scenes/l01_fundamentals/l01_patterns.py", "AttentionPatterns"),
    ("scenes/l01_fundamentals/l01_masking.py", "Masking"),
    ("scenes/l01_fundamentals/l01_recap.py", "Recap"),
]


# ---------------------------------------------------------------------------------------------- scenes
@pytest.fixture(scope="module")
def dry_runs(tmp_path_factory):
    """Run every scene once (dry run, frames skipped), in parallel; {scene: CompletedProcess}."""
    env = {**os.environ, "ATTN_VOICE": "silent"}

    def run(item):
        path, scene = item
        media = tmp_path_factory.mktemp(f"media_{scene}")
        cmd = [sys.executable, "-m", "manim", "render", "--dry_run", "-ql", "-n", "100000", "--media_dir",
               str(media), path, scene]
        return scene, subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)

    with ThreadPoolExecutor(max_workers=len(SCENES)) as pool:
        return dict(pool.map(run, SCENES))


@pytest.mark.parametrize("scene", [s for _, s in SCENES])
def test_scene_constructs(dry_runs, scene):
    res = dry_runs[scene]
    assert res.returncode == 0, f"{scene} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    assert f"Rendered {scene}" in res.stdout + res.stderr


# ---------------------------------------------------------------------------------------------- data
def test_padding_view_matches_attn_ref():
    pm, pv = d.padding_masking(), padding_view()
    assert pv.index == min(range(len(pm.lengths)), key=lambda i: pm.lengths[i])  # the shortest sentence
    assert pv.tokens == pm.padded[pv.index] and pv.n_real == pm.lengths[pv.index]
    assert all(t == PAD for t in pv.tokens[pv.n_real:]) and PAD not in pv.tokens[:pv.n_real]
    n = len(pv.tokens)
    mask = torch.tensor(pv.mask)
    assert mask.shape == (n, n)
    assert torch.equal(mask, ar.padding_mask([pv.n_real], n)[0].expand(n, n))  # True = real key

    # recomputed from scratch: the sentence through W_Q, W_K, W_V, one sdpa call with and without the mask
    q, k, v = (x[None, None] for x in project(pv.tokens))
    _, p_masked = ar.sdpa(q, k, v, attn_mask=mask, return_weights=True)
    _, p_raw = ar.sdpa(q, k, v, return_weights=True)
    torch.testing.assert_close(d.as_tensor(pv.weights_masked), p_masked[0, 0], rtol=0, atol=1e-12)
    torch.testing.assert_close(d.as_tensor(pv.weights_unmasked), p_raw[0, 0], rtol=0, atol=1e-12)

    # pad keys get exactly zero with the mask; without it they take real weight
    assert (p_masked[0, 0, :, pv.n_real:] == 0).all()
    assert all(x == 0.0 for x in pv.pad_mass_masked)
    torch.testing.assert_close(d.as_tensor(pv.pad_leak), p_raw[0, 0, :, pv.n_real:].sum(-1), rtol=0, atol=1e-12)
    # the narration: the real query that wastes most gives "more than half" of its attention to padding
    assert max(pv.pad_leak[:pv.n_real]) > 0.5

    # shown weights: two decimals, each row adds up to 1.00, and equal to what the kit grid would print
    pairs = ((pv.weights_masked_shown, pv.weights_masked), (pv.weights_unmasked_shown, pv.weights_unmasked))
    for shown, exact in pairs:
        s = d.as_tensor(shown)
        torch.testing.assert_close(s.sum(-1), torch.ones(n, dtype=torch.float64), rtol=0, atol=1e-12)
        torch.testing.assert_close(s, ar.round_to_sum(d.as_tensor(exact)), rtol=0, atol=0)


def test_numbers_the_scenes_speak():
    """Facts the narration states in words (not as numbers) hold for the data."""
    w = d.worked_example()
    assert w.max_abs_diff < 1e-12  # "nothing but floating-point rounding"
    a = d.alignment_demo()
    assert a.max_diff_lower_right < 1e-12 < 0.1 < a.max_diff_upper_left  # lower-right exact, upper-left off
    p = d.attention_patterns()
    broad = d.as_tensor(p.canonical[3].weights)
    assert (broad - 1 / broad.shape[-1]).abs().max() < 0.05  # "close to uniform"
    first = d.as_tensor(p.canonical[2].weights)
    assert (first[:, 0] > 0.95).all()  # "nearly all of its weight on the first token"
    c = d.causal_masking()
    assert c.weights_shown[0][0] == 1.0  # "the first token can only see itself"


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
