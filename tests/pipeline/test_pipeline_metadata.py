"""YouTube metadata limits: title <= 100 chars, description <= 5000 bytes, no '<' or '>', tags."""

from __future__ import annotations

from dataclasses import replace

from scenes.course import COURSE
from scenes.kit.references import Reference
from scenes.pipeline import metadata as md

VOICE = {"engine": "piper", "voice": "en_US-joe-medium", "settings": {}}


def meta_for(lec, lines=("0:00 A", "1:00 B", "2:00 C")):
    return {"title": md.video_title(COURSE, lec), "description": md.description(COURSE, lec, list(lines), VOICE),
            "tags": md.video_tags(lec)}


def test_every_lecture_fits_youtube_limits():
    for lec in COURSE.lectures:
        m = meta_for(lec)
        assert md.problems(m) == [], (lec.id, md.problems(m))
        assert lec.title in m["title"]
        assert "\n0:00 A\n" in m["description"]
        assert "arXiv:" in m["description"] or not any(r.arxiv for r in lec.references)
        assert "piper (en_US-joe-medium)" in m["description"]


def test_long_inputs_are_cut_to_fit_and_brackets_replaced():
    lec = COURSE.lectures[0]
    many = tuple(Reference(f"Author {i} et al.", 2024, "A <very> long title " * 6, f"2401.{i:05d}")
                 for i in range(80))
    lines = [f"{i // 60}:{i % 60:02d} Chapter {i} <x>" for i in range(0, 3000, 30)]
    big = replace(lec, title="T" * 150 + " <b>", description="word " * 2000, references=many,
                  tags=tuple(f"tag number {i}" for i in range(100)))
    m = {"title": md.video_title(COURSE, big), "description": md.description(COURSE, big, lines, VOICE),
         "tags": md.video_tags(big)}
    assert md.problems(m) == []
    assert len(m["title"]) <= 100 and "<" not in m["title"]
    assert len(m["description"].encode("utf-8")) <= 5000
    assert "more in the lecture's references card" in m["description"]
    assert md.tags_length(m["tags"]) <= 500


def test_problems_reports_violations():
    bad = {"title": "x" * 101, "description": "<" + "y" * 5000, "tags": ["a<b"]}
    found = " ".join(md.problems(bad))
    assert "title" in found and "description" in found and "tag" in found


def test_voice_line():
    assert "silent" in md.voice_line({"engine": "silent", "voice": "none"})
    assert "espeak" in md.voice_line({"engine": "espeak", "voice": "en-us"})
    assert md.voice_line(None)


def test_description_names_the_notebook_only_when_it_exists(tmp_path):
    from scenes.kit.notebook import notebook_path

    lec = COURSE.lecture("01")
    path = notebook_path(lec)
    assert path == "notebooks/01-attention-fundamentals.ipynb"
    assert (COURSE.root / path).is_file()
    assert f"the notebook {path} in the repository" in meta_for(lec)["description"]
    bare = next(x for x in COURSE.lectures if not (COURSE.root / notebook_path(x)).is_file())
    assert "notebook" not in meta_for(bare)["description"]  # no notebook committed
    elsewhere = replace(COURSE, root=tmp_path)
    assert "notebook" not in md.description(elsewhere, lec, ["0:00 A"], VOICE)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / path).write_text("{}")
    assert path in md.description(elsewhere, lec, ["0:00 A"], VOICE)
