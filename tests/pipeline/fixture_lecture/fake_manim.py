"""Stands in for `python -m manim render` in fast tests: copies a tiny mp4 into manim's layout and
writes a sections index with the given names. Exits 1 for a scene named "Broken", and once (the first
time) when FAKE_MANIM_FAIL_ONCE names a file that does not exist yet (it creates it): a transient crash.
With FAKE_MANIM_SLEEP=S it first writes a partial mp4 and its pid to FAKE_MANIM_PIDDIR/<scene>.pid
(when set), then sleeps S seconds: a long render to interrupt.

usage: fake_manim.py SRC_MP4 VIDEO_DIR SCENE SECTIONS_JSON
"""

import json
import os
import shutil
import sys
from pathlib import Path

src, video_dir, scene, sections = sys.argv[1], Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
print(f"fake manim rendering {scene}")
if scene == "Broken":
    print("Traceback (most recent call last):\nRuntimeError: this fixture scene fails on purpose", file=sys.stderr)
    sys.exit(1)
once = os.environ.get("FAKE_MANIM_FAIL_ONCE")
if once and not Path(once).exists():
    Path(once).write_text("failed once")
    print("FileNotFoundError: media/texts/abc.svg (a transient race)", file=sys.stderr)
    sys.exit(1)
if os.environ.get("FAKE_MANIM_SLEEP"):
    import time

    video_dir.mkdir(parents=True, exist_ok=True)
    (video_dir / f"{scene}.mp4").write_bytes(b"partial")
    if os.environ.get("FAKE_MANIM_PIDDIR"):
        pid_file = Path(os.environ["FAKE_MANIM_PIDDIR"]) / f"{scene}.pid"
        pid_file.with_suffix(".tmp").write_text(str(os.getpid()))
        pid_file.with_suffix(".tmp").replace(pid_file)
    time.sleep(float(os.environ["FAKE_MANIM_SLEEP"]))
(video_dir / "sections").mkdir(parents=True, exist_ok=True)
shutil.copyfile(src, video_dir / f"{scene}.mp4")
index = [{"name": n, "type": "default.normal", "video": f"{scene}_{i:04}.mp4", "nb_frames": "5",
          "duration": "0.333333"} for i, n in enumerate(sections)]
(video_dir / "sections" / f"{scene}.json").write_text(json.dumps(index))
