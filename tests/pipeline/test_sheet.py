"""scripts/sheet.py: contact sheets of rendered scene videos (tiles at section boundaries and every few
seconds, each the right frame, labelled with its time), and the error for a scene not rendered yet."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from scenes.pipeline.media import QUALITIES, SceneOutputs

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("sheet", ROOT / "scripts" / "sheet.py")
sheet = sys.modules["sheet"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sheet)

MANIFEST = f"{ROOT / 'tests/pipeline/fixture_lecture/manifest.py'}:FIXTURE_COURSE"
FPS, FRAMES, W, H = 10, 30, 160, 90
SECTIONS = [{"name": "L90.1 Alpha topic", "nb_frames": 12}, {"name": "L90.2 Beta topic", "nb_frames": 18}]


def gray(frame: int) -> int:
    return 8 * frame


@pytest.fixture(scope="module")
def coded_mp4(tmp_path_factory) -> Path:
    """30 frames at 10 fps; frame k is flat gray 8k, so a tile shows which frame it is."""
    import av

    path = tmp_path_factory.mktemp("sheet") / "coded.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"g": "12"}  # key frames at 0, 12, 24: the sheet must decode past them
        for k in range(FRAMES):
            for pkt in s.encode(av.VideoFrame.from_ndarray(np.full((H, W, 3), gray(k), np.uint8), format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


@pytest.fixture(scope="module")
def early_mp4(tmp_path_factory) -> Path:
    """The same 30 frames, each timestamped 0.3 of a frame early (frame 0 at 0), as manim's concatenated
    scene files can be: the last frame sits before the time a quarter frame early would seek to."""
    import av

    path = tmp_path_factory.mktemp("sheet") / "early.mp4"
    tb = Fraction(1, 10 * FPS)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.codec_context.time_base = tb
        s.options = {"g": "12"}
        for k in range(FRAMES):
            f = av.VideoFrame.from_ndarray(np.full((H, W, 3), gray(k), np.uint8), format="rgb24")
            f.pts, f.time_base = max(0, 10 * k - 3), tb
            for pkt in s.encode(f):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def test_grab_reads_every_frame_of_a_video_timestamped_early(early_mp4):
    for k in (0, 1, 12, 28, FRAMES - 1):
        img = np.asarray(sheet.grab(early_mp4, k, Fraction(FPS), W).convert("L"), dtype=float)
        assert img[H // 2, W // 2] == pytest.approx(gray(k), abs=3), f"frame {k}"


def test_plan_tiles_section_ends_and_every():
    tiles = sheet.plan_tiles(SECTIONS, Fraction(FPS), FRAMES, every=1.0)
    assert [t.frame for t in tiles] == [0, 10, 11, 12, 20, 29]
    assert [t.time for t in tiles] == [0.0, 1.0, 1.1, 1.2, 2.0, 2.9]
    notes = {t.frame: t.note for t in tiles}
    assert notes[0] == "start: L90.1 Alpha topic" and notes[11] == "end: L90.1 Alpha topic"
    assert notes[12] == "start: L90.2 Beta topic" and notes[29] == "end: L90.2 Beta topic" and notes[10] == ""
    assert [t.frame for t in sheet.plan_tiles(SECTIONS, Fraction(FPS), FRAMES, every=0)] == [0, 11, 12, 29]


def test_sheet_tiles_are_the_frames_named(coded_mp4, tmp_path):
    from PIL import Image

    out = tmp_path / "s.png"
    tiles = sheet.make_sheet(coded_mp4, SECTIONS, out, every=0.7, columns=3, tile_width=W)
    times = [t.time for t in tiles]
    assert times == sorted(times) and len(tiles) == 8  # 0, .7, 1.1, 1.2, 1.4, 2.1, 2.8, 2.9
    assert [t.frame for t in tiles] == [0, 7, 11, 12, 14, 21, 28, 29]
    img = np.asarray(Image.open(out).convert("L"), dtype=float)
    assert img.shape == (3 * (H + sheet.LABEL_PX), 3 * W)
    for i, t in enumerate(tiles):
        x, y = (i % 3) * W, (i // 3) * (H + sheet.LABEL_PX)
        assert img[y + H // 2, x + W // 2] == pytest.approx(gray(t.frame), abs=3), f"tile {i} ({t.time} s)"
        assert img[y + H + 2:y + H + sheet.LABEL_PX, x:x + 80].max() > 128  # the time is written under it


def test_main_writes_a_sheet_per_scene_and_names_a_missing_video(coded_mp4, tmp_path, capsys):
    q = QUALITIES["l"]
    alpha = SceneOutputs(tmp_path, "sync_scenes", "FixtureAlpha", q)
    alpha.video_dir.mkdir(parents=True)
    alpha.mp4.write_bytes(coded_mp4.read_bytes())
    alpha.sections_json.parent.mkdir()
    alpha.sections_json.write_text(json.dumps(SECTIONS))
    args = ["--lecture", "90", "--quality", "l", "--media-dir", str(tmp_path), "--manifest", MANIFEST]
    assert sheet.main(args) == 2  # FixtureBeta has no video
    err = capsys.readouterr().err
    beta = SceneOutputs(tmp_path, "sync_scenes", "FixtureBeta", q)
    assert str(beta.mp4) in err and "scripts/render.py --lecture 90 --only FixtureBeta --quality l" in err
    assert (tmp_path / "sheets" / "480p15" / "90-pipeline-fixture" / "FixtureAlpha.png").exists()
    assert sheet.main([*args, "--scene", "FixtureAlpha"]) == 0
    assert sheet.main([*args, "--scene", "Nope"]) == 2


def test_cli_rejects_bad_arguments():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "sheet.py"), "--every", "-1"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "--every must be >= 0" in proc.stderr
