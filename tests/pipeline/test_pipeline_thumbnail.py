"""The thumbnail: the frame a lecture names, taken from a real video with moviepy, under its title."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PIL import Image

from scenes.course import Lecture, SceneSpec
from scenes.pipeline import thumbnail
from scenes.pipeline.assemble import AssemblyError, thumbnail_source
from scenes.pipeline.av_join import ffmpeg_exe

RED, BLUE = np.array([220, 30, 30]), np.array([30, 60, 230])
TEXT, ACCENT = np.array([232, 234, 237]), np.array([255, 146, 43])  # the theme's (scenes/kit/theme.py)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """2 s at 10 fps, 320×180, theme background: a red box for the first second, a blue one after."""
    path = tmp_path_factory.mktemp("thumb") / "scene.mp4"
    box = "drawbox=x=80:y=45:w=160:h=90:t=fill"
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=0x0F1117:s=320x180:r=10:d=2",
         "-vf", f"{box}:color=0xDC1E1E:enable='lt(t,1)',{box}:color=0x1E3CE6:enable='gte(t,1)'",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _near(px: np.ndarray, color: np.ndarray, tol: int = 45) -> np.ndarray:
    return np.abs(px.astype(int) - color).max(axis=-1) <= tol


def _regions(path):
    """(the picture above the "LECTURE n" tag, the band from the tag down), split at the tag's first row."""
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (1280, 720)
        px = np.asarray(im.convert("RGB"))
    tag_top = np.flatnonzero(_near(px, ACCENT, tol=20).any(axis=1))[0]
    assert 300 < tag_top < 600
    return px[:tag_top - 4], px[tag_top:]


@pytest.mark.parametrize(("t", "shown", "hidden"), [(0.5, RED, BLUE), (1.5, BLUE, RED)])
def test_the_frame_at_the_named_time_is_under_the_title(video, tmp_path, t, shown, hidden):
    out = tmp_path / "out" / "thumb.png"
    assert thumbnail.write(out, "01", "Attention Fundamentals", video, t) is None
    top, band = _regions(out)
    # the box of that moment fills the picture (cropped to the drawing, scaled up); the other one is absent
    assert _near(top, shown).mean() > 0.3 and not _near(top, hidden).any()
    assert not _near(band, shown).any()  # the title band holds the title, not the frame
    assert _near(band, TEXT, tol=30).mean() > 0.05 and not _near(top, TEXT, tol=30).any()
    assert sorted(p.name for p in out.parent.iterdir()) == ["thumb.png"]  # written atomically


def test_a_time_beyond_the_video_is_a_clear_error(video, tmp_path):
    out = tmp_path / "thumb.png"
    with pytest.raises(thumbnail.ThumbnailError, match=r"at 2\.5 s lies outside the video \(0 to 2\.00 s\)"):
        thumbnail.write(out, "01", "Title", video, 2.5)
    with pytest.raises(thumbnail.ThumbnailError, match="outside the video"):
        thumbnail.grab_frame(video, -1)
    assert not out.exists()


def test_without_a_frame_the_title_stands_alone_and_says_why(tmp_path):
    missing = tmp_path / "never_rendered.mp4"
    note = thumbnail.write(tmp_path / "a.png", "01", "Attention Fundamentals", missing, 3.0)
    assert note is not None and "never_rendered.mp4 is not rendered" in note
    note = thumbnail.write(tmp_path / "b.png", "01", "Attention Fundamentals")
    assert "names no thumbnail frame" in note
    for name in ("a.png", "b.png"):
        top, band = _regions(tmp_path / name)
        assert (np.abs(top.astype(int) - [15, 17, 23]).max(axis=-1) <= 2).all()  # the theme's background only
        assert _near(band, TEXT, tol=30).any()
    with pytest.raises(FileNotFoundError, match="no rendered video"):
        thumbnail.grab_frame(missing, 0.0)


def test_long_titles_take_two_lines_and_keep_inside_the_margins(video, tmp_path):
    out = tmp_path / "long.png"
    thumbnail.write(out, "04", "The Context Length Challenge", video, 1.5)
    _, band = _regions(out)
    text_rows = np.flatnonzero(_near(band, TEXT, tol=30).any(axis=1))
    gaps = np.diff(text_rows)
    assert (gaps > 10).sum() >= 1  # two lines of title
    text_cols = np.flatnonzero(_near(band, TEXT, tol=30).any(axis=0))
    assert text_cols.min() >= thumbnail.MARGIN - 8 and text_cols.max() <= 1280 - thumbnail.MARGIN + 8


def test_the_named_scene_must_be_one_of_the_lecture():
    lec = Lecture(id="98", slug="x", title="X", description="", package="scenes/x",
                  scenes=(SceneSpec("scenes/x/a.py", "Alpha"),), thumbnail=("Gamma", 1.0))
    with pytest.raises(AssemblyError, match=r"thumbnail names scene 'Gamma', which is not one of its scenes \(Alpha\)"):
        thumbnail_source(lec, [])
    plain = Lecture(id="98", slug="x", title="X", description="", package="scenes/x")
    assert thumbnail_source(plain, []) == (None, None)
